/**
 * What every pipeline stage may be given besides its data: a progress sink, a log line sink and a
 * cancellation signal. Stages never print or touch global state; the caller decides where these go
 * (the terminal for the CLI, the job record and SSE stream for the server).
 */
export type StageName = 'ingest' | 'segment' | 'mesh' | 'store';

export interface Progress {
  stage: StageName;
  /** Completed fraction of this stage, 0–1. */
  fraction: number;
  /** What is happening now, for a person (e.g. "patch 12 of 48"). No patient identifiers. */
  message?: string;
  /** Set on the progress that ends a stage: how many seconds the stage took. */
  stageSeconds?: number;
}

export interface StageContext {
  onProgress?: (progress: Progress) => void;
  /** One line for the job log, e.g. "execution provider: cpu". */
  log?: (message: string) => void;
  signal?: AbortSignal;
}
