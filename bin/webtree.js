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
  // The command is done. When nothing is left on the event loop (no child, worker, timer, socket
  // or unwritten output) the process ends here, as process.exit does: the 'exit' listeners run
  // and the exit status is the same, but Node's teardown of a heap about to vanish (freeing its
  // pages, joining V8's threads: ~3-5 ms of every command) is skipped. setImmediate: after every
  // promise still settling. Anything still open: the loop runs on and ends the usual way.
  setImmediate(() => {
    if (process.getActiveResourcesInfo().length === 0 && process.listenerCount('beforeExit') === 0) process.exit();
  });
});
