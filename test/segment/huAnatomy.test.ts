/**
 * The built-in rules model on real CT (TotalSegmentator's fixtures, through the real CLI processes) and
 * on the phantom (exact ground truth, with and without contrast, in other orientations).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateLabelMaps, parseLabelTable, type EvaluationReport } from '../../server/segment/evaluate.ts';
import { loadModelBundle, segment } from '../../server/segment/segment.ts';
import { readNifti } from '../../server/volume/nifti.ts';
import { makePhantom } from '../../server/volume/phantom.ts';
import { reorient } from '../../server/volume/reorient.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = resolve(ROOT, '../shared/fixtures/totalsegmentator');
const CLI = join(ROOT, 'bin/holocase.mjs');

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'holocase-rules-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function holocase(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [CLI, ...args], { cwd: ROOT, maxBuffer: 32 * 1024 * 1024 });
}

const group = (report: EvaluationReport, name: string) => report.groups.find((g) => g.group === name)!;

describe('hu-anatomy on real CT, through the CLI', () => {
  it('example_ct_sm (no contrast): no vessels, bone group Dice ≥ 0.86 against TotalSegmentator, lungs split left/right', async () => {
    const out = join(work, 'sm.nii.gz');
    const segmented = await holocase('segment', join(FIXTURES, 'example_ct_sm.nii.gz'), '--model', 'hu-anatomy', '-o', out, '--json');
    const summary = JSON.parse(segmented.stdout);
    expect(summary.provider).toBe('rules');
    expect(summary.structures.map((s: { name: string }) => s.name)).toEqual(['skin', 'bone', 'lung_left', 'lung_right']);
    expect(JSON.parse(await readFile(join(work, 'sm.json'), 'utf8'))).toMatchObject({ 1: 'skin', 2: 'bone' });
    expect(segmented.stderr).toMatch(/execution provider: rules/);
    const evaluated = await holocase('evaluate', out, join(FIXTURES, 'example_seg.nii.gz'), '--pred-model', 'hu-anatomy', '--ref-labels', join(FIXTURES, 'classes_total_v2.json'), '--json');
    const report: EvaluationReport = JSON.parse(evaluated.stdout);
    const bone = group(report, 'bone');
    expect(bone.dice).toBeGreaterThanOrEqual(0.86);
    expect(bone.refStructures).toContain('vertebrae_L1');
    expect(bone.hd95Mm).toBeLessThan(10);
    for (const side of ['lung_left', 'lung_right']) {
      const lung = report.structures.find((s) => s.name === side)!;
      expect(lung.match).toBe('parts');
      expect(lung.dice).toBeGreaterThan(0.9);
    }
    // The text report prints the same figures.
    const text = await holocase('evaluate', out, join(FIXTURES, 'example_seg.nii.gz'), '--ref-labels', join(FIXTURES, 'classes_total_v2.json'));
    expect(text.stdout).toMatch(new RegExp(`^bone\\s+${bone.dice.toFixed(3)}`, 'm'));
  });

  it('example_ct: reported as not contrast-enhanced, and no vessels are segmented', async () => {
    const out = join(work, 'full.nii.gz');
    const { stdout } = await holocase('segment', join(FIXTURES, 'example_ct.nii.gz'), '-o', out, '--json');
    const summary = JSON.parse(stdout);
    expect(summary.notes.join('\n')).toMatch(/not contrast-enhanced/);
    expect(summary.structures.map((s: { name: string }) => s.name)).not.toContain('vessels_contrast');
    const labels = await readNifti(out);
    expect(labels.dims).toEqual([122, 101, 112]);
    expect(Array.from(new Set(labels.data))).not.toContain(7);
  });

  it('the real DICOM series (contrast recorded): read through ingest, vessels found, bone on its grid', async () => {
    const out = join(work, 'dicom.nii.gz');
    const { stdout } = await holocase('segment', join(FIXTURES, 'example_ct_dicom'), '-o', out, '--json');
    const summary = JSON.parse(stdout);
    expect(summary.input.format).toBe('dicom');
    expect(summary.notes.join('\n')).toMatch(/^contrast-enhanced/m);
    const evaluated = await holocase('evaluate', out, join(FIXTURES, 'example_seg_dicom.nii.gz'), '--ref-labels', join(FIXTURES, 'classes_total_v2.json'), '--json');
    const report: EvaluationReport = JSON.parse(evaluated.stdout);
    expect(group(report, 'bone').dice).toBeGreaterThan(0.7);
    expect(group(report, 'vessel').dice).toBeGreaterThan(0.5);
    expect(group(report, 'vessel').predStructures).toEqual(['vessels_contrast']);
  });

  it('bad arguments and bad input give clear errors', async () => {
    const noModel = await holocase('segment', join(FIXTURES, 'example_ct_sm.nii.gz'), '--model', 'nope', '-o', join(work, 'x.nii.gz')).catch((e) => e);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/MODEL_NOT_FOUND.*no model "nope"; available: .*hu-anatomy/);
    const noOut = await holocase('segment', join(FIXTURES, 'example_ct_sm.nii.gz')).catch((e) => e);
    expect(noOut.code).toBe(1);
    expect(noOut.stderr).toMatch(/-o\/--out is required/);
    const cuda = await holocase('segment', join(FIXTURES, 'example_ct_sm.nii.gz'), '--provider', 'gpu', '-o', join(work, 'y.nii.gz')).catch((e) => e);
    expect(cuda.stderr).toMatch(/unknown execution provider "gpu"/);
    const grid = await holocase('evaluate', join(work, 'sm.nii.gz'), join(FIXTURES, 'example_seg_dicom.nii.gz'), '--ref-labels', join(FIXTURES, 'classes_total_v2.json')).catch((e) => e);
    expect(grid.stderr).toMatch(/LABELS_INVALID.*not on the same grid/);
  });
});

describe('hu-anatomy on the phantom (exact ground truth)', () => {
  it('with contrast: vessels found along the aorta and vena cava; bone, lungs, airway and skin right', async () => {
    const phantom = makePhantom({ contrast: true, spacingMm: [3, 3, 3] });
    const model = await loadModelBundle('hu-anatomy');
    const result = await segment(phantom.ct, model);
    expect(result.notes.join('\n')).toMatch(/^contrast-enhanced: a homogeneous blood pool/m);
    const report = evaluateLabelMaps(result.labels, parseLabelTable(model.manifest.output.labels), phantom.labels, new Map(Object.entries(phantom.table).map(([k, v]) => [Number(k), v])));
    const vessels = report.structures.find((s) => s.name === 'vessels_contrast')!;
    expect(vessels.parts).toEqual(expect.arrayContaining(['aorta', 'inferior_vena_cava']));
    // The aorta itself is almost entirely found.
    let aorta = 0;
    let found = 0;
    for (let p = 0; p < phantom.labels.data.length; p++) {
      if (phantom.table[phantom.labels.data[p]] !== 'aorta') continue;
      aorta++;
      if (result.labels.data[p] === 7) found++;
    }
    expect(found / aorta).toBeGreaterThan(0.9);
    expect(group(report, 'bone').dice).toBeGreaterThan(0.85);
    expect(report.structures.find((s) => s.name === 'airway')!.dice).toBeGreaterThan(0.9);
    expect(report.structures.find((s) => s.name === 'lung_left')!.dice).toBeGreaterThan(0.95);
    expect(report.structures.find((s) => s.name === 'lung_right')!.dice).toBeGreaterThan(0.95);
    expect(report.structures.find((s) => s.name === 'skin')!.dice).toBeGreaterThan(0.8);
  });

  it('without contrast: no vessels, and the same answer whatever the storage orientation', async () => {
    const phantom = makePhantom({ contrast: false, spacingMm: [3, 3, 3] });
    const model = await loadModelBundle('hu-anatomy');
    const lps = await segment(phantom.ct, model);
    expect(lps.notes.join('\n')).toMatch(/not contrast-enhanced/);
    expect(lps.structures.map((s) => s.name)).not.toContain('vessels_contrast');
    const stored = reorient(phantom.ct, 'PIR');
    const pir = await segment(stored, model);
    expect(pir.labels.affine).toEqual(stored.affine);
    expect(Array.from(reorient(pir.labels, 'LPS').data)).toEqual(Array.from(lps.labels.data));
  });

  it('reports progress in the segment stage', async () => {
    const phantom = makePhantom({ contrast: false, spacingMm: [4, 4, 4] });
    const stages: string[] = [];
    await segment(phantom.ct, await loadModelBundle('hu-anatomy'), { onProgress: (p) => stages.push(`${p.stage} ${p.message}`) });
    expect(stages).toEqual(expect.arrayContaining(['segment bone', 'segment lungs and airway', 'segment segmentation done']));
  });
});
