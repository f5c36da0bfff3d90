/**
 * The two GLB downloads — a signed-in user's case, and a share link's case — at either level of detail
 * (`?level=xr` for headsets, the desktop's otherwise; see `mesh/detailLevels.ts`). Used by the route
 * files in `app/api` and, ahead of Next, by our HTTP server (`directRoutes.ts`): Next drops
 * `Content-Length` and `Content-Encoding` from route handler responses, so precompressed bodies and
 * exact `HEAD` answers need the direct path.
 */
import type { DetailLevel } from '../../mesh/detailLevels.ts';
import { HolocaseError } from '../errors.ts';
import { caseForUser } from '../auth/caseAccess.ts';
import { caseForShareToken } from '../auth/shareLinks.ts';
import { caseLayout } from '../store/caseFolders.ts';
import { glbFileFor } from '../store/glbVariants.ts';
import { apiRoute } from './apiRoute.ts';
import { glbVersion } from './caseViews.ts';
import { serveGlb } from './serveGlb.ts';
import { servedGlbDir } from '../edit/revisionFiles.ts';

/** The level a request asks for: `?level=xr` or `?level=desktop` (the default). */
export function requestedLevel(request: Request): DetailLevel {
  const level = new URL(request.url).searchParams.get('level');
  if (level === null || level === 'desktop') return 'desktop';
  if (level === 'xr') return 'xr';
  throw new HolocaseError('BAD_REQUEST', `unknown level of detail "${level.slice(0, 40)}" (use level=xr or level=desktop)`);
}

export const caseGlbRoute = apiRoute<{ id: string }>({ auth: 'user' }, async ({ request, rt, user, params }) => {
  const c = caseForUser(rt.db, user!, params.id, 'view');
  if (!c.glbEtag) throw new HolocaseError('NOT_FOUND', 'this case has no model yet');
  const file = await glbFileFor(servedGlbDir(rt.config.dataDir, c, caseLayout(rt.config.dataDir, c.id).caseDir), c, requestedLevel(request));
  // A URL naming the current version (?v=) may be cached; the bare URL is revalidated each time.
  const versioned = new URL(request.url).searchParams.get('v') === glbVersion(file.etag);
  return serveGlb(request, file, { cacheControl: versioned ? `private, max-age=${rt.config.glbMaxAgeSeconds}` : 'private, no-cache' });
});

/** Revalidated on every use (`no-cache`), so a revoked or expired link stops at once. */
export const shareGlbRoute = apiRoute<{ token: string }>({ auth: 'none' }, async ({ request, rt, params }) => {
  const { case: c } = caseForShareToken(rt.db, params.token);
  const file = await glbFileFor(servedGlbDir(rt.config.dataDir, c, caseLayout(rt.config.dataDir, c.id).caseDir), c, requestedLevel(request));
  return serveGlb(request, file, { cacheControl: 'private, no-cache' });
});
