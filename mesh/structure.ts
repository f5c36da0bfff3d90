/**
 * What meshing is told about a structure, and what it reports back.
 * Isomorphic: no Node built-ins here.
 */
import type { AnatomyEntry } from '../models/anatomy-types.ts';
import type { Vec3 } from './grid.ts';
import type { TriangleMesh } from './triangleMesh.ts';

/** A structure to mesh: its label value in the label map and its catalogue entry. */
export type StructureSpec = AnatomyEntry & { label: number };

/** One meshed structure as reported (report.json, CLI, GLB extras). */
export interface MeshedStructure {
  label: number;
  name: string;
  displayName: string;
  group: AnatomyEntry['group'];
  /** sRGB `#rrggbb`. */
  color: string;
  /** Segmented volume: voxel count × voxel volume. */
  voxelVolumeMl: number;
  /** Volume enclosed by the final mesh. */
  meshVolumeMl: number;
  surfaceCm2: number;
  triangles: number;
  /** Every edge of the final mesh is shared by exactly two triangles, in opposite directions. */
  watertight: boolean;
  /** Deviation the simplifier reported (mm). */
  simplifyErrorMm: number;
}

/** A meshed structure with its surface in LPS millimetres (normals included). */
export interface StructureMesh {
  structure: MeshedStructure;
  mesh: TriangleMesh;
  /** Centroid of the enclosed solid, LPS mm. */
  centroidLpsMm: Vec3;
}
