/**
 * The viewer's reading of a GLB in the contract layout (scene → `case` → tissue groups → structures,
 * node extras, one mesh per structure), quantised and meshopt-compressed as the mesh stage writes it,
 * parsed with three's GLTFLoader and the meshopt decoder the browser uses.
 */
import { Document, NodeIO } from '@gltf-transform/core';
import { EXTMeshoptCompression, KHRMeshQuantization } from '@gltf-transform/extensions';
import { meshopt } from '@gltf-transform/functions';
import { MeshoptEncoder } from 'meshoptimizer';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { MeshoptDecoder } from 'three/examples/jsm/libs/meshopt_decoder.module.js';
import { describe, expect, it } from 'vitest';
import { readCaseStructures } from '../../app/viewer/caseStructures.ts';

/** A closed box (12 triangles) between `min` and `max`, metres. */
function box(doc: Document, min: number[], max: number[]) {
  const p: number[] = [];
  for (let i = 0; i < 8; i++) p.push(i & 1 ? max[0] : min[0], i & 2 ? max[1] : min[1], i & 4 ? max[2] : min[2]);
  const faces = [0, 2, 1, 1, 2, 3, 4, 5, 6, 5, 7, 6, 0, 1, 4, 1, 5, 4, 2, 6, 3, 3, 6, 7, 0, 4, 2, 2, 4, 6, 1, 3, 5, 3, 7, 5];
  return doc
    .createPrimitive()
    .setAttribute('POSITION', doc.createAccessor().setType('VEC3').setArray(new Float32Array(p)))
    .setIndices(doc.createAccessor().setType('SCALAR').setArray(new Uint16Array(faces)));
}

async function contractGlb(): Promise<Uint8Array> {
  const doc = new Document();
  doc.createBuffer();
  const scene = doc.createScene().setExtras({ holocase: { version: 1, centerLpsMm: [1, 2, 3], units: 'm' } });
  const root = doc.createNode('case');
  scene.addChild(root);
  const structures = [
    { name: 'liver', displayName: 'Liver', group: 'organ', color: '#a0522d', volumeMl: 1500.5, min: [-0.15, -0.05, -0.05], max: [-0.02, 0.08, 0.06] },
    { name: 'vertebrae_L1', displayName: 'L1 vertebra', group: 'bone', color: '#e8dcc0', volumeMl: 40.2, min: [-0.02, -0.1, -0.12], max: [0.02, -0.07, -0.08] },
    { name: 'kidney_left', displayName: 'Left kidney', group: 'organ', color: '#b9770e', volumeMl: 150, min: [0.05, -0.12, -0.1], max: [0.1, -0.02, -0.05] },
  ];
  const groups = new Map<string, ReturnType<Document['createNode']>>();
  structures.forEach((s, i) => {
    const material = doc.createMaterial(s.name);
    const mesh = doc.createMesh(s.name).addPrimitive(box(doc, s.min, s.max).setMaterial(material));
    let group = groups.get(s.group);
    if (!group) {
      group = doc.createNode(s.group).setExtras({ group: s.group });
      groups.set(s.group, group);
      root.addChild(group);
    }
    const { min, max, ...extras } = s;
    group.addChild(doc.createNode(s.name).setMesh(mesh).setExtras({ label: i + 1, ...extras, surfaceCm2: 10 }));
  });
  await MeshoptEncoder.ready;
  await doc.transform(meshopt({ encoder: MeshoptEncoder, level: 'medium' }));
  const io = new NodeIO().registerExtensions([EXTMeshoptCompression, KHRMeshQuantization]).registerDependencies({ 'meshopt.encoder': MeshoptEncoder });
  return io.writeBinary(doc);
}

describe('readCaseStructures', () => {
  it('reads structures, tissue groups, extras and metre bounds from a compressed contract GLB', async () => {
    const glb = await contractGlb();
    const loader = new GLTFLoader().setMeshoptDecoder(MeshoptDecoder);
    const gltf = await loader.parseAsync(glb.buffer.slice(glb.byteOffset, glb.byteOffset + glb.byteLength) as ArrayBuffer, '');
    const model = readCaseStructures(gltf.scene, gltf.scene.userData);

    expect(model.structures.map((s) => s.name).sort()).toEqual(['kidney_left', 'liver', 'vertebrae_L1']);
    // Groups in catalogue order (bone before organ), each with its members.
    expect(model.groups.map((g) => [g.group, g.structures.map((s) => s.name).sort()])).toEqual([
      ['bone', ['vertebrae_L1']],
      ['organ', ['kidney_left', 'liver']],
    ]);
    const liver = model.structures.find((s) => s.name === 'liver')!;
    expect(liver).toMatchObject({ displayName: 'Liver', group: 'organ', color: '#a0522d', volumeMl: 1500.5, label: 1, triangles: 12 });
    expect(model.triangles).toBe(36);
    expect(model.centerLpsMm).toEqual([1, 2, 3]);
    // Quantisation moves scale/offset into node transforms: bounds must still be the metre boxes.
    expect(model.bounds.min.x).toBeCloseTo(-0.15, 3);
    expect(model.bounds.max.x).toBeCloseTo(0.1, 3);
    expect(model.bounds.min.y).toBeCloseTo(-0.12, 3);
    expect(model.bounds.max.y).toBeCloseTo(0.08, 3);
    expect(model.bounds.min.z).toBeCloseTo(-0.12, 3);
    expect(model.bounds.max.z).toBeCloseTo(0.06, 3);
    // One mesh, one material per structure (one draw call each).
    expect(new Set(model.structures.map((s) => s.material)).size).toBe(3);
  });
});
