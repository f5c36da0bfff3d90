'use client';
/** Loads a case GLB for a viewer: progress while loading, the model when done, or why it failed. */
import { useEffect, useState } from 'react';
import type { CaseModelData } from './caseStructures.ts';
import { loadCaseGlb } from './loadCaseGlb.ts';
import { recordTiming } from './TestHook.tsx';

export type CaseModelLoad =
  | { status: 'loading'; fraction: number | null; loadedBytes: number }
  | { status: 'ready'; model: CaseModelData }
  | { status: 'failed'; error: string };

export function useCaseModel(url: string, expectedBytes?: number): CaseModelLoad {
  const [load, setLoad] = useState<CaseModelLoad>({ status: 'loading', fraction: 0, loadedBytes: 0 });
  useEffect(() => {
    let current = true;
    setLoad({ status: 'loading', fraction: 0, loadedBytes: 0 });
    recordTiming('loadStart');
    loadCaseGlb(url, {
      expectedBytes,
      onProgress: (fraction, loadedBytes) => current && setLoad({ status: 'loading', fraction, loadedBytes }),
    }).then(
      (model) => {
        recordTiming('loaded');
        if (current) setLoad({ status: 'ready', model });
      },
      (error: unknown) => current && setLoad({ status: 'failed', error: error instanceof Error ? error.message : String(error) }),
    );
    return () => {
      current = false;
    };
  }, [url, expectedBytes]);
  return load;
}
