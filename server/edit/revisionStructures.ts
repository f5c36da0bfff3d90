/** Reading a revision's structure table (`structures.json`). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HolocaseError } from '../errors.ts';
import { REVISION_FILES, revisionDir, type RevisionStructures } from './revisionFiles.ts';

export function readRevisionStructures(dataDir: string, caseId: string, revision: number): RevisionStructures {
  try {
    return JSON.parse(readFileSync(path.join(revisionDir(dataDir, caseId, revision), REVISION_FILES.structures), 'utf8')) as RevisionStructures;
  } catch {
    throw new HolocaseError('NOT_FOUND', `revision ${revision} of this case is not available`);
  }
}
