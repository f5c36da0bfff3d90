'use client';
/** The three slice views side by side, with how far the CT has arrived while it streams in. */
import { useCallback, useRef } from 'react';
import { recordTiming } from '../testTimings.ts';
import { SLICE_AXES, type SliceAxis } from './sliceGeometry.ts';
import { SliceView } from './SliceView.tsx';
import { useVolumes } from './useCaseVolumes.ts';
import { useViewer, useViewerStore } from '../viewerStore.ts';

export function SliceViews() {
  const { ct, error, ctComplete } = useVolumes();
  // Re-render as slabs arrive, for the progress line.
  useViewer((s) => s.ctVersion);
  // The load milestone: all three views have drawn the CT.
  const store = useViewerStore();
  const drawn = useRef(new Set<SliceAxis>());
  const onFirstDraw = useCallback(
    (axis: SliceAxis) => {
      drawn.current.add(axis);
      if (drawn.current.size < SLICE_AXES.length) return;
      recordTiming('firstSlices');
      store.getState().setSlicesShown();
    },
    [store],
  );
  return (
    <>
      {SLICE_AXES.map((axis) => (
        <SliceView key={axis} axis={axis} onFirstDraw={onFirstDraw} />
      ))}
      <p className="slice-status muted" data-testid="ct-status" data-complete={ctComplete ? 'true' : 'false'} role={error ? 'alert' : 'status'}>
        {error ? <span className="error">{error}</span> : !ct ? 'Loading the CT…' : ctComplete ? '' : `CT: full detail ${ct.slabsLoaded} of ${ct.slabs.length} parts`}
      </p>
    </>
  );
}
