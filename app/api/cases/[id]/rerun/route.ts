// Process the case again, optionally with another model ({ model }), from its de-identified CT.
import { z } from 'zod';
import { apiRoute, jsonResponse, readJson } from '../../../../../server/http/apiRoute.ts';
import { caseForUser } from '../../../../../server/auth/caseAccess.ts';
import { startCaseJob } from '../../../../../server/jobs/caseLifecycle.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

const Body = z.object({ model: z.string().min(1).max(100).optional() });

export const POST = apiRoute<{ id: string }>({ auth: 'user' }, async ({ request, rt, user, params }) => {
  const c = caseForUser(rt.db, user!, params.id, 'modify');
  const body = await readJson(request, Body, { optional: true });
  const model = await rt.findModel(body.model ?? c.modelId);
  const jobId = await startCaseJob(rt, c.id, model);
  return jsonResponse({ id: c.id, jobId, eventsUrl: `/api/cases/${c.id}/events` }, { status: 202 });
});
