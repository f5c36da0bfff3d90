// One case: detail (GET), label / team sharing (PATCH), delete with all its files (DELETE).
import { z } from 'zod';
import { apiRoute, jsonResponse, readJson } from '../../../../server/http/apiRoute.ts';
import { caseDetail } from '../../../../server/http/caseViews.ts';
import { cleanLabel } from '../../../../server/http/caseUpload.ts';
import { caseForUser } from '../../../../server/auth/caseAccess.ts';
import { getCase, updateCaseMeta } from '../../../../server/store/cases.ts';
import { deleteCase } from '../../../../server/jobs/caseLifecycle.ts';
import { editingState } from '../../../../server/edit/editingState.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

type Params = { id: string };
const Patch = z.object({ label: z.string().max(200).optional(), teamShared: z.boolean().optional() }).strict();

export const GET = apiRoute<Params>({ auth: 'user' }, async ({ rt, user, params }) => {
  const { c, editing } = editingState(rt.db, rt.config.dataDir, caseForUser(rt.db, user!, params.id, 'view'), user);
  return jsonResponse(await caseDetail(rt.config.dataDir, c, editing));
});

export const PATCH = apiRoute<Params>({ auth: 'user' }, async ({ request, rt, user, params }) => {
  const c = caseForUser(rt.db, user!, params.id, 'modify');
  const body = await readJson(request, Patch);
  updateCaseMeta(rt.db, c.id, { label: body.label === undefined ? undefined : cleanLabel(body.label), teamShared: body.teamShared });
  const { c: now, editing } = editingState(rt.db, rt.config.dataDir, getCase(rt.db, c.id)!, user);
  return jsonResponse(await caseDetail(rt.config.dataDir, now, editing));
});

export const DELETE = apiRoute<Params>({ auth: 'user' }, async ({ rt, user, params }) => {
  const c = caseForUser(rt.db, user!, params.id, 'modify');
  await deleteCase(rt, c.id);
  return new Response(null, { status: 204 });
});
