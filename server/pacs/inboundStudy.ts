/**
 * The one inbound path for studies from the PACS, whether Orthanc's change feed or a STOW-RS push
 * brought them: route the study, skip it with a reason, or make a case from the chosen series that is
 * processed exactly like an upload (its files in the case's incoming folder, the same job, the same
 * ingest and de-identification). A series already received (same keyed hash) makes no second case.
 */
import { rm } from 'node:fs/promises';
import type { CaseLifecycleDeps } from '../jobs/caseLifecycle.ts';
import { startCaseJob } from '../jobs/caseLifecycle.ts';
import type { ModelCatalog } from '../jobs/modelCatalog.ts';
import { caseLayout, newId } from '../store/caseFolders.ts';
import { deleteCaseRow, insertCase } from '../store/cases.ts';
import { hasPacsStudy, insertPacsStudy, recordSkippedStudy, type PacsSource } from '../store/pacsStudies.ts';
import { isHolocaseError } from '../errors.ts';
import { routeStudy, type RoutingConfig, type SeriesFacts, type StudyFacts } from './routingRules.ts';
import type { StudyKey } from './studyKey.ts';

export interface InboundDeps extends CaseLifecycleDeps, Pick<ModelCatalog, 'findModel'> {
  config: CaseLifecycleDeps['config'] & { defaultModel: string };
  routing: RoutingConfig;
  studyKey: StudyKey;
  /** Account id of a user name (the routing's owners; made when missing). */
  ownerId(username: string): Promise<string>;
}

export interface InboundStudy {
  source: PacsSource;
  facts: StudyFacts;
  /** Orthanc's study id, for the skipped-study record. */
  orthancStudyId?: string;
  /** Puts the chosen series' files into `dir` (created by it); returns how many. */
  fetchSeries(series: SeriesFacts, dir: string): Promise<number>;
  /** Owner instead of the rule's (a user pushing through STOW-RS). */
  ownerId?: string;
  /** Orthanc's id of the chosen series when `fetchSeries` put it there (STOW-RS with Orthanc). */
  orthancSeriesIdOf?(series: SeriesFacts): string | undefined;
}

export type InboundResult =
  | { kind: 'case'; caseId: string; series: SeriesFacts }
  | { kind: 'duplicate'; series: SeriesFacts }
  | { kind: 'skipped'; reason: string };

/**
 * 1. Route: skipped studies are recorded with the reason (administrators see them).
 * 2. A series already received → nothing new.
 * 3. The rule's model must exist (else skipped, saying so).
 * 4. Fetch the files into the case's incoming folder, then record the case and its key in one
 *    transaction (a concurrent arrival of the same series loses and its files are removed).
 * 5. Queue the job.
 */
export async function receiveInboundStudy(deps: InboundDeps, study: InboundStudy): Promise<InboundResult> {
  // 1. Route.
  const decision = routeStudy(study.facts, deps.routing);
  const skip = (reason: string): InboundResult => {
    recordSkippedStudy(deps.db, { source: study.source, orthancStudyId: study.orthancStudyId, reason });
    deps.log.info({ source: study.source, orthancStudyId: study.orthancStudyId, reason }, 'PACS study skipped');
    return { kind: 'skipped', reason };
  };
  if (decision.kind === 'skip') return skip(decision.reason);
  const { series, rule } = decision;

  // 2. Sent before?
  const studyKey = deps.studyKey(series.studyInstanceUid, series.seriesInstanceUid);
  if (hasPacsStudy(deps.db, studyKey)) {
    deps.log.info({ source: study.source, orthancStudyId: study.orthancStudyId }, 'PACS series already received; no new case');
    return { kind: 'duplicate', series };
  }

  // 3. Model.
  let model;
  try {
    model = await deps.findModel(rule.model ?? deps.config.defaultModel);
  } catch (error) {
    if (isHolocaseError(error) && error.code === 'MODEL_NOT_FOUND') return skip(`rule "${rule.name}" names a model this server does not have (${rule.model})`);
    throw error;
  }

  // 4. Files, then the rows.
  const caseId = newId();
  const layout = caseLayout(deps.config.dataDir, caseId);
  const ownerId = study.ownerId ?? (await deps.ownerId(rule.owner ?? deps.routing.owner));
  let recorded = false;
  try {
    const files = await study.fetchSeries(series, layout.incomingDir);
    const orthancSeriesId = study.orthancSeriesIdOf ? study.orthancSeriesIdOf(series) : series.orthancId;
    recorded = deps.db.transaction(() => {
      insertCase(deps.db, { id: caseId, ownerId, label: `PACS: ${rule.name}`, teamShared: deps.routing.shareWithTeam, model });
      if (insertPacsStudy(deps.db, { studyKey, caseId, source: study.source, orthancSeriesId, rule: rule.name })) return true;
      deleteCaseRow(deps.db, caseId);
      return false;
    })();
    if (!recorded) {
      await rm(layout.incomingDir, { recursive: true, force: true });
      return { kind: 'duplicate', series };
    }
    deps.log.info({ caseId, source: study.source, files, modelId: model.id, rule: rule.name }, 'PACS study received');
  } catch (error) {
    await rm(layout.incomingDir, { recursive: true, force: true });
    throw error;
  }

  // 5. Process it like an upload.
  await startCaseJob(deps, caseId, model);
  return { kind: 'case', caseId, series };
}
