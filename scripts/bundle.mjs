#!/usr/bin/env node
// Part of `npm run build`: the CLI as a few files instead of about a hundred modules, into
// dist/bundle/ (bin/webtree.js runs it). Node resolves, reads and compiles each ES module on its
// own, so the fewer files a command loads the sooner it starts (docs/benchmarks.md). Three outputs:
// - cli.cjs, the front door (src/launch.ts): sends status, list and history to read.cjs and every
//   other command to full.js;
// - read.cjs: src/cli.ts with all the read commands need, in one CommonJS file (built below), and
//   read.cjs.cache, V8's compiled code of it (scripts/code-cache.mjs; src/core/code-cache.ts);
// - full.js: src/cli.ts with one file per command and shared chunks: each command its own entry,
//   loaded only when it runs. The heavy libraries (pg, ejs, tar) stay in node_modules, loaded
//   only by the commands that need them; the parts of undici a download uses are bundled, into a
//   chunk that only a fetch loads (src/fetch/undici.ts: ~45 ms of CPU instead of ~60, or ~165 for
//   undici's index.js); yaml is bundled (into a chunk that only the site
//   file's full reader and the catalog's checker load). execa, the one process runner's
//   (src/core/exec.ts), is bundled too, into a chunk of its own that only its dynamic import loads:
//   from node_modules its hundred-odd files cost a changing command ~0.18 s of CPU, bundled ~0.07 s.
// The front door and the read commands are CommonJS: require costs less than Node's ES module
// loader, and only a script compiled through node:vm can use a code cache on Node 20.
// The unpacking's threads are entries of their own. dist/bundle/meta.json maps every output file to
// its sources (test/cli/startup.test.ts reads it to tell which modules a command loaded).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
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
/**
 * node:fs through require(), not as an ES module: Node makes an ES module of a built-in by reading
 * every export, and fs's ReadStream and WriteStream getters then load the whole streams machinery
 * (some 6 ms of every start-up; issue 15). The bundler reads the named imports off the object.
 */
const fsByRequire = {
  name: 'fs-by-require',
  setup(b) {
    b.onResolve({ filter: /^(node:)?fs$/ }, (a) =>
      a.namespace === 'fs-by-require'
        ? { path: 'node:fs', external: true }
        : { path: 'fs', namespace: 'fs-by-require' },
    );
    b.onLoad({ filter: /.*/, namespace: 'fs-by-require' }, () => ({
      contents: "module.exports = require('node:fs');",
      loader: 'js',
    }));
  },
};
// Bundled CommonJS (yaml's node build, node:fs above) calls require() for Node's own modules.
const banner = {
  js: "import { createRequire as __webtreeRequire } from 'node:module'; const require = __webtreeRequire(import.meta.url);",
};
// What all three builds share: ES modules for Node 20 from the sources under root, with maps and a metafile.
const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
};
// New at every build: the listing memo a status writes is read only by the build that wrote it
// (src/state/listing-memo.ts), whatever the version number says.
const WEBTREE_BUILD = JSON.stringify(randomUUID());
const result = await build({
  ...common,
  entryPoints: [
    { in: path.join(src, 'cli.ts'), out: 'full' },
    path.join(src, 'archive', 'unpack-worker.ts'),
    path.join(src, 'archive', 'write-worker.ts'),
    path.join(src, 'archive', 'hash-worker.ts'),
    // bin/webtree.js loads it beside cli.js to start an install's reader thread early.
    path.join(src, 'archive', 'warm.ts'),
    ...commands,
  ],
  outbase: src,
  outdir: tmp,
  splitting: true,
  external: ['pg', 'ejs', 'tar'],
  banner,
  define: { WEBTREE_BUNDLE: 'true', WEBTREE_BUILD },
  plugins: [fsByRequire],
  chunkNames: 'chunks/[name]-[hash]',
});
// The read commands' own file (src/launch.ts sends them there): src/cli.ts again, bundled whole
// into one file without splitting, except what only the other commands import when they run: the
// other commands (the registry's imports) and the status page's publishing after a change
// (watch/after-change.ts). Each of those is here a module that says it is missing (launch.ts never
// sends those commands here). execa and nodemailer, imported only when a process runs or mail is
// sent, stay in node_modules.
const { READ_COMMANDS } = await import(path.join(root, 'dist', 'launch.js'));
const readKeeps = new Set([...READ_COMMANDS, 'read-recovery']);
const notInRead = (importer, p) =>
  importer.endsWith(path.join('commands', 'registry.ts'))
    ? !readKeeps.has(p.slice(2, -3))
    : importer.endsWith(path.join('watch', 'after-change.ts')) && p === './publish.js';
