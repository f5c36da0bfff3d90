/**
 * Makes saved revisions' holograms, one at a time per server, each in a worker thread running
 * `meshRevision`; tells viewers through the case's event stream (`revision` events: meshing with a
 * percentage, then ready or failed) and, when the revision is still the newest one served, swaps the
 * GLB the case serves in one row update (the GLB file itself lives, immutable, in the revision folder).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.ts';
import type { CaseEvents } from '../jobs/caseEvents.ts';
import { glbVersion, xrVersion } from '../http/caseViews.ts';
import type { Database } from '../store/database.ts';
import { getCase, setServedGlb } from '../store/cases.ts';
import type { MeshRevisionResult } from './meshRevision.ts';
import { revisionDir } from './revisionFiles.ts';
import { getRevision, setRevisionMesh } from './revisionRows.ts';

export interface RevisionMesherOptions {
  db: Database;
  dataDir: string;
  events: CaseEvents;
  log: Logger;
  /** Project root (where `server/edit/meshRevisionWorker.ts` is). */
  projectRoot: string;
}

export interface MeshRequest {
  caseId: string;
  revision: number;
  /** Revision whose surfaces may be reused, and the labels changed since it. */
  baseRevision?: number;
  changed?: number[];
}

export interface RevisionMesher {
  enqueue(request: MeshRequest): void;
  /** Queues the revisions a stopped server left unmeshed (on start). Returns how many. */
  resumePending(): number;
  /** Resolves when every queued revision is meshed (tests, shutdown). */
  idle(): Promise<void>;
}

type WorkerMessage =
  | { type: 'progress'; fraction: number }
  | { type: 'done'; result: MeshRevisionResult }
  | { type: 'failed'; error: { code: string; message: string }; detail?: string };

export function createRevisionMesher(o: RevisionMesherOptions): RevisionMesher {
  let chain: Promise<void> = Promise.resolve();
  // Resolved at run time like the job child's entry (the route bundle must not trace the project);
  // `boot.mjs` registers tsx in the worker, as `startTsWorker` does.
  const boot = path.join(/* turbopackIgnore: true */ o.projectRoot, 'server', 'workers', 'boot.mjs');
  const entry = pathToFileURL(path.join(/* turbopackIgnore: true */ o.projectRoot, 'server', 'edit', 'meshRevisionWorker.ts')).href;

  /** 1. Mesh in a worker. 2. Record the result; serve it when no newer revision is served. 3. Tell viewers. */
  async function run(request: MeshRequest): Promise<void> {
    const { caseId, revision } = request;
    if (!getCase(o.db, caseId) || !getRevision(o.db, caseId, revision)) return;
    const base = request.baseRevision !== undefined && getRevision(o.db, caseId, request.baseRevision)?.mesh === 'ready' ? request.baseRevision : undefined;
    const started = Date.now();
    const message = await new Promise<WorkerMessage>((resolve) => {
      const worker = new Worker(boot, {
        workerData: {
          entry,
          dir: revisionDir(o.dataDir, caseId, revision),
          ...(base !== undefined ? { baseDir: revisionDir(o.dataDir, caseId, base), changed: request.changed } : {}),
        },
      });
      let lastPercent = -1;
      let settled = false;
      const settle = (m: WorkerMessage) => {
        if (settled) return;
        settled = true;
        resolve(m);
        void worker.terminate();
      };
      worker.on('message', (m: WorkerMessage) => {
        if (m.type !== 'progress') return settle(m);
        const percent = Math.floor(m.fraction * 100);
        if (percent < lastPercent + 5) return;
        lastPercent = percent;
        o.events.publish(caseId, { type: 'revision', revision, state: 'meshing', percent });
      });
      worker.on('error', (error) => settle({ type: 'failed', error: { code: 'MESH_FAILED', message: 'the hologram of this revision could not be made; the log has details' }, detail: error.stack }));
      worker.on('exit', () => settle({ type: 'failed', error: { code: 'MESH_FAILED', message: 'meshing stopped unexpectedly' } }));
    });
    if (!getCase(o.db, caseId)) return;
    if (message.type === 'failed') {
      setRevisionMesh(o.db, caseId, revision, 'failed');
      o.log.warn({ caseId, revision, errorCode: message.error.code, detail: message.detail }, 'revision meshing failed');
      o.events.publish(caseId, { type: 'revision', revision, state: 'failed', error: message.error });
      return;
    }
    if (message.type !== 'done') return;
    const r = message.result;
    const served = o.db.transaction(() => {
      setRevisionMesh(o.db, caseId, revision, 'ready');
      const c = getCase(o.db, caseId)!;
      if (c.glbRevision !== null && c.glbRevision > revision) return false;
      setServedGlb(o.db, caseId, { revision, bytes: r.bytes, etag: r.etag, encodings: r.encodings });
      return true;
    })();
    o.log.info({ caseId, revision, meshed: r.meshed.length, reused: r.reused.length, ms: Date.now() - started }, 'revision meshed');
    if (served) o.events.publish(caseId, { type: 'revision', revision, state: 'ready', glbVersion: glbVersion(r.etag), ...xrVersion(r), structures: r.structures });
  }

  const enqueue = (request: MeshRequest) => {
    chain = chain.then(() => run(request)).catch((error: unknown) => o.log.error({ err: error, caseId: request.caseId }, 'revision meshing error'));
  };

  return {
    enqueue,
    idle: () => chain,
    resumePending() {
      const rows = o.db.prepare(`SELECT case_id, revision, changes FROM revisions WHERE mesh = 'pending' ORDER BY case_id, revision`).all() as { case_id: string; revision: number; changes: string }[];
      for (const r of rows) {
        const changed = (JSON.parse(r.changes) as { label: number }[]).map((c) => c.label);
        enqueue({ caseId: r.case_id, revision: r.revision, ...(r.revision > 0 ? { baseRevision: r.revision - 1, changed } : {}) });
      }
      if (rows.length) o.log.info({ revisions: rows.length }, 'meshing revisions left pending by a restart');
      return rows.length;
    },
  };
}
