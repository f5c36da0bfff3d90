'use client';
/** The PACS connection as administrators see it: Orthanc and its change feed, routing rules, received and skipped studies. */
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { api, formatDate, type PacsStatusView } from './api.ts';

const POLL_MS = 5000;

export function PacsStatusPanel() {
  const [status, setStatus] = useState<PacsStatusView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const load = () => api.pacsStatus().then((s) => (setStatus(s), setError(null)), (e: Error) => setError(e.message));
    load();
    const timer = setInterval(load, POLL_MS);
    return () => clearInterval(timer);
  }, []);
  if (error) return <p className="error">{error}</p>;
  if (!status) return <p className="muted">Loading…</p>;
  const feed = status.orthanc?.feed;
  return (
    <>
      <section className="card" aria-label="Connection">
        <h2>PACS connection</h2>
        {status.orthanc ? (
          <p>
            Orthanc at <code>{status.orthanc.url}</code>:{' '}
            {feed?.connected ? `following its changes (position ${feed.position})` : `not reachable${feed?.lastError ? ` — ${feed.lastError}` : ''}`}
          </p>
        ) : (
          <p className="muted">No Orthanc configured (HOLOCASE_ORTHANC_URL); STOW-RS pushes are still accepted.</p>
        )}
        <p className="muted">
          Cases are owned by <strong>{status.routing.owner}</strong>
          {status.routing.shareWithTeam ? ' and shared with its team' : ''}. Rules: {status.routing.rules.map((r) => `${r.name}${r.model ? ` → ${r.model}` : ''}`).join('; ')}
        </p>
      </section>
      <section className="card" aria-label="Received studies">
        <h2>Received</h2>
        {status.received.length === 0 && <p className="muted">No study received yet.</p>}
        <ul className="case-list" data-testid="pacs-received">
          {status.received.map((r) => (
            <li key={r.caseId}>
              <Link href={`/cases/${r.caseId}`} className="case-link">
                <span className="case-label">{r.rule ?? r.source}</span>
                <span className="muted">
                  {formatDate(r.receivedAt)} · {r.source === 'stow' ? 'STOW-RS' : 'Orthanc'} · SEG {r.seg.status}
                  {r.seg.error ? `: ${r.seg.error}` : ''}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      </section>
      <section className="card" aria-label="Skipped studies">
        <h2>Skipped</h2>
        {status.skipped.length === 0 && <p className="muted">No study skipped.</p>}
        <ul className="case-list" data-testid="pacs-skipped">
          {status.skipped.map((s) => (
            <li key={s.id}>
              <span className="case-label">{s.reason}</span>{' '}
              <span className="muted">
                {formatDate(s.receivedAt)} · {s.source === 'stow' ? 'STOW-RS' : `Orthanc study ${s.orthancStudyId}`}
              </span>
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}
