/**
 * A worker thread that builds one DICOM SEG (`buildSegmentation`), so encoding a clinical case (tens of
 * seconds with dcmjs) never blocks the web server's event loop. It reads the label map itself, answers
 * with the SEG bytes (moved, not copied) or the error, and exits. Started by `buildSegmentationInWorker`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isHolocaseError } from '../errors.ts';
import { labelMapFromVolume } from '../mesh/labelMapFromVolume.ts';
import { readNifti } from '../volume/nifti.ts';
import { buildSegmentation } from './dicomSeg.ts';
import type { SegWorkerData, SegWorkerReply } from './segWorkerMessages.ts';

const job = workerData as SegWorkerData;

try {
  const labels = labelMapFromVolume(await readNifti(job.labelsPath, { name: 'the case label map' }), 'the case label map');
  const built = buildSegmentation(labels, job.segments, job.source, job.options);
  const reply: SegWorkerReply = built ? { ok: true, bytes: built.bytes, segments: built.segments, frames: built.frames } : { ok: true };
  parentPort!.postMessage(reply, built ? [built.bytes.buffer as ArrayBuffer] : []);
} catch (error) {
  const reply: SegWorkerReply = isHolocaseError(error)
    ? { ok: false, code: error.code, message: error.message }
    : { ok: false, code: 'INTERNAL', message: 'the SEG could not be built (an unexpected error)', detail: String((error as Error)?.stack ?? error) };
  parentPort!.postMessage(reply);
}
