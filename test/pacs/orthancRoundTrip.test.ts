/**
 * The hospital round trip with real parts: Debian's Orthanc on loopback ports, DCMTK's `storescu` as
 * the scanner, a real `holocase serve` following Orthanc's change feed. A CT study sent to Orthanc
 * becomes a case that finishes; a DICOM SEG appears in Orthanc in the same study, and its frames, read
 * by an independent reader, equal the case's label map on every slice; a corrected revision goes back
 * as a SEG series of its own; the synthetic patient's name,
 * ID and accession number are in that SEG and nowhere in holocase's data folder, logs or API answers.
 * Sending the study again makes no second case; an MR study is recorded as skipped with its reason;
 * after a restart the feed resumes from its stored position (a study sent while holocase was down is
 * handled, nothing is made twice).
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelMapFromVolume } from '../../server/mesh/labelMapFromVolume.ts';
import { readNifti } from '../../server/volume/nifti.ts';
import { addUser, buildWebApp, Client, followEvents, listFiles, saveLog, startServe, tempDataDir, type ServerProc } from '../server/harness.ts';
import { FIXTURES } from '../volume/fixtures.ts';
import { startOrthanc, storescu, type OrthancProc } from './orthanc.ts';
import { labelsFromSegmentation, readSegmentation } from './readSegmentation.ts';

const PACS_SERIES = path.join(FIXTURES, 'totalsegmentator/example_ct_dicom_pacs');
const MR = path.join(FIXTURES, 'dicom-codecs/MR_small.dcm');
const CT_SINGLE = path.join(FIXTURES, 'dicom-codecs/CT_small.dcm');
/** The fixture's synthetic identifiers (and its study UID): in the SEG in Orthanc, nowhere in holocase. */
const SECRETS = ['TEST^PACS', 'TEST PACS', 'PACS-0001', 'ACC-0001', '1.2.826.0.1.3680043.8.498.1796455929001'];

/** A case processed from end to end on a loaded 2-core machine, with its SEG. */
const HEAVY_MS = 480_000;

let orthanc: OrthancProc;
let server: ServerProc | undefined;
let dataDir: string;
let env: Record<string, string>;
let client: Client;
const apiBodies: string[] = [];
const logs: string[] = [];

