/**
 * The mesh of one structure, in two steps so a whole case can share one triangle budget:
 *
 *   extractSurface: marching cubes over the label's box (diagonal neighbours joined; vertices on the
 *                   in-slice smoothed mask for thick slices) → Taubin smoothing with every vertex kept
 *                   within half a voxel of the voxel boundary → LPS mm → simplification to the error
 *                   budget (how many triangles it needs, and its area)
 *   finishSurface:  simplification to the triangle cap the case gave it (if lower) → volume restored
 *                   to the voxel volume → normals → measurements
 *
 * Isomorphic: no Node built-ins here. `simplifierReady()` must have resolved before either runs.
 */
import type { LabelExtent } from './boundingBoxes.ts';
import { boxVoxelCount, growBox } from './boundingBoxes.ts';
import { toPatientSpace } from './coordinates.ts';
import { spacingOf, voxelVolumeMm3, type LabelMap, type Vec3 } from './grid.ts';
import { marchingCubes } from './marchingCubes.ts';
import { maskSmoothingFor } from './maskSmoothing.ts';
import { checkEdges, enclosedVolume, surfaceArea, volumeCentroid } from './meshMetrics.ts';
import { vertexNormals } from './normals.ts';
import { restoreVolume } from './restoreVolume.ts';
import { simplify, type SimplifiedMesh } from './simplify.ts';
import type { StructureMesh, StructureSpec } from './structure.ts';
import { taubinSmooth } from './taubinSmooth.ts';
import { TRIANGLE_BUDGET_DEFAULTS } from './triangleBudget.ts';
import type { TriangleMesh } from './triangleMesh.ts';
import { withDefaults } from './withDefaults.ts';

export interface StructureMeshOptions {
  /**
   * In-slice mask smoothing for vertex placement on thick-slice grids (see `maskSmoothingFor`);
   * 0 = vertices at edge midpoints everywhere. Isotropic grids are never mask-smoothed.
   */
  maskSmoothing?: number;
  /**
   * Marching cubes joins voxels that meet only at an edge or corner (see `MarchingCubesOptions`), so a
   * one-voxel-thick sheet (skin, a thin bone wall) stays one surface instead of a stack of terraces.
   */
  joinDiagonals?: boolean;
  /**
   * Taubin λ|μ iterations after marching cubes (0 = none). The terraces of a gently sloping surface
   * are long waves on the mesh; with the constraint below, strong smoothing (many iterations, a low
   * pass band) removes them without the surface leaving the voxel boundary's half-voxel band.
   */
  smoothIterations?: number;
  /** Taubin pass band k_PB (see `taubinSmooth`). */
  smoothPassBand?: number;
  /**
   * How far smoothing may move a vertex from the voxel boundary it was made on (its grid edge's
   * midpoint), in voxels along each grid axis (0 = unconstrained). ½ lets a vertex reach anywhere on
   * its edge, which is where the true surface of the segmented voxels lies, and never deep into a
   * neighbour's voxels; thin parts cannot be smoothed away.
   */
  smoothConstraintVoxels?: number;
  /** Simplification error budget per structure, mm. */
  errorMm?: number;
  /**
   * Fewest triangles simplification leaves a structure (or all it has, if fewer), however flat: a
   * small structure stays a recognisable closed shape, and the case budget never shares below this.
   */
  minTriangles?: number;
  /** Move the final surface along its normals until it encloses the voxel volume (see `restoreVolume`). */
  restoreVolume?: boolean;
  /** Largest such move, in voxels of the smallest spacing. */
  maxOffsetVoxels?: number;
}

export const STRUCTURE_MESH_DEFAULTS: Required<StructureMeshOptions> = {
  maskSmoothing: 1,
  joinDiagonals: true,
  smoothIterations: 40,
  smoothPassBand: 0.02,
  smoothConstraintVoxels: 0.5,
  errorMm: 0.5,
  minTriangles: TRIANGLE_BUDGET_DEFAULTS.minTriangles,
  restoreVolume: true,
  maxOffsetVoxels: 0.5,
};

