'use client';
/** Preset views, measurement mode and reset, above the 3D view. */
import { measuredDistanceMm, useViewer, useViewerStore, type ViewPreset } from './viewerStore.ts';

const PRESETS: { preset: ViewPreset; label: string; title: string }[] = [
  { preset: 'anterior', label: 'Front', title: 'Anterior view (patient facing you)' },
  { preset: 'posterior', label: 'Back', title: 'Posterior view' },
  { preset: 'right', label: 'Right', title: "View from the patient's right" },
  { preset: 'left', label: 'Left', title: "View from the patient's left" },
  { preset: 'superior', label: 'Top', title: 'Superior view (from above the head)' },
];

export function ViewToolbar() {
  const store = useViewerStore();
  const measuring = useViewer((s) => s.measure.active);
  const points = useViewer((s) => s.measure.points);
  const distance = measuredDistanceMm(points);
  const a = store.getState();
  return (
    <div className="view-toolbar" role="toolbar" aria-label="View">
      {PRESETS.map((p) => (
        <button key={p.preset} type="button" title={p.title} onClick={() => a.showView(p.preset)} data-testid={`view-${p.preset}`}>
          {p.label}
        </button>
      ))}
      <button type="button" className={measuring ? 'on' : ''} onClick={() => a.setMeasuring(!measuring)} data-testid="measure">
        {measuring ? 'Measuring…' : 'Measure'}
      </button>
      <button type="button" onClick={() => a.reset()} data-testid="reset">
        Reset
      </button>
      {measuring && (
        <span className="measure-readout" data-testid="measure-readout">
          {distance != null ? `${distance.toFixed(1)} mm` : points.length === 1 ? 'Click the second point' : 'Click the first point'}
        </span>
      )}
    </div>
  );
}
