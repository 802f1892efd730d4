import { demo as runDemo } from '../../demo.js';
import { EXIT, parse, type Command } from '../io.js';

export const demo: Command = {
  name: 'demo',
  summary: 'a guided tour of sigkit on processes it starts itself',
  usage: `sigkit demo

  Walks through the library on processes it starts itself: the signal table,
  graceful and forced termination, a process-group kill, a zombie found and
  reaped, a signal received with its sender's pid, and a pidfd handle that
  cannot hit a recycled pid. A few seconds; nothing is left behind.`,
  async run(args) {
    parse(args, {}, false);
    await runDemo();
    return EXIT.OK;
  },
};
