/**
 * The editor's label table: the structures of the model on screen (label value, names, colour,
 * tissue group), plus structures added in this session and not saved yet; and new structures from
 * the anatomy catalogue or a free name.
 */
import { describeStructure, GROUP_COLORS } from '../../../models/anatomy.ts';
import type { CaseStructure } from '../caseStructures.ts';
import { freeLabel, type LabelEntry } from './editState.ts';

/** The table for a (new) model, keeping unsaved additions whose label the model does not use. */
export function labelTableFrom(structures: readonly Pick<CaseStructure, 'label' | 'name' | 'displayName' | 'color' | 'group'>[], previous: Record<number, LabelEntry>): Record<number, LabelEntry> {
  const table: Record<number, LabelEntry> = {};
  for (const s of structures) if (s.label > 0) table[s.label] = { label: s.label, name: s.name, displayName: s.displayName, color: s.color, group: s.group };
  for (const e of Object.values(previous)) if (e.added && !table[e.label]) table[e.label] = e;
  return table;
}

/** A machine name from what a person typed: lower case, words joined by `_`. */
export function structureName(typed: string): string {
  return typed
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * A new entry: a catalogue name takes the catalogue's display name, group and colour (unless a colour
 * is given); a free name lands in the `other` group with the given colour.
 * Throws when the name is empty or already in the table.
 */
export function newLabelEntry(table: Record<number, LabelEntry>, typed: string, color?: string): LabelEntry {
  const name = structureName(typed);
  if (!name) throw new Error('give the structure a name');
  if (Object.values(table).some((e) => e.name === name)) throw new Error(`the case already has a structure named ${name}`);
  const known = describeStructure(name);
  return {
    label: freeLabel(table),
    name,
    displayName: known.known ? known.displayName : typed.trim(),
    color: color ?? (known.known ? known.color : GROUP_COLORS.other),
    group: known.known ? known.group : 'other',
    added: true,
  };
}
