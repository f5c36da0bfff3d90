'use client';
/**
 * A read-only window into the running viewer for browser tests and the benchmark, present only when
 * the page's URL carries `?testhook=1`. Production pages never expose it.
 */
export function isTestHookEnabled(): boolean {
  return typeof window !== 'undefined' && new URLSearchParams(window.location.search).get('testhook') === '1';
}

/** Milestones of a page load, `performance.now()` milliseconds. */
export interface ViewerTimings {
  loadStart?: number;
  loaded?: number;
  firstFrame?: number;
}

type HookWindow = Window & { __holocaseTimings?: ViewerTimings };

/** Records a load milestone when the test hook is on (first value wins). */
export function recordTiming(name: keyof ViewerTimings): void {
  if (!isTestHookEnabled()) return;
  const w = window as HookWindow;
  const t = (w.__holocaseTimings ??= {});
  t[name] ??= performance.now();
}
