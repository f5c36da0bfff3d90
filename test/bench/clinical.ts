/**
 * Clinical size, end to end (budgets in the design guide): the built-in phantom at 0.8 × 0.8 × 1 mm
 * (475×350×520, what hospitals send) and at 0.6 mm (633×467×700: ~700 slices of a 512²-class matrix, the
 * phantom's whole 380 × 280 mm body in view), each through `holocase run --model hu-anatomy` in a fresh
 * process, in the environment of a server job (`jobEnvironment`), from three inputs written at bench time:
 * the NIfTI, a DICOM series (uncompressed) and the same series as lossless JPEG 2000.
 *
 * Per input: seconds, CPU seconds (all threads) and peak memory of each stage and of the whole run (from
 * the case's `report.json`), per-structure triangles and mesh volume against the segmented voxel volume,
 * total triangles, the size of every file in the case folder; medians of `runs` runs. The phantom's exact
 * label map is meshed too (`holocase mesh`): per structure its triangles and mesh volume against the exact
 * voxel volume — the hologram's fidelity apart from segmentation. Peer in the same run: Debian's dcm2niix
 * converting the same series (skipped, with a note, where it is not installed).
 *
 * The machine's load average is printed before and after: other work on the machine stretches wall
 * seconds, much less CPU seconds. Budget checks are reported as data; nothing here fails.
 *
 * About 15 minutes on 2 idle cores (writing the JPEG 2000 series alone takes 1–3 minutes per size).
 * `HOLOCASE_BENCH_CLINICAL=0.8` runs only the workloads whose name starts with the given text.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Vec3 } from '../../mesh/grid.ts';
import { jobEnvironment } from '../../server/jobs/runJobInChild.ts';
import type { CaseReport, StageTiming } from '../../server/pipeline/runCase.ts';
import { writeDicomSeries } from '../../server/volume/dicomWriter.ts';
import { writeNifti } from '../../server/volume/nifti.ts';
import { makePhantom } from '../../server/volume/phantom.ts';
import { writeFileAtomically } from '../../server/writeFileAtomically.ts';
import { median } from './median.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One phantom size. */
export interface ClinicalWorkload {
  name: string;
  spacingMm: Vec3;
  fieldOfViewMm: Vec3;
  /** `holocase run` repetitions per input (medians reported). */
  runs: number;
}

export interface ClinicalBenchOptions {
  workloads?: ClinicalWorkload[];
  /** Inputs to run: `nifti`, `dicom` (uncompressed), `jpeg2000`. */
  inputs?: InputKind[];
  /** Run the dcm2niix peer where it is installed. */
  peers?: boolean;
}

type InputKind = 'nifti' | 'dicom' | 'jpeg2000';

export const CLINICAL_BENCH_DEFAULTS = {
  workloads: [
    { name: '0.8 mm', spacingMm: [0.8, 0.8, 1.0], fieldOfViewMm: [380, 280, 520], runs: 2 },
    { name: '0.6 mm', spacingMm: [0.6, 0.6, 0.6], fieldOfViewMm: [380, 280, 420], runs: 1 },
  ] as ClinicalWorkload[],
  inputs: ['nifti', 'dicom', 'jpeg2000'] as InputKind[],
  peers: true,
} satisfies Required<ClinicalBenchOptions>;

/** The design guide's budgets for a clinical case on this 2-core machine. */
const BUDGETS = { ingestSeconds: 10, segmentSeconds: 30, meshSeconds: 30, runSeconds: 75, peakRssMb: 3000, triangles: 500_000, glbBytes: 15e6, minTriangles: 200, volumeErrorPct: 3, structureMinMl: 1 };

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** Peak resident memory read from /proc while it ran (every 50 ms), MB. */
  sampledPeakRssMb: number;
}

/**
 * Runs a command to its end, timing it and sampling its peak memory (the kernel's high-water mark), in
 * the environment a server job gets (`jobEnvironment`: transparent huge pages for large arrays).
 */
