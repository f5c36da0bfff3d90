/**
 * The job handler: one case from its upload (or its stored CT) to a complete case folder.
 * Runs in a child process (embedded mode) or a `holocase worker` process (scale-out), never on the
 * web server's event loop.
 *
 * Step 1 (only while the raw upload exists): ingest it, write the de-identified `ct.nii.gz` and the
 *   ingest report into the case's work folder, then delete the upload — also when ingest fails.
 * Step 2: `runCase` on the CT just read (still in memory), or else read from the work folder's CT (or,
 *   on a re-run, the stored case's CT), into a fresh folder; that CT file is linked into the case as it is.
 * Step 3: ETag and compressed copies of the GLB, then rename the folder into place as the case.
 * A job interrupted after step 1 resumes at step 2; one interrupted in step 2 or 3 repeats it from its CT.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HolocaseError, isHolocaseError } from '../errors.ts';
import { inUploadTerms } from '../http/receiveUpload.ts';
import type { StageContext } from '../pipeline/context.ts';
import { runCase, type CaseReport, type ReadCt } from '../pipeline/runCase.ts';
import { startStage, type StageTiming } from '../pipeline/stageMeter.ts';
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
 * with its ingest report; the upload (and what was unzipped of it) deleted whatever happens. A function
 * of its own, so that no variable of `processCase` holds the CT that `runCase` lets go after segmenting.
 */
async function readUpload(
  layout: ReturnType<typeof caseLayout>,
  report: (stage: 'upload', fraction: number, message?: string) => void,
  options: ProcessCaseOptions,
): Promise<ReadCt> {
  const unzipDir = path.join(layout.workDir, 'unzip');
  const meter = startStage('ingest');
  let ct: ReadCt;
  try {
    const input = await uploadInput(layout.incomingDir);
    report('upload', 0, 'reading the upload');
    await rm(unzipDir, { recursive: true, force: true });
    await mkdir(unzipDir, { recursive: true });
    const { volume, report: ingestReport } = await ingest(input, {
      workDir: unzipDir,
      onProgress: (p) => report('upload', p.fraction, p.message),
      log: options.log,
      signal: options.signal,
    }).catch(async (error: unknown) => {
      if (!isHolocaseError(error)) throw error;
      const parts = (await readdir(layout.incomingDir)).filter((f) => !f.startsWith('.')).length;
      throw new HolocaseError(error.code, inUploadTerms(error.message, parts), { cause: error });
    });
    await writeNifti(volume, layout.workCt, 'holocase CT (de-identified)');
    await writeFile(layout.workIngestReport, JSON.stringify(ingestReport));
    ct = { volume, report: ingestReport };
  } finally {
    await rm(unzipDir, { recursive: true, force: true });
    await rm(layout.incomingDir, { recursive: true, force: true });
  }
  ct.timing = meter.end();
  return ct;
}

export async function processCase(job: CaseJob, options: ProcessCaseOptions): Promise<CaseJobResult> {
  const started = Date.now();
  const layout = caseLayout(options.dataDir, job.caseId);
  let percent = 0;
  const report = (stage: JobProgress['stage'] | 'upload', fraction: number, message?: string, stageSeconds?: number) => {
    percent = Math.max(percent, stagePercent(stage, fraction));
    options.onJobProgress?.({ stage: stage === 'upload' ? 'ingest' : stage, percent, message, ...(stageSeconds === undefined ? {} : { stageSeconds }) });
  };
  await mkdir(layout.workDir, { recursive: true });

  // Step 1: the raw upload becomes a de-identified CT; the upload is deleted whatever happens.
  let ctPath = layout.workCt;
  let originalInput: (Pick<IngestReport, 'format' | 'series'> & { warnings?: string[] }) | undefined;
  let readCt: ReadCt | undefined;
  if (await exists(layout.incomingDir)) {
    readCt = await readUpload(layout, report, options);
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
  });

  // The pipeline read a NIfTI; the case should still say what was uploaded (DICOM series, warnings).
  if (originalInput) {
    caseReport.input = { ...caseReport.input, format: originalInput.format, ...(originalInput.series ? { series: originalInput.series } : {}) };
    caseReport.warnings = [...new Set([...(originalInput.warnings ?? []), ...(caseReport.warnings ?? [])])];
    await writeFile(path.join(outDir, CASE_FILES.report), JSON.stringify(caseReport, null, 2));
  }

  // Step 3: serving metadata, then the case appears in one rename.
  report('store', 0.5, 'preparing the model for download');
  const glb = await prepareGlbVariants(outDir);
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
