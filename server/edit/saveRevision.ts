/**
 * Saving a corrected label map as a new revision, and restoring an old one as a new revision. Nothing
 * is overwritten: the revision folder is written under a scratch name and renamed into place, then the
 * row is inserted — both only if no one saved in between (else 409 and the scratch is removed).
 * The changed structures' validations are cleared, viewers hear `revision … saved`, and the revision's
 * hologram is made in the background (only the changed structures are meshed again).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, renameSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeStructure } from '../../models/anatomy.ts';
import type { TissueGroup } from '../../models/anatomy-types.ts';
import { voxelCount, voxelVolumeMm3 } from '../../mesh/grid.ts';
import type { User } from '../auth/users.ts';
import { HolocaseError } from '../errors.ts';
import type { CaseEvents } from '../jobs/caseEvents.ts';
import type { Logger } from '../log.ts';
import { labelMapFromVolume } from '../mesh/labelMapFromVolume.ts';
import type { Database } from '../store/database.ts';
import { getCase, setServedGlb, type CaseRow } from '../store/cases.ts';
import { prepareGlbVariants } from '../store/glbVariants.ts';
import { activeJobForCase } from '../store/jobs.ts';
import { readNifti, writeNifti } from '../volume/nifti.ts';
import { glbVersion, xrVersion } from '../http/caseViews.ts';
import { ensureRevisions } from './modelRevision.ts';
import type { RevisionMesher } from './revisionMesher.ts';
import { REVISION_FILES, REVISION_GLB_FILES, caseRevisionsDir, revisionDir, revisionLabelsFile, type RevisionStructure, type RevisionStructures } from './revisionFiles.ts';
import { clearValidations, getRevision, insertRevision, latestRevision, type StructureChange } from './revisionRows.ts';
import { readRevisionStructures } from './revisionStructures.ts';
import { structureChanges } from './structureChanges.ts';

export interface EditDeps {
  db: Database;
  config: { dataDir: string };
  events: CaseEvents;
  mesher: RevisionMesher;
  log: Logger;
  /** Told of every saved or restored revision (the PACS gets its SEG). */
  pacs?: { revisionSaved(caseId: string, revision: number): void };
}

/** How the editor names a label: a catalogue name, or a free name with its colour. */
export interface StructureNaming {
  name: string;
  displayName?: string;
  color?: string;
}

export interface SaveRevisionInput {
  baseRevision: number;
  structures: Record<string, StructureNaming>;
  note?: string;
  /** The whole label map on the CT grid, x fastest. */
  labels: Uint16Array;
}

export interface SavedRevision {
  revision: number;
  changedStructures: number[];
  changes: StructureChange[];
  mesh: 'pending' | 'ready';
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_ ()+.-]{0,63}$/;
const COLOR = /^#[0-9a-fA-F]{6}$/;

/** The case, with its revisions started, when it can take a new revision based on `baseRevision`. */
function editableCase(deps: EditDeps, c: CaseRow, baseRevision: number): CaseRow {
  const job = activeJobForCase(deps.db, c.id);
  if (job) throw new HolocaseError('CONFLICT', 'the case is being processed; save again when it is done');
  const current = ensureRevisions(deps.db, deps.config.dataDir, c);
  if (current.status !== 'done') throw new HolocaseError('CONFLICT', 'the case has no finished segmentation to correct');
  const latest = latestRevision(deps.db, c.id);
  if (baseRevision !== latest) {
    throw new HolocaseError('CONFLICT', `revision ${latest} was saved since revision ${baseRevision} was opened; reload it and apply the change again`);
  }
  return current;
}

