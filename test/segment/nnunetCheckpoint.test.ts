/**
 * The PyTorch checkpoint reader on real nnU-Net checkpoints (`../shared/fixtures/nnunet`, saved by
 * PyTorch as `nnUNetTrainer.save_checkpoint` saves them) and on small checkpoints assembled here opcode
 * by opcode (CPython's `Lib/pickletools.py` documents each one), for what the fixtures do not hold:
 * float16, bfloat16 and float64 storages, strided views, big-endian storages, and pickles that ask for
 * code to be run.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PickleObject, unpickle } from '../../server/segment/nnunet/pickle.ts';
import { field, halfToFloat, openTorchCheckpoint, TensorRef } from '../../server/segment/nnunet/torchCheckpoint.ts';
import { holocaseErrorOf } from '../holocaseErrorOf.ts';

const FIXTURES = resolve(import.meta.dirname, '../../../shared/fixtures/nnunet');
const RESENC = join(FIXTURES, 'Dataset902_TinyResEnc/nnUNetTrainer__nnUNetResEncUNetMPlans__3d_fullres/fold_0/checkpoint_final.pth');

/** Writes pickle opcodes (protocol 2, as torch.save uses). */
class PickleBytes {
  private readonly out: number[] = [0x80, 2]; // PROTO 2

