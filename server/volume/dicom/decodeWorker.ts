/**
 * Worker-thread entry for `decodePool`: decodes compressed frames and, when asked, turns them into
 * Hounsfield units, so the main thread only reads files and places slices. Each worker loads every
 * codec once and keeps it for all the frames it is given.
 */
import { parentPort } from 'node:worker_threads';
import { isHolocaseError } from '../../errors.ts';
import { decodeInline, type DecodeReply, type DecodeRequest } from './decodePool.ts';
import { requireTransferSyntax } from './transferSyntax.ts';

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

/** The same work as decoding on the calling thread; the result (a fresh array) is transferred back without a copy. */
async function handle(request: DecodeRequest): Promise<DecodeReply> {
  const { id, encoded, layout, name, hounsfield } = request;
  const { pixels, clamped } = await decodeInline({ encoded, transferSyntax: requireTransferSyntax(request.transferSyntaxUid), layout, name, hounsfield });
  return { id, ok: true, pixels, clamped };
}
