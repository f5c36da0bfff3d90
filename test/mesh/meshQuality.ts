/**
 * How true a case's meshes are to the label map they were made from, per structure: triangles,
 * closedness, enclosed volume against the voxel volume, and the symmetric 95th-percentile Hausdorff
 * distance between the mesh and the voxel boundary (the faces between the structure's voxels and the
 * others). Used by the mesh tests and benchmarks, and by any benchmark that needs a per-structure
 * quality report of a whole pipeline (`meshQualityReport`).
 *
 * Distances are measured independently of the mesher: in the grid's frame scaled to millimetres,
 * (1) from points spread evenly over the mesh (by area) to the nearest voxel-boundary face, and (2)
 * from the centres of the voxel-boundary faces to the nearest mesh triangle, through a uniform grid of
 * triangles. Both directions are sampled (deterministically) when there are more than `maxSamples`.
 */
import { labelBoundingBoxes, type VoxelBox } from '../../mesh/boundingBoxes.ts';
import { applyAffine, invertAffine, spacingOf, voxelVolumeMm3, type LabelMap, type Vec3 } from '../../mesh/grid.ts';
import { checkEdges, enclosedVolume } from '../../mesh/meshMetrics.ts';
import type { StructureMesh } from '../../mesh/structure.ts';
import { faceCross, type TriangleMesh } from '../../mesh/triangleMesh.ts';

export interface SurfaceDistanceOptions {
  /** Most sample points per direction (the rest is sampled evenly). */
  maxSamples?: number;
  /** Distances beyond this (mm) are reported as this (a surface that far off fails anyway). */
  capMm?: number;
}

export const SURFACE_DISTANCE_DEFAULTS: Required<SurfaceDistanceOptions> = { maxSamples: 200_000, capMm: 20 };

export interface SurfaceDistances {
  /** 95th percentile of mesh → voxel boundary distances (mm). */
  meshToVoxelsP95Mm: number;
  /** 95th percentile of voxel boundary → mesh distances (mm). */
  voxelsToMeshP95Mm: number;
  /** The larger of the two: the symmetric 95 % Hausdorff distance (mm). */
  hausdorff95Mm: number;
  /** Largest distance found either way (mm, capped). */
  maxMm: number;
  /** Voxel-boundary faces of the structure. */
  boundaryFaces: number;
}

/** One structure of a case, measured against the label map. */
export interface StructureQuality {
  label: number;
  name: string;
  voxelVolumeMl: number;
  meshVolumeMl: number;
  /** (mesh − voxel) / voxel volume, per cent. */
  volumeErrorPct: number;
  triangles: number;
  watertight: boolean;
  hausdorff95Mm: number;
  /** `hausdorff95Mm` in voxels of the grid's smallest spacing. */
  hausdorff95Voxels: number;
  meshToVoxelsP95Mm: number;
  voxelsToMeshP95Mm: number;
  maxDistanceMm: number;
}

/**
 * Per structure meshed: volume error, triangles, closedness and surface distance against `labels`.
 * Structures are reported in the order given.
 */
export function meshQualityReport(labels: LabelMap, meshes: readonly StructureMesh[], options: SurfaceDistanceOptions = {}): StructureQuality[] {
  const boxes = new Map(labelBoundingBoxes(labels).map((e) => [e.label, e]));
  const minSpacing = Math.min(...spacingOf(labels.affine));
  const voxelMm3 = voxelVolumeMm3(labels.affine);
  return meshes.map(({ structure, mesh }) => {
    const extent = boxes.get(structure.label);
    const voxelMm = (extent?.voxels ?? 0) * voxelMm3;
    const meshMm = enclosedVolume(mesh);
    const d = extent ? surfaceDistances(labels, structure.label, mesh, { ...options, box: extent.box }) : undefined;
    return {
      label: structure.label,
      name: structure.name,
      voxelVolumeMl: round(voxelMm / 1000, 3),
      meshVolumeMl: round(meshMm / 1000, 3),
      volumeErrorPct: round(voxelMm > 0 ? ((meshMm - voxelMm) / voxelMm) * 100 : 0, 2),
      triangles: mesh.indices.length / 3,
      watertight: checkEdges(mesh).watertight,
      hausdorff95Mm: round(d?.hausdorff95Mm ?? Infinity, 3),
      hausdorff95Voxels: round((d?.hausdorff95Mm ?? Infinity) / minSpacing, 3),
      meshToVoxelsP95Mm: round(d?.meshToVoxelsP95Mm ?? Infinity, 3),
      voxelsToMeshP95Mm: round(d?.voxelsToMeshP95Mm ?? Infinity, 3),
      maxDistanceMm: round(d?.maxMm ?? Infinity, 3),
    };
  });
}