/** Milliseconds spent per step. */
export interface SurfaceTimings {
  isosurfaceMs: number;
  smoothMs: number;
  simplifyMs: number;
  finishMs: number;
}

/** A structure's surface after the first step. */
export interface StructureSurface {
  label: number;
  voxels: number;
  voxelVolumeMm3: number;
  /** Voxels scanned by marching cubes (the box grown by one voxel on every side). */
  scannedVoxels: number;
  /** Triangles straight out of marching cubes. */
  isosurfaceTriangles: number;
  /** Smoothed surface in LPS mm, before simplification. */
  smoothed: TriangleMesh;
  /** `smoothed` simplified to the error budget alone. */
  simplified: SimplifiedMesh;
  /** Area of the smoothed surface, mm². */
  areaMm2: number;
  /** Smallest voxel spacing, mm. */
  minSpacingMm: number;
  timings: SurfaceTimings;
}

/**
 * 1. Marching cubes over the label's box (±1 voxel); on thick-slice grids, vertices on the in-slice
 *    smoothed mask.
 * 2. Constrained Taubin smoothing in millimetres along the grid's axes (`smoothInVoxelFrame`).
 * 3. Into LPS millimetres through the affine (anisotropic and oblique grids alike).
 * 4. Simplification to the error budget, keeping at least `minTriangles`.
 */
export function extractSurface(labels: LabelMap, extent: LabelExtent, options: StructureMeshOptions = {}): StructureSurface {
  const o = withDefaults(STRUCTURE_MESH_DEFAULTS, options);
  const t0 = performance.now();
  // 1. Isosurface in voxel indices.
  const raw = marchingCubes(labels, extent.label, { box: extent.box, maskSmoothing: maskSmoothingFor(labels.affine, { strength: o.maskSmoothing }), joinDiagonals: o.joinDiagonals });
  const t1 = performance.now();
  // 2–3. Smooth, then into patient space.
  const spacing = spacingOf(labels.affine);
  const smoothedIndex = o.smoothIterations > 0 ? smoothInVoxelFrame(raw, spacing, o) : raw;
  const smoothed = toPatientSpace(smoothedIndex, labels.affine);
  const t2 = performance.now();
  // 4. Simplify to the error budget (not below the floor).
  const simplified = simplify(smoothed, { errorMm: o.errorMm, targetTriangles: o.minTriangles });
  const t3 = performance.now();
  return {
    label: extent.label,
    voxels: extent.voxels,
    voxelVolumeMm3: extent.voxels * voxelVolumeMm3(labels.affine),
    scannedVoxels: boxVoxelCount(growBox(extent.box, 1)),
    isosurfaceTriangles: raw.indices.length / 3,
    smoothed,
    simplified,
    areaMm2: surfaceArea(smoothed),
    minSpacingMm: Math.min(...spacingOf(labels.affine)),
    timings: { isosurfaceMs: t1 - t0, smoothMs: t2 - t1, simplifyMs: t3 - t2, finishMs: 0 },
  };
}

/**
 * Taubin smoothing of a marching-cubes surface given in voxel indices, done in millimetres along the
 * grid's axes (the affine's rotation does not change smoothing), with each vertex kept within
 * `smoothConstraintVoxels` of the voxel-boundary point of its grid edge (the edge's midpoint).
 * Returns the smoothed surface in voxel indices.
 */
