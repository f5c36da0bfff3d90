// Label-map revisions of a case: the list (GET), and saving a corrected label map as a new one (POST, multipart).
import { z } from 'zod';
import { apiRoute, jsonResponse } from '../../../../../server/http/apiRoute.ts';
import { readEditForm } from '../../../../../server/http/editForm.ts';
import { caseForUser } from '../../../../../server/auth/caseAccess.ts';
import { inflateLabels } from '../../../../../server/edit/labelPayload.ts';
import { revisionList } from '../../../../../server/edit/revisionViews.ts';
import { saveRevision } from '../../../../../server/edit/saveRevision.ts';
import { ctVoxelCount } from '../../../../../server/edit/caseGrid.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

type Params = { id: string };

const Meta = z.object({
  baseRevision: z.number().int().min(0),
  structures: z.record(z.string().regex(/^[1-9][0-9]{0,4}$/), z.object({ name: z.string().min(1).max(64), displayName: z.string().max(80).optional(), color: z.string().max(7).optional() })).default({}),
  note: z.string().max(500).optional(),
});

export const GET = apiRoute<Params>({ auth: 'user' }, async ({ rt, user, params }) =>
  jsonResponse(revisionList(rt.db, rt.config.dataDir, caseForUser(rt.db, user!, params.id, 'view'))),
);

export const POST = apiRoute<Params>({ auth: 'user' }, async ({ request, rt, user, params }) => {
  const c = caseForUser(rt.db, user!, params.id, 'edit');
  const { meta, data } = await readEditForm(request, { meta: Meta, part: 'labels', maxBytes: rt.config.maxUploadBytes });
  const labels = await inflateLabels(data, await ctVoxelCount(rt.config.dataDir, c.id), 'the label map');
  const saved = await saveRevision(rt, c, user!, { ...meta, labels });
  return jsonResponse(saved, { status: 201, headers: { Location: `/api/cases/${c.id}/revisions` } });
});
