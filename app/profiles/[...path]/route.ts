/**
 * WebXR input profiles served from this server (controller and hand models and their layouts), so a
 * headset without internet still shows its controllers and hands; `createXRStore({ baseAssetPath })`
 * points here. What is served is decided in `profileFiles.ts`.
 */
import { readFile } from 'node:fs/promises';
import { filterProfilesList, resolveProfileFile } from '../profileFiles.ts';

export async function GET(_request: Request, context: { params: Promise<{ path: string[] }> }): Promise<Response> {
  const segments = (await context.params).path ?? [];
  const file = resolveProfileFile(segments);
  if (!file) return notFound();
  let body: Buffer;
  try {
    body = await readFile(file.absolute);
  } catch {
    return notFound();
  }
  if (file.relative === 'profilesList.json') body = Buffer.from(JSON.stringify(filterProfilesList(JSON.parse(body.toString('utf8')))));
  return new Response(new Uint8Array(body), {
    headers: {
      'Content-Type': file.contentType,
      'Cache-Control': 'public, max-age=86400',
      'X-Content-Type-Options': 'nosniff',
    },
  });
}

function notFound(): Response {
  return Response.json({ error: { code: 'NOT_FOUND', message: 'no such input profile' } }, { status: 404 });
}
