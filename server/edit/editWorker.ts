/**
 * Worker-thread entry for the editor's operations that take seconds on a large box (grow from seeds,
 * islands, fill between slices), so the web server's event loop stays free. It keeps the last CT it
 * read (a 0.8 mm CT takes a second or two to inflate), keyed by its path and modification time.
 * Messages: `{ id, op, ... }` in; `{ id, ok: true, labels, stats }` or `{ id, ok: false, error }` out.
 */
import { statSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { spacingOf, type Vec3 } from '../../mesh/grid.ts';
import { isHolocaseError } from '../errors.ts';
import { growFromSeeds } from '../segment/growFromSeeds.ts';
import { readNifti } from '../volume/nifti.ts';
import type { Volume } from '../volume/volume.ts';
import { fillBetweenSlices, removeIslands } from './labelEdits.ts';
import type { EditRequest } from './editService.ts';

let cached: { key: string; volume: Volume } | undefined;

async function ct(file: string): Promise<Volume> {
  const key = `${file}:${statSync(file).mtimeMs}`;
  if (cached?.key !== key) {
    cached = undefined;
    cached = { key, volume: await readNifti(file) };
  }
  return cached.volume;
}

/** The CT values inside `box` (end exclusive), x fastest. */
function crop(volume: Volume, box: number[]): Int16Array | Float32Array {
  const [i0, j0, k0, i1, j1, k1] = box as [number, number, number, number, number, number];
  const [nx, ny] = volume.dims;
  const bx = i1 - i0;
  const out = volume.data instanceof Int16Array ? new Int16Array(bx * (j1 - j0) * (k1 - k0)) : new Float32Array(bx * (j1 - j0) * (k1 - k0));
  let q = 0;
  for (let k = k0; k < k1; k++) {
    for (let j = j0; j < j1; j++) {
      const start = i0 + j * nx + k * nx * ny;
      out.set(volume.data.subarray(start, start + bx) as ArrayLike<number>, q);
      q += bx;
    }
  }
  return out;
}

async function run(request: EditRequest): Promise<{ labels: Uint16Array; stats: Record<string, unknown> }> {
  const started = Date.now();
  const dims: Vec3 = [request.box[3] - request.box[0], request.box[4] - request.box[1], request.box[5] - request.box[2]];
  const labels = new Uint16Array(request.labels);
  if (request.op === 'grow') {
    const volume = await ct(request.ctFile);
    const result = growFromSeeds(crop(volume, request.box), labels, dims, { spacing: spacingOf(volume.affine), huRange: request.huRange });
    return { labels: result.labels, stats: { ms: Date.now() - started, voxels: labels.length, labels: Object.fromEntries(result.counts), unreached: result.unreached } };
  }
  if (request.op === 'islands') {
    const removed = removeIslands(labels, dims, request.label, { mode: request.mode, minVoxels: request.minVoxels });
    return { labels, stats: { ms: Date.now() - started, removed } };
  }
  const filled = fillBetweenSlices(labels, dims, request.label, { axis: request.axis, spacing: request.spacing });
  return { labels, stats: { ms: Date.now() - started, filled } };
}

parentPort!.on('message', (message: EditRequest & { id: number }) => {
  run(message).then(
    ({ labels, stats }) => parentPort!.postMessage({ id: message.id, ok: true, labels: labels.buffer, stats }, [labels.buffer as ArrayBuffer]),
    (error: unknown) =>
      parentPort!.postMessage({
        id: message.id,
        ok: false,
        error: isHolocaseError(error) ? { code: error.code, message: error.message } : { code: 'INTERNAL', message: 'the operation failed; the log has details' },
        detail: error instanceof Error ? error.stack : String(error),
      }),
  );
});
