/**
 * The compressed-pixel codecs, each loaded once per thread and reused: the @cornerstonejs WebAssembly
 * decoders (OpenJPEG, OpenJPH, CharLS, libjpeg-turbo), dcmjs-codecs (the only exact 12-bit JPEG
 * decoder found) and jpeg-lossless-decoder-js. Emscripten factories get a fresh options object on every
 * call, with `wasmBinary` read from the package, so they also load where the code is bundled.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { HolocaseError } from '../../errors.ts';

const require = createRequire(import.meta.url);

export type WasmCodecName = 'openjpeg' | 'openjph' | 'charls' | 'libjpeg-turbo';

interface WasmCodecSpec {
  /** Package entry of the Emscripten factory. */
  load: () => Promise<{ default: (options?: EmscriptenModuleOptions) => Promise<Record<string, unknown>> }>;
  /** Package path of the `.wasm` binary. */
  wasm: string;
  /** Name of the decoder class in the module. */
  decoderClass: string;
  /** Package name, for the "is not installed" message. */
  packageName: string;
}

const WASM_CODECS: Record<WasmCodecName, WasmCodecSpec> = {
  openjpeg: {
    load: () => import('@cornerstonejs/codec-openjpeg/decodewasmjs'),
    wasm: '@cornerstonejs/codec-openjpeg/decodewasm',
    decoderClass: 'J2KDecoder',
    packageName: '@cornerstonejs/codec-openjpeg',
  },
  openjph: {
    load: () => import('@cornerstonejs/codec-openjph/wasmjs'),
    wasm: '@cornerstonejs/codec-openjph/wasm',
    decoderClass: 'HTJ2KDecoder',
    packageName: '@cornerstonejs/codec-openjph',
  },
  charls: {
    load: () => import('@cornerstonejs/codec-charls/decodewasmjs'),
    wasm: '@cornerstonejs/codec-charls/decodewasm',
    decoderClass: 'JpegLSDecoder',
    packageName: '@cornerstonejs/codec-charls',
  },
  'libjpeg-turbo': {
    load: () => import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs'),
    wasm: '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm',
    decoderClass: 'JPEGDecoder',
    packageName: '@cornerstonejs/codec-libjpeg-turbo-8bit',
  },
};

/** One loaded codec: makes decoder instances (delete each after use). */
export interface WasmCodec {
  name: WasmCodecName;
  createDecoder(): CodecDecoder;
}

// Per-thread cache of initialised codecs: each WebAssembly module is instantiated once and reused.
const loaded = new Map<WasmCodecName, Promise<WasmCodec>>();

/** The codec `name`, instantiated on first use. Throws `DICOM_UNSUPPORTED` naming a missing package. */
export function loadWasmCodec(name: WasmCodecName): Promise<WasmCodec> {
  let codec = loaded.get(name);
  if (!codec) {
    codec = instantiate(name);
    loaded.set(name, codec);
    codec.catch(() => loaded.delete(name));
  }
  return codec;
}

async function instantiate(name: WasmCodecName): Promise<WasmCodec> {
  const spec = WASM_CODECS[name];
  let factory: (options?: EmscriptenModuleOptions) => Promise<Record<string, unknown>>;
  let wasmBinary: Uint8Array;
  try {
    factory = (await spec.load()).default;
    wasmBinary = readFileSync(require.resolve(spec.wasm));
  } catch (error) {
    throw new HolocaseError('DICOM_UNSUPPORTED', `the ${name} decoder (${spec.packageName}) is not installed: ${(error as Error).message}`);
  }
  // A fresh options object per factory call: Emscripten writes its module state into it.
  const module = await factory({ wasmBinary, print: () => {}, printErr: () => {} });
  const Decoder = module[spec.decoderClass] as CodecDecoderClass | undefined;
  if (typeof Decoder !== 'function') {
    throw new HolocaseError('DICOM_UNSUPPORTED', `the ${name} decoder (${spec.packageName}) has no ${spec.decoderClass}; check the installed version`);
  }
  return { name, createDecoder: () => new Decoder() };
}

/** dcmjs-codecs' native (WebAssembly) codecs, initialised once per thread. */
type DcmjsCodecs = typeof import('dcmjs-codecs');
let dcmjsCodecs: Promise<DcmjsCodecs> | undefined;

export function loadDcmjsCodecs(): Promise<DcmjsCodecs> {
  dcmjsCodecs ??= (async () => {
    try {
      const mod = (await import('dcmjs-codecs')) as DcmjsCodecs & { default?: DcmjsCodecs };
      const codecs = mod.default ?? mod;
      if (!codecs.NativeCodecs.isInitialized()) {
        await codecs.NativeCodecs.initializeAsync({ webAssemblyModulePathOrUrl: require.resolve('dcmjs-codecs/build/dcmjs-native-codecs.wasm'), logCodecsInfo: false, logCodecsTrace: false });
      }
      return codecs;
    } catch (error) {
      dcmjsCodecs = undefined;
      throw new HolocaseError('DICOM_UNSUPPORTED', `the 12-bit JPEG decoder (dcmjs-codecs) could not be loaded: ${(error as Error).message}`);
    }
  })();
  return dcmjsCodecs;
}
