/**
 * Reads a PyTorch checkpoint (`torch.save`, the zip format PyTorch has written since 1.6) without
 * Python and without running anything:
 *
 *   <prefix>/data.pkl      the saved object as a pickle; tensors in it are `_rebuild_tensor_v2(storage,
 *                          offset, size, stride, …)` whose storage is a persistent id
 *                          `("storage", torch.FloatStorage, key, location, numel)`
 *   <prefix>/data/<key>    each storage's raw bytes, stored uncompressed
 *   <prefix>/byteorder     `little` or `big` (absent before PyTorch 2.1: little)
 *   <prefix>/version       the format version
 *
 * `openTorchCheckpoint` reads the directory and the pickle; tensors are references (dtype, storage,
 * offset, shape, stride) until `readFloat32` reads one tensor's bytes straight from the file, so a
 * checkpoint's optimizer state is never loaded and memory holds one tensor at a time. Tensors that share
 * a storage (views, or the same parameter under two names) read the same bytes. float32, float16,
 * bfloat16 and float64 tensors are returned as float32.
 */
import { open, type FileHandle } from 'node:fs/promises';
import yauzl, { type Entry } from 'yauzl';
import { HolocaseError } from '../../errors.ts';
import { PickleError, PickleGlobal, PickleObject, unpickle, type PickleBuildable, type PickleCallable } from './pickle.ts';

/** Element types of torch storages holocase reads. */
export type TorchDtype = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

const STORAGE_DTYPES: Record<string, TorchDtype> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** `torch.float16` etc., as `_rebuild_tensor_v3` names a dtype. */
const DTYPE_NAMES: Record<string, TorchDtype> = {
  float32: 'float32', float: 'float32', float16: 'float16', half: 'float16', bfloat16: 'bfloat16', float64: 'float64', double: 'float64',
  int64: 'int64', long: 'int64', int32: 'int32', int: 'int32', int16: 'int16', short: 'int16', int8: 'int8', uint8: 'uint8', bool: 'bool',
};

const BYTES_PER_ELEMENT: Record<TorchDtype, number> = { float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1 };

/** A storage of the checkpoint: the bytes of zip entry `data/<key>`. */
export interface StorageRef {
  key: string;
  dtype: TorchDtype;
  /** Elements the storage holds. */
  numel: number;
}

/** A tensor in the checkpoint: a strided view on a storage. Its values are read on demand. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly dtype: TorchDtype,
    /** Offset into the storage, in elements. */
    readonly offset: number,
    readonly shape: number[],
    /** Elements to step per index along each dim. */
    readonly stride: number[],
  ) {}

  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/** numpy's `dtype(code, align, copy)`; `BUILD` gives the byte order. */
class NumpyDtype implements PickleBuildable {
  byteOrder = '<';
  constructor(readonly code: string) {}
  setState(state: unknown): void {
    if (Array.isArray(state) && typeof state[1] === 'string') this.byteOrder = state[1];
  }
}

/** A numpy scalar (`numpy.core.multiarray.scalar(dtype, bytes)`) as a JS number where the dtype is plain. */
function numpyScalar(dtype: unknown, raw: unknown): unknown {
  if (!(dtype instanceof NumpyDtype) || !(raw instanceof Uint8Array)) return new PickleObject('numpy.scalar', [dtype, raw]);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const little = dtype.byteOrder !== '>';
  const code = dtype.code.replace(/^[<>=|]/, '');
  const readers: Record<string, [number, (o: number) => number | bigint | boolean]> = {
    f8: [8, (o) => view.getFloat64(o, little)], f4: [4, (o) => view.getFloat32(o, little)],
    i8: [8, (o) => view.getBigInt64(o, little)], i4: [4, (o) => view.getInt32(o, little)], i2: [2, (o) => view.getInt16(o, little)], i1: [1, (o) => view.getInt8(o)],
    u8: [8, (o) => view.getBigUint64(o, little)], u4: [4, (o) => view.getUint32(o, little)], u2: [2, (o) => view.getUint16(o, little)], u1: [1, (o) => view.getUint8(o)],
    b1: [1, (o) => view.getUint8(o) !== 0],
  };
  const reader = readers[code];
  if (!reader || raw.length < reader[0]) return new PickleObject('numpy.scalar', [dtype, raw]);
  const value = reader[1](0);
  return typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function isIntList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => Number.isInteger(v) && (v as number) >= 0);
}

/** Builds a tensor reference, checking that the view lies inside its storage. */
function rebuildTensor(storage: unknown, offset: unknown, shape: unknown, stride: unknown, dtype?: TorchDtype): TensorRef | PickleObject {
  if (!storage || typeof storage !== 'object' || !('key' in storage) || !Number.isInteger(offset) || !isIntList(shape) || !isIntList(stride) || shape.length !== stride.length) {
    return new PickleObject('torch._utils._rebuild_tensor_v2', [storage, offset, shape, stride]);
  }
  const ref = storage as StorageRef;
  return new TensorRef(ref, dtype ?? ref.dtype, offset as number, shape, stride);
}

