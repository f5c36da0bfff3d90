/**
 * `runCase`, the whole pipeline on the real 3 mm example CT with the built-in rules model: the case
 * folder's files, and how long each stage took and how much memory it needed — in the report, through
 * `onStage` and in the progress messages. Figures are checked for being there and adding up, never for
 * their values (the machine's load decides those).
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Progress } from '../../server/pipeline/context.ts';
import { runCase, type CaseReport, type StageTiming } from '../../server/pipeline/runCase.ts';
import { ingest } from '../../server/volume/ingest.ts';
import { readNifti, writeNifti } from '../../server/volume/nifti.ts';

const CT = path.resolve('../shared/fixtures/totalsegmentator/example_ct.nii.gz');
const STAGES = ['ingest', 'segment', 'mesh', 'store'];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'holocase-runcase-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The stage figures are all there, in order, plausible, and add up to the total. */
function expectPlausibleStages(report: CaseReport, seen: StageTiming[]): void {
  expect(report.stages.map((s) => s.stage)).toEqual(STAGES);
  expect(seen).toEqual(report.stages);
  for (const s of report.stages) {
    expect(s.seconds, s.stage).toBeGreaterThan(0);
    expect(s.cpuSeconds, s.stage).toBeGreaterThanOrEqual(0);
    // A Node process holding a 122×101×112 CT: tens of MB at least, far below the machine's memory.
    expect(s.peakRssMb, s.stage).toBeGreaterThan(30);
    expect(s.peakRssMb, s.stage).toBeLessThan(os.totalmem() / 1e6);
  }
  const sum = report.stages.reduce((total, s) => total + s.seconds, 0);
  const total = report.timings.totalMs / 1000;
  expect(sum).toBeLessThanOrEqual(total + 0.01);
  expect(sum).toBeGreaterThan(total * 0.9 - 0.05); // only model loading and the report itself lie outside
  expect(report.peakRssMb).toBe(Math.max(...report.stages.map((s) => s.peakRssMb)));
  expect(report.timings.segmentMs).toBe(Math.round(report.stages[1]!.seconds * 1000));
}

describe('runCase', () => {
  it('writes the case folder and reports each stage: seconds, CPU seconds, peak memory, in the report, onStage and progress', async () => {
    const out = path.join(dir, 'from-file');
    const seen: StageTiming[] = [];
    const progress: Progress[] = [];
    const report = await runCase(CT, out, { modelId: 'hu-anatomy', onStage: (t) => seen.push(t), onProgress: (p) => progress.push(p) });
    expectPlausibleStages(report, seen);
    // Each stage's end is a progress message a person reads on the case page.
    for (const s of report.stages) {
      expect(progress.some((p) => p.stage === s.stage && p.fraction === 1 && p.message === `done in ${s.seconds.toFixed(1)} s`), s.stage).toBe(true);
    }
    // report.json on disk is the report returned.
    expect(JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8'))).toEqual(report);
    // The CT and labels written in the background are complete and exact.
    const { volume } = await ingest(CT);
    const ct = await readNifti(path.join(out, 'ct.nii.gz'));
    expect(ct.dims).toEqual(volume.dims);
    expect(ct.data).toEqual(volume.data);
    const labels = await readNifti(path.join(out, 'labels.nii.gz'));
    expect(labels.dims).toEqual(volume.dims);
    const present = new Set(labels.data);
    expect(report.structures.every((s) => present.has(s.label))).toBe(true);
  });

  it('takes a CT its caller read, with that reading as the ingest stage, and links the stored CT instead of writing it again', async () => {
    const out = path.join(dir, 'from-memory');
    const stored = path.join(dir, 'stored-ct.nii.gz');
    const read = await ingest(CT);
    await writeNifti(read.volume, stored, 'holocase CT (de-identified)');
    const timing: StageTiming = { stage: 'ingest', seconds: 1.5, cpuSeconds: 1.2, peakRssMb: 120 };
    const given = { volume: read.volume, report: read.report, timing };
    const seen: StageTiming[] = [];
    const report = await runCase(given, out, { modelId: 'hu-anatomy', storedCt: stored, onStage: (t) => seen.push(t) });
    expectPlausibleStages(report, seen);
    expect(report.stages[0]).toEqual(timing);
    expect(report.timings.totalMs).toBeGreaterThanOrEqual(1500);
    // The volume was handed over (nothing in the caller's object keeps it), and the CT file is the stored one.
    expect(given.volume).toBeUndefined();
    await expect(runCase(given, path.join(dir, 'again'), { modelId: 'hu-anatomy' })).rejects.toThrow(/without its volume/);
    const [a, b] = await Promise.all([stat(stored), stat(path.join(out, 'ct.nii.gz'))]);
    expect(b.size).toBe(a.size);
    expect(await readFile(path.join(out, 'ct.nii.gz'))).toEqual(await readFile(stored));
  });
});
