/**
 * `POST /api/cases`: receive the upload into the case's private incoming folder, check the model,
 * create the case row and queue its job; the caller answers 202 at once.
 */
import { rm } from 'node:fs/promises';
import type { User } from '../auth/users.ts';
import { parseFlag } from '../config.ts';
import { caseLayout, newId } from '../store/caseFolders.ts';
import { insertCase } from '../store/cases.ts';
import { startCaseJob } from '../jobs/caseLifecycle.ts';
import { receiveUpload } from './receiveUpload.ts';
import type { Runtime } from './runtime.ts';

export interface AcceptedUpload {
  id: string;
  eventsUrl: string;
  files: number;
  ignored: number;
}

/** A label is what the uploader typed: trimmed, one line, at most 200 characters. */
export function cleanLabel(label: string | undefined): string {
  return (label ?? '').replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, 200);
}

export async function acceptCaseUpload(rt: Runtime, user: User, request: Request): Promise<AcceptedUpload> {
  const id = newId();
  const layout = caseLayout(rt.config.dataDir, id);
  const upload = await receiveUpload(request, { dir: layout.incomingDir, maxBytes: rt.config.maxUploadBytes, idleMs: rt.config.uploadIdleSeconds * 1000 });
  try {
    const model = await rt.findModel(upload.fields.model || rt.config.defaultModel);
    insertCase(rt.db, { id, ownerId: user.id, label: cleanLabel(upload.fields.label), teamShared: parseFlag(upload.fields.teamShared), model });
    rt.log.info({ caseId: id, userId: user.id, files: upload.files, ignored: upload.ignored, bytes: upload.bytes }, 'upload received');
    await startCaseJob(rt, id, model);
    return { id, eventsUrl: `/api/cases/${id}/events`, files: upload.files, ignored: upload.ignored };
  } catch (error) {
    await rm(layout.incomingDir, { recursive: true, force: true });
    throw error;
  }
}
