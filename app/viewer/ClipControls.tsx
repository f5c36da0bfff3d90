'use client';
/** Controls of the cutting plane: on/off, position along its normal, turn and tilt. */
import type { CaseModelData } from './caseStructures.ts';
import { useViewer, useViewerStore } from './viewerStore.ts';

export interface ClipControlsProps {
  model: CaseModelData;
}

export function ClipControls({ model }: ClipControlsProps) {
  const store = useViewerStore();
  const clip = useViewer((s) => s.clip);
  const r = model.sphere.radius;
  const set = store.getState().setClip;
  return (
    <div className="clip-controls" role="group" aria-label="Cutting plane">
      <label className="switch clip-title">
        <input type="checkbox" checked={clip.enabled} onChange={(e) => set({ enabled: e.target.checked })} data-testid="clip-toggle" />
        Cutting plane
      </label>
      <label>
        Position <span className="muted">{(clip.offset * 1000).toFixed(0)} mm</span>
        <input type="range" min={-r} max={r} step={r / 200} value={clip.offset} disabled={!clip.enabled} onChange={(e) => set({ offset: Number(e.target.value) })} />
      </label>
      <label>
        Turn <span className="muted">{clip.yawDeg}°</span>
        <input type="range" min={-180} max={180} step={5} value={clip.yawDeg} disabled={!clip.enabled} onChange={(e) => set({ yawDeg: Number(e.target.value) })} />
      </label>
      <label>
        Tilt <span className="muted">{clip.pitchDeg}°</span>
        <input type="range" min={-90} max={90} step={5} value={clip.pitchDeg} disabled={!clip.enabled} onChange={(e) => set({ pitchDeg: Number(e.target.value) })} />
      </label>
    </div>
  );
}
