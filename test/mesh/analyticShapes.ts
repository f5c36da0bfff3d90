/**
 * Shapes whose true surface is known exactly, voxelised on CT-like grids, and how far a mesh made from
 * them lies from that surface: the measure of the voxel staircase. Used by the smoothness tests and the
 * mesh benchmark.
 *
 * Shapes (LPS mm, around the grid's middle): a sphere of radius 40 mm; an oblate ellipsoid tipped 12°
 * out of the slice plane (its broad top and bottom are the gently sloping surfaces that terrace, as on
 * the pelvis); a capsule (a cylinder with round ends) whose axis is tilted 15° out of the slice plane.
 */
import { composeAffine, type LabelMap, type Vec3 } from '../../mesh/grid.ts';
import { labelBoundingBoxes } from '../../mesh/boundingBoxes.ts';
import type { StructureSpec } from '../../mesh/structure.ts';
import { extractSurface, finishSurface, type StructureMeshOptions } from '../../mesh/structureMesh.ts';
import type { TriangleMesh } from '../../mesh/triangleMesh.ts';
import { rotation } from './labelMaps.ts';

/** A closed solid: inside test, and the nearest surface point's distance and outward normal. */
export interface AnalyticShape {
  name: string;
  /** Whether a point lies inside (cheap; used to voxelise). */
  inside(p: Vec3): boolean;
  /** Signed distance to the surface (negative inside), mm, and the surface's outward unit normal there. */
  nearest(p: Vec3): { distance: number; normal: Vec3 };
}

const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const unit = (a: Vec3): Vec3 => {
  const l = Math.hypot(...a) || 1;
  return [a[0] / l, a[1] / l, a[2] / l];
};

export function sphere(centre: Vec3, radius: number): AnalyticShape {
  return {
    name: `sphere r ${radius} mm`,
    inside: (p) => Math.hypot(...sub(p, centre)) <= radius,
    nearest(p) {
      const d = sub(p, centre);
      return { distance: Math.hypot(...d) - radius, normal: unit(d) };
    },
  };
}

/** A capsule: all points within `radius` of the segment centre ± halfLength·axis. */
export function capsule(centre: Vec3, axis: Vec3, halfLength: number, radius: number, name: string): AnalyticShape {
  const u = unit(axis);
  const offAxis = (p: Vec3): Vec3 => {
    const d = sub(p, centre);
    const t = Math.max(-halfLength, Math.min(halfLength, dot(d, u)));
    return sub(d, [u[0] * t, u[1] * t, u[2] * t]);
  };
  return {
    name,
    inside: (p) => Math.hypot(...offAxis(p)) <= radius,
    nearest(p) {
      const r = offAxis(p);
      return { distance: Math.hypot(...r) - radius, normal: unit(r) };
    },
  };
}

/**
 * An ellipsoid with semi-axes `radii` along the columns of `axes`. The nearest point comes from the
 * standard root of F(t) = Σ (rᵢ yᵢ / (t + rᵢ²))² − 1 (Eberly, "Distance from a point to an ellipsoid"),
 * found by bisection, so it is exact to rounding.
 */
export function ellipsoid(centre: Vec3, radii: Vec3, axes: [Vec3, Vec3, Vec3], name: string): AnalyticShape {
  return {
    name,
    inside(p) {
      const d = sub(p, centre);
      return axes.reduce((sum, a, i) => sum + (dot(d, a) / radii[i]) ** 2, 0) <= 1;
    },
    nearest(p) {
      const d = sub(p, centre);
      const y = axes.map((a) => dot(d, a)) as Vec3;
      const s = y.map(Math.sign).map((v) => v || 1);
      const ya = y.map(Math.abs);
      const F = (t: number) => ya.reduce((sum, v, i) => sum + ((radii[i] * v) / (t + radii[i] ** 2)) ** 2, 0) - 1;
      // F decreases in t over (−min r², ∞); its root is the closest point's Lagrange multiplier.
      const rmin = Math.min(...radii);
      let lo = -(rmin ** 2) + 1e-12;
      let hi = Math.max(...radii) * Math.hypot(...ya) + 1;
      for (let k = 0; k < 200 && hi - lo > 1e-12 * (1 + Math.abs(hi)); k++) {
        const mid = (lo + hi) / 2;
        if (F(mid) > 0) lo = mid;
        else hi = mid;
      }
      const t = (lo + hi) / 2;
      const x = ya.map((v, i) => (radii[i] ** 2 * v) / (t + radii[i] ** 2));
      const inside = ya.reduce((sum, v, i) => sum + (v / radii[i]) ** 2, 0) < 1;
      const dist = Math.hypot(ya[0] - x[0], ya[1] - x[1], ya[2] - x[2]) * (inside ? -1 : 1);
      // Outward normal ∝ x / r², back in LPS with the signs restored.
      const nl = unit(x.map((v, i) => (s[i] * v) / radii[i] ** 2) as Vec3);
      const normal = unit([0, 1, 2].map((r) => axes[0][r] * nl[0] + axes[1][r] * nl[1] + axes[2][r] * nl[2]) as Vec3);
      return { distance: dist, normal };
    },
  };
}

