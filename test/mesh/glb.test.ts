/**
 * `case.glb` from the real TotalSegmentator label map with its v2 label table, meshed on worker threads
 * and read back by an independent reader (glTF-Transform NodeIO + meshopt decoder): the layout the viewer
 * relies on, anatomy in the right place and orientation, and LPS coordinates recoverable from the
 * recorded centre.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { labelBoundingBoxes } from '../../mesh/boundingBoxes.ts';
import { gltfToLps } from '../../mesh/coordinates.ts';
import { srgbHexToLinear } from '../../mesh/glbWriter.ts';
import { applyAffine, invertAffine, spacingOf, type LabelMap, type Vec3 } from '../../mesh/grid.ts';
import { checkEdges, enclosedVolume, volumeCentroid } from '../../mesh/meshMetrics.ts';
import { TISSUE_GROUPS } from '../../models/anatomy-types.ts';
import { describeStructure } from '../../models/anatomy.ts';
import { meshLabelMap, type MeshLabelMapResult } from '../../server/mesh/meshLabelMap.ts';
import { structureSpecs } from '../../server/mesh/structureSpecs.ts';
import { exampleSeg, totalV2Names } from './labelMaps.ts';
import { distance, voxelCentroid } from './meshChecks.ts';
import { createNodeIO, readCaseGlb, validateGlb, type GlbCase, type GlbStructure } from './readGlb.ts';

let seg: LabelMap;
let result: MeshLabelMapResult;
let glb: GlbCase;
let byName: Map<string, GlbStructure>;

beforeAll(async () => {
  seg = await exampleSeg();
  const names = await totalV2Names();
  const progress: number[] = [];
  result = await meshLabelMap(seg, structureSpecs([...names].map(([label, name]) => ({ label, name }))), {
    workers: 2,
    minVoxelsPerWorker: 0,
    onProgress: (p) => progress.push(p.fraction),
  });
  expect(result.workers).toBe(2);
  expect(progress.at(-1)).toBe(1);
  glb = await readCaseGlb(result.glb);
  byName = new Map(glb.structures.map((s) => [s.nodeName, s]));
});

/** Centroid of a structure's solid from the GLB, in the case frame (metres). */
function gltfCentroid(name: string): Vec3 {
  const s = byName.get(name);
  expect(s, `${name} in the GLB`).toBeDefined();
  return volumeCentroid(s!.mesh);
}

