// An HTTP service that stops the way supervisors expect: on SIGTERM it stops
// taking connections, finishes its work, then exits "killed by SIGTERM"
// (status 143), within the deadline its supervisor allows.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const { onShutdown } = require('sigkit');

const port = Number(process.env.PORT ?? 8080);
const journal = process.env.JOURNAL ?? '/tmp/sigkit-example-journal';
const pending = [];
const server = http.createServer((req, res) => {
  pending.push(`${new Date().toISOString()} ${req.method} ${req.url}\n`);
  res.end('ok\n');
});

// Hooks run last registered first. The deadline (20 s) fits inside the
// pod's terminationGracePeriodSeconds (30 s) minus its preStop (5 s), and
// inside `sigkit init --grace 22s` in the Dockerfile.
onShutdown(async () => {
  await fs.promises.appendFile(journal, pending.splice(0).join(''));
  console.log('shutdown: flushed');
}, { timeoutMs: 20_000 });
onShutdown(async (event) => {
  // event.signal: who asked (kubelet and docker stop show as pid 0: outside our pid namespace).
  await new Promise((resolve) => server.close(resolve));
  console.log('shutdown: closed the listener');
});

server.listen(port, () => console.log(`listening on ${server.address().port}`));
