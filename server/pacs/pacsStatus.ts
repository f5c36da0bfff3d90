/**
 * What administrators see of the PACS connection (`GET /api/admin/pacs`): the Orthanc it follows (URL
 * without credentials) and the feed's state, the routing rules, studies received (case, rule, whether
 * the SEG went back) and studies skipped with the reason. Nothing in it identifies a patient.
 */
import { HolocaseError } from '../errors.ts';
import type { User } from '../auth/users.ts';
import type { Database } from '../store/database.ts';
import { listPacsStudies, listSkippedStudies } from '../store/pacsStudies.ts';
import type { PacsService } from './pacsService.ts';

export function pacsStatus(db: Database, pacs: PacsService, user: User) {
  if (!user.isAdmin) throw new HolocaseError('FORBIDDEN', 'only administrators see the PACS connection');
  const feed = pacs.feedState();
  return {
    orthanc: pacs.settings.orthanc ? { url: pacs.settings.orthanc.url, pollSeconds: pacs.settings.orthanc.pollSeconds, feed: feed ?? null } : null,
    routing: {
      owner: pacs.settings.routing.owner,
      shareWithTeam: pacs.settings.routing.shareWithTeam,
      rules: pacs.settings.routing.rules.map((r) => ({ name: r.name, model: r.model ?? null, owner: r.owner ?? null })),
    },
    received: listPacsStudies(db).map((s) => ({
      caseId: s.caseId,
      source: s.source,
      rule: s.rule,
      receivedAt: new Date(s.receivedAt).toISOString(),
      seg: { status: s.segStatus, sentAt: s.segSentAt ? new Date(s.segSentAt).toISOString() : null, orthancInstanceId: s.segInstanceId, error: s.segError },
    })),
    skipped: listSkippedStudies(db).map((s) => ({ id: s.id, source: s.source, orthancStudyId: s.orthancStudyId, reason: s.reason, receivedAt: new Date(s.receivedAt).toISOString() })),
  };
}

export type PacsStatusView = ReturnType<typeof pacsStatus>;