/** A JSON API call whose body is kept for the privacy check. */
async function api(pathname: string): Promise<any> {
  const response = await client.fetch(pathname);
  const text = await response.text();
  apiBodies.push(text);
  expect(response.status, text).toBe(200);
  return JSON.parse(text);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 240_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${server?.output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Orthanc's latest change number (taken before sending, for `feedCaughtUp`). */
async function lastChange(): Promise<number> {
  return (await orthanc.json<{ Last: number }>('/changes?last')).Last;
}

/** Waits until a study sent after change `since` became stable in Orthanc and holocase's feed has read past it. */
async function feedCaughtUp(since: number): Promise<void> {
  const stable = await until('the study to become stable in Orthanc', async () => {
    const page = await orthanc.json<{ Changes: { ChangeType: string; Seq: number }[] }>(`/changes?since=${since}&limit=1000`);
    return page.Changes.find((c) => c.ChangeType === 'StableStudy')?.Seq;
  });
  await until('the feed to catch up', async () => ((await api('/api/admin/pacs')).orthanc.feed.position >= stable ? true : undefined));
}

async function start(): Promise<void> {
  server = await startServe(dataDir, env);
  await until('the change feed', async () => (/PACS change feed following/.test(server!.output()) ? true : undefined));
  client = new Client(server.url);
  client.cookie = cookie;
}

let cookie: string | undefined;
/** The rules and credentials files beside the data folder, removed with it. */
const extraFiles: string[] = [];

beforeAll(async () => {
  await buildWebApp();
  orthanc = await startOrthanc();
  dataDir = await tempDataDir('holocase-pacs-');
  const rules = path.join(dataDir, '..', `pacs-rules-${path.basename(dataDir)}.json`);
  await writeFile(rules, JSON.stringify({ owner: 'pacs', team: 'radiology', rules: [{ name: 'every CT', model: 'hu-anatomy' }] }));
  const credentials = path.join(dataDir, '..', `orthanc-credentials-${path.basename(dataDir)}`);
  await writeFile(credentials, `${orthanc.username}:${orthanc.password}\n`, { mode: 0o600 });
  extraFiles.push(rules, credentials);
  env = { HOLOCASE_ORTHANC_URL: orthanc.url, HOLOCASE_ORTHANC_CREDENTIALS_FILE: credentials, HOLOCASE_ORTHANC_POLL_SECONDS: '0.3', HOLOCASE_PACS_RULES: rules };
  const password = addUser(dataDir, 'ada', { admin: true, team: 'radiology' });
  server = await startServe(dataDir, env);
  client = new Client(server.url);
  await client.signInFirstTime('ada', password);
  cookie = client.cookie;
  await until('the change feed', async () => (/PACS change feed following/.test(server!.output()) ? true : undefined));
}, 600_000);

afterAll(async () => {
  if (server) {
    logs.push(server.output());
    await saveLog('pacs-roundtrip', server.output());
    await server.stop();
  }
  await orthanc?.stop();
  await Promise.all([dataDir, ...extraFiles].filter(Boolean).map((f) => rm(f, { recursive: true, force: true })));
});

describe('Orthanc → holocase → SEG back to Orthanc', () => {
  let caseId: string;

  it('makes a case from a CT study sent with storescu, processes it and stores a SEG equal to its label map in the same study', async () => {
    storescu(orthanc, [PACS_SERIES], 'CTSCANNER1');
    const listed = await until('the case', async () => {
      const { cases } = await api('/api/cases');
      return cases.length > 0 ? cases : undefined;
    });
    expect(listed).toHaveLength(1);
    caseId = listed[0].id;
    const events = await followEvents(client, `/api/cases/${caseId}/events`);
    expect(events.at(-1)!.event, JSON.stringify(events.at(-1))).toBe('done');
    const detail = await api(`/api/cases/${caseId}`);
    expect(detail.status).toBe('done');
    expect(detail.report.input.format).toBe('dicom');

    // The SEG arrives in the same study in Orthanc.
    const studies = await orthanc.json<string[]>('/studies');
    expect(studies).toHaveLength(1);
    const seg = await until('the SEG in Orthanc', async () => {
      const series = await orthanc.json<any[]>(`/studies/${studies[0]}/series?expand`);
      return series.find((s) => s.MainDicomTags.Modality === 'SEG');
    });
    const segBytes = await orthanc.bytes(`/instances/${seg.Instances[0]}/file`);
    const read = await readSegmentation(segBytes);

    // Its frames equal the case's label map on every slice.
    const labels = labelMapFromVolume(await readNifti(path.join(dataDir, 'cases', caseId, 'labels.nii.gz')));
    const report = JSON.parse(await readFile(path.join(dataDir, 'cases', caseId, 'report.json'), 'utf8'));
    const labelOf = (n: number) => report.structures.find((s: any) => s.displayName === read.segments[n - 1]!.label).label as number;
    expect(read.segments.length).toBe(report.structures.length);
    const back = labelsFromSegmentation(read, labels, labelOf);
    const plane = labels.dims[0] * labels.dims[1];
    for (let k = 0; k < labels.dims[2]; k++) {
      let differ = 0;
      for (let i = k * plane; i < (k + 1) * plane; i++) if (back[i] !== labels.data[i]) differ++;
      expect(differ, `slice ${k + 1}`).toBe(0);
    }
    expect(read.frames.length).toBeGreaterThan(0);

    // It references the original slices and carries the original identifiers.
    const originals = new Set(Object.values(await orthanc.json<Record<string, any>>(`/series/${(await orthanc.json<any[]>(`/studies/${studies[0]}/series?expand`)).find((s) => s.MainDicomTags.Modality === 'CT').ID}/instances-tags?short`)).map((t) => t['0008,0018']));
    for (const frame of read.frames) expect(originals.has(frame.sourceSopInstanceUid)).toBe(true);
    expect(JSON.stringify(read.dataset.PatientName)).toContain('TEST^PACS');
    expect(read.dataset.PatientID).toBe('PACS-0001');
    expect(read.dataset.AccessionNumber).toBe('ACC-0001');
    expect(read.dataset.StudyInstanceUID).toBe('1.2.826.0.1.3680043.8.498.1796455929001');

    const status = await until('the SEG to be recorded', async () => {
      const s = await api('/api/admin/pacs');
      return s.received[0]?.seg.status === 'sent' ? s : undefined;
    });
    expect(status.received[0]).toMatchObject({ caseId, source: 'orthanc', rule: 'every CT', seg: { orthancInstanceId: seg.Instances[0] } });
  }, HEAVY_MS);

  it('sends a corrected revision back as a SEG series of its own, marked as corrected', async () => {
    // A team member corrects the model's output: a structure is erased and a new one painted.
    const labels = labelMapFromVolume(await readNifti(path.join(dataDir, 'cases', caseId, 'labels.nii.gz')));
    const corrected = Uint16Array.from(labels.data);
    const counts = new Map<number, number>();
    for (const v of corrected) if (v) counts.set(v, (counts.get(v) ?? 0) + 1);
    const erased = [...counts.entries()].sort((a, b) => a[1] - b[1])[0]![0];
    for (let i = 0; i < corrected.length; i++) if (corrected[i] === erased) corrected[i] = 0;
    const [nx, ny, nz] = labels.dims;
    const k = Math.floor(nz / 2);
    for (let j = Math.floor(ny * 0.45); j < Math.floor(ny * 0.55); j++) for (let i = Math.floor(nx * 0.45); i < Math.floor(nx * 0.55); i++) corrected[i + j * nx + k * nx * ny] = 200;
    const form = new FormData();
    form.set('meta', JSON.stringify({ baseRevision: 0, structures: { '200': { name: 'tumour', displayName: 'Tumour', color: '#c83232' } } }));
    form.set('labels', new Blob([gzipSync(new Uint8Array(corrected.buffer))]), 'labels');
    const saved = await client.fetch(`/api/cases/${caseId}/revisions`, { method: 'POST', body: form as unknown as undefined });
    expect(saved.status, await saved.clone().text()).toBe(201);
    const { revision } = (await saved.json()) as { revision: number };
    expect(revision).toBe(1);

    // A second SEG series in the same study: the next series number, SEMIAUTOMATIC segments, the corrected map.
    const studies = await orthanc.json<string[]>('/studies');
    const second = await until('the corrected SEG in Orthanc', async () => {
      const series = await orthanc.json<any[]>(`/studies/${studies[0]}/series?expand`);
      return series.find((s) => s.MainDicomTags.Modality === 'SEG' && s.MainDicomTags.SeriesNumber === '9902');
    });
    const read = await readSegmentation(await orthanc.bytes(`/instances/${second.Instances[0]}/file`));
    expect(String(read.dataset.SeriesDescription)).toContain('corrected (revision 1)');
    const segments = ([] as { SegmentAlgorithmType: string; SegmentLabel: string }[]).concat(read.dataset.SegmentSequence);
    expect(segments.every((s) => s.SegmentAlgorithmType === 'SEMIAUTOMATIC')).toBe(true);
    expect(segments.map((s) => s.SegmentLabel)).toContain('Tumour');
    const table = JSON.parse(await readFile(path.join(dataDir, 'revisions', caseId, '1', 'structures.json'), 'utf8')) as { structures: { label: number; displayName: string; voxels: number }[] };
    expect(table.structures.find((s) => s.label === erased)?.voxels ?? 0).toBe(0);
    const labelOf = (n: number) => table.structures.find((s) => s.displayName === read.segments[n - 1]!.label)!.label;
    const back = labelsFromSegmentation(read, labels, labelOf);
    let differ = 0;
    for (let i = 0; i < corrected.length; i++) if (back[i] !== corrected[i]) differ++;
    expect(differ).toBe(0);
  }, HEAVY_MS);

  it('makes no second case when the study is sent again', async () => {
    const since = await lastChange();
    storescu(orthanc, [PACS_SERIES], 'CTSCANNER1');
    await feedCaughtUp(since);
    const { cases } = await api('/api/cases');
    expect(cases.map((c: any) => c.id)).toEqual([caseId]);
    expect(server!.output()).toMatch(/PACS series already received/);
  });

  it('records an MR study as skipped, with the reason', async () => {
    const since = await lastChange();
    storescu(orthanc, [MR], 'MRSCANNER');
    await feedCaughtUp(since);
    const status = await api('/api/admin/pacs');
    expect(status.skipped.map((s: any) => s.reason)).toContain('not CT (MR)');
    expect((await api('/api/cases')).cases).toHaveLength(1);
  });

  it('resumes the feed from its stored position after a restart: what arrived meanwhile is handled, nothing twice', async () => {
    const before = (await api('/api/admin/pacs')).orthanc.feed.position as number;
    logs.push(server!.output());
    await server!.stop();
    const since = await lastChange();
    storescu(orthanc, [CT_SINGLE], 'CTSCANNER2'); // arrives while holocase is down
    await start();
    // It starts where it stopped (at most Orthanc's last change before the new study), not at the feed's end.
    const resumedAt = Number(/"position":(\d+)[^\n]*PACS change feed following/.exec(server!.output())?.[1]);
    expect(resumedAt).toBeGreaterThanOrEqual(before);
    expect(resumedAt).toBeLessThanOrEqual(since);
    await feedCaughtUp(since);
    const status = await api('/api/admin/pacs');
    expect(status.skipped.map((s: any) => s.reason)).toContain('no usable CT series (1 series of a single image)');
    expect(status.skipped.filter((s: any) => s.reason === 'not CT (MR)')).toHaveLength(1);
    expect((await api('/api/cases')).cases).toHaveLength(1);
  });

  it('sends the SEG of a STOW-RS push back to Orthanc too (the pushed series is stored there)', async () => {
    // The fixture series as another study (new UIDs), pushed over DICOMweb with HTTP Basic credentials.
    // @ts-expect-error dcmjs ships no type declarations
    const dcmjs = (await import('dcmjs')).default as any;
    const uid = () => dcmjs.data.DicomMetaDictionary.uid();
    const study = uid();
    const seriesUid = uid();
    const boundary = 'holocase-test-boundary';
    const chunks: Buffer[] = [];
    for (const name of (await readdir(PACS_SERIES)).sort()) {
      const b = await readFile(path.join(PACS_SERIES, name));
      const dict = dcmjs.data.DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      const sop = uid();
      dict.dict['0020000D'].Value = [study];
      dict.dict['0020000E'].Value = [seriesUid];
      dict.dict['00080018'].Value = [sop];
      dict.meta['00020003'].Value = [sop];
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), Buffer.from(dict.write()), Buffer.from('\r\n'));
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`));
    const response = await fetch(`${server!.url}/dicomweb/studies`, {
      method: 'POST',
      body: Buffer.concat(chunks) as unknown as BodyInit,
      headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, authorization: `Basic ${Buffer.from('ada:ada-correct-horse-42').toString('base64')}` },
    });
    expect(response.status, await response.clone().text()).toBe(200);
    await response.body?.cancel();
    const { cases } = await api('/api/cases');
    expect(cases).toHaveLength(2);
    const pushed = cases.find((c: any) => c.id !== caseId);
    expect((await followEvents(client, `/api/cases/${pushed.id}/events`)).at(-1)!.event).toBe('done');
    const found = await until('the pushed study and its SEG in Orthanc', async () => {
      for (const id of await orthanc.json<string[]>('/studies')) {
        const s = await orthanc.json<any>(`/studies/${id}`);
        if (s.MainDicomTags.StudyInstanceUID !== study) continue;
        const series = await orthanc.json<any[]>(`/studies/${id}/series?expand`);
        if (series.some((x) => x.MainDicomTags.Modality === 'SEG')) return series;
      }
      return undefined;
    });
    expect(found.map((x: any) => x.MainDicomTags.Modality).sort()).toEqual(['CT', 'SEG']);
    // The feed sees the pushed study (and its SEG) become stable in Orthanc too: no third case.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const last = await lastChange();
    await until('the feed to catch up', async () => ((await api('/api/admin/pacs')).orthanc.feed.position >= last ? true : undefined));
    expect((await api('/api/cases')).cases).toHaveLength(2);
  }, HEAVY_MS);

  it('keeps the synthetic patient identifiers out of the data folder, the logs and the API answers', async () => {
    logs.push(server!.output());
    const haystacks: [string, Buffer][] = [];
    for (const file of await listFiles(dataDir)) haystacks.push([file, await readFile(file)]);
    haystacks.push(['logs', Buffer.from(logs.join('\n'))], ['api', Buffer.from(apiBodies.join('\n'))]);
    for (const [where, bytes] of haystacks) {
      for (const secret of SECRETS) expect(bytes.includes(Buffer.from(secret)), `${secret} in ${where}`).toBe(false);
    }
  });
});
