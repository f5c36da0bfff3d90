/**
 * The hologram of a saved revision, at both levels of detail (desktop and headset, as a new case has):
 * only the structures the edit changed are meshed again (the same per-structure pipeline as a new case:
 * `meshLabelMap`); every other structure's surfaces are taken from the base revision's `meshes.bin` and
 * `meshes-xr.bin` and written into the new GLBs with them. Without a usable base (the model's own output
 * has no mesh cache), every structure is meshed.
 * A plain stage: files in, files out, no database, no HTTP — run in a worker thread by the server.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { Vec3 } from '../../mesh/grid.ts';
import { writeGlb } from '../../mesh/glbWriter.ts';
import type { StructureMesh, StructureSpec } from '../../mesh/structure.ts';
import { CASE_MESH_DEFAULTS } from '../../mesh/buildCaseMeshes.ts';
import { LEVEL_BUDGETS } from '../../mesh/detailLevels.ts';
import { bodyCentre } from '../../mesh/coordinates.ts';
import type { StageContext } from '../pipeline/context.ts';
import type { StructureReport } from '../pipeline/runCase.ts';
import { labelMapFromVolume } from '../mesh/labelMapFromVolume.ts';
import { meshLabelMap } from '../mesh/meshLabelMap.ts';
import { prepareGlbVariants, type GlbVariants } from '../store/glbVariants.ts';
import { readNifti } from '../volume/nifti.ts';
import { writeFileAtomically } from '../writeFileAtomically.ts';
import { readMeshCache, writeMeshCache } from './meshCache.ts';
import { REVISION_FILES, type RevisionStructures } from './revisionFiles.ts';

export interface MeshRevisionOptions extends StageContext {
  /** The revision's folder (labels and structure table in; GLB, mesh report and mesh cache out). */
  dir: string;
  /** The base revision's folder, whose cached surfaces are reused. */
  baseDir?: string;
  /** Labels whose voxels or appearance changed since the base (only these are meshed when a base is usable). */
  changed?: readonly number[];
  /** Triangle budget of the whole hologram (desktop level). */
  maxTriangles?: number;
  /** Triangle budget of the headset's level. */
  xrMaxTriangles?: number;
  /**
   * Mesh worker threads when many structures are meshed (a whole revision); a few (a usual edit) are
   * meshed on this thread, since a worker costs seconds to start.
   */
  workers?: number;
  /** Up to this many structures are meshed on this thread. */
  inlineStructures?: number;
}

export const MESH_REVISION_DEFAULTS = { maxTriangles: CASE_MESH_DEFAULTS.maxTriangles, xrMaxTriangles: LEVEL_BUDGETS.xr.maxTriangles, workers: availableParallelism(), inlineStructures: 3 };

