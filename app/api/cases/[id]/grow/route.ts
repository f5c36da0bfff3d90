// Grow from seeds over a box of the CT: seeds in, preview labels out (nothing stored).
import { growRoute } from '../../../../../server/http/editOperationRoutes.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const POST = growRoute;
