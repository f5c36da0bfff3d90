'use client';
/**
 * `/cases/<id>`: the case's state (live while processing; why, when it failed), then the 3D viewer,
 * the case details and sharing.
 */
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { AppHeader } from './AppHeader.tsx';
import { api, formatDate, type CaseDetail } from './api.ts';
import { ClientCaseViewer } from './ClientCaseViewer.tsx';
import { SharePanel } from './SharePanel.tsx';
import { describeProgress, useCaseEvents } from './useCaseEvents.ts';
import { useSession } from './useSession.ts';

export function CaseScreen({ id }: { id: string }) {
  const session = useSession({ required: true });
  const router = useRouter();
  const [detail, setDetail] = useState<CaseDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const finished = detail?.status === 'done' || detail?.status === 'failed';
  const progress = useCaseEvents(session.status === 'signed-in' && detail && !finished ? id : null);

  useEffect(() => {
    if (session.status !== 'signed-in') return;
    api.case(id).then(setDetail, (e: Error) => setError(e.message));
  }, [id, session.status, progress.status]);

  if (session.status !== 'signed-in') return <AppHeader />;
  const user = session.user;
  return (
    <>
      <AppHeader user={user} />
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
              </p>
            </div>
            {detail.status === 'failed' && (
              <div className="card">
                <p className="error" role="alert" data-testid="case-error">
                  Processing failed: {detail.error ?? 'unknown reason'}
                </p>
                {detail.retryable && (
                  <button
                    type="button"
                    onClick={() =>
                      api.rerun(id, detail.model.id).then(
                        () => api.case(id).then(setDetail),
                        (e: Error) => setError(e.message),
                      )
                    }
                  >
                    Try again
                  </button>
                )}
              </div>
            )}
            {(detail.status === 'queued' || detail.status === 'running') && (
              <div className="card job" role="status" data-testid="job-progress" data-status={progress.status}>
                <p>{describeProgress(progress)}</p>
                {(progress.status === 'running' || progress.status === 'queued') && <progress max={100} value={progress.percent} />}
              </div>
            )}
            {detail.status === 'done' && detail.glbUrl && (
              <ClientCaseViewer glbUrl={detail.glbUrl} expectedBytes={detail.glbBytes ?? undefined} title={detail.label || 'Case'} />
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
