// kill(pid, 0) calls per second: sigkit vs process.kill, on a sleep this
// benchmark starts (signal 0 sends nothing).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { compareRates, fmt } from './harness.mjs';

const require = createRequire(import.meta.url);
const { kill } = require('../lib/index.js');

export async function rows() {
  const target = spawn('sleep', ['300'], { stdio: 'ignore' });
  await new Promise((resolve, reject) => target.once('spawn', resolve).once('error', reject));
  const pid = target.pid;
  try {
    const rates = compareRates({
      sigkit: () => kill(pid, 0),
      'process.kill': () => process.kill(pid, 0),
    });
    const ratio = rates.sigkit / rates['process.kill'];
    return [{
      benchmark: '`kill(pid, 0)` calls/s',
      sigkit: fmt(rates.sigkit),
      peer: '`process.kill`',
      peerValue: fmt(rates['process.kill']),
      ratio: `${fmt(ratio, 2)}x`,
      target: '>= 0.95x',
      ok: ratio >= 0.95,
    }];
  } finally {
    target.kill('SIGKILL');
  }
}
