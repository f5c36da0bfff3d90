/**
 * `holocase dataset export -o DIR [--model ID] [--validated-only] [--data DIR]`: the clinician-validated
 * cases of a data folder as an nnU-Net v2 raw dataset plus a MONAI datalist (`server/edit/datasetExport.ts`).
 */
import { loadConfig } from '../config.ts';
import { exportDataset } from '../edit/datasetExport.ts';
import { openDatabase } from '../store/database.ts';
import { parseCommandArgs } from './args.ts';
import { UsageError } from './main.ts';

const HELP = `usage: holocase dataset export -o <dir> [--model <id>] [--validated-only] [--data <dir>]

Writes the cases in which clinicians validated structures as an nnU-Net v2 raw dataset
(imagesTr/<case>_0000.nii.gz, labelsTr/<case>.nii.gz, dataset.json) and a MONAI datalist
(datalist.json). Labels are numbered 1…K by structure name; voxels of structures not validated in a
case get nnU-Net's "ignore" label (K+1). Only de-identified CTs leave; cases are named by their ids.

options:
  -o, --out <dir>       output folder (new or empty; required)
      --model <id>      only cases segmented by this model
      --validated-only  only cases in which every structure is validated
      --name <name>     dataset name in dataset.json (default holocase_validated)
      --data <dir>      data folder (HOLOCASE_DATA; default ./data)
      --json            print the result as JSON
  -h, --help            this help`;

export async function run(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === '--help' || verb === '-h') {
    console.log(HELP);
    return 0;
  }
  if (verb !== 'export') throw new UsageError(`unknown dataset command "${verb ?? ''}"\n\n${HELP}`);
  const args = parseCommandArgs(
    rest,
    { out: { type: 'string', short: 'o' }, model: { type: 'string' }, 'validated-only': { type: 'boolean' }, name: { type: 'string' }, data: { type: 'string' }, json: { type: 'boolean' } },
    HELP,
  );
  if (!args) return 0;
  const { values } = args;
  if (!values.out) throw new UsageError(`-o/--out is required\n\n${HELP}`);
  if (values.name !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(values.name)) throw new UsageError(`--name takes letters, digits, _ and - (got "${values.name}")`);
  const db = openDatabase(loadConfig({ dataDir: values.data }).dataDir);
  try {
    const result = await exportDataset(db, loadConfig({ dataDir: values.data }).dataDir, {
      outDir: values.out,
      modelId: values.model,
      validatedOnly: values['validated-only'],
      name: values.name,
      onCase: (id, i, total) => values.json || console.error(`case ${i + 1} of ${total}: ${id}`),
    });
    if (values.json) console.log(JSON.stringify({ output: values.out, ...result }, null, 2));
    else {
      console.log(`${values.out}: ${result.cases.length} case(s), ${Object.keys(result.labels).length - 2} structure label(s), ignore = ${result.ignoreLabel}`);
      for (const s of result.skipped) console.log(`  left out ${s.caseId}: ${s.reason}`);
    }
    return 0;
  } finally {
    db.close();
  }
}
