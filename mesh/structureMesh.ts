/**
 * The mesh of one structure, in two steps so a whole case can share one triangle budget:
 *
 *   extractSurface: marching cubes over the label's box (diagonal neighbours joined; vertices on the
 *                   in-slice smoothed mask for thick slices) → Taubin smoothing with every vertex kept
 *                   within half a voxel of the voxel boundary → LPS mm → simplification to the error
 *                   budget of each level of detail (how many triangles it needs there, and its area)
 *   finishSurface:  for one level, simplification to the triangle cap the case gave it (if lower) →
 *                   volume restored to the voxel volume → normals → measurements
 *
 * Isomorphic: no Node built-ins here. `simplifierReady()` must have resolved before either runs.
 */
import type { LabelExtent } from './boundingBoxes.ts';
import { boxVoxelCount, growBox } from './boundingBoxes.ts';
import { toPatientSpace } from './coordinates.ts';
import { spacingOf, voxelVolumeMm3, type LabelMap, type Vec3 } from './grid.ts';
import { marchingCubes } from './marchingCubes.ts';
import { maskSmoothingFor } from './maskSmoothing.ts';
import type { DetailLevel } from './detailLevels.ts';
import { checkEdges, enclosedVolume, surfaceArea, volumeCentroid } from './meshMetrics.ts';
import { vertexNormals } from './normals.ts';
import { restoreVolume } from './restoreVolume.ts';
import { simplify, type SimplifiedMesh } from './simplify.ts';
import type { StructureMesh, StructureSpec } from './structure.ts';
import { taubinSmooth, type SmoothingConstraint } from './taubinSmooth.ts';
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
  /**
   * Simplification error budget per structure at the desktop level, mm; on fine grids at most
   * `errorVoxels` voxels (the smaller applies), so the surface stays as true at 0.6 mm as at 3 mm.
   */
  errorMm?: number;
  /** The desktop level's error budget at most this many voxels of the smallest spacing. */
  errorVoxels?: number;
  /**
   * Error budget of the headset's level (see `detailLevels.ts`), mm: its surfaces are the desktop's
   * simplified further, to this much in all (never less than the desktop's own budget).
   */
  xrErrorMm?: number;
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
  errorVoxels: 0.4,
  xrErrorMm: 0.5,
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
  /** `smoothed` simplified to the desktop level's error budget alone. */
  simplified: SimplifiedMesh;
  /** `simplified` simplified further to the headset level's error budget (the same object when equal). */
  xrSimplified: SimplifiedMesh;
  /** Area of the surface (simplified to the error budget: within the budget of the smoothed one), mm². */
  areaMm2: number;
  /** Smallest voxel spacing, mm. */
  minSpacingMm: number;
  timings: SurfaceTimings;
}

/** The desktop level's error budget on a grid whose smallest spacing is `minSpacingMm`. */
export function desktopErrorMm(options: Pick<StructureMeshOptions, 'errorMm' | 'errorVoxels'>, minSpacingMm: number): number {
  const { errorMm, errorVoxels } = withDefaults(STRUCTURE_MESH_DEFAULTS, options);
  return Math.min(errorMm, errorVoxels * minSpacingMm);
}

/**
 * 1. Marching cubes over the label's box (±1 voxel); on thick-slice grids, vertices on the in-slice
 *    smoothed mask.
 * 2. Constrained Taubin smoothing in the grid's frame (`smoothInVoxelFrame`).
 * 3. Into LPS millimetres through the affine (anisotropic and oblique grids alike).
 * 4. Simplification to the desktop level's error budget, keeping at least `minTriangles`; from that,
 *    simplification to the rest of the headset level's budget (a small mesh by then).
 */
export function extractSurface(labels: LabelMap, extent: LabelExtent, options: StructureMeshOptions = {}): StructureSurface {
  const o = withDefaults(STRUCTURE_MESH_DEFAULTS, options);
  const t0 = performance.now();
  // 1. Isosurface in voxel indices.
  const raw = marchingCubes(labels, extent.label, { box: extent.box, maskSmoothing: maskSmoothingFor(labels.affine, { strength: o.maskSmoothing }), joinDiagonals: o.joinDiagonals });
  const t1 = performance.now();
  // 2–3. Smooth, then into patient space.
  const smoothedIndex = o.smoothIterations > 0 ? smoothInVoxelFrame(raw, o) : raw;
  const smoothed = toPatientSpace(smoothedIndex, labels.affine);
  const t2 = performance.now();
  // 4. Simplify to each level's error budget (not below the floor).
  const minSpacingMm = Math.min(...spacingOf(labels.affine));
  const errorMm = desktopErrorMm(o, minSpacingMm);
  const simplified = simplify(smoothed, { errorMm, minTriangles: o.minTriangles });
  let xrSimplified = simplified;
  if (o.xrErrorMm > errorMm) {
    const further = simplify(simplified.mesh, { errorMm: o.xrErrorMm - simplified.errorMm, minTriangles: o.minTriangles });
    if (further.simplified) xrSimplified = { ...further, errorMm: further.errorMm + simplified.errorMm };
  }
  const t3 = performance.now();
  return {
    label: extent.label,
    voxels: extent.voxels,
    voxelVolumeMm3: extent.voxels * voxelVolumeMm3(labels.affine),
    scannedVoxels: boxVoxelCount(growBox(extent.box, 1)),
    isosurfaceTriangles: raw.indices.length / 3,
    smoothed,
    simplified,
    xrSimplified,
    areaMm2: surfaceArea(simplified.mesh),
    minSpacingMm,
    timings: { isosurfaceMs: t1 - t0, smoothMs: t2 - t1, simplifyMs: t3 - t2, finishMs: 0 },
  };
}

