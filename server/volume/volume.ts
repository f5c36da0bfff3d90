/**
 * The CT volume every stage after ingest works on: voxels on a grid in LPS patient space,
 * plus the de-identified metadata that ingest allows through.
 */
import type { Grid, VoxelArray } from '../../mesh/grid.ts';

/**
 * What ingest keeps about a study: an explicit allow-list (see `deidentify`). Nothing here can
 * identify a patient; a case is named by its opaque id and the uploader's label.
 */
export interface VolumeMeta {
  source: 'dicom' | 'nifti' | 'phantom';
  /** DICOM Modality, e.g. `CT`, `MR`. NIfTI carries none; `undefined` means unknown. */
  modality?: string;
  bodyPart?: string;
  sliceThicknessMm?: number;
  kvp?: number;
  /** A contrast agent was recorded in the DICOM header (Contrast/Bolus Agent present). */
  contrastAgent?: boolean;
  /** Study date shifted by a per-install offset, ISO `YYYY-MM-DD`; absent when removed. */
  studyDateShifted?: string;
  manufacturer?: string;
  /** How stored values became these voxels, e.g. "slope 1, intercept -1024". */
  rescale?: { slope: number; intercept: number };
  /** Voxel value used for padding outside the scanned field of view, if any. */
  paddingValue?: number;
}

export interface Volume<T extends VoxelArray = VoxelArray> extends Grid {
  data: T;
  meta: VolumeMeta;
}
