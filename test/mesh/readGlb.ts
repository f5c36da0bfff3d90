/**
 * Reads a holocase GLB back the way an independent consumer would: glTF-Transform's NodeIO with the
 * meshopt decoder registered, every structure's positions taken through its node's world transform
 * (quantisation puts a scale and offset there) into the case frame (metres).
 */
import { NodeIO, type Document } from '@gltf-transform/core';
import { ALL_EXTENSIONS } from '@gltf-transform/extensions';
import { MeshoptDecoder } from 'meshoptimizer';
import type { Vec3 } from '../../mesh/grid.ts';
import type { TriangleMesh } from '../../mesh/triangleMesh.ts';

export interface GlbStructure {
  nodeName: string;
  meshName: string;
  materialName: string;
  /** Name of the parent (group) node. */
  parentName: string;
  extras: Record<string, unknown>;
  primitives: number;
  /** In the case frame (metres). */
  mesh: TriangleMesh;
  baseColorFactor: number[];
  roughness: number;
  metallic: number;
  doubleSided: boolean;
  alphaMode: string;
}

export interface GlbCase {
  document: Document;
  sceneExtras: Record<string, unknown>;
  rootNames: string[];
  groupNodes: { name: string; extras: Record<string, unknown> }[];
  structures: GlbStructure[];
  meshCount: number;
  extensionsUsed: string[];
}

export async function createNodeIO(): Promise<NodeIO> {
  await MeshoptDecoder.ready;
  return new NodeIO().registerExtensions(ALL_EXTENSIONS).registerDependencies({ 'meshopt.decoder': MeshoptDecoder });
}

function transformPoint(m: number[], p: Vec3): Vec3 {
  // glTF matrices are column-major.
  return [
    m[0] * p[0] + m[4] * p[1] + m[8] * p[2] + m[12],
    m[1] * p[0] + m[5] * p[1] + m[9] * p[2] + m[13],
    m[2] * p[0] + m[6] * p[1] + m[10] * p[2] + m[14],
  ];
}

export async function readCaseGlb(bytes: Uint8Array): Promise<GlbCase> {
  const io = await createNodeIO();
  const document = await io.readBinary(bytes);
  const root = document.getRoot();
  const scene = root.listScenes()[0];
  const structures: GlbStructure[] = [];
  for (const node of root.listNodes()) {
    const mesh = node.getMesh();
    if (!mesh) continue;
    const prim = mesh.listPrimitives()[0];
    const position = prim.getAttribute('POSITION')!;
    const world = node.getWorldMatrix() as unknown as number[];
    const count = position.getCount();
    const positions = new Float32Array(count * 3);
    const element: number[] = [0, 0, 0];
    for (let v = 0; v < count; v++) {
      position.getElement(v, element);
      positions.set(transformPoint(world, element as Vec3), v * 3);
    }
    const indices = Uint32Array.from(prim.getIndices()!.getArray()!);
    const material = prim.getMaterial()!;
    structures.push({
      nodeName: node.getName(),
      meshName: mesh.getName(),
      materialName: material.getName(),
      parentName: node.getParentNode()?.getName() ?? '',
      extras: node.getExtras() as Record<string, unknown>,
      primitives: mesh.listPrimitives().length,
      mesh: { positions, indices },
      baseColorFactor: material.getBaseColorFactor(),
      roughness: material.getRoughnessFactor(),
      metallic: material.getMetallicFactor(),
      doubleSided: material.getDoubleSided(),
      alphaMode: material.getAlphaMode(),
    });
  }
  const rootNodes = scene.listChildren();
  return {
    document,
    sceneExtras: scene.getExtras() as Record<string, unknown>,
    rootNames: rootNodes.map((n) => n.getName()),
    groupNodes: rootNodes.flatMap((n) => n.listChildren()).map((n) => ({ name: n.getName(), extras: n.getExtras() as Record<string, unknown> })),
    structures,
    meshCount: root.listMeshes().length,
    extensionsUsed: root.listExtensionsUsed().map((e) => e.extensionName),
  };
}

type Validate = (data: Uint8Array, options?: object) => Promise<unknown>;

/** Validates GLB bytes with the Khronos glTF validator; returns its report. */
export async function validateGlb(bytes: Uint8Array): Promise<{ issues: { numErrors: number; numWarnings: number; messages: { code: string; message: string; severity: number; pointer?: string }[] } }> {
  // @ts-expect-error gltf-validator ships no type declarations
  const module = (await import('gltf-validator')) as { validateBytes?: Validate; default?: { validateBytes: Validate } };
  const validator = module.validateBytes ? (module as { validateBytes: Validate }) : module.default!;
  return (await validator.validateBytes(bytes, { maxIssues: 100 })) as Awaited<ReturnType<typeof validateGlb>>;
}
