/**
 * `GET /api/cases/:id/events` as Server-Sent Events: the first event is the case's current state, then
 * `progress` {stage, percent, message}, and finally `done` or `failed` {error}, after which the stream
 * ends. A comment line every 15 s keeps proxies from closing an idle connection.
 */
import type { CaseEvent, CaseEvents } from '../jobs/caseEvents.ts';
import type { CaseSummary } from './caseViews.ts';

export interface CaseEventStreamOptions {
  /** Heartbeat interval in milliseconds. */
  heartbeatMs: number;
}

export const DEFAULTS: CaseEventStreamOptions = { heartbeatMs: 15_000 };

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The SSE frame for an event, and whether it ends the stream. */
function toFrame(e: CaseEvent): [string, boolean] {
  switch (e.type) {
    case 'progress':
      return [frame('progress', { status: e.status, stage: e.stage, percent: e.percent, message: e.message ?? null }), false];
    case 'done':
      return [frame('done', { processedAt: e.processedAt }), true];
    case 'failed':
      return [frame('failed', { error: e.error }), true];
    case 'deleted':
      return [frame('failed', { error: { code: 'NOT_FOUND', message: 'the case was deleted', retryable: false } }), true];
  }
}

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
        const [text, final] = toFrame(event);
        push(text);
        if (final) close();
      };
      const unsubscribe = events.subscribe(caseId, send);
      const heartbeat = setInterval(() => push(': keep-alive\n\n'), o.heartbeatMs);
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
