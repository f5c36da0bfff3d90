/**
 * `holocase model import` on what goes wrong: damaged, truncated or foreign files, networks holocase
 * does not rebuild, weights that do not fit the plans, missing folds, a taken id. Each is a
 * `HolocaseError` with a code and a message that says what is wrong, and the models folder is left
 * exactly as it was: no bundle, no hidden half-written folder. The inputs are the real fixture models
 * (`../shared/fixtures/nnunet`) copied and damaged in one place each.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../server/errors.ts';
import { importNnUnetModel, type ImportNnUnetOptions } from '../../server/segment/nnunet/importModel.ts';
import { holocaseErrorOf } from '../holocaseErrorOf.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NNUNET = resolve(ROOT, '../shared/fixtures/nnunet');
const PLAIN = 'Dataset901_TinyPlain/nnUNetTrainer__nnUNetPlans__3d_fullres';
const CHECKPOINT = 'fold_0/checkpoint_final.pth';

let work: string;
let modelsDir: string;
let counter = 0;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'holocase-nnunet-bad-'));
  modelsDir = join(work, 'models');
  await mkdir(modelsDir);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A copy of the plain fixture model (without its reference patch) with one thing changed. */
async function damagedModel(change: (folder: string) => Promise<void>): Promise<string> {
  const folder = join(work, `case${counter++}`, 'nnUNetTrainer__nnUNetPlans__3d_fullres');
  await cp(join(NNUNET, PLAIN), folder, { recursive: true, filter: (path) => !path.includes('reference') });
  await change(folder);
  return folder;
}

async function editJson(file: string, edit: (json: Record<string, any>) => void): Promise<void> {
  const json = JSON.parse(await readFile(file, 'utf8'));
  edit(json);
  await writeFile(file, JSON.stringify(json));
}

/** Imports, expects `code` and a message matching `message`, and checks the models folder is untouched. */
async function expectRefused(options: Omit<ImportNnUnetOptions, 'modelsDir'>, code: ErrorCode, message: RegExp): Promise<void> {
  const before = await readdir(modelsDir);
  const error = await holocaseErrorOf(importNnUnetModel({ ...options, modelsDir }));
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
  expect(await readdir(modelsDir)).toEqual(before);
}

