/**
 * `holocase serve`: the web server (what `npm start` runs). Builds the web app when its build is
 * missing or stale, opens the data folder, starts the job queue (embedded, or BullMQ when REDIS_URL is
 * set), then serves HTTP or HTTPS and prints the URLs.
 */
import { loadConfig, type ServerConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { ensureNextBuild, nextDistDir, PROJECT_ROOT } from '../http/nextBuild.ts';
import { createRuntime, installRuntime } from '../http/runtime.ts';
import { startServer } from '../http/startServer.ts';
import { loadTlsMaterial } from '../http/tls.ts';
import { parseCommandArgs, parsePortOption } from './args.ts';

const HELP = `usage: holocase serve [--port N] [--host H] [--data DIR] [--https] [--cert FILE --key FILE] [--skip-build]

  --port N        port (default 3000; HOLOCASE_PORT or PORT)
  --host H        address to listen on (default 0.0.0.0: the whole network; 127.0.0.1: this machine only)
  --data DIR      data folder: database, cases, uploads (default ./data; HOLOCASE_DATA)
  --https         serve HTTPS (needed by headsets: WebXR needs a secure context); without --cert/--key a
                  self-signed certificate is made on first run in <data>/tls/ and its fingerprint printed
  --cert, --key   PEM certificate and private key (HOLOCASE_TLS_CERT / HOLOCASE_TLS_KEY)
  --skip-build    use the existing web app build as it is (no staleness check)

Jobs run in the background on this machine, one at a time; with REDIS_URL set they go to a Redis queue
for \`holocase worker\` processes instead.

With HOLOCASE_ORTHANC_URL set, studies that become stable in that Orthanc become cases (routing rules:
HOLOCASE_PACS_RULES) and finished cases go back to it as DICOM SEG; POST /dicomweb/studies takes
STOW-RS pushes. See docs/deployment.md.`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  data: { type: 'string' },
  https: { type: 'boolean' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'skip-build': { type: 'boolean' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, OPTIONS, HELP);
  if (!args) return 0;
  const v = args.values;
  const port = parsePortOption(v.port);
  const overrides: Partial<ServerConfig> = { dataDir: v.data, port, host: v.host, https: v.https || undefined, tlsCert: v.cert, tlsKey: v.key };
  const config = loadConfig(overrides);
  if (config.tlsCert && !config.https) config.https = true;
  const log = createLogger({ level: config.logLevel, bindings: { role: 'server' } });

  // 1. The web app build (Next reads HOLOCASE_NEXT_DIR through next.config.js).
  process.env.HOLOCASE_NEXT_DIR = nextDistDir();
  if (!v['skip-build']) await ensureNextBuild({ log: (line) => console.error(line) });

  // 2. The runtime, on globalThis before Next loads any route handler.
  const runtime = createRuntime(config, { projectRoot: PROJECT_ROOT, log, ownServer: true });
  installRuntime(runtime);
  const rt = await runtime;

  // 3. TLS and the server.
  const tls = config.https ? await loadTlsMaterial({ dataDir: config.dataDir, certFile: config.tlsCert, keyFile: config.tlsKey }) : undefined;
  const server = await startServer({ projectRoot: PROJECT_ROOT, port: config.port, host: config.host, log, tls });
  console.error(`holocase is running (${rt.queue.kind === 'redis' ? 'jobs on the Redis queue' : 'jobs run on this machine'}); open:`);
  for (const url of server.urls) console.error(`  ${url}`);
  if (tls) {
    console.error(`TLS certificate${tls.generated ? ' (self-signed, made now)' : ''}: ${tls.certFile}`);
    console.error(`  SHA-256 fingerprint: ${tls.fingerprint}`);
    console.error(`  names: ${tls.names.join(', ')}`);
  }
  log.info({ port: server.port, https: Boolean(tls), queue: rt.queue.kind }, 'listening');

  // 4. A graceful stop puts a running job back in the queue (no interruption counted).
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  log.info('stopping');
  await server.close();
  await rt.close();
  return 0;
}
