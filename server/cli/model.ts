/**
 * `holocase model <subcommand>`: bring networks into the models folder.
 * - `import <path>`: an nnU-Net v2 trained model (folder, Dataset folder, or a zip of either) → a bundle.
 * - `install <name>`: a published model (TotalSegmentator's tasks) downloaded or taken from a folder.
 * Each subcommand lives in its own module, loaded when it runs.
 */
import { UsageError } from './main.ts';

const SUBCOMMANDS: Record<string, { summary: string; load: () => Promise<{ run: (argv: string[]) => Promise<number> }> }> = {
  import: { summary: 'turn an nnU-Net v2 trained model (folder or zip) into a model bundle', load: () => import('./modelImport.ts') },
  install: { summary: 'download or import a published model (TotalSegmentator)', load: () => import('./modelInstall.ts') },
};

const HELP = `usage: holocase model <subcommand> [options]

subcommands:
${Object.entries(SUBCOMMANDS)
  .map(([name, s]) => `  ${name.padEnd(8)} ${s.summary}`)
  .join('\n')}

Run \`holocase model <subcommand> --help\` for its options.`;

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(HELP);
    return name ? 0 : 1;
  }
  const sub = SUBCOMMANDS[name];
  if (!sub) throw new UsageError(`unknown subcommand "model ${name}"\n\n${HELP}`);
  return (await sub.load()).run(rest);
}
