// Live job progress as Server-Sent Events (first event: the current state).
import { apiRoute } from '../../../../../server/http/apiRoute.ts';
import { caseEventStream, currentStateEvent } from '../../../../../server/http/caseEventStream.ts';
import { caseSummary } from '../../../../../server/http/caseViews.ts';
import { caseForUser } from '../../../../../server/auth/caseAccess.ts';
import { getCase } from '../../../../../server/store/cases.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const GET = apiRoute<{ id: string }>({ auth: 'user' }, async ({ request, rt, user, params }) => {
  const c = caseForUser(rt.db, user!, params.id, 'view');
  return caseEventStream(
    rt.events,
    c.id,
    () => {
      const now = getCase(rt.db, c.id);
      return now ? currentStateEvent(caseSummary(now)) : { type: 'deleted' };
    },
    request.signal,
  );
});
