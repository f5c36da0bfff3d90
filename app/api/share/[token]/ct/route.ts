// Where the chunks of the shared case's CT lie (JSON; built from the stored CT on first use).
import { shareCtManifestRoute } from '../../../../../server/http/volumeRoutes.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const GET = shareCtManifestRoute;
