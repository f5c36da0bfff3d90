/**
 * `GET /api/cases/:id/events` (and a share link's `/api/share/:token/events`) as Server-Sent Events:
 * the first event is the case's current processing state, then `progress` {stage, percent, message},
 * then `done` or `failed` {error}. The stream stays open after that, carrying `revision` events (a
 * label-map revision saved, meshed, its hologram ready) and `validation` events, so every viewer sees
 * a correction without reloading; it ends when the case is deleted (`failed`, NOT_FOUND), when `stillValid`
 * says the viewer lost access (`failed`, GONE), or when the client leaves.
 * A comment line every 15 s keeps proxies from closing an idle connection.
 */
import type { CaseEvent, CaseEvents } from '../jobs/caseEvents.ts';
import type { CaseSummary } from './caseViews.ts';
import type { DetailLevel } from '../../mesh/detailLevels.ts';

export interface CaseEventStreamOptions {
  /** Heartbeat interval in milliseconds. */
  heartbeatMs: number;
  /**
   * URL of the hologram with version tag `v` at a level of detail for this viewer (a user's case URL or
   * a share link's).
   */
  glbUrl?: (version: string, level: DetailLevel) => string;
  /** Checked before each event: a share link revoked or expired meanwhile ends the stream. */
  stillValid?: () => boolean;
}

export const DEFAULTS: CaseEventStreamOptions = { heartbeatMs: 15_000 };

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The SSE frame for an event, and whether it ends the stream. */
function toFrame(e: CaseEvent, glbUrl: (version: string, level: DetailLevel) => string): [string, boolean] {
  switch (e.type) {
    case 'progress':
      return [frame('progress', { status: e.status, stage: e.stage, percent: e.percent, message: e.message ?? null }), false];
    case 'done':
      return [frame('done', { processedAt: e.processedAt }), false];
    case 'failed':
      return [frame('failed', { error: e.error }), false];
    case 'deleted':
      return [frame('failed', { error: { code: 'NOT_FOUND', message: 'the case was deleted', retryable: false } }), true];
    case 'revision': {
      if (e.state === 'ready') {
        const xrGlbUrl = e.xrGlbVersion ? glbUrl(e.xrGlbVersion, 'xr') : null;
        return [frame('revision', { revision: e.revision, state: e.state, glbUrl: glbUrl(e.glbVersion, 'desktop'), xrGlbUrl, structures: e.structures }), false];
      }
      const { type: _type, ...data } = e;
      return [frame('revision', data), false];
    }
    case 'validation':
      return [frame('validation', { label: e.label, validated: e.validated }), false];
  }
}

const GONE_FRAME = frame('failed', { error: { code: 'GONE', message: 'this share link is no longer valid', retryable: false } });

/** The event that describes a case's state now. */
export function currentStateEvent(c: CaseSummary): CaseEvent {
  if (c.status === 'done') return { type: 'done', processedAt: c.processedAt ?? new Date().toISOString() };
  if (c.status === 'failed') return { type: 'failed', error: { code: c.errorCode ?? 'INTERNAL', message: c.error ?? 'processing failed', retryable: c.retryable ?? false } };
  return { type: 'progress', status: c.status, stage: c.stage, percent: c.percent, message: c.message };
}

/**
 * 1. Subscribe first (no event lost), then send the current state.
 * 2. Forward events until a final one, the client leaves, or the server stops.
 */
export function caseEventStream(
  events: CaseEvents,
  caseId: string,
  current: () => CaseEvent,
  signal: AbortSignal,
  options: Partial<CaseEventStreamOptions> = {},
): Response {
  const o = { ...DEFAULTS, ...options };
  const encoder = new TextEncoder();
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        cleanup();
        try {
          controller.close();
        } catch {
          /* already closed by the client */
        }
      };
      // Writing to a stream the client has left throws: treat that as the end.
      const push = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          close();
        }
      };
      const send = (event: CaseEvent) => {
        if (o.stillValid && !o.stillValid()) {
          push(GONE_FRAME);
          close();
          return;
        }
        const [text, final] = toFrame(event, o.glbUrl ?? ((v, level) => `/api/cases/${caseId}/model.glb?${level === 'xr' ? 'level=xr&' : ''}v=${v}`));
        push(text);
        if (final) close();
      };
      const unsubscribe = events.subscribe(caseId, send);
      const heartbeat = setInterval(() => {
        if (o.stillValid && !o.stillValid()) {
          push(GONE_FRAME);
          close();
        } else push(': keep-alive\n\n');
      }, o.heartbeatMs);
      const onAbort = () => close();
      signal.addEventListener('abort', onAbort);
      cleanup = () => {
        unsubscribe();
        clearInterval(heartbeat);
        signal.removeEventListener('abort', onAbort);
      };
      push('retry: 3000\n\n');
      send(current());
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, {
    headers: {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    },
  });
}
