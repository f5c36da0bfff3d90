/**
 * What the SEG worker thread is given and answers, and starting it (see `segWorker.ts`).
 */
import { HolocaseError, type ErrorCode } from '../errors.ts';
import { startTsWorker } from '../workers/startTsWorker.ts';
import type { BuildSegmentationOptions, BuiltSegmentation, SegSegmentSpec, SegSourceSeries } from './dicomSeg.ts';

export interface SegWorkerData {
  labelsPath: string;
  segments: SegSegmentSpec[];
  source: SegSourceSeries;
  options: BuildSegmentationOptions;
}

export type SegWorkerReply =
  | { ok: true; bytes?: Uint8Array; segments?: number; frames?: number }
  | { ok: false; code: string; message: string; detail?: string };

const ENTRY = new URL('./segWorker.ts', import.meta.url);

/** Builds the SEG in a worker thread; undefined when no structure has a voxel. */
export function buildSegmentationInWorker(data: SegWorkerData): Promise<BuiltSegmentation | undefined> {
  return new Promise((resolve, reject) => {
    const worker = startTsWorker(ENTRY, data as unknown as Record<string, unknown>);
    let settled = false;
    worker.once('message', (reply: SegWorkerReply) => {
      settled = true;
      if (!reply.ok) {
        const error = reply.code === 'INTERNAL' ? new Error(reply.detail ?? reply.message) : new HolocaseError(reply.code as ErrorCode, reply.message);
        reject(error);
      } else resolve(reply.bytes ? { bytes: reply.bytes, segments: reply.segments!, frames: reply.frames! } : undefined);
      void worker.terminate();
    });
    worker.once('error', (error) => {
      if (!settled) reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the SEG worker stopped (exit code ${code}) before answering`));
    });
  });
}
