/**
 * How large a CT holocase takes, decided from its header alone: ingest calls `checkVolumeLimits` once
 * the dimensions are known (a NIfTI header, the DICOM series' rows × columns × slices) and before a
 * single voxel is read, inflated or allocated. A file that declares more is refused with a message
 * that says how big it is and what the limit is, so a few megabytes of gzip that claim gigabytes of
 * voxels cost nothing.
 */
import type { Vec3 } from '../../mesh/grid.ts';
import { HolocaseError } from '../errors.ts';

export interface VolumeLimits {
  /**
   * Most voxels (columns × rows × slices). Default 1024 × 1024 × 2000 ≈ 2.1 billion: the outer edge of
   * real studies (`HOLOCASE_MAX_VOXELS`).
   */
  maxVoxels: number;
  /** Most bytes of voxel data as the input stores them (e.g. 2 per int16 voxel). Default 8 GiB (`HOLOCASE_MAX_VOLUME_BYTES`). */
  maxBytes: number;
}

export const VOLUME_LIMITS: VolumeLimits = { maxVoxels: 1024 * 1024 * 2000, maxBytes: 8 * 1024 ** 3 };

/** What ingest knows about a CT from its header(s), before its voxels are read. */
export interface VolumeShape {
  format: 'dicom' | 'nifti';
  dims: Vec3;
  spacingMm: Vec3;
  /** Bytes per voxel as the input stores them (the decoded copy of the source). */
  bytesPerVoxel: number;
  /** DICOM Modality of the series; NIfTI records none. */
  modality?: string;
}

/** Called with the shape before voxels are read or allocated; throws (or rejects) to refuse the volume. */
export type AdmitVolume = (shape: VolumeShape) => void | Promise<void>;

export function voxelCount(dims: Vec3): number {
  return dims[0] * dims[1] * dims[2];
}

/** Bytes for people: "4.0 GiB", "350 MiB". */
export function formatMemory(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${Math.max(1, Math.round(bytes / 1024 ** 2))} MiB`;
}

function billions(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)} billion` : n >= 1e6 ? `${Math.round(n / 1e6)} million` : String(n);
}

/** Refuses (`VOLUME_TOO_LARGE`, not retryable) a volume beyond the limits; `what` names it ("the CT", "the DICOM series"). */
export function checkVolumeLimits(shape: VolumeShape, limits: VolumeLimits = VOLUME_LIMITS, what = 'the CT'): void {
  const voxels = voxelCount(shape.dims);
  const bytes = voxels * shape.bytesPerVoxel;
  const size = `${shape.dims.join('×')} voxels`;
  if (voxels > limits.maxVoxels) {
    throw new HolocaseError(
      'VOLUME_TOO_LARGE',
      `${what} is ${size} (${billions(voxels)}), more than holocase accepts (${billions(limits.maxVoxels)} voxels; a 1024×1024×2000 CT is the largest real study); nothing was read`,
      { retryable: false },
    );
  }
  if (bytes > limits.maxBytes) {
    throw new HolocaseError(
      'VOLUME_TOO_LARGE',
      `${what} is ${size} holding ${formatMemory(bytes)} of voxel data, more than holocase accepts (${formatMemory(limits.maxBytes)}); nothing was read`,
      { retryable: false },
    );
  }
}
