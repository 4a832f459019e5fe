#!/usr/bin/env node
// Thin launcher: the CLI is built into dist/bundle/ by `npm install` (prepare) or `npm run build`.
import { main } from '../dist/bundle/cli.js';

// An install starts its unpacking's reader thread now, on the other core, while this one loads
// the CLI (src/archive/warm.ts). The command is the first word that is no option (--config takes one).
const args = process.argv.slice(2);
const verb = args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '--config');
if (verb === 'install' && !args.some((a) => a === '--dry-run' || a === '--help' || a === '-h'))
  import('../dist/bundle/archive/warm.js').then((m) => m.warmReader()).catch(() => undefined);

main(args).then((code) => {
  process.exitCode = code;
});
