/**
 * `holocase demo`: the README's first command. Makes the built-in CT phantom into a case with the
 * rules model (once per data folder), makes sure an administrator exists, creates a share link to the
 * case and starts the server, printing the URL that opens the hologram without signing in.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { addUser, listUsers } from '../auth/users.ts';
import { createShare } from '../auth/shareLinks.ts';
import { serverUrls } from '../http/startServer.ts';
import { runCase } from '../pipeline/runCase.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { getCase } from '../store/cases.ts';
import { importCaseFolder } from '../store/importCaseFolder.ts';
import { makePhantom } from '../volume/phantom.ts';
import { writeNifti } from '../volume/nifti.ts';
import { parseCommandArgs, parsePortOption } from './args.ts';
import { run as serve } from './serve.ts';

const HELP = `usage: holocase demo [--port N] [--data DIR] [--https] [--model ID]

Processes the built-in CT phantom (a procedural torso: bones, lungs, airway, contrast-filled aorta and
vena cava, organs) into a case, then serves it. Prints a share link that opens the case without an
account, and on first use the administrator's one-time password. Later runs reuse the case.

  --port N      port (default 3000)
  --data DIR    data folder (default ./data; HOLOCASE_DATA)
  --https       serve HTTPS with a self-signed certificate (needed to enter AR/VR from a headset)
  --model ID    model bundle for the demo case (default hu-anatomy)`;

const OPTIONS = {
  port: { type: 'string' },
  data: { type: 'string' },
  https: { type: 'boolean' },
  model: { type: 'string', default: 'hu-anatomy' },
} as const;

const DEMO_LABEL = 'Demo phantom (synthetic CT)';

/** The demo case of this data folder, made now when there is none. */
async function demoCase(db: Database, dataDir: string, modelId: string, ownerId: string): Promise<string> {
  const marker = path.join(dataDir, 'demo-case.json');
  const previous = await readFile(marker, 'utf8').then((text) => JSON.parse(text) as { caseId: string; modelId: string }, () => undefined);
  if (previous && previous.modelId === modelId && getCase(db, previous.caseId)?.status === 'done') return previous.caseId;

  const scratch = await mkdtemp(path.join(os.tmpdir(), 'holocase-demo-'));
  try {
    console.error('making the demo case from the built-in CT phantom…');
    const phantom = makePhantom();
    const ct = path.join(scratch, 'phantom.nii.gz');
    await writeNifti(phantom.ct, ct, 'holocase CT phantom');
    const out = path.join(scratch, 'case');
    const report = await runCase(ct, out, {
      modelId,
      label: DEMO_LABEL,
      log: (line) => console.error(`  ${line}`),
    });
    console.error(`  ${report.structures.length} structures, ${report.glb.triangles} triangles in ${(report.timings.totalMs / 1000).toFixed(1)} s`);
    const caseId = await importCaseFolder(db, dataDir, out, { label: DEMO_LABEL, ownerId, teamShared: true });
    await writeFile(marker, JSON.stringify({ caseId, modelId }));
    return caseId;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, OPTIONS, HELP);
  if (!args) return 0;
  const v = args.values;
  const config = loadConfig({ dataDir: v.data, port: parsePortOption(v.port), https: v.https || undefined });

  // 1. An administrator, and the demo case owned by them.
  const db = openDatabase(config.dataDir);
  let login: string | undefined;
  let admin = listUsers(db).find((u) => u.isAdmin);
  if (!admin) {
    const created = await addUser(db, 'admin', { admin: true });
    admin = created.user;
    login = `user "admin", one-time password ${created.password} (you choose a new one at first sign-in)`;
  }
  const caseId = await demoCase(db, config.dataDir, v.model ?? 'hu-anatomy', admin.id);

  // 2. A share link, so the hologram opens on any device without an account.
  const share = createShare(db, caseId, { createdBy: admin.id });
  db.close();

  const base = serverUrls(config.https ? 'https' : 'http', config.host, config.port);
  console.error('');
  console.error(`demo case ready. Open the hologram (no sign-in; code ${share.code} on /join):`);
  for (const url of base) console.error(`  ${url.replace(/\/$/, '')}${share.url}`);
  if (login) console.error(`sign in to upload your own CT: ${login}`);
  console.error('');

  // 3. The server, exactly as `holocase serve` runs it.
  const forward = ['--data', config.dataDir, '--port', String(config.port), ...(config.https ? ['--https'] : [])];
  return serve(forward);
}