/**
 * Distances between a mesh (LPS mm) and the voxel boundary of `label`, both ways.
 *
 * 1. Into the grid's frame, scaled to mm along each axis (distances there are patient-space mm, since
 *    the affine's directions are orthonormal).
 * 2. Mesh → voxels: points spread by area over the triangles; for each, the nearest boundary face among
 *    the voxels around it (3³, then 5³, 7³ … until the best face found is nearer than the block's edge).
 * 3. Voxels → mesh: the centre of every boundary face (or an even sample); for each, the nearest
 *    triangle through a uniform grid of triangle boxes, searched in growing shells.
 */
export function surfaceDistances(labels: LabelMap, label: number, mesh: TriangleMesh, options: SurfaceDistanceOptions & { box?: VoxelBox } = {}): SurfaceDistances {
  const { maxSamples, capMm } = { ...SURFACE_DISTANCE_DEFAULTS, ...options };
  const [nx, ny, nz] = labels.dims;
  const data = labels.data;
  const s = spacingOf(labels.affine);
  const inside = (i: number, j: number, k: number) => i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz && data[i + nx * (j + ny * k)] === label;

  // 1. Mesh in scaled grid coordinates.
  const inverse = invertAffine(labels.affine);
  const q = new Float64Array(mesh.positions.length);
  for (let v = 0; v < q.length; v += 3) {
    const [i, j, k] = applyAffine(inverse, [mesh.positions[v], mesh.positions[v + 1], mesh.positions[v + 2]]);
    q[v] = i * s[0];
    q[v + 1] = j * s[1];
    q[v + 2] = k * s[2];
  }

  const [sx, sy, sz] = s;
  const minSpacing = Math.min(sx, sy, sz);
  const maxSpacing = Math.max(sx, sy, sz);
  const nearestFace = (x: number, y: number, z: number): number => {
    const ci = Math.round(x / sx);
    const cj = Math.round(y / sy);
    const ck = Math.round(z / sz);
    let best = Infinity;
    for (let r = 1; r * minSpacing <= capMm + maxSpacing; r++) {
      for (let k = ck - r; k <= ck + r; k++) {
        for (let j = cj - r; j <= cj + r; j++) {
          for (let i = ci - r; i <= ci + r; i++) {
            // Only the new shell.
            if (r > 1 && Math.abs(i - ci) < r && Math.abs(j - cj) < r && Math.abs(k - ck) < r) continue;
            if (!inside(i, j, k)) continue;
            // Distances to the six faces of voxel (i, j, k) that border the outside.
            const dx = axisGap(x, i, sx);
            const dy = axisGap(y, j, sy);
            const dz = axisGap(z, k, sz);
            for (let dir = -1; dir <= 1; dir += 2) {
              if (!inside(i + dir, j, k)) best = Math.min(best, (x - (i + 0.5 * dir) * sx) ** 2 + dy * dy + dz * dz);
              if (!inside(i, j + dir, k)) best = Math.min(best, dx * dx + (y - (j + 0.5 * dir) * sy) ** 2 + dz * dz);
              if (!inside(i, j, k + dir)) best = Math.min(best, dx * dx + dy * dy + (z - (k + 0.5 * dir) * sz) ** 2);
            }
          }
        }
      }
      // Faces of voxels outside the searched block are at least (r − ½) voxels away.
      if (Math.sqrt(best) <= (r - 0.5) * minSpacing) break;
    }
    return Math.min(Math.sqrt(best), capMm);
  };

  // 2. Mesh → voxels: area-weighted points, stratified along the cumulative area.
  const t = mesh.indices;
  const triangleCount = t.length / 3;
  const areas = new Float64Array(triangleCount);
  const cross = new Float64Array(3);
  let totalArea = 0;
  for (let f = 0; f < triangleCount; f++) {
    faceCross(q, t[3 * f] * 3, t[3 * f + 1] * 3, t[3 * f + 2] * 3, cross);
    areas[f] = Math.hypot(cross[0], cross[1], cross[2]) / 2;
    totalArea += areas[f];
  }
  const meshSamples = Math.min(maxSamples, Math.max(triangleCount, Math.ceil(totalArea / minSpacing ** 2)));
  const meshDistances = new Float64Array(meshSamples);
  {
    let f = 0;
    let before = 0;
    for (let n = 0; n < meshSamples; n++) {
      const target = ((n + 0.5) / meshSamples) * totalArea;
      while (f < triangleCount - 1 && before + areas[f] < target) before += areas[f++];
      // A point inside triangle f from two low-discrepancy coordinates (folded into the triangle).
      let u = (n * 0.7548776662466927) % 1;
      let w = (n * 0.5698402909980532) % 1;
      if (u + w > 1) [u, w] = [1 - u, 1 - w];
      const [a, b, c] = [t[3 * f] * 3, t[3 * f + 1] * 3, t[3 * f + 2] * 3];
      const x = q[a] + u * (q[b] - q[a]) + w * (q[c] - q[a]);
      const y = q[a + 1] + u * (q[b + 1] - q[a + 1]) + w * (q[c + 1] - q[a + 1]);
      const z = q[a + 2] + u * (q[b + 2] - q[a + 2]) + w * (q[c + 2] - q[a + 2]);
      meshDistances[n] = nearestFace(x, y, z);
    }
  }

  // 3. Voxels → mesh. Boundary faces first (counted, then sampled evenly).
  const box = options.box ?? { min: [0, 0, 0] as Vec3, max: [nx - 1, ny - 1, nz - 1] as Vec3 };
  const facePoints: number[] = [];
  let boundaryFaces = 0;
  let stride = 1;
  let nextTake = 0;
  for (let pass = 0; pass < 2; pass++) {
    let counter = 0;
    for (let k = box.min[2]; k <= box.max[2]; k++) {
      for (let j = box.min[1]; j <= box.max[1]; j++) {
        for (let i = box.min[0]; i <= box.max[0]; i++) {
          if (!inside(i, j, k)) continue;
          for (let axis = 0; axis < 3; axis++) {
            for (let dir = -1; dir <= 1; dir += 2) {
              if (inside(axis === 0 ? i + dir : i, axis === 1 ? j + dir : j, axis === 2 ? k + dir : k)) continue;
              if (pass === 0) {
                boundaryFaces++;
                continue;
              }
              if (counter++ < nextTake) continue;
              nextTake += stride;
              facePoints.push((i + (axis === 0 ? 0.5 * dir : 0)) * sx, (j + (axis === 1 ? 0.5 * dir : 0)) * sy, (k + (axis === 2 ? 0.5 * dir : 0)) * sz);
            }
          }
        }
      }
    }
    stride = Math.max(1, boundaryFaces / maxSamples);
  }
  const voxelDistances = nearestTriangleDistances(q, t, Float64Array.from(facePoints), maxSpacing * 2, capMm);

  const p95 = (values: Float64Array) => {
    if (values.length === 0) return Infinity;
    const sorted = Float64Array.from(values).sort();
    return sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))];
  };
  const meshToVoxelsP95Mm = p95(meshDistances);
  const voxelsToMeshP95Mm = p95(voxelDistances);
  let maxMm = 0;
  for (const d of meshDistances) maxMm = Math.max(maxMm, d);
  for (const d of voxelDistances) maxMm = Math.max(maxMm, d);
  return { meshToVoxelsP95Mm, voxelsToMeshP95Mm, hausdorff95Mm: Math.max(meshToVoxelsP95Mm, voxelsToMeshP95Mm), maxMm, boundaryFaces };
}

