/**
 * The server's building blocks on real SQLite files and real bytes: migrations, passwords, sessions,
 * share links, origin checks, the failure limiter, upload sniffing, GLB variants, the job processes' environment.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/store/database.ts';
import { MIGRATIONS, migrate } from '../../server/store/migrations.ts';
import { hashPassword, verifyPassword } from '../../server/auth/password.ts';
import { addUser } from '../../server/auth/users.ts';
import { createSession, userForSession } from '../../server/auth/sessions.ts';
import { caseForShareToken, createShare, normalizeCode, redeemShareCode, revokeShare } from '../../server/auth/shareLinks.ts';
import { checkOrigin } from '../../server/auth/originCheck.ts';
import { createFailureLimiter } from '../../server/http/failureLimiter.ts';
import { sniffInput } from '../../server/http/sniffInput.ts';
import { importCaseFolder } from '../../server/store/importCaseFolder.ts';
import { loggablePath } from '../../server/log.ts';
import { caseForUser } from '../../server/auth/caseAccess.ts';
import { loadConfig } from '../../server/config.ts';
import { jobEnvironment } from '../../server/jobs/runJobInChild.ts';
import { DICOM_DIR, tempDataDir } from './harness.ts';

const FIXTURES = path.join(DICOM_DIR, '..');

describe('store', () => {
  it('migrates a new database once and leaves a migrated one alone', async () => {
    const dir = await tempDataDir();
    const db = openDatabase(dir);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    expect(migrate(db)).toEqual([]);
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all().map((r) => (r as { name: string }).name);
    expect(tables).toEqual(['cases', 'jobs', 'sessions', 'share_tokens', 'shares', 'users']);
    db.close();
    const reopened = openDatabase(dir);
    expect(reopened.pragma('journal_mode', { simple: true })).toBe('wal');
    reopened.close();
  });
});

describe('accounts', () => {
  it('hashes passwords with scrypt and a per-user salt', async () => {
    const a = await hashPassword('correct horse battery', { N: 1024 });
    const b = await hashPassword('correct horse battery', { N: 1024 });
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('x', 'garbage')).toBe(false);
  });

  it('stores only hashes of session tokens, and expired sessions sign nobody in', async () => {
    const dir = await tempDataDir();
    const db = openDatabase(dir);
    const { user } = await addUser(db, 'dana');
    const { token } = createSession(db, user.id, 1, Date.now());
    expect(userForSession(db, token)?.username).toBe('dana');
    expect(userForSession(db, token, Date.now() + 2 * 3600_000)).toBeUndefined();
    db.close();
    const bytes = await readFile(path.join(dir, 'holocase.db'));
    const wal = await readFile(path.join(dir, 'holocase.db-wal')).catch(() => Buffer.alloc(0));
    expect(Buffer.concat([bytes, wal]).includes(token)).toBe(false);
  });

  it('checks Origin (or Referer) of state-changing requests against the host', () => {
    const h = (entries: Record<string, string>) => new Headers({ host: 'holo.lan:3000', ...entries });
    const opts = { hasSession: true, trustProxy: false };
    expect(() => checkOrigin('GET', h({}), opts)).not.toThrow();
    expect(() => checkOrigin('POST', h({ origin: 'https://holo.lan:3000' }), opts)).not.toThrow();
    expect(() => checkOrigin('POST', h({ referer: 'https://holo.lan:3000/cases' }), opts)).not.toThrow();
    expect(() => checkOrigin('POST', h({}), opts)).toThrow(/Origin/);
    expect(() => checkOrigin('DELETE', h({ origin: 'https://holo.lan.evil.example' }), opts)).toThrow(/another site/);
    expect(() => checkOrigin('POST', h({ origin: 'null' }), opts)).toThrow();
    expect(() => checkOrigin('POST', h({}), { hasSession: false, trustProxy: false })).not.toThrow();
    expect(() => checkOrigin('POST', h({ 'x-forwarded-host': 'holocase.hospital.org', origin: 'https://holocase.hospital.org' }), { hasSession: true, trustProxy: true })).not.toThrow();
  });
});

describe('share links', () => {
  it('open only their case, end on revocation and expiry, and redeem codes to fresh tokens', async () => {
    const dir = await tempDataDir();
    const db = openDatabase(dir);
    const caseFolder = path.join(dir, 'source');
    await mkdir(caseFolder);
    await writeFile(path.join(caseFolder, 'case.glb'), new Uint8Array(4096).fill(1));
    await writeFile(path.join(caseFolder, 'ct.nii.gz'), 'x');
    await writeFile(path.join(caseFolder, 'labels.nii.gz'), 'x');
    await writeFile(path.join(caseFolder, 'report.json'), JSON.stringify({ model: { id: 'm', name: 'M', version: '1' }, structures: [] }));
    const a = await importCaseFolder(db, dir, caseFolder, { label: 'A' });
    const b = await importCaseFolder(db, dir, caseFolder, { label: 'B' });
    const now = Date.now();
    const share = createShare(db, a, { expiresInDays: 1 }, now);
    expect(caseForShareToken(db, share.token, now).case.id).toBe(a);
    expect(caseForShareToken(db, share.token, now).case.id).not.toBe(b);
    expect(() => caseForShareToken(db, share.token, now + 86400_000 + 1)).toThrow(/expired/);
    expect(normalizeCode(' k7p-4xm ')).toBe('K7P4XM');
    const redeemed = redeemShareCode(db, share.code.toLowerCase(), now);
    expect(redeemed.token).not.toBe(share.token);
    expect(caseForShareToken(db, redeemed.token, now).case.id).toBe(a);
    revokeShare(db, share.id, now);
    expect(() => caseForShareToken(db, redeemed.token, now)).toThrow(/revoked/);
    expect(() => caseForShareToken(db, 'nope', now)).toThrow(/does not exist/);
    // Demo cases without an owner are invisible to every user.
    const { user } = await addUser(db, 'erin');
    expect(() => caseForUser(db, user, a, 'view')).toThrow(/no such case/);
    // Highly compressible GLB → compressed copies kept and recorded.
    const row = db.prepare(`SELECT glb_encodings FROM cases WHERE id = ?`).get(a) as { glb_encodings: string };
    expect(JSON.parse(row.glb_encodings).sort()).toEqual(['br', 'gzip']);
    db.close();
  });
});

describe('limits and input', () => {
  it('limits failures per client and overall, then lets them try again after the window', () => {
    const limiter = createFailureLimiter({ windowMs: 1000, perKey: 3, global: 5 });
    for (let i = 0; i < 3; i++) limiter.fail('a', i);
    expect(() => limiter.check('a', 10)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED', retryAfterSeconds: 1 }));
    expect(() => limiter.check('b', 10)).not.toThrow();
    limiter.fail('b', 20);
    limiter.fail('c', 20);
    expect(() => limiter.check('d', 30)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
    expect(() => limiter.check('a', 1100)).not.toThrow();
  });

  it('recognises uploads by their bytes, not their names', async () => {
    const dir = await tempDataDir();
    const dicom = path.join(DICOM_DIR, readdirSync(DICOM_DIR)[0]!);
    expect(await sniffInput(dicom)).toBe('dicom');
    expect(await sniffInput(path.join(FIXTURES, 'example_ct_sm.nii.gz'))).toBe('nifti-gz');
    const raw = path.join(dir, 'plain');
    const nifti = gunzipSync(readFileSync(path.join(FIXTURES, 'example_ct_sm.nii.gz')));
    await writeFile(raw, nifti);
    expect(await sniffInput(raw)).toBe('nifti');
    const notNifti = path.join(dir, 'notes.gz');
    await writeFile(notNifti, gzipSync(Buffer.from('a tarball, perhaps')));
    expect(await sniffInput(notNifti)).toBeUndefined();
    const text = path.join(dir, 'notes.txt');
    await writeFile(text, 'hello');
    expect(await sniffInput(text)).toBeUndefined();
  });

  it('keeps share tokens and queries out of logged paths', () => {
    expect(loggablePath('/api/share/abcDEF123/model.glb?x=1')).toBe('/api/share/:token/model.glb');
    expect(loggablePath('/s/abcDEF123')).toBe('/s/:token');
    expect(loggablePath('/api/cases?label=Jane')).toBe('/api/cases');
  });

  it('reads configuration from the environment and names a bad value', () => {
    const c = loadConfig({ port: 4199 }, { HOLOCASE_DATA: '/tmp/x', HOLOCASE_MAX_UPLOAD_BYTES: '1000', PORT: '5000' });
    expect(c).toMatchObject({ dataDir: '/tmp/x', port: 4199, maxUploadBytes: 1000 });
    expect(loadConfig({}, {}).maxUploadBytes).toBe(4 * 1024 ** 3);
    expect(() => loadConfig({}, { HOLOCASE_MAX_UPLOAD_BYTES: 'lots' })).toThrow(/HOLOCASE_MAX_UPLOAD_BYTES/);
  });
});


describe('job processes', () => {
  it('run with transparent huge pages for large arrays, unless the operator set glibc tunables', () => {
    expect(jobEnvironment({ PATH: '/bin' })).toEqual({ PATH: '/bin', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' });
    expect(jobEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).GLIBC_TUNABLES).toBe('glibc.malloc.arena_max=2');
    // Where the kernel offers them on request, a job's 64 MB array really gets huge pages, and without the setting it does not.
    const mode = readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8').match(/\[(\w+)\]/)?.[1];
    if (mode !== 'madvise') return;
    const hugeKb = (env: NodeJS.ProcessEnv) => {
      const script = `const a = new Uint8Array(64 * 1024 * 1024).fill(1); const m = /AnonHugePages:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/smaps_rollup', 'utf8')); console.log(m ? m[1] : 0, a[7]);`;
      return Number(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' }).split(' ')[0]);
    };
    const { GLIBC_TUNABLES: _, ...plain } = process.env;
    expect(hugeKb(jobEnvironment(plain))).toBeGreaterThanOrEqual(32 * 1024);
    expect(hugeKb(plain)).toBe(0);
  });
});
