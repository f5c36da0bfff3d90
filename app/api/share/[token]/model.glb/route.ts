// The shared case's GLB. `holocase serve` answers this path before Next (server/http/directRoutes.ts);
// this file serves it under plain `next start` / `next dev`.
import { shareGlbRoute } from '../../../../../server/http/glbRoutes.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const GET = shareGlbRoute;
export const HEAD = shareGlbRoute;