/**
 * For each point (x, y, z triples), the distance to the nearest triangle of (positions q, indices t),
 * capped at `capMm`. Triangles are binned by their boxes into cubic cells of side `cell`; a query
 * searches shells of cells around its own until the best distance is nearer than the shell.
 */
function nearestTriangleDistances(q: Float64Array, t: Uint32Array, points: Float64Array, cell: number, capMm: number): Float64Array {
  const out = new Float64Array(points.length / 3).fill(capMm);
  const triangleCount = t.length / 3;
  if (triangleCount === 0) return out;
  // Grid bounds from the mesh and the points.
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const arr of [q, points]) {
    for (let v = 0; v < arr.length; v += 3) {
      for (let a = 0; a < 3; a++) {
        lo[a] = Math.min(lo[a], arr[v + a]);
        hi[a] = Math.max(hi[a], arr[v + a]);
      }
    }
  }
  const dims = [0, 1, 2].map((a) => Math.max(1, Math.ceil((hi[a] - lo[a]) / cell) + 1));
  const cellOf = (x: number, a: number) => Math.min(dims[a] - 1, Math.max(0, Math.floor((x - lo[a]) / cell)));
  // CSR bins: count, then fill.
  const cellCount = dims[0] * dims[1] * dims[2];
  const start = new Uint32Array(cellCount + 1);
  let bins = new Uint32Array(0);
  let fill = new Uint32Array(0);
  const boxOf = (f: number) => {
    const r: number[] = [];
    for (let a = 0; a < 3; a++) {
      const x0 = q[t[3 * f] * 3 + a];
      const x1 = q[t[3 * f + 1] * 3 + a];
      const x2 = q[t[3 * f + 2] * 3 + a];
      r.push(cellOf(Math.min(x0, x1, x2), a), cellOf(Math.max(x0, x1, x2), a));
    }
    return r;
  };
  for (let pass = 0; pass < 2; pass++) {
    for (let f = 0; f < triangleCount; f++) {
      const [i0, i1, j0, j1, k0, k1] = boxOf(f);
      for (let k = k0; k <= k1; k++) for (let j = j0; j <= j1; j++) for (let i = i0; i <= i1; i++) {
        const c = i + dims[0] * (j + dims[1] * k);
        if (pass === 0) start[c + 1]++;
        else bins[fill[c]++] = f;
      }
    }
    if (pass === 0) {
      for (let c = 0; c < cellCount; c++) start[c + 1] += start[c];
      bins = new Uint32Array(start[cellCount]);
      fill = start.slice(0, cellCount);
    }
  }
  const stamp = new Int32Array(triangleCount).fill(-1);
  for (let n = 0; n < out.length; n++) {
    const x = points[3 * n];
    const y = points[3 * n + 1];
    const z = points[3 * n + 2];
    const ci = cellOf(x, 0);
    const cj = cellOf(y, 1);
    const ck = cellOf(z, 2);
    let best = capMm * capMm;
    for (let r = 0; (r - 1) * cell < capMm; r++) {
      for (let k = Math.max(0, ck - r); k <= Math.min(dims[2] - 1, ck + r); k++) {
        for (let j = Math.max(0, cj - r); j <= Math.min(dims[1] - 1, cj + r); j++) {
          for (let i = Math.max(0, ci - r); i <= Math.min(dims[0] - 1, ci + r); i++) {
            if (Math.max(Math.abs(i - ci), Math.abs(j - cj), Math.abs(k - ck)) !== r) continue;
            const c = i + dims[0] * (j + dims[1] * k);
            for (let b = start[c]; b < start[c + 1]; b++) {
              const f = bins[b];
              if (stamp[f] === n) continue;
              stamp[f] = n;
              const d = pointTriangleDistanceSquared(x, y, z, q, t[3 * f] * 3, t[3 * f + 1] * 3, t[3 * f + 2] * 3);
              if (d < best) best = d;
            }
          }
        }
      }
      // Triangles in cells beyond shell r are at least r cells away from the point's cell.
      if (Math.sqrt(best) <= r * cell) break;
    }
    out[n] = Math.min(Math.sqrt(best), capMm);
  }
  return out;
}
/** Squared distance from point p to triangle (a, b, c) given as offsets into q (Ericson, RTCD 5.1.5). */
function pointTriangleDistanceSquared(px: number, py: number, pz: number, q: Float64Array, a: number, b: number, c: number): number {
  const abx = q[b] - q[a];
  const aby = q[b + 1] - q[a + 1];
  const abz = q[b + 2] - q[a + 2];
  const acx = q[c] - q[a];
  const acy = q[c + 1] - q[a + 1];
  const acz = q[c + 2] - q[a + 2];
  const apx = px - q[a];
  const apy = py - q[a + 1];
  const apz = pz - q[a + 2];
  const d1 = abx * apx + aby * apy + abz * apz;
  const d2 = acx * apx + acy * apy + acz * apz;
  if (d1 <= 0 && d2 <= 0) return sq(apx, apy, apz);
  const bpx = px - q[b];
  const bpy = py - q[b + 1];
  const bpz = pz - q[b + 2];
  const d3 = abx * bpx + aby * bpy + abz * bpz;
  const d4 = acx * bpx + acy * bpy + acz * bpz;
  if (d3 >= 0 && d4 <= d3) return sq(bpx, bpy, bpz);
  const vc = d1 * d4 - d3 * d2;
  if (vc <= 0 && d1 >= 0 && d3 <= 0) {
    const v = d1 / (d1 - d3);
    return sq(apx - v * abx, apy - v * aby, apz - v * abz);
  }
  const cpx = px - q[c];
  const cpy = py - q[c + 1];
  const cpz = pz - q[c + 2];
  const d5 = abx * cpx + aby * cpy + abz * cpz;
  const d6 = acx * cpx + acy * cpy + acz * cpz;
  if (d6 >= 0 && d5 <= d6) return sq(cpx, cpy, cpz);
  const vb = d5 * d2 - d1 * d6;
  if (vb <= 0 && d2 >= 0 && d6 <= 0) {
    const w = d2 / (d2 - d6);
    return sq(apx - w * acx, apy - w * acy, apz - w * acz);
  }
  const va = d3 * d6 - d5 * d4;
  if (va <= 0 && d4 - d3 >= 0 && d5 - d6 >= 0) {
    const w = (d4 - d3) / (d4 - d3 + (d5 - d6));
    return sq(bpx - w * (q[c] - q[b]), bpy - w * (q[c + 1] - q[b + 1]), bpz - w * (q[c + 2] - q[b + 2]));
  }
  const denom = 1 / (va + vb + vc);
  const v = vb * denom;
  const w = vc * denom;
  return sq(apx - abx * v - acx * w, apy - aby * v - acy * w, apz - abz * v - acz * w);
}

