#!/usr/bin/env node
// Thin launcher: the CLI is built into dist/bundle/ by `npm install` (prepare) or `npm run build`.
// CommonJS (bin/package.json says so): Node starts a CommonJS entry ~8 ms sooner than an ES module one.
'use strict';
const { main } = require('../dist/bundle/cli.cjs');

// An install starts its unpacking's reader thread now, on the other core, while this one loads
// the CLI (src/archive/warm.ts). The command is the first word that is no option (--config takes
// one), guessed here without the CLI's parser (src/core/command-name.ts, not loaded yet): a wrong
// guess costs a thread's start-up and nothing else (the thread waits for work and ends at exit).
const args = process.argv.slice(2);
const verb = args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '--config');
// CommonJS, required: an ES module would start Node's ES module loader, which an install no longer needs.
if (verb === 'install' && !args.some((a) => a === '--dry-run' || a === '--help' || a === '-h'))
  try {
    require('../dist/bundle/archive/warm.cjs').warmReader();
  } catch {
    // The install starts its own reader, and says why if it cannot.
  }

main(args).then((code) => {
  process.exitCode = code;
});
