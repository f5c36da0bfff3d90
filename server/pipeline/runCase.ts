/**
 * The whole pipeline for one case: a CT in, a case folder out (`ct.nii.gz`, `labels.nii.gz`,
 * `case.glb`, `report.json`). Called by `holocase run`, by the job handler and by the demo.
 * Every file is written atomically; a failure leaves only complete files behind.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { orientationCodes, spacingOf, type Vec3 } from '../../mesh/grid.ts';
import { HolocaseError } from '../errors.ts';
import { meshLabelMap, type MeshLabelMapOptions } from '../mesh/meshLabelMap.ts';
import { structureSpecs } from '../mesh/structureSpecs.ts';
import { loadModelBundle } from '../segment/bundle.ts';
import { segment } from '../segment/segment.ts';
import type { ProviderRequest } from '../segment/providers.ts';
import { ingest } from '../volume/ingest.ts';
import { writeNifti } from '../volume/nifti.ts';
import { writeCtChunks } from '../store/ctChunkStore.ts';
import { writeFileAtomically } from '../writeFileAtomically.ts';
import { CASE_FILES } from './caseFiles.ts';
import type { StageContext } from './context.ts';

export interface RunCaseOptions extends StageContext {
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
  glb: { bytes: number; triangles: number; drawCalls: number; centerLpsMm: Vec3 };
  timings: { ingestMs: number; segmentMs: number; meshMs: number; totalMs: number };
  warnings: string[];
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/**
 * 1. Load the model bundle first, so an unknown model fails before any work.
 * 2. Ingest the CT (DICOM folder/zip/files or NIfTI) into a de-identified LPS volume; write `ct.nii.gz`,
 *    and (compressed in the background while the later steps run) its chunks for the slice views.
 * 3. Segment it with the bundle; write `labels.nii.gz`.
 * 4. Mesh every structure present; write `case.glb`.
 * 5. Write `report.json` last: its presence means the folder is complete.
 */
export async function runCase(input: string | string[], outDir: string, options: RunCaseOptions): Promise<CaseReport> {
  const started = Date.now();
  const context: StageContext = { onProgress: options.onProgress, log: options.log, signal: options.signal };
  const throwIfAborted = () => {
    if (options.signal?.aborted) throw new HolocaseError('CONFLICT', 'processing was cancelled');
  };

  // 1. Model.
  const bundle = await loadModelBundle(options.modelId, { modelsDir: options.modelsDir });
  await mkdir(outDir, { recursive: true });

  // 2. Ingest.
  const { volume, report: ingestReport } = await ingest(input, context);
  const ingestMs = Date.now() - started;
  await writeNifti(volume, path.join(outDir, CASE_FILES.ct), 'holocase CT (de-identified)');
  const ctChunks = writeCtChunks(volume, outDir);
  ctChunks.catch(() => {}); // awaited before the report; a failure then fails the case
  context.onProgress?.({ stage: 'ingest', fraction: 1 });
  throwIfAborted();

  // 3. Segment.
  const segmentStarted = Date.now();
  const result = await segment(volume, bundle, { ...context, provider: options.provider });
  await writeNifti(result.labels, path.join(outDir, CASE_FILES.labels), `holocase labels (${bundle.manifest.id})`);
  const segmentMs = Date.now() - segmentStarted;
  throwIfAborted();

  // 4. Mesh.
  const meshStarted = Date.now();
  const meshed = await meshLabelMap(result.labels, structureSpecs(result.structures), { ...options.mesh, ...context });
  await writeFileAtomically(path.join(outDir, CASE_FILES.glb), meshed.glb);
  const meshMs = Date.now() - meshStarted;

  // 5. Report.
  await ctChunks;
  const report: CaseReport = {
    version: 1,
    ...(options.label ? { label: options.label } : {}),
    model: { id: bundle.manifest.id, name: bundle.manifest.name, version: bundle.manifest.version },
    input: {
      format: ingestReport.format,
      dims: volume.dims,
      spacingMm: spacingOf(volume.affine).map((s) => round(s, 4)) as Vec3,
      orientation: orientationCodes(volume.affine),
      ...(volume.meta.modality ? { modality: volume.meta.modality } : {}),
      ...(ingestReport.series ? { series: ingestReport.series } : {}),
    },
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
    },
    timings: { ingestMs, segmentMs, meshMs, totalMs: Date.now() - started },
    warnings: [...ingestReport.warnings],
  };
  await writeFileAtomically(path.join(outDir, CASE_FILES.report), JSON.stringify(report, null, 2));
  context.onProgress?.({ stage: 'store', fraction: 1 });
  return report;
}
