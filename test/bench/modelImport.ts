/**
 * Checkpoint-to-bundle time (`holocase model import`) for every nnU-Net fixture model
 * (`../shared/fixtures/nnunet/index.json`, plus the release-style zip), medians of several runs, with
 * the peers measured in the same run (each measurement after one uncounted warm-up run):
 * - reading the checkpoint's bytes and hashing them (sha256): the I/O floor any import pays;
 * - the same network encoded in memory (`encodeOnnxModel`) instead of streamed to disk tensor by tensor.
 * Memory: each import in a child process, its peak RSS above the same process before the import (the
 * modules loaded), against the checkpoint's size: streaming keeps it near one tensor, not the network.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { importNnUnetModel, sha256File } from '../../server/segment/nnunet/importModel.ts';
import { readNnUnetRecipe } from '../../server/segment/nnunet/plans.ts';
import { networkWeights } from '../../server/segment/nnunet/stateDict.ts';
import { openTorchCheckpoint } from '../../server/segment/nnunet/torchCheckpoint.ts';
import { buildUNetOnnx, encodeOnnxModel } from '../../server/segment/nnunet/unetOnnx.ts';
import { median } from './median.ts';
import { processPeakBytes } from '../../server/pipeline/stageMeter.ts';

const NNUNET = resolve(import.meta.dirname, '../../../shared/fixtures/nnunet');
const SELF = fileURLToPath(import.meta.url);

export interface ModelImportBenchOptions {
  /** Timed runs per workload (the median is reported). */
  runs?: number;
}

export const MODEL_IMPORT_BENCH_DEFAULTS = { runs: 5 } satisfies Required<ModelImportBenchOptions>;

interface Workload {
  name: string;
  source: string;
  checkpoint: string;
}

async function workloads(): Promise<Workload[]> {
  const index: { folder: string; zip?: string }[] = JSON.parse(await readFile(join(NNUNET, 'index.json'), 'utf8'));
  const out: Workload[] = [];
  for (const f of index) {
    const checkpoint = join(NNUNET, f.folder, 'fold_0/checkpoint_final.pth');
    out.push({ name: f.folder, source: join(NNUNET, f.folder), checkpoint });
    if (f.zip) out.push({ name: `${f.zip} (as released: unpacked, then imported)`, source: join(NNUNET, f.zip), checkpoint });
  }
  return out;
}

async function sha256Ms(file: string): Promise<number> {
  const started = performance.now();
  await sha256File(file);
  return performance.now() - started;
}

/** Milliseconds to build the same network in memory instead of streaming it to disk. */
async function inMemoryMs(folder: string, checkpointPath: string): Promise<number> {
  const started = performance.now();
  const recipe = readNnUnetRecipe(JSON.parse(await readFile(join(folder, 'plans.json'), 'utf8')), JSON.parse(await readFile(join(folder, 'dataset.json'), 'utf8')), '3d_fullres', folder);
  const checkpoint = await openTorchCheckpoint(checkpointPath);
  try {
    const weights = networkWeights(checkpoint, checkpointPath);
    await encodeOnnxModel(buildUNetOnnx(recipe.architecture, (name) => checkpoint.readFloat32(weights.get(name)!)));
  } finally {
    await checkpoint.close();
  }
  return performance.now() - started;
}

/** Runs in a child process: one import; prints peak RSS and RSS before it. */
async function memoryChild(source: string): Promise<void> {
  const modelsDir = await mkdtemp(join(tmpdir(), 'holocase-bench-import-child-'));
  try {
    const before = process.memoryUsage().rss;
    const result = await importNnUnetModel({ source, modelsDir });
    console.log(JSON.stringify({ rssBeforeMB: before / 2 ** 20, maxRssMB: processPeakBytes() / 1024 ** 2, onnxMB: result.onnxBytes / 2 ** 20 }));
  } finally {
    await rm(modelsDir, { recursive: true, force: true });
  }
}

async function memoryOf(source: string): Promise<{ peakAboveStartMB: number; onnxMB: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', SELF, '--import-child', source], { maxBuffer: 16 * 1024 * 1024 });
  const child = JSON.parse(stdout.trim().split('\n').pop()!);
  return { peakAboveStartMB: Math.round(child.maxRssMB - child.rssBeforeMB), onnxMB: Math.round(child.onnxMB * 10) / 10 };
}

export async function bench(options: ModelImportBenchOptions = {}): Promise<Record<string, unknown>> {
  const { runs } = { ...MODEL_IMPORT_BENCH_DEFAULTS, ...options };
  const results: Record<string, unknown>[] = [];
  for (const w of await workloads()) {
    const totals: number[] = [];
    const reads: number[] = [];
    const writes: number[] = [];
    let weights = 0;
    // 1. The import itself, into a fresh models folder each run (run 0 warms up and is not counted).
    for (let r = -1; r < runs; r++) {
      const modelsDir = await mkdtemp(join(tmpdir(), 'holocase-bench-import-'));
      try {
        const result = await importNnUnetModel({ source: w.source, modelsDir });
        if (r < 0) continue;
        totals.push(result.timings.totalMs);
        reads.push(result.timings.readMs);
        writes.push(result.timings.writeMs);
        weights = result.weights;
      } finally {
        await rm(modelsDir, { recursive: true, force: true });
      }
    }
    // 2. Peers: the I/O floor, and the network built in memory.
    const hashes: number[] = [];
    const memory: number[] = [];
    for (let r = -1; r < runs; r++) {
      const hashMs = await sha256Ms(w.checkpoint);
      const memoryMs = w.source.endsWith('.zip') ? undefined : await inMemoryMs(w.source, w.checkpoint);
      if (r < 0) continue;
      hashes.push(hashMs);
      if (memoryMs !== undefined) memory.push(memoryMs);
    }
    results.push({
      workload: w.name,
      checkpointMB: Math.round(((await stat(w.checkpoint)).size / 2 ** 20) * 10) / 10,
      weights,
      importMs: Math.round(median(totals)),
      readAndCheckMs: Math.round(median(reads)),
      writeBundleMs: Math.round(median(writes)),
      peers: {
        readAndSha256CheckpointMs: Math.round(median(hashes)),
        ...(memory.length ? { networkEncodedInMemoryMs: Math.round(median(memory)) } : {}),
      },
      memory: await memoryOf(w.source),
    });
  }
  return {
    machine: { availableParallelism: availableParallelism(), cpu: cpus()[0]?.model, node: process.version },
    runs,
    imports: results,
  };
}

const childAt = process.argv.indexOf('--import-child');
if (childAt >= 0) await memoryChild(process.argv[childAt + 1]);
