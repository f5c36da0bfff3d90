/**
 * The rules model on contrast-enhanced CT: the aorta is a vessel, not bone fused to the spine, and the
 * bones stay as they were. The real DICOM series through ingest (a calcified aorta beside the vertebrae), compared
 * with TotalSegmentator's reference in patient space; and a phantom whose arterial-phase aorta is denser
 * than the enhanced-bone seed level, with calcified plaque, against its exact labels.
 */
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labelMapFromVolume } from '../../server/mesh/labelMapFromVolume.ts';
import { evaluateLabelMaps, parseLabelTable, readLabelTable, referenceComposition } from '../../server/segment/evaluate.ts';
import { loadModelBundle, segment } from '../../server/segment/segment.ts';
import { ingest } from '../../server/volume/ingest.ts';
import { readNifti } from '../../server/volume/nifti.ts';
import { calcifiedAortaPhantom } from './huAnatomyPhantoms.ts';

const FIXTURES = resolve(import.meta.dirname, '../../../shared/fixtures/totalsegmentator');

describe('hu-anatomy on contrast CT: the aorta is vessel, not bone', () => {
  it('example_ct_dicom (calcified aorta against the spine): ≥ 90 % of the reference aorta is vessel, ≤ 2 % bone, bone Dice not lower', { timeout: 300_000 }, async () => {
    const { volume } = await ingest(join(FIXTURES, 'example_ct_dicom'));
    const model = await loadModelBundle('hu-anatomy');
    const pred = (await segment(volume, model)).labels;
    const predTable = parseLabelTable(model.manifest.output.labels);
    const refTable = await readLabelTable(join(FIXTURES, 'classes_total_v2.json'));
    const ref = labelMapFromVolume(await readNifti(join(FIXTURES, 'example_seg_dicom.nii.gz')), 'reference');
    // The prediction is on the series' LPS grid, the reference on the same grid stored LAS: compared in patient space.
    const aorta = referenceComposition(pred, predTable, ref, refTable, 'aorta');
    expect(aorta.vessels_contrast).toBeGreaterThanOrEqual(0.9);
    expect(aorta.bone ?? 0).toBeLessThanOrEqual(0.02);
    const report = evaluateLabelMaps(pred, predTable, ref, refTable);
    // 0.7455 before plaque was told from bone: the vertebrae beside the aorta are not given up.
    expect(report.groups.find((g) => g.group === 'bone')!.dice).toBeGreaterThanOrEqual(0.7455);
    expect(report.groups.find((g) => g.group === 'vessel')!.dice).toBeGreaterThan(0.6);
  });

  it('phantom with an arterial-phase aorta (400 HU) and calcified plaque: aorta ≥ 90 % vessel, ≤ 2 % bone; bones intact', { timeout: 300_000 }, async () => {
    const phantom = calcifiedAortaPhantom([3, 3, 3]);
    const model = await loadModelBundle('hu-anatomy');
    const result = await segment(phantom.ct, model);
    expect(result.notes.join('\n')).toMatch(/^contrast-enhanced/m);
    const predTable = parseLabelTable(model.manifest.output.labels);
    const truthTable = new Map(Object.entries(phantom.table).map(([k, v]) => [Number(k), v]));
    const aorta = referenceComposition(result.labels, predTable, phantom.labels, truthTable, 'aorta');
    expect(aorta.vessels_contrast).toBeGreaterThanOrEqual(0.9);
    expect(aorta.bone ?? 0).toBeLessThanOrEqual(0.02);
    const report = evaluateLabelMaps(result.labels, predTable, phantom.labels, truthTable);
    expect(report.groups.find((g) => g.group === 'bone')!.dice).toBeGreaterThan(0.88);
    for (const vertebra of ['vertebrae_T12', 'vertebrae_L1', 'vertebrae_L2']) {
      expect(referenceComposition(result.labels, predTable, phantom.labels, truthTable, vertebra).bone).toBeGreaterThan(0.85);
    }
  });
});
