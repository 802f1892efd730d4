/**
 * What every CLI command shares: argument parsing helpers that turn bad
 * input into a usage error (exit 2), colour only on a TTY (and never with
 * NO_COLOR), tables, and JSON output.
 */
import { parseArgs } from 'node:util';
import { signalNumber } from '../catalogue.js';

/** Exit codes scripts can rely on. */
export const EXIT = Object.freeze({
  OK: 0,
  /** The operation failed: no such process, timeout, a signal refused. */
  FAILED: 1,
  /** Bad usage: unknown command or option, bad pid or signal. Nothing was signalled. */
  USAGE: 2,
});

/** An error the CLI prints as one line and exits with `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.FAILED) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, EXIT.USAGE);
}

/** Where a command writes; tests and the demo may swap it. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  color: boolean;
}

export function defaultIo(): Io {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb',
  };
}

export function paint(io: Io, code: number, text: string): string {
  return io.color ? `\x1b[${code}m${text}\x1b[0m` : text;
}
export const bold = (io: Io, t: string) => paint(io, 1, t);
export const dim = (io: Io, t: string) => paint(io, 2, t);
export const red = (io: Io, t: string) => paint(io, 31, t);
export const green = (io: Io, t: string) => paint(io, 32, t);
export const yellow = (io: Io, t: string) => paint(io, 33, t);

/** A command of the CLI. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: Io): Promise<number> | number;
}

type OptionSpec = Record<string, { type: 'boolean' | 'string'; short?: string }>;

/** The parsed values of an OptionSpec, plus the --json and --help every command has. */
export type Parsed<T extends OptionSpec> = {
  values: { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string } & { json?: boolean; help?: boolean };
  positionals: string[];
};

/** util.parseArgs with usage errors instead of exceptions; `--help` is handled by main. */
export function parse<T extends OptionSpec>(args: string[], options: T, allowPositionals = true): Parsed<T> {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } }, allowPositionals, strict: true }) as Parsed<T>;
  } catch (e) {
    const message = (e as Error).message;
    // "Option '-s' argument is ambiguous" (a value starting with '-', as in
    // `-s -1`): say so in one line, naming the value.
    const ambiguous = /^Option '([^']+)' argument is ambiguous/.exec(message);
    if (ambiguous) {
      const flag = ambiguous[1]!.split(',')[0]!.trim();
      const at = args.findIndex((a) => a === flag || flag.endsWith(` ${a}`) || a === `--${flag.replace(/^-+/, '')}`);
      const value = at >= 0 ? args[at + 1] : undefined;
      throw usageError(`${flag} ${value ?? ''}: '${value ?? ''}' is not a valid value (no pid, group, signal or duration starts with '-')`.replace(/ {2,}/g, ' '));
    }
    throw usageError(oneLine(message.replace(/\. To specify a positional argument.*$/s, '')));
  }
}

/** The first line of a message: the CLI prints exactly one line per error. */
export function oneLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

/** A pid given on the command line: a positive decimal integer. */
export function parsePid(text: string | undefined, what = 'PID'): number {
  if (text === undefined) throw usageError(`missing ${what}`);
  if (!/^[0-9]{1,10}$/.test(text)) throw usageError(`${what} must be a positive integer, not '${text}'`);
  const n = Number(text);
  if (n < 1 || n > 0x7fffffff) throw usageError(`${what} must be between 1 and 2147483647, not '${text}'`);
  return n;
}

/** A signal given on the command line: a name (TERM, SIGTERM, RTMIN+3) or a number. */
export function parseSignal(text: string): number {
  try {
    return /^[0-9]+$/.test(text) ? signalNumber(Number(text)) : signalNumber(text);
  } catch {
    throw usageError(`unknown signal '${text}' (see sigkit list)`);
  }
}

/** A duration: `500ms`, `5s`, `2m`, `1.5s`; a bare number is seconds. */
export function parseDuration(text: string | undefined, what: string): number {
  if (text === undefined) throw usageError(`missing ${what}`);
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(text);
  if (!m) throw usageError(`${what} must be a duration like 500ms, 5s or 2m, not '${text}'`);
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']!;
  return Math.round(Number(m[1]) * scale);
}

/** Formats milliseconds for people: `850 ms`, `3.2 s`, `4 min`. */
export function humanMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)} h`;
  return `${Math.floor(ms / 86_400_000)} d`;
}

/** Renders rows as a left-aligned table (numbers right-aligned), header first. */
export function table(io: Io, header: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: string[]) =>
    r.map((c, i) => (i === r.length - 1 ? c : numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [bold(io, line(header.map((h, i) => (numeric[i] ? h.padStart(widths[i]!) : h)))), ...cells.map(line)].join('\n') + '\n';
}

/** Writes a value as JSON, one document, newline-terminated. */
export function json(io: Io, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** A printable form of a process name (control bytes shown as escapes). */
export function printable(name: string): string {
  return JSON.stringify(name).slice(1, -1);
}
