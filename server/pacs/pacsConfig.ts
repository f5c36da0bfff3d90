/**
 * PACS settings from the environment: the Orthanc server holocase follows (`HOLOCASE_ORTHANC_URL`),
 * its credentials (environment variables, or a file readable only by the service account), how often
 * to poll its change feed, where to start on first connection, and the routing rules file.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { HolocaseError } from '../errors.ts';
import { loadRoutingRules, type RoutingConfig } from './routingRules.ts';

export interface OrthancSettings {
  /** Base URL of Orthanc's REST API (no credentials in it). */
  url: string;
  username?: string;
  password?: string;
  /** Seconds between two reads of the change feed when it has nothing new. */
  pollSeconds: number;
  /** First connection (no stored position): `now` follows only new changes, `start` also takes every stable study Orthanc already has. */
  startAt: 'now' | 'start';
}

export interface PacsConfig {
  /** Unset: no Orthanc (STOW-RS still works, nothing goes back). */
  orthanc?: OrthancSettings;
  routing: RoutingConfig;
}

export const DEFAULTS = { pollSeconds: 2, startAt: 'now' } as const;

const EnvSchema = z.object({
  HOLOCASE_ORTHANC_URL: z
    .string()
    .url()
    .refine((u) => /^https?:/.test(u) && !new URL(u).username, 'must be an http(s) URL without credentials (use HOLOCASE_ORTHANC_USER/PASSWORD)')
    .optional(),
  HOLOCASE_ORTHANC_USER: z.string().min(1).optional(),
  HOLOCASE_ORTHANC_PASSWORD: z.string().optional(),
  HOLOCASE_ORTHANC_CREDENTIALS_FILE: z.string().min(1).optional(),
  HOLOCASE_ORTHANC_POLL_SECONDS: z.coerce.number().positive().max(3600).optional(),
  HOLOCASE_ORTHANC_START: z.enum(['now', 'start']).optional(),
  HOLOCASE_PACS_RULES: z.string().min(1).optional(),
});

/** `user:password` on the first line of a file. */
function readCredentialsFile(file: string): { username: string; password: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new HolocaseError('BAD_REQUEST', `configuration: HOLOCASE_ORTHANC_CREDENTIALS_FILE ${file} cannot be read`);
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  const colon = line.indexOf(':');
  if (colon < 1) throw new HolocaseError('BAD_REQUEST', `configuration: HOLOCASE_ORTHANC_CREDENTIALS_FILE ${file} must hold "user:password" on its first line`);
  return { username: line.slice(0, colon), password: line.slice(colon + 1) };
}

/**
 * 1. Validate the variables (a wrong value names the variable, never its value).
 * 2. Credentials: the file wins over the variables.
 * 3. The routing rules (validated; see `routingRules.ts`).
 */
export function loadPacsConfig(env: Record<string, string | undefined> = process.env): PacsConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HolocaseError('BAD_REQUEST', `configuration: ${String(issue?.path[0])} is not valid (${issue?.message})`);
  }
  const e = parsed.data;
  const routing = loadRoutingRules(e.HOLOCASE_PACS_RULES);
  if (!e.HOLOCASE_ORTHANC_URL) return { routing };
  const credentials = e.HOLOCASE_ORTHANC_CREDENTIALS_FILE
    ? readCredentialsFile(e.HOLOCASE_ORTHANC_CREDENTIALS_FILE)
    : e.HOLOCASE_ORTHANC_USER
      ? { username: e.HOLOCASE_ORTHANC_USER, password: e.HOLOCASE_ORTHANC_PASSWORD ?? '' }
      : {};
  return {
    routing,
    orthanc: {
      url: e.HOLOCASE_ORTHANC_URL.replace(/\/+$/, ''),
      ...credentials,
      pollSeconds: e.HOLOCASE_ORTHANC_POLL_SECONDS ?? DEFAULTS.pollSeconds,
      startAt: e.HOLOCASE_ORTHANC_START ?? DEFAULTS.startAt,
    },
  };
}
