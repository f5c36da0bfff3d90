// Keep the largest piece of a structure, or remove its small pieces, over a box (nothing stored).
import { islandsRoute } from '../../../../../server/http/editOperationRoutes.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const POST = islandsRoute;
