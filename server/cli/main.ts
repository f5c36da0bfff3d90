/**
 * `holocase <command>`: the command-line entry. Each command lives in its own module and exports
 * `run(argv): Promise<number>` (the exit code); modules load lazily so `inspect` does not pay for ONNX.
 */
import { isHolocaseError } from '../errors.ts';

interface Command {
  summary: string;
  load: () => Promise<{ run: (argv: string[]) => Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  demo: { summary: 'make the phantom case and serve it (the README demo)', load: () => import('./demo.ts') },
  inspect: { summary: 'describe a CT: DICOM file/folder/zip or NIfTI', load: () => import('./inspect.ts') },
  phantom: { summary: 'write the procedural CT torso and its exact label map', load: () => import('./phantom.ts') },
  segment: { summary: 'segment a CT with a model bundle into a label map', load: () => import('./segment.ts') },
  evaluate: { summary: 'compare a label map with a reference (Dice, IoU, HD95, volumes)', load: () => import('./evaluate.ts') },
  grow: { summary: 'grow labelled seed strokes into whole structures on a CT', load: () => import('./grow.ts') },
  mesh: { summary: 'turn a label map into a glTF hologram (and STL)', load: () => import('./mesh.ts') },
  run: { summary: 'ingest → segment → mesh into a folder', load: () => import('./run.ts') },
  serve: { summary: 'start the web server (what `npm start` runs)', load: () => import('./serve.ts') },
  worker: { summary: 'run a job worker on Redis (scale-out mode)', load: () => import('./worker.ts') },
  dataset: { summary: 'export validated cases for training: dataset export -o DIR (nnU-Net v2, MONAI)', load: () => import('./dataset.ts') },
  user: { summary: 'manage local accounts: user add <name> [--admin]', load: () => import('./user.ts') },
  model: { summary: 'bring networks in: model import <nnU-Net folder or zip>', load: () => import('./model.ts') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: holocase <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun \`holocase <command> --help\` for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`holocase: unknown command "${name}"\n\n${usage()}`);
    return 1;
  }
  try {
    const mod = await command.load();
    return await mod.run(rest);
  } catch (error) {
    return reportError(error);
  }
}

/** Prints an error for a person at a terminal: the input's fault in words, a bug without a stack unless asked. */
export function reportError(error: unknown): number {
  if (isHolocaseError(error)) {
    console.error(`error [${error.code}]: ${error.message}`);
    return 2;
  }
  if (error instanceof UsageError) {
    console.error(`holocase: ${error.message}`);
    return 1;
  }
  console.error(`internal error: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env.HOLOCASE_DEBUG) console.error(error);
  return 3;
}

/** Wrong command-line arguments (exit code 1, usage printed). */
export class UsageError extends Error {}
