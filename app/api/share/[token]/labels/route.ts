// The shared case's current label map.
// `holocase serve` answers this path before Next (server/http/directRoutes.ts); this file serves it
// under plain `next start` / `next dev`.
import { shareLabelsRoute } from '../../../../../server/http/volumeRoutes.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const GET = shareLabelsRoute;
