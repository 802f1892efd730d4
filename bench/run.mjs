// npm run bench: every suite side by side with its peers in this one run,
// printed as the Markdown table the README quotes.
import { machine, table } from './harness.mjs';
import * as killSuite from './kill.mjs';
import * as procSuite from './proc.mjs';
import * as sigactionSuite from './sigaction.mjs';
import * as waitSuite from './wait.mjs';
import * as terminateSuite from './terminate.mjs';
import * as portsSuite from './ports.mjs';
import * as usageSuite from './usage.mjs';

const suites = [killSuite, procSuite, sigactionSuite, waitSuite, terminateSuite, portsSuite, usageSuite];
const rows = [];
for (const suite of suites) rows.push(...(await suite.rows()));
console.log(`Machine: ${machine()}\n`);
console.log(table(rows));
const missed = rows.filter((r) => r.ok === false);
if (missed.length) console.log(`\nBelow target: ${missed.map((r) => r.benchmark).join(', ')}`);
