// The signed-in user's case list (GET) and a new case from an upload (POST → 202).
import { apiRoute, jsonResponse } from '../../../server/http/apiRoute.ts';
import { acceptCaseUpload } from '../../../server/http/caseUpload.ts';
import { caseSummary } from '../../../server/http/caseViews.ts';
import { listVisibleCases } from '../../../server/store/cases.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const GET = apiRoute({ auth: 'user' }, async ({ rt, user }) => jsonResponse({ cases: listVisibleCases(rt.db, user!).map(caseSummary) }));

export const POST = apiRoute({ auth: 'user' }, async ({ request, rt, user }) => {
  const accepted = await acceptCaseUpload(rt, user!, request);
  return jsonResponse(accepted, { status: 202, headers: { Location: `/api/cases/${accepted.id}` } });
});
