/**
 * `holocase serve --https` without a configured certificate: a self-signed one is made on first run
 * in `<data>/tls/` (LAN names as SANs, fingerprint printed), reused on the next run, and the session
 * cookie gets `Secure`.
 */
import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addUser, buildWebApp, startServe, tempDataDir, type ServerProc } from './harness.ts';

let server: ServerProc | undefined;

beforeAll(async () => {
  await buildWebApp();
}, 600_000);

afterEach(async () => {
  await server?.stop();
});

function request(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string; peerFingerprint: string }>((resolve, reject) => {
    const req = https.request(url, { method: init.method ?? 'GET', headers: init.headers, rejectUnauthorized: false }, (res) => {
      let body = '';
      const cert = (res.socket as import('node:tls').TLSSocket).getPeerCertificate();
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode!, headers: res.headers, body, peerFingerprint: cert.fingerprint256 });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('HTTPS', () => {
  it('generates a self-signed certificate once, prints its fingerprint, sets Secure cookies and HSTS', async () => {
    const dataDir = await tempDataDir();
    const password = addUser(dataDir, 'alice');
    server = await startServe(dataDir, {}, ['--https']);
    const certFile = path.join(dataDir, 'tls', 'cert.pem');
    const cert = new X509Certificate(await readFile(certFile));
    expect(server.output()).toContain(`SHA-256 fingerprint: ${cert.fingerprint256}`);
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect((await stat(path.join(dataDir, 'tls', 'key.pem'))).mode & 0o077).toBe(0);

    const session = await request(`${server.url}/api/session`);
    expect(session.status).toBe(200);
    expect(session.peerFingerprint).toBe(cert.fingerprint256);
    const login = await request(`${server.url}/api/session`, {
      method: 'POST',
      body: JSON.stringify({ username: 'alice', password }),
      headers: { 'content-type': 'application/json', origin: server.url },
    });
    expect(login.status).toBe(200);
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; HttpOnly/);
    // Under HTTPS, browsers are told to keep to it; a page of the same host over plain HTTP is another origin.
    expect(session.headers['strict-transport-security']).toBe('max-age=31536000');
    const page = await request(`${server.url}/login`);
    expect(page.headers['strict-transport-security']).toBe('max-age=31536000');
    expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    const fromHttp = await request(`${server.url}/api/session`, {
      method: 'POST',
      body: JSON.stringify({ username: 'alice', password }),
      headers: { 'content-type': 'application/json', origin: server.url.replace('https:', 'http:') },
    });
    expect(fromHttp.status).toBe(403);

    // The next start reuses the same certificate (headsets that trusted it keep working).
    await server.stop();
    server = await startServe(dataDir, {}, ['--https']);
    expect(server.output()).toContain(`SHA-256 fingerprint: ${cert.fingerprint256}`);
    expect(server.output()).not.toContain('made now');
  });
});
