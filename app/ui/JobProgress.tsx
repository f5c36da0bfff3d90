'use client';
/**
 * A case's processing as it happens, from its event stream: what is being done and how far along
 * ("Building the 3D model — 62 %"), with a bar while it runs, or why it failed.
 */
import type { ReactNode } from 'react';
import type { CaseProgress } from './useCaseEvents.ts';

export interface JobProgressProps {
  progress: CaseProgress;
  /** Set as `data-case` (tests tell one upload's progress from the previous one's by it). */
  caseId?: string;
  className?: string;
  /** Shown under the progress (e.g. a link to the finished case). */
  children?: ReactNode;
}

export function JobProgress({ progress, caseId, className = 'job', children }: JobProgressProps) {
  return (
    <div className={className} role="status" data-testid="job-progress" data-case={caseId} data-status={progress.status}>
      <p>{describeProgress(progress)}</p>
      {(progress.status === 'running' || progress.status === 'queued') && <progress max={100} value={progress.percent} />}
      {children}
    </div>
  );
}

const STAGE_NAMES: Record<string, string> = {
  upload: 'Receiving',
  queued: 'Waiting',
  ingest: 'Reading the scan',
  segment: 'Finding the anatomy',
  mesh: 'Building the 3D model',
  store: 'Saving',
};

/** "Building the 3D model — 62 %" */
export function describeProgress(p: CaseProgress): string {
  switch (p.status) {
    case 'connecting':
      return 'Connecting…';
    case 'queued':
      return 'Waiting for a free worker…';
    case 'running':
      return `${(p.stage && STAGE_NAMES[p.stage]) || p.stage || 'Working'} — ${Math.round(p.percent)} %${p.message ? ` (${p.message})` : ''}`;
    case 'done':
      return 'Ready';
    case 'failed':
      return `Failed: ${p.error}`;
  }
}
