'use client';
/**
 * The overlay's colour of every label value, from the editor's label table, leaving out the
 * structures the user hid or isolated away in the structure panel. Recomputed only when one of those
 * changes.
 */
import { isStructureVisible, type ViewerState } from '../viewerStore.ts';
import { labelColors } from './renderSlice.ts';

/** A function from the viewer state to its label colours, cached between calls with the same inputs. */
export function createOverlayColors(): (s: ViewerState) => Uint32Array {
  let key: unknown[] = [];
  let value: Uint32Array = new Uint32Array(1);
  return (s) => {
    const next = [s.labelTable, s.hidden, s.isolated, s.structures];
    if (next.every((k, n) => k === key[n])) return value;
    key = next;
    const byName = new Map(s.structures.map((x) => [x.name, x]));
    value = labelColors(
      Object.values(s.labelTable).map((e) => {
        const shown = byName.get(e.name);
        return { label: e.label, color: e.color, visible: !shown || isStructureVisible(s, e.name, shown.group) };
      }),
    );
    return value;
  };
}
