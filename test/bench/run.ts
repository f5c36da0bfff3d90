/**
 * `npm run bench`: runs every stage's benchmark on fixed workloads and prints one JSON document.
 * Each stage module (`test/bench/<stage>.ts`) exports `bench()`, which measures its peers in the same
 * run. Results are also written to `bench-results/<timestamp>.json`.
 * Select stages with arguments: `npm run bench -- ingest mesh`.
 */
import os from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';

const STAGES = ['ingest', 'segment', 'inference', 'modelImport', 'mesh', 'pipeline', 'server', 'viewer', 'slices', 'editing', 'pacs', 'hardening', 'clinical'] as const;

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const stages = wanted.length > 0 ? STAGES.filter((s) => wanted.includes(s)) : [...STAGES];
  const results: Record<string, unknown> = {};
  for (const stage of stages) {
    const url = new URL(`./${stage}.ts`, import.meta.url);
    const started = Date.now();
    process.stderr.write(`bench: ${stage}…\n`);
    try {
      const mod = (await import(url.href)) as { bench: () => Promise<Record<string, unknown>> };
      results[stage] = { ...(await mod.bench()), benchSeconds: (Date.now() - started) / 1000 };
    } catch (error) {
      results[stage] = { error: error instanceof Error ? error.message : String(error) };
      process.exitCode = 1;
    }
  }
  const report = {
    date: new Date().toISOString(),
    machine: {
      cores: os.availableParallelism(),
      cpu: os.cpus()[0]?.model,
      memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
    },
    results,
  };
  const json = JSON.stringify(report, null, 2);
  console.log(json);
  await mkdir('bench-results', { recursive: true });
  await writeFile(`bench-results/${report.date.replace(/[:.]/g, '-')}.json`, json);
}

await main();
