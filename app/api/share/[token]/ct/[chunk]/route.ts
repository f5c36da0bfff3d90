// One chunk of the shared case's CT (gzip int16).
// `holocase serve` answers this path before Next (server/http/directRoutes.ts); this file serves it
// under plain `next start` / `next dev`.
import { shareCtChunkRoute } from '../../../../../../server/http/volumeRoutes.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const GET = shareCtChunkRoute;
