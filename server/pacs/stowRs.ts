/**
 * DICOMweb STOW-RS (PS3.18 10.5): `POST /dicomweb/studies` with a `multipart/related;
 * type="application/dicom"` body, one DICOM instance per part. The instances take the same inbound
 * path as studies from Orthanc's feed (routing, one case per series, skipped studies recorded); with an
 * Orthanc configured the chosen series is also stored there, so the SEG can go back to it.
 *
 * The answer is a Store Instances Response in DICOM JSON (`application/dicom+json`): accepted
 * instances in Referenced SOP Sequence (0008,1199), refused ones in Failed SOP Sequence (0008,1198)
 * with a Failure Reason (0008,1197); 200 when all were accepted, 202 when some were, 409 when none.
 * It echoes the sender's own SOP Instance UIDs (PS3.18 requires it); nothing of it is stored or logged.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { getMultipartBoundary, MaxFileSizeExceededError, MaxPartsExceededError, MaxTotalSizeExceededError, MultipartParseError, parseMultipartStream } from '@remix-run/multipart-parser';
import { HolocaseError, isHolocaseError } from '../errors.ts';
import { textOf } from '../volume/dicom/imageHeader.ts';
import { parseDicom } from '../volume/dicom/parse.ts';
import { receiveInboundStudy, type InboundDeps, type InboundResult } from './inboundStudy.ts';
import type { OrthancClient } from './orthancClient.ts';
import type { SeriesFacts } from './routingRules.ts';

export interface StowOptions {
  /** Largest request body (all parts together). */
  maxBytes: number;
  /** Largest single instance. */
  maxInstanceBytes?: number;
  maxInstances?: number;
}

export const DEFAULTS = { maxInstanceBytes: 1024 ** 3, maxInstances: 50_000 } as const;

/** PS3.4 C-STORE status codes used as Failure Reasons. */
const FAILURE = { sopClassNotSupported: 0x0122, cannotUnderstand: 0xc000, outOfResources: 0xa700 } as const;

interface ReceivedInstance {
  file: string;
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  modality: string;
  description: string;
  localizer: boolean;
}

interface Refused {
  sopClassUid: string;
  sopInstanceUid: string;
  reason: number;
}

export interface StowResult {
  status: 200 | 202 | 409;
  /** DICOM JSON Store Instances Response. */
  body: Record<string, unknown>;
  /** Cases made from the push. */
  caseIds: string[];
}

/** Items by key, in first-seen order (`Map.groupBy` needs Node 21). */
function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(key(item));
    if (list) list.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** `type` parameter of the Content-Type, when there is one. */
function typeParameter(contentType: string): string | undefined {
  return /;\s*type\s*=\s*"?([^";]+)"?/i.exec(contentType)?.[1]?.trim().toLowerCase();
}

/**
 * 1. Check the media type (415 otherwise) and stream the parts into a staging folder, reading each
 *    instance's header (a part that is not DICOM is refused, the others go on).
 * 2. Per study: the inbound path; the chosen series' files move into the case's incoming folder (and
 *    into Orthanc when one is configured).
 * 3. The response; the staging folder is removed whatever happens.
 */
