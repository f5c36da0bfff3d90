/**
 * Type declarations for the pixel codec packages that ship without them: the @cornerstonejs
 * Emscripten (WebAssembly) codecs and jpeg-lossless-decoder-js. Only what holocase calls is declared.
 */

/** Options an Emscripten module factory accepts; pass a fresh object to every factory call. */
interface EmscriptenModuleOptions {
  wasmBinary?: ArrayBuffer | Uint8Array;
  print?: (text: string) => void;
  printErr?: (text: string) => void;
  locateFile?: (path: string, prefix: string) => string;
}

/** Frame description reported by the cornerstone decoders after `decode()`. */
interface CodecFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

/** The decoder classes of the cornerstone codecs share this shape. */
interface CodecDecoder {
  /** A view of `length` bytes inside the WebAssembly heap to copy the encoded frame into. */
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): CodecFrameInfo;
  /** A view of the decoded samples inside the WebAssembly heap (valid until the next call). */
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}

type CodecDecoderClass = new () => CodecDecoder;

declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: (options?: EmscriptenModuleOptions) => Promise<{ J2KDecoder: CodecDecoderClass }>;
  export default factory;
}

/** The OpenJPEG encoder (full build only): samples in, a codestream out. */
interface CodecEncoder {
  /** A view in the WebAssembly heap, sized for `frame`, to copy the samples into. */
  getDecodedBuffer(frame: CodecFrameInfo & { isSigned: boolean; isUsingColorTransform: boolean }): Uint8Array;
  encode(): void;
  /** A view of the codestream in the WebAssembly heap (valid until the encoder is deleted). */
  getEncodedBuffer(): Uint8Array;
  delete(): void;
}

declare module '@cornerstonejs/codec-openjpeg/wasmjs' {
  const factory: (options?: EmscriptenModuleOptions) => Promise<{ J2KEncoder: new () => CodecEncoder }>;
  export default factory;
}

declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  const factory: (options?: EmscriptenModuleOptions) => Promise<{ JpegLSDecoder: CodecDecoderClass }>;
  export default factory;
}

declare module '@cornerstonejs/codec-openjph/wasmjs' {
  const factory: (options?: EmscriptenModuleOptions) => Promise<{ HTJ2KDecoder: CodecDecoderClass }>;
  export default factory;
}

declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  const factory: (options?: EmscriptenModuleOptions) => Promise<{ JPEGDecoder: CodecDecoderClass }>;
  export default factory;
}

declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    constructor(buffer?: ArrayBuffer, numBytes?: number);
    /** Decodes a lossless JPEG stream; returns 8- or 16-bit samples (`numBytes` per sample). */
    decode(buffer: ArrayBuffer, offset?: number, length?: number, numBytes?: number): Uint8Array | Uint16Array;
  }
}
