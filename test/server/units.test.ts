/**
 * The server's building blocks on real SQLite files and real bytes: migrations, passwords, sessions,
 * share links, origin checks, the failure limiter, upload sniffing, GLB variants, the job processes' environment.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
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
import { addressKey, createFailureLimiter } from '../../server/http/failureLimiter.ts';
import { createSignInGuard } from '../../server/auth/signInGuard.ts';
import { sniffInput } from '../../server/http/sniffInput.ts';
import { importCaseFolder } from '../../server/store/importCaseFolder.ts';
import { loggablePath } from '../../server/log.ts';
import { caseForUser } from '../../server/auth/caseAccess.ts';
import { loadConfig } from '../../server/config.ts';
import { clientAddress, CLIENT_IP_HEADER } from '../../server/http/apiRoute.ts';
import { machineMemoryBytes } from '../../server/machineMemory.ts';
import { inject } from 'vitest';
import { DICOM_DIR, removeTempDataDirs, saveLog, tempDataDir } from './harness.ts';
import { jobEnvironment } from '../../server/jobs/runJobInChild.ts';

const FIXTURES = path.join(DICOM_DIR, '..');

describe('store', () => {
  it('migrates a new database once and leaves a migrated one alone', async () => {
    const dir = await tempDataDir();
    const db = openDatabase(dir);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    expect(migrate(db)).toEqual([]);
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all().map((r) => (r as { name: string }).name);
    expect(tables).toEqual(['cases', 'jobs', 'pacs_feed', 'pacs_skipped', 'pacs_studies', 'revisions', 'sessions', 'share_tokens', 'shares', 'users', 'validations']);
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

  it('checks Origin (or Referer) of state-changing requests against the host and the scheme', () => {
    const h = (entries: Record<string, string>) => new Headers({ host: 'holo.lan:3000', ...entries });
    const opts = { hasSession: true, trustProxy: false, secure: true };
    expect(() => checkOrigin('GET', h({}), opts)).not.toThrow();
    expect(() => checkOrigin('POST', h({ origin: 'https://holo.lan:3000' }), opts)).not.toThrow();
    expect(() => checkOrigin('POST', h({ referer: 'https://holo.lan:3000/cases' }), opts)).not.toThrow();
    expect(() => checkOrigin('POST', h({}), opts)).toThrow(/Origin/);
    expect(() => checkOrigin('DELETE', h({ origin: 'https://holo.lan.evil.example' }), opts)).toThrow(/another site/);
    expect(() => checkOrigin('POST', h({ origin: 'null' }), opts)).toThrow();
    expect(() => checkOrigin('POST', h({}), { hasSession: false, trustProxy: false, secure: true })).not.toThrow();
    expect(() => checkOrigin('POST', h({ 'x-forwarded-host': 'holocase.hospital.org', origin: 'https://holocase.hospital.org' }), { hasSession: true, trustProxy: true, secure: true })).not.toThrow();
    // The same host on the other scheme is another origin: a plain-HTTP page cannot act on the HTTPS server…
    expect(() => checkOrigin('POST', h({ origin: 'http://holo.lan:3000' }), opts)).toThrow(/another site/);
    expect(() => checkOrigin('POST', h({ referer: 'http://holo.lan:3000/cases' }), opts)).toThrow(/another site/);
    // …nor the other way round; behind a trusted proxy its X-Forwarded-Proto says which scheme the browser used.
    expect(() => checkOrigin('POST', h({ origin: 'https://holo.lan:3000' }), { ...opts, secure: false })).toThrow(/another site/);
    expect(() => checkOrigin('POST', h({ origin: 'http://holo.lan:3000' }), { ...opts, secure: false })).not.toThrow();
    const proxied = { 'x-forwarded-host': 'holocase.hospital.org', 'x-forwarded-proto': 'https' };
    expect(() => checkOrigin('POST', h({ ...proxied, origin: 'http://holocase.hospital.org' }), { hasSession: true, trustProxy: true, secure: false })).toThrow(/another site/);
    expect(() => checkOrigin('POST', h({ ...proxied, origin: 'https://holocase.hospital.org' }), { hasSession: true, trustProxy: true, secure: false })).not.toThrow();
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
  it('limits failures per key, never overall, then lets a key try again after the window', () => {
    const limiter = createFailureLimiter({ windowMs: 1000, perKey: 3 });
    for (let i = 0; i < 3; i++) limiter.fail('a', i);
    expect(() => limiter.check('a', 10)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED', retryAfterSeconds: 1 }));
    expect(() => limiter.check('b', 10)).not.toThrow();
    // A flood from many other keys limits them, not a key that has not failed.
    for (let k = 0; k < 500; k++) for (let i = 0; i < 3; i++) limiter.fail(`flood-${k}`, 20);
    expect(() => limiter.check('flood-7', 30)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
    expect(() => limiter.check('d', 30)).not.toThrow();
    expect(() => limiter.check('a', 1100)).not.toThrow();
  });

  it('keeps a bounded table: at most maxKeys keys, the least recently failed forgotten first', () => {
    const limiter = createFailureLimiter({ windowMs: 60_000, perKey: 2, maxKeys: 100 });
    limiter.fail('early', 0);
    limiter.fail('early', 1);
    for (let k = 0; k < 10_000; k++) limiter.fail(`addr-${k}`, 10 + k);
    expect(limiter.size()).toBe(100);
    expect(limiter.limited('early', 20_000)).toBe(false);
    limiter.fail('addr-9999', 20_000);
    expect(limiter.limited('addr-9999', 20_000)).toBe(true);
  });

  it('counts IPv6 clients by their /64 network and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(addressKey('10.1.2.3')).toBe('10.1.2.3');
  });

  it('limits wrong passwords per address and per account, never for everyone', () => {
    const guard = createSignInGuard({ windowMs: 60_000, perAddress: 10, perAccount: 20 });
    const t = 1_000_000;
    guard.succeeded('alice', '10.0.0.1', t); // alice's usual workstation
    // 500 wrong passwords from 50 addresses, for other and unknown accounts and for alice.
    for (let a = 0; a < 50; a++) {
      for (let i = 0; i < 10; i++) guard.failed(i % 2 ? 'alice' : `nobody-${a}-${i}`, `10.9.0.${a}`, t + a);
    }
    // The flooding addresses are limited, whatever account they try.
    expect(() => guard.check('bob', '10.9.0.3', t + 100)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
    // Anybody else, from a new address, may still try: no overall limit.
    expect(() => guard.check('bob', '10.0.0.77', t + 100)).not.toThrow();
    // alice's account was guessed at: new addresses are refused for it, her known workstation is not.
    expect(() => guard.check('Alice', '10.0.0.78', t + 100)).toThrow(/this account/);
    expect(() => guard.check('alice', '10.0.0.1', t + 100)).not.toThrow();
    // After the window everything is open again.
    expect(() => guard.check('alice', '10.0.0.78', t + 61_000)).not.toThrow();
    expect(() => guard.check('bob', '10.9.0.3', t + 61_000)).not.toThrow();
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

  it('reads the size limits and the job memory, with units, and sizes the memory to the machine by default', () => {
    const c = loadConfig({}, { HOLOCASE_JOB_MEMORY: '6G', HOLOCASE_MAX_VOXELS: '1000000', HOLOCASE_UPLOAD_IDLE_SECONDS: '30' });
    expect(c.jobMemoryBytes).toBe(6 * 1024 ** 3);
    expect(c.volumeLimits).toEqual({ maxVoxels: 1_000_000, maxBytes: 8 * 1024 ** 3 });
    expect(c.uploadIdleSeconds).toBe(30);
    expect(loadConfig({}, { HOLOCASE_MAX_VOLUME_BYTES: '1500MiB' }).volumeLimits.maxBytes).toBe(1500 * 1024 ** 2);
    const defaults = loadConfig({}, {});
    expect(defaults.volumeLimits).toEqual({ maxVoxels: 1024 * 1024 * 2000, maxBytes: 8 * 1024 ** 3 });
    expect(defaults.jobMemoryBytes).toBe(Math.floor(machineMemoryBytes() * 0.75));
    expect(machineMemoryBytes()).toBeLessThanOrEqual(os.totalmem());
    expect(() => loadConfig({}, { HOLOCASE_JOB_MEMORY: 'plenty' })).toThrow(/HOLOCASE_JOB_MEMORY/);
  });
});


describe('test hygiene', () => {
  it('removes the data folders tests make, and saves logs in a folder of this run only', async () => {
    const dirs = [await tempDataDir(), await tempDataDir()];
    await writeFile(path.join(dirs[0]!, 'holocase.db'), 'x');
    await removeTempDataDirs();
    for (const dir of dirs) expect(readdirSync(path.dirname(dir))).not.toContain(path.basename(dir));
    // This run's log folder: <tmp>/holocase-test-logs/<run>/, not the shared folder itself.
    const runDir = inject('testLogDir');
    expect(path.dirname(runDir)).toBe(path.join(os.tmpdir(), 'holocase-test-logs'));
    await saveLog('hygiene-check', 'a line');
    expect(readFileSync(path.join(runDir, 'hygiene-check.log'), 'utf8')).toBe('a line');
  });

  it('takes the client address from the connection only, never from a header a client could write', () => {
    const headers = new Headers({ 'x-forwarded-for': '10.66.0.1', [CLIENT_IP_HEADER]: '127.0.0.9' });
    // Our own server writes the socket's address into its header (replacing whatever the client sent).
    expect(clientAddress(headers, 'socket')).toBe('127.0.0.9');
    // Behind a trusted proxy, its X-Forwarded-For.
    expect(clientAddress(headers, 'proxy')).toBe('10.66.0.1');
    // Under plain `next start` nothing identifies the client: not X-Forwarded-For, not our header.
    expect(clientAddress(headers, 'unknown')).toBe('unknown');
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
