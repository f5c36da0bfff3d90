/**
 * The segmentation models an upload may name, as the API shows them: the valid bundles in the models
 * folder (`<modelsDir>/<id>/model.json`, checked by the manifest schema; a model set also against its
 * members). A bundle whose manifest is invalid is left out of the list and logged, so one bad folder
 * does not hide the others. Each model comes with what a surgeon must know before choosing it: its
 * licence, its limits in plain words, and the structures it segments.
 */
import { describeStructure, type TissueGroup } from '../../models/anatomy.ts';
import { HolocaseError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { listModelBundles, type ModelBundle } from '../segment/bundle.ts';
import { labelEntries } from '../segment/manifest.ts';

export interface ModelClass {
  label: number;
  name: string;
  /** Readable name from the anatomy catalogue. */
  displayName: string;
  group: TissueGroup;
}

export interface ModelInfo {
  id: string;
  name: string;
  version: string;
  modality: string;
  description: string;
  /** Licence of the weights (SPDX id or text). */
  license: string;
  /** What the model cannot do, in plain words. */
  limits: string;
  /** `onnx`: one network; `set`: several networks run one after another; `rules`: built-in rules. */
  engine: 'onnx' | 'rules' | 'set';
  /** A set's member models, in running order. */
  members?: string[];
  /** The structures it segments, in label order. */
  classes: ModelClass[];
}

/** How the API shows one bundle. */
export function modelInfo(bundle: ModelBundle): ModelInfo {
  const m = bundle.manifest;
  return {
    id: bundle.id,
    name: m.name,
    version: m.version,
    modality: m.modality,
    description: m.description,
    license: m.license,
    limits: m.limits,
    engine: m.engine,
    ...(m.engine === 'set' ? { members: m.members.map((member) => member.model) } : {}),
    classes: labelEntries(m).map(({ label, name }) => {
      const d = describeStructure(name);
      return { label, name, displayName: d.displayName, group: d.group };
    }),
  };
}

export interface ModelCatalogOptions {
  /** Folder holding the bundles. */
  modelsDir: string;
  log?: Logger;
}

export interface ModelCatalog {
  listModels(): Promise<ModelInfo[]>;
  /** The model with this id; MODEL_NOT_FOUND naming the available ones otherwise. */
  findModel(id: string): Promise<ModelInfo>;
}

export function createModelCatalog(options: ModelCatalogOptions): ModelCatalog {
  async function listModels(): Promise<ModelInfo[]> {
    const bundles = await listModelBundles({
      modelsDir: options.modelsDir,
      onInvalid: (id, error) => options.log?.warn({ modelId: id, problem: error.message }, 'model bundle left out: its manifest is invalid'),
    });
    return bundles.map(modelInfo).sort((a, b) => a.id.localeCompare(b.id));
  }
  return {
    listModels,
    async findModel(id) {
      const models = await listModels();
      const found = models.find((m) => m.id === id);
      if (!found) throw new HolocaseError('MODEL_NOT_FOUND', `no model "${id}"; available: ${models.map((m) => m.id).join(', ') || 'none'}`);
      return found;
    },
  };
}
