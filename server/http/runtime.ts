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
import { createRevisionMesher, type RevisionMesher } from '../edit/revisionMesher.ts';
import { createEditService, type EditService } from '../edit/editService.ts';
import { createFailureLimiter, type FailureLimiter } from './failureLimiter.ts';

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
  /** Wrong share codes (per address and overall). */
  shareCodeLimiter: FailureLimiter;
  /** Wrong passwords (per address and overall). */
  loginLimiter: FailureLimiter;
  /** Whether pages are served over HTTPS (cookies get `Secure`). */
  secure: boolean;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Project root: where `server/jobs/jobProcess.ts` is (the job child's entry). */
  projectRoot: string;
  log?: Logger;
  /** Served over HTTPS (default: `config.https`). */
  secure?: boolean;
}

const KEY = Symbol.for('holocase.runtime');
type Holder = { [KEY]?: Promise<Runtime> };

/**
 * 1. Open the database (migrating it).
 * 2. Choose the queue: BullMQ when `redisUrl` is set, else the embedded one.
 * 3. Start it (recovering interrupted jobs) before the runtime is handed out.
 */
export async function createRuntime(config: ServerConfig, options: RuntimeOptions): Promise<Runtime> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const db = openDatabase(config.dataDir);
  const events = createCaseEvents();
  const records = createJobRecords({ db, events, log, dataDir: config.dataDir });
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
      });
  await queue.start();
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
    shareCodeLimiter: createFailureLimiter({ windowMs: 15 * 60_000, perKey: 10, global: 200 }),
    loginLimiter: createFailureLimiter({ windowMs: 15 * 60_000, perKey: 10, global: 500 }),
    // The job processes find bundles in the same folder (`HOLOCASE_MODELS`, else the project's models/).
    ...createModelCatalog({ modelsDir: config.modelsDir ?? path.join(options.projectRoot, 'models'), log }),
    async close() {
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
