/**
 * Model bundles: a folder `models/<id>/` with `model.json` (the manifest) and, for ONNX models, the
 * weights. Loading checks the manifest against what the ONNX file declares (input rank, channel count,
 * output label count, fixed patch dims), so a wrong manifest is refused before a scan is touched. A
 * model set (`engine: "set"`) is loaded with its member bundles, each checked the same way, and the
 * mapping of their structures onto the set's label table (`modelSet.ts`).
 */
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HolocaseError, isHolocaseError } from '../errors.ts';
import { expectedOutputChannels, parseManifest, type ModelManifest, type OnnxManifest } from './manifest.ts';
import { planModelSet, type SetMemberPlan } from './modelSet.ts';
import { readOnnxSignature, type OnnxSignature, type OnnxTensorInfo } from './onnxSignature.ts';

export interface ModelBundle {
  id: string;
  /** Absolute path of the bundle folder. */
  dir: string;
  manifest: ModelManifest;
  /** Absolute path of the ONNX file (ONNX models only). */
  weightsPath?: string;
  /** What the ONNX file declares (ONNX models loaded with `loadModelBundle`). */
  signature?: OnnxSignature;
  /** A model set's members in running order, with how each one's labels map onto the set's. */
  members?: SetMemberPlan[];
}

export interface BundleOptions {
  /** Folder holding the bundles. Default: `HOLOCASE_MODELS`, else the project's `models/`. */
  modelsDir?: string;
}

const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** The folder bundles are read from. */
export function modelsDirectory(options: BundleOptions = {}): string {
  // A path join rather than `new URL('../../models/', import.meta.url)`, which bundlers try to resolve
  // as an asset when the web server's route handlers import this module.
  return resolve(options.modelsDir ?? process.env.HOLOCASE_MODELS ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models'));
}

async function readManifest(dir: string, id: string): Promise<ModelManifest> {
  const file = join(dir, 'model.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new HolocaseError('MODEL_INVALID', `model "${id}" has no model.json in ${dir}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new HolocaseError('MODEL_INVALID', `models/${id}/model.json is not valid JSON: ${(error as Error).message}`);
  }
  const manifest = parseManifest(json, `models/${id}/model.json`);
  if (manifest.id !== id) {
    throw new HolocaseError('MODEL_INVALID', `models/${id}/model.json says its id is "${manifest.id}"; the id must equal the folder name "${id}"`);
  }
  return manifest;
}

/** A set member's bundle by manifest; `MODEL_INVALID` naming the set when it is not installed. */
async function readMember(root: string, setId: string, memberId: string): Promise<ModelBundle> {
  const dir = join(root, memberId);
  const exists = await readFile(join(dir, 'model.json')).then(() => true, () => false);
  if (!exists) throw new HolocaseError('MODEL_INVALID', `models/${setId}/model.json: the set needs the bundle "${memberId}", which is not installed (no ${join(dir, 'model.json')})`);
  return { id: memberId, dir, manifest: await readManifest(dir, memberId) };
}

/** Ids of the folders in the models directory that hold a `model.json`. */
async function bundleIds(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const ids: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !ID_PATTERN.test(entry.name)) continue;
    const has = await readFile(join(root, entry.name, 'model.json')).then(() => true, () => false);
    if (has) ids.push(entry.name);
  }
  return ids.sort();
}

/**
 * Every bundle whose manifest is valid, sorted by id (the ONNX files are not opened: that happens at
 * load time). Invalid bundles are left out and reported through `onInvalid`.
 */
export async function listModelBundles(options: BundleOptions & { onInvalid?: (id: string, error: Error) => void } = {}): Promise<ModelBundle[]> {
  const root = modelsDirectory(options);
  const bundles: ModelBundle[] = [];
  for (const id of await bundleIds(root)) {
    const dir = join(root, id);
    try {
      const manifest = await readManifest(dir, id);
      if (manifest.engine === 'set') {
        // Members by manifest only (their ONNX files are opened at load time, like any bundle's).
        const members = await Promise.all(manifest.members.map((m) => readMember(root, id, m.model)));
        bundles.push({ id, dir, manifest, members: planModelSet(id, manifest, members) });
      } else {
        bundles.push({ id, dir, manifest, ...(manifest.engine === 'onnx' ? { weightsPath: join(dir, manifest.weights) } : {}) });
      }
    } catch (error) {
      if (!isHolocaseError(error)) throw error;
      options.onInvalid?.(id, error);
    }
  }
  return bundles;
}

/**
 * Loads a bundle by id: manifest validated, ONNX signature read and checked against it.
 * `MODEL_NOT_FOUND` lists the available ids; `MODEL_INVALID` / `MODEL_MISMATCH` say what is wrong.
 */
export async function loadModelBundle(id: string, options: BundleOptions = {}): Promise<ModelBundle> {
  const root = modelsDirectory(options);
  const ids = await bundleIds(root);
  if (!ID_PATTERN.test(id) || !ids.includes(id)) {
    throw new HolocaseError('MODEL_NOT_FOUND', `no model "${id}"; available: ${ids.join(', ') || `none (no bundles in ${root})`}`);
  }
  const dir = join(root, id);
  const manifest = await readManifest(dir, id);
  if (manifest.engine === 'rules') return { id, dir, manifest };
  if (manifest.engine === 'set') {
    const members: ModelBundle[] = [];
    for (const m of manifest.members) {
      await readMember(root, id, m.model);
      members.push(await loadModelBundle(m.model, { modelsDir: root }));
    }
    return { id, dir, manifest, members: planModelSet(id, manifest, members) };
  }
  const weightsPath = join(dir, manifest.weights);
  const signature = await readOnnxSignature(weightsPath);
  checkManifestAgainstOnnx(manifest, signature, `models/${id}/${manifest.weights}`);
  return { id, dir, manifest, weightsPath, signature };
}

