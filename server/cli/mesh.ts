/**
 * `holocase mesh <labels.nii.gz> (--model <id> | --labels <table.json>) -o case.glb`: turns a label map
 * into the case's glTF hologram (and STL files for printing), printing per structure its triangles,
 * mesh volume and voxel volume, then totals and the file size.
 */
import path from 'node:path';
import { readLabelTable } from '../mesh/labelTable.ts';
import { labelMapFromVolume } from '../mesh/labelMapFromVolume.ts';
import { writeMergedStl, writeStlFiles } from '../mesh/meshFiles.ts';
import { writeFileAtomically } from '../writeFileAtomically.ts';
import { meshLabelMap, type MeshLabelMapResult } from '../mesh/meshLabelMap.ts';
import { structureSpecs } from '../mesh/structureSpecs.ts';
import type { Progress } from '../pipeline/context.ts';
import { loadModelBundle } from '../segment/bundle.ts';
import { labelEntries } from '../segment/manifest.ts';
import { readNifti } from '../volume/nifti.ts';
import { parseCommandArgs, parseNumberOption } from './args.ts';
import { UsageError } from './main.ts';

const HELP = `usage: holocase mesh <labels.nii.gz> (--model <id> | --labels <table.json>) -o <case.glb>
                     [--xr FILE] [--stl DIR] [--stl-merged FILE] [--uncompressed] [--max-triangles N]
                     [--xr-max-triangles N] [--error-mm X] [--workers N] [--json]

Turns a label map (NIfTI) into a glTF hologram: one smooth, closed, coloured mesh per structure,
life size in metres, centred on the body, meshopt-compressed. Prints per structure its triangles,
the volume the mesh encloses and the segmented (voxel) volume in mL, then totals and the file size.
The hologram comes in two levels of detail: the desktop's (-o) and a lighter one for headsets (--xr).

  --model <id>          take the label table of a model bundle in models/ (e.g. hu-anatomy)
  --labels <file>       label table as JSON: {"1": "spleen", "2": "kidney_right", ...}
  -o, --out <file>      the GLB to write (desktop level of detail)
  --xr <file>           also write the headset level of detail (mobile GPU budget)
  --stl <dir>           also write one binary STL per structure (millimetres, LPS) into DIR
  --stl-merged <file>   also write all structures into one binary STL (millimetres, LPS)
  --uncompressed        plain float32 GLB (no quantisation, no meshopt compression)
  --max-triangles N     triangle budget for the whole case (default 500000)
  --xr-max-triangles N  triangle budget of the headset level (default 300000)
  --error-mm X          simplification error budget per structure in mm (default 0.5, at most
                        0.4 voxel on fine grids; the headset level simplifies to 0.5 mm)
  --workers N           worker threads (default: one per CPU core; 0 = this thread)
  --json                print the result as JSON`;

