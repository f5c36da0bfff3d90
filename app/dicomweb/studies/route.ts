// DICOMweb STOW-RS: store instances (multipart/related; type="application/dicom"); a case is made from
// each CT study as from Orthanc's feed. Signed-in users (session) or HTTP Basic with a holocase account.
import { basicAuthUser } from '../../../server/auth/basicAuth.ts';
import { apiRoute } from '../../../server/http/apiRoute.ts';
import { receiveStow } from '../../../server/pacs/stowRs.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const POST = apiRoute({ auth: 'optional' }, async ({ request, rt, user, clientIp }) => {
  const pusher = user ?? (await basicAuthUser(rt, request.headers.get('authorization'), clientIp));
  if (!pusher) {
    return Response.json(
      { error: { code: 'UNAUTHORIZED', message: 'sign in, or send HTTP Basic credentials of a holocase account' } },
      { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="holocase DICOMweb", charset="UTF-8"', 'Cache-Control': 'no-store' } },
    );
  }
  if (pusher.mustChangePassword) return Response.json({ error: { code: 'FORBIDDEN', message: 'change your one-time password first' } }, { status: 403 });
  const result = await receiveStow({ ...rt.pacs.inbound, orthanc: rt.pacs.orthanc }, pusher.id, request, { maxBytes: rt.config.maxUploadBytes });
  return new Response(JSON.stringify(result.body), { status: result.status, headers: { 'Content-Type': 'application/dicom+json', 'Cache-Control': 'no-store' } });
});