function round(value: number, digits: number): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function sq(x: number, y: number, z: number): number {
  return x * x + y * y + z * z;
}

/** Distance along one axis from coordinate x to the extent of voxel index i (spacing s), 0 inside it. */
function axisGap(x: number, i: number, s: number): number {
  const lo = (i - 0.5) * s;
  const hi = (i + 0.5) * s;
  return x < lo ? lo - x : x > hi ? x - hi : 0;
}

/** The figures that decide whether a case's meshes are true (structures of at least 1 mL). */
export interface QualitySummary {
  structures: number;
  /** Structures of at least 1 mL (the ones held to the bar). */
  measured: number;
  /** Measured structures that are open, under 200 triangles, off by more than 3 % or 1 voxel. */
  failing: string[];
  worstHausdorff95Voxels: number;
  worstVolumeErrorPct: number;
  fewestTriangles: number;
}

export function summarizeQuality(report: readonly StructureQuality[]): QualitySummary {
  const measured = report.filter((s) => s.voxelVolumeMl >= 1);
  return {
    structures: report.length,
    measured: measured.length,
    failing: measured.filter((s) => !s.watertight || s.triangles < 200 || Math.abs(s.volumeErrorPct) > 3 || s.hausdorff95Voxels > 1).map((s) => s.name),
    worstHausdorff95Voxels: Math.max(0, ...measured.map((s) => s.hausdorff95Voxels)),
    worstVolumeErrorPct: Math.max(0, ...measured.map((s) => Math.abs(s.volumeErrorPct))),
    fewestTriangles: Math.min(...measured.map((s) => s.triangles)),
  };
}
