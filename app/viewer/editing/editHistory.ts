/**
 * Undo and redo of label-map edits. Each step keeps only the voxels it changed (index, value before,
 * value after), so a brush stroke costs a few kilobytes and a grow result a few megabytes; the
 * oldest steps are dropped when the history holds more than `maxVoxels` changed voxels.
 */
import type { LabelArray } from '../slices/labelVolume.ts';

/** The voxels one edit changed. */
export interface LabelChange {
  indices: Uint32Array;
  before: Uint16Array;
  after: Uint16Array;
}

export interface EditHistoryOptions {
  /** Changed voxels kept over all steps (10 bytes each). */
  maxVoxels?: number;
}

export const EDIT_HISTORY_DEFAULTS = { maxVoxels: 20_000_000 } satisfies Required<EditHistoryOptions>;

export interface EditHistory {
  /** Records an edit already applied to the label map (empty changes are ignored). */
  push(change: LabelChange): void;
  /** Reverts the last edit; false when there is none. */
  undo(labels: LabelArray): boolean;
  /** Applies again the last undone edit; false when there is none. */
  redo(labels: LabelArray): boolean;
  depth(): { undo: number; redo: number };
  /** A number that names the current state (equal numbers: equal maps), for "unsaved changes". */
  position(): number;
  clear(): void;
}

/** The change a map of voxel → value-before makes, given the map as it is now. */
export function changeFromBefore(before: Map<number, number>, labels: LabelArray): LabelChange {
  const indices = new Uint32Array(before.size);
  const was = new Uint16Array(before.size);
  const now = new Uint16Array(before.size);
  let n = 0;
  for (const [index, value] of before) {
    if (labels[index] === value) continue;
    indices[n] = index;
    was[n] = value;
    now[n] = labels[index];
    n++;
  }
  return { indices: indices.subarray(0, n), before: was.subarray(0, n), after: now.subarray(0, n) };
}

export function createEditHistory(options: EditHistoryOptions = {}): EditHistory {
  const { maxVoxels } = { ...EDIT_HISTORY_DEFAULTS, ...options };
  // Each step carries the state number it leads to, so equal numbers mean equal maps.
  let done: { change: LabelChange; state: number }[] = [];
  let undone: { change: LabelChange; state: number }[] = [];
  let state = 0;
  let counter = 0;
  // The state before the oldest step kept (steps dropped for room cannot be undone past).
  let base = 0;
  const apply = (labels: LabelArray, change: LabelChange, values: Uint16Array) => {
    for (let n = 0; n < change.indices.length; n++) labels[change.indices[n]] = values[n];
  };
  return {
    push(change) {
      if (change.indices.length === 0) return;
      state = ++counter;
      done.push({ change, state });
      undone = [];
      let total = done.reduce((sum, s) => sum + s.change.indices.length, 0);
      while (total > maxVoxels && done.length > 1) {
        const dropped = done.shift()!;
        total -= dropped.change.indices.length;
        base = dropped.state;
      }
    },
    undo(labels) {
      const step = done.pop();
      if (!step) return false;
      apply(labels, step.change, step.change.before);
      undone.push(step);
      state = done.length ? done[done.length - 1].state : base;
      return true;
    },
    redo(labels) {
      const step = undone.pop();
      if (!step) return false;
      apply(labels, step.change, step.change.after);
      done.push(step);
      state = step.state;
      return true;
    },
    depth: () => ({ undo: done.length, redo: undone.length }),
    position: () => state,
    clear() {
      done = [];
      undone = [];
      state = 0;
      counter = 0;
      base = 0;
    },
  };
}