function shapeText(t: OnnxTensorInfo): string {
  return `[${t.shape.join(', ')}]`;
}

/** The ONNX input the manifest feeds. */
export function selectInput(manifest: OnnxManifest, signature: OnnxSignature, source: string): OnnxTensorInfo {
  if (manifest.input.name) {
    const found = signature.inputs.find((i) => i.name === manifest.input.name);
    if (!found) {
      throw new HolocaseError('MODEL_MISMATCH', `manifest input.name is "${manifest.input.name}" but ${source} has inputs ${signature.inputs.map((i) => `"${i.name}"`).join(', ')}`);
    }
    return found;
  }
  if (signature.inputs.length !== 1) {
    throw new HolocaseError('MODEL_MISMATCH', `${source} has ${signature.inputs.length} inputs (${signature.inputs.map((i) => `"${i.name}"`).join(', ')}); name the CT input in input.name`);
  }
  return signature.inputs[0];
}

/** The ONNX output the manifest reads. */
export function selectOutput(manifest: OnnxManifest, signature: OnnxSignature, source: string): OnnxTensorInfo {
  if (manifest.output.name) {
    const found = signature.outputs.find((o) => o.name === manifest.output.name);
    if (!found) {
      throw new HolocaseError('MODEL_MISMATCH', `manifest output.name is "${manifest.output.name}" but ${source} has outputs ${signature.outputs.map((o) => `"${o.name}"`).join(', ')}`);
    }
    return found;
  }
  return signature.outputs[0];
}

/**
 * Refuses a manifest that does not match its network. Every message names the manifest's number and
 * the network's, e.g. "manifest input.channels is 1 but the network's input "x" takes 3 channels".
 */
export function checkManifestAgainstOnnx(manifest: OnnxManifest, signature: OnnxSignature, source: string): void {
  const fail = (message: string): never => {
    throw new HolocaseError('MODEL_MISMATCH', `${source} does not match its manifest: ${message}`);
  };
  const input = selectInput(manifest, signature, source);
  const output = selectOutput(manifest, signature, source);
  // 1. Input: float32 [N, C, D, H, W].
  if (input.type !== 'float32') fail(`its input "${input.name}" takes ${input.type}; holocase feeds float32 (re-export the network with a float32 input)`);
  if (input.shape.length !== 5) {
    fail(`the manifest describes a 3-D input [N, C, D, H, W] (rank 5) but input "${input.name}" has rank ${input.shape.length} ${shapeText(input)}`);
  }
  const [batch, channels, ...spatial] = input.shape;
  if (typeof channels === 'number' && channels !== manifest.input.channels) {
    fail(`manifest input.channels is ${manifest.input.channels} but input "${input.name}" takes ${channels} channel(s) ${shapeText(input)}`);
  }
  const batchSize = manifest.inference.mode === 'sliding-window' ? manifest.inference.batchSize : 1;
  if (typeof batch === 'number' && batch !== batchSize) {
    fail(`manifest batch size is ${batchSize} but input "${input.name}" has a fixed batch of ${batch} ${shapeText(input)}`);
  }
  // 2. Fixed spatial dims must be the patch (or the fixed whole-volume size).
  const fixedSize = manifest.inference.mode === 'sliding-window' ? manifest.inference.patchSize : manifest.input.size;
  const what = manifest.inference.mode === 'sliding-window' ? 'inference.patchSize' : 'input.size';
  spatial.forEach((dim, d) => {
    if (typeof dim !== 'number') return;
    if (!fixedSize) {
      fail(`input "${input.name}" has fixed spatial dims ${shapeText(input)} but the manifest resamples to a spacing; use input.size or sliding-window inference with that patch size`);
    } else if (fixedSize[d] !== dim) {
      fail(`manifest ${what}[${d}] is ${fixedSize[d]} but input "${input.name}" has dim ${d + 2} fixed to ${dim} ${shapeText(input)}`);
    }
  });
  // 3. Output: [N, labels (+ background), D, H, W].
  if (output.shape.length !== 5) {
    fail(`the manifest expects a 3-D output [N, C, D, H, W] (rank 5) but output "${output.name}" has rank ${output.shape.length} ${shapeText(output)}`);
  }
  const wanted = expectedOutputChannels(manifest);
  const outChannels = output.shape[1];
  if (typeof outChannels === 'number' && outChannels !== wanted) {
    const structures = Object.keys(manifest.output.labels).length;
    const explain = manifest.output.activation === 'sigmoid' ? `${structures} structures (one sigmoid channel each)` : `${structures} structures + background = ${wanted} channels`;
    fail(`manifest output.labels has ${explain} but output "${output.name}" has ${outChannels} channels ${shapeText(output)}`);
  }
  if (output.type !== 'float32') fail(`its output "${output.name}" is ${output.type}; holocase reads float32 scores`);
}
