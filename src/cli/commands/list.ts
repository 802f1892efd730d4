import { formatSignalList, signals } from '../../catalogue.js';
import { EXIT, json, parse, table, type Command } from '../io.js';

export const list: Command = {
  name: 'list',
  summary: 'the signal table, as kill -l prints it',
  usage: `sigkit list [-L] [--json]

  The kill -l table of this machine (same names and numbers as bash's).
  -L, --long   one signal a line, with its default action and description
  --json       every signal with its flags (realtime, reserved, catchable)`,
  run(args, io) {
    const { values } = parse(args, { long: { type: 'boolean', short: 'L' } }, false);
    if (values.json) {
      json(io, signals());
    } else if (values.long) {
      io.out(table(io, ['NUM', 'NAME', 'ACTION', 'DESCRIPTION'], signals()
        .filter((s) => !(s.realtime && s.reserved))
        .map((s) => [s.number, s.name, s.defaultAction, s.description])));
    } else {
      io.out(formatSignalList());
    }
    return EXIT.OK;
  },
};
