/**
 * In-process publish/subscribe of case state changes, per case id: the job runners publish, each open
 * `GET /api/cases/:id/events` stream subscribes. One per server process (lives on the runtime).
 */
import { EventEmitter } from 'node:events';
import type { JobFailure } from './caseJob.ts';

export type CaseEvent =
  | { type: 'progress'; status: 'queued' | 'running'; stage: string | null; percent: number; message?: string | null }
  | { type: 'done'; processedAt: string }
  | { type: 'failed'; error: JobFailure }
  | { type: 'deleted' };

export interface CaseEvents {
  publish(caseId: string, event: CaseEvent): void;
  /** Returns the function that unsubscribes. */
  subscribe(caseId: string, listener: (event: CaseEvent) => void): () => void;
}

export function createCaseEvents(): CaseEvents {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish: (caseId, event) => emitter.emit(caseId, event),
    subscribe: (caseId, listener) => {
      emitter.on(caseId, listener);
      return () => emitter.off(caseId, listener);
    },
  };
}
