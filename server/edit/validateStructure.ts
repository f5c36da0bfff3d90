/**
 * Marking a structure of the current revision validated (by the signed-in user, now) or not. A later
 * revision that changes the structure clears it (`saveRevision`). Viewers hear a `validation` event.
 */
import type { User } from '../auth/users.ts';
import { HolocaseError } from '../errors.ts';
import type { CaseEvents } from '../jobs/caseEvents.ts';
import type { Database } from '../store/database.ts';
import type { CaseRow } from '../store/cases.ts';
import { ensureRevisions } from './modelRevision.ts';
import { clearValidations, latestRevision, setValidation, type Validation } from './revisionRows.ts';
import { readRevisionStructures } from './revisionStructures.ts';

export interface ValidationDeps {
  db: Database;
  config: { dataDir: string };
  events: CaseEvents;
}

/** 1. The label must be a structure of the current revision. 2. Record or clear; tell viewers. */
export function validateStructure(deps: ValidationDeps, c: CaseRow, label: number, user: User, validated: boolean): Validation | null {
  const row = ensureRevisions(deps.db, deps.config.dataDir, c);
  const revision = latestRevision(deps.db, row.id);
  if (revision < 0) throw new HolocaseError('CONFLICT', 'the case has no finished segmentation yet');
  const table = readRevisionStructures(deps.config.dataDir, row.id, revision);
  if (!table.structures.some((s) => s.label === label && s.voxels > 0)) throw new HolocaseError('NOT_FOUND', `revision ${revision} has no structure with label ${label}`);
  const result = validated ? setValidation(deps.db, row.id, label, user, revision) : (clearValidations(deps.db, row.id, [label]), null);
  deps.events.publish(row.id, { type: 'validation', label, validated: result && { by: result.by, at: result.at, revision: result.revision } });
  return result;
}
