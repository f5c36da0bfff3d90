/**
 * Writes a case's meshes as a binary glTF 2.0 file (GLB) with glTF-Transform, in the layout the viewer
 * relies on (`app/viewer/caseStructures.ts` reads it):
 *
 *   scene  extras.holocase = { version: 1, centerLpsMm: [cL, cP, cS], units: 'm' }
 *   └─ node "case"
 *      └─ node "<group>" (bone, vessel, organ, muscle, airway, other; only those present), extras { group }
 *         └─ node "<name>" → mesh "<name>" → 1 primitive → material "<name>",
 *            extras { label, name, displayName, group, color, volumeMl, surfaceCm2 }
 *
 * Positions are metres in the glTF frame (+X patient left, +Y superior, +Z anterior) relative to the
 * body's centre (see `coordinates.ts`). Materials are metal/rough PBR from the catalogue colour:
 * opaque, single-sided (the surfaces are closed), vessels and organs slightly glossy, bone matte.
 * By default the file is quantised (KHR_mesh_quantization) and compressed with EXT_meshopt_compression;
 * quantisation puts a scale and offset on each structure node, which the viewer folds in.
 * Isomorphic: no Node built-ins here.
 */
import { Document, Logger, WebIO, type Node } from '@gltf-transform/core';
import { EXTMeshoptCompression, KHRMeshQuantization } from '@gltf-transform/extensions';
import { meshopt } from '@gltf-transform/functions';
import { MeshoptEncoder } from 'meshoptimizer';
import { TISSUE_GROUPS, type TissueGroup } from '../models/anatomy-types.ts';
import { meshToGltfFrame } from './coordinates.ts';
import type { Vec3 } from './grid.ts';
import type { StructureMesh } from './structure.ts';
import { withDefaults } from './withDefaults.ts';

export interface GlbOptions {
  /** The body's centre in LPS mm: the origin of the glTF frame (see `bodyCentre`). */
  centerLpsMm: Vec3;
  /** Quantise and compress with EXT_meshopt_compression (false: plain float32 buffers). */
  compress?: boolean;
  /** `asset.generator` string. */
  generator?: string;
}

export const GLB_DEFAULTS = { compress: true, generator: 'holocase' };

/** Surface finish per tissue group: roughness (metalness is 0 for all tissue). */
export const GROUP_ROUGHNESS: Record<TissueGroup, number> = {
  bone: 0.85,
  vessel: 0.35,
  organ: 0.45,
  muscle: 0.6,
  airway: 0.5,
  other: 0.6,
};

/** `#rrggbb` (sRGB) → linear RGBA as glTF's baseColorFactor expects. */
export function srgbHexToLinear(hex: string): [number, number, number, number] {
  const match = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  const value = match ? parseInt(match[1], 16) : 0xcccccc;
  const channel = (byte: number) => {
    const c = byte / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return [channel((value >> 16) & 255), channel((value >> 8) & 255), channel(value & 255), 1];
}

/**
 * 1. Scene with the holocase extras, root node `case`, one node per tissue group present.
 * 2. Per structure: positions and normals moved into the glTF frame, indices (16-bit when they fit),
 *    its material, mesh and node with extras.
 * 3. Optionally reorder, quantise and meshopt-compress; write the GLB.
 */
export async function writeGlb(structures: readonly StructureMesh[], options: GlbOptions): Promise<Uint8Array> {
  const { centerLpsMm, compress, generator } = withDefaults(GLB_DEFAULTS, options);
  const doc = new Document().setLogger(new Logger(Logger.Verbosity.ERROR));
  doc.getRoot().getAsset().generator = generator;
  const buffer = doc.createBuffer();

  // 1. Scene and hierarchy.
  const scene = doc.createScene('case').setExtras({ holocase: { version: 1, centerLpsMm: [...centerLpsMm], units: 'm' } });
  const root = doc.createNode('case');
  scene.addChild(root);
  const groupNodes = new Map<TissueGroup, Node>();
  for (const group of TISSUE_GROUPS) {
    if (!structures.some((s) => s.structure.group === group)) continue;
    const node = doc.createNode(group).setExtras({ group });
    root.addChild(node);
    groupNodes.set(group, node);
  }

  // 2. Structures.
  for (const { structure, mesh } of structures) {
    const placed = meshToGltfFrame(mesh, centerLpsMm);
    const vertexCount = placed.positions.length / 3;
    const position = doc.createAccessor(`${structure.name}_position`).setType('VEC3').setArray(placed.positions).setBuffer(buffer);
    const indices = doc
      .createAccessor(`${structure.name}_indices`)
      .setType('SCALAR')
      .setArray(vertexCount <= 0xffff ? Uint16Array.from(placed.indices) : placed.indices)
      .setBuffer(buffer);
    const material = doc
      .createMaterial(structure.name)
      .setBaseColorFactor(srgbHexToLinear(structure.color))
      .setMetallicFactor(0)
      .setRoughnessFactor(GROUP_ROUGHNESS[structure.group] ?? GROUP_ROUGHNESS.other)
      .setDoubleSided(false)
      .setAlphaMode('OPAQUE');
    const primitive = doc.createPrimitive().setAttribute('POSITION', position).setIndices(indices).setMaterial(material);
    if (placed.normals) {
      primitive.setAttribute('NORMAL', doc.createAccessor(`${structure.name}_normal`).setType('VEC3').setArray(placed.normals).setBuffer(buffer));
    }
    const gltfMesh = doc.createMesh(structure.name).addPrimitive(primitive);
    const node = doc.createNode(structure.name).setMesh(gltfMesh).setExtras({
      label: structure.label,
      name: structure.name,
      displayName: structure.displayName,
      group: structure.group,
      color: structure.color,
      volumeMl: structure.meshVolumeMl,
      surfaceCm2: structure.surfaceCm2,
    });
    groupNodes.get(structure.group)!.addChild(node);
  }

  // 3. Compress and write.
  const io = new WebIO();
  if (compress) {
    await MeshoptEncoder.ready;
    await doc.transform(meshopt({ encoder: MeshoptEncoder, level: 'high' }));
    io.registerExtensions([EXTMeshoptCompression, KHRMeshQuantization]).registerDependencies({ 'meshopt.encoder': MeshoptEncoder });
  }
  return io.writeBinary(doc);
}
