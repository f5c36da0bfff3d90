'use client';
/** The brush: radius in millimetres, a disc in the view's plane or a ball, a Hounsfield range, painting over other structures. */
import { useViewer, useViewerStore } from '../viewerStore.ts';

export function BrushOptions() {
  const store = useViewerStore();
  const brush = useViewer((s) => s.brush);
  const set = store.getState().setBrush;
  const range = brush.huRange;
  return (
    <div className="brush-options">
      <label>
        Brush radius <span className="muted">{brush.radiusMm.toFixed(1)} mm</span>
        <input type="range" min={0.5} max={30} step={0.5} value={brush.radiusMm} onChange={(e) => set({ radiusMm: Number(e.target.value) })} data-testid="brush-radius" />
      </label>
      <div className="button-row">
        <label className="switch">
          <input type="checkbox" checked={brush.sphere} onChange={(e) => set({ sphere: e.target.checked })} data-testid="brush-sphere" />
          3D ball
        </label>
        <label className="switch">
          <input type="checkbox" checked={brush.overwrite} onChange={(e) => set({ overwrite: e.target.checked })} data-testid="brush-overwrite" />
          Over other structures
        </label>
        <label className="switch">
          <input type="checkbox" checked={!!range} onChange={(e) => set({ huRange: e.target.checked ? [-100, 300] : null })} data-testid="brush-hu" />
          Only HU range
        </label>
      </div>
      {range && (
        <div className="field-row">
          <label>
            From HU
            <input type="number" value={range[0]} onChange={(e) => set({ huRange: [Number(e.target.value), range[1]] })} data-testid="brush-hu-low" />
          </label>
          <label>
            To HU
            <input type="number" value={range[1]} onChange={(e) => set({ huRange: [range[0], Number(e.target.value)] })} data-testid="brush-hu-high" />
          </label>
        </div>
      )}
    </div>
  );
}
