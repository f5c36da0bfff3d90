/**
 * The job handler: one case from its upload (or its stored CT) to a complete case folder.
 * Runs in a child process (embedded mode) or a `holocase worker` process (scale-out), never on the
 * web server's event loop.
 *
 * Step 1 (only while the raw upload exists): ingest it, write the de-identified `ct.nii.gz` and the
 *   ingest report into the case's work folder, then delete the upload — also when ingest fails, except
 *   for a passing condition (a full disk, memory that stayed busy): a re-run reads it again. The CT's size, planned memory
 *   and modality are checked from its headers first: a CT too large for the job's memory, or an MR
 *   series for a CT model, is refused before a voxel is read.
 * Step 2: `runCase` on the CT just read (still in memory), or else read from the work folder's CT (or,
 *   on a re-run, the stored case's CT), into a fresh folder; that CT file is linked into the case as it is.
 * Step 3: ETag and compressed copies of the GLB, then rename the folder into place as the case.
 * A job interrupted after step 1 resumes at step 2; one interrupted in step 2 or 3 repeats it from its CT.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HolocaseError, isDiskFull, isHolocaseError } from '../errors.ts';
import { inUploadTerms } from '../http/receiveUpload.ts';
import { caseAdmission } from '../pipeline/caseAdmission.ts';
import type { StageContext } from '../pipeline/context.ts';
import { runCase, type CaseReport, type ReadCt } from '../pipeline/runCase.ts';
import { startStage, type StageTiming } from '../pipeline/stageMeter.ts';
import { loadModelBundle } from '../segment/bundle.ts';
import type { VolumeLimits } from '../volume/volumeLimits.ts';
import { CASE_FILES, caseLayout, exists, publishCaseFolder } from '../store/caseFolders.ts';
import { prepareGlbVariants } from '../store/glbVariants.ts';
import { ingest, type IngestReport } from '../volume/ingest.ts';
import { writeNifti } from '../volume/nifti.ts';
import { stagePercent, type CaseJob, type CaseJobResult, type JobProgress } from './caseJob.ts';

export interface ProcessCaseOptions {
  /** The shared data folder as this process sees it. */
  dataDir: string;
  /** Whole-job progress (percent across all steps). */
  onJobProgress?: (progress: JobProgress) => void;
  log?: StageContext['log'];
  /** Each stage's figures as it ends (the job process logs one line per stage). */
  onStage?: (timing: StageTiming) => void;
  signal?: AbortSignal;
  /** Largest CT read (default `VOLUME_LIMITS`). */
  limits?: VolumeLimits;
  /** Memory this job may use (default three quarters of the machine's). */
  memoryBudgetBytes?: number;
  /** How long the job may wait for its planned memory to be free before failing, retryable (default 10 minutes). */
  waitForMemoryMs?: number;
}

export const DEFAULTS = { waitForMemoryMs: 10 * 60_000 } as const;

/** Whether running the case again can work: its upload, its de-identified CT or its stored case CT is still there. */
export async function caseInputExists(dataDir: string, caseId: string): Promise<boolean> {
  const layout = caseLayout(dataDir, caseId);
  for (const candidate of [layout.incomingDir, layout.workCt, path.join(layout.caseDir, CASE_FILES.ct)]) {
    if (await exists(candidate)) return true;
  }
  return false;
}

/** A full disk in words, retryable (the input is kept, a re-run after space is freed works). */
function diskFull(during: string, cause: unknown): HolocaseError {
  return new HolocaseError('DISK_FULL', `the server ran out of disk space while ${during}; free some space and run it again`, { cause, retryable: true });
}

/** The upload as ingest takes it: the single zip/NIfTI file, or the folder of DICOM files. */
async function uploadInput(incomingDir: string): Promise<string> {
  const files = (await readdir(incomingDir)).filter((f) => !f.startsWith('.'));
  if (files.length === 0) throw new HolocaseError('UNSUPPORTED_INPUT', 'the upload is empty');
  const single = files.length === 1 ? files[0]! : undefined;
  if (single && /\.(zip|nii|nii\.gz)$/.test(single)) return path.join(incomingDir, single);
  return incomingDir;
}

/**
 * Step 1 as a measured ingest stage: the upload read into a de-identified CT, written as the work CT
 * with its ingest report; the upload (and what was unzipped of it) deleted unless a re-run needs it. A
 * function of its own, so that no variable of `processCase` holds the CT that `runCase` lets go after
 * segmenting.
 */