function runMeasured(command: string, args: string[]): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: ROOT, env: jobEnvironment(process.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    const sample = setInterval(() => {
      try {
        const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (hwm) peak = Math.max(peak, Number(hwm[1]) * 1024);
      } catch {
        // not on Linux, or already gone
      }
    }, 50);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', (error) => {
      clearInterval(sample);
      reject(error);
    });
    child.on('close', (code) => {
      clearInterval(sample);
      resolve({ code, stdout, stderr, seconds: round((performance.now() - started) / 1000), sampledPeakRssMb: Math.round(peak / 1e6) });
    });
  });
}

/** The inputs of one workload, written into `dir`. */
interface WorkloadFiles {
  dims: Vec3;
  nifti: string;
  labels: string;
  table: string;
  dicom: string;
  jpeg2000: string;
  sizesMb: Record<string, number>;
  writeSeconds: Record<string, number>;
}

async function folderBytes(dir: string): Promise<number> {
  const files = await readdir(dir);
  const sizes = await Promise.all(files.map((f) => stat(path.join(dir, f)).then((s) => s.size)));
  return sizes.reduce((a, b) => a + b, 0);
}

/** 1. The phantom, its exact labels and table, the NIfTI and both DICOM series (the phantom is let go after). */
async function writeWorkload(workload: ClinicalWorkload, dir: string, inputs: InputKind[]): Promise<WorkloadFiles> {
  const files = {
    nifti: path.join(dir, 'ct.nii.gz'),
    labels: path.join(dir, 'ct_labels.nii.gz'),
    table: path.join(dir, 'ct_labels.json'),
    dicom: path.join(dir, 'dicom'),
    jpeg2000: path.join(dir, 'jpeg2000'),
  };
  const writeSeconds: Record<string, number> = {};
  const timed = async (name: string, work: () => Promise<unknown>) => {
    const t = performance.now();
    await work();
    writeSeconds[name] = round((performance.now() - t) / 1000, 1);
  };
  const phantom = makePhantom({ spacingMm: workload.spacingMm, fieldOfViewMm: workload.fieldOfViewMm });
  await timed('nifti', () => writeNifti(phantom.ct, files.nifti, 'holocase CT phantom'));
  await writeNifti(phantom.labels, files.labels, 'holocase CT phantom labels');
  await writeFileAtomically(files.table, JSON.stringify(Object.fromEntries(Object.entries(phantom.table).map(([id, name]) => [String(id), name]))));
  if (inputs.includes('dicom')) await timed('dicom', () => writeDicomSeries(phantom.ct, files.dicom));
  if (inputs.includes('jpeg2000')) await timed('jpeg2000', () => writeDicomSeries(phantom.ct, files.jpeg2000, { transferSyntax: 'jpeg2000-lossless' }));
  const sizesMb: Record<string, number> = { nifti: round((await stat(files.nifti)).size / 1e6, 1) };
  if (inputs.includes('dicom')) sizesMb.dicom = round((await folderBytes(files.dicom)) / 1e6, 1);
  if (inputs.includes('jpeg2000')) sizesMb.jpeg2000 = round((await folderBytes(files.jpeg2000)) / 1e6, 1);
  return { dims: phantom.ct.dims, ...files, sizesMb, writeSeconds };
}

interface StructureFigures {
  name: string;
  triangles: number;
  voxelMl: number;
  meshMl: number;
  /** (mesh − voxels) / voxels, in percent. */
  volumeErrorPct: number;
}

function structureFigures(structures: { name: string; triangles: number; voxelVolumeMl: number; meshVolumeMl: number }[]): StructureFigures[] {
  return structures.map((s) => ({
    name: s.name,
    triangles: s.triangles,
    voxelMl: round(s.voxelVolumeMl, 1),
    meshMl: round(s.meshVolumeMl, 1),
    volumeErrorPct: s.voxelVolumeMl > 0 ? round((100 * (s.meshVolumeMl - s.voxelVolumeMl)) / s.voxelVolumeMl, 2) : 0,
  }));
}

/** Structures of at least 1 mL that miss the triangle floor or the volume tolerance. */
function meshFailures(structures: StructureFigures[]): string[] {
  return structures
    .filter((s) => s.voxelMl >= BUDGETS.structureMinMl && (s.triangles < BUDGETS.minTriangles || Math.abs(s.volumeErrorPct) > BUDGETS.volumeErrorPct))
    .map((s) => `${s.name}: ${s.triangles} triangles, ${s.volumeErrorPct} %`);
}

