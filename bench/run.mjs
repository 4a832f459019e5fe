#!/usr/bin/env node
// `npm run bench`: the three benchmarks of docs/benchmarks.md, one after the other, each in its
// own process (so that none inherits another's warm caches or memory). `npm run bench -- install`
// runs one; bench:install, bench:switch and bench:status take each one's own options.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const all = ['install', 'switch', 'status', 'fetch'];
const chosen = process.argv.slice(2).filter((a) => all.includes(a));
let failed = 0;
for (const name of chosen.length ? chosen : all) {
  console.log(`\n== bench/${name}.mjs ==`);
  const r = spawnSync(process.execPath, [path.join(here, `${name}.mjs`)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
