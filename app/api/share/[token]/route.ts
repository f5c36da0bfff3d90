// What a share link shows: the case's label, date, model and structure list — nothing else.
import { apiRoute, jsonResponse } from '../../../../server/http/apiRoute.ts';
import { sharedCaseView } from '../../../../server/http/caseViews.ts';
import { caseForShareToken } from '../../../../server/auth/shareLinks.ts';
import { editingState } from '../../../../server/edit/editingState.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const GET = apiRoute<{ token: string }>({ auth: 'none' }, async ({ rt, params }) => {
  const { case: row, share } = caseForShareToken(rt.db, params.token);
  const { c, editing } = editingState(rt.db, rt.config.dataDir, row);
  return jsonResponse(await sharedCaseView(rt.config.dataDir, c, share, params.token, editing));
});
