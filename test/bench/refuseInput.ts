/**
 * One refusal measured in a process of its own (for `hardening.ts`): ingest `<input>` as a job would
 * (size limits, the rules model's memory plan against `<budget bytes>`), and print as JSON the outcome,
 * the time it took and the process's peak resident memory before and after.
 *
 *   node --import tsx test/bench/refuseInput.ts <input> <budgetBytes>
 */
import { isHolocaseError } from '../../server/errors.ts';
import { caseAdmission } from '../../server/pipeline/caseAdmission.ts';
import { loadModelBundle } from '../../server/segment/bundle.ts';
import { closeSharedDecodePool } from '../../server/volume/dicom/decodePool.ts';
import { ingest } from '../../server/volume/ingest.ts';
import { processPeakBytes } from '../../server/pipeline/stageMeter.ts';

const [input, budget] = process.argv.slice(2);
const model = await loadModelBundle('hu-anatomy');
const baselineRssMb = Math.round(processPeakBytes() / 1024 ** 2);
const started = performance.now();
let outcome: { code: string; message?: string; dims?: number[] };
try {
  const { volume } = await ingest(input!, { admit: caseAdmission(model, { memoryBudgetBytes: Number(budget) }) });
  outcome = { code: 'READ', dims: volume.dims };
} catch (error) {
  if (!isHolocaseError(error)) throw error;
  outcome = { code: error.code, message: error.message };
}
const ms = Math.round(performance.now() - started);
await closeSharedDecodePool();
console.log(JSON.stringify({ ...outcome, ms, baselineRssMb, peakRssMb: Math.round(processPeakBytes() / 1024 ** 2) }));
