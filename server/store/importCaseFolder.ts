/**
 * Makes a stored case from an existing case folder (`ct.nii.gz`, `labels.nii.gz`, `case.glb`,
 * `report.json` and, where present, `case-xr.glb`, as `holocase run` writes it) — for the demo and for moving cases between servers.
 */
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { HolocaseError } from '../errors.ts';
import type { Database } from './database.ts';
import { CASE_FILES, caseLayout, exists, GLB_FILES, newId, publishCaseFolder } from './caseFolders.ts';
import { CT_CHUNK_FILES } from './ctChunkStore.ts';
import { MESH_CACHE_FILES } from '../pipeline/caseFiles.ts';
import { insertCase, markCaseDone } from './cases.ts';
import { prepareGlbVariants } from './glbVariants.ts';

export interface ImportCaseOptions {
  /** The case's name as people see it. */
  label?: string;
  /** Owning user id; none → reachable only through share links. */
  ownerId?: string | null;
  teamShared?: boolean;
}

/**
 * 1. Check the folder is a complete case.
 * 2. Copy it into a scratch folder, prepare the GLB for serving, rename it into place.
 * 3. Insert the case row as done. Returns the new case id.
 */
export async function importCaseFolder(db: Database, dataDir: string, folder: string, options: ImportCaseOptions = {}): Promise<string> {
  for (const file of Object.values(CASE_FILES)) {
    if (!(await exists(path.join(folder, file)))) throw new HolocaseError('NOT_FOUND', `${folder} is not a complete case folder: ${file} is missing`);
  }
  const report = JSON.parse(await readFile(path.join(folder, CASE_FILES.report), 'utf8')) as { model?: { id?: string; name?: string; version?: string } };
  const model = { id: report.model?.id ?? 'unknown', name: report.model?.name ?? report.model?.id ?? 'unknown', version: report.model?.version ?? '' };
  const id = newId();
  const layout = caseLayout(dataDir, id);
  const scratch = path.join(layout.workDir, 'import');
  await mkdir(scratch, { recursive: true });
  try {
    for (const file of Object.values(CASE_FILES)) await copyFile(path.join(folder, file), path.join(scratch, file));
    // Optional files, when the folder has them: the headset's level of detail (older folders serve
    // case.glb for it) and both levels' surfaces (without them, the first correction re-meshes everything).
    for (const file of [GLB_FILES.xr, ...Object.values(MESH_CACHE_FILES)]) {
      if (await exists(path.join(folder, file))) await copyFile(path.join(folder, file), path.join(scratch, file));
    }
    // The CT's chunks for the slice views, when the folder has them (else they are made on first use).
    if (await exists(path.join(folder, CT_CHUNK_FILES.manifest))) {
      for (const file of [CT_CHUNK_FILES.data, CT_CHUNK_FILES.manifest]) await copyFile(path.join(folder, file), path.join(scratch, file));
    }
    const glb = await prepareGlbVariants(scratch);
    await publishCaseFolder(dataDir, scratch, layout.caseDir);
    insertCase(db, { id, ownerId: options.ownerId ?? null, label: options.label ?? '', teamShared: options.teamShared ?? false, model, status: 'done' });
    markCaseDone(db, id, { processedAt: Date.now(), glbBytes: glb.bytes, glbEtag: glb.etag, glbEncodings: glb.encodings });
    return id;
  } finally {
    await rm(layout.workDir, { recursive: true, force: true });
  }
}
