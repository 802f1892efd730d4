// Drives every native function of sigkit many times, on processes it starts
// itself, for `npm run test:valgrind` (memcheck). Prints what it did; any
// memcheck error fails the run through --error-exitcode.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const s = require(path.join(__dirname, '..', '..', 'lib', 'index.js'));

async function main() {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  const rounds = Number(process.env.ROUNDS || 200);
  let errors = 0;
  for (let i = 0; i < rounds; i++) {
    s.kill(child.pid, 0);
    s.isAlive(child.pid);
    s.sigqueue(child.pid, 0, i);
    try {
      s.kill(2147483647, 0);
    } catch (e) {
      if (e.code === 'ESRCH') errors++;
    }
    try {
      s.killpg(2147483647, 0);
    } catch (e) {
      if (e.code === 'ESRCH') errors++;
    }
    s.readProcess(child.pid);
    s.listProcesses();
    if (i % 20 === 0) s.listProcesses({ details: true });
    s.children(process.pid);
    s.descendants(process.pid);
    s.processTree(process.pid);
    s.findZombies();
    s.isZombie(child.pid);
    s.signals();
    s.formatSignalList();
  }
  s.findProcesses({ ppid: process.pid });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  console.log(`valgrind driver: ${rounds} rounds, ${errors} expected ESRCH errors`);
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
