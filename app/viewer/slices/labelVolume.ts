/**
 * A case's label map in the browser: downloaded as the server stores it (a gzip NIfTI-1 file on the CT
 * grid), inflated in the volume worker and handed over as one typed array. Editing tools change this
 * array in place.
 */
import type { Vec3 } from '../../../mesh/grid.ts';
import type { VolumeWorker } from './volumeWorker.ts';

export type LabelArray = Uint8Array | Uint16Array;

export interface LabelVolume {
  dims: Vec3;
  data: LabelArray;
  /** The revision this map was loaded from. */
  revision: number;
}

/** Why the label map did not load, in words for the person looking at the screen. */
export class LabelLoadError extends Error {}

/** Loads the label map at `url` for a CT grid of `dims`. */
export async function loadLabelVolume(url: string, dims: Vec3, worker: VolumeWorker, signal: AbortSignal): Promise<LabelVolume> {
  try {
    const { data, revision } = await worker.labels(url, dims, signal);
    return { dims, data, revision };
  } catch (error) {
    throw signal.aborted ? error : new LabelLoadError(error instanceof Error ? error.message : String(error));
  }
}
