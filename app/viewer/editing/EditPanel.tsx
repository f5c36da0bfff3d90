'use client';
/**
 * The editing tools, for users who may edit the case: the structure to work on (or a new one), the
 * brush, eraser and seeds with their options, undo and redo, fill between slices, islands, grow from
 * seeds, and saving a new revision. Edits apply to the label map in the slice views; the hologram
 * follows once a revision is saved and meshed.
 */
import { useEffect, useState } from 'react';
import { useViewer, useViewerStore } from '../viewerStore.ts';
import { redo, undo } from './editActions.ts';
import { BrushOptions } from './BrushOptions.tsx';
import { RegionTools } from './RegionTools.tsx';
import { SaveRevision } from './SaveRevision.tsx';
import { StructurePicker } from './StructurePicker.tsx';
import { useEditSession } from './useEditSession.ts';
import type { EditTool } from './editState.ts';

export interface EditPanelProps {
  caseId: string;
  /** The case's current revision. */
  revision: number;
  /** The revision the label map on screen stands for (its edits are based on it). */
  baseRevision: number;
  /** A save of this page's edits became revision `n`. */
  onSaved: (revision: number) => void;
  /** Drops unsaved edits and loads the current revision. */
  onLoadCurrent: () => void;
}

const TOOLS: { tool: EditTool; label: string; title: string }[] = [
  { tool: 'navigate', label: 'Navigate', title: 'Clicks move the crosshair' },
  { tool: 'brush', label: 'Brush', title: 'Paint the structure' },
  { tool: 'eraser', label: 'Eraser', title: 'Erase the structure' },
  { tool: 'seeds', label: 'Seeds', title: 'Strokes for grow from seeds' },
];

export function EditPanel({ caseId, revision, baseRevision, onSaved, onLoadCurrent }: EditPanelProps) {
  const store = useViewerStore();
  const session = useEditSession();
  const tool = useViewer((s) => s.tool);
  const history = useViewer((s) => s.history);
  const viewing = useViewer((s) => s.viewingRevision);
  const unsaved = useViewer((s) => s.unsaved);
  const [open, setOpen] = useState(true);
  useUndoKeys();
  if (viewing !== null) {
    return (
      <div className="panel-box" data-testid="viewing-revision">
        <span className="panel-title">Revision {viewing}, read-only</span>
        <button type="button" className="small" onClick={() => store.getState().setViewingRevision(null)}>
          Back to the current revision
        </button>
      </div>
    );
  }
  return (
    <div className="panel-box edit-panel" role="group" aria-label="Edit the segmentation" data-testid="edit-panel">
      <button type="button" className="small panel-title" onClick={() => setOpen(!open)} aria-expanded={open}>
        Edit the segmentation {open ? '▾' : '▸'}
      </button>
      {open && (
        <>
          {baseRevision < revision && (
            <p className="error small-text" role="alert" data-testid="stale-revision">
              Revision {revision} was saved meanwhile; your edits are based on revision {baseRevision}.{' '}
              <button type="button" className="small" onClick={onLoadCurrent}>
                Load revision {revision} (drop my edits)
              </button>
            </p>
          )}
          <StructurePicker />
          <div className="button-row" role="toolbar" aria-label="Tool">
            {TOOLS.map((t) => (
              <button key={t.tool} type="button" title={t.title} className={tool === t.tool ? 'small on' : 'small'} onClick={() => store.getState().setTool(t.tool)} data-testid={`tool-${t.tool}`}>
                {t.label}
              </button>
            ))}
          </div>
          <BrushOptions />
          <div className="button-row">
            <button type="button" className="small" disabled={!session || history.undo === 0} onClick={() => session && undo(store, session)} data-testid="undo" title="Ctrl+Z">
              Undo
            </button>
            <button type="button" className="small" disabled={!session || history.redo === 0} onClick={() => session && redo(store, session)} data-testid="redo" title="Ctrl+Shift+Z">
              Redo
            </button>
            {unsaved && <span className="muted small-text">unsaved edits</span>}
          </div>
          <RegionTools caseId={caseId} />
          <SaveRevision caseId={caseId} baseRevision={baseRevision} onSaved={onSaved} />
        </>
      )}
    </div>
  );
}

/** Ctrl+Z / ⌘Z undoes, with Shift (or Ctrl+Y) redoes; not while typing in a field. */
function useUndoKeys() {
  const store = useViewerStore();
  const session = useEditSession();
  useEffect(() => {
    if (!session) return;
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || (e.target as HTMLElement)?.closest?.('input, textarea, select')) return;
      const key = e.key.toLowerCase();
      if (key === 'z' && !e.shiftKey) undo(store, session);
      else if ((key === 'z' && e.shiftKey) || key === 'y') redo(store, session);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [store, session]);
}
