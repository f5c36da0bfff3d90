/**
 * Lossless JPEG 2000 encoding of one greyscale frame with OpenJPEG (the @cornerstonejs WebAssembly
 * build whose decoder ingest uses), for writing test series as PACS archives store them
 * (transfer syntax 1.2.840.10008.1.2.4.90). The reversible 5/3 wavelet keeps every stored value.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { HolocaseError } from '../../errors.ts';

const require = createRequire(import.meta.url);

let encoderClass: Promise<new () => CodecEncoder> | undefined;

function loadEncoder(): Promise<new () => CodecEncoder> {
  encoderClass ??= (async () => {
    try {
      const factory = (await import('@cornerstonejs/codec-openjpeg/wasmjs')).default;
      // A fresh options object per factory call: Emscripten writes its module state into it.
      const module = await factory({ wasmBinary: readFileSync(require.resolve('@cornerstonejs/codec-openjpeg/wasm')), print: () => {}, printErr: () => {} });
      return module.J2KEncoder;
    } catch (error) {
      encoderClass = undefined;
      throw new HolocaseError('DICOM_UNSUPPORTED', `the JPEG 2000 encoder (@cornerstonejs/codec-openjpeg) could not be loaded: ${(error as Error).message}`);
    }
  })();
  return encoderClass;
}

export interface Jpeg2000Frame {
  /** Stored values, row by row (column index fastest). */
  samples: Uint16Array | Int16Array;
  columns: number;
  rows: number;
  /** Bits Stored of the samples (the codestream's precision). */
  bitsStored: number;
}

/** Encodes a frame as a lossless JPEG 2000 codestream (a fresh array, outside the WebAssembly heap). */
export async function encodeJpeg2000Lossless(frame: Jpeg2000Frame): Promise<Uint8Array> {
  const Encoder = await loadEncoder();
  const encoder = new Encoder();
  try {
    // 1. Samples into the encoder's buffer (16-bit little-endian words).
    const target = encoder.getDecodedBuffer({
      width: frame.columns,
      height: frame.rows,
      bitsPerSample: frame.bitsStored,
      componentCount: 1,
      isSigned: frame.samples instanceof Int16Array,
      isUsingColorTransform: false,
    });
    target.set(new Uint8Array(frame.samples.buffer, frame.samples.byteOffset, frame.samples.byteLength));
    // 2. Encode (the encoder defaults to lossless) and copy the codestream out of the heap.
    encoder.encode();
    return new Uint8Array(encoder.getEncodedBuffer());
  } finally {
    encoder.delete();
  }
}
