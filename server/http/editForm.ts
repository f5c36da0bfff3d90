/**
 * Reads the editor's multipart forms (`meta` JSON + one binary part) into memory with limits: the
 * binary part at most `maxBytes` (413 past it, before reading further), `meta` at most 64 KiB and
 * validated by a schema (400 saying what is wrong).
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import busboy from 'busboy';
import type { z } from 'zod';
import { HolocaseError } from '../errors.ts';

export interface EditFormOptions<S extends z.ZodType> {
  /** Schema of the `meta` part. */
  meta: S;
  /** Name of the binary part. */
  part: string;
  /** Largest binary part in bytes. */
  maxBytes: number;
}

export async function readEditForm<S extends z.ZodType>(request: Request, o: EditFormOptions<S>): Promise<{ meta: z.infer<S>; data: Buffer }> {
  const type = request.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('multipart/form-data')) throw new HolocaseError('BAD_REQUEST', `send multipart/form-data with a "meta" part and a "${o.part}" part`);
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > o.maxBytes + 70_000) throw new HolocaseError('INPUT_TOO_LARGE', `the "${o.part}" part may be at most ${Math.round(o.maxBytes / 1024 ** 2)} MiB`);
  if (!request.body) throw new HolocaseError('BAD_REQUEST', 'the request has no body');
  const body = Readable.fromWeb(request.body as unknown as WebReadableStream<Uint8Array>);
  const parser = busboy({ headers: { 'content-type': type }, limits: { fields: 4, files: 2, fieldSize: 65_536, fileSize: o.maxBytes + 1 } });
  let metaText: string | undefined;
  const chunks: Buffer[] = [];
  let failure: HolocaseError | undefined;
  parser.on('field', (name, value) => {
    if (name === 'meta') metaText = value;
  });
  parser.on('file', (name, stream) => {
    if (name === 'meta') {
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => (metaText = Buffer.concat(parts).toString('utf8')));
      return;
    }
    if (name !== o.part) return void stream.resume();
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('limit', () => {
      failure = new HolocaseError('INPUT_TOO_LARGE', `the "${o.part}" part may be at most ${Math.round(o.maxBytes / 1024 ** 2)} MiB`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    parser.on('close', resolve);
    parser.on('error', (error) => reject(new HolocaseError('BAD_REQUEST', `the form data could not be read (${(error as Error).message})`)));
    body.on('error', reject);
    body.pipe(parser);
  });
  if (failure) throw failure;
  if (metaText === undefined) throw new HolocaseError('BAD_REQUEST', 'the form has no "meta" part');
  if (chunks.length === 0) throw new HolocaseError('BAD_REQUEST', `the form has no "${o.part}" part`);
  let value: unknown;
  try {
    value = JSON.parse(metaText);
  } catch {
    throw new HolocaseError('BAD_REQUEST', 'the "meta" part is not valid JSON');
  }
  const parsed = o.meta.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HolocaseError('BAD_REQUEST', `meta.${issue?.path.join('.') || ''}: ${issue?.message}`);
  }
  return { meta: parsed.data, data: Buffer.concat(chunks) };
}
