// A structure marked validated by the signed-in user (PUT), or not any more (DELETE).
import { HolocaseError } from '../../../../../../../server/errors.ts';
import { apiRoute, jsonResponse } from '../../../../../../../server/http/apiRoute.ts';
import { caseForUser } from '../../../../../../../server/auth/caseAccess.ts';
import { validateStructure } from '../../../../../../../server/edit/validateStructure.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

type Params = { id: string; label: string };

function labelOf(text: string): number {
  if (!/^[1-9][0-9]{0,4}$/.test(text) || Number(text) > 65535) throw new HolocaseError('NOT_FOUND', `no structure "${text}"`);
  return Number(text);
}

export const PUT = apiRoute<Params>({ auth: 'user' }, async ({ rt, user, params }) => {
  const c = caseForUser(rt.db, user!, params.id, 'edit');
  const v = validateStructure(rt, c, labelOf(params.label), user!, true)!;
  return jsonResponse({ label: v.label, validatedBy: v.by, validatedAt: v.at, revision: v.revision });
});

export const DELETE = apiRoute<Params>({ auth: 'user' }, async ({ rt, user, params }) => {
  const c = caseForUser(rt.db, user!, params.id, 'edit');
  validateStructure(rt, c, labelOf(params.label), user!, false);
  return new Response(null, { status: 204 });
});
