'use client';
/**
 * The browser's side of the HTTP API (the route handlers in `app/api`): typed calls that throw an `ApiError`
 * carrying the server's message, which is written for people and can be shown as it is.
 */
// The API's own view types; type-only, so nothing of the server reaches the browser bundle.
import type { CaseDetail, CaseSummary, SharedCaseView as SharedCase, StructureView } from '../../server/http/caseViews.ts';
import type { NewShare, ShareInfo } from '../../server/auth/shareLinks.ts';
import type { sessionUserView } from '../../server/auth/signIn.ts';
import type { ModelInfo } from '../../server/jobs/modelCatalog.ts';
import type { PacsStatusView } from '../../server/pacs/pacsStatus.ts';
import type { RevisionView } from '../../server/edit/revisionViews.ts';

export type { CaseDetail, CaseSummary, ModelInfo, NewShare, PacsStatusView, ShareInfo, RevisionView, SharedCase, StructureView };

/** The signed-in user as `/api/session` shows them. */
export type SessionUser = ReturnType<typeof sessionUserView>;

/** An API error: HTTP status, the server's error code and its message for people. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Calls the API; a network failure becomes an `ApiError` with status 0. */
async function apiFetch(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, { credentials: 'same-origin', cache: 'no-store', ...init });
  } catch {
    throw new ApiError(0, 'NETWORK', 'the server cannot be reached; check the network connection');
  }
}

/** Calls the API with JSON in and out; throws `ApiError` for any non-2xx answer. */
async function apiJson<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const response = await apiFetch(path, {
    method: init.method ?? 'GET',
    headers: init.body === undefined ? undefined : { 'Content-Type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return readApiResponse<T>(response.status, await response.text());
}

/** A multipart form of a `meta` JSON part and one binary part (the editing routes' shape). */
function editForm(meta: unknown, part: string, data: Blob): FormData {
  const form = new FormData();
  form.append('meta', JSON.stringify(meta));
  form.append(part, data, `${part}.bin.gz`);
  return form;
}

/** Sends an editing form and returns the binary answer (gzip), or throws the server's `ApiError`. */
async function apiBinary(path: string, form: FormData): Promise<{ body: Blob; headers: Headers }> {
  const response = await apiFetch(path, { method: 'POST', body: form });
  if (!response.ok) readApiResponse(response.status, await response.text());
  return { body: await response.blob(), headers: response.headers };
}

/** Turns a status and body into data or an `ApiError`. */
export function readApiResponse<T>(status: number, text: string): T {
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: handled below */
  }
  if (status >= 200 && status < 300) return data as T;
  const error = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
  throw new ApiError(status, error?.code ?? `HTTP_${status}`, error?.message ?? `the server answered ${status}`);
}

export const api = {
  session: () => apiJson<{ user: SessionUser | null }>('/api/session'),
  signIn: (username: string, password: string) => apiJson<{ user: SessionUser }>('/api/session', { method: 'POST', body: { username, password } }),
  signOut: () => apiJson<{ user: null }>('/api/session', { method: 'DELETE' }),
  changePassword: (currentPassword: string, newPassword: string) =>
    apiJson<{ user: SessionUser }>('/api/session/password', { method: 'POST', body: { currentPassword, newPassword } }),
  cases: () => apiJson<{ cases: CaseSummary[] }>('/api/cases'),
  case: (id: string) => apiJson<CaseDetail>(`/api/cases/${encodeURIComponent(id)}`),
  deleteCase: (id: string) => apiJson<unknown>(`/api/cases/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  rerun: (id: string, model: string) => apiJson<{ id: string; eventsUrl: string }>(`/api/cases/${encodeURIComponent(id)}/rerun`, { method: 'POST', body: { model } }),
  createShare: (id: string, expiresInDays?: number) =>
    apiJson<NewShare>(`/api/cases/${encodeURIComponent(id)}/shares`, { method: 'POST', body: expiresInDays ? { expiresInDays } : {} }),
  shares: (id: string) => apiJson<{ shares: ShareInfo[] }>(`/api/cases/${encodeURIComponent(id)}/shares`),
  revokeShare: (shareId: string) => apiJson<unknown>(`/api/shares/${encodeURIComponent(shareId)}`, { method: 'DELETE' }),
  shared: (token: string) => apiJson<SharedCase>(`/api/share/${encodeURIComponent(token)}`),
  redeemCode: (code: string) => apiJson<{ url: string }>('/api/share-code', { method: 'POST', body: { code } }),
  models: () => apiJson<{ models: ModelInfo[]; defaultModel: string }>('/api/models'),
  pacsStatus: () => apiJson<PacsStatusView>('/api/admin/pacs'),
  revisions: (id: string) => apiJson<{ current: number | null; revisions: RevisionView[] }>(`/api/cases/${encodeURIComponent(id)}/revisions`),
  saveRevision: async (id: string, meta: SaveRevisionMeta, labels: Blob) => {
    const response = await apiFetch(`/api/cases/${encodeURIComponent(id)}/revisions`, { method: 'POST', body: editForm(meta, 'labels', labels) });
    return readApiResponse<{ revision: number; changedStructures: number[]; mesh: string }>(response.status, await response.text());
  },
  restoreRevision: (id: string, revision: number, baseRevision: number) =>
    apiJson<{ revision: number }>(`/api/cases/${encodeURIComponent(id)}/revisions/${revision}/restore`, { method: 'POST', body: { baseRevision, note: `restored revision ${revision}` } }),
  /** Marks a structure validated (the answer names who and when) or clears the mark (no answer). */
  setValidated: (id: string, label: number, validated: boolean) =>
    apiJson<{ label: number; validatedBy: string; validatedAt: string; revision: number } | undefined>(`/api/cases/${encodeURIComponent(id)}/structures/${label}/validation`, {
      method: validated ? 'PUT' : 'DELETE',
    }),
  /** Grow from seeds, islands, fill between slices: a box of labels (gzip uint16) in, the result over the box out. */
  boxOperation: (id: string, op: 'grow' | 'islands' | 'fill-between', meta: { box: number[] } & Record<string, unknown>, data: Blob) =>
    apiBinary(`/api/cases/${encodeURIComponent(id)}/${op}`, editForm(meta, op === 'grow' ? 'seeds' : 'labels', data)),
};

/** The `meta` part of a save: the revision it is based on, the names of new or renamed labels, a note. */
export interface SaveRevisionMeta {
  baseRevision: number;
  structures: Record<string, { name: string; displayName?: string; color?: string }>;
  note?: string;
}

/** "3 Nov 2026, 14:05" in the reader's locale. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
