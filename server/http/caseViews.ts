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
import { glbFileFor, type GlbVariants } from '../store/glbVariants.ts';
import { servedGlbDir } from '../edit/revisionFiles.ts';

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

/**
 * A structure as the served hologram lists it (name, group, colour, volumes, triangles), and who
 * validated it in which revision (null: not validated, or edited since).
 */
export type StructureView = StructureReport & { validated: { by: string; at: string; revision: number } | null };

/** The label-map side of a case: its current revision, validations, and whether the viewer may edit. */
export interface EditingState {
  /** Current label-map revision (null before the first segmentation finished). */
  revision: number | null;
  /** Structures of the revision whose hologram is served (its mesh report), when it is not the case folder's. */
  structures?: StructureReport[];
  validations: Map<number, { by: string; at: string; revision: number }>;
  canEdit: boolean;
}

export interface CaseDetail extends CaseSummary {
  structures: StructureView[];
  /** The desktop level of detail. */
  glbUrl: string | null;
  /** The headset's lighter level of detail (the same model; the viewer loads it for XR sessions). */
  xrGlbUrl: string | null;
  glbBytes: number | null;
  revision: number | null;
  canEdit: boolean;
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
  revision: number | null;
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

/** The headset level's version tag for a `revision` event, when the GLBs include that level. */
export function xrVersion(glb: Pick<GlbVariants, 'levels'>): { xrGlbVersion?: string } {
  const xr = glb.levels.xr;
  return xr ? { xrGlbVersion: glbVersion(xr.etag) } : {};
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

const NO_EDITING: EditingState = { revision: null, validations: new Map(), canEdit: false };

function structuresOf(report: CaseReport | undefined, editing: EditingState): StructureView[] {
  const listed = editing.structures ?? (Array.isArray(report?.structures) ? report.structures : []);
  return listed.map((s) => ({ ...s, validated: editing.validations.get(s.label) ?? null }));
}

export async function caseDetail(dataDir: string, c: CaseRow, editing: EditingState = NO_EDITING): Promise<CaseDetail> {
  const report = c.glbEtag ? await readCaseReport(dataDir, c.id) : undefined;
  const xr = c.glbEtag ? await glbFileFor(servedGlbDir(dataDir, c, caseLayout(dataDir, c.id).caseDir), c, 'xr') : undefined;
  return {
    ...caseSummary(c),
    structures: structuresOf(report, editing),
    glbUrl: c.glbEtag ? `/api/cases/${c.id}/model.glb?v=${glbVersion(c.glbEtag)}` : null,
    xrGlbUrl: xr ? `/api/cases/${c.id}/model.glb?level=xr&v=${glbVersion(xr.etag)}` : null,
    glbBytes: c.glbBytes,
    revision: editing.revision,
    canEdit: editing.canEdit,
    ...(report ? { report } : {}),
  };
}

/** What the share link `token` shows of its case. */
export async function sharedCaseView(dataDir: string, c: CaseRow, share: ShareInfo, token: string, editing: EditingState = NO_EDITING): Promise<SharedCaseView> {
  return {
    label: c.label,
    processedAt: isoDate(c.processedAt),
    model: { id: c.modelId, name: c.modelName, version: c.modelVersion },
    structures: structuresOf(await readCaseReport(dataDir, c.id), editing),
    glbUrl: `/api/share/${token}/model.glb`,
    xrGlbUrl: `/api/share/${token}/model.glb?level=xr`,
    expiresAt: share.expiresAt,
    revision: editing.revision,
  };
}