export const SHAPE_CENTRE: Vec3 = [3.3, -21.7, 48.1];

/** The three test shapes. */
export function analyticShapes(): AnalyticShape[] {
  const tip = (deg: number): Vec3 => [Math.cos((deg * Math.PI) / 180), 0, Math.sin((deg * Math.PI) / 180)];
  return [
    sphere(SHAPE_CENTRE, 40),
    ellipsoid(SHAPE_CENTRE, [55, 40, 20], rotation(12, -8, 25), 'oblate ellipsoid 55×40×20 mm tipped ~14°'),
    capsule(SHAPE_CENTRE, rotation(0, 0, 30).map((c) => dot(c, tip(15))) as Vec3, 45, 12, 'capsule r 12 mm, axis 15° out of the slice plane'),
  ];
}

/** Axis-aligned (LPS) grid with the given spacing covering ±halfWidthMm around SHAPE_CENTRE, off-centre by a fraction of a voxel. */
export function gridAround(spacing: Vec3, halfWidthMm = 66): { dims: Vec3; affine: ReturnType<typeof composeAffine> } {
  const dims = spacing.map((s) => Math.ceil((2 * halfWidthMm) / s)) as Vec3;
  const origin = [0, 1, 2].map((a) => SHAPE_CENTRE[a] - spacing[a] * ((dims[a] - 1) / 2 + 0.29)) as Vec3;
  return { dims, affine: composeAffine(origin, spacing, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]) };
}

/** Label 1 wherever a voxel centre lies inside the shape. */
export function voxelise(shape: AnalyticShape, grid: { dims: Vec3; affine: LabelMap['affine'] }): LabelMap {
  const { dims, affine } = grid;
  const data = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0, n = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, n++) {
        const p = [0, 1, 2].map((r) => affine[r * 4] * i + affine[r * 4 + 1] * j + affine[r * 4 + 2] * k + affine[r * 4 + 3]) as Vec3;
        if (shape.inside(p)) data[n] = 1;
      }
    }
  }
  return { dims, affine, data };
}

export interface SurfaceError {
  /** RMS and 95th percentile of |distance| from each vertex to the true surface, mm. */
  rmsMm: number;
  p95Mm: number;
  /** RMS and 95th percentile of the angle between each vertex normal and the true normal, degrees. */
  normalRmsDeg: number;
  normalP95Deg: number;
  vertices: number;
  /**
   * The same RMS figures over the gently sloping part only (true normal within 30° of the slice
   * normal, ±S), where the staircase shows as terraces.
   */
  shallow: { rmsMm: number; normalRmsDeg: number; vertices: number };
}

function percentile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** Distances and normal angles of a mesh (LPS mm, with normals) against the true shape. */
export function surfaceError(mesh: TriangleMesh, shape: AnalyticShape): SurfaceError {
  const p = mesh.positions;
  const n = mesh.normals!;
  const dist: number[] = [];
  const ang: number[] = [];
  const shallowDist: number[] = [];
  const shallowAng: number[] = [];
  const cos30 = Math.cos(Math.PI / 6);
  for (let v = 0; v < p.length; v += 3) {
    const near = shape.nearest([p[v], p[v + 1], p[v + 2]]);
    dist.push(Math.abs(near.distance));
    const c = Math.max(-1, Math.min(1, near.normal[0] * n[v] + near.normal[1] * n[v + 1] + near.normal[2] * n[v + 2]));
    ang.push((Math.acos(c) * 180) / Math.PI);
    if (Math.abs(near.normal[2]) >= cos30) {
      shallowDist.push(dist[dist.length - 1]);
      shallowAng.push(ang[ang.length - 1]);
    }
  }
  const rms = (a: number[]) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / Math.max(1, a.length));
  return {
    rmsMm: rms(dist),
    p95Mm: percentile(dist, 0.95),
    normalRmsDeg: rms(ang),
    normalP95Deg: percentile(ang, 0.95),
    vertices: p.length / 3,
    shallow: { rmsMm: rms(shallowDist), normalRmsDeg: rms(shallowAng), vertices: shallowDist.length },
  };
}

const SPEC: StructureSpec = { label: 1, name: 'shape', displayName: 'Shape', group: 'organ', color: '#c08060' };

/** The finished mesh of label 1 (extractSurface → finishSurface); `simplifierReady()` must have resolved. */
export function meshLabelOne(labels: LabelMap, options: StructureMeshOptions = {}) {
  const extent = labelBoundingBoxes(labels).find((e) => e.label === 1)!;
  const surface = extractSurface(labels, extent, options);
  return { surface, finished: finishSurface(surface, SPEC, options) };
}

/** The two grids of the smoothness measurements: 3 mm isotropic, and 0.98 × 0.98 × 2.5 mm. */
export const MEASURED_GRIDS: { name: string; spacing: Vec3 }[] = [
  { name: '3 mm isotropic', spacing: [3, 3, 3] },
  { name: '0.98×0.98×2.5 mm', spacing: [0.98, 0.98, 2.5] },
];
