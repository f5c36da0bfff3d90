/**
 * Server throughput under 50 concurrent clients (autocannon), against a real `holocase serve` started
 * here: the GLB download (signed-in and share link), the case list (through Next), and as the peer a
 * bare Node `http` server streaming the same GLB file from disk. Also the GLB's gzip/brotli sizes.
 * Each target: 3 runs of 5 s, median reported, with error and non-2xx counts.
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error autocannon ships no type declarations
import autocannon from 'autocannon';
import { openDatabase } from '../../server/store/database.ts';
import { importCaseFolder } from '../../server/store/importCaseFolder.ts';
import { prepareGlbVariants } from '../../server/store/glbVariants.ts';
import { createShare } from '../../server/auth/shareLinks.ts';
import { addUser, setPassword } from '../../server/auth/users.ts';
import { createSession } from '../../server/auth/sessions.ts';
import { ensureNextBuild } from '../../server/http/nextBuild.ts';
import { runCase } from '../../server/pipeline/runCase.ts';
import { median } from './median.ts';
import { startHolocaseServe, startProcess } from './startHolocaseServe.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CT = path.join(ROOT, '../shared/fixtures/totalsegmentator/example_ct.nii.gz');
const RUNS = 3;
const SECONDS = 5;
const CONNECTIONS = 50;
const CASES_IN_LIST = 20;

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  throughput: { average: number };
  errors: number;
  non2xx: number;
  timeouts: number;
}

interface Figures {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  megabytesPerSecond: number;
  errors: number;
  non2xx: number;
  timeouts: number;
}

async function measure(url: string, headers: Record<string, string> = {}): Promise<Figures & { runs: number[] }> {
  const results: AutocannonResult[] = [];
  for (let i = 0; i < RUNS; i++) {
    results.push(await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers }));
  }
  const rps = results.map((r) => r.requests.average);
  // Latency and throughput of the run with the median request rate.
  const mid = [...results].sort((a, b) => a.requests.average - b.requests.average)[results.length >> 1]!;
  return {
    requestsPerSecond: Math.round(median(rps)),
    latencyP50Ms: mid.latency.p50,
    latencyP99Ms: mid.latency.p99,
    megabytesPerSecond: Math.round((mid.throughput.average / 1e6) * 10) / 10,
    errors: results.reduce((n, r) => n + r.errors, 0),
    non2xx: results.reduce((n, r) => n + r.non2xx, 0),
    timeouts: results.reduce((n, r) => n + r.timeouts, 0),
    runs: rps.map(Math.round),
  };
}

/** The peer: the same file streamed by a bare Node http server. */
const BARE_SERVER = `
const http = require('node:http'); const fs = require('node:fs');
const file = process.argv[1]; const size = fs.statSync(file).size;
http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'model/gltf-binary', 'content-length': size }); fs.createReadStream(file).pipe(res); })
  .listen(0, '127.0.0.1', function () { console.log('port ' + this.address().port); });
`;

export async function bench(): Promise<Record<string, unknown>> {
  // 1. A real case folder from the pipeline (example_ct, 3 mm), imported CASES_IN_LIST times.
  const work = await mkdtemp(path.join(os.tmpdir(), 'holocase-bench-server-'));
  const dataDir = path.join(work, 'data');
  const caseFolder = path.join(work, 'case');
  await runCase(CT, caseFolder, { modelId: process.env.HOLOCASE_DEFAULT_MODEL ?? 'hu-anatomy' });
  const variantsDir = path.join(work, 'variants');
  await mkdir(variantsDir);
  await copyFile(path.join(caseFolder, 'case.glb'), path.join(variantsDir, 'case.glb'));
  const glbSizes = (await prepareGlbVariants(variantsDir, { keepRatio: 1 })).sizes;

  const db = openDatabase(dataDir);
  const { user } = await addUser(db, 'bench');
  await setPassword(db, user.id, 'bench-password-123');
  const ids: string[] = [];
  for (let i = 0; i < CASES_IN_LIST; i++) ids.push(await importCaseFolder(db, dataDir, caseFolder, { label: `case ${i}`, ownerId: user.id }));
  const { token: session } = createSession(db, user.id, 2);
  const share = createShare(db, ids[0]!);
  db.close();

  // 2. The server under test, and the bare peer.
  await ensureNextBuild();
  const port = 4100 + Math.floor(Math.random() * 90);
  const server = await startHolocaseServe(dataDir, port);
  const { child: bare, match } = await startProcess(['-e', BARE_SERVER, path.join(dataDir, 'cases', ids[0]!, 'case.glb')], {}, /port (\d+)/);
  const bareUrl = `http://127.0.0.1:${match[1]}/case.glb`;
  const base = `http://127.0.0.1:${port}`;
  const cookie = { cookie: `holocase_session=${session}` };
  try {
    const results = {
      glbSignedIn: await measure(`${base}/api/cases/${ids[0]}/model.glb`, cookie),
      glbSignedInGzip: await measure(`${base}/api/cases/${ids[0]}/model.glb`, { ...cookie, 'accept-encoding': 'gzip' }),
      glbShareLink: await measure(`${base}/api/share/${share.token}/model.glb`),
      caseList: await measure(`${base}/api/cases`, cookie),
      peerBareNodeGlb: await measure(bareUrl),
    };
    return {
      workload: `autocannon, ${CONNECTIONS} connections, ${RUNS}×${SECONDS} s per target (median); GLB of example_ct (3 mm, rules model); case list of ${CASES_IN_LIST} cases`,
      cores: os.availableParallelism(),
      glbBytes: glbSizes,
      ...results,
    };
  } finally {
    server.kill('SIGTERM');
    bare.kill('SIGTERM');
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await bench(), null, 2));
