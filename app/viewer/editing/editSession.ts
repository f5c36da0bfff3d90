/**
 * One editing session on a loaded label map: brush strokes and erasing (each stroke one undo step),
 * seeds for grow from seeds, a grow preview that can be accepted (one undo step) or discarded, and
 * whether the map still equals the revision it came from. Plain functions over a session object;
 * `useEditSession` ties them to the viewer store. Isomorphic.
 */
import { spacingOf, type Vec3 } from '../../../mesh/grid.ts';
import type { CtVolume } from '../slices/ctVolume.ts';
import type { LabelVolume } from '../slices/labelVolume.ts';
import type { Box, BoxLayer } from '../slices/renderSlice.ts';
import type { SliceFrame } from '../slices/sliceGeometry.ts';
import { forEachBrushVoxel, forEachStrokeVoxel, type BrushShape } from './brush.ts';
import type { BrushState } from './editState.ts';
import { changeFromBefore, createEditHistory, type EditHistory, type LabelChange } from './editHistory.ts';
import { growBox } from './labelTransfer.ts';

/** Seed value of background strokes (a label no structure uses). */
export const BACKGROUND_SEED = 65535;

export type StrokeKind = 'paint' | 'erase' | 'seeds';

export interface GrowPreview extends BoxLayer {
  /** Label values that had seeds (the structures the preview changes). */
  grown: Set<number>;
}

export interface EditSession {
  labels: LabelVolume;
  history: EditHistory;
  /** `history.position()` when the map last equalled a stored revision. */
  savedPosition: number;
  /** Voxel index → seed value (a label, or `BACKGROUND_SEED`). */
  seeds: Map<number, number>;
  preview: GrowPreview | null;
  stroke: { kind: StrokeKind; value: number; shape: BrushShape; overwrite: boolean; before: Map<number, number>; last: Vec3 } | null;
}

export function createEditSession(labels: LabelVolume): EditSession {
  return { labels, history: createEditHistory(), savedPosition: 0, seeds: new Map(), preview: null, stroke: null };
}

export function isUnsaved(session: EditSession): boolean {
  return session.history.position() !== session.savedPosition;
}

export interface StrokeStart {
  kind: StrokeKind;
  /** Label painted or erased, or the seed value. */
  value: number;
  brush: BrushState;
  /** The view painted in (a disc in its plane unless the brush is a ball; seeds are always discs). */
  frame: SliceFrame;
  affine: number[];
  ct: CtVolume | null;
}

function touch(session: EditSession, index: number): void {
  const s = session.stroke!;
  const labels = session.labels.data;
  const current = labels[index];
  if (s.kind === 'seeds') {
    session.seeds.set(index, s.value);
    return;
  }
  if (s.kind === 'erase') {
    if (current !== s.value) return;
    if (!s.before.has(index)) s.before.set(index, current);
    labels[index] = 0;
    return;
  }
  if (current === s.value || (!s.overwrite && current !== 0)) return;
  if (!s.before.has(index)) s.before.set(index, current);
  labels[index] = s.value;
}

/** Starts a stroke at voxel `at` (continuous voxel coordinates) and stamps the brush there. */
export function beginStroke(session: EditSession, at: Vec3, start: StrokeStart): void {
  const shape: BrushShape = {
    dims: session.labels.dims,
    spacing: spacingOf(start.affine),
    radiusMm: start.brush.radiusMm,
    frame: start.brush.sphere && start.kind !== 'seeds' ? undefined : start.frame,
    huRange: start.kind === 'seeds' ? null : start.brush.huRange,
    ct: start.ct,
  };
  session.stroke = { kind: start.kind, value: start.value, shape, overwrite: start.brush.overwrite, before: new Map(), last: at };
  forEachBrushVoxel(at, shape, (index) => touch(session, index));
}

/** Continues the stroke to `at`. */
export function continueStroke(session: EditSession, at: Vec3): void {
  const s = session.stroke;
  if (!s) return;
  forEachStrokeVoxel(s.last, at, s.shape, (index) => touch(session, index));
  s.last = at;
}

/** Ends the stroke: what it changed becomes one undo step. */
export function endStroke(session: EditSession): void {
  const s = session.stroke;
  session.stroke = null;
  if (s && s.kind !== 'seeds') session.history.push(changeFromBefore(s.before, session.labels.data));
}

/** Applies a change computed elsewhere (a box from fill-between, islands, grow) as one undo step. */
export function applyChange(session: EditSession, change: LabelChange): void {
  const labels = session.labels.data;
  for (let n = 0; n < change.indices.length; n++) labels[change.indices[n]] = change.after[n];
  session.history.push(change);
}

/** The change that writes `values` (over `box`, x fastest) into the label map where they differ. */
export function changeFromBox(session: EditSession, box: Box, values: Uint16Array, accept: (value: number, current: number) => number): LabelChange {
  const [nx, ny] = session.labels.dims;
  const labels = session.labels.data;
  const indices: number[] = [];
  const before: number[] = [];
  const after: number[] = [];
  let n = 0;
  for (let k = box[2]; k < box[5]; k++) {
    for (let j = box[1]; j < box[4]; j++) {
      for (let i = box[0]; i < box[3]; i++, n++) {
        const index = i + j * nx + k * nx * ny;
        const current = labels[index];
        const next = accept(values[n], current);
        if (next === current) continue;
        indices.push(index);
        before.push(current);
        after.push(next);
      }
    }
  }
  return { indices: Uint32Array.from(indices), before: Uint16Array.from(before), after: Uint16Array.from(after) };
}

/**
 * What a grow preview does to a voxel: the grown structure it reached, where the voxel is background
 * or one of the grown structures; a grown structure's voxel the preview gives to the background
 * (`BACKGROUND_SEED`) becomes background; other structures are left alone.
 */
export function growAccept(grown: Set<number>): (value: number, current: number) => number {
  return (value, current) => {
    if (current !== 0 && !grown.has(current)) return current;
    return value !== BACKGROUND_SEED && grown.has(value) ? value : 0;
  };
}

/** Bounding box of the seeds, grown by `marginMm` and clamped to the grid (end exclusive), or null without seeds. */
export function seedBox(session: EditSession, affine: number[], marginMm: number): Box | null {
  if (session.seeds.size === 0) return null;
  const [nx, ny, nz] = session.labels.dims;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const index of session.seeds.keys()) {
    const p = [index % nx, Math.floor(index / nx) % ny, Math.floor(index / (nx * ny))];
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a], p[a]);
      hi[a] = Math.max(hi[a], p[a]);
    }
  }
  return growBox(lo, hi, spacingOf(affine).map((s) => Math.ceil(marginMm / s)), [nx, ny, nz]);
}

/** The seeds over `box` as uint16 (x fastest), for the grow request. */
export function seedsInBox(session: EditSession, box: Box): Uint16Array {
  const [nx, ny] = session.labels.dims;
  const bx = box[3] - box[0];
  const by = box[4] - box[1];
  const out = new Uint16Array(bx * by * (box[5] - box[2]));
  for (const [index, value] of session.seeds) {
    const i = (index % nx) - box[0];
    const j = (Math.floor(index / nx) % ny) - box[1];
    const k = Math.floor(index / (nx * ny)) - box[2];
    if (i >= 0 && j >= 0 && k >= 0 && i < bx && j < by && k < box[5] - box[2]) out[i + j * bx + k * bx * by] = value;
  }
  return out;
}
