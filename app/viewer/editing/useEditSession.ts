'use client';
/**
 * The edit session of the label map on screen: a new one (empty history, no seeds) whenever another
 * label map is loaded, handed to the slice views and panels through `EditSessionContext`.
 */
import { createContext, useContext, useMemo } from 'react';
import type { LabelVolume } from '../slices/labelVolume.ts';
import type { ViewerStore } from '../viewerStore.ts';
import { createEditSession, isUnsaved, type EditSession } from './editSession.ts';

export const EditSessionContext = createContext<EditSession | null>(null);

/** A session for `labels` (the same one until the map itself changes). */
export function useNewEditSession(labels: LabelVolume | null): EditSession | null {
  return useMemo(() => (labels ? createEditSession(labels) : null), [labels]);
}

/** The surrounding viewer's edit session (null until a label map is loaded). */
export function useEditSession(): EditSession | null {
  return useContext(EditSessionContext);
}

/** Tells the store the undo/redo depth and whether the map differs from its revision. */
export function syncHistory(store: ViewerStore, session: EditSession): void {
  store.getState().setHistory(session.history.depth(), isUnsaved(session));
}
