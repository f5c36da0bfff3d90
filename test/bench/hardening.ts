/**
 * Hardening: what refusing hostile input costs, and whether a legitimate user gets in during a flood.
 *
 * 1. Refusals, each in a fresh process (peak resident memory is the process's own): the 4 MB gzip-bomb
 *    NIfTI declaring 512×512×8000 int16 (4 GiB of zeros), and the three DICOM files whose Pixel Data
 *    length claims 100 MB / 2 GB / 4 GB in 10 KB. Budget: ≤ 500 MB peak, ≤ 5 s. Peer in the same run:
 *    reading a real CT of the same kind (`example_ct.nii.gz`, 3 mm; `MR_small.dcm`).
 * 2. A real `holocase serve`; a bounded flood of wrong passwords from 50 loopback addresses (127.0.0.2…)
 *    and wrong share codes from 20 (127.0.1.2…), 10 each, while a legitimate user signs in and redeems
 *    a valid code from 127.0.0.1 every 200 ms. Reported: the legitimate success rate and latency, with
 *    the same user's latency before the flood as the peer.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createShare } from '../../server/auth/shareLinks.ts';
import { addUser, setPassword } from '../../server/auth/users.ts';
import { ensureNextBuild } from '../../server/http/nextBuild.ts';
import { planCaseMemory } from '../../server/pipeline/memoryPlan.ts';
import { loadModelBundle } from '../../server/segment/bundle.ts';
import { openDatabase } from '../../server/store/database.ts';
import { importCaseFolder } from '../../server/store/importCaseFolder.ts';
import { writeFakeCaseFolder } from '../fakeCaseFolder.ts';
import { requestFrom } from '../requestFrom.ts';
import { gzipBombNifti } from '../volume/gzipBomb.ts';
import { median } from './median.ts';
import { startHolocaseServe } from './startHolocaseServe.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = path.join(ROOT, '../shared/fixtures');
const BUDGET = { peakRssMb: 500, ms: 5000 };
const JOB_MEMORY = 16 * 1024 ** 3;

/** Runs `refuseInput.ts` on `input` in a fresh process and returns what it printed. */
function refuse(input: string): Promise<{ code: string; message?: string; ms: number; baselineRssMb: number; peakRssMb: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/bench/refuseInput.ts'), input, String(JOB_MEMORY)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`refuseInput exited ${code}: ${out}`))));
  });
}

async function refusals(work: string): Promise<Record<string, unknown>> {
  const bomb = path.join(work, 'bomb.nii.gz');
  const bytes = gzipBombNifti();
  await writeFile(bomb, bytes);
  const inputs: Record<string, string> = {
    gzipBombNifti: bomb,
    pixelLength100MB: path.join(FIXTURES, 'dicom-encodings/bad/MR_pixlen_len100MB.dcm'),
    pixelLength2GB: path.join(FIXTURES, 'dicom-encodings/bad/MR_pixlen_len2GB.dcm'),
    pixelLength4GB: path.join(FIXTURES, 'dicom-encodings/bad/MR_pixlen_len4GB.dcm'),
    peerRealNiftiRead: path.join(FIXTURES, 'totalsegmentator/example_ct.nii.gz'),
  };
  const out: Record<string, unknown> = {};
  for (const [name, input] of Object.entries(inputs)) {
    const r = await refuse(input);
    const refused = !name.startsWith('peer');
    out[name] = { ...r, ...(refused ? { withinBudget: r.peakRssMb <= BUDGET.peakRssMb && r.ms <= BUDGET.ms } : {}) };
  }
  const model = await loadModelBundle('hu-anatomy');
  const plan = (dims: [number, number, number]) =>
    Math.round(planCaseMemory({ format: 'nifti', dims, spacingMm: [1, 1, 1], bytesPerVoxel: 2 }, model.manifest).peakBytes / 1024 ** 2);
  return {
    bombFileBytes: bytes.length,
    budget: BUDGET,
    jobMemoryBudgetMb: JOB_MEMORY / 1024 ** 2,
    ...out,
    plannedPeakMb: { '512x512x8000 (the bomb)': plan([512, 512, 8000]), '512x512x1000': plan([512, 512, 1000]), '475x350x520 (0.8 mm phantom)': plan([475, 350, 520]) },
  };
}

/** Runs `tasks` with at most `width` at a time. */
async function pooled(tasks: (() => Promise<unknown>)[], width: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < tasks.length) await tasks[next++]!();
  }));
}

