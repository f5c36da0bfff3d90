/**
 * Pipeline benchmark: a CT file to a finished case folder (`runCase`: ingest → segment → mesh →
 * report), the time a surgeon waits between upload and hologram, minus the upload itself.
 *
 * Workloads: `example_ct.nii.gz` (122×101×112 at 3 mm), the `example_ct_dicom` series
 * (512×512×20 at 0.98×0.98×2 mm) and the built-in phantom at the demo's spacing, all with the built-in
 * `hu-anatomy` model (no network weights ship with the product). Median of RUNS runs after one warm-up.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCase, type CaseReport } from '../../server/pipeline/runCase.ts';
import { writeNifti } from '../../server/volume/nifti.ts';
import { makePhantom } from '../../server/volume/phantom.ts';
import { median } from './median.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/totalsegmentator');
const RUNS = 3;

async function timeCase(input: string, work: string): Promise<Record<string, unknown>> {
  let report: CaseReport | undefined;
  const runs: CaseReport['timings'][] = [];
  for (let run = 0; run <= RUNS; run++) {
    const out = path.join(work, `case-${run}`);
    report = await runCase(input, out, { modelId: 'hu-anatomy' });
    if (run > 0) runs.push(report.timings);
    await rm(out, { recursive: true, force: true });
  }
  const pick = (key: keyof CaseReport['timings']) => Math.round(median(runs.map((t) => t[key])));
  return {
    dims: report!.input.dims,
    spacingMm: report!.input.spacingMm,
    structures: report!.structures.length,
    triangles: report!.glb.triangles,
    glbBytes: report!.glb.bytes,
    medianMs: { ingest: pick('ingestMs'), segment: pick('segmentMs'), mesh: pick('meshMs'), total: pick('totalMs') },
  };
}

export async function bench(): Promise<Record<string, unknown>> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'holocase-bench-pipeline-'));
  try {
    const phantom = path.join(work, 'phantom.nii.gz');
    await writeNifti(makePhantom().ct, phantom, 'holocase CT phantom');
    return {
      availableParallelism: os.availableParallelism(),
      model: 'hu-anatomy',
      runs: RUNS,
      exampleCtNifti: await timeCase(path.join(FIXTURES, 'example_ct.nii.gz'), work),
      exampleCtDicom: await timeCase(path.join(FIXTURES, 'example_ct_dicom'), work),
      phantom: await timeCase(phantom, work),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