/** The structure table of the new map: counts in one pass, names from the request or the base. */
function tableOf(labels: Uint16Array, voxelMl: number, naming: Record<string, StructureNaming>, base: RevisionStructures): RevisionStructures {
  const counts = new Map<number, number>();
  for (let p = 0; p < labels.length; p++) {
    const v = labels[p];
    if (v) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const previous = new Map(base.structures.map((s) => [s.label, s]));
  const structures: RevisionStructure[] = [];
  for (const label of [...counts.keys()].sort((a, b) => a - b)) {
    const asked = naming[String(label)];
    const old = previous.get(label);
    let entry: Omit<RevisionStructure, 'voxels' | 'volumeMl'>;
    if (asked) {
      if (!NAME.test(asked.name)) throw new HolocaseError('BAD_REQUEST', `structure ${label}: a name has 1–64 letters, digits, spaces or _ ( ) + . - (got "${asked.name}")`);
      if (asked.color !== undefined && !COLOR.test(asked.color)) throw new HolocaseError('BAD_REQUEST', `structure ${label}: color must be #rrggbb (got "${asked.color}")`);
      const known = describeStructure(asked.name);
      if (!known.known && !asked.color && old?.name !== asked.name) {
        throw new HolocaseError('BAD_REQUEST', `structure ${label}: "${asked.name}" is not in the anatomy catalogue; give it a color (#rrggbb)`);
      }
      entry = {
        label,
        name: asked.name,
        displayName: (asked.displayName ?? '').trim().slice(0, 80) || (old?.name === asked.name ? old.displayName : known.displayName),
        group: known.known ? known.group : old?.name === asked.name ? old.group : ('other' satisfies TissueGroup),
        color: asked.color ?? (old?.name === asked.name ? old.color : known.color),
      };
    } else if (old) {
      entry = { label, name: old.name, displayName: old.displayName, group: old.group, color: old.color };
    } else {
      throw new HolocaseError('BAD_REQUEST', `label ${label} is painted but has no name: add it to meta.structures`);
    }
    const voxels = counts.get(label)!;
    structures.push({ ...entry, voxels, volumeMl: Math.round(voxels * voxelMl * 100) / 100 });
  }
  return { voxelMl, structures };
}

/**
 * The scratch folder becomes revision `revision` and its row is inserted — synchronously, and only
 * when `revision` is still the next number (someone may have saved while this one was written).
 */
function publish(deps: EditDeps, caseId: string, scratch: string, row: Parameters<typeof insertRevision>[1], clear: readonly number[]): void {
  if (latestRevision(deps.db, caseId) !== row.revision - 1) {
    throw new HolocaseError('CONFLICT', `another revision was saved meanwhile; reload revision ${latestRevision(deps.db, caseId)} and apply the change again`);
  }
  renameSync(scratch, revisionDir(deps.config.dataDir, caseId, row.revision));
  deps.db.transaction(() => {
    insertRevision(deps.db, row);
    clearValidations(deps.db, caseId, clear);
  })();
  deps.pacs?.revisionSaved(caseId, row.revision);
}

async function scratchDir(dataDir: string, caseId: string): Promise<string> {
  const dir = path.join(caseRevisionsDir(dataDir, caseId), `.save-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * 1. The case takes a revision on `baseRevision`; the map has the CT grid's size.
 * 2. The new structure table; voxels compared with the base map → changed structures (none: 400).
 * 3. Write labels (uint8 when they fit) and table to a scratch folder; publish it as the next revision.
 * 4. Tell viewers; mesh the changed structures in the background.
 */
export async function saveRevision(deps: EditDeps, c: CaseRow, user: User, input: SaveRevisionInput): Promise<SavedRevision> {
  const dataDir = deps.config.dataDir;
  // 1. Case and grid.
  editableCase(deps, c, input.baseRevision);
  const baseFile = revisionLabelsFile(dataDir, c.id, input.baseRevision);
  const base = labelMapFromVolume(await readNifti(baseFile), 'the base revision');
  if (input.labels.length !== voxelCount(base)) {
    throw new HolocaseError('BAD_REQUEST', `the label map holds ${input.labels.length} voxels; the CT grid ${base.dims.join('×')} has ${voxelCount(base)}`);
  }
  // 2. Table and changes.
  const baseTable = readRevisionStructures(dataDir, c.id, input.baseRevision);
  const table = tableOf(input.labels, voxelVolumeMm3(base.affine) / 1000, input.structures, baseTable);
  const touched = new Set<number>();
  const old = base.data;
  for (let p = 0; p < old.length; p++) {
    const a = old[p];
    const b = input.labels[p];
    if (a !== b) {
      if (a) touched.add(a);
      if (b) touched.add(b);
    }
  }
  const { changes, labels: changed } = structureChanges(baseTable, table, touched);
  if (changed.length === 0) throw new HolocaseError('BAD_REQUEST', 'nothing changed: the label map and its names equal the base revision');
  const maxLabel = table.structures.reduce((m, s) => Math.max(m, s.label), 0);
  // 3. Files, then the row.
  const scratch = await scratchDir(dataDir, c.id);
  const revision = input.baseRevision + 1;
  try {
    const data = maxLabel <= 0xff ? Uint8Array.from(input.labels) : input.labels;
    await writeNifti({ dims: base.dims, affine: base.affine, data, meta: { source: 'nifti' } }, path.join(scratch, REVISION_FILES.labels), `holocase revision ${revision}`);
    await writeFile(path.join(scratch, REVISION_FILES.structures), JSON.stringify(table));
    publish(deps, c.id, scratch, { caseId: c.id, revision, author: { id: user.id, name: user.username }, note: (input.note ?? '').slice(0, 500), changes, mesh: 'pending' }, changed);
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
  // 4. Viewers and meshing.
  deps.log.info({ caseId: c.id, revision, userId: user.id, changed: changed.length }, 'revision saved');
  deps.events.publish(c.id, { type: 'revision', revision, state: 'saved', author: user.username, changedStructures: changed });
  for (const label of changed) deps.events.publish(c.id, { type: 'validation', label, validated: null });
  deps.mesher.enqueue({ caseId: c.id, revision, baseRevision: input.baseRevision, changed });
  return { revision, changedStructures: changed, changes, mesh: 'pending' };
}

/**
 * A new revision equal to revision `from`: its label map and table are linked (not copied); its
 * hologram too when it was made (served at once), else it is meshed in the background.
 */
export async function restoreRevision(deps: EditDeps, c: CaseRow, user: User, from: number, options: { baseRevision?: number; note?: string } = {}): Promise<SavedRevision> {
  const dataDir = deps.config.dataDir;
  ensureRevisions(deps.db, dataDir, c);
  const latest = latestRevision(deps.db, c.id);
  editableCase(deps, c, options.baseRevision ?? latest);
  const source = getRevision(deps.db, c.id, from);
  if (!source) throw new HolocaseError('NOT_FOUND', `this case has no revision ${from}`);
  if (from === latest) throw new HolocaseError('BAD_REQUEST', `revision ${from} is already the current one`);
  const sourceDir = revisionDir(dataDir, c.id, from);
  const before = readRevisionStructures(dataDir, c.id, latest);
  const after = readRevisionStructures(dataDir, c.id, from);
  const { changes, labels: changed } = structureChanges(before, after);
  const revision = latest + 1;
  const scratch = await scratchDir(dataDir, c.id);
  const hasGlb = source.mesh === 'ready' && existsSync(path.join(sourceDir, REVISION_FILES.glb));
  try {
    // glb-levels.json is written anew by prepareGlbVariants (never through a link into the source).
    const files = [REVISION_FILES.labels, REVISION_FILES.structures, ...(hasGlb ? [REVISION_FILES.mesh, REVISION_FILES.meshes, REVISION_FILES.xrMeshes, ...REVISION_GLB_FILES] : [])];
    mkdirSync(scratch, { recursive: true });
    for (const file of files) if (existsSync(path.join(sourceDir, file))) linkSync(path.join(sourceDir, file), path.join(scratch, file));
    const glb = hasGlb ? await prepareGlbVariants(scratch) : undefined;
    publish(
      deps,
      c.id,
      scratch,
      { caseId: c.id, revision, author: { id: user.id, name: user.username }, note: (options.note ?? `restored revision ${from}`).slice(0, 500), restoredFrom: from, changes, mesh: glb ? 'ready' : 'pending' },
      changed,
    );
    deps.events.publish(c.id, { type: 'revision', revision, state: 'saved', author: user.username, changedStructures: changed });
    if (glb) {
      setServedGlb(deps.db, c.id, { revision, bytes: glb.bytes, etag: glb.etag, encodings: glb.encodings });
      const meshReport = JSON.parse(await readFile(path.join(revisionDir(dataDir, c.id, revision), REVISION_FILES.mesh), 'utf8')) as { structures: unknown[] };
      deps.events.publish(c.id, { type: 'revision', revision, state: 'ready', glbVersion: glbVersion(glb.etag), ...xrVersion(glb), structures: meshReport.structures });
    } else {
      deps.mesher.enqueue({ caseId: c.id, revision });
    }
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
  for (const label of changed) deps.events.publish(c.id, { type: 'validation', label, validated: null });
  deps.log.info({ caseId: c.id, revision, from, userId: user.id }, 'revision restored');
  return { revision, changedStructures: changed, changes, mesh: getCase(deps.db, c.id)?.glbRevision === revision ? 'ready' : 'pending' };
}
