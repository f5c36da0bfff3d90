// Where the chunks of the case's CT lie, for a signed-in user (JSON; built from the stored CT on first use).
import { caseCtManifestRoute } from '../../../../../server/http/volumeRoutes.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const GET = caseCtManifestRoute;
