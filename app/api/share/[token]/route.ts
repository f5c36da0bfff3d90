// What a share link shows: the case's label, date, model and structure list — nothing else.
import { apiRoute, jsonResponse } from '../../../../server/http/apiRoute.ts';
import { readCaseReport, structuresOf, type SharedCaseView } from '../../../../server/http/caseViews.ts';
import { caseForShareToken } from '../../../../server/auth/shareLinks.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const GET = apiRoute<{ token: string }>({ auth: 'none' }, async ({ rt, params }) => {
  const { case: c, share } = caseForShareToken(rt.db, params.token);
  const report = await readCaseReport(rt.config.dataDir, c.id);
  const view: SharedCaseView = {
    label: c.label,
    processedAt: c.processedAt === null ? null : new Date(c.processedAt).toISOString(),
    model: { id: c.modelId, name: c.modelName, version: c.modelVersion },
    structures: structuresOf(report),
    glbUrl: `/api/share/${params.token}/model.glb`,
    expiresAt: share.expiresAt,
  };
  return jsonResponse(view);
});