// The CommonJS builds: import.meta.url (the package root is found from it) is the file's own URL.
const cjs = {
  ...common,
  format: 'cjs',
  banner: { js: "const __webtreeUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { WEBTREE_BUNDLE: 'true', WEBTREE_BUILD, 'import.meta.url': '__webtreeUrl' },
};
/**
 * Modules read.cjs requires only when one of their exports is first used, each through a module
 * of getters: yaml (node_modules/yaml, CommonJS), which the site file's fast reader
 * (src/site/simple-yaml.ts) leaves a file to only for what it does not read itself (a status that
 * parsed its 262 kB at every start almost never used it: ~10 ms of compiling), and
 * node:fs/promises, whose loading brings fs/dir, the watchers and readline (the read commands read
 * with the synchronous calls; a few modules still import it for their other functions).
 */
const onUse = {
  name: 'on-use',
  setup(b) {
    b.onResolve({ filter: /^(yaml|(node:)?fs\/promises)$/ }, (a) => {
      const id = a.path === 'yaml' ? 'yaml' : 'node:fs/promises';
      return a.namespace === 'on-use' ? { path: id, external: true } : { path: id, namespace: 'on-use' };
    });
    b.onLoad({ filter: /.*/, namespace: 'on-use' }, (a) => ({
      contents:
        'let lib;\n' +
        Object.keys(createRequire(import.meta.url)(a.path))
          .filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default')
          .map(
            (n) =>
              `Object.defineProperty(exports, ${JSON.stringify(n)}, { enumerable: true, get: () => (lib ??= require(${JSON.stringify(a.path)})).${n} });`,
          )
          .join('\n'),
      loader: 'js',
    }));
  },
};
const read = await build({
  ...cjs,
  entryPoints: [path.join(src, 'cli.ts')],
  outfile: path.join(tmp, 'read.cjs'),
  external: ['pg', 'ejs', 'tar', 'undici', 'execa', 'nodemailer'],
  plugins: [
    onUse,
    {
      name: 'other-commands',
      setup(b) {
        b.onResolve({ filter: /^\.\/[a-z-]+\.js$/ }, (a) =>
          a.kind === 'dynamic-import' && notInRead(a.importer, a.path)
            ? { path: a.path.slice(2, -3), namespace: 'not-in-read' }
            : undefined,
        );
        b.onLoad({ filter: /.*/, namespace: 'not-in-read' }, (a) => ({
          contents: `throw new Error(${JSON.stringify(`webtree: ${a.path} is not in dist/bundle/read.cjs (src/launch.ts sends only ${READ_COMMANDS.join(', ')} there)`)});`,
          loader: 'js',
        }));
      },
    },
  ],
});
// The front door bin/webtree.js requires: a few lines that pick read.cjs or full.js.
const launch = await build({
  ...cjs,
  entryPoints: [path.join(src, 'launch.ts')],
  outfile: path.join(tmp, 'cli.cjs'),
});
// read.cjs's compiled code, made by the Node that builds (npm install's prepare): another Node's V8 refuses it.
execFileSync(
  process.execPath,
  [path.join(root, 'scripts', 'code-cache.mjs'), path.join(tmp, 'read.cjs'), path.join(final, 'read.cjs')],
  {
    stdio: 'inherit',
  },
);
const meta = {};
for (const r of [result, read, launch])
  for (const [file, o] of Object.entries(r.metafile.outputs)) {
    if (file.endsWith('.map')) continue;
    meta[path.relative(tmp, path.join(root, file))] = Object.keys(o.inputs);
  }
fs.writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify(meta));
const old = `${final}.old-${process.pid}`;
if (fs.existsSync(final)) fs.renameSync(final, old);
fs.renameSync(tmp, final);
fs.rmSync(old, { recursive: true, force: true });
