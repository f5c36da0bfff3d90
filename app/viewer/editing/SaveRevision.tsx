'use client';
/** Saving the edited label map as a new revision, with a note; the hologram of it is made on the server. */
import { useState } from 'react';
import { useViewer, useViewerStore } from '../viewerStore.ts';
import { saveRevision } from './editActions.ts';
import { useEditSession } from './useEditSession.ts';

export function SaveRevision({ caseId, baseRevision, onSaved }: { caseId: string; baseRevision: number; onSaved: (revision: number) => void }) {
  const store = useViewerStore();
  const session = useEditSession();
  const unsaved = useViewer((s) => s.unsaved);
  const [note, setNote] = useState('');
  const [state, setState] = useState<{ busy: boolean; text: string | null; error: boolean }>({ busy: false, text: null, error: false });
  const save = async () => {
    if (!session) return;
    setState({ busy: true, text: 'Saving…', error: false });
    try {
      const revision = await saveRevision(store, session, caseId, baseRevision, note.trim());
      setNote('');
      onSaved(revision);
      setState({ busy: false, text: `Saved as revision ${revision}; its hologram is being made`, error: false });
    } catch (e) {
      setState({ busy: false, text: e instanceof Error ? e.message : String(e), error: true });
    }
  };
  return (
    <div className="save-revision">
      <input type="text" placeholder="Note (what was corrected)" value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} aria-label="Note" data-testid="revision-note" />
      <button type="button" className="primary" disabled={!unsaved || state.busy} onClick={save} data-testid="save-revision">
        Save revision
      </button>
      {state.text && (
        <p className={state.error ? 'error small-text' : 'muted small-text'} role={state.error ? 'alert' : 'status'} data-testid="save-status">
          {state.text}
        </p>
      )}
    </div>
  );
}
