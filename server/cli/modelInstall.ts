/**
 * `holocase model install <name> [--from DIR]`: TotalSegmentator's published networks into the models
 * folder (`installModel` does the work; this parses options, draws the download progress and prints the
 * result). On a terminal the download is one progress bar redrawn in place; elsewhere (a log, CI) it is
 * a plain line every 10 %.
 */
import type { DownloadProgress } from '../segment/install/download.ts';
import { downloadBase, installModel } from '../segment/install/installModel.ts';
import { INSTALLABLE_MODELS, releaseUrl, type ReleaseZip } from '../segment/install/totalSegmentatorModels.ts';
import { parseCommandArgs } from './args.ts';
import { UsageError } from './main.ts';

const HELP = `usage: holocase model install <name> [--from DIR] [options]

Downloads a published model's weight releases, imports them into the models folder (HOLOCASE_MODELS,
default models/) and, for a model made of several networks, writes the model set over them. An
interrupted download resumes where it stopped when the command is run again.

models:
${INSTALLABLE_MODELS.map((m) => `  ${m.name.padEnd(22)} ${m.title} (${m.license}; ${m.zips.length} download${m.zips.length > 1 ? 's' : ''})`).join('\n')}

options:
      --from <dir>       take the release zips from this folder instead of downloading them
                         (a server without internet: copy the files listed by --urls there)
      --urls             print the files to download for <name> and exit
      --force            re-import networks that are already installed
      --keep-download    keep the downloaded zips (in <models>/.downloads/)
      --json             print the result as JSON
  -h, --help             this help

environment:
  HOLOCASE_MODEL_DOWNLOAD_URL   where releases are downloaded from (a mirror); default
                                ${downloadBase(undefined)}`;

function megabytes(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** One line describing a download's progress, with a bar of `width` cells (none for 0) when the size is known. */
export function progressLine(file: string, p: DownloadProgress, width = 24): string {
  const speed = `${megabytes(p.bytesPerSecond)} MB/s`;
  if (!p.total) return `${file}  ${megabytes(p.received)} MB  ${speed}`;
  const fraction = Math.min(1, p.received / p.total);
  const filled = Math.round(fraction * width);
  const eta = p.bytesPerSecond > 0 ? (p.total - p.received) / p.bytesPerSecond : Infinity;
  const bar = width > 0 ? ` [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]` : '';
  return `${file}${bar} ${String(Math.floor(fraction * 100)).padStart(3)}%  ${megabytes(p.received)}/${megabytes(p.total)} MB  ${speed}  ETA ${duration(eta)}`;
}

/** Draws download progress on stderr: redrawn in place on a terminal, a line per 10 % otherwise. */
function downloadProgress(stream: NodeJS.WriteStream): (zip: ReleaseZip, p: DownloadProgress) => void {
  let current = '';
  let lastTenth = -1;
  return (zip, p) => {
    const file = `${zip.folder}.zip`;
    if (file !== current) {
      current = file;
      lastTenth = -1;
    }
    const done = p.total !== undefined && p.received >= p.total;
    if (stream.isTTY) {
      stream.write(`\r\x1b[K${progressLine(file, p, Math.max(10, Math.min(40, (stream.columns ?? 100) - 70)))}${done ? '\n' : ''}`);
      return;
    }
    const tenth = p.total ? Math.floor((p.received / p.total) * 10) : Math.floor(p.received / (100 * 2 ** 20));
    if (tenth === lastTenth) return;
    lastTenth = tenth;
    stream.write(`${progressLine(file, p, 0)}\n`);
  };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(
    argv,
    { from: { type: 'string' }, urls: { type: 'boolean' }, force: { type: 'boolean' }, 'keep-download': { type: 'boolean' }, json: { type: 'boolean' } },
    HELP,
    { min: 1, max: 1 },
  );
  if (!args) return 0;
  const { values, positionals } = args;
  const name = positionals[0];
  const model = INSTALLABLE_MODELS.find((m) => m.name === name);
  if (!model) throw new UsageError(`no installable model "${name}"; holocase installs ${INSTALLABLE_MODELS.map((m) => m.name).join(', ')}`);
  if (values.urls) {
    for (const zip of model.zips) console.log(releaseUrl(zip, downloadBase(undefined)));
    return 0;
  }
  const log = (line: string) => process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}${line}\n`);
  const result = await installModel({
    name,
    from: values.from,
    force: values.force,
    keepDownloads: values['keep-download'],
    onDownload: values.json ? undefined : downloadProgress(process.stderr),
    log: values.json ? undefined : log,
  });
  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
    return 0;
  }
  console.log(`installed "${result.modelId}" (${model.title}, ${model.license})`);
  if (result.installed.length > 0) console.log(`  written: ${result.installed.join(', ')}`);
  if (result.kept.length > 0) console.log(`  already installed, kept: ${result.kept.join(', ')}`);
  for (const d of result.downloads) console.log(`  ${d.file.split(/[\\/]/).pop()}: ${megabytes(d.bytes)} MB, sha256 ${d.sha256}`);
  for (const note of result.notes) console.log(`note: ${note}`);
  console.log(`limits: ${model.limits}`);
  console.log(`try it: npx holocase segment <ct> --model ${result.modelId} -o labels.nii.gz`);
  return 0;
}
