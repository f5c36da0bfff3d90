/**
 * What a processing job is, as it travels to a child process or a Redis worker, and what comes back.
 * Plain JSON: no paths from the web server (a worker uses its own view of the shared data folder).
 */
import type { StageName } from '../pipeline/context.ts';

export interface CaseJob {
  jobId: string;
  caseId: string;
  /** Model bundle id for segmentation. */
  modelId: string;
}

export interface CaseJobResult {
  processedAt: number;
  glbBytes: number;
  glbEtag: string;
  glbEncodings: string[];
  model: { id: string; name: string; version: string };
  timings: Record<string, number>;
}

export interface JobProgress {
  stage: StageName;
  /** Whole-job percentage, 0–100, never decreasing within a run. */
  percent: number;
  message?: string;
  /** Set when this progress ends a stage: how many seconds the stage took. */
  stageSeconds?: number;
}

/** A job's failure in words, with whether running it again can help. */
export interface JobFailure {
  code: string;
  message: string;
  retryable: boolean;
}

/** Where each stage sits in the job's 0–100 %: ingest of the upload, then `runCase`'s own stages. */
export const STAGE_SPANS: Record<StageName | 'upload', [number, number]> = {
  upload: [0, 15],
  ingest: [15, 20],
  segment: [20, 65],
  mesh: [65, 95],
  store: [95, 100],
};

export function stagePercent(stage: StageName | 'upload', fraction: number): number {
  const [from, to] = STAGE_SPANS[stage];
  return from + (to - from) * Math.min(1, Math.max(0, fraction));
}