function smoothInVoxelFrame(raw: TriangleMesh, spacing: Vec3, o: Required<StructureMeshOptions>): TriangleMesh {
  const p = raw.positions;
  const scaled = new Float32Array(p.length);
  const centres = new Float32Array(p.length);
  for (let v = 0; v < p.length; v += 3) {
    for (let a = 0; a < 3; a++) {
      const x = p[v + a];
      scaled[v + a] = x * spacing[a];
      // Two coordinates of an edge vertex are whole numbers; the third lies inside the edge.
      centres[v + a] = (Number.isInteger(x) ? x : Math.floor(x) + 0.5) * spacing[a];
    }
  }
  const c = o.smoothConstraintVoxels;
  const constraint = c > 0 ? { centres, halfWidth: [c * spacing[0], c * spacing[1], c * spacing[2]] as const } : undefined;
  const smoothed = taubinSmooth({ positions: scaled, indices: raw.indices }, { iterations: o.smoothIterations, passBand: o.smoothPassBand, constraint });
  const q = smoothed.positions;
  for (let v = 0; v < q.length; v += 3) for (let a = 0; a < 3; a++) q[v + a] /= spacing[a];
  return smoothed;
}

/** Triangles the surface has after the first step. */
export function surfaceTriangles(surface: StructureSurface): number {
  return surface.simplified.mesh.indices.length / 3;
}

/** What the first step tells the case (the triangle budget, progress, timings) about a surface it keeps. */
export interface SurfaceSummary {
  label: number;
  scannedVoxels: number;
  isosurfaceTriangles: number;
  triangles: number;
  areaMm2: number;
  timings: SurfaceTimings;
}

export function summarizeSurface(surface: StructureSurface): SurfaceSummary {
  return {
    label: surface.label,
    scannedVoxels: surface.scannedVoxels,
    isosurfaceTriangles: surface.isosurfaceTriangles,
    triangles: surfaceTriangles(surface),
    areaMm2: surface.areaMm2,
    timings: surface.timings,
  };
}

export interface FinishOptions extends StructureMeshOptions {
  /** Triangle cap from the case budget; simplify further when the surface has more. */
  maxTriangles?: number;
}

/**
 * 1. If over the cap, simplify the error-budget mesh further down to the cap (the error may then exceed
 *    the budget; the reported error, an upper bound, says by how much). Should that not stay closed,
 *    the error-budget mesh is kept.
 * 2. Restore the voxel volume (simplification cuts convex parts a little).
 * 3. Normals, then volume, area, centroid and the watertightness check.
 */
export function finishSurface(surface: StructureSurface, spec: StructureSpec, options: FinishOptions = {}): StructureMesh {
  const o = withDefaults(STRUCTURE_MESH_DEFAULTS, options);
  const t0 = performance.now();
  // 1. Cap.
  let simplified = surface.simplified;
  const cap = options.maxTriangles;
  if (cap !== undefined && surfaceTriangles(surface) > cap) {
    const capped = simplify(surface.simplified.mesh, { targetTriangles: cap, errorMm: 1e4 });
    if (capped.simplified) simplified = { ...capped, errorMm: capped.errorMm + surface.simplified.errorMm };
  }
  // 2. Volume.
  let mesh = simplified.mesh;
  if (o.restoreVolume && mesh.indices.length > 0) {
    mesh = restoreVolume(mesh, surface.voxelVolumeMm3, { maxOffset: o.maxOffsetVoxels * surface.minSpacingMm }).mesh;
  }
  // 3. Normals and measurements.
  mesh = { ...mesh, normals: vertexNormals(mesh) };
  const volume = enclosedVolume(mesh);
  const area = surfaceArea(mesh);
  surface.timings.finishMs += performance.now() - t0;
  return {
    structure: {
      label: spec.label,
      name: spec.name,
      displayName: spec.displayName,
      group: spec.group,
      color: spec.color,
      voxelVolumeMl: round(surface.voxelVolumeMm3 / 1000, 3),
      meshVolumeMl: round(volume / 1000, 3),
      surfaceCm2: round(area / 100, 2),
      triangles: mesh.indices.length / 3,
      watertight: checkEdges(mesh).watertight,
      simplifyErrorMm: round(simplified.errorMm, 3),
    },
    mesh,
    centroidLpsMm: volumeCentroid(mesh),
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