export interface MeshRevisionResult extends GlbVariants {
  structures: StructureReport[];
  /** Labels meshed now (the others came from the base). */
  meshed: number[];
  reused: number[];
  centerLpsMm: Vec3;
  triangles: number;
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/**
 * 1. Read the label map and structure table.
 * 2. Reuse the base's surfaces of unchanged structures (same label, name and colour).
 * 3. Mesh the rest with what is left of the triangle budget.
 * 4. One GLB per level around the base's centre (the scene does not jump), mesh report and caches;
 *    compressed copies.
 */
export async function meshRevision(options: MeshRevisionOptions): Promise<MeshRevisionResult> {
  const o = { ...MESH_REVISION_DEFAULTS, ...options };
  // 1. Inputs.
  const labels = labelMapFromVolume(await readNifti(path.join(o.dir, REVISION_FILES.labels)), 'the revision');
  const table = JSON.parse(await readFile(path.join(o.dir, REVISION_FILES.structures), 'utf8')) as RevisionStructures;
  const present = table.structures.filter((s) => s.voxels > 0);

  // 2. Reusable surfaces: a structure is kept only when the base has it at both levels.
  const usable = o.baseDir && o.changed;
  const base = usable ? await readMeshCache(path.join(o.baseDir!, REVISION_FILES.meshes)) : undefined;
  const baseXr = usable ? await readMeshCache(path.join(o.baseDir!, REVISION_FILES.xrMeshes)) : undefined;
  const baseReport = o.baseDir ? ((await readFile(path.join(o.baseDir, REVISION_FILES.mesh), 'utf8').then(JSON.parse, () => undefined)) as { centerLpsMm?: Vec3 } | undefined) : undefined;
  const changed = new Set(o.changed ?? []);
  const kept: StructureMesh[] = [];
  const keptXr: StructureMesh[] = [];
  const same = (old: StructureMesh | undefined, s: (typeof present)[number]) =>
    old !== undefined && old.structure.name === s.name && old.structure.color === s.color && old.structure.displayName === s.displayName;
  for (const s of present) {
    if (changed.has(s.label)) continue;
    const old = base?.find((m) => m.structure.label === s.label);
    const oldXr = baseXr?.find((m) => m.structure.label === s.label);
    if (same(old, s) && same(oldXr, s)) {
      kept.push(old!);
      keptXr.push(oldXr!);
    }
  }
  const keptLabels = new Set(kept.map((m) => m.structure.label));

  // 3. Mesh the others, with what is left of each level's triangle budget.
  const specs: StructureSpec[] = present
    .filter((s) => !keptLabels.has(s.label))
    .map((s) => ({ label: s.label, name: s.name, displayName: s.displayName, group: s.group as StructureSpec['group'], color: s.color }));
  const left = (budget: number, meshes: StructureMesh[]) => Math.max(10_000, budget - meshes.reduce((sum, m) => sum + m.structure.triangles, 0));
  const meshed = specs.length
    ? await meshLabelMap(labels, specs, {
        maxTriangles: left(o.maxTriangles, kept),
        xrMaxTriangles: left(o.xrMaxTriangles, keptXr),
        workers: specs.length <= o.inlineStructures ? 0 : o.workers,
        onProgress: o.onProgress,
        log: o.log,
        signal: o.signal,
      })
    : undefined;
  const fresh = meshed?.meshes ?? [];

  // 4. GLBs, report, caches.
  const order = new Map(present.map((s, i) => [s.label, i]));
  const inOrder = (meshes: StructureMesh[]) => meshes.sort((a, b) => order.get(a.structure.label)! - order.get(b.structure.label)!);
  const meshes = inOrder([...kept, ...fresh]);
  const xrMeshes = inOrder([...keptXr, ...(meshed?.xr.meshes ?? [])]);
  const centerLpsMm: Vec3 = baseReport?.centerLpsMm ?? bodyCentre(meshes.map((m) => m.mesh));
  await writeFileAtomically(path.join(o.dir, REVISION_FILES.glb), await writeGlb(meshes, { centerLpsMm }));
  await writeFileAtomically(path.join(o.dir, REVISION_FILES.xrGlb), await writeGlb(xrMeshes, { centerLpsMm }));
  await writeMeshCache(path.join(o.dir, REVISION_FILES.meshes), meshes);
  await writeMeshCache(path.join(o.dir, REVISION_FILES.xrMeshes), xrMeshes);
  const structures: StructureReport[] = meshes.map((m) => ({
    label: m.structure.label,
    name: m.structure.name,
    displayName: m.structure.displayName,
    group: m.structure.group,
    color: m.structure.color,
    voxelVolumeMl: round(m.structure.voxelVolumeMl),
    meshVolumeMl: round(m.structure.meshVolumeMl),
    surfaceCm2: round(m.structure.surfaceCm2),
    triangles: m.structure.triangles,
  }));
  const triangles = meshes.reduce((sum, m) => sum + m.structure.triangles, 0);
  await writeFileAtomically(path.join(o.dir, REVISION_FILES.mesh), JSON.stringify({ structures, centerLpsMm, triangles }));
  const variants = await prepareGlbVariants(o.dir);
  return { ...variants, structures, meshed: fresh.map((m) => m.structure.label), reused: [...keptLabels], centerLpsMm, triangles };
}
