'use client';
/**
 * Loads a case GLB for a viewer: progress while loading, the model when done, or why it failed. When
 * the URL changes (another level of detail), the model already shown stays available as `previous`
 * until the new one is ready, so the scene (and an XR session in it) never goes blank.
 */
import { useEffect, useState } from 'react';
import type { CaseModelData } from './caseStructures.ts';
import { loadCaseGlb } from './loadCaseGlb.ts';
import { recordTiming } from './TestHook.tsx';

/** A loaded model and the URL it came from. */
export interface LoadedModel {
  model: CaseModelData;
  url: string;
}

export type CaseModelLoad =
  | { status: 'loading'; fraction: number | null; loadedBytes: number; previous: LoadedModel | null }
  | { status: 'ready'; model: CaseModelData; url: string; previous: null }
  | { status: 'failed'; error: string; previous: LoadedModel | null };

/** The model to draw: the one just loaded, or the one shown before while another loads (or failed). */
export function shownModel(load: CaseModelLoad): LoadedModel | null {
  return load.status === 'ready' ? { model: load.model, url: load.url } : load.previous;
}

export function useCaseModel(url: string, expectedBytes?: number): CaseModelLoad {
  const [load, setLoad] = useState<CaseModelLoad>({ status: 'loading', fraction: 0, loadedBytes: 0, previous: null });
  useEffect(() => {
    let current = true;
    setLoad((before) => ({ status: 'loading', fraction: 0, loadedBytes: 0, previous: shownModel(before) }));
    recordTiming('loadStart');
    loadCaseGlb(url, {
      expectedBytes,
      onProgress: (fraction, loadedBytes) => current && setLoad((before) => ({ status: 'loading', fraction, loadedBytes, previous: shownModel(before) })),
    }).then(
      (model) => {
        recordTiming('loaded');
        if (current) setLoad({ status: 'ready', model, url, previous: null });
      },
      (error: unknown) => current && setLoad((before) => ({ status: 'failed', error: error instanceof Error ? error.message : String(error), previous: shownModel(before) })),
    );
    return () => {
      current = false;
    };
  }, [url, expectedBytes]);
  return load;
}
