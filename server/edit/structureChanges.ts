/**
 * What changed between two revisions' structure tables: per structure, its volume before and after,
 * for every structure whose voxels (`changedLabels`, from a voxel comparison) or whose name, display
 * name or colour changed, or that appeared or disappeared.
 */
import type { RevisionStructures } from './revisionFiles.ts';
import type { StructureChange } from './revisionRows.ts';

const round = (value: number) => Math.round(value * 100) / 100;

export function structureChanges(
  before: RevisionStructures,
  after: RevisionStructures,
  changedLabels?: ReadonlySet<number>,
): { changes: StructureChange[]; labels: number[] } {
  const old = new Map(before.structures.map((s) => [s.label, s]));
  const now = new Map(after.structures.map((s) => [s.label, s]));
  const labels = [...new Set([...old.keys(), ...now.keys()])].sort((a, b) => a - b);
  const changes: StructureChange[] = [];
  for (const label of labels) {
    const a = old.get(label);
    const b = now.get(label);
    const changed =
      !a || !b || changedLabels?.has(label) || a.name !== b.name || a.displayName !== b.displayName || a.color !== b.color ||
      (changedLabels === undefined && a.voxels !== b.voxels);
    if (!changed) continue;
    changes.push({ label, structure: (b ?? a)!.name, volumeMlBefore: round(a?.volumeMl ?? 0), volumeMlAfter: round(b?.volumeMl ?? 0) });
  }
  return { changes, labels: changes.map((c) => c.label) };
}