describe('model import refuses damaged and foreign files', () => {
  it('a checkpoint of random bytes', async () => {
    const source = await damagedModel((f) => writeFile(join(f, CHECKPOINT), Uint8Array.from({ length: 4096 }, (_, i) => (i * 131) % 256)));
    await expectRefused({ source }, 'CHECKPOINT_MALFORMED', /fold_0\/checkpoint_final\.pth is not a readable PyTorch checkpoint/);
  });

  it('a truncated checkpoint (a download cut short)', async () => {
    const source = await damagedModel(async (f) => writeFile(join(f, CHECKPOINT), (await readFile(join(f, CHECKPOINT))).subarray(0, 900_000)));
    await expectRefused({ source }, 'CHECKPOINT_MALFORMED', /truncated/);
  });

  it('a PyTorch checkpoint that is not an nnU-Net trainer’s (no network_weights)', async () => {
    // Renames the dict key in the stored (uncompressed) pickle, same length: a valid checkpoint of something else.
    const source = await damagedModel(async (f) => {
      const bytes = await readFile(join(f, CHECKPOINT));
      const at = bytes.indexOf('network_weights');
      expect(at).toBeGreaterThan(0);
      bytes.write('model_state_xyz', at, 'latin1');
      await writeFile(join(f, CHECKPOINT), bytes);
    });
    await expectRefused({ source }, 'NNUNET_INVALID', /is a PyTorch checkpoint but not an nnU-Net v2 one: it has no "network_weights" \(it holds model_state_xyz, optimizer_state/);
  });

  it('a folder that is not an nnU-Net model, a zip of one, and a file that is neither', async () => {
    const folder = join(work, 'not-a-model');
    await mkdir(folder);
    await writeFile(join(folder, 'README.txt'), 'segmentation results');
    await expectRefused({ source: folder }, 'NNUNET_INVALID', /no folder in it holds plans\.json and dataset\.json/);
    const zip = join(work, 'not-a-model.zip');
    await writeFile(zip, zipSync({ 'scan/notes.txt': new TextEncoder().encode('hello') }));
    await expectRefused({ source: zip }, 'NNUNET_INVALID', /not-a-model\.zip is not an nnU-Net v2 trained model/);
    const text = join(work, 'weights.bin');
    await writeFile(text, 'not a zip');
    await expectRefused({ source: text }, 'NNUNET_INVALID', /neither a folder nor a zip archive/);
    await expectRefused({ source: join(NNUNET, PLAIN, CHECKPOINT) }, 'NNUNET_INVALID', /checkpoint on its own; give the trained-model folder/);
  });

  it('a checkpoint that fails while the bundle is being written leaves no partial bundle', async () => {
    // The last tensor's storage offset (BININT1 after its BINPERSID) moved past its storage's end: the
    // directory and shapes check out, the read fails only when the writer reaches that tensor.
    const source = await damagedModel(async (f) => {
      const bytes = await readFile(join(f, CHECKPOINT));
      const name = bytes.indexOf('decoder.seg_layers.2.bias');
      const persid = bytes.indexOf(Buffer.from([0x51, 0x4b, 0x00]), name);
      expect(persid).toBeGreaterThan(name);
      bytes[persid + 2] = 200;
      await writeFile(join(f, CHECKPOINT), bytes);
    });
    await expectRefused({ source }, 'CHECKPOINT_MALFORMED', /reaches past the end of storage/);
  });

  it('a truncated zip of a trained model', async () => {
    const zip = join(work, 'cut.zip');
    await writeFile(zip, (await readFile(join(NNUNET, 'Dataset903_TinyTotalOrgans.zip'))).subarray(0, 3_000_000));
    await expectRefused({ source: zip }, 'ZIP_MALFORMED', /cut\.zip is not a readable zip archive/);
  });
});

describe('model import refuses networks it cannot rebuild faithfully', () => {
  it('an unknown network class (current and older plans format)', async () => {
    const primus = await damagedModel((f) =>
      editJson(join(f, 'plans.json'), (p) => {
        p.configurations['3d_fullres'].architecture.network_class_name = 'dynamic_network_architectures.architectures.primus.Primus';
      }),
    );
    await expectRefused({ source: primus }, 'NNUNET_UNSUPPORTED', /network "dynamic_network_architectures\.architectures\.primus\.Primus" is not one holocase can rebuild/);
    const old = await damagedModel((f) =>
      editJson(join(f, 'plans.json'), (p) => {
        const c = p.configurations['3d_fullres'];
        delete c.architecture;
        Object.assign(c, { UNet_class_name: 'MedNeXt', UNet_base_num_features: 8, unet_max_num_features: 32, n_conv_per_stage_encoder: [2, 2, 2, 2], n_conv_per_stage_decoder: [2, 2, 2], pool_op_kernel_sizes: [[1, 1, 1], [1, 2, 2], [2, 2, 2], [2, 2, 2]], conv_kernel_sizes: [[1, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3]] });
      }),
    );
    await expectRefused({ source: old }, 'NNUNET_UNSUPPORTED', /network "MedNeXt" is not one holocase can rebuild/);
  });

  it('a region-based model and a cascade stage', async () => {
    const regions = await damagedModel((f) =>
      editJson(join(f, 'dataset.json'), (d) => {
        d.labels = { background: 0, whole: [1, 2, 3], core: [2, 3], enhancing: 3 };
        d.regions_class_order = [1, 2, 3];
      }),
    );
    await expectRefused({ source: regions }, 'NNUNET_UNSUPPORTED', /region-based model \(regions_class_order\)/);
    const cascade = await damagedModel((f) =>
      editJson(join(f, 'plans.json'), (p) => {
        p.configurations['3d_fullres'].previous_stage = '3d_lowres';
      }),
    );
    await expectRefused({ source: cascade }, 'NNUNET_UNSUPPORTED', /second stage of a cascade/);
  });
});

describe('model import refuses weights that do not fit the plans', () => {
  it('names the first tensor whose shape differs, with both shapes', async () => {
    const source = await damagedModel((f) =>
      editJson(join(f, 'plans.json'), (p) => {
        p.configurations['3d_fullres'].architecture.arch_kwargs.features_per_stage = [8, 16, 32, 64];
      }),
    );
    await expectRefused({ source }, 'MODEL_MISMATCH', /"encoder\.stages\.3\.0\.convs\.0\.conv\.weight" is \[32, 32, 3, 3, 3\] in the checkpoint but \[64, 32, 3, 3, 3\] in the network/);
  });

  it('a label table with more labels than the network has outputs', async () => {
    const source = await damagedModel((f) =>
      editJson(join(f, 'dataset.json'), (d) => {
        d.labels.class_4 = 4;
      }),
    );
    await expectRefused({ source }, 'MODEL_MISMATCH', /"decoder\.seg_layers\.0\.weight" is \[4, 32, 1, 1, 1\] in the checkpoint but \[5, 32, 1, 1, 1\] in the network/);
  });

  it('a network with fewer stages than the checkpoint', async () => {
    const source = await damagedModel((f) =>
      editJson(join(f, 'plans.json'), (p) => {
        const k = p.configurations['3d_fullres'].architecture.arch_kwargs;
        Object.assign(k, { n_stages: 3, features_per_stage: [8, 16, 32], kernel_sizes: k.kernel_sizes.slice(0, 3), strides: k.strides.slice(0, 3), n_conv_per_stage: [2, 2, 2], n_conv_per_stage_decoder: [2, 2] });
      }),
    );
    await expectRefused({ source }, 'MODEL_MISMATCH', /does not fit the network its plans describe \(PlainConvUNet, 3 stages/);
  });
});

describe('model import refuses missing folds and taken ids', () => {
  it('a model folder without a fold, or without the fold or checkpoint asked for', async () => {
    const empty = await damagedModel((f) => rm(join(f, 'fold_0'), { recursive: true }));
    await expectRefused({ source: empty }, 'NNUNET_INVALID', /has no fold with checkpoint_final\.pth/);
    const source = join(NNUNET, PLAIN);
    await expectRefused({ source, fold: 3 }, 'NNUNET_INVALID', /has no fold_3\/checkpoint_final\.pth; it has fold_0/);
    await expectRefused({ source, checkpoint: 'best' }, 'NNUNET_INVALID', /no fold with checkpoint_best\.pth.*it has checkpoint_final\.pth in fold_0: use --checkpoint final/);
  });

  it('an id that is already a bundle: refused, the existing bundle left as it was', async () => {
    const source = join(NNUNET, PLAIN);
    const first = await importNnUnetModel({ source, modelsDir, id: 'taken' });
    const manifest = await readFile(join(first.bundleDir, 'model.json'));
    await expectRefused({ source, id: 'taken', orientation: 'LPS' }, 'CONFLICT', /a model "taken" already exists/);
    expect(await readFile(join(first.bundleDir, 'model.json'))).toEqual(manifest);
    await expectRefused({ source, id: 'Bad Id' }, 'BAD_REQUEST', /"Bad Id" is not a bundle id/);
    await expectRefused({ source, orientation: 'RAX' }, 'BAD_REQUEST', /"RAX" is not an orientation code/);
  });

  it('through the CLI: "error [CODE]: …" on stderr and exit code 2', async () => {
    const empty = await damagedModel((f) => rm(join(f, 'fold_0'), { recursive: true }));
    const result = await promisify(execFile)(process.execPath, [join(ROOT, 'bin/holocase.mjs'), 'model', 'import', empty], { cwd: ROOT, env: { ...process.env, HOLOCASE_MODELS: modelsDir } }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error \[NNUNET_INVALID\]: .* has no fold with checkpoint_final\.pth/m);
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});
