'use client';
/**
 * New revisions and validations of a case as they happen, from its event stream
 * (`/api/cases/<id>/events`, or a share link's `/api/share/<token>/events`): when a revision's
 * hologram is ready the viewer swaps to it, and validation marks update in place. The stream stays
 * open while the page shows the case; the browser reconnects it after a network drop.
 */
import { useEffect, useRef } from 'react';

export interface RevisionReady {
  revision: number;
  /** The new hologram's URL (with its version tag). */
  glbUrl: string;
  /** The headset's level of detail of it, when it has one. */
  xrGlbUrl: string | null;
  /** Its structures, as the case detail lists them. */
  structures: unknown[];
}

export interface RevisionProgress {
  revision: number;
  state: 'saved' | 'meshing' | 'failed';
  percent?: number;
  author?: string | null;
  error?: { code: string; message: string };
}

export interface ValidationChange {
  label: number;
  validated: { by: string; at: string; revision: number } | null;
}

export interface RevisionEventHandlers {
  onReady(event: RevisionReady): void;
  onProgress?(event: RevisionProgress): void;
  onValidation?(event: ValidationChange): void;
  /** The stream ended for good (case deleted, link revoked): the message to show. */
  onGone?(message: string): void;
}

/** Listens while `url` is set. Handlers may change between renders without reconnecting. */
export function useRevisionEvents(url: string | null, handlers: RevisionEventHandlers): void {
  const current = useRef(handlers);
  current.current = handlers;
  useEffect(() => {
    if (!url) return;
    const source = new EventSource(url);
    source.addEventListener('revision', (e) => {
      const d = JSON.parse((e as MessageEvent<string>).data) as { revision: number; state: string; glbUrl?: string; xrGlbUrl?: string | null; structures?: unknown[] };
      if (d.state === 'ready' && d.glbUrl) current.current.onReady({ revision: d.revision, glbUrl: d.glbUrl, xrGlbUrl: d.xrGlbUrl ?? null, structures: d.structures ?? [] });
      else current.current.onProgress?.(d as RevisionProgress);
    });
    source.addEventListener('validation', (e) => current.current.onValidation?.(JSON.parse((e as MessageEvent<string>).data) as ValidationChange));
    source.addEventListener('failed', (e) => {
      const data = (e as MessageEvent<string>).data;
      if (!data) return;
      const d = JSON.parse(data) as { error?: { code?: string; message?: string } };
      if (d.error?.code === 'NOT_FOUND' || d.error?.code === 'GONE') {
        current.current.onGone?.(d.error.message ?? 'this case is no longer available');
        source.close();
      }
    });
    return () => source.close();
  }, [url]);
}
