/**
 * Server configuration: command-line overrides on top of `HOLOCASE_*` environment variables on top of
 * `DEFAULTS`. One typed object, validated once, passed to everything that needs it (no global reads).
 */
import path from 'node:path';
import { z } from 'zod';
import { HolocaseError } from './errors.ts';
import { defaultJobMemory, parseByteSize } from './machineMemory.ts';
import { VOLUME_LIMITS, type VolumeLimits } from './volume/volumeLimits.ts';

export interface ServerConfig {
  /** Folder holding `holocase.db`, case folders, uploads in progress and TLS files (`HOLOCASE_DATA`). */
  dataDir: string;
  /** TCP port (`PORT` or `HOLOCASE_PORT`). */
  port: number;
  /** Interface to listen on; `0.0.0.0` reaches the hospital network (`HOLOCASE_HOST`). */
  host: string;
  /** Serve HTTPS (WebXR needs a secure context away from localhost) (`HOLOCASE_HTTPS=1`). */
  https: boolean;
  /** PEM certificate and key; when unset under HTTPS a self-signed pair is made in `<data>/tls/`. */
  tlsCert?: string;
  tlsKey?: string;
  /** Largest accepted upload in bytes (`HOLOCASE_MAX_UPLOAD_BYTES`); more gets 413. */
  maxUploadBytes: number;
  /** An upload that sends nothing for this long is dropped (408) (`HOLOCASE_UPLOAD_IDLE_SECONDS`). */
  uploadIdleSeconds: number;
  /**
   * Largest CT a job reads, checked from its header before a voxel is read (`HOLOCASE_MAX_VOXELS`,
   * `HOLOCASE_MAX_VOLUME_BYTES`); beyond it the job fails, not retryable.
   */
  volumeLimits: VolumeLimits;
  /**
   * Memory one job may use, in bytes (`HOLOCASE_JOB_MEMORY`, e.g. `24G`; default three quarters of the
   * machine's memory). A CT whose planned peak is larger is refused; a job that grows past it is stopped.
   */
  jobMemoryBytes: number;  /** Redis URL: set → scale-out mode (BullMQ queue, `holocase worker` processes run the jobs). */
  redisUrl?: string;
  /** Session lifetime in hours (`HOLOCASE_SESSION_HOURS`). */
  sessionHours: number;
  /** Default and longest share link lifetime in days. */
  shareDefaultDays: number;
  shareMaxDays: number;
  /** How often a job may be interrupted by a server stop before it is failed (retryable). */
  maxInterruptions: number;
  /** `Cache-Control: max-age` for a signed-in user's versioned GLB URL. */
  glbMaxAgeSeconds: number;
  /** Trust `X-Forwarded-Host`/`-Proto` from a reverse proxy in front (`HOLOCASE_TRUST_PROXY=1`). */
  trustProxy: boolean;
  /** pino level (`HOLOCASE_LOG_LEVEL`). */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Model bundles folder (`HOLOCASE_MODELS`); unset → the project's `models/`. */
  modelsDir?: string;
  /** Model used when an upload names none (`HOLOCASE_DEFAULT_MODEL`). */
  defaultModel: string;
}

export const DEFAULTS: ServerConfig = {
  dataDir: './data',
  port: 3000,
  host: '0.0.0.0',
  https: false,
  maxUploadBytes: 4 * 1024 ** 3,
  uploadIdleSeconds: 120,
  volumeLimits: VOLUME_LIMITS,
  jobMemoryBytes: defaultJobMemory(),
  sessionHours: 12,
  shareDefaultDays: 7,
  shareMaxDays: 90,
  maxInterruptions: 2,
  glbMaxAgeSeconds: 3600,
  trustProxy: false,
  logLevel: 'info',
  defaultModel: 'hu-anatomy',
};

/** An on/off setting as people write it: `1`, `true`, `yes` or `on` (any case) is on; anything else, or none, is off. */
export function parseFlag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());
}

