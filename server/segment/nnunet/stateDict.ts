/**
 * The network weights of an nnU-Net checkpoint (`checkpoint["network_weights"]`, a PyTorch state dict)
 * checked against the network the plans describe, the way `load_state_dict(strict=True)` would: every
 * parameter present with the right shape, nothing the network does not have. Aliases (`all_modules.*`,
 * `decoder.encoder.*`) may be absent, as older module trees did not all register them, but where
 * present they must match.
 */
import { HolocaseError } from '../../errors.ts';
import { unetParameterShapes, type UNetArchitecture } from './architecture.ts';
import { field, TensorRef, type TorchCheckpoint } from './torchCheckpoint.ts';

/** Parameter name → tensor reference, in the checkpoint's order. */
export type StateDict = Map<string, TensorRef>;

/** Prefixes a wrapped network adds to every name (DistributedDataParallel, torch.compile). */
const WRAPPER_PREFIXES = ['module.', '_orig_mod.'];

/**
 * `network_weights` of an nnU-Net checkpoint. Throws `NNUNET_INVALID` when the file is a PyTorch
 * checkpoint but not an nnU-Net trainer's (no `network_weights` state dict of tensors).
 */
export function networkWeights(checkpoint: TorchCheckpoint, source: string): StateDict {
  const weights = field(checkpoint.root, 'network_weights');
  if (!(weights instanceof Map) || weights.size === 0) {
    const keys = checkpoint.root instanceof Map ? [...checkpoint.root.keys()].slice(0, 8).map(String).join(', ') : typeof checkpoint.root;
    throw new HolocaseError('NNUNET_INVALID', `${source} is a PyTorch checkpoint but not an nnU-Net v2 one: it has no "network_weights" (it holds ${keys || 'nothing'})`);
  }
  const out: StateDict = new Map();
  for (const [name, value] of weights) {
    if (typeof name !== 'string' || !(value instanceof TensorRef)) {
      throw new HolocaseError('NNUNET_INVALID', `${source}: network_weights entry "${String(name)}" is not a dense tensor holocase can read`);
    }
    out.set(name, value);
  }
  for (const prefix of WRAPPER_PREFIXES) {
    if ([...out.keys()].every((k) => k.startsWith(prefix))) return new Map([...out].map(([k, v]) => [k.slice(prefix.length), v]));
  }
  return out;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Refuses weights that do not fit the network: `MODEL_MISMATCH` naming the first tensor that is
 * missing, has another shape, or is not part of the network, with both shapes.
 */
export function checkStateDict(architecture: UNetArchitecture, weights: StateDict, source: string): void {
  const expected = unetParameterShapes(architecture);
  const byName = new Map(expected.map((p) => [p.name, p]));
  const fail = (message: string): never => {
    throw new HolocaseError('MODEL_MISMATCH', `${source} does not fit the network its plans describe (${architecture.kind}, ${architecture.featuresPerStage.length} stages, features ${architecture.featuresPerStage.join('/')}): ${message}`);
  };
  for (const p of expected) {
    const tensor = weights.get(p.name);
    if (!tensor) {
      if (p.aliasOf) continue;
      fail(`the checkpoint has no "${p.name}" (the network needs ${shapeText(p.shape)})`);
    }
    if (tensor!.shape.length !== p.shape.length || tensor!.shape.some((d, i) => d !== p.shape[i])) {
      fail(`"${p.name}" is ${shapeText(tensor!.shape)} in the checkpoint but ${shapeText(p.shape)} in the network`);
    }
  }
  for (const [name, tensor] of weights) {
    if (!byName.has(name)) fail(`the checkpoint has "${name}" ${shapeText(tensor.shape)}, which the network does not have`);
  }
}
