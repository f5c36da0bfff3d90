/**
 * `holocase segment <ct> --model <id> -o labels.nii.gz`: segments a CT (DICOM file/folder/zip or
 * NIfTI) with a model bundle and writes the label map plus a sidecar label table (`labels.json` beside
 * `labels.nii.gz`: `{"1": "skin", …}`, the same format as TotalSegmentator's class files).
 */
import { describeStructure } from '../../models/anatomy.ts';
import { orientationCodes, spacingOf, voxelVolumeMm3 } from '../../mesh/grid.ts';
import { loadConfig } from '../config.ts';
import { HolocaseError } from '../errors.ts';
import { caseAdmission } from '../pipeline/caseAdmission.ts';
import { modelInfo } from '../jobs/modelCatalog.ts';
import { labelEntries } from '../segment/manifest.ts';
import { PROVIDER_REQUESTS } from '../segment/providers.ts';
import { listModelBundles, loadModelBundle, segment } from '../segment/segment.ts';
import { ingest } from '../volume/ingest.ts';
import { writeNifti } from '../volume/nifti.ts';
import { writeFileAtomically } from '../writeFileAtomically.ts';
import { parseCommandArgs, parseNumberOption } from './args.ts';
import { UsageError } from './main.ts';

const HELP = `usage: holocase segment <ct> --model <id> -o <labels.nii.gz> [options]

Segments a CT (a DICOM file, folder or zip, or a .nii/.nii.gz) with a model bundle from models/.
Writes the label map (on the CT's grid) and a label table beside it (<labels>.json: {"1": "skin", …}).

options:
  -m, --model <id>        model bundle id (default hu-anatomy; --list shows them)
  -o, --out <path>        output label map, .nii.gz or .nii (required)
      --provider <name>   execution provider: ${PROVIDER_REQUESTS.join(', ')} (default: HOLOCASE_PROVIDER or auto)
      --overlap <0..0.95> override the model's sliding-window overlap
      --threads <n>       CPU threads per ONNX operator
      --list              list the installed models and sets (licence, structures, limits) and exit
      --json              print the result as JSON
  -h, --help              this help`;

/** `labels.nii.gz` → `labels.json`. */
export function sidecarPath(out: string): string {
  return `${out.replace(/\.nii(\.gz)?$/i, '')}.json`;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(
    argv,
    {
      model: { type: 'string', short: 'm' },
      out: { type: 'string', short: 'o' },
      provider: { type: 'string' },
      overlap: { type: 'string' },
      threads: { type: 'string' },
      list: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    HELP,
    { min: 0, max: 1 },
  );
  if (!args) return 0;
  const { values, positionals } = args;
  if (values.list) {
    const invalid: { id: string; problem: string }[] = [];
    const models = (await listModelBundles({ onInvalid: (id, error) => invalid.push({ id, problem: error.message }) })).map(modelInfo);
    if (values.json) {
      console.log(JSON.stringify({ models, invalid }, null, 2));
      return 0;
    }
    for (const m of models) {
      const names = m.classes.map((c) => c.name);
      console.log(`${m.id.padEnd(24)} ${m.modality}  ${m.engine.padEnd(5)}  ${m.name} (${m.version})`);
      if (m.members) console.log(`    ${m.members.length} networks, run in this order: ${m.members.join(', ')}`);
      console.log(`    licence: ${m.license}`);
      console.log(`    ${names.length} structure(s): ${names.length > 16 ? `${names.slice(0, 16).join(', ')}, … (all: --json)` : names.join(', ')}`);
      console.log(`    limits: ${m.limits}`);
    }
    for (const { id, problem } of invalid) console.error(`warning: model "${id}" is left out: ${problem}`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`give the CT to segment\n\n${HELP}`);
  if (!values.out) throw new UsageError(`-o/--out is required\n\n${HELP}`);
  if (!/\.nii(\.gz)?$/i.test(values.out)) throw new UsageError(`--out must end in .nii.gz or .nii (got "${values.out}")`);
  const overlap = parseNumberOption(values.overlap, '--overlap', 'a number from 0 to 0.95', (n) => n >= 0 && n <= 0.95);
  const threads = parseNumberOption(values.threads, '--threads', 'a whole number ≥ 1', (n) => Number.isInteger(n) && n >= 1);

  const quiet = Boolean(values.json);
  let lastProgress = -1;
  const context = {
    log: (message: string) => console.error(message),
    onProgress: ({ fraction, message }: { fraction: number; message?: string }) => {
      const percent = Math.floor(fraction * 100);
      if (quiet || percent < lastProgress + 10) return;
      lastProgress = percent;
      console.error(`segment: ${percent}%${message ? ` ${message}` : ''}`);
    },
  };
  // 1. Model first: a wrong id should not wait for a large CT to load.
  const model = await loadModelBundle(values.model ?? 'hu-anatomy');
  // Size, memory and modality are checked from the headers, before the CT is read.
  const config = loadConfig();
  const admit = caseAdmission(model, { ...context, memoryBudgetBytes: config.jobMemoryBytes });
  const { volume, report } = await ingest(positionals[0], { limits: config.volumeLimits, admit });
  for (const warning of report.warnings) console.error(`warning: ${warning}`);
  // 2. Segment, then write the label map and its table.
  const result = await segment(volume, model, { ...context, provider: values.provider, overlap, threads });
  if (result.labels.dims.some((d, a) => d !== volume.dims[a])) throw new HolocaseError('LABELS_INVALID', 'internal: label map grid differs from the CT');
  await writeNifti(result.labels, values.out, `holocase ${model.id} ${model.manifest.version}`);
  const table = Object.fromEntries(labelEntries(model.manifest).map((e) => [String(e.label), e.name]));
  const sidecar = sidecarPath(values.out);
  await writeFileAtomically(sidecar, `${JSON.stringify(table, null, 2)}\n`);

  const voxelMl = voxelVolumeMm3(volume.affine) / 1000;
  const counts = new Map<number, number>();
  for (const v of result.labels.data) if (v) counts.set(v, (counts.get(v) ?? 0) + 1);
  const structures = result.structures.map((s) => {
    const d = describeStructure(s.name);
    return { label: s.label, name: s.name, displayName: d.displayName, group: d.group, voxels: counts.get(s.label) ?? 0, volumeMl: Math.round((counts.get(s.label) ?? 0) * voxelMl * 10) / 10 };
  });
  const summary = {
    output: values.out,
    labelTable: sidecar,
    model: { id: model.id, name: model.manifest.name, version: model.manifest.version },
    input: { format: report.format, dims: volume.dims, spacingMm: spacingOf(volume.affine).map((s) => Math.round(s * 1000) / 1000), orientation: orientationCodes(volume.affine), modality: volume.meta.modality ?? null },
    provider: result.provider,
    structures,
    notes: result.notes,
    timings: result.timings,
  };
  if (values.json) {
    console.log(JSON.stringify(summary, null, 2));
    return 0;
  }
  console.log(`${values.out}: ${structures.length} structure(s) by ${model.id} ${model.manifest.version} on ${result.provider} in ${(result.timings.totalMs / 1000).toFixed(1)} s`);
  for (const s of structures) console.log(`  ${String(s.label).padStart(3)}  ${s.displayName.padEnd(32)} ${s.group.padEnd(7)} ${s.volumeMl.toFixed(1).padStart(9)} mL`);
  for (const note of result.notes) console.log(`note: ${note}`);
  console.log(`label table: ${sidecar}`);
  return 0;
}