const flag = z.string().transform(parseFlag).optional();
const positiveInt = z.coerce.number().int().positive().optional();
const byteSize = z
  .string()
  .transform((value, context) => {
    const bytes = parseByteSize(value);
    if (bytes === undefined) context.addIssue({ code: 'custom', message: 'expected a size such as 16G, 1500M or a number of bytes' });
    return bytes ?? 0;
  })
  .optional();

const EnvSchema = z.object({
  HOLOCASE_DATA: z.string().min(1).optional(),
  HOLOCASE_PORT: positiveInt,
  PORT: positiveInt,
  HOLOCASE_HOST: z.string().min(1).optional(),
  HOLOCASE_HTTPS: flag,
  HOLOCASE_TLS_CERT: z.string().min(1).optional(),
  HOLOCASE_TLS_KEY: z.string().min(1).optional(),
  HOLOCASE_MAX_UPLOAD_BYTES: positiveInt,
  HOLOCASE_UPLOAD_IDLE_SECONDS: positiveInt,
  HOLOCASE_MAX_VOXELS: positiveInt,
  HOLOCASE_MAX_VOLUME_BYTES: byteSize,
  HOLOCASE_JOB_MEMORY: byteSize,
  REDIS_URL: z.string().min(1).optional(),
  HOLOCASE_SESSION_HOURS: positiveInt,
  HOLOCASE_SHARE_DAYS: positiveInt,
  HOLOCASE_MAX_INTERRUPTIONS: positiveInt,
  HOLOCASE_TRUST_PROXY: flag,
  HOLOCASE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  HOLOCASE_MODELS: z.string().min(1).optional(),
  HOLOCASE_DEFAULT_MODEL: z.string().min(1).optional(),
});

/**
 * 1. Validate the environment (a wrong value names the variable).
 * 2. Layer: DEFAULTS ← environment ← `overrides` (command-line options).
 * 3. Resolve the data folder to an absolute path.
 */
export function loadConfig(overrides: Partial<ServerConfig> = {}, env: Record<string, string | undefined> = process.env): ServerConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HolocaseError('BAD_REQUEST', `configuration: ${String(issue?.path[0])} is not valid (${issue?.message})`);
  }
  const e = parsed.data;
  const fromEnv: Partial<ServerConfig> = {
    dataDir: e.HOLOCASE_DATA,
    port: e.HOLOCASE_PORT ?? e.PORT,
    host: e.HOLOCASE_HOST,
    https: e.HOLOCASE_HTTPS,
    tlsCert: e.HOLOCASE_TLS_CERT,
    tlsKey: e.HOLOCASE_TLS_KEY,
    maxUploadBytes: e.HOLOCASE_MAX_UPLOAD_BYTES,
    uploadIdleSeconds: e.HOLOCASE_UPLOAD_IDLE_SECONDS,
    volumeLimits:
      e.HOLOCASE_MAX_VOXELS || e.HOLOCASE_MAX_VOLUME_BYTES
        ? { maxVoxels: e.HOLOCASE_MAX_VOXELS ?? VOLUME_LIMITS.maxVoxels, maxBytes: e.HOLOCASE_MAX_VOLUME_BYTES ?? VOLUME_LIMITS.maxBytes }
        : undefined,
    jobMemoryBytes: e.HOLOCASE_JOB_MEMORY,
    redisUrl: e.REDIS_URL,
    sessionHours: e.HOLOCASE_SESSION_HOURS,
    shareDefaultDays: e.HOLOCASE_SHARE_DAYS,
    maxInterruptions: e.HOLOCASE_MAX_INTERRUPTIONS,
    trustProxy: e.HOLOCASE_TRUST_PROXY,
    logLevel: e.HOLOCASE_LOG_LEVEL,
    modelsDir: e.HOLOCASE_MODELS,
    defaultModel: e.HOLOCASE_DEFAULT_MODEL,
  };
  const config: ServerConfig = { ...DEFAULTS };
  for (const layer of [fromEnv, overrides]) {
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
    }
  }
  config.dataDir = path.resolve(/* turbopackIgnore: true */ config.dataDir);
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new HolocaseError('BAD_REQUEST', 'configuration: give both a TLS certificate and its key, or neither');
  }
  return config;
}
