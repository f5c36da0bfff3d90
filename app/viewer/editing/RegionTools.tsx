'use client';
/**
 * Tools that work on a whole structure or region: fill between the slices painted, remove islands
 * (keep the largest piece, or drop pieces under a volume), and grow from seeds with its preview.
 */
import { useState } from 'react';
import { voxelVolumeMm3 } from '../../../mesh/grid.ts';
import { SLICE_AXES, type SliceAxis } from '../slices/sliceGeometry.ts';
import { useViewer, useViewerStore } from '../viewerStore.ts';
import { acceptGrow, clearSeeds, discardGrow, previewGrow, runLabelOperation } from './editActions.ts';
import { useEditSession } from './useEditSession.ts';

export function RegionTools({ caseId }: { caseId: string }) {
  const store = useViewerStore();
  const session = useEditSession();
  const grow = useViewer((s) => s.grow);
  const seedTarget = useViewer((s) => s.seedTarget);
  const [axis, setAxis] = useState<SliceAxis>('axial');
  const [minMl, setMinMl] = useState(1);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);

  const run = async (what: () => Promise<string>) => {
    setBusy(true);
    setMessage(null);
    try {
      setMessage({ text: await what(), error: false });
    } catch (e) {
      setMessage({ text: e instanceof Error ? e.message : String(e), error: true });
    } finally {
      setBusy(false);
    }
  };
  const grid = () => {
    const g = store.getState().grid;
    if (!g) throw new Error('the CT is still loading');
    return g;
  };

  if (!session) return null;
  return (
    <div className="region-tools">
      <div className="button-row">
        <button
          type="button"
          className="small"
          disabled={busy}
          onClick={() => run(async () => `${await runLabelOperation(store, session, caseId, { kind: 'fill-between', axis: grid().frames[axis].normal })} voxels filled`)}
          data-testid="fill-between"
        >
          Fill between slices
        </button>
        <select value={axis} onChange={(e) => setAxis(e.target.value as SliceAxis)} aria-label="Slices to fill between" className="small-select">
          {SLICE_AXES.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </div>
      <div className="button-row">
        <button type="button" className="small" disabled={busy} onClick={() => run(async () => `${await runLabelOperation(store, session, caseId, { kind: 'islands', mode: 'keep-largest' })} voxels removed`)} data-testid="keep-largest">
          Keep largest piece
        </button>
        <button
          type="button"
          className="small"
          disabled={busy}
          onClick={() =>
            run(async () => {
              const minVoxels = Math.max(1, Math.round((minMl * 1000) / voxelVolumeMm3(grid().affine)));
              return `${await runLabelOperation(store, session, caseId, { kind: 'islands', mode: 'remove-small', minVoxels })} voxels removed`;
            })
          }
          data-testid="remove-small"
        >
          Remove pieces under
        </button>
        <input type="number" min={0.01} step={0.1} value={minMl} onChange={(e) => setMinMl(Number(e.target.value))} aria-label="Smallest piece kept, mL" className="narrow-number" />
        <span className="muted small-text">mL</span>
      </div>
      <span className="panel-title">Grow from seeds</span>
      <div className="button-row">
        <label className="switch">
          <input type="radio" name="seed-target" checked={seedTarget === 'structure'} onChange={() => store.getState().setSeedTarget('structure')} />
          Structure
        </label>
        <label className="switch">
          <input type="radio" name="seed-target" checked={seedTarget === 'background'} onChange={() => store.getState().setSeedTarget('background')} data-testid="seed-background" />
          Background
        </label>
      </div>
      <div className="button-row">
        <button type="button" className="small" disabled={busy || grow.status === 'running'} onClick={() => run(async () => (await previewGrow(store, session, caseId), ''))} data-testid="grow-preview">
          Preview
        </button>
        <button type="button" className="small" disabled={grow.status !== 'preview'} onClick={() => acceptGrow(store, session)} data-testid="grow-accept">
          Accept
        </button>
        <button type="button" className="small" disabled={grow.status !== 'preview'} onClick={() => discardGrow(store, session)}>
          Discard
        </button>
        <button type="button" className="small" onClick={() => clearSeeds(store, session)}>
          Clear seeds
        </button>
      </div>
      {grow.message && <p className={grow.status === 'failed' ? 'error small-text' : 'muted small-text'} data-testid="grow-status">{grow.message}</p>}
      {message?.text && (
        <p className={message.error ? 'error small-text' : 'muted small-text'} role={message.error ? 'alert' : 'status'} data-testid="region-status">
          {message.text}
        </p>
      )}
    </div>
  );
}
