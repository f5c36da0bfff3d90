// Administrators: the PACS connection, studies received and studies skipped with the reason.
import { apiRoute, jsonResponse } from '../../../../server/http/apiRoute.ts';
import { pacsStatus } from '../../../../server/pacs/pacsStatus.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const GET = apiRoute({ auth: 'user' }, async ({ rt, user }) => jsonResponse(pacsStatus(rt.db, rt.pacs, user!)));
