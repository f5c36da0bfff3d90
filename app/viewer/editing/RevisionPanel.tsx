'use client';
/**
 * The case's revisions, newest first: who saved each and when, its note, which structures changed by
 * how much; any of them can be looked at (read-only, in the slice views) or restored (a new revision
 * equal to it).
 */
import { useEffect, useState } from 'react';
import { api, formatDate, type RevisionView } from '../../ui/api.ts';
import { useViewer, useViewerStore } from '../viewerStore.ts';

export function RevisionPanel({ caseId, revision }: { caseId: string; revision: number }) {
  const store = useViewerStore();
  const viewing = useViewer((s) => s.viewingRevision);
  const unsaved = useViewer((s) => s.unsaved);
  const names = useViewer((s) => s.labelTable);
  const [list, setList] = useState<RevisionView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);

  useEffect(() => {
    if (!open) return;
    let current = true;
    api.revisions(caseId).then(
      (r) => current && setList(r.revisions),
      (e: Error) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
  }, [caseId, revision, open]);

  const restore = async (n: number) => {
    if (unsaved && !window.confirm('Restoring drops your unsaved edits. Restore anyway?')) return;
    setError(null);
    await api.restoreRevision(caseId, n, revision).then(
      () => store.getState().setViewingRevision(null),
      (e: Error) => setError(e.message),
    );
  };
  const view = (n: number | null) => {
    if (n !== null && unsaved && !window.confirm('Viewing another revision drops your unsaved edits. Continue?')) return;
    store.getState().setViewingRevision(n);
  };

  return (
    <div className="panel-box" role="group" aria-label="Revisions" data-testid="revisions">
      <button type="button" className="small panel-title" onClick={() => setOpen(!open)} aria-expanded={open} data-testid="revisions-toggle">
        Revisions {open ? '▾' : '▸'}
      </button>
      {open && error && (
        <p className="error small-text" role="alert">
          {error}
        </p>
      )}
      {open && list && (
        <ul className="revision-list">
          {list.map((r) => (
            <li key={r.revision} data-testid={`revision-${r.revision}`}>
              <span>
                <strong className={r.revision === revision ? 'current' : undefined}>{r.revision}</strong> {r.author ?? 'model'} · {formatDate(r.createdAt)}
                {r.note && <span className="muted"> · {r.note}</span>}
                {r.mesh !== 'ready' && <span className="muted"> · hologram {r.mesh}</span>}
                {r.changes.length > 0 && (
                  <span className="muted small-text">
                    {' '}
                    ({r.changes.map((c) => `${names[c.label]?.displayName ?? c.structure} ${signed(c.volumeMlAfter - c.volumeMlBefore)} mL`).join(', ')})
                  </span>
                )}
              </span>
              <span className="button-row">
                {r.revision !== revision && (
                  <>
                    <button type="button" className={viewing === r.revision ? 'small on' : 'small'} onClick={() => view(viewing === r.revision ? null : r.revision)} data-testid={`view-revision-${r.revision}`}>
                      View
                    </button>
                    <button type="button" className="small" onClick={() => restore(r.revision)} data-testid={`restore-revision-${r.revision}`}>
                      Restore
                    </button>
                  </>
                )}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function signed(ml: number): string {
  return `${ml >= 0 ? '+' : '−'}${Math.abs(ml).toFixed(1)}`;
}
