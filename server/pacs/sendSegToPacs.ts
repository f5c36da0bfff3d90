/**
 * Sends a case's segmentation back to the PACS: its label map as a DICOM SEG stored into Orthanc (and
 * from there forwarded wherever Orthanc is configured to send it), in the original study, overlaying
 * the original series. Called when a case from the PACS is done; call it again with a corrected
 * revision's label map (`labelsPath`) to send that one.
 *
 * The original identifiers the SEG must carry (patient name and ID, accession number, UIDs) are read
 * fresh from Orthanc at send time, held in memory (in the SEG worker thread) and never written to the
 * data folder, the database or the log; only Orthanc's opaque id of the stored SEG is recorded.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { structureCodes } from '../../models/anatomyCodes.ts';
import { HolocaseError, isHolocaseError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { CaseReport } from '../pipeline/runCase.ts';
import { CASE_FILES, caseLayout } from '../store/caseFolders.ts';
import type { Database } from '../store/database.ts';
import { pacsStudyForCase, recordSegResult } from '../store/pacsStudies.ts';
import type { OrthancClient } from './orthancClient.ts';
import { readSegSource } from './orthancStudy.ts';

export interface SendSegDeps {
  db: Database;
  log: Logger;
  config: { dataDir: string };
  /** Unset when no Orthanc is configured: nothing can be sent. */
  orthanc: OrthancClient | undefined;
}

export interface SendSegOptions {
  /** Label map to send (a corrected revision); default the case's `labels.nii.gz`. Must be on the case's CT grid. */
  labelsPath?: string;
  /** The structures of that label map (a corrected revision may add some); default the case report's. */
  structures?: { label: number; name: string; displayName: string; color: string }[];
  /** The revision the label map is, when a person corrected the model's (see `BuildSegmentationOptions.revision`). */
  revision?: number;
  /** Series Number of the SEG (a revision may count up). */
  seriesNumber?: number;
  /** Series Description of the SEG. */
  seriesDescription?: string;
}

export type SendSegResult =
  | { status: 'sent'; orthancInstanceId: string; segments: number; frames: number }
  | { status: 'not-sent'; reason: string };

/**
 * 1. Only cases whose series is in Orthanc can go back.
 * 2. The case's structures (report) and label map; the source series freshly read from Orthanc.
 * 3. Build the SEG in a worker thread; store it into Orthanc; record the outcome on the case.
 * Failures are recorded (administrators see them) and returned as `not-sent` only when nothing was
 * attempted; a failed attempt throws after recording.
 */
export async function sendSegToPacs(deps: SendSegDeps, caseId: string, options: SendSegOptions = {}): Promise<SendSegResult> {
  // 1. Where it goes.
  const study = pacsStudyForCase(deps.db, caseId);
  if (!study?.orthancSeriesId) return { status: 'not-sent', reason: 'the case did not come from Orthanc' };
  if (!deps.orthanc) return { status: 'not-sent', reason: 'no Orthanc is configured (HOLOCASE_ORTHANC_URL)' };
  const started = Date.now();
  try {
    // 2. What goes.
    const caseDir = caseLayout(deps.config.dataDir, caseId).caseDir;
    const report = JSON.parse(await readFile(path.join(caseDir, CASE_FILES.report), 'utf8')) as CaseReport;
    const segments = (options.structures ?? report.structures).map((s) => ({ label: s.label, displayName: s.displayName, color: s.color, codes: structureCodes(s.name) }));
    const source = await readSegSource(deps.orthanc, study.orthancSeriesId);

    // 3. Build, store, record.
    // Loaded when needed and kept out of the web app's bundle (the bundler would try to bundle the worker thread's tsx loader).
    const { buildSegmentationInWorker } = (await import(/* turbopackIgnore: true */ /* webpackIgnore: true */ './segWorkerMessages.ts')) as typeof import('./segWorkerMessages.ts');
    const built = await buildSegmentationInWorker({
      labelsPath: options.labelsPath ?? path.join(caseDir, CASE_FILES.labels),
      segments,
      source,
      options: {
        algorithmName: `${report.model.name} ${report.model.version}`.trim(),
        ...(options.revision ? { revision: options.revision } : {}),
        ...(options.seriesNumber ? { seriesNumber: options.seriesNumber } : {}),
        ...(options.seriesDescription ? { seriesDescription: options.seriesDescription } : {}),
      },
    });
    if (!built) {
      recordSegResult(deps.db, caseId, { status: 'failed', error: 'the segmentation has no structure to send' });
      return { status: 'not-sent', reason: 'the segmentation has no structure to send' };
    }
    const stored = await deps.orthanc.storeInstance(built.bytes);
    recordSegResult(deps.db, caseId, { status: 'sent', instanceId: stored.ID });
    deps.log.info(
      { caseId, orthancInstanceId: stored.ID, segments: built.segments, frames: built.frames, bytes: built.bytes.length, ms: Date.now() - started },
      'SEG stored in Orthanc',
    );
    return { status: 'sent', orthancInstanceId: stored.ID, segments: built.segments, frames: built.frames };
  } catch (error) {
    const message = isHolocaseError(error) ? error.message : 'an unexpected error (see the log)';
    recordSegResult(deps.db, caseId, { status: 'failed', error: message });
    deps.log.warn({ caseId, errorCode: isHolocaseError(error) ? error.code : 'INTERNAL', problem: message, err: isHolocaseError(error) ? undefined : error }, 'SEG not sent');
    if (isHolocaseError(error)) throw error;
    throw new HolocaseError('PACS_UNAVAILABLE', `the SEG could not be sent: ${message}`, { cause: error });
  }
}
