/**
 * `POST /api/cases/:id/grow`, `/islands` and `/fill-between`: a box of the CT grid and a label map over
 * it in (multipart: `meta` JSON + gzip uint16 part), the result over the same box out (gzip uint16,
 * `Content-Type: application/octet-stream`, stats as JSON in `X-Holocase-Edit`). Edit rights needed;
 * nothing is stored. docs/editing-api.md describes the bodies.
 */
import { z } from 'zod';
import { caseForUser } from '../auth/caseAccess.ts';
import { caseGridDims, caseGridSpacing, caseCtFile } from '../edit/caseGrid.ts';
import { boxVoxels, type Box, type EditRequest } from '../edit/editService.ts';
import { deflateLabels, inflateLabels } from '../edit/labelPayload.ts';
import { apiRoute } from './apiRoute.ts';
import { readEditForm } from './editForm.ts';

const BoxSchema = z.tuple([z.number().int(), z.number().int(), z.number().int(), z.number().int(), z.number().int(), z.number().int()]);
const Label = z.number().int().min(1).max(65535);

const GrowMeta = z.object({ box: BoxSchema, huRange: z.tuple([z.number(), z.number()]).refine(([lo, hi]) => lo < hi, 'huRange needs lo < hi').optional() });
const IslandsMeta = z.object({ box: BoxSchema, label: Label, mode: z.enum(['keep-largest', 'remove-small']), minVoxels: z.number().int().min(1).optional() });
const FillMeta = z.object({ box: BoxSchema, label: Label, axis: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(2) });

type Operation = 'grow' | 'islands' | 'fill-between';

/**
 * 1. Edit rights; read the form (the label part at most the box's raw size + slack, gzip'ed).
 * 2. Check the box against the CT grid; inflate the labels to exactly the box's size.
 * 3. Run the operation in the edit worker; answer the result.
 */
function editOperationRoute(op: Operation) {
  const schema = op === 'grow' ? GrowMeta : op === 'islands' ? IslandsMeta : FillMeta;
  const part = op === 'grow' ? 'seeds' : 'labels';
  return apiRoute<{ id: string }>({ auth: 'user' }, async ({ request, rt, user, params }) => {
    const c = caseForUser(rt.db, user!, params.id, 'edit');
    const { meta, data } = await readEditForm(request, { meta: schema, part, maxBytes: rt.config.maxUploadBytes });
    const dims = await caseGridDims(rt.config.dataDir, c.id);
    const box = meta.box as Box;
    const count = boxVoxels(box, dims);
    const labels = await inflateLabels(data, count, `the "${part}" part`);
    const base = { box, labels: labels.buffer as ArrayBuffer };
    let job: EditRequest;
    if (op === 'grow') {
      const m = meta as z.infer<typeof GrowMeta>;
      job = { op, ...base, ctFile: caseCtFile(rt.config.dataDir, c.id), ...(m.huRange ? { huRange: m.huRange } : {}) };
    } else if (op === 'islands') {
      const m = meta as z.infer<typeof IslandsMeta>;
      job = { op, ...base, label: m.label, mode: m.mode, ...(m.minVoxels ? { minVoxels: m.minVoxels } : {}) };
    } else {
      const m = meta as z.infer<typeof FillMeta>;
      job = { op, ...base, label: m.label, axis: m.axis, spacing: await caseGridSpacing(rt.config.dataDir, c.id) };
    }
    const result = await rt.editing.run(job);
    return new Response(new Uint8Array(await deflateLabels(result.labels)), {
      status: 200,
      headers: { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-store', 'X-Holocase-Edit': JSON.stringify(result.stats) },
    });
  });
}

export const growRoute = editOperationRoute('grow');
export const islandsRoute = editOperationRoute('islands');
export const fillBetweenRoute = editOperationRoute('fill-between');
