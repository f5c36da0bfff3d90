/**
 * Downloads and parses a case GLB with three's GLTFLoader and the meshopt decoder (bundled as
 * WebAssembly inside the module, so it works offline).
 */
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { MeshoptDecoder } from 'three/examples/jsm/libs/meshopt_decoder.module.js';
import { DoubleSide } from 'three';
import { readCaseStructures, type CaseModelData } from './caseStructures.ts';
import { takePrefetchedGlb } from './glbPrefetch.ts';

export interface LoadCaseGlbOptions {
  /** Called as bytes arrive: `fraction` in 0..1, or `null` while the size is unknown. */
  onProgress?: (fraction: number | null, loadedBytes: number) => void;
  /** Size to assume when the server does not send Content-Length (e.g. gzip); from the case summary. */
  expectedBytes?: number;
}

export const LOAD_CASE_GLB_DEFAULTS = { expectedBytes: 0 } satisfies LoadCaseGlbOptions;

/** Why a model did not load, in words for the person looking at the screen. */
export class CaseLoadError extends Error {}

/**
 * Loads a GLB in the holocase layout.
 *
 * 1. Take the bytes the page prefetched, or fetch it with progress (cookies go with it: same origin).
 * 2. Parse it, decoding `EXT_meshopt_compression` buffers.
 * 3. Read the structures and their tissue groups.
 * 4. Draw both faces, so a cut (clipping plane) shows the inside of an organ instead of a hole.
 */
export async function loadCaseGlb(url: string, options: LoadCaseGlbOptions = {}): Promise<CaseModelData> {
  const { onProgress, expectedBytes } = { ...LOAD_CASE_GLB_DEFAULTS, ...options };
  // 1–2. Fetch and parse.
  const loader = new GLTFLoader().setMeshoptDecoder(MeshoptDecoder);
  let gltf;
  try {
    const bytes = await takePrefetchedGlb(url);
    if (bytes) {
      onProgress?.(1, bytes.byteLength);
      gltf = await loader.parseAsync(bytes, new URL(url, window.location.href).href);
    } else {
      gltf = await loader.loadAsync(url, (event: ProgressEvent) => {
        const total = event.total || expectedBytes;
        onProgress?.(total ? Math.min(1, event.loaded / total) : null, event.loaded);
      });
    }
  } catch (error) {
    throw new CaseLoadError(describeLoadFailure(error));
  }
  // 3. Structures.
  const model = readCaseStructures(gltf.scene, gltf.scene.userData);
  // 4. Materials.
  for (const s of model.structures) s.material.side = DoubleSide;
  return model;
}

function describeLoadFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/404|Not Found/i.test(message)) return 'the 3D model of this case was not found on the server';
  if (/401|403/.test(message)) return 'you no longer have access to this case (sign in again or ask for a new link)';
  if (/fetch|network/i.test(message)) return 'the 3D model could not be downloaded (network error)';
  return `the 3D model could not be read: ${message}`;
}
