'use client';
/**
 * Live state of a case's processing from its Server-Sent Events stream (`/api/cases/:id/events`): the
 * first event is the current state, then progress, then `done` or `failed`.
 */
import { useEffect, useState } from 'react';

export type CaseProgress =
  | { status: 'connecting' }
  | { status: 'queued' | 'running'; stage: string | null; percent: number; message: string | null }
  | { status: 'done'; processedAt: string | null }
  | { status: 'failed'; error: string; retryable: boolean };

/** Subscribes while `caseId` is set and the case is not finished. */
export function useCaseEvents(caseId: string | null): CaseProgress {
  // State is kept per case, so a new case never shows the previous one's state for a moment.
  const [state, setState] = useState<{ caseId: string | null; progress: CaseProgress }>({ caseId: null, progress: { status: 'connecting' } });
  useEffect(() => {
    if (!caseId) return;
    const setProgress = (progress: CaseProgress) => setState({ caseId, progress });
    setProgress({ status: 'connecting' });
    const source = new EventSource(`/api/cases/${encodeURIComponent(caseId)}/events`);
    source.addEventListener('progress', (e) => {
      const d = JSON.parse((e as MessageEvent<string>).data) as { status?: string; stage: string | null; percent: number; message: string | null };
      setProgress({ status: d.status === 'queued' ? 'queued' : 'running', stage: d.stage, percent: d.percent ?? 0, message: d.message ?? null });
    });
    source.addEventListener('done', (e) => {
      const d = JSON.parse((e as MessageEvent<string>).data) as { processedAt?: string };
      setProgress({ status: 'done', processedAt: d.processedAt ?? null });
      source.close();
    });
    source.addEventListener('failed', (e) => {
      // A server-sent `failed` event carries data; a connection error does not (EventSource retries then).
      const data = (e as MessageEvent<string>).data;
      if (!data) return;
      const d = JSON.parse(data) as { error?: { message?: string; retryable?: boolean } | string };
      const error = typeof d.error === 'string' ? d.error : (d.error?.message ?? 'processing failed');
      setProgress({ status: 'failed', error, retryable: typeof d.error === 'object' && !!d.error?.retryable });
      source.close();
    });
    return () => source.close();
  }, [caseId]);
  return state.caseId === caseId ? state.progress : { status: 'connecting' };
}
