/** The CT grid of a stored case (from its report), which every label map sent by the editor must match. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Vec3 } from '../../mesh/grid.ts';
import { HolocaseError } from '../errors.ts';
import type { CaseReport } from '../pipeline/runCase.ts';
import { CASE_FILES, caseLayout } from '../store/caseFolders.ts';

async function readReport(dataDir: string, caseId: string): Promise<CaseReport> {
  try {
    return JSON.parse(await readFile(path.join(caseLayout(dataDir, caseId).caseDir, CASE_FILES.report), 'utf8')) as CaseReport;
  } catch {
    throw new HolocaseError('CONFLICT', 'the case has no finished segmentation to correct');
  }
}

export async function caseGridDims(dataDir: string, caseId: string): Promise<Vec3> {
  return (await readReport(dataDir, caseId)).input.dims;
}

export async function caseGridSpacing(dataDir: string, caseId: string): Promise<Vec3> {
  return (await readReport(dataDir, caseId)).input.spacingMm;
}

/** The de-identified CT of a stored case. */
export function caseCtFile(dataDir: string, caseId: string): string {
  return path.join(caseLayout(dataDir, caseId).caseDir, CASE_FILES.ct);
}

export async function ctVoxelCount(dataDir: string, caseId: string): Promise<number> {
  const [nx, ny, nz] = await caseGridDims(dataDir, caseId);
  return nx * ny * nz;
}
