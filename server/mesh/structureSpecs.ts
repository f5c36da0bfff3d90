/**
 * Structure specs for meshing from a label table: each name looked up in the anatomy catalogue for its
 * display name, tissue group and colour (unknown names get the catalogue's fallback).
 */
import { describeStructure } from '../../models/anatomy.ts';
import type { StructureSpec } from '../../mesh/structure.ts';

export function structureSpecs(table: readonly { label: number; name: string }[]): StructureSpec[] {
  return table.map(({ label, name }) => {
    const { known: _known, ...entry } = describeStructure(name);
    return { ...entry, label };
  });
}
