/**
 * A small client for Orthanc's REST API: JSON and file reads, storing an instance. Answers carry
 * patient data (names, IDs), so nothing read here is logged or put into an error message: errors say
 * which request failed and how (status, network code), with Orthanc's opaque resource ids at most.
 */
import { HolocaseError } from '../errors.ts';

export interface OrthancClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8042` (no credentials in it). */
  url: string;
  username?: string;
  password?: string;
  /** Per-request time limit. */
  timeoutMs?: number;
}

export const DEFAULTS = { timeoutMs: 120_000 } as const;

/** What `POST /instances` answers. */
export interface StoredInstance {
  ID: string;
  ParentSeries: string;
  ParentStudy: string;
  Status: string;
}

export interface OrthancClient {
  /** The base URL, for messages. */
  readonly url: string;
  json<T>(pathname: string): Promise<T>;
  bytes(pathname: string): Promise<Uint8Array>;
  storeInstance(bytes: Uint8Array): Promise<StoredInstance>;
}

export function createOrthancClient(options: OrthancClientOptions): OrthancClient {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const authorization =
    options.username !== undefined ? `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}` : undefined;

  /**
   * 1. Send with credentials and a time limit.
   * 2. Network failures and non-2xx answers become PACS_UNAVAILABLE (NOT_FOUND for 404), naming the
   *    request by method and path only.
   */
  async function request(method: string, pathname: string, body?: Uint8Array): Promise<Response> {
    const headers: Record<string, string> = {};
    if (authorization) headers.Authorization = authorization;
    if (body) headers['Content-Type'] = 'application/dicom';
    let response: Response;
    try {
      response = await fetch(base + pathname, { method, headers, body: body as BodyInit | undefined, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new HolocaseError('PACS_UNAVAILABLE', `Orthanc at ${base} cannot be reached (${cause})`, { cause: error });
    }
    if (response.ok) return response;
    await response.body?.cancel();
    const what = `${method} ${pathname.split('?')[0]}`;
    if (response.status === 404) throw new HolocaseError('NOT_FOUND', `Orthanc has no such resource (${what})`);
    if (response.status === 401 || response.status === 403) {
      throw new HolocaseError('PACS_UNAVAILABLE', `Orthanc refused holocase's credentials (${response.status} on ${what}); check HOLOCASE_ORTHANC_USER/PASSWORD`);
    }
    throw new HolocaseError('PACS_UNAVAILABLE', `Orthanc answered ${response.status} to ${what}`);
  }

  return {
    url: base,
    async json<T>(pathname: string) {
      return (await (await request('GET', pathname)).json()) as T;
    },
    async bytes(pathname: string) {
      return new Uint8Array(await (await request('GET', pathname)).arrayBuffer());
    },
    async storeInstance(bytes: Uint8Array) {
      return (await (await request('POST', '/instances', bytes)).json()) as StoredInstance;
    },
  };
}
