// Fill a structure between its painted slices over a box (nothing stored).
import { fillBetweenRoute } from '../../../../../server/http/editOperationRoutes.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const POST = fillBetweenRoute;
