/**
 * `holocase worker`: scale-out mode job worker. Takes jobs from the Redis queue (REDIS_URL) and runs
 * them one at a time, each in a child process. Its `--data` folder must be the web server's data folder
 * (the same disk, or a shared network mount when the worker runs on another machine).
 */
import { loadConfig } from '../config.ts';
import { HolocaseError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { PROJECT_ROOT } from '../http/nextBuild.ts';
import { startRedisWorker } from '../jobs/redisWorker.ts';
import { parseCommandArgs, parseNumberOption } from './args.ts';

const HELP = `usage: holocase worker [--data DIR] [--concurrency N]

  --data DIR        the shared data folder (HOLOCASE_DATA; default ./data)
  --concurrency N   jobs run at once (default 1: one per GPU)

Needs REDIS_URL (e.g. redis://queue-host:6379), the same as the web server's.`;

const OPTIONS = { data: { type: 'string' }, concurrency: { type: 'string' } } as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, OPTIONS, HELP);
  if (!args) return 0;
  const config = loadConfig({ dataDir: args.values.data });
  if (!config.redisUrl) throw new HolocaseError('BAD_REQUEST', 'set REDIS_URL to the Redis server the web server uses');
  const concurrency = parseNumberOption(args.values.concurrency, '--concurrency', 'a whole number ≥ 1', (n) => Number.isInteger(n) && n >= 1);
  const log = createLogger({ level: config.logLevel, bindings: { role: 'worker' } });
  const worker = startRedisWorker({
    redisUrl: config.redisUrl,
    dataDir: config.dataDir,
    projectRoot: PROJECT_ROOT,
    log,
    logLevel: config.logLevel,
    concurrency,
    // Each job may use the memory configured on this machine; with several at once, they share it.
    settings: { volumeLimits: config.volumeLimits, memoryBudgetBytes: Math.floor(config.jobMemoryBytes / (concurrency ?? 1)) },
  });
  await worker.waitUntilReady();
  log.info({ concurrency: concurrency ?? 1 }, 'worker ready');
  console.error('holocase worker is waiting for jobs');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await worker.close();
  return 0;
}
