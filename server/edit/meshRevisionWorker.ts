/**
 * Worker-thread entry that runs `meshRevision` for the server (the web server's event loop stays free
 * while a revision is meshed). Posts `progress` messages, then `done` with the result or `failed`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isHolocaseError } from '../errors.ts';
import { meshRevision, type MeshRevisionOptions } from './meshRevision.ts';

const { entry: _entry, ...options } = workerData as MeshRevisionOptions & { entry: string };
meshRevision({ ...options, onProgress: (p) => parentPort!.postMessage({ type: 'progress', fraction: p.fraction }) }).then(
  (result) => parentPort!.postMessage({ type: 'done', result }),
  (error: unknown) =>
    parentPort!.postMessage({
      type: 'failed',
      error: isHolocaseError(error) ? { code: error.code, message: error.message } : { code: 'MESH_FAILED', message: 'the hologram of this revision could not be made; the log has details' },
      detail: error instanceof Error ? error.stack : String(error),
    }),
);
