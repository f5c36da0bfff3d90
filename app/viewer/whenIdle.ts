/**
 * Runs `callback` when the browser's main thread is idle (or after `timeoutMs` at most), for work the
 * first frame should not wait for; returns a function that cancels it. Browsers without
 * `requestIdleCallback` run it after a short delay.
 */
export function whenIdle(callback: () => void, timeoutMs: number): () => void {
  if (typeof window.requestIdleCallback === 'function') {
    const id = window.requestIdleCallback(callback, { timeout: timeoutMs });
    return () => window.cancelIdleCallback(id);
  }
  const id = window.setTimeout(callback, 50);
  return () => window.clearTimeout(id);
}
