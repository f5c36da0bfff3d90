/**
 * Typed command-line options on top of `node:util` parseArgs, with the usage text next to them.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './main.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs<O extends Options> {
  values: { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { multiple: true } ? string[] : string };
  positionals: string[];
}

/**
 * Parses `argv` for a command. `--help` prints `help` and returns `undefined` (the command exits 0).
 * Unknown options and a wrong number of positionals are usage errors.
 */
export function parseCommandArgs<O extends Options>(
  argv: string[],
  options: O,
  help: string,
  positionals: { min: number; max: number } = { min: 0, max: 0 },
): ParsedArgs<O> | undefined {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(help);
    return undefined;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${help}`);
  }
  const count = parsed.positionals.length;
  if (count < positionals.min || count > positionals.max) {
    throw new UsageError(`expected ${positionals.min === positionals.max ? positionals.min : `${positionals.min}–${positionals.max}`} argument(s), got ${count}\n\n${help}`);
  }
  return parsed as unknown as ParsedArgs<O>;
}

/** `"1.5,1.5,3"` → `[1.5, 1.5, 3]`; a usage error names the option when it is not three positive numbers. */
export function parseTriple(value: string, option: string): [number, number, number] {
  const parts = value.split(',').map(Number);
  if (parts.length !== 3 || parts.some((v) => !Number.isFinite(v) || v <= 0)) {
    throw new UsageError(`${option} takes three positive numbers separated by commas, e.g. 1.5,1.5,3 (got "${value}")`);
  }
  return parts as [number, number, number];
}

/**
 * A numeric option: undefined when not given; a usage error `<option> takes <what> (got "<value>")`
 * when it is blank, not a finite number, or refused by `accept`.
 */
export function parseNumberOption(value: string | undefined, option: string, what: string, accept: (n: number) => boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !accept(n)) throw new UsageError(`${option} takes ${what} (got "${value}")`);
  return n;
}

/** `--port`: a TCP port number (0 lets the system choose). */
export function parsePortOption(value: string | undefined): number | undefined {
  return parseNumberOption(value, '--port', 'a port number', (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
}