describe('case.glb from example_seg.nii.gz', () => {
  it('passes the Khronos glTF validator with no errors, compressed and decoded', async () => {
    const report = await validateGlb(result.glb);
    expect(report.issues.numErrors, JSON.stringify(report.issues.messages)).toBe(0);
    expect(glb.extensionsUsed).toEqual(expect.arrayContaining(['EXT_meshopt_compression', 'KHR_mesh_quantization']));

    // The validator cannot look inside meshopt buffers: decode, write plainly, validate again.
    const io = await createNodeIO();
    const document = await io.readBinary(result.glb);
    document.getRoot().listExtensionsUsed().find((e) => e.extensionName === 'EXT_meshopt_compression')!.dispose();
    const decoded = await validateGlb(await io.writeBinary(document));
    expect(decoded.issues.numErrors, JSON.stringify(decoded.issues.messages)).toBe(0);
    expect(decoded.issues.numWarnings, JSON.stringify(decoded.issues.messages)).toBe(0);
  });

  it('has exactly one mesh, with one primitive and its own material, per structure present', () => {
    const present = labelBoundingBoxes(seg).map((e) => e.label);
    expect(glb.meshCount).toBe(present.length);
    expect(glb.structures.map((s) => s.extras.label).sort((a, b) => (a as number) - (b as number))).toEqual(present);
    for (const s of glb.structures) {
      expect(s.primitives).toBe(1);
      expect(s.meshName).toBe(s.nodeName);
      expect(s.materialName).toBe(s.nodeName);
    }
    expect(new Set(glb.structures.map((s) => s.materialName)).size).toBe(glb.structures.length);
  });

  it('follows the layout: scene extras, root `case`, group nodes, structure extras from the catalogue', () => {
    expect(glb.sceneExtras).toEqual({ holocase: { version: 1, centerLpsMm: result.centerLpsMm, units: 'm' } });
    expect(glb.rootNames).toEqual(['case']);
    const groups = glb.groupNodes.map((g) => g.name);
    expect(groups).toEqual(TISSUE_GROUPS.filter((g) => glb.structures.some((s) => s.extras.group === g)));
    for (const g of glb.groupNodes) expect(g.extras).toEqual({ group: g.name });
    for (const s of glb.structures) {
      const entry = describeStructure(s.nodeName);
      const reported = result.structures.find((r) => r.name === s.nodeName)!;
      expect(s.extras).toEqual({
        label: reported.label,
        name: s.nodeName,
        displayName: entry.displayName,
        group: entry.group,
        color: entry.color,
        volumeMl: reported.meshVolumeMl,
        surfaceCm2: reported.surfaceCm2,
      });
      expect(s.parentName).toBe(entry.group);
      // PBR material from the catalogue colour, sRGB → linear.
      srgbHexToLinear(entry.color).forEach((c, i) => expect(s.baseColorFactor[i]).toBeCloseTo(c, 5));
      expect(s.metallic).toBe(0);
      expect(s.doubleSided).toBe(false);
      expect(s.alphaMode).toBe('OPAQUE');
    }
    // Bone matte, vessels and organs glossier.
    const roughness = (name: string) => byName.get(name)!.roughness;
    expect(roughness('vertebrae_L1')).toBeGreaterThan(roughness('liver'));
    expect(roughness('liver')).toBeGreaterThan(roughness('aorta'));
  });

  it('puts the liver on the patient\'s right: lower X than the spine', () => {
    const vertebrae = ['vertebrae_L2', 'vertebrae_L1', 'vertebrae_T12', 'vertebrae_T11'].map(gltfCentroid);
    const spineX = vertebrae.reduce((s, c) => s + c[0], 0) / vertebrae.length;
    expect(gltfCentroid('liver')[0]).toBeLessThan(spineX - 0.05);
    // The spleen, on the patient's left, the other way.
    expect(gltfCentroid('spleen')[0]).toBeGreaterThan(spineX + 0.05);
  });

  it('stacks the vertebrae upwards (+Y) from L2 to T11', () => {
    const y = ['vertebrae_L2', 'vertebrae_L1', 'vertebrae_T12', 'vertebrae_T11'].map((n) => gltfCentroid(n)[1]);
    for (let i = 1; i < y.length; i++) expect(y[i]).toBeGreaterThan(y[i - 1]);
  });

  it('puts the aorta anterior (+Z) of the vertebral bodies', () => {
    const aortaZ = gltfCentroid('aorta')[2];
    for (const name of ['vertebrae_L2', 'vertebrae_L1', 'vertebrae_T12']) {
      // The vertebral body: the front third of the vertebra's anterior–posterior extent.
      const p = byName.get(name)!.mesh.positions;
      let back = Infinity;
      let front = -Infinity;
      for (let v = 2; v < p.length; v += 3) {
        back = Math.min(back, p[v]);
        front = Math.max(front, p[v]);
      }
      const cut = front - (front - back) / 3;
      let sum = 0;
      let count = 0;
      for (let v = 2; v < p.length; v += 3) {
        if (p[v] < cut) continue;
        sum += p[v];
        count++;
      }
      expect(count).toBeGreaterThan(10);
      expect(aortaZ, name).toBeGreaterThan(sum / count);
      expect(aortaZ, name).toBeGreaterThan(gltfCentroid(name)[2]);
    }
  });

  it('maps back to the CT\'s LPS coordinates within one voxel through the recorded centre', () => {
    const centre = (glb.sceneExtras.holocase as { centerLpsMm: Vec3 }).centerLpsMm;
    const voxel = Math.max(...spacingOf(seg.affine));
    const inverse = invertAffine(seg.affine);
    const [nx, ny, nz] = seg.dims;
    const labelAt = (i: number, j: number, k: number) => (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz ? 0 : seg.data[i + nx * (j + ny * k)]);
    let compared = 0;
    for (const s of glb.structures) {
      const label = s.extras.label as number;
      const truth = voxelCentroid(seg, label);
      // Centroid of the solid, through the recorded offset, against the voxel centroid through the
      // affine (structures above 10 mL: smoothing rounds off the tips of small thin ones, like ribs).
      if (truth.voxels * (voxel ** 3 / 1000) > 10) {
        const lps = gltfToLps(volumeCentroid(s.mesh), centre);
        expect(distance(lps, truth.centroid), s.nodeName).toBeLessThan(voxel);
        compared++;
      }
      // Every vertex, of every structure, lands within one voxel of one of the structure's voxels.
      for (let v = 0; v < s.mesh.positions.length; v += 3) {
        const [i, j, k] = applyAffine(inverse, gltfToLps([s.mesh.positions[v], s.mesh.positions[v + 1], s.mesh.positions[v + 2]], centre)).map(Math.round);
        let near = false;
        for (let dk = -1; dk <= 1 && !near; dk++) {
          for (let dj = -1; dj <= 1 && !near; dj++) {
            for (let di = -1; di <= 1 && !near; di++) near = labelAt(i + di, j + dj, k + dk) === label;
          }
        }
        expect(near, `${s.nodeName} vertex ${v / 3}`).toBe(true);
      }
    }
    expect(compared).toBeGreaterThan(20);
  });

  it('keeps meshes closed and true to volume through quantisation and compression', () => {
    for (const s of glb.structures) {
      expect(checkEdges(s.mesh).watertight, s.nodeName).toBe(true);
      const reported = result.structures.find((r) => r.name === s.nodeName)!;
      expect(s.mesh.indices.length / 3).toBe(reported.triangles);
      if (reported.voxelVolumeMl > 10) {
        const ml = enclosedVolume(s.mesh) * 1e6; // m³ → mL
        expect(Math.abs(ml / reported.voxelVolumeMl - 1), s.nodeName).toBeLessThan(0.03);
      }
    }
  });

  it('writes a plain float32 GLB on request that validates with no errors or warnings', async () => {
    const plain = await meshLabelMap(seg, result.structures.map(({ label, name, displayName, group, color }) => ({ label, name, displayName, group, color })), {
      workers: 0,
      compress: false,
    });
    const report = await validateGlb(plain.glb);
    expect(report.issues.numErrors).toBe(0);
    expect(report.issues.numWarnings).toBe(0);
    const read = await readCaseGlb(plain.glb);
    expect(read.extensionsUsed).toEqual([]);
    expect(read.meshCount).toBe(glb.meshCount);
    expect(plain.glb.byteLength).toBeGreaterThan(result.glb.byteLength);
  });
});

describe('the catalogue is applied to the label table', () => {
  it('knows every structure of example_seg', () => {
    for (const s of glb.structures) expect(describeStructure(s.nodeName).known, s.nodeName).toBe(true);
  });
});
