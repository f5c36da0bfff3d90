/**
 * The CT and the label map for the browser's slice views, with the GLB's access rules: a signed-in
 * user who may view the case, or a share link (read-only, checked again on every request, so a
 * revoked link stops at once).
 *
 *   GET …/ct             the chunk manifest (JSON; `volumeChunks.ts`), built on first use if missing
 *   GET …/ct/<n>?v=<b>   chunk n: gzip bytes of int16 voxels (inflated by the browser)
 *   GET …/labels         the current revision's label map as stored (gzip NIfTI-1; `server/edit`
 *                        keeps the revisions), `?revision=n` for an older one (signed-in users only)
 *
 * where … is `/api/cases/<id>` or `/api/share/<token>`. Chunks and revisions never change, so a
 * signed-in user's browser may keep them; share-link answers are always revalidated.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { HolocaseError } from '../errors.ts';
import { caseForUser } from '../auth/caseAccess.ts';
import { caseForShareToken } from '../auth/shareLinks.ts';
import { CASE_FILES, caseLayout } from '../store/caseFolders.ts';
import path from 'node:path';
import type { CaseRow } from '../store/cases.ts';
import type { Database } from '../store/database.ts';
import { ensureRevisions } from '../edit/modelRevision.ts';
import { revisionLabelsFile } from '../edit/revisionFiles.ts';
import { getRevision, latestRevision } from '../edit/revisionRows.ts';
import { ctChunkStream, ensureCtChunks } from '../store/ctChunkStore.ts';
import { apiRoute, jsonResponse, type ApiContext } from './apiRoute.ts';

/** Header naming the revision whose label map a labels answer holds. */
export const REVISION_HEADER = 'X-Holocase-Revision';

interface VolumeAccess {
  c: CaseRow;
  /** Whether the answer may be kept by the browser (signed-in users) or must be revalidated (share links). */
  cacheable: boolean;
  /** Share links see the current revision only. */
  anyRevision: boolean;
}

/** Who is asking: a signed-in user for a case id, or anyone holding a share token. */
interface Audience<P> {
  auth: 'user' | 'none';
  resolve(ctx: ApiContext<P>): VolumeAccess;
}

const USER: Audience<{ id: string }> = {
  auth: 'user',
  resolve: ({ rt, user, params }) => ({ c: caseForUser(rt.db, user!, params.id, 'view'), cacheable: true, anyRevision: true }),
};
const SHARE: Audience<{ token: string }> = {
  auth: 'none',
  resolve: ({ rt, params }) => ({ c: caseForShareToken(rt.db, params.token).case, cacheable: false, anyRevision: false }),
};

function caseDirOf(dataDir: string, c: CaseRow): string {
  if (c.status !== 'done' && !c.glbEtag) throw new HolocaseError('NOT_FOUND', 'the CT of this case is not available until its processing has finished');
  return caseLayout(dataDir, c.id).caseDir;
}

