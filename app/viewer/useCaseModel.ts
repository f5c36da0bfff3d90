'use client';
/**
 * Loads a case GLB for a viewer: progress while loading, the model when done, or why it failed. When
 * the URL changes (a new revision's hologram), the model on screen stays until the new one is ready
 * and is then swapped in place: the canvas, and an XR session in it, carry on.
 */
import { useEffect, useState } from 'react';
import type { CaseModelData } from './caseStructures.ts';
import { loadCaseGlb } from './loadCaseGlb.ts';
import { recordTiming } from './testTimings.ts';

export type CaseModelLoad =
  | { status: 'loading'; fraction: number | null; loadedBytes: number }
  | { status: 'ready'; model: CaseModelData; url: string; updating: boolean; updateError?: string }
  | { status: 'failed'; error: string };

/** Loads `url` once `start` is true (a page may hold the hologram back for something more urgent). */
export function useCaseModel(url: string, expectedBytes?: number, start = true): CaseModelLoad {
  const [load, setLoad] = useState<CaseModelLoad>({ status: 'loading', fraction: 0, loadedBytes: 0 });
  useEffect(() => {
    if (!start) return;
    let current = true;
    // A model already on screen stays there while its successor loads.
    setLoad((previous) => (previous.status === 'ready' ? { ...previous, updating: true, updateError: undefined } : { status: 'loading', fraction: 0, loadedBytes: 0 }));
    recordTiming('loadStart');
    loadCaseGlb(url, {
      expectedBytes,
      onProgress: (fraction, loadedBytes) => current && setLoad((previous) => (previous.status === 'ready' ? previous : { status: 'loading', fraction, loadedBytes })),
    }).then(
      (model) => {
        recordTiming('loaded');
        if (current) setLoad({ status: 'ready', model, url, updating: false });
      },
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (current) setLoad((previous) => (previous.status === 'ready' ? { ...previous, updating: false, updateError: message } : { status: 'failed', error: message }));
      },
    );
    return () => {
      current = false;
    };
  }, [url, expectedBytes, start]);
  return load;
}
