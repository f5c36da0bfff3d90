/**
 * The HTTPS certificate: from configuration (`--cert/--key`, `HOLOCASE_TLS_CERT/KEY`), or a self-signed
 * one made on first run into `<data>/tls/` whose names (SANs) are this machine's host names and LAN
 * addresses, so headsets can open `https://<address>:<port>` after trusting it once.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import { exists } from '../store/caseFolders.ts';

export interface TlsOptions {
  dataDir: string;
  certFile?: string;
  keyFile?: string;
  /** Validity of a generated certificate in days (≤ 825 keeps Apple and Meta browsers content). */
  days?: number;
}

export const DEFAULTS = { days: 825 } as const;

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 fingerprint, colon-separated hex, as browsers show it. */
  fingerprint: string;
  /** Names and addresses in the certificate. */
  names: string[];
  /** Made just now (first run). */
  generated: boolean;
  certFile: string;
}

/** This machine's host names and non-internal IP addresses (plus localhost). */
export function machineNames(): { dns: string[]; ips: string[] } {
  const host = os.hostname();
  const dns = [...new Set(['localhost', host, host.includes('.') ? host.split('.')[0]! : `${host}.local`])];
  const ips = ['127.0.0.1', '::1'];
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (!a.internal) ips.push(a.address);
  }
  return { dns, ips: [...new Set(ips)] };
}

function describe(cert: string): { fingerprint: string; names: string[] } {
  const x509 = new X509Certificate(cert);
  const names = (x509.subjectAltName ?? '').split(',').map((s) => s.trim().replace(/^(DNS|IP Address):/, '')).filter(Boolean);
  return { fingerprint: x509.fingerprint256, names };
}

/**
 * 1. Configured files win.
 * 2. Otherwise reuse `<data>/tls/cert.pem` + `key.pem`.
 * 3. Otherwise generate them (key readable by the owner only).
 */
export async function loadTlsMaterial(options: TlsOptions): Promise<TlsMaterial> {
  if (options.certFile && options.keyFile) {
    const cert = await readFile(options.certFile, 'utf8');
    return { cert, key: await readFile(options.keyFile, 'utf8'), ...describe(cert), generated: false, certFile: options.certFile };
  }
  const dir = path.join(options.dataDir, 'tls');
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  if ((await exists(certFile)) && (await exists(keyFile))) {
    const cert = await readFile(certFile, 'utf8');
    return { cert, key: await readFile(keyFile, 'utf8'), ...describe(cert), generated: false, certFile };
  }
  const { dns, ips } = machineNames();
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: `holocase ${os.hostname()}` }, { name: 'organizationName', value: 'holocase (self-signed)' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + (options.days ?? DEFAULTS.days) * 86400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...dns.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))] },
    ],
  });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(`${keyFile}.tmp`, pems.private, { mode: 0o600 });
  await writeFile(`${certFile}.tmp`, pems.cert, { mode: 0o644 });
  await rename(`${keyFile}.tmp`, keyFile);
  await rename(`${certFile}.tmp`, certFile);
  return { cert: pems.cert, key: pems.private, ...describe(pems.cert), generated: true, certFile };
}
