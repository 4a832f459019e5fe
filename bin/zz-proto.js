#!/usr/bin/env node
// Thin launcher: the CLI is built into dist/bundle/ by `npm install` (prepare) or `npm run build`.
import { main } from '../dist/bundle/proto-read.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