async function flood(work: string): Promise<Record<string, unknown>> {
  // 1. A data folder with the legitimate user and a share (its code) on an imported case.
  const dataDir = path.join(work, 'data');
  const db = openDatabase(dataDir);
  const { user } = await addUser(db, 'surgeon');
  await setPassword(db, user.id, 'surgeon-password-123');
  const caseId = await importCaseFolder(db, dataDir, await writeFakeCaseFolder(path.join(work, 'case')), { ownerId: user.id });
  const { code } = createShare(db, caseId);
  db.close();

  await ensureNextBuild();
  const port = 4300 + Math.floor(Math.random() * 90);
  const server = await startHolocaseServe(dataDir, port);
  const base = `http://127.0.0.1:${port}`;
  const json = { 'content-type': 'application/json' };
  const signIn = (from: string, username: string, password: string) =>
    requestFrom(from, `${base}/api/session`, { method: 'POST', headers: json, body: JSON.stringify({ username, password }) });
  const redeem = (from: string, value: string) => requestFrom(from, `${base}/api/share-code`, { method: 'POST', headers: json, body: JSON.stringify({ code: value }) });
  /** One legitimate sign-in and one code redemption; their statuses and times. */
  const legitimate = async () => {
    let t = performance.now();
    const s = await signIn('127.0.0.1', 'surgeon', 'surgeon-password-123');
    const signInMs = performance.now() - t;
    t = performance.now();
    const c = await redeem('127.0.0.1', code);
    return { signIn: s.status, signInMs, code: c.status, codeMs: performance.now() - t };
  };
  try {
    // 2. The peer: the legitimate user alone.
    const quiet = [];
    for (let i = 0; i < 5; i++) quiet.push(await legitimate());
    // 3. The flood, with the legitimate user trying every 200 ms meanwhile.
    const during: Awaited<ReturnType<typeof legitimate>>[] = [];
    let flooding = true;
    const watcher = (async () => {
      while (flooding) {
        during.push(await legitimate());
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const statuses: Record<string, number> = {};
    const count = (r: { status: number }) => (statuses[r.status] = (statuses[r.status] ?? 0) + 1);
    const tasks: (() => Promise<unknown>)[] = [];
    for (let a = 0; a < 50; a++) for (let i = 0; i < 10; i++) tasks.push(() => signIn(`127.0.0.${a + 2}`, i % 2 ? 'surgeon' : `guess-${a}-${i}`, `wrong-${i}`).then(count));
    for (let a = 0; a < 20; a++) for (let i = 0; i < 10; i++) tasks.push(() => redeem(`127.0.1.${a + 2}`, `ZZZ${String(a * 10 + i).padStart(3, '9')}`).then(count));
    const floodStarted = performance.now();
    await pooled(tasks.sort(() => Math.random() - 0.5), 8);
    const floodMs = performance.now() - floodStarted;
    flooding = false;
    await watcher;
    const ok = (list: typeof during, key: 'signIn' | 'code') => list.filter((r) => r[key] === 200).length;
    const ms = (list: typeof during, key: 'signInMs' | 'codeMs') => Math.round(median(list.map((r) => r[key])));
    return {
      flood: { requests: tasks.length, addresses: 70, seconds: Math.round(floodMs / 100) / 10, statuses },
      legitimateDuringFlood: {
        attempts: during.length,
        signInSuccessRate: during.length ? ok(during, 'signIn') / during.length : null,
        shareCodeSuccessRate: during.length ? ok(during, 'code') / during.length : null,
        signInMedianMs: ms(during, 'signInMs'),
        shareCodeMedianMs: ms(during, 'codeMs'),
      },
      peerLegitimateAlone: { attempts: quiet.length, signInSuccessRate: ok(quiet, 'signIn') / quiet.length, signInMedianMs: ms(quiet, 'signInMs'), shareCodeMedianMs: ms(quiet, 'codeMs') },
    };
  } finally {
    server.kill('SIGTERM');
  }
}

export async function bench(): Promise<Record<string, unknown>> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'holocase-bench-hardening-'));
  try {
    return {
      workload: 'refusals in fresh processes (gzip-bomb NIfTI 512×512×8000 int16, three lying DICOM files, a real CT as the peer); a flood of 500 wrong passwords from 50 loopback addresses and 200 wrong share codes from 20, beside one legitimate user',
      cores: os.availableParallelism(),
      refusals: await refusals(work),
      signInFlood: await flood(work),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await bench(), null, 2));
