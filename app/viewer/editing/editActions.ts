'use client';
/**
 * What the editing panel's buttons do, as plain async functions of the viewer store, the edit session
 * and the case: undo and redo, fill between slices and islands (run by the server on the structure's
 * box, applied here as one undo step), grow from seeds (preview, accept, discard), and saving the map
 * as a new revision. Each returns nothing or throws an error whose message is written for people.
 */
import { api, ApiError } from '../../ui/api.ts';
import type { ViewerStore } from '../viewerStore.ts';
import { applyChange, changeFromBox, growAccept, seedBox, seedsInBox, type EditSession } from './editSession.ts';
import { boxVoxels, gunzipUint16, gzipUint16, labelBox, labelsInBox } from './labelTransfer.ts';
import { syncHistory } from './useEditSession.ts';

/** Margin around the seeds that grow from seeds may fill, in millimetres. */
const GROW_MARGIN_MM = 15;
/** The server refuses larger grow boxes (400³ voxels). */
const GROW_MAX_VOXELS = 400 ** 3;

function changed(store: ViewerStore, session: EditSession): void {
  syncHistory(store, session);
  store.getState().labelsChanged();
}

export function undo(store: ViewerStore, session: EditSession): void {
  if (session.history.undo(session.labels.data)) changed(store, session);
}

export function redo(store: ViewerStore, session: EditSession): void {
  if (session.history.redo(session.labels.data)) changed(store, session);
}

function activeLabel(store: ViewerStore): number {
  const label = store.getState().activeLabel;
  if (label === null) throw new Error('choose the structure to work on first');
  return label;
}

/**
 * Fill between slices or islands of the active structure.
 * 1. Cut the structure's bounding box out of the map.
 * 2. Let the server compute the result over the box.
 * 3. Apply what differs as one undo step.
 */
export async function runLabelOperation(
  store: ViewerStore,
  session: EditSession,
  caseId: string,
  op: { kind: 'fill-between'; axis: 0 | 1 | 2 } | { kind: 'islands'; mode: 'keep-largest' | 'remove-small'; minVoxels?: number },
): Promise<number> {
  const label = activeLabel(store);
  const { dims, data } = session.labels;
  const box = labelBox(data, dims, label);
  if (!box) throw new Error('the structure has no voxels yet: paint some first');
  const meta = op.kind === 'fill-between' ? { box, label, axis: op.axis } : { box, label, mode: op.mode, ...(op.minVoxels ? { minVoxels: op.minVoxels } : {}) };
  const { body } = await api.boxOperation(caseId, op.kind, meta, await gzipUint16(labelsInBox(data, dims, box)));
  const result = await gunzipUint16(body, boxVoxels(box));
  const change = changeFromBox(session, box, result, (value) => value);
  applyChange(session, change);
  changed(store, session);
  return change.indices.length;
}

/**
 * Grow from seeds: send the seeds (over their box plus a margin) and show the server's answer as a
 * preview over the label map until it is accepted or discarded.
 */
export async function previewGrow(store: ViewerStore, session: EditSession, caseId: string): Promise<void> {
  const s = store.getState();
  if (!s.grid) throw new Error('the CT is still loading');
  const box = seedBox(session, s.grid.affine, GROW_MARGIN_MM);
  const grown = new Set([...session.seeds.values()]);
  if (!box || grown.size < 2) throw new Error('paint seeds inside the structure and around it (background) first');
  if (boxVoxels(box) > GROW_MAX_VOXELS) throw new Error('the seeds are spread over too large a region; grow one area at a time');
  s.setGrow({ status: 'running', message: 'Growing…' });
  try {
    const meta = { box, ...(s.brush.huRange ? { huRange: s.brush.huRange } : {}) };
    const { body, headers } = await api.boxOperation(caseId, 'grow', meta, await gzipUint16(seedsInBox(session, box)));
    session.preview = { box, data: await gunzipUint16(body, boxVoxels(box)), grown };
    const stats = JSON.parse(headers.get('X-Holocase-Grow') ?? headers.get('X-Holocase-Edit') ?? '{}') as { ms?: number };
    s.setGrow({ status: 'preview', message: stats.ms ? `Preview ready (${(stats.ms / 1000).toFixed(1)} s on the server)` : 'Preview ready' });
  } catch (error) {
    s.setGrow({ status: 'failed', message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    s.labelsChanged();
  }
}

/** Writes the preview into the map (one undo step) and clears the seeds. */
export function acceptGrow(store: ViewerStore, session: EditSession): void {
  const preview = session.preview;
  if (!preview) return;
  applyChange(session, changeFromBox(session, preview.box, preview.data, growAccept(preview.grown)));
  session.preview = null;
  session.seeds.clear();
  store.getState().setGrow({ status: 'idle', message: null });
  changed(store, session);
}

export function discardGrow(store: ViewerStore, session: EditSession): void {
  session.preview = null;
  store.getState().setGrow({ status: 'idle', message: null });
  store.getState().labelsChanged();
}

export function clearSeeds(store: ViewerStore, session: EditSession): void {
  session.seeds.clear();
  discardGrow(store, session);
}

/**
 * Saves the map as a new revision based on `baseRevision`, naming the structures added here.
 * Returns the new revision's number. A 409 (someone saved first) says so in words.
 */
export async function saveRevision(store: ViewerStore, session: EditSession, caseId: string, baseRevision: number, note: string): Promise<number> {
  const s = store.getState();
  const structures = Object.fromEntries(
    Object.values(s.labelTable)
      .filter((e) => e.added)
      .map((e) => [String(e.label), { name: e.name, displayName: e.displayName, color: e.color }]),
  );
  try {
    const position = session.history.position();
    const saved = await api.saveRevision(caseId, { baseRevision, structures, ...(note ? { note } : {}) }, await gzipUint16(session.labels.data));
    session.savedPosition = position;
    s.markSaved();
    syncHistory(store, session);
    return saved.revision;
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      throw new Error(`${error.message} — load the newest revision, then make your change again`);
    }
    throw error;
  }
}
