/**
 * Everything a request handler needs, made once per server process: configuration, logger, database,
 * job queue, case event bus, rate limiters and the model list.
 *
 * Next.js bundles route handlers apart from the tsx-loaded CLI, so module-level singletons are not
 * shared between them. `holocase serve` therefore creates the runtime before Next starts and puts it on
 * `globalThis` under `Symbol.for('holocase.runtime')`; route handlers call `getRuntime()`, which finds
 * it — or, under plain `next start` / `next dev`, creates one from the environment.
 */
import path from 'node:path';
import type { ServerConfig } from '../config.ts';
import { loadConfig } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { createCaseEvents, type CaseEvents } from '../jobs/caseEvents.ts';
import { createEmbeddedQueue } from '../jobs/embeddedQueue.ts';
import type { JobQueue } from '../jobs/jobQueue.ts';
import { createJobRecords } from '../jobs/jobRecords.ts';
import { createModelCatalog, type ModelCatalog } from '../jobs/modelCatalog.ts';
import { createRedisQueue } from '../jobs/redisQueue.ts';
import { sweepOrphans } from '../store/sweepOrphans.ts';
import { createSignInGuard, type SignInGuard } from '../auth/signInGuard.ts';
import { createRevisionMesher, type RevisionMesher } from '../edit/revisionMesher.ts';
import { createEditService, type EditService } from '../edit/editService.ts';
import { createFailureLimiter, type FailureLimiter } from './failureLimiter.ts';
import { startPacsService, type PacsService } from '../pacs/pacsService.ts';

export interface Runtime extends ModelCatalog {
  config: ServerConfig;
  log: Logger;
  db: Database;
  events: CaseEvents;
  queue: JobQueue;
  /** Makes the holograms of saved label-map revisions (worker threads, one revision at a time). */
  mesher: RevisionMesher;
  /** Grow from seeds, islands and fill between slices, in a worker thread. */
  editing: EditService;
  /** Wrong share codes, per client address (never overall). */
  shareCodeLimiter: FailureLimiter;
  /** Wrong passwords, per client address and per account (never overall). */
  signInGuard: SignInGuard;
  /**
   * Where a request's client address comes from: `socket` (our own HTTP server writes it from the
   * connection), `proxy` (the first `X-Forwarded-For` entry, under `trustProxy`), or `unknown` (plain
   * `next start`: every header could be the client's own, so all clients count as one address).
   */
  clientAddressSource: 'socket' | 'proxy' | 'unknown';
  /** Whether pages are served over HTTPS (cookies get `Secure`). */
  secure: boolean;
  /** Studies from the PACS (Orthanc's change feed, STOW-RS) and SEGs back to it. */
  pacs: PacsService;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Project root: where `server/jobs/jobProcess.ts` is (the job child's entry). */
  projectRoot: string;
  log?: Logger;
  /** Served over HTTPS (default: `config.https`). */
  secure?: boolean;
  /** Requests arrive through `startServer`, which writes the client address from the socket. */
  ownServer?: boolean;
}

const KEY = Symbol.for('holocase.runtime');
type Holder = { [KEY]?: Promise<Runtime> };

/**
 * 1. Open the database (migrating it); remove uploads a crash cut off (`sweepOrphans`).
 * 2. Choose the queue: BullMQ when `redisUrl` is set, else the embedded one.
 * 3. Start it (recovering interrupted jobs) before the runtime is handed out.
 */
export async function createRuntime(config: ServerConfig, options: RuntimeOptions): Promise<Runtime> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const db = openDatabase(config.dataDir);
  await sweepOrphans(db, config.dataDir, log);
  const events = createCaseEvents();
  let pacs: PacsService | undefined;
  const records = createJobRecords({ db, events, log, dataDir: config.dataDir, onCaseDone: (caseId) => pacs?.caseDone(caseId) });
  const queue: JobQueue = config.redisUrl
    ? createRedisQueue({ redisUrl: config.redisUrl, db, log, records, dataDir: config.dataDir })
    : createEmbeddedQueue({
        db,
        log,
        records,
        dataDir: config.dataDir,
        projectRoot: options.projectRoot,
        maxInterruptions: config.maxInterruptions,
        logLevel: config.logLevel,
        settings: { volumeLimits: config.volumeLimits, memoryBudgetBytes: config.jobMemoryBytes },
      });
  await queue.start();
  const models = createModelCatalog({ modelsDir: config.modelsDir ?? path.join(options.projectRoot, 'models'), log });
  pacs = await startPacsService({ db, log, queue, events, config, findModel: models.findModel });
  const started = pacs;
  const clientAddressSource = config.trustProxy ? 'proxy' : options.ownServer ? 'socket' : 'unknown';
  if (clientAddressSource === 'unknown') {
    log.warn('client addresses are unknown (not started by holocase serve, no HOLOCASE_TRUST_PROXY): per-address limits count every client together');
  }
  const mesher = createRevisionMesher({ db, dataDir: config.dataDir, events, log, projectRoot: options.projectRoot });
  mesher.resumePending();
  const editing = createEditService({ projectRoot: options.projectRoot, log });
  return {
    config,
    log,
    db,
    events,
    queue,
    mesher,
    editing,
    secure: options.secure ?? config.https,
    clientAddressSource,
    shareCodeLimiter: createFailureLimiter({ windowMs: 15 * 60_000, perKey: 10 }),
    signInGuard: createSignInGuard(),
    // The job processes find bundles in the same folder (`HOLOCASE_MODELS`, else the project's models/).
    ...models,
    pacs: started,
    async close() {
      await started.close();
      await queue.close();
      await mesher.idle();
      await editing.close();
      db.close();
    },
  };
}

/** Makes `runtime` the one route handlers get. */
export function installRuntime(runtime: Promise<Runtime>): void {
  (globalThis as Holder)[KEY] = runtime;
}

/** The server's runtime; created from the environment on first use when `holocase serve` did not. */
export function getRuntime(): Promise<Runtime> {
  const holder = globalThis as Holder;
  holder[KEY] ??= createRuntime(loadConfig(), { projectRoot: process.cwd() });
  return holder[KEY];
}
