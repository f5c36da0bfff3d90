/**
 * In-process publish/subscribe of case state changes, per case id: the job runners publish, each open
 * `GET /api/cases/:id/events` stream subscribes. One per server process (lives on the runtime).
 */
import { EventEmitter } from 'node:events';
import type { JobFailure } from './caseJob.ts';

/** A label-map revision's life: saved, being meshed, its hologram ready (served from now on), or failed. */
export type RevisionEvent =
  | { type: 'revision'; revision: number; state: 'saved'; author: string | null; changedStructures: number[] }
  | { type: 'revision'; revision: number; state: 'meshing'; percent: number }
  | { type: 'revision'; revision: number; state: 'ready'; glbVersion: string; xrGlbVersion?: string; structures: unknown[] }
  | { type: 'revision'; revision: number; state: 'failed'; error: { code: string; message: string } };

export type CaseEvent =
  | { type: 'progress'; status: 'queued' | 'running'; stage: string | null; percent: number; message?: string | null }
  | { type: 'done'; processedAt: string }
  | { type: 'failed'; error: JobFailure }
  | { type: 'deleted' }
  | RevisionEvent
  | { type: 'validation'; label: number; validated: { by: string; at: string; revision: number } | null };

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
