/**
 * What the API shows of a case: the list entry (`CaseSummary`), the detail with its structures read
 * from the stored `report.json`, and the little a share link shows (`SharedCaseView`). Dates are ISO strings.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ShareInfo } from '../auth/shareLinks.ts';
import type { CaseReport, StructureReport } from '../pipeline/runCase.ts';
import type { CaseRow, CaseStatus } from '../store/cases.ts';
import { CASE_FILES, caseLayout } from '../store/caseFolders.ts';
import { glbFileFor } from '../store/glbVariants.ts';

export interface CaseSummary {
  id: string;
  label: string;
  status: CaseStatus;
  stage: string | null;
  percent: number;
  /** What is happening now, for a person. */
  message: string | null;
  createdAt: string;
  processedAt: string | null;
  model: { id: string; name: string };
  teamShared: boolean;
  /** User name of the uploader (null for imported demo cases). */
  owner: string | null;
  /** Failure message (status `failed`), with its code and whether a re-run can help. */
  error?: string;
  errorCode?: string;
  retryable?: boolean;
}

/** A structure as the report lists it (name, group, colour, volumes, triangles). */
export type StructureView = StructureReport;

export interface CaseDetail extends CaseSummary {
  structures: StructureView[];
  /** The desktop level of detail. */
  glbUrl: string | null;
  /** The headset's lighter level of detail (the same model; the viewer loads it for XR sessions). */
  xrGlbUrl: string | null;
  glbBytes: number | null;
  report?: CaseReport;
}

/** What a share link shows: label, date, model and structures — nothing else. */
export interface SharedCaseView {
  label: string;
  processedAt: string | null;
  model: { id: string; name: string; version: string };
  structures: StructureView[];
  glbUrl: string;
  xrGlbUrl: string;
  expiresAt: string;
}

function isoDate(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function caseSummary(c: CaseRow): CaseSummary {
  return {
    id: c.id,
    label: c.label,
    status: c.status,
    stage: c.stage,
    percent: c.percent,
    message: c.message,
    createdAt: new Date(c.createdAt).toISOString(),
    processedAt: isoDate(c.processedAt),
    model: { id: c.modelId, name: c.modelName },
    teamShared: c.teamShared,
    owner: c.ownerName,
    ...(c.status === 'failed' ? { error: c.errorMessage ?? 'processing failed', errorCode: c.errorCode ?? 'INTERNAL', retryable: c.retryable } : {}),
  };
}

/** The short version tag of a GLB's ETag, used in URLs so a re-run gets a new URL. */
export function glbVersion(etag: string): string {
  return etag.replace(/"/g, '').slice(0, 12);
}

/** The stored report of a complete case (undefined before the first job finished). */
async function readCaseReport(dataDir: string, caseId: string): Promise<CaseReport | undefined> {
  const file = path.join(caseLayout(dataDir, caseId).caseDir, CASE_FILES.report);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as CaseReport;
  } catch {
    return undefined;
  }
}

function structuresOf(report: CaseReport | undefined): StructureView[] {
  return Array.isArray(report?.structures) ? report.structures : [];
}

export async function caseDetail(dataDir: string, c: CaseRow): Promise<CaseDetail> {
  const report = c.glbEtag ? await readCaseReport(dataDir, c.id) : undefined;
  const xr = c.glbEtag ? await glbFileFor(caseLayout(dataDir, c.id).caseDir, c, 'xr') : undefined;
  return {
    ...caseSummary(c),
    structures: structuresOf(report),
    glbUrl: c.glbEtag ? `/api/cases/${c.id}/model.glb?v=${glbVersion(c.glbEtag)}` : null,
    xrGlbUrl: xr ? `/api/cases/${c.id}/model.glb?level=xr&v=${glbVersion(xr.etag)}` : null,
    glbBytes: c.glbBytes,
    ...(report ? { report } : {}),
  };
}

/** What the share link `token` shows of its case. */
export async function sharedCaseView(dataDir: string, c: CaseRow, share: ShareInfo, token: string): Promise<SharedCaseView> {
  return {
    label: c.label,
    processedAt: isoDate(c.processedAt),
    model: { id: c.modelId, name: c.modelName, version: c.modelVersion },
    structures: structuresOf(await readCaseReport(dataDir, c.id)),
    glbUrl: `/api/share/${token}/model.glb`,
    xrGlbUrl: `/api/share/${token}/model.glb?level=xr`,
    expiresAt: share.expiresAt,
  };
}
