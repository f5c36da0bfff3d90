'use client';
/** The signed-in user's cases: label, status (live for cases being processed), date, model. */
import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import { api, formatDate, type CaseSummary } from './api.ts';

export interface CaseListProps {
  /** Changes when the list must be read again (e.g. after an upload). */
  refreshKey?: unknown;
}

const POLL_MS = 3000;

export function CaseList({ refreshKey }: CaseListProps) {
  const [cases, setCases] = useState<CaseSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    api.cases().then(
      ({ cases }) => {
        setCases(cases);
        setError(null);
      },
      (e: Error) => setError(e.message),
    );
  }, []);
  useEffect(load, [load, refreshKey]);
  // While a case is being processed, refresh now and then.
  const active = cases?.some((c) => c.status === 'queued' || c.status === 'running');
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(load, POLL_MS);
    return () => clearInterval(timer);
  }, [active, load]);

  return (
    <section className="card" aria-label="Cases">
      <h2>Cases</h2>
      {error && <p className="error">{error}</p>}
      {cases === null && !error && <p className="muted">Loading…</p>}
      {cases?.length === 0 && <p className="muted">No cases yet. Upload a CT above.</p>}
      {cases && cases.length > 0 && (
        <ul className="case-list" data-testid="case-list">
          {cases.map((c) => (
            <li key={c.id}>
              <Link href={`/cases/${c.id}`} className="case-link">
                <span className="case-label">{c.label || 'Untitled case'}</span>
                <span className={`status status-${c.status}`}>
                  {c.status === 'running' ? `${Math.round(c.percent)} %` : c.status}
                </span>
                <span className="muted">
                  {formatDate(c.processedAt ?? c.createdAt)} · {c.model.name}
                </span>
                {c.status === 'failed' && c.error && <span className="error small-text">{c.error}</span>}
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