function notModified(request: Request, etag: string, headers: Headers): Response | undefined {
  const header = request.headers.get('if-none-match');
  if (!header || !header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return undefined;
  return new Response(null, { status: 304, headers });
}

/**
 * The file holding a revision's label map (the current one, the newest, when `revision` is undefined).
 * A case without revision rows yet gets its revision 0 recorded first.
 */
function labelsFileOf(db: Database, dataDir: string, c: CaseRow, caseDir: string, revision: number | undefined): { file: string; revision: number } {
  ensureRevisions(db, dataDir, c);
  const current = latestRevision(db, c.id);
  if (current < 0) {
    if (revision !== undefined && revision !== 0) throw new HolocaseError('NOT_FOUND', `this case has no revision ${revision}`);
    return { file: path.join(caseDir, CASE_FILES.labels), revision: 0 };
  }
  const n = revision ?? current;
  if (!getRevision(db, c.id, n)) throw new HolocaseError('NOT_FOUND', `this case has no revision ${n}`);
  return { file: revisionLabelsFile(dataDir, c.id, n), revision: n };
}

const KEEP = 'private, max-age=31536000, immutable, no-transform';
const REVALIDATE = 'private, no-cache, no-transform';

function manifestRoute<P>(audience: Audience<P>) {
  return apiRoute<P>({ auth: audience.auth }, async (ctx) => {
    const { c } = audience.resolve(ctx);
    const manifest = await ensureCtChunks(caseDirOf(ctx.rt.config.dataDir, c)).catch((error: unknown) => {
      if ((error as HolocaseError).code === 'NOT_FOUND') throw new HolocaseError('NOT_FOUND', 'this case has no stored CT');
      throw error;
    });
    return jsonResponse(manifest);
  });
}

function chunkRoute<P extends { chunk: string }>(audience: Audience<P>) {
  return apiRoute<P>({ auth: audience.auth }, async (ctx) => {
    const { c, cacheable } = audience.resolve(ctx);
    const caseDir = caseDirOf(ctx.rt.config.dataDir, c);
    const manifest = await ensureCtChunks(caseDir);
    const index = /^\d{1,6}$/.test(ctx.params.chunk) ? Number(ctx.params.chunk) : NaN;
    const etag = `"${manifest.build}-${index}"`;
    // Only a URL naming this build may be kept (a re-run rebuilds the chunks under the same numbers).
    const versioned = new URL(ctx.request.url).searchParams.get('v') === manifest.build;
    const headers = new Headers({
      'Content-Type': 'application/octet-stream',
      'Cache-Control': cacheable && versioned ? KEEP : REVALIDATE,
      ETag: etag,
      'X-Content-Type-Options': 'nosniff',
    });
    const unchanged = notModified(ctx.request, etag, headers);
    if (unchanged) return unchanged;
    const { body, bytes } = ctChunkStream(caseDir, manifest, index);
    headers.set('Content-Length', String(bytes));
    return new Response(body, { status: 200, headers });
  });
}

function labelsRoute<P>(audience: Audience<P>) {
  return apiRoute<P>({ auth: audience.auth }, async (ctx) => {
    const { c, cacheable, anyRevision } = audience.resolve(ctx);
    const caseDir = caseDirOf(ctx.rt.config.dataDir, c);
    const asked = new URL(ctx.request.url).searchParams.get('revision');
    if (asked !== null && !anyRevision) throw new HolocaseError('FORBIDDEN', 'a share link shows the current revision only');
    if (asked !== null && !/^\d{1,6}$/.test(asked)) throw new HolocaseError('BAD_REQUEST', `revision must be a revision number (got "${asked.slice(0, 20)}")`);
    const { file, revision } = labelsFileOf(ctx.rt.db, ctx.rt.config.dataDir, c, caseDir, asked === null ? undefined : Number(asked));
    const info = await stat(file).catch(() => {
      throw new HolocaseError('NOT_FOUND', asked === null ? 'this case has no label map' : `revision ${asked} has no label map`);
    });
    const etag = `"${revision}-${info.size.toString(36)}-${Math.round(info.mtimeMs).toString(36)}"`;
    const headers = new Headers({
      'Content-Type': 'application/octet-stream',
      // An explicit revision never changes; "the current one" does.
      'Cache-Control': cacheable && asked !== null ? KEEP : REVALIDATE,
      ETag: etag,
      [REVISION_HEADER]: String(revision),
      'X-Content-Type-Options': 'nosniff',
    });
    const unchanged = notModified(ctx.request, etag, headers);
    if (unchanged) return unchanged;
    headers.set('Content-Length', String(info.size));
    return new Response(Readable.toWeb(createReadStream(file)) as ReadableStream, { status: 200, headers });
  });
}

export const caseCtManifestRoute = manifestRoute(USER);
export const caseCtChunkRoute = chunkRoute<{ id: string; chunk: string }>(USER as Audience<{ id: string; chunk: string }>);
export const caseLabelsRoute = labelsRoute(USER);
export const shareCtManifestRoute = manifestRoute(SHARE);
export const shareCtChunkRoute = chunkRoute<{ token: string; chunk: string }>(SHARE as Audience<{ token: string; chunk: string }>);
export const shareLabelsRoute = labelsRoute(SHARE);
