'use client';
/**
 * Controls of the slice views: window presets and a custom width/level, the label overlay (on/off,
 * opacity, outlines), and which slice planes the 3D view and the hologram show.
 */
import { useViewer, useViewerStore } from '../viewerStore.ts';
import { WINDOW_PRESETS, type WindowPreset } from './renderSlice.ts';
import { SLICE_AXES } from './sliceGeometry.ts';

const PLANE_LABELS = { axial: 'Axial', coronal: 'Coronal', sagittal: 'Sagittal' } as const;

export function SliceControls() {
  const store = useViewerStore();
  const ctWindow = useViewer((s) => s.ctWindow);
  const overlay = useViewer((s) => s.overlay);
  const planes = useViewer((s) => s.planes3d);
  const a = store.getState();
  return (
    <div className="panel-box slice-controls" role="group" aria-label="CT slices">
      <span className="panel-title">CT window</span>
      <div className="button-row">
        {(Object.keys(WINDOW_PRESETS) as WindowPreset[]).map((p) => (
          <button key={p} type="button" className={ctWindow.preset === p ? 'small on' : 'small'} onClick={() => a.setWindowPreset(p)} data-testid={`window-${p}`}>
            {WINDOW_PRESETS[p].label}
          </button>
        ))}
      </div>
      <div className="field-row">
        <label>
          Width
          <input type="number" min={1} max={8000} value={Math.round(ctWindow.width)} onChange={(e) => a.setWindow({ center: ctWindow.center, width: Number(e.target.value) })} data-testid="window-width" />
        </label>
        <label>
          Level
          <input type="number" min={-2000} max={4000} value={Math.round(ctWindow.center)} onChange={(e) => a.setWindow({ center: Number(e.target.value), width: ctWindow.width })} data-testid="window-level" />
        </label>
      </div>
      <span className="panel-title">Labels</span>
      <div className="button-row">
        <label className="switch">
          <input type="checkbox" checked={overlay.visible} onChange={(e) => a.setOverlay({ visible: e.target.checked })} data-testid="overlay-toggle" />
          Overlay
        </label>
        <label className="switch">
          <input type="checkbox" checked={overlay.outline} onChange={(e) => a.setOverlay({ outline: e.target.checked })} data-testid="overlay-outline" />
          Outlines
        </label>
      </div>
      <label>
        Fill <span className="muted">{Math.round(overlay.opacity * 100)} %</span>
        <input type="range" min={0} max={1} step={0.05} value={overlay.opacity} onChange={(e) => a.setOverlay({ opacity: Number(e.target.value) })} data-testid="overlay-opacity" />
      </label>
      <span className="panel-title">Planes in 3D</span>
      <div className="button-row">
        {SLICE_AXES.map((axis) => (
          <label key={axis} className="switch">
            <input type="checkbox" checked={planes[axis]} onChange={() => a.togglePlane3d(axis)} data-testid={`plane3d-${axis}`} />
            {PLANE_LABELS[axis]}
          </label>
        ))}
      </div>
    </div>
  );
}
