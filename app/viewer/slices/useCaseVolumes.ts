'use client';
/**
 * Loads a case's CT (coarse level first, then slabs nearest the crosshair first) and its label map for
 * the slice views, both inflated in a worker, and tells the store as data arrives so the views
 * redraw. The arrays themselves are handed out through `VolumeContext`, never put in the store.
 */
import { createContext, useContext, useEffect, useMemo, useState } from 'react';
import { recordTiming } from '../testTimings.ts';
import type { ViewerStore } from '../viewerStore.ts';
import { loadCtVolume, type CtVolume } from './ctVolume.ts';
import { loadLabelVolume, type LabelVolume } from './labelVolume.ts';
import { createVolumeWorker } from './volumeWorker.ts';

export interface VolumeUrls {
  /** Chunk manifest: `/api/cases/<id>/ct` or `/api/share/<token>/ct` (chunks are `<ct>/<n>`). */
  ct: string;
  /** Label map; a new URL (e.g. another `?revision=`) loads it again. */
  labels: string;
}

export interface CaseVolumes {
  ct: CtVolume | null;
  labels: LabelVolume | null;
  /** Why the CT or the label map could not be shown. */
  error: string | null;
  /** The CT's slabs are all in. */
  ctComplete: boolean;
}

/** Redraws while a volume streams in are limited to this rate (each redraw costs the main thread). */
const REDRAW_MS = 400;

/**
 * Loads the volumes of `urls` and reports their arrival to the viewer's `store`. The CT's coarse level
 * comes at once; its slabs and the label map wait for `loadDetail` (the page puts its first slices and
 * its hologram on screen before both cores go to inflating them).
 */
export function useCaseVolumes(urls: VolumeUrls | null, store: ViewerStore, loadDetail = true): CaseVolumes {
  const [ct, setCt] = useState<CtVolume | null>(null);
  const [ctComplete, setCtComplete] = useState(false);
  const [labels, setLabels] = useState<LabelVolume | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ctUrl = urls?.ct ?? null;
  const labelsUrl = urls?.labels ?? null;
  const [detail] = useState(() => {
    let go = () => {};
    const ready = new Promise<void>((resolve) => (go = resolve));
    return { ready, go };
  });
  useEffect(() => {
    if (loadDetail) detail.go();
  }, [loadDetail, detail]);

  // The CT: once per case.
  // A worker per download, ended when it is done: an idle worker never collects its garbage (the
  // inflating leaves a few hundred MB of it behind).
  useEffect(() => {
    if (!ctUrl) return;
    const abort = new AbortController();
    const worker = createVolumeWorker();
    let last = 0;
    setCt(null);
    setCtComplete(false);
    loadCtVolume(ctUrl, {
      signal: abort.signal,
      worker,
      focusK: () => store.getState().cursor?.[2] ?? 0,
      detailAfter: detail.ready,
      onChunk: (volume, chunk) => {
        if (chunk === 0) {
          store.getState().setGrid(volume.dims, volume.manifest.affine);
          setCt(volume);
          recordTiming('ctCoarse');
        }
        const now = performance.now();
        // The slab under the crosshair is shown at once; the others at most every REDRAW_MS.
        const focused = chunk > 0 && Math.floor((store.getState().cursor?.[2] ?? -1) / volume.manifest.slabs.depth) === chunk - 1;
        if (chunk === 0 || focused || now - last > REDRAW_MS || volume.slabsLoaded === volume.slabs.length) {
          last = now;
          store.getState().ctChanged();
        }
      },
    })
      .then(
        () => {
          recordTiming('ctComplete');
          setCtComplete(true);
        },
        (e: unknown) => !abort.signal.aborted && setError(e instanceof Error ? e.message : String(e)),
      )
      .finally(() => worker.close());
    return () => {
      abort.abort();
      worker.close();
    };
  }, [ctUrl, store, detail]);

  // The label map: again whenever its URL changes (another revision), once the grid is known.
  const dims = ct?.dims ?? null;
  useEffect(() => {
    if (!labelsUrl || !dims || !loadDetail) return;
    const abort = new AbortController();
    const worker = createVolumeWorker();
    loadLabelVolume(labelsUrl, dims, worker, abort.signal)
      .then(
        (volume) => {
          setLabels(volume);
          recordTiming('labelsLoaded');
          store.getState().labelsChanged();
        },
        (e: unknown) => !abort.signal.aborted && setError(e instanceof Error ? e.message : String(e)),
      )
      .finally(() => worker.close());
    return () => {
      abort.abort();
      worker.close();
    };
  }, [labelsUrl, dims, store, loadDetail]);

  return useMemo(() => ({ ct, labels, error, ctComplete }), [ct, labels, error, ctComplete]);
}

export const VolumeContext = createContext<CaseVolumes>({ ct: null, labels: null, error: null, ctComplete: false });

/** The CT and label map of the surrounding viewer (null until they arrive). */
export function useVolumes(): CaseVolumes {
  return useContext(VolumeContext);
}
