// A share link's live events: the case's state, then new revisions and validations (read-only).
import { apiRoute } from '../../../../../server/http/apiRoute.ts';
import { caseEventStream, currentStateEvent } from '../../../../../server/http/caseEventStream.ts';
import { caseSummary } from '../../../../../server/http/caseViews.ts';
import { caseForShareToken } from '../../../../../server/auth/shareLinks.ts';
import { getCase } from '../../../../../server/store/cases.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const GET = apiRoute<{ token: string }>({ auth: 'none' }, async ({ request, rt, params }) => {
  const { case: c } = caseForShareToken(rt.db, params.token);
  const stillValid = () => {
    try {
      caseForShareToken(rt.db, params.token);
      return true;
    } catch {
      return false;
    }
  };
  return caseEventStream(rt.events, c.id, () => currentStateEvent(caseSummary(getCase(rt.db, c.id) ?? c)), request.signal, {
    glbUrl: (v, level) => `/api/share/${params.token}/model.glb?${level === 'xr' ? 'level=xr&' : ''}v=${v}`,
    stillValid,
  });
});
