'use client';
/**
 * Share a case read-only: create a link (and its short code, to type on a headset), list the links,
 * revoke one.
 */
import { useCallback, useEffect, useState } from 'react';
import { api, formatDate, type NewShare, type ShareInfo } from './api.ts';

export function SharePanel({ caseId }: { caseId: string }) {
  const [created, setCreated] = useState<NewShare | null>(null);
  const [shares, setShares] = useState<ShareInfo[]>([]);
  const [days, setDays] = useState(7);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    api.shares(caseId).then(({ shares }) => setShares(shares), () => setShares([]));
  }, [caseId]);
  useEffect(reload, [reload]);

  const create = async () => {
    setError(null);
    try {
      setCreated(await api.createShare(caseId, days));
      reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const revoke = async (id: string) => {
    await api.revokeShare(id).catch((e: Error) => setError(e.message));
    if (created?.id === id) setCreated(null);
    reload();
  };
  const activeShares = shares.filter((s) => s.active);

  return (
    <section className="card share" aria-label="Share">
      <h2>Share read-only</h2>
      <div className="row">
        <label className="field inline">
          Valid for
          <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {[1, 7, 30, 90].map((d) => (
              <option key={d} value={d}>
                {d} day{d > 1 ? 's' : ''}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={create} data-testid="create-share">
          Create a link
        </button>
      </div>
      {created && (
        <div className="new-share">
          <p>
            Link: <a href={created.url} data-testid="share-url">{new URL(created.url, window.location.origin).href}</a>
          </p>
          <p>
            Code for a headset (at <strong>/join</strong>): <strong className="share-code" data-testid="share-code">{created.code}</strong>
          </p>
          <p className="muted">Expires {formatDate(created.expiresAt)}</p>
        </div>
      )}
      {error && <p className="error">{error}</p>}
      {activeShares.length > 0 && (
        <ul className="share-list">
          {activeShares.map((s) => (
            <li key={s.id}>
              <span className="muted">
                made {formatDate(s.createdAt)}, expires {formatDate(s.expiresAt)}
              </span>
              <button type="button" className="small" onClick={() => revoke(s.id)}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
