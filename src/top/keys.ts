/**
 * Raw terminal input to key names: printable characters as themselves,
 * and the escape sequences of xterm, screen/tmux and the Linux console for
 * arrows, paging and F-keys. Pure.
 */

const SEQUENCES: Record<string, string> = {
  '\x1b[A': 'up', '\x1b[B': 'down', '\x1b[C': 'right', '\x1b[D': 'left',
  '\x1bOA': 'up', '\x1bOB': 'down', '\x1bOC': 'right', '\x1bOD': 'left',
  '\x1b[5~': 'pgup', '\x1b[6~': 'pgdn',
  '\x1b[H': 'home', '\x1b[F': 'end', '\x1bOH': 'home', '\x1bOF': 'end',
  '\x1b[1~': 'home', '\x1b[4~': 'end', '\x1b[7~': 'home', '\x1b[8~': 'end',
  '\x1bOP': 'f1', '\x1bOQ': 'f2', '\x1bOR': 'f3', '\x1bOS': 'f4',
  '\x1b[11~': 'f1', '\x1b[12~': 'f2', '\x1b[13~': 'f3', '\x1b[14~': 'f4',
  '\x1b[[A': 'f1', '\x1b[[B': 'f2', '\x1b[[C': 'f3', '\x1b[[D': 'f4', '\x1b[[E': 'f5',
  '\x1b[15~': 'f5', '\x1b[17~': 'f6', '\x1b[18~': 'f7', '\x1b[19~': 'f8',
  '\x1b[20~': 'f9', '\x1b[21~': 'f10', '\x1b[3~': 'delete',
};

/**
 * Splits one read of stdin into keys. A lone ESC is `'escape'`; an unknown
 * sequence is dropped whole, never taken as letters.
 * @throws never
 * @example
 * parseKeys('\x1b[20~q'); // ['f9', 'q']
 */
export function parseKeys(data: string): string[] {
  const keys: string[] = [];
  let i = 0;
  while (i < data.length) {
    const ch = data[i]!;
    if (ch === '\x1b') {
      if (i + 1 >= data.length) {
        keys.push('escape');
        i++;
        continue;
      }
      // CSI / SS3: ESC [ params final, ESC O final; ESC [ [ X (Linux console F1-F5).
      const m = /^\x1b(?:\[\[[A-E]|\[[0-9;]*[~A-Za-z]|O[A-Za-z])/.exec(data.slice(i));
      if (m) {
        const seq = m[0];
        // Modified keys (Ctrl/Shift/Alt) add ";N": ESC [1;5A is Ctrl-Up, ESC [5;5~ Ctrl-PgUp.
        const known = SEQUENCES[seq] ?? SEQUENCES[seq.replace(/^\x1b\[1;[0-9]+([A-Za-z])$/, '\x1b[$1').replace(/;[0-9]+~$/, '~')];
        if (known) keys.push(known);
        i += seq.length;
        continue;
      }
      keys.push('escape');
      i++;
      continue;
    }
    if (ch === '\r' || ch === '\n') keys.push('enter');
    else if (ch === '\x7f' || ch === '\b') keys.push('backspace');
    else if (ch === '\x03') keys.push('ctrl-c');
    else if (ch === ' ') keys.push('space');
    else if (ch === '\t') keys.push('tab');
    else if (ch >= ' ') keys.push(ch);
    i++;
  }
  return keys;
}