export async function receiveStow(
  deps: InboundDeps & { orthanc: OrthancClient | undefined },
  ownerId: string,
  request: Request,
  options: StowOptions,
): Promise<StowResult> {
  const o = { ...DEFAULTS, ...options };
  const contentType = request.headers.get('content-type') ?? '';
  if (!/^multipart\/related\b/i.test(contentType)) {
    throw new HolocaseError('UNSUPPORTED_INPUT', 'STOW-RS takes multipart/related; type="application/dicom" (one DICOM instance per part)');
  }
  const type = typeParameter(contentType);
  if (type && type !== 'application/dicom') {
    throw new HolocaseError('UNSUPPORTED_INPUT', `STOW-RS here takes DICOM instances (type="application/dicom"), not ${type}`);
  }
  const boundary = getMultipartBoundary(contentType);
  if (!boundary || !request.body) throw new HolocaseError('BAD_REQUEST', 'the multipart body has no boundary or no content');
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > o.maxBytes) throw new HolocaseError('INPUT_TOO_LARGE', 'the request is larger than this server accepts');

  const staging = path.join(deps.config.dataDir, 'pacs-staging', randomUUID());
  await mkdir(staging, { recursive: true, mode: 0o700 });
  try {
    // 1. Parts → files + headers.
    const received: ReceivedInstance[] = [];
    const refused: Refused[] = [];
    let index = 0;
    try {
      for await (const part of parseMultipartStream(request.body, { boundary, maxFileSize: o.maxInstanceBytes, maxTotalSize: o.maxBytes, maxParts: o.maxInstances })) {
        index++;
        const partType = (part.headers['content-type'] ?? 'application/dicom').split(';')[0]!.trim().toLowerCase();
        const bytes = part.bytes;
        if (partType !== 'application/dicom') {
          refused.push({ sopClassUid: '', sopInstanceUid: '', reason: FAILURE.cannotUnderstand });
          continue;
        }
        let dataSet;
        try {
          dataSet = parseDicom(bytes, { name: `part ${index}`, untilPixelData: true }).dataSet;
        } catch {
          refused.push({ sopClassUid: '', sopInstanceUid: '', reason: FAILURE.cannotUnderstand });
          continue;
        }
        const instance: ReceivedInstance = {
          file: path.join(staging, `part-${String(index).padStart(6, '0')}.dcm`),
          sopClassUid: textOf(dataSet, 'x00080016') ?? '',
          sopInstanceUid: textOf(dataSet, 'x00080018') ?? '',
          studyInstanceUid: textOf(dataSet, 'x0020000d') ?? '',
          seriesInstanceUid: textOf(dataSet, 'x0020000e') ?? '',
          modality: textOf(dataSet, 'x00080060') ?? '',
          description: textOf(dataSet, 'x0008103e') ?? '',
          localizer: (textOf(dataSet, 'x00080008') ?? '').toUpperCase().split('\\').includes('LOCALIZER'),
        };
        if (!instance.sopInstanceUid || !instance.studyInstanceUid || !instance.seriesInstanceUid) {
          refused.push({ sopClassUid: instance.sopClassUid, sopInstanceUid: instance.sopInstanceUid, reason: FAILURE.cannotUnderstand });
          continue;
        }
        await writeFile(instance.file, bytes, { mode: 0o600 });
        received.push(instance);
      }
    } catch (error) {
      if (error instanceof MaxFileSizeExceededError || error instanceof MaxTotalSizeExceededError || error instanceof MaxPartsExceededError) {
        throw new HolocaseError('INPUT_TOO_LARGE', `the request is larger than this server accepts (${error.message})`);
      }
      if (error instanceof MultipartParseError) throw new HolocaseError('BAD_REQUEST', `the multipart body could not be read (${error.message})`);
      throw error;
    }

    // 2. Per study, the inbound path.
    const accepted: ReceivedInstance[] = [];
    const caseIds: string[] = [];
    const studies = groupBy(received, (i) => i.studyInstanceUid);
    for (const instances of studies.values()) {
      const bySeries = groupBy(instances, (i) => i.seriesInstanceUid);
      const series: SeriesFacts[] = [...bySeries.values()].map((list) => ({
        studyInstanceUid: list[0]!.studyInstanceUid,
        seriesInstanceUid: list[0]!.seriesInstanceUid,
        modality: list[0]!.modality,
        description: list[0]!.description,
        instances: list.length,
        localizer: list[0]!.localizer,
      }));
      const orthancSeries = new Map<string, string>();
      const result: InboundResult = await receiveInboundStudy(deps, {
        source: 'stow',
        facts: { labels: [], series },
        ownerId,
        async fetchSeries(chosen, dir) {
          const files = bySeries.get(chosen.seriesInstanceUid)!;
          if (deps.orthanc) await storeInOrthanc(deps, files, orthancSeries);
          await mkdir(dir, { recursive: true, mode: 0o700 });
          for (const [n, f] of files.entries()) await rename(f.file, path.join(dir, `part-${String(n + 1).padStart(6, '0')}.dcm`));
          return files.length;
        },
        orthancSeriesIdOf: (chosen) => orthancSeries.get(chosen.seriesInstanceUid),
      });
      if (result.kind === 'skipped') {
        const reason = result.reason.startsWith('not CT') ? FAILURE.sopClassNotSupported : FAILURE.cannotUnderstand;
        for (const i of instances) refused.push({ sopClassUid: i.sopClassUid, sopInstanceUid: i.sopInstanceUid, reason });
      } else {
        accepted.push(...instances);
        if (result.kind === 'case') caseIds.push(result.caseId);
      }
    }

    // 3. The response.
    const item = (i: { sopClassUid: string; sopInstanceUid: string }) => ({
      '00081150': { vr: 'UI', Value: [i.sopClassUid] },
      '00081155': { vr: 'UI', Value: [i.sopInstanceUid] },
    });
    const body: Record<string, unknown> = {};
    if (accepted.length) body['00081199'] = { vr: 'SQ', Value: accepted.map(item) };
    if (refused.length) body['00081198'] = { vr: 'SQ', Value: refused.map((r) => ({ ...item(r), '00081197': { vr: 'US', Value: [r.reason] } })) };
    const status = refused.length === 0 ? 200 : accepted.length > 0 ? 202 : 409;
    deps.log.info({ accepted: accepted.length, refused: refused.length, cases: caseIds }, 'STOW-RS push received');
    return { status, body, caseIds };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Stores the chosen series' instances into Orthanc (best effort: a failure leaves the case without a SEG to send back). */
async function storeInOrthanc(deps: InboundDeps & { orthanc: OrthancClient | undefined }, files: ReceivedInstance[], orthancSeries: Map<string, string>) {
  try {
    for (const f of files) {
      const stored = await deps.orthanc!.storeInstance(await readFile(f.file));
      orthancSeries.set(f.seriesInstanceUid, stored.ParentSeries);
    }
  } catch (error) {
    orthancSeries.clear();
    deps.log.warn({ problem: isHolocaseError(error) ? error.message : 'unexpected error' }, 'STOW-RS series not stored in Orthanc; its SEG cannot be sent back');
  }
}
