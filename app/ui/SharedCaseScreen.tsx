'use client';
/**
 * `/s/<token>`: a case shared read-only. No account, no case list, nothing identifying: the label the
 * uploader typed, when it was processed, the model that made it, the 3D view (AR/VR included) and the
 * CT slices with the label overlay. A new revision saved meanwhile reaches the page without a reload.
 */
import { useEffect, useMemo, useState } from 'react';
import { AppHeader } from './AppHeader.tsx';
import { api, formatDate, type SharedCase } from './api.ts';
import { ClientCaseViewer } from './ClientCaseViewer.tsx';
import { useLiveRevision } from './useLiveRevision.ts';
import { prefetchCtVolume } from '../viewer/slices/ctVolume.ts';

export function SharedCaseScreen({ token }: { token: string }) {
  const [shared, setShared] = useState<SharedCase | null>(null);
  const [error, setError] = useState<string | null>(null);
  const base = `/api/share/${encodeURIComponent(token)}`;
  useEffect(() => {
    // The CT's first bytes come while the page asks what the link shows and loads the viewer's code.
    prefetchCtVolume(`${base}/ct`);
    api.shared(token).then(setShared, (e: Error) => setError(e.message));
  }, [token, base]);
  const live = useLiveRevision(shared, shared ? `${base}/events` : null);
  const volumes = useMemo(() => ({ ct: `${base}/ct`, labels: `${base}/labels` }), [base]);
  return (
    <>
      <AppHeader />
      <main className="case-page">
        {(error ?? live.gone) && (
          <p className="error card" role="alert" data-testid="share-error">
            This link cannot be opened: {error ?? live.gone}
          </p>
        )}
        {shared && (
          <>
            <div className="case-head">
              <h1 data-testid="case-label">{shared.label || 'Shared case'}</h1>
              <p className="muted" data-testid="share-meta">
                Shared read-only · processed {formatDate(shared.processedAt)} · {shared.model.name}
                {shared.model.version ? ` ${shared.model.version}` : ''}
              </p>
            </div>
            {live.glbUrl && (
              <ClientCaseViewer
                glbUrl={live.glbUrl}
                xrGlbUrl={live.xrGlbUrl}
                title={shared.label || 'Shared case'}
                volumes={volumes}
                revision={live.revision}
                validation={live.validation}
                pendingRevision={live.pending}
              />
            )}
          </>
        )}
      </main>
    </>
  );
}
