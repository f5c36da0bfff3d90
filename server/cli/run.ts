/**
 * `holocase run <ct> --model <id> -o <dir>`: ingest → segment → mesh into a case folder
 * (`ct.nii.gz`, `labels.nii.gz`, `case.glb`, `case-xr.glb`, `report.json`), with progress on the terminal.
 */
import { loadConfig } from '../config.ts';
import { runCase } from '../pipeline/runCase.ts';
import { describeStage } from '../pipeline/stageMeter.ts';
import { PROVIDER_REQUESTS } from '../segment/providers.ts';
import type { Progress } from '../pipeline/context.ts';
import { parseCommandArgs, parseNumberOption } from './args.ts';
import { UsageError } from './main.ts';

const HELP = `usage: holocase run <ct> --model <id> -o <dir> [--label TEXT] [--provider auto|cpu|cuda|tensorrt]
                    [--max-triangles N] [--error-mm X] [--uncompressed] [--json]

  <ct>              a DICOM folder, zip or file, or a NIfTI (.nii / .nii.gz)
  --model <id>      model bundle in models/ (default hu-anatomy, the built-in rules model)
  -o, --out <dir>   output folder: ct.nii.gz (de-identified), labels.nii.gz, case.glb (desktop),
                    case-xr.glb (headsets), report.json
  --label TEXT      a name for the case (never taken from the DICOM header)
  --provider P      ONNX Runtime execution provider (default auto: CUDA when installed, else CPU)
  --max-triangles N triangle budget for the whole case (default 500000)
  --error-mm X      simplification error budget per structure in mm (default 0.5)
  --uncompressed    write the GLB without meshopt compression
  --json            print report.json instead of the summary`;

const OPTIONS = {
  model: { type: 'string', default: 'hu-anatomy' },
  out: { type: 'string', short: 'o' },
  label: { type: 'string' },
  provider: { type: 'string' },
  'max-triangles': { type: 'string' },
  'error-mm': { type: 'string' },
  uncompressed: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** One line per stage change, rewritten in place on a terminal. */
function terminalProgress(): (p: Progress) => void {
  let last = '';
  return (p) => {
    const line = `${p.stage.padEnd(8)} ${String(Math.round(p.fraction * 100)).padStart(3)}%  ${p.message ?? ''}`;
    if (line === last) return;
    last = line;
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
    else if (p.fraction === 0 || p.fraction === 1) process.stderr.write(`${line}\n`);
  };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, OPTIONS, HELP, { min: 1, max: 1 });
  if (!args) return 0;
  const v = args.values;
  if (!v.out) throw new UsageError(`-o <dir> is required\n\n${HELP}`);
  const provider = v.provider === undefined ? undefined : PROVIDER_REQUESTS.find((p) => p === v.provider);
  if (v.provider !== undefined && !provider) throw new UsageError(`--provider is one of ${PROVIDER_REQUESTS.join(', ')}`);

  const config = loadConfig();
  const report = await runCase(args.positionals[0], v.out, {
    modelId: v.model ?? 'hu-anatomy',
    limits: config.volumeLimits,
    memoryBudgetBytes: config.jobMemoryBytes,
    label: v.label,
    provider,
    mesh: {
      maxTriangles: parseNumberOption(v['max-triangles'], '--max-triangles', 'a positive number', (n) => n > 0),
      errorMm: parseNumberOption(v['error-mm'], '--error-mm', 'a positive number', (n) => n > 0),
      compress: !v.uncompressed,
    },
    onProgress: v.json ? undefined : terminalProgress(),
    log: (line) => process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}${line}\n`),
  });
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  if (v.json) {
    console.log(JSON.stringify(report, null, 2));
    return 0;
  }
  console.log(`${report.input.format} ${report.input.dims.join('×')} at ${report.input.spacingMm.join('×')} mm (${report.input.orientation}) → ${report.model.id}`);
  for (const s of report.structures) {
    console.log(`  ${s.displayName.padEnd(34)} ${s.group.padEnd(7)} ${String(s.triangles).padStart(7)} tris  ${s.meshVolumeMl.toFixed(1).padStart(8)} mL mesh  ${s.voxelVolumeMl.toFixed(1).padStart(8)} mL voxels`);
  }
  console.log(`${report.structures.length} structures, ${report.glb.triangles} triangles, GLB ${(report.glb.bytes / 1024 ** 2).toFixed(2)} MB`);
  console.log(`headset level: ${report.glb.xr.triangles} triangles, GLB ${(report.glb.xr.bytes / 1024 ** 2).toFixed(2)} MB`);
  for (const stage of report.stages) console.log(describeStage(stage));
  console.log(`total ${(report.timings.totalMs / 1000).toFixed(1)} s, peak memory ${report.peakRssMb} MB`);
  for (const note of report.segmentation.notes) console.log(`note: ${note}`);
  for (const warning of report.warnings) console.log(`warning: ${warning}`);
  console.log(`wrote ${v.out}/{ct.nii.gz,labels.nii.gz,case.glb,case-xr.glb,report.json} (and, for the server's slice views and corrections, ct-chunks.* and meshes*.bin)`);
  return 0;
}