async function readUpload(
  layout: ReturnType<typeof caseLayout>,
  report: (stage: 'upload', fraction: number, message?: string) => void,
  options: ProcessCaseOptions,
  admission: { memoryBudgetBytes?: number; waitForMemoryMs: number },
  modelId: string,
): Promise<ReadCt> {
  const unzipDir = path.join(layout.workDir, 'unzip');
  const meter = startStage('ingest');
  let keepUpload = false;
  let ct: ReadCt;
  try {
    // The model first (its modality and memory decide whether the CT is read), inside this step so a
    // missing model still removes the raw upload.
    const model = await loadModelBundle(modelId);
    const input = await uploadInput(layout.incomingDir);
    report('upload', 0, 'reading the upload');
    await rm(unzipDir, { recursive: true, force: true });
    await mkdir(unzipDir, { recursive: true });
    const stage = { onProgress: (p: { fraction: number; message?: string }) => report('upload', p.fraction, p.message), log: options.log, signal: options.signal };
    const { volume, report: ingestReport } = await ingest(input, {
      ...stage,
      workDir: unzipDir,
      limits: options.limits,
      admit: caseAdmission(model, { ...stage, ...admission }),
    }).catch(async (error: unknown) => {
      if (!isHolocaseError(error)) throw error;
      const parts = (await readdir(layout.incomingDir)).filter((f) => !f.startsWith('.')).length;
      throw new HolocaseError(error.code, inUploadTerms(error.message, parts), { cause: error, retryable: error.retryable });
    });
    await writeNifti(volume, layout.workCt, 'holocase CT (de-identified)');
    await writeFile(layout.workIngestReport, JSON.stringify(ingestReport));
    ct = { volume, report: ingestReport };
  } catch (error) {
    // A passing condition (a full disk, memory that stayed busy) keeps the upload for a re-run.
    const failure = isDiskFull(error) ? diskFull('reading the upload', error) : error;
    keepUpload = isHolocaseError(failure) && failure.retryable;
    throw failure;
  } finally {
    await rm(unzipDir, { recursive: true, force: true });
    if (!keepUpload) await rm(layout.incomingDir, { recursive: true, force: true });
  }
  ct.timing = meter.end();
  return ct;
}

export async function processCase(job: CaseJob, options: ProcessCaseOptions): Promise<CaseJobResult> {
  const started = Date.now();
  const layout = caseLayout(options.dataDir, job.caseId);
  const admission = { memoryBudgetBytes: options.memoryBudgetBytes, waitForMemoryMs: options.waitForMemoryMs ?? DEFAULTS.waitForMemoryMs };
  let percent = 0;
  const report = (stage: JobProgress['stage'] | 'upload', fraction: number, message?: string, stageSeconds?: number) => {
    percent = Math.max(percent, stagePercent(stage, fraction));
    options.onJobProgress?.({ stage: stage === 'upload' ? 'ingest' : stage, percent, message, ...(stageSeconds === undefined ? {} : { stageSeconds }) });
  };
  await mkdir(layout.workDir, { recursive: true });

  // Step 1: the raw upload becomes a de-identified CT; the upload is deleted unless a re-run needs it.
  let ctPath = layout.workCt;
  let originalInput: (Pick<IngestReport, 'format' | 'series'> & { warnings?: string[] }) | undefined;
  let readCt: ReadCt | undefined;
  if (await exists(layout.incomingDir)) {
    readCt = await readUpload(layout, report, options, admission, job.modelId);
    originalInput = readCt.report;
  } else if (await exists(layout.workCt)) {
    originalInput = JSON.parse(await readFile(layout.workIngestReport, 'utf8').catch(() => 'null')) ?? undefined;
  } else if (await exists(path.join(layout.caseDir, CASE_FILES.ct))) {
    // A re-run of a stored case: its CT is already de-identified; keep what the first ingest found.
    ctPath = path.join(layout.caseDir, CASE_FILES.ct);
    const previous = JSON.parse(await readFile(path.join(layout.caseDir, CASE_FILES.report), 'utf8').catch(() => 'null')) as CaseReport | null;
    // Its warnings came partly from the previous model, so only the input's description carries over.
    originalInput = previous ? { format: previous.input.format, series: previous.input.series as IngestReport['series'] } : undefined;
  } else {
    throw new HolocaseError('NOT_FOUND', 'the CT of this case is gone (the upload could not be read); upload it again');
  }

  // Step 2: the pipeline, into a folder nobody reads until it is complete.
  const outDir = path.join(layout.workDir, `out-${job.jobId}`);
  await rm(outDir, { recursive: true, force: true });
  const caseReport = await runCase(readCt ?? ctPath, outDir, {
    modelId: job.modelId,
    storedCt: ctPath,
    onProgress: (p) => report(p.stage, p.fraction, p.message, p.stageSeconds),
    log: options.log,
    onStage: options.onStage,
    signal: options.signal,
    limits: options.limits,
    ...admission,
    // The CT was written as NIfTI, which records no modality; the upload's series did.
    modality: originalInput?.series?.chosen.modality,
  }).catch((error: unknown) => {
    throw isDiskFull(error) ? diskFull('processing the case', error) : error;
  });

  // The pipeline read a NIfTI; the case should still say what was uploaded (DICOM series, warnings).
  if (originalInput) {
    caseReport.input = { ...caseReport.input, format: originalInput.format, ...(originalInput.series ? { series: originalInput.series } : {}) };
    caseReport.warnings = [...new Set([...(originalInput.warnings ?? []), ...(caseReport.warnings ?? [])])];
    await writeFile(path.join(outDir, CASE_FILES.report), JSON.stringify(caseReport, null, 2));
  }

  // Step 3: serving metadata, then the case appears in one rename.
  report('store', 0.5, 'preparing the model for download');
  const glb = await prepareGlbVariants(outDir).catch((error: unknown) => {
    throw isDiskFull(error) ? diskFull('storing the case', error) : error;
  });
  await publishCaseFolder(options.dataDir, outDir, layout.caseDir);
  await rm(layout.workDir, { recursive: true, force: true });
  report('store', 1);
  options.log?.(`glb sizes ${JSON.stringify(glb.sizes)}`);
  return {
    processedAt: Date.now(),
    glbBytes: glb.bytes,
    glbEtag: glb.etag,
    glbEncodings: glb.encodings,
    model: caseReport.model,
    timings: { ...caseReport.timings, jobMs: Date.now() - started },
  };
}
