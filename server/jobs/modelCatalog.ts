/**
 * The segmentation models an upload may name, as the API shows them: the valid bundles in the models
 * folder (`<modelsDir>/<id>/model.json`, checked by the manifest schema). A bundle whose manifest is
 * invalid is left out of the list and logged, so one bad folder does not hide the others.
 */
import { HolocaseError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { listModelBundles } from '../segment/bundle.ts';

export interface ModelInfo {
  id: string;
  name: string;
  version: string;
  modality: string;
  description: string;
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
    return bundles
      .map(({ id, manifest: m }) => ({ id, name: m.name, version: m.version, modality: m.modality, description: m.description }))
      .sort((a, b) => a.id.localeCompare(b.id));
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