const check = (value: number, budget: number) => ({ value, budget, ok: value <= budget });

/** 2. `holocase run` on one input, `runs` times in fresh processes: medians per stage, the last run's structures. */
async function runCases(input: string, runs: number, work: string): Promise<Record<string, unknown>> {
  const reports: CaseReport[] = [];
  const sampled: number[] = [];
  let files: Record<string, number> = {};
  for (let r = 0; r < runs; r++) {
    const out = path.join(work, `case-${r}`);
    const run = await runMeasured(process.execPath, ['bin/holocase.mjs', 'run', input, '--model', 'hu-anatomy', '-o', out, '--json']);
    if (run.code !== 0) throw new Error(`holocase run ${input} failed (${run.code}): ${run.stderr.slice(-2000)}`);
    reports.push(JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as CaseReport);
    sampled.push(run.sampledPeakRssMb);
    files = Object.fromEntries(await Promise.all((await readdir(out)).map(async (f) => [f, (await stat(path.join(out, f))).size] as const)));
    await rm(out, { recursive: true, force: true });
  }
  const stageNames = reports[0]!.stages.map((s) => s.stage);
  const pick = (stage: string, key: keyof Omit<StageTiming, 'stage'>) => round(median(reports.map((r) => r.stages.find((s) => s.stage === stage)![key])), key === 'peakRssMb' ? 0 : 2);
  const stages = Object.fromEntries(stageNames.map((stage) => [stage, { seconds: pick(stage, 'seconds'), cpuSeconds: pick(stage, 'cpuSeconds'), peakRssMb: pick(stage, 'peakRssMb') }]));
  const last = reports.at(-1)!;
  const structures = structureFigures(last.structures);
  const totalSeconds = round(median(reports.map((r) => r.timings.totalMs / 1000)));
  const peakRssMb = median(reports.map((r) => r.peakRssMb));
  return {
    runs,
    totalSeconds,
    totalRunsSeconds: reports.map((r) => round(r.timings.totalMs / 1000)),
    cpuSeconds: round(median(reports.map((r) => r.stages.reduce((sum, s) => sum + s.cpuSeconds, 0)))),
    peakRssMb,
    sampledPeakRssMb: median(sampled),
    stages,
    triangles: last.glb.triangles,
    glbBytes: last.glb.bytes,
    files,
    structures,
    checks: {
      ingestSeconds: check(stages.ingest!.seconds, BUDGETS.ingestSeconds),
      segmentSeconds: check(stages.segment!.seconds, BUDGETS.segmentSeconds),
      meshSeconds: check(stages.mesh!.seconds, BUDGETS.meshSeconds),
      runSeconds: check(totalSeconds, BUDGETS.runSeconds),
      peakRssMb: check(peakRssMb, BUDGETS.peakRssMb),
      triangles: check(last.glb.triangles, BUDGETS.triangles),
      glbBytes: check(last.glb.bytes, BUDGETS.glbBytes),
      structuresOutOfTolerance: meshFailures(structures),
    },
  };
}

/** 3. The exact label map meshed (`holocase mesh`): the hologram's fidelity to the true anatomy's voxels. */
async function meshExactMap(files: WorkloadFiles, work: string): Promise<Record<string, unknown>> {
  const glb = path.join(work, 'exact.glb');
  const run = await runMeasured(process.execPath, ['bin/holocase.mjs', 'mesh', files.labels, '--labels', files.table, '-o', glb, '--json']);
  if (run.code !== 0) throw new Error(`holocase mesh failed (${run.code}): ${run.stderr.slice(-2000)}`);
  const result = JSON.parse(run.stdout) as { bytes: number; triangles: number; structures: Parameters<typeof structureFigures>[0]; timings: { totalMs: number } };
  await rm(glb, { force: true });
  const structures = structureFigures(result.structures);
  return {
    structures: structures.length,
    seconds: run.seconds,
    meshSeconds: round(result.timings.totalMs / 1000),
    sampledPeakRssMb: run.sampledPeakRssMb,
    triangles: result.triangles,
    glbBytes: result.bytes,
    perStructure: structures,
    checks: {
      triangles: check(result.triangles, BUDGETS.triangles),
      glbBytes: check(result.bytes, BUDGETS.glbBytes),
      structuresOutOfTolerance: meshFailures(structures),
    },
  };
}

