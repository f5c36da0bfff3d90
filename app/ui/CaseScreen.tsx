'use client';
/**
 * `/cases/<id>`: the case's state (live while processing; why, when it failed), then the 3D viewer
 * with the CT slice views (and the editing tools for users who may edit), the case details and
 * sharing. New revisions and validations arrive through the case's event stream.
 */
import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { AppHeader } from './AppHeader.tsx';
import { api, formatDate, type CaseDetail } from './api.ts';
import { ClientCaseViewer } from './ClientCaseViewer.tsx';
import { JobProgress } from './JobProgress.tsx';
import { SharePanel } from './SharePanel.tsx';
import { useCaseEvents } from './useCaseEvents.ts';
import { useLiveRevision } from './useLiveRevision.ts';
import { prefetchCtVolume } from '../viewer/slices/ctVolume.ts';
import { useSession } from './useSession.ts';

export function CaseScreen({ id }: { id: string }) {
  const session = useSession({ required: true });
  const router = useRouter();
  const [detail, setDetail] = useState<CaseDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const signedIn = session.status === 'signed-in';
  const finished = detail?.status === 'done' || detail?.status === 'failed';
  const progress = useCaseEvents(signedIn && detail && !finished ? id : null);
  const processingEnded = progress.status === 'done' || progress.status === 'failed';

  const load = useCallback(() => api.case(id).then(setDetail, (e: Error) => setError(e.message)), [id]);
  const done = detail?.status === 'done' ? detail : null;
  const live = useLiveRevision(done, done ? `/api/cases/${encodeURIComponent(id)}/events` : null);
  const volumes = useMemo(() => ({ ct: `/api/cases/${encodeURIComponent(id)}/ct`, labels: `/api/cases/${encodeURIComponent(id)}/labels` }), [id]);
  const validated = Object.values(live.validation).filter(Boolean).length;
  // Read the case on arrival, and again when its processing ends (for the model, or why it failed).
  // The CT's first bytes come meanwhile, while the viewer's code loads.
  useEffect(() => {
    if (!signedIn) return;
    prefetchCtVolume(volumes.ct);
    load();
  }, [signedIn, load, volumes]);
  useEffect(() => {
    if (processingEnded) load();
  }, [processingEnded, load]);

  if (session.status !== 'signed-in') return <AppHeader />;
  return (
    <>
      <AppHeader user={session.user} />
      <main className="case-page">
        {error && (
          <p className="error card" role="alert">
            {error}
          </p>
        )}
        {detail && (
          <>
            <div className="case-head">
              <h1 data-testid="case-label">{detail.label || 'Untitled case'}</h1>
              <p className="muted">
                {detail.status === 'done' ? `Processed ${formatDate(detail.processedAt)}` : `Uploaded ${formatDate(detail.createdAt)}`} · {detail.model.name}
                {detail.structures.length > 0 && ` · ${detail.structures.length} structures`}
                {done && ` · revision ${live.revision}`}
                {validated > 0 && <span data-testid="validated-count"> · {validated} validated</span>}
              </p>
            </div>
            {detail.status === 'failed' && (
              <div className="card">
                <p className="error" role="alert" data-testid="case-error">
                  Processing failed: {detail.error ?? 'unknown reason'}
                </p>
                {detail.retryable && (
                  <button type="button" onClick={() => api.rerun(id, detail.model.id).then(load, (e: Error) => setError(e.message))}>
                    Try again
                  </button>
                )}
              </div>
            )}
            {(detail.status === 'queued' || detail.status === 'running') && <JobProgress progress={progress} className="card job" />}
            {live.gone && (
              <p className="error card" role="alert">
                {live.gone}
              </p>
            )}
            {done && live.glbUrl && (
              <ClientCaseViewer
                glbUrl={live.glbUrl}
                xrGlbUrl={live.xrGlbUrl}
                expectedBytes={live.glbUrl === detail.glbUrl ? (detail.glbBytes ?? undefined) : undefined}
                title={detail.label || 'Case'}
                volumes={volumes}
                revision={live.revision}
                editCaseId={detail.canEdit ? id : undefined}
                validation={live.validation}
                pendingRevision={live.pending}
              />
            )}
            {detail.status === 'done' && <SharePanel caseId={id} />}
            <div className="row">
              <button
                type="button"
                className="danger"
                onClick={async () => {
                  if (!window.confirm('Delete this case and its files?')) return;
                  await api.deleteCase(id).then(() => router.replace('/'), (e: Error) => setError(e.message));
                }}
              >
                Delete case
              </button>
            </div>
          </>
        )}
      </main>
    </>
  );
}
