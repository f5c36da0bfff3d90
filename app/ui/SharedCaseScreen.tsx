'use client';
/**
 * `/s/<token>`: a case shared read-only. No account, no case list, nothing identifying: the label the
 * uploader typed, when it was processed, the model that made it, and the 3D view (AR/VR included).
 */
import { useEffect, useState } from 'react';
import { AppHeader } from './AppHeader.tsx';
import { api, formatDate, type SharedCase } from './api.ts';
import { ClientCaseViewer } from './ClientCaseViewer.tsx';

export function SharedCaseScreen({ token }: { token: string }) {
  const [shared, setShared] = useState<SharedCase | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.shared(token).then(setShared, (e: Error) => setError(e.message));
  }, [token]);
  return (
    <>
      <AppHeader />
      <main className="case-page">
        {error && (
          <p className="error card" role="alert" data-testid="share-error">
            This link cannot be opened: {error}
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
            <ClientCaseViewer glbUrl={shared.glbUrl} xrGlbUrl={shared.xrGlbUrl} title={shared.label || 'Shared case'} />
          </>
        )}
      </main>
    </>
  );
}
