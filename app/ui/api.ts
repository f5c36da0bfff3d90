'use client';
/**
 * The browser's side of the HTTP API (the route handlers in `app/api`): typed calls that throw an `ApiError`
 * carrying the server's message, which is written for people and can be shown as it is.
 */
// The API's own view types; type-only, so nothing of the server reaches the browser bundle.
import type { CaseDetail, CaseSummary, SharedCaseView as SharedCase } from '../../server/http/caseViews.ts';
import type { NewShare, ShareInfo } from '../../server/auth/shareLinks.ts';
import type { sessionUserView } from '../../server/auth/signIn.ts';
import type { ModelInfo } from '../../server/jobs/modelCatalog.ts';
import type { PacsStatusView } from '../../server/pacs/pacsStatus.ts';

export type { CaseDetail, CaseSummary, ModelInfo, NewShare, PacsStatusView, ShareInfo, SharedCase };

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

/** Calls the API with JSON in and out; throws `ApiError` for any non-2xx answer. */
async function apiJson<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? 'GET',
      headers: init.body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'the server cannot be reached; check the network connection');
  }
  return readApiResponse<T>(response.status, await response.text());
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
};

/** "3 Nov 2026, 14:05" in the reader's locale. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
