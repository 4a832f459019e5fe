#!/usr/bin/env node
// Part of `npm run build`: the CLI as a few files instead of about a hundred modules, into
// dist/bundle/ (bin/webtree.js runs it). Node resolves, reads and compiles each ES module on its
// own; one file per command and a few shared chunks cut `webtree status`'s start-up by tens of
// milliseconds (docs/benchmarks.md). Each command stays its own entry, loaded only when it runs, and
// the heavy libraries (pg, ejs, tar, undici) stay in node_modules, loaded only by the commands that
// need them; the small ones every command needs (yaml) are bundled. execa, the one process runner's
// (src/core/exec.ts), is bundled too, into a chunk of its own that only its dynamic import loads:
// from node_modules its hundred-odd files cost a changing command ~0.18 s of CPU, bundled ~0.07 s. The unpacking's threads are
// entries of their own. dist/bundle/meta.json maps every output file to its sources
// (test/cli/startup.test.ts reads it to tell which modules a command loaded).
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const out = path.join(root, 'dist', 'bundle');
const commands = fs
  .readdirSync(path.join(src, 'commands'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.join(src, 'commands', f));

// Built beside dist/bundle/ and swapped in by two renames: a rebuild while webtree runs (a test
// file run on its own rebuilds when src/ is newer, test/helpers/cli.ts) never leaves bin/webtree.js
// without its cli.js for the seconds the build takes (it failed kill.test.ts's long runs so).
const final = out;
const tmp = `${final}.tmp-${process.pid}`;
fs.rmSync(tmp, { recursive: true, force: true });
const result = await build({
  entryPoints: [
    path.join(src, 'cli.ts'),
    path.join(src, 'archive', 'unpack-worker.ts'),
    path.join(src, 'archive', 'write-worker.ts'),
    path.join(src, 'archive', 'hash-worker.ts'),
    ...commands,
  ],
  absWorkingDir: root,
  outbase: src,
  outdir: tmp,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['pg', 'ejs', 'tar', 'undici'],
  // Bundled CommonJS (yaml's node build) calls require() for Node's own modules.
  banner: {
    js: "import { createRequire as __webtreeRequire } from 'node:module'; const require = __webtreeRequire(import.meta.url);",
  },
  define: { WEBTREE_BUNDLE: 'true' },
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});
const meta = {};
for (const [file, o] of Object.entries(result.metafile.outputs)) {
  if (file.endsWith('.map')) continue;
  meta[path.relative(tmp, path.join(root, file))] = Object.keys(o.inputs);
}
fs.writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify(meta));
const old = `${final}.old-${process.pid}`;
if (fs.existsSync(final)) fs.renameSync(final, old);
fs.renameSync(tmp, final);
fs.rmSync(old, { recursive: true, force: true });
