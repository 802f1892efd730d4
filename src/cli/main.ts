#!/usr/bin/env node
/**
 * The `sigkit` command line. Each command lives in commands/; this file
 * dispatches, prints help, and turns every error into one line on stderr
 * with a documented exit code (0 ok, 1 failed, 2 bad usage).
 */
import { CliError, EXIT, defaultIo, oneLine, type Command, type Io } from './io.js';
import { find } from './commands/find.js';
import { init } from './commands/init.js';
import { list } from './commands/list.js';
import { ps } from './commands/ps.js';
import { send } from './commands/send.js';
import { status } from './commands/status.js';
import { trap } from './commands/trap.js';
import { wait } from './commands/wait.js';
import { zombies } from './commands/zombies.js';
import { term } from './commands/term.js';
import { pkill } from './commands/pkill.js';
import { demo } from './commands/demo.js';
import { explain } from './commands/explain.js';
import { watch } from './commands/watch.js';
import { port } from './commands/port.js';
import { top } from './commands/top.js';
import { checkShutdownCommand } from './commands/check-shutdown.js';

export const COMMANDS: readonly Command[] = [list, send, term, ps, status, find, pkill, zombies, wait, trap, init, checkShutdownCommand, explain, watch, port, top, demo];

function help(io: Io): void {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  io.out(`sigkit: Linux signals and processes, exactly

Usage: sigkit <command> [options]    (sigkit <command> --help for details)

${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Every command takes --json. Colour only on a terminal (NO_COLOR turns it off).
Exit codes: 0 ok, 1 the operation failed (no such process, timeout, ...),
2 bad usage (nothing was signalled).
`);
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      help(io);
      return name === undefined ? EXIT.USAGE : EXIT.OK;
    }
    if (name === '--version' || name === '-V') {
      io.out(`${(require('../../package.json') as { version: string }).version}\n`);
      return EXIT.OK;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new CliError(`unknown command '${name}' (see sigkit --help)`, EXIT.USAGE);
    // After `--` the words belong to someone else (init's CMD), not to us.
    const own = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
    if (own.includes('--help') || own.includes('-h')) {
      io.out(`${command.usage}\n`);
      return EXIT.OK;
    }
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`sigkit${name ? ` ${name}` : ''}: ${oneLine(e.message)}\n`);
      return e.exitCode;
    }
    const err = e as { code?: string; message?: string };
    // Argument errors from the library are usage errors; a refused target
    // (protected) and anything else failed.
    const usage = typeof err.code === 'string' && err.code.startsWith('ERR_') && err.code !== 'ERR_SIGKIT_PROTECTED';
    io.err(`sigkit${name ? ` ${name}` : ''}: ${oneLine(err.message ?? String(e))}\n`);
    return usage ? EXIT.USAGE : EXIT.FAILED;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
