/**
 * `holocase evaluate <pred.nii.gz> <ref.nii.gz> (--pred-model <id> | --pred-labels <table.json>) --ref-labels <table.json>`:
 * Dice, IoU, HD95 and volumes per structure (matched by name) and per tissue group.
 */
import { access } from 'node:fs/promises';
import type { LabelMap } from '../../mesh/grid.ts';
import { labelMapFromVolume } from '../mesh/labelMapFromVolume.ts';
import { evaluateLabelMaps, parseLabelTable, readLabelTable, type EvaluationReport, type LabelTable } from '../segment/evaluate.ts';
import { loadModelBundle } from '../segment/segment.ts';
import { readNifti } from '../volume/nifti.ts';
import { parseCommandArgs } from './args.ts';
import { UsageError } from './main.ts';
import { sidecarPath } from './segment.ts';

const HELP = `usage: holocase evaluate <pred.nii.gz> <ref.nii.gz> (--pred-model <id> | --pred-labels <table.json>) --ref-labels <table.json> [--json]

Compares a predicted label map with a reference on the same grid. Structures are matched by name,
then by tissue group (bone, vessel, organ, muscle, airway, other) through the anatomy catalogue.
Reports Dice, IoU, HD95 (mm; 95th percentile of the symmetric surface distances) and volumes (mL).

options:
      --pred-model <id>      the prediction's label table is this model's
      --pred-labels <json>   the prediction's label table ({"1": "bone", …}); default: the sidecar
                             <pred>.json that \`holocase segment\` writes, when it exists
      --ref-labels <json>    the reference's label table (e.g. TotalSegmentator's classes_total_v2.json)
      --json                 print the report as JSON
  -h, --help                 this help`;

async function readLabelMap(file: string): Promise<LabelMap> {
  return labelMapFromVolume(await readNifti(file), file);
}

function fmt(value: number | null, digits: number, width: number): string {
  return (value === null ? '—' : value.toFixed(digits)).padStart(width);
}

export function formatReport(report: EvaluationReport): string {
  const lines: string[] = [];
  const header = `${'Dice'.padStart(7)}${'IoU'.padStart(7)}${'HD95 mm'.padStart(9)}${'pred mL'.padStart(10)}${'ref mL'.padStart(10)}`;
  lines.push(`grid ${report.grid.dims.join('×')}, ${report.grid.spacingMm.join('×')} mm`);
  for (const match of ['name', 'parts'] as const) {
    const rows = report.structures.filter((s) => s.match === match);
    if (rows.length === 0) continue;
    lines.push('', `${match === 'name' ? 'structure (matched by name)' : 'structure (matched with its parts)'.padEnd(34)}`.padEnd(34) + header);
    for (const s of rows) {
      lines.push(`${`${s.displayName} [${s.group}]`.padEnd(34)}${fmt(s.dice, 3, 7)}${fmt(s.iou, 3, 7)}${fmt(s.hd95Mm, 2, 9)}${fmt(s.predMl, 1, 10)}${fmt(s.refMl, 1, 10)}`);
      if (s.parts) lines.push(`  = ${s.parts.length > 8 ? `${s.parts.slice(0, 8).join(', ')} … (${s.parts.length})` : s.parts.join(', ')}`);
    }
  }
  lines.push('', `${'tissue group'.padEnd(34)}${header}`);
  for (const g of report.groups) {
    lines.push(`${g.group.padEnd(34)}${fmt(g.dice, 3, 7)}${fmt(g.iou, 3, 7)}${fmt(g.hd95Mm, 2, 9)}${fmt(g.predMl, 1, 10)}${fmt(g.refMl, 1, 10)}`);
    lines.push(`  pred: ${g.predStructures.join(', ') || '—'}`);
    lines.push(`  ref:  ${g.refStructures.length > 8 ? `${g.refStructures.slice(0, 8).join(', ')} … (${g.refStructures.length})` : g.refStructures.join(', ') || '—'}`);
  }
  if (report.unknownNames.length > 0) lines.push('', `names not in the anatomy catalogue (group guessed): ${report.unknownNames.join(', ')}`);
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(
    argv,
    {
      'pred-model': { type: 'string' },
      'pred-labels': { type: 'string' },
      'ref-labels': { type: 'string' },
      json: { type: 'boolean' },
    },
    HELP,
    { min: 2, max: 2 },
  );
  if (!args) return 0;
  const { values, positionals } = args;
  const [predPath, refPath] = positionals;
  if (values['pred-model'] && values['pred-labels']) throw new UsageError(`give --pred-model or --pred-labels, not both\n\n${HELP}`);
  if (!values['ref-labels']) throw new UsageError(`--ref-labels is required\n\n${HELP}`);
  let predTable: LabelTable;
  if (values['pred-model']) {
    const bundle = await loadModelBundle(values['pred-model']);
    predTable = parseLabelTable(bundle.manifest.output.labels, `model ${bundle.id}`);
  } else {
    const tablePath = values['pred-labels'] ?? sidecarPath(predPath);
    if (!values['pred-labels'] && !(await access(tablePath).then(() => true, () => false))) {
      throw new UsageError(`no label table for ${predPath}: give --pred-model <id> or --pred-labels <table.json>`);
    }
    predTable = await readLabelTable(tablePath);
  }
  const refTable = await readLabelTable(values['ref-labels']);
  const [pred, ref] = await Promise.all([readLabelMap(predPath), readLabelMap(refPath)]);
  const report = evaluateLabelMaps(pred, predTable, ref, refTable);
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return 0;
}