/** 4. The peer: dcm2niix converting the same series to an uncompressed NIfTI. */
async function dcm2niix(series: string, runs: number, work: string): Promise<Record<string, unknown>> {
  const times: number[] = [];
  const peaks: number[] = [];
  for (let r = 0; r < runs; r++) {
    const out = path.join(work, `dcm2niix-${r}`);
    await rm(out, { recursive: true, force: true });
    await mkdir(out);
    const run = await runMeasured('dcm2niix', ['-z', 'n', '-b', 'n', '-o', out, '-f', 'ct', series]);
    if (run.code !== 0) throw new Error(`dcm2niix failed (${run.code}): ${run.stdout.slice(-1000)}`);
    times.push(run.seconds);
    peaks.push(run.sampledPeakRssMb);
    await rm(out, { recursive: true, force: true });
  }
  return { seconds: round(median(times)), runsSeconds: times, sampledPeakRssMb: median(peaks), note: 'DICOM series → uncompressed .nii (includes writing it), one thread' };
}

function dcm2niixVersion(): string | undefined {
  const probe = spawnSync('dcm2niix', ['-v'], { encoding: 'utf8' });
  if (probe.error) return undefined;
  return /v\d[\w.]*/.exec(`${probe.stdout}${probe.stderr}`)?.[0] ?? 'unknown version';
}

const load = () => loadavg().map((v) => round(v, 1));

export async function bench(options: ClinicalBenchOptions = {}): Promise<Record<string, unknown>> {
  const only = process.env.HOLOCASE_BENCH_CLINICAL;
  const defaults = { ...CLINICAL_BENCH_DEFAULTS, workloads: CLINICAL_BENCH_DEFAULTS.workloads.filter((w) => !only || w.name.startsWith(only)) as ClinicalWorkload[] };
  const { workloads, inputs, peers } = { ...defaults, ...options };
  const peerVersion = peers ? dcm2niixVersion() : undefined;
  const result: Record<string, unknown> = {
    machine: { availableParallelism: availableParallelism(), cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 1024 ** 3), loadAverageAtStart: load() },
    model: 'hu-anatomy',
    budgets: BUDGETS,
    peer: peerVersion ? `dcm2niix ${peerVersion}` : 'dcm2niix is not installed (apt-get install dcm2niix): peer skipped',
  };
  for (const workload of workloads) {
    const work = await mkdtemp(path.join(tmpdir(), 'holocase-bench-clinical-'));
    try {
      process.stderr.write(`bench clinical ${workload.name}: writing the phantom and its series…\n`);
      const files = await writeWorkload(workload, work, inputs);
      const entry: Record<string, unknown> = {
        workload: `phantom ${files.dims.join('×')} at ${workload.spacingMm.join('×')} mm (${round((files.dims[0] * files.dims[1] * files.dims[2]) / 1e6, 1)} M voxels)`,
        inputMb: files.sizesMb,
        inputWriteSeconds: files.writeSeconds,
      };
      const runs: Record<string, unknown> = {};
      for (const kind of inputs) {
        process.stderr.write(`bench clinical ${workload.name}: holocase run from ${kind}…\n`);
        runs[kind] = await runCases(files[kind], workload.runs, work);
      }
      entry.run = runs;
      process.stderr.write(`bench clinical ${workload.name}: meshing the exact label map…\n`);
      entry.exactLabelMap = await meshExactMap(files, work);
      if (peerVersion) {
        const peer: Record<string, unknown> = {};
        for (const kind of inputs.filter((k) => k !== 'nifti')) peer[kind] = await dcm2niix(files[kind], workload.runs, work);
        entry.dcm2niix = peer;
      }
      result[workload.name] = entry;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  result.loadAverageAtEnd = load();
  return result;
}
