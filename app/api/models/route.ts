// The segmentation models an upload or re-run may name (with licence, limits and structures), and the default.
import { apiRoute, jsonResponse } from '../../../server/http/apiRoute.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const GET = apiRoute({ auth: 'user' }, async ({ rt }) => jsonResponse({ models: await rt.listModels(), defaultModel: rt.config.defaultModel }));
