// The case's hologram (GLB) for a signed-in user. `holocase serve` answers this path before Next
// (see server/http/directRoutes.ts); this file serves it under plain `next start` / `next dev`.
import { caseGlbRoute } from '../../../../../server/http/glbRoutes.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const GET = caseGlbRoute;
export const HEAD = caseGlbRoute;
