/**
 * All structures of a case, meshed on the calling thread at the desktop level of detail: the
 * isomorphic reference for `meshLabelMap` (which runs the same two steps on worker threads in Node,
 * for both levels).
 *
 *   label map + structure specs → per-structure surfaces → shared triangle budget → finished meshes
 *
 * Isomorphic: no Node built-ins here.
 */
import { labelBoundingBoxes, type LabelExtent } from './boundingBoxes.ts';
import { bodyCentre } from './coordinates.ts';
import { LEVEL_BUDGETS } from './detailLevels.ts';
import type { LabelMap, Vec3 } from './grid.ts';
import { simplifierReady } from './simplify.ts';
import type { MeshedStructure, StructureMesh, StructureSpec } from './structure.ts';
import { extractSurface, finishSurface, STRUCTURE_MESH_DEFAULTS, surfaceTriangles, type StructureMeshOptions } from './structureMesh.ts';
import { finishWithinBudget } from './triangleBudget.ts';
import { withDefaults } from './withDefaults.ts';

export interface CaseMeshOptions extends StructureMeshOptions {
  /** Triangles for the whole case, shared between structures in proportion to surface area. */
  maxTriangles?: number;
}

export const CASE_MESH_DEFAULTS = { maxTriangles: LEVEL_BUDGETS.desktop.maxTriangles };

export interface CaseMeshes {
  /** In the order of `structures`, only those present in the label map. */
  meshes: StructureMesh[];
  structures: MeshedStructure[];
  /** The body's centre (see `bodyCentre`), LPS mm: the origin of the glTF frame. */
  centerLpsMm: Vec3;
  /** Labels present in the map but not in the structure list (not meshed), and similar notes. */
  warnings: string[];
}

/** The structures present in a label map, paired with their extents, and what was left out. */
export function matchStructures(extents: readonly LabelExtent[], structures: readonly StructureSpec[]): { pairs: { spec: StructureSpec; extent: LabelExtent }[]; warnings: string[] } {
  const byLabel = new Map(extents.map((e) => [e.label, e]));
  const pairs: { spec: StructureSpec; extent: LabelExtent }[] = [];
  const seen = new Set<number>();
  for (const spec of structures) {
    const extent = byLabel.get(spec.label);
    if (!extent || seen.has(spec.label)) continue;
    seen.add(spec.label);
    pairs.push({ spec, extent });
  }
  const unknown = extents.filter((e) => !seen.has(e.label)).map((e) => e.label);
  const warnings = unknown.length
    ? [`label value${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} in the label map ${unknown.length > 1 ? 'are' : 'is'} not in the label table and ${unknown.length > 1 ? 'were' : 'was'} not meshed`]
    : [];
  return { pairs, warnings };
}

/**
 * 1. Find each label's box and voxel count (one pass) and pair them with the specs.
 * 2. Extract, smooth and simplify every surface to the error budget.
 * 3. Share the triangle budget; finish every surface under its cap (see `finishWithinBudget`).
 * 4. The body's centre from all finished meshes.
 */
export async function buildCaseMeshes(labels: LabelMap, structures: readonly StructureSpec[], options: CaseMeshOptions = {}): Promise<CaseMeshes> {
  const { maxTriangles, minTriangles } = withDefaults({ ...CASE_MESH_DEFAULTS, minTriangles: STRUCTURE_MESH_DEFAULTS.minTriangles }, options);
  await simplifierReady();
  // 1. Extents.
  const { pairs, warnings } = matchStructures(labelBoundingBoxes(labels), structures);
  // 2. Surfaces.
  const surfaces = pairs.map(({ extent }) => extractSurface(labels, extent, options));
  // 3. Budget and finish.
  const meshes = await finishWithinBudget(
    surfaces.map((s) => ({ area: s.areaMm2, wanted: surfaceTriangles(s, 'desktop') })),
    { maxTriangles, minTriangles },
    async (i, cap) => finishSurface(surfaces[i], pairs[i].spec, { ...options, maxTriangles: cap }),
    (m) => m.structure.triangles,
  );
  // 4. Centre.
  return {
    meshes,
    structures: meshes.map((m) => m.structure),
    centerLpsMm: bodyCentre(meshes.map((m) => m.mesh)),
    warnings,
  };
}