const OPTIONS = {
  model: { type: 'string' },
  labels: { type: 'string' },
  out: { type: 'string', short: 'o' },
  xr: { type: 'string' },
  stl: { type: 'string' },
  'stl-merged': { type: 'string' },
  uncompressed: { type: 'boolean' },
  'max-triangles': { type: 'string' },
  'xr-max-triangles': { type: 'string' },
  'error-mm': { type: 'string' },
  workers: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** What `--json` prints. */
export interface MeshCommandResult {
  output: string;
  bytes: number;
  compressed: boolean;
  centerLpsMm: [number, number, number];
  triangles: number;
  structures: MeshLabelMapResult['structures'];
  /** The headset level of detail (`output` when written with --xr). */
  xr: { output?: string; bytes: number; triangles: number };
  totals: { structures: number; meshVolumeMl: number; voxelVolumeMl: number };
  /** STL files written: per structure (in `dir`) and/or one merged file. */
  stl: { dir?: string; files: string[]; merged?: string };
  workers: number;
  timings: MeshLabelMapResult['timings'];
  warnings: string[];
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB` : `${(bytes / 1024).toFixed(1)} kB`;
}

/** Lines for a person: a table per structure, totals, file size. */
export function formatMeshResult(r: MeshCommandResult): string {
  const nameWidth = Math.max(9, ...r.structures.map((s) => s.displayName.length));
  const row = (name: string, tris: string, mesh: string, voxels: string) =>
    `${name.padEnd(nameWidth)}  ${tris.padStart(9)}  ${mesh.padStart(10)}  ${voxels.padStart(10)}`;
  const lines = [row('structure', 'triangles', 'mesh mL', 'voxel mL')];
  for (const s of r.structures) lines.push(row(s.displayName, String(s.triangles), s.meshVolumeMl.toFixed(1), s.voxelVolumeMl.toFixed(1)));
  lines.push(row(`total (${r.totals.structures})`, String(r.triangles), r.totals.meshVolumeMl.toFixed(1), r.totals.voxelVolumeMl.toFixed(1)));
  lines.push(
    `${r.output}: ${formatSize(r.bytes)} (${r.compressed ? 'quantised, meshopt-compressed' : 'uncompressed'}), ${r.triangles} triangles, ` +
      `centre ${r.centerLpsMm.map((v) => v.toFixed(1)).join(', ')} mm LPS, ${(r.timings.totalMs / 1000).toFixed(2)} s on ${r.workers || 'no'} worker thread${r.workers === 1 ? '' : 's'}`,
  );
  lines.push(`${r.xr.output ?? 'headset level'}: ${formatSize(r.xr.bytes)}, ${r.xr.triangles} triangles${r.xr.output ? '' : ' (not written; --xr FILE writes it)'}`);
  if (r.stl.dir) lines.push(`STL: ${r.stl.files.length} files (one per structure, mm, LPS) in ${r.stl.dir}`);
  if (r.stl.merged) lines.push(`STL: ${r.stl.merged} (all ${r.totals.structures} structures, mm, LPS)`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

function terminalProgress(): ((p: Progress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (p) => process.stderr.write(`\r\x1b[Kmesh ${String(Math.round(p.fraction * 100)).padStart(3)}%  ${p.message ?? ''}`);
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, OPTIONS, HELP, { min: 1, max: 1 });
  if (!args) return 0;
  const v = args.values;
  if (!v.out) throw new UsageError(`-o <case.glb> is required\n\n${HELP}`);
  if ((v.model === undefined) === (v.labels === undefined)) throw new UsageError(`give either --model <id> or --labels <table.json>\n\n${HELP}`);
  const maxTriangles = parseNumberOption(v['max-triangles'], '--max-triangles', 'a whole number', (n) => Number.isInteger(n) && n > 0);
  const xrMaxTriangles = parseNumberOption(v['xr-max-triangles'], '--xr-max-triangles', 'a whole number', (n) => Number.isInteger(n) && n > 0);
  const errorMm = parseNumberOption(v['error-mm'], '--error-mm', 'a positive number', (n) => n > 0);
  const workers = parseNumberOption(v.workers, '--workers', 'a whole number ≥ 0', (n) => Number.isInteger(n) && n >= 0);

  // Label table, then label map.
  const table = v.labels !== undefined ? await readLabelTable(v.labels) : labelEntries((await loadModelBundle(v.model!)).manifest);
  const input = args.positionals[0];
  const labels = labelMapFromVolume(await readNifti(input), `label map ${path.basename(input)}`);

  const progress = v.json ? undefined : terminalProgress();
  const result = await meshLabelMap(labels, structureSpecs(table), {
    maxTriangles,
    xrMaxTriangles,
    errorMm,
    workers,
    compress: !v.uncompressed,
    onProgress: progress,
  });
  if (progress) process.stderr.write('\r\x1b[K');

  await writeFileAtomically(v.out, result.glb);
  if (v.xr !== undefined) await writeFileAtomically(v.xr, result.xr.glb);
  const stl: MeshCommandResult['stl'] = { files: [] };
  if (v.stl !== undefined) {
    stl.dir = v.stl;
    stl.files = await writeStlFiles(result.meshes, v.stl);
  }
  if (v['stl-merged'] !== undefined) {
    await writeMergedStl(result.meshes, v['stl-merged']);
    stl.merged = v['stl-merged'];
  }
  const summary: MeshCommandResult = {
    output: v.out,
    bytes: result.glb.byteLength,
    compressed: !v.uncompressed,
    centerLpsMm: result.centerLpsMm,
    triangles: result.triangles,
    structures: result.structures,
    xr: { ...(v.xr !== undefined ? { output: v.xr } : {}), bytes: result.xr.glb.byteLength, triangles: result.xr.triangles },
    totals: {
      structures: result.structures.length,
      meshVolumeMl: Math.round(result.structures.reduce((s, x) => s + x.meshVolumeMl, 0) * 1000) / 1000,
      voxelVolumeMl: Math.round(result.structures.reduce((s, x) => s + x.voxelVolumeMl, 0) * 1000) / 1000,
    },
    stl,
    workers: result.workers,
    timings: result.timings,
    warnings: result.warnings,
  };
  console.log(v.json ? JSON.stringify(summary, null, 2) : formatMeshResult(summary));
  return 0;
}
