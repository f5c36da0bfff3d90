'use client';
/**
 * Milestones of a page load for browser tests and benchmarks (`window.__holocaseTimings`), recorded
 * only when the page's URL carries `?testhook=1`. Kept apart from `TestHook.tsx` so that the parts of
 * the page without 3D (the slice views) record them without loading three.js.
 */

export function isTestHookEnabled(): boolean {
  return typeof window !== 'undefined' && new URLSearchParams(window.location.search).get('testhook') === '1';
}

/** Milestones of a page load, `performance.now()` milliseconds. */
export interface ViewerTimings {
  loadStart?: number;
  loaded?: number;
  firstFrame?: number;
  /** The CT's coarse level arrived. */
  ctCoarse?: number;
  /** All three slice views drew the CT for the first time. */
  firstSlices?: number;
  /** Every full-resolution slab of the CT arrived. */
  ctComplete?: number;
  labelsLoaded?: number;
}

/** Records a load milestone when the test hook is on (first value wins). */
export function recordTiming(name: keyof ViewerTimings): void {
  if (!isTestHookEnabled()) return;
  const w = window as Window & { __holocaseTimings?: ViewerTimings };
  const t = (w.__holocaseTimings ??= {});
  t[name] ??= performance.now();
}
