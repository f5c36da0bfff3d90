// The case's label map (current revision, or ?revision=n) for a signed-in user.
// `holocase serve` answers this path before Next (server/http/directRoutes.ts); this file serves it
// under plain `next start` / `next dev`.
import { caseLabelsRoute } from '../../../../../server/http/volumeRoutes.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const GET = caseLabelsRoute;
