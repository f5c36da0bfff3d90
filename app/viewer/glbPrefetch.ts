/**
 * A case GLB's bytes asked for ahead of the 3-D viewer's code (three.js is a chunk of its own, loaded
 * after the first CT slices are drawn): `loadCaseGlb` takes them from here instead of downloading
 * then. Kept apart from `loadCaseGlb.ts` so that the page can ask without loading three.js.
 */

const prefetched = new Map<string, Promise<ArrayBuffer>>();

/** Starts downloading the GLB at `url` now (same origin, cookies included); a failure is asked again later. */
export function prefetchCaseGlb(url: string): void {
  if (prefetched.has(url)) return;
  const bytes = fetch(url, { credentials: 'same-origin' }).then((response) => {
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    return response.arrayBuffer();
  });
  bytes.catch(() => prefetched.delete(url));
  prefetched.set(url, bytes);
}

/** The prefetched bytes of `url` (each taken once), or undefined when there are none or they failed. */
export function takePrefetchedGlb(url: string): Promise<ArrayBuffer | undefined> {
  const bytes = prefetched.get(url);
  prefetched.delete(url);
  return bytes ? bytes.catch(() => undefined) : Promise.resolve(undefined);
}
