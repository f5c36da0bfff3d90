/**
 * The PACS side of a running server, made once per `holocase serve`: the routing rules and the
 * accounts that own incoming cases, the inbound path (shared by Orthanc's change feed and STOW-RS),
 * the change-feed follower when an Orthanc is configured, and the outbound SEG sends — one at a time,
 * after each case from the PACS is done, and on start for any that a stop interrupted.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { addUser, findUserForLogin } from '../auth/users.ts';
import type { CaseLifecycleDeps } from '../jobs/caseLifecycle.ts';
import type { ModelCatalog } from '../jobs/modelCatalog.ts';
import type { Logger } from '../log.ts';
import { isValidId } from '../store/caseFolders.ts';
import { getCase } from '../store/cases.ts';
import { casesAwaitingSeg, pacsStudyForCase } from '../store/pacsStudies.ts';
import { followChangeFeed, type ChangeFeed, type FeedState } from './changeFeed.ts';
import { receiveInboundStudy, type InboundDeps } from './inboundStudy.ts';
import { createOrthancClient, type OrthancClient } from './orthancClient.ts';
import { fetchSeriesFiles, readStudyFacts } from './orthancStudy.ts';
import { loadPacsConfig, type PacsConfig } from './pacsConfig.ts';
import { readRevisionStructures } from '../edit/revisionStructures.ts';
import { revisionLabelsFile } from '../edit/revisionFiles.ts';
import { sendSegToPacs, type SendSegOptions, type SendSegResult } from './sendSegToPacs.ts';
import { studyKeyOf } from './studyKey.ts';

export interface PacsServiceDeps extends CaseLifecycleDeps, Pick<ModelCatalog, 'findModel'> {
  config: CaseLifecycleDeps['config'] & { defaultModel: string };
  log: Logger;
  /** Environment to read the PACS settings from (default `process.env`). */
  env?: Record<string, string | undefined>;
}

export interface PacsService {
  settings: PacsConfig;
  orthanc: OrthancClient | undefined;
  /** The inbound path's dependencies (STOW-RS uses them). */
  inbound: InboundDeps;
  feedState(): FeedState | undefined;
  /** A case finished: send its SEG when it came from Orthanc (queued; returns at once). */
  caseDone(caseId: string): void;
  /** A corrected revision was saved (or an old one restored): send its SEG when the case came from Orthanc. */
  revisionSaved(caseId: string, revision: number): void;
  /** Sends a case's SEG now (after any send in progress). */
  sendSeg(caseId: string, options?: SendSegOptions): Promise<SendSegResult>;
  close(): Promise<void>;
}

/**
 * The account that owns incoming cases, made the first time a study needs it (with a password nobody
 * knows), so a server that never receives from the PACS gets no extra account.
 */
function ownerAccounts(deps: PacsServiceDeps, settings: PacsConfig): (username: string) => Promise<string> {
  const ids = new Map<string, string>();
  return async (username) => {
    const known = ids.get(username) ?? findUserForLogin(deps.db, username)?.user.id;
    if (known) {
      ids.set(username, known);
      return known;
    }
    const { user } = await addUser(deps.db, username, { team: settings.routing.team });
    deps.log.info({ userId: user.id, team: settings.routing.team ?? null }, 'PACS service account created');
    ids.set(username, user.id);
    return user.id;
  };
}

/**
 * A STOW-RS push's staging folder that a stop left behind (it may hold identifiers). Incoming folders
 * of cases that were never recorded are removed by the start-up sweep (`sweepOrphans`).
 */
async function removeOrphanStaging(deps: PacsServiceDeps): Promise<void> {
  await rm(path.join(deps.config.dataDir, 'pacs-staging'), { recursive: true, force: true });
}

/**
 * 1. Settings (a wrong value stops the server with a message naming it), the key.
 * 2. A STOW-RS staging folder a stop left behind is removed.
 * 3. With an Orthanc: follow its change feed; send SEGs that a stop left pending.
 */
export async function startPacsService(deps: PacsServiceDeps): Promise<PacsService> {
  // 1. Settings.
  const settings = loadPacsConfig(deps.env ?? process.env);
  const inbound: InboundDeps = {
    ...deps,
    routing: settings.routing,
    studyKey: studyKeyOf(deps.config.dataDir),
    ownerId: ownerAccounts(deps, settings),
  };

  // 2. Leftovers.
  await removeOrphanStaging(deps);

  // 3. Orthanc.
  const orthanc = settings.orthanc ? createOrthancClient(settings.orthanc) : undefined;
  let sends: Promise<unknown> = Promise.resolve();
  const sendSeg = (caseId: string, options?: SendSegOptions) => {
    const next = sends.then(() => sendSegToPacs({ db: deps.db, log: deps.log, config: deps.config, orthanc }, caseId, options));
    sends = next.catch(() => undefined);
    return next;
  };
  const caseDone = (caseId: string) => {
    if (!orthanc || !pacsStudyForCase(deps.db, caseId)?.orthancSeriesId) return;
    sendSeg(caseId).catch(() => undefined); // recorded and logged by sendSegToPacs
  };
  const revisionSaved = (caseId: string, revision: number) => {
    if (!orthanc || !pacsStudyForCase(deps.db, caseId)?.orthancSeriesId) return;
    const table = readRevisionStructures(deps.config.dataDir, caseId, revision);
    sendSeg(caseId, {
      labelsPath: revisionLabelsFile(deps.config.dataDir, caseId, revision),
      structures: table.structures.filter((s) => s.voxels > 0),
      revision,
    }).catch(() => undefined); // recorded and logged by sendSegToPacs
  };
  let feed: ChangeFeed | undefined;
  if (orthanc && settings.orthanc) {
    feed = followChangeFeed({
      client: orthanc,
      db: deps.db,
      log: deps.log,
      pollMs: settings.orthanc.pollSeconds * 1000,
      startAt: settings.orthanc.startAt,
      onStableStudy: async (studyId) =>
        receiveInboundStudy(inbound, {
          source: 'orthanc',
          facts: await readStudyFacts(orthanc, studyId),
          orthancStudyId: studyId,
          fetchSeries: (series, dir) => fetchSeriesFiles(orthanc, series.orthancId!, dir),
        }),
    });
    for (const caseId of casesAwaitingSeg(deps.db)) caseDone(caseId);
  }

  return {
    settings,
    orthanc,
    inbound,
    feedState: () => feed?.state(),
    caseDone,
    revisionSaved,
    sendSeg,
    async close() {
      await feed?.stop();
      await sends;
    },
  };
}
