/**
 * Worker-thread entry for `decodePool`: decodes compressed frames and, when asked, turns them into
 * Hounsfield units, so the main thread only reads files and places slices. Each worker loads every
 * codec once and keeps it for all the frames it is given.
 */
import { parentPort } from 'node:worker_threads';
import { isHolocaseError } from '../../errors.ts';
import { decodeFrame } from './decodeFrame.ts';
import { writeHounsfield } from './pixelValues.ts';
import { requireTransferSyntax } from './transferSyntax.ts';
import type { DecodeReply, DecodeRequest } from './decodePool.ts';

const port = parentPort;
if (!port) throw new Error('decodeWorker runs in a worker thread');

port.on('message', (request: DecodeRequest) => {
  void handle(request).then(
    (reply) => port.postMessage(reply, reply.ok ? [reply.pixels.buffer as ArrayBuffer] : []),
    (error: unknown) =>
      port.postMessage({
        id: request.id,
        ok: false,
        code: isHolocaseError(error) ? error.code : undefined,
        message: error instanceof Error ? error.message : String(error),
      } satisfies DecodeReply),
  );
});

async function handle(request: DecodeRequest): Promise<DecodeReply> {
  // 1. Decode to stored sample bytes.
  const transferSyntax = requireTransferSyntax(request.transferSyntaxUid);
  const bytes = await decodeFrame(request.encoded, transferSyntax, request.layout, request.name);
  if (!request.hounsfield) return { id: request.id, ok: true, pixels: bytes, clamped: 0 };
  // 2. Apply the modality LUT into a fresh Int16 slice (transferred back without a copy).
  const out = new Int16Array(request.layout.rows * request.layout.columns);
  const clamped = writeHounsfield(bytes, request.layout, out, 0, request.hounsfield);
  return { id: request.id, ok: true, pixels: out, clamped };
}
