/**
 * The whole pipeline for one case: a CT in, a case folder out (`ct.nii.gz`, `labels.nii.gz`,
 * `case.glb` and the headset's lighter `case-xr.glb`, `report.json`). Called by `holocase run`, by the job handler and by the demo.
 * Every file is written atomically; a failure leaves only complete files behind.
 *
 * Each stage (ingest, segment, mesh, store) is measured — wall and CPU seconds, peak memory — into the
 * report, `onStage` and a progress message ("done in 3.2 s"). The NIfTI files are compressed on the thread pool while
 * the next stage runs, and the CT's voxels are let go as soon as segmentation is done.
 */
import { copyFile, link, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { orientationCodes, spacingOf, type Vec3 } from '../../mesh/grid.ts';
import { HolocaseError } from '../errors.ts';
import { meshLabelMap, sharedLabels, type MeshLabelMapOptions } from '../mesh/meshLabelMap.ts';
import { structureSpecs } from '../mesh/structureSpecs.ts';
import { loadModelBundle } from '../segment/bundle.ts';
import { segment } from '../segment/segment.ts';
import type { ProviderRequest } from '../segment/providers.ts';
import { ingest, type IngestOptions, type IngestReport } from '../volume/ingest.ts';
import { writeNifti } from '../volume/nifti.ts';
import type { VolumeLimits } from '../volume/volumeLimits.ts';
import type { Volume } from '../volume/volume.ts';
import { writeCtChunks } from '../store/ctChunkStore.ts';
import { writeFileAtomically } from '../writeFileAtomically.ts';
import { CASE_FILES, GLB_FILES, MESH_CACHE_FILES } from './caseFiles.ts';
import { writeMeshCache } from '../edit/meshCache.ts';
import { caseAdmission, type CaseAdmissionOptions } from './caseAdmission.ts';
import type { StageContext } from './context.ts';
import { startStage, type StageMeter, type StageTiming } from './stageMeter.ts';

export type { StageTiming } from './stageMeter.ts';

/** A CT its caller has already read and de-identified (a job reads the upload before the pipeline runs). */
export interface ReadCt {
  /**
   * The CT. `runCase` takes it out of this object (the property is cleared), so that nothing keeps
   * its voxels once segmentation is done.
   */
  volume?: Volume;
  report: IngestReport;
  /** How reading it went, when the caller measured it: reported as the ingest stage. */
  timing?: StageTiming;
}

export interface RunCaseOptions extends StageContext, Omit<CaseAdmissionOptions, keyof StageContext> {
  /** Model bundle id in `models/` (e.g. `hu-anatomy`). */
  modelId: string;
  /** The uploader's label for the case; stored in the report, never derived from DICOM. */
  label?: string;
  /** Models folder; defaults to the project's `models/` or `HOLOCASE_MODELS`. */
  modelsDir?: string;
  /** ONNX Runtime execution provider; defaults to configuration (`auto`). */
  provider?: ProviderRequest;
  /** Mesh options: error budget in mm, global triangle budget, compression. */
  mesh?: Omit<MeshLabelMapOptions, keyof StageContext>;
  /** Size limits for the CT (default `VOLUME_LIMITS`). */
  limits?: VolumeLimits;
  /**
   * A de-identified NIfTI that holocase itself wrote of this very CT (a job's stored CT): linked (or
   * copied) into the case folder as `ct.nii.gz` instead of being compressed again.
   */
  storedCt?: string;
  /** Called as each stage ends, with its figures (the job log records them). */
  onStage?: (timing: StageTiming) => void;
}

export interface StructureReport {
  label: number;
  name: string;
  displayName: string;
  group: string;
  color: string;
  voxelVolumeMl: number;
  meshVolumeMl: number;
  surfaceCm2: number;
  triangles: number;
}

export interface CaseReport {
  version: 1;
  label?: string;
  model: { id: string; name: string; version: string };
  input: {
    format: 'dicom' | 'nifti';
    dims: Vec3;
    spacingMm: Vec3;
    orientation: string;
    modality?: string;
    series?: unknown;
  };
  segmentation: { provider: string; notes: string[] };
  structures: StructureReport[];
  /** The desktop level of detail (`case.glb`), and the headset's (`case-xr.glb`). */
  glb: { bytes: number; triangles: number; drawCalls: number; centerLpsMm: Vec3; xr: { bytes: number; triangles: number; drawCalls: number } };
  timings: { ingestMs: number; segmentMs: number; meshMs: number; storeMs: number; totalMs: number };
  /** Each stage in order, with wall and CPU seconds and peak memory; their seconds add up to the total. */
  stages: StageTiming[];
  /** Peak resident memory of the process over the whole run, in MB (the largest stage peak). */
  peakRssMb: number;
  warnings: string[];
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/**
 * 1. Load the model bundle first, so an unknown model fails before any work.
 * 2. Ingest the CT (DICOM folder/zip/files or NIfTI) into a de-identified LPS volume, unless the caller
 *    did; its size, planned memory and modality are checked from its headers before a voxel is read.
 *    Start writing `ct.nii.gz` (or linking the stored one) and its chunks for the slice views.
 * 3. Segment it with the bundle; let the CT go; start writing `labels.nii.gz`.
 * 4. Mesh every structure present.
 * 5. Store: write both levels of detail (`case.glb`, `case-xr.glb`) and their surfaces (for corrections), wait for the NIfTI files, then write `report.json` last: its presence
 *    means the folder is complete.
 */
export async function runCase(input: string | string[] | ReadCt, outDir: string, options: RunCaseOptions): Promise<CaseReport> {
  const started = performance.now();
  const context: StageContext = { onProgress: options.onProgress, log: options.log, signal: options.signal };
  const throwIfAborted = () => {
    if (options.signal?.aborted) throw new HolocaseError('CONFLICT', 'processing was cancelled');
  };
  const stages: StageTiming[] = [];
  const record = (timing: StageTiming) => {
    stages.push(timing);
    options.onStage?.(timing);
    context.onProgress?.({ stage: timing.stage, fraction: 1, message: `done in ${timing.seconds.toFixed(1)} s`, stageSeconds: timing.seconds });
  };
  const finish = (meter: StageMeter) => record(meter.end());
  // Files written in the background: awaited in the store stage (a failed one fails the case there).
  const writes: Promise<void>[] = [];
  const inBackground = (write: Promise<void>) => {
    write.catch(() => {}); // reported when awaited
    writes.push(write);
  };

  // 1. Model.
  const bundle = await loadModelBundle(options.modelId, { modelsDir: options.modelsDir });
  await mkdir(outDir, { recursive: true });

  // 2. Ingest (or take the caller's CT), then the CT file.
  const ct = typeof input === 'object' && !Array.isArray(input) ? input : await readInput(input, context, { limits: options.limits, admit: caseAdmission(bundle, { ...context, memoryBudgetBytes: options.memoryBudgetBytes, waitForMemoryMs: options.waitForMemoryMs, modality: options.modality }) });
  let volume = ct.volume;
  ct.volume = undefined;
  if (!volume) throw new Error('runCase was given a read CT without its volume (a ReadCt is used once)');
  // A CT that ingest wrote as NIfTI no longer records its modality: the caller knows it.
  if (!volume.meta.modality && options.modality) volume.meta.modality = options.modality;
  const ingestReport = ct.report;
  if (ct.timing) record(ct.timing);
  const ctFile = path.join(outDir, CASE_FILES.ct);
  inBackground(options.storedCt ? linkOrCopy(options.storedCt, ctFile) : writeNifti(volume, ctFile, 'holocase CT (de-identified)'));
  inBackground(writeCtChunks(volume, outDir).then(() => undefined));
  const inputReport: CaseReport['input'] = {
    format: ingestReport.format,
    dims: volume.dims,
    spacingMm: spacingOf(volume.affine).map((s) => round(s, 4)) as Vec3,
    orientation: orientationCodes(volume.affine),
    ...(volume.meta.modality ? { modality: volume.meta.modality } : {}),
    ...(ingestReport.series ? { series: ingestReport.series } : {}),
  };
  throwIfAborted();

  // 3. Segment; the CT is not needed after this (its file write holds what it still reads).
  let meter = startStage('segment');
  const result = await segment(volume, bundle, { ...context, provider: options.provider });
  volume = undefined;
  // The label map in shared memory now: the mesh workers then read it without a copy of their own, and
  // the segmentation's array is let go instead of being held beside that copy while meshing.
  result.labels = { ...result.labels, data: sharedLabels(result.labels.data) as typeof result.labels.data };
  inBackground(writeNifti(result.labels, path.join(outDir, CASE_FILES.labels), `holocase labels (${bundle.manifest.id})`));
  finish(meter);
  throwIfAborted();

  // 4. Mesh.
  meter = startStage('mesh');
  const meshed = await meshLabelMap(result.labels, structureSpecs(result.structures), { ...options.mesh, ...context });
  finish(meter);
  context.log?.(
    `mesh: ${meshed.structures.length} structures; desktop ${meshed.triangles} triangles (${meshed.glb.byteLength} bytes), ` +
      `headset ${meshed.xr.triangles} triangles (${meshed.xr.glb.byteLength} bytes)`,
  );

  // 5. Store.
  meter = startStage('store');
  context.onProgress?.({ stage: 'store', fraction: 0, message: 'writing the case files' });
  await writeFileAtomically(path.join(outDir, GLB_FILES.desktop), meshed.glb);
  await writeFileAtomically(path.join(outDir, GLB_FILES.xr), meshed.xr.glb);
  await writeMeshCache(path.join(outDir, MESH_CACHE_FILES.desktop), meshed.meshes);
  await writeMeshCache(path.join(outDir, MESH_CACHE_FILES.xr), meshed.xr.meshes);
  for (const write of writes) await write;
  finish(meter);
  const ms = (stage: StageTiming['stage']) => Math.round(1000 * (stages.find((t) => t.stage === stage)?.seconds ?? 0));
  const report: CaseReport = {
    version: 1,
    ...(options.label ? { label: options.label } : {}),
    model: { id: bundle.manifest.id, name: bundle.manifest.name, version: bundle.manifest.version },
    input: inputReport,
    segmentation: { provider: result.provider, notes: result.notes },
    structures: meshed.structures.map((s) => ({
      label: s.label,
      name: s.name,
      displayName: s.displayName,
      group: s.group,
      color: s.color,
      voxelVolumeMl: round(s.voxelVolumeMl),
      meshVolumeMl: round(s.meshVolumeMl),
      surfaceCm2: round(s.surfaceCm2),
      triangles: s.triangles,
    })),
    glb: {
      bytes: meshed.glb.byteLength,
      triangles: meshed.triangles,
      drawCalls: meshed.structures.length,
      centerLpsMm: meshed.centerLpsMm.map((v) => round(v, 3)) as Vec3,
      xr: { bytes: meshed.xr.glb.byteLength, triangles: meshed.xr.triangles, drawCalls: meshed.xr.structures.length },
    },
    timings: {
      ingestMs: ms('ingest'),
      segmentMs: ms('segment'),
      meshMs: ms('mesh'),
      storeMs: ms('store'),
      totalMs: Math.round(performance.now() - started + (ct === input ? 1000 * (ct.timing?.seconds ?? 0) : 0)),
    },
    stages,
    peakRssMb: Math.max(...stages.map((t) => t.peakRssMb)),
    warnings: [...ingestReport.warnings],
  };
  await writeFileAtomically(path.join(outDir, CASE_FILES.report), JSON.stringify(report, null, 2));
  context.onProgress?.({ stage: 'store', fraction: 1 });
  return report;
}

/** Ingest as a measured stage. (A function of its own, so that no variable of `runCase` holds the CT.) */
async function readInput(
  input: string | string[],
  context: StageContext,
  checks: Pick<IngestOptions, 'limits' | 'admit'>,
): Promise<ReadCt> {
  const meter = startStage('ingest');
  const { volume, report } = await ingest(input, { ...context, ...checks });
  return { volume, report, timing: meter.end() };
}

/** `to` becomes the same file as `from`: a hard link where the file system allows, else a copy (renamed into place). */
async function linkOrCopy(from: string, to: string): Promise<void> {
  await rm(to, { force: true });
  try {
    await link(from, to);
  } catch {
    const tmp = `${to}.${process.pid}.copy.tmp`;
    try {
      await copyFile(from, tmp);
      await rename(tmp, to);
    } finally {
      await rm(tmp, { force: true });
    }
  }
}