/**
 * Taubin smoothing of a marching-cubes surface given in voxel indices, with each vertex kept within
 * `smoothConstraintVoxels` of the voxel-boundary point of its grid edge (the edge's midpoint). Done in
 * voxel indices: the same surface as smoothing in millimetres along the grid's axes (see
 * `taubinSmooth`), without scaling there and back.
 */
function smoothInVoxelFrame(raw: TriangleMesh, o: Required<StructureMeshOptions>): TriangleMesh {
  const p = raw.positions;
  const c = o.smoothConstraintVoxels;
  let constraint: SmoothingConstraint | undefined;
  if (c > 0) {
    // Two coordinates of an edge vertex are whole numbers; the third lies inside the edge.
    const centres = new Float32Array(p.length);
    for (let i = 0; i < p.length; i++) {
      const whole = Math.floor(p[i]);
      centres[i] = p[i] === whole ? whole : whole + 0.5;
    }
    constraint = { centres, halfWidth: [c, c, c] };
  }
  return taubinSmooth(raw, { iterations: o.smoothIterations, passBand: o.smoothPassBand, constraint });
}

/** What the second step needs of a surface (a worker keeps only this between the steps). */
export type KeptSurface = Omit<StructureSurface, 'smoothed'>;

/** The error-budget mesh of a surface at a level of detail. */
function levelMesh(surface: KeptSurface, level: DetailLevel): SimplifiedMesh {
  return level === 'xr' ? surface.xrSimplified : surface.simplified;
}

/** Triangles the surface has after the first step, at a level of detail. */
export function surfaceTriangles(surface: KeptSurface, level: DetailLevel = 'desktop'): number {
  return levelMesh(surface, level).mesh.indices.length / 3;
}

/** What the first step tells the case (the triangle budget, progress, timings) about a surface it keeps. */
export interface SurfaceSummary {
  label: number;
  scannedVoxels: number;
  isosurfaceTriangles: number;
  /** Triangles at each level's error budget. */
  triangles: Record<DetailLevel, number>;
  /** Whether the headset level's surface is the desktop's (so the levels can share their results). */
  xrSameAsDesktop: boolean;
  areaMm2: number;
  timings: SurfaceTimings;
}

export function summarizeSurface(surface: KeptSurface): SurfaceSummary {
  return {
    label: surface.label,
    scannedVoxels: surface.scannedVoxels,
    isosurfaceTriangles: surface.isosurfaceTriangles,
    triangles: { desktop: surfaceTriangles(surface, 'desktop'), xr: surfaceTriangles(surface, 'xr') },
    xrSameAsDesktop: surface.xrSimplified === surface.simplified,
    areaMm2: surface.areaMm2,
    timings: surface.timings,
  };
}

/** The surface without its smoothed full-resolution mesh, which the second step does not need. */
export function keepForFinishing(surface: StructureSurface): KeptSurface {
  const { smoothed: _smoothed, ...kept } = surface;
  return kept;
}

export interface FinishOptions extends StructureMeshOptions {
  /** Triangle cap from the case budget; simplify further when the surface has more. */
  maxTriangles?: number;
  /** Which level of detail to finish (default the desktop's). */
  level?: DetailLevel;
}

/**
 * 1. If over the cap, simplify the level's error-budget mesh further down to the cap (the error may
 *    then exceed the budget; the reported error, an upper bound, says by how much). Should that not
 *    stay closed, the error-budget mesh is kept.
 * 2. Restore the voxel volume (simplification cuts convex parts a little).
 * 3. Normals, then volume, area, centroid and the watertightness check.
 */
export function finishSurface(surface: KeptSurface, spec: StructureSpec, options: FinishOptions = {}): StructureMesh {
  const o = withDefaults(STRUCTURE_MESH_DEFAULTS, options);
  const t0 = performance.now();
  // 1. Cap.
  const base = levelMesh(surface, options.level ?? 'desktop');
  let simplified = base;
  const cap = options.maxTriangles;
  if (cap !== undefined && base.mesh.indices.length / 3 > cap) {
    const capped = simplify(base.mesh, { targetTriangles: cap, minTriangles: Math.min(cap, o.minTriangles), errorMm: 1e4 });
    if (capped.simplified) simplified = { ...capped, errorMm: capped.errorMm + base.errorMm };
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