/** The torch and numpy constructors a checkpoint may use; everything else stays an inert placeholder. */
function torchClass(module: string, name: string): PickleCallable | undefined {
  switch (`${module}.${name}`) {
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2':
      return (storage, offset, shape, stride) => rebuildTensor(storage, offset, shape, stride);
    case 'torch._utils._rebuild_tensor_v3':
      return (storage, offset, shape, stride, _grad, _hooks, dtype) =>
        rebuildTensor(storage, offset, shape, stride, dtype instanceof PickleGlobal ? DTYPE_NAMES[dtype.name] : undefined);
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      return (data) => data;
    case 'numpy.dtype':
      return (code) => new NumpyDtype(String(code));
    case 'numpy.core.multiarray.scalar':
    case 'numpy._core.multiarray.scalar':
      return (dtype, raw) => numpyScalar(dtype, raw);
    default:
      return undefined;
  }
}

export interface TorchCheckpoint {
  /** Path of the file (for messages). */
  file: string;
  /** The saved object: Maps for dicts, arrays, numbers, strings, `TensorRef`s, inert `PickleObject`s. */
  root: unknown;
  /** Byte order of the storages. */
  byteOrder: 'little' | 'big';
  /** A tensor's values as float32 in C order (row-major, last dim fastest). */
  readFloat32(tensor: TensorRef): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface OpenTorchCheckpointOptions {
  /** What to call the file in messages (default: its path). */
  name?: string;
}

/** float16 bit patterns → float32, built on first use (256 KB). */
let halfTable: Float32Array | undefined;

/** IEEE half-precision bits as a number (subnormals, infinities and NaN included). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function halfToFloatTable(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) halfTable[bits] = halfToFloat(bits);
  }
  return halfTable;
}

/** Storage elements `[0, count)` of `raw` (native byte order after any swap) as float32. */
export function storageToFloat32(raw: Uint8Array, dtype: TorchDtype, count: number): Float32Array {
  const aligned = raw.byteOffset % BYTES_PER_ELEMENT[dtype] === 0 ? raw : raw.slice();
  const buffer = aligned.buffer;
  const at = aligned.byteOffset;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, at, count);
    case 'float64':
      return Float32Array.from(new Float64Array(buffer, at, count));
    case 'float16': {
      const table = halfToFloatTable();
      const halves = new Uint16Array(buffer, at, count);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = table[halves[i]];
      return out;
    }
    case 'bfloat16': {
      // bfloat16 is the top half of a float32.
      const halves = new Uint16Array(buffer, at, count);
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = halves[i] << 16;
      return out;
    }
    default:
      throw new HolocaseError('CHECKPOINT_MALFORMED', `a ${dtype} tensor cannot be read as network weights (float32, float16, bfloat16 or float64 expected)`);
  }
}

