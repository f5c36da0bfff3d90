// Restore a revision: a new revision equal to revision n (POST, optional { baseRevision, note }).
import { z } from 'zod';
import { HolocaseError } from '../../../../../../../server/errors.ts';
import { apiRoute, jsonResponse, readJson } from '../../../../../../../server/http/apiRoute.ts';
import { caseForUser } from '../../../../../../../server/auth/caseAccess.ts';
import { restoreRevision } from '../../../../../../../server/edit/saveRevision.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

const Body = z.object({ baseRevision: z.number().int().min(0).optional(), note: z.string().max(500).optional() });

export const POST = apiRoute<{ id: string; n: string }>({ auth: 'user' }, async ({ request, rt, user, params }) => {
  const c = caseForUser(rt.db, user!, params.id, 'edit');
  if (!/^\d{1,6}$/.test(params.n)) throw new HolocaseError('NOT_FOUND', `no revision "${params.n}"`);
  const body = await readJson(request, Body, { optional: true });
  const saved = await restoreRevision(rt, c, user!, Number(params.n), body);
  return jsonResponse(saved, { status: 201 });
});