  op(code: number, ...payload: number[]): this {
    this.out.push(code, ...payload);
    return this;
  }
  str(text: string): this {
    const bytes = new TextEncoder().encode(text);
    return this.op(0x58, ...le32(bytes.length), ...bytes); // BINUNICODE
  }
  int(value: number): this {
    return value < 256 ? this.op(0x4b, value) : this.op(0x4a, ...le32(value)); // BININT1 / BININT
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`)); // GLOBAL
  }
  mark(): this {
    return this.op(0x28);
  }
  tuple(): this {
    return this.op(0x74);
  }
  /** `_rebuild_tensor_v2(storage, offset, shape, stride, False, OrderedDict())`. */
  tensor(storageType: string, key: string, numel: number, offset: number, shape: number[], stride: number[]): this {
    this.global('torch._utils', '_rebuild_tensor_v2').mark();
    this.mark().str('storage').global('torch', storageType).str(key).str('cpu').int(numel).tuple().op(0x51); // BINPERSID
    this.int(offset);
    this.mark();
    for (const s of shape) this.int(s);
    this.tuple().mark();
    for (const s of stride) this.int(s);
    this.tuple().op(0x89); // NEWFALSE
    this.global('collections', 'OrderedDict').op(0x29).op(0x52); // EMPTY_TUPLE REDUCE
    return this.tuple().op(0x52); // TUPLE REDUCE
  }
  finish(): Uint8Array {
    return Uint8Array.from([...this.out, 0x2e]); // STOP
  }
}

function le32(value: number): number[] {
  return [value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, (value >>> 24) & 0xff];
}

function bytesOf(array: Uint16Array | Float32Array | Float64Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** A torch.save zip: stored entries under one prefix. */
function checkpointZip(pickle: Uint8Array, storages: Record<string, Uint8Array>, byteorder?: string): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = {
    'ck/data.pkl': [pickle, { level: 0 }],
    'ck/version': [new TextEncoder().encode('3\n'), { level: 0 }],
  };
  if (byteorder) files['ck/byteorder'] = [new TextEncoder().encode(byteorder), { level: 0 }];
  for (const [key, data] of Object.entries(storages)) files[`ck/data/${key}`] = [data, { level: 0 }];
  return zipSync(files);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holocase-checkpoint-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('PyTorch checkpoint reader on a real nnU-Net checkpoint', () => {
  it('reads the network weights and tolerates the rest of what nnU-Net saves', async () => {
    const checkpoint = await openTorchCheckpoint(RESENC);
    try {
      const root = checkpoint.root as Map<string, unknown>;
      expect([...root.keys()]).toEqual(['network_weights', 'optimizer_state', 'grad_scaler_state', 'logging', '_best_ema', 'current_epoch', 'init_args', 'trainer_name', 'inference_allowed_mirroring_axes']);
      const weights = field(root, 'network_weights') as Map<string, TensorRef>;
      expect(weights.size).toBe(300);
      const stem = weights.get('encoder.stem.convs.0.conv.weight')!;
      expect(stem.shape).toEqual([8, 1, 3, 3, 3]);
      expect(stem.dtype).toBe('float32');
      // Numpy scalars in the training log are numbers; the torch.device is an inert placeholder.
      const log = field(root, 'logging') as Map<string, unknown[]>;
      expect(log.get('mean_fg_dice')).toEqual([0.5, 0.6]);
      const device = field(field(root, 'init_args'), 'device');
      expect(device).toBeInstanceOf(PickleObject);
      expect((device as PickleObject).type).toBe('torch.device');
      expect((device as PickleObject).args).toEqual(['cuda', 0]);
      expect(field(root, 'trainer_name')).toBe('nnUNetTrainer');
      expect(field(field(root, 'init_args'), 'configuration')).toBe('3d_fullres');
      // The optimizer's momentum buffers are tensor references, never read.
      expect(field(root, 'optimizer_state')).toBeInstanceOf(Map);
    } finally {
      await checkpoint.close();
    }
  });

  it('reads a parameter saved under two names (one storage) as the same values', async () => {
    const checkpoint = await openTorchCheckpoint(RESENC);
    try {
      const weights = field(checkpoint.root, 'network_weights') as Map<string, TensorRef>;
      const conv = weights.get('encoder.stages.1.blocks.0.conv1.conv.weight')!;
      const alias = weights.get('encoder.stages.1.blocks.0.conv1.all_modules.0.weight')!;
      const again = weights.get('decoder.encoder.stages.1.blocks.0.conv1.conv.weight')!;
      expect(alias.storage).toBe(conv.storage);
      expect(again.storage).toBe(conv.storage);
      const values = await checkpoint.readFloat32(conv);
      expect(values.length).toBe(16 * 8 * 27);
      expect(values.some((v) => v !== 0)).toBe(true);
      expect(await checkpoint.readFloat32(alias)).toEqual(values);
    } finally {
      await checkpoint.close();
    }
  });
});

describe('PyTorch checkpoint reader on assembled checkpoints', () => {
  it('converts float16, bfloat16 and float64 storages to float32 exactly', async () => {
    // float16: 1, −2, 65504 (largest), 2^−24 (smallest subnormal), +∞, −0; bfloat16: 1, −3, 3.140625.
    const half = Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x8000]);
    const bf16 = Uint16Array.from([0x3f80, 0xc040, 0x4049]);
    const f64 = Float64Array.from([0.1, -1e300, 2.5]);
    const pickle = new PickleBytes().op(0x7d).mark() // EMPTY_DICT MARK
      .str('half').tensor('HalfStorage', '0', 6, 0, [6], [1])
      .str('bf16').tensor('BFloat16Storage', '1', 3, 0, [3], [1])
      .str('f64').tensor('DoubleStorage', '2', 3, 0, [3], [1])
      .op(0x75).finish(); // SETITEMS
    const file = join(dir, 'dtypes.pth');
    await writeFile(file, checkpointZip(pickle, { 0: bytesOf(half), 1: bytesOf(bf16), 2: bytesOf(f64) }));
    const checkpoint = await openTorchCheckpoint(file);
    try {
      const read = (key: string) => checkpoint.readFloat32(field(checkpoint.root, key) as TensorRef);
      expect([...(await read('half'))]).toEqual([1, -2, 65504, 2 ** -24, Infinity, -0]);
      expect([...(await read('bf16'))]).toEqual([1, -3, 3.140625]);
      expect([...(await read('f64'))]).toEqual([Math.fround(0.1), -Infinity, 2.5]);
    } finally {
      await checkpoint.close();
    }
  });

  it('reads views into a shared storage: offsets and strides (a slice, a transpose)', async () => {
    // Storage: 0, 1, …, 23 as a 4×6 matrix.
    const storage = Float32Array.from({ length: 24 }, (_, i) => i);
    const pickle = new PickleBytes().op(0x7d).mark()
      .str('whole').tensor('FloatStorage', '0', 24, 0, [4, 6], [6, 1])
      .str('transposed').tensor('FloatStorage', '0', 24, 0, [6, 4], [1, 6])
      .str('slice').tensor('FloatStorage', '0', 24, 8, [2, 3], [6, 1]) // rows 1–2, columns 2–4
      .op(0x75).finish();
    const file = join(dir, 'views.pth');
    await writeFile(file, checkpointZip(pickle, { 0: bytesOf(storage) }));
    const checkpoint = await openTorchCheckpoint(file);
    try {
      const read = async (key: string) => [...(await checkpoint.readFloat32(field(checkpoint.root, key) as TensorRef))];
      expect(await read('whole')).toEqual(Array.from({ length: 24 }, (_, i) => i));
      expect(await read('transposed')).toEqual(Array.from({ length: 24 }, (_, i) => (i % 4) * 6 + Math.floor(i / 4)));
      expect(await read('slice')).toEqual([8, 9, 10, 14, 15, 16]);
    } finally {
      await checkpoint.close();
    }
  });

  it('reads storages of a checkpoint saved on a big-endian machine (byteorder "big")', async () => {
    const values = [1.5, -2.25, 1e-3];
    const big = new Uint8Array(12);
    values.forEach((v, i) => new DataView(big.buffer).setFloat32(i * 4, v, false));
    const pickle = new PickleBytes().op(0x7d).str('w').tensor('FloatStorage', '0', 3, 0, [3], [1]).op(0x73).finish(); // SETITEM
    const file = join(dir, 'big.pth');
    await writeFile(file, checkpointZip(pickle, { 0: big }, 'big'));
    const checkpoint = await openTorchCheckpoint(file);
    try {
      expect(checkpoint.byteOrder).toBe('big');
      expect([...(await checkpoint.readFloat32(field(checkpoint.root, 'w') as TensorRef))]).toEqual(values.map(Math.fround));
    } finally {
      await checkpoint.close();
    }
  });

  it('never runs what a pickle names: os.system and eval become inert objects', async () => {
    const marker = join(dir, 'ran');
    const pickle = new PickleBytes()
      .mark()
      .global('os', 'system').str(`touch ${marker}`).op(0x85).op(0x52) // TUPLE1 REDUCE
      .global('builtins', 'eval').str(`require('fs').writeFileSync('${marker}', 'x')`).op(0x85).op(0x52)
      .global('subprocess', 'Popen').mark().str('touch').str(marker).op(0x6c).op(0x85).op(0x52) // LIST
      .op(0x6c)
      .finish();
    const result = unpickle(pickle) as PickleObject[];
    expect(result.map((r) => r.type)).toEqual(['os.system', 'builtins.eval', 'subprocess.Popen']);
    expect(result[0].args).toEqual([`touch ${marker}`]);
    expect(existsSync(marker)).toBe(false);
  });

  it('decodes float16 bit patterns like IEEE 754', () => {
    expect(halfToFloat(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(halfToFloat(0x03ff)).toBe(1023 * 2 ** -24);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });
});

describe('PyTorch checkpoint reader on damaged files', () => {
  it.each([
    ['a truncated checkpoint', async () => (await readFile(RESENC)).subarray(0, 1_000_000)],
    ['random bytes', async () => Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251)],
    ['a zip that torch.save did not write', async () => zipSync({ 'notes.txt': new TextEncoder().encode('hello') })],
    ['a legacy (pre-1.6) checkpoint', async () => Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e])],
    ['a damaged pickle', async () => checkpointZip(new PickleBytes().op(0x7d).mark().str('w').op(0x58, 0xff, 0xff, 0xff, 0x7f).finish(), {})],
    ['a missing storage', async () => checkpointZip(new PickleBytes().op(0x7d).str('w').tensor('FloatStorage', '0', 3, 0, [3], [1]).op(0x73).finish(), {})],
  ])('refuses %s with CHECKPOINT_MALFORMED', async (_what, make) => {
    const file = join(dir, 'bad.pth');
    await writeFile(file, await make());
    const error = await holocaseErrorOf(openTorchCheckpoint(file, { name: 'fold_0/checkpoint_final.pth' }));
    expect(error.code).toBe('CHECKPOINT_MALFORMED');
    expect(error.message).toMatch(/^fold_0\/checkpoint_final\.pth is not a readable PyTorch checkpoint: /);
  });

  it('refuses a tensor that reaches past the end of its storage', async () => {
    const pickle = new PickleBytes().op(0x7d).str('w').tensor('FloatStorage', '0', 4, 2, [3], [1]).op(0x73).finish();
    const file = join(dir, 'overrun.pth');
    await writeFile(file, checkpointZip(pickle, { 0: bytesOf(new Float32Array(4)) }));
    const checkpoint = await openTorchCheckpoint(file);
    try {
      const error = await holocaseErrorOf(checkpoint.readFloat32(field(checkpoint.root, 'w') as TensorRef));
      expect(error.code).toBe('CHECKPOINT_MALFORMED');
      expect(error.message).toMatch(/reaches past the end of storage 0/);
    } finally {
      await checkpoint.close();
    }
  });
});