/** Copies a strided view (offsets relative to the start of `values`) into a C-order array. */
function gather(values: Float32Array, shape: number[], stride: number[]): Float32Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let source = 0;
  for (let i = 0; i < count; i++) {
    out[i] = values[source];
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      source += stride[d];
      if (index[d] < shape[d]) break;
      source -= stride[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

function malformed(name: string, why: string): HolocaseError {
  return new HolocaseError('CHECKPOINT_MALFORMED', `${name} is not a readable PyTorch checkpoint: ${why}`);
}

async function readEntry(zip: yauzl.ZipFile, entry: Entry, maxBytes: number, name: string): Promise<Buffer> {
  if (entry.uncompressedSize > maxBytes) throw malformed(name, `its entry ${entry.fileName} is ${entry.uncompressedSize} bytes, more than expected`);
  const stream = await zip.openReadStreamPromise(entry);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Opens a checkpoint: reads its zip directory and its pickle (not its tensors). Throws
 * `CHECKPOINT_MALFORMED` for a file that is not a PyTorch zip checkpoint, is truncated, or whose
 * pickle or storage table is damaged.
 */
export async function openTorchCheckpoint(path: string, options: OpenTorchCheckpointOptions = {}): Promise<TorchCheckpoint> {
  const name = options.name ?? path;
  // 1. The zip directory.
  const handle = await open(path, 'r').catch((error: Error) => {
    throw new HolocaseError('NOT_FOUND', `cannot open ${name}: ${error.message}`);
  });
  let zip: yauzl.ZipFile | undefined;
  try {
    const head = Buffer.alloc(2);
    await handle.read(head, 0, 2, 0);
    if (head[0] === 0x80) throw malformed(name, 'it was saved in PyTorch’s legacy format (before 1.6); load and save it again with a current PyTorch');
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false }).catch((error: Error) => {
      throw malformed(name, `it is not a complete zip archive (${error.message}); the file may be truncated`);
    });
    const entries = new Map<string, Entry>();
    for await (const entry of zip.eachEntry()) entries.set(entry.fileName, entry);
    const pickleName = [...entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (!pickleName) throw malformed(name, 'it has no data.pkl (it is a zip archive, but not one written by torch.save)');
    const prefix = pickleName.slice(0, -'data.pkl'.length);
    // 2. Byte order and the pickle.
    const byteOrderEntry = entries.get(`${prefix}byteorder`);
    const byteOrderText = byteOrderEntry ? (await readEntry(zip, byteOrderEntry, 16, name)).toString('latin1').trim() : 'little';
    if (byteOrderText !== 'little' && byteOrderText !== 'big') throw malformed(name, `unknown byte order "${byteOrderText}"`);
    const pickleBytes = await readEntry(zip, entries.get(pickleName)!, 1024 ** 3, name);
    const storages = new Map<string, StorageRef>();
    const persistentLoad = (pid: unknown): unknown => {
      if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) return new PickleObject('persistent_id', Array.isArray(pid) ? pid : [pid]);
      const [, type, key, , numel] = pid as [string, unknown, unknown, unknown, unknown];
      const dtype = type instanceof PickleGlobal ? STORAGE_DTYPES[type.name] : undefined;
      if (typeof key !== 'string' || !Number.isInteger(numel) || (numel as number) < 0) throw malformed(name, 'a storage reference in data.pkl is damaged');
      if (!dtype) return new PickleObject(`storage of ${type instanceof PickleGlobal ? type.qualifiedName : 'unknown type'}`, [key]);
      let storage = storages.get(key);
      if (!storage) {
        storage = { key, dtype, numel: numel as number };
        storages.set(key, storage);
      }
      return storage;
    };
    let root: unknown;
    try {
      root = unpickle(pickleBytes, { findClass: torchClass, persistentLoad, name: `${name} (data.pkl)` });
    } catch (error) {
      if (error instanceof PickleError) throw malformed(name, error.message);
      throw error;
    }
    // 3. Every storage must have its entry, stored, and large enough.
    const dataStarts = new Map<string, number>();
    for (const storage of storages.values()) {
      const entry = entries.get(`${prefix}data/${storage.key}`);
      if (!entry) throw malformed(name, `storage ${storage.key} is missing from the archive (data/${storage.key}); the file is damaged`);
      if (entry.compressionMethod !== 0) throw malformed(name, `storage ${storage.key} is compressed; torch.save stores tensors uncompressed (was the file re-packed?)`);
      const needed = storage.numel * BYTES_PER_ELEMENT[storage.dtype];
      if (entry.uncompressedSize < needed) throw malformed(name, `storage ${storage.key} holds ${entry.uncompressedSize} bytes but ${storage.numel} ${storage.dtype} values need ${needed}`);
    }
    const openZip = zip;
    const dataStart = async (key: string): Promise<number> => {
      let start = dataStarts.get(key);
      if (start === undefined) {
        start = (await openZip.readLocalFileHeaderPromise(entries.get(`${prefix}data/${key}`)!, { minimal: true })).fileDataStart;
        dataStarts.set(key, start);
      }
      return start;
    };
    const swap = byteOrderText === 'big';
    return {
      file: path,
      root,
      byteOrder: byteOrderText,
      async readFloat32(tensor: TensorRef): Promise<Float32Array> {
        // 4. One tensor: the span of its view within the storage, read straight from the file.
        const { storage, shape, stride, offset } = tensor;
        const count = tensor.numel;
        if (count === 0) return new Float32Array(0);
        const span = 1 + shape.reduce((sum, size, d) => sum + (size - 1) * stride[d], 0);
        if (offset + span > storage.numel) {
          throw malformed(name, `a tensor of shape [${shape.join(', ')}] reaches past the end of storage ${storage.key} (${storage.numel} values)`);
        }
        const size = BYTES_PER_ELEMENT[tensor.dtype];
        const raw = new Uint8Array(span * size);
        const position = (await dataStart(storage.key)) + offset * size;
        for (let done = 0; done < raw.length; ) {
          const { bytesRead } = await handle.read(raw, done, raw.length - done, position + done);
          if (bytesRead === 0) throw malformed(name, `storage ${storage.key} is cut short; the file is truncated`);
          done += bytesRead;
        }
        if (swap && size > 1) for (let i = 0; i < raw.length; i += size) raw.subarray(i, i + size).reverse();
        const values = storageToFloat32(raw, tensor.dtype, span);
        return isContiguous(shape, stride) ? values.subarray(0, count) : gather(values, shape, stride);
      },
      async close() {
        openZip.close();
        await handle.close();
      },
    };
  } catch (error) {
    zip?.close();
    await handle.close();
    throw error;
  }
}

/** `map.get(key)` for the Maps the pickle makes from dicts. */
export function field(value: unknown, key: string): unknown {
  return value instanceof Map ? value.get(key) : undefined;
}
