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
  entryPoints: [{ in: path.join(src, 'cli.ts'), out: 'full' }, ...commands],
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
const { READ_COMMANDS, INSTALL_COMMANDS } = await import(path.join(root, 'dist', 'launch.js'));
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
 * with the synchronous calls; a few modules still import it for their other functions), node:tty,
 * which brings node:net and every stream module (status asks isatty only to paint a warning: at
 * 8 x 200 versions its loading was some 4 ms of status's start), and node:os (identity's user
 * name, the lock's host name: needed by a change, or as root at the drop to the service account).
 */
const onUse = {
  name: 'on-use',
  setup(b) {
    b.onResolve({ filter: /^(yaml|(node:)?(fs\/promises|tty|os))$/ }, (a) => {
      const id = a.path === 'yaml' ? 'yaml' : a.path.startsWith('node:') ? a.path : `node:${a.path}`;
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
/**
 * src/cli.ts as one CommonJS file for a few commands (src/launch.ts sends only those there): the
 * other commands (the registry's imports) are modules that say they are missing, and so is
 * whatever `leaveOut(importer, path)` names.
 */
const onlyCommands = (file, keeps, leaveOut = () => false) => ({
  name: 'other-commands',
  setup(b) {
    const list = keeps.filter((c) => c !== 'read-recovery').join(', ');
    b.onResolve({ filter: /^\.\/[a-z-]+\.js$/ }, (a) =>
      a.kind === 'dynamic-import' &&
      ((a.importer.endsWith(path.join('commands', 'registry.ts')) && !keeps.includes(a.path.slice(2, -3))) ||
        leaveOut(a.importer, a.path))
        ? { path: a.path.slice(2, -3), namespace: 'not-in-file' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'not-in-file' }, (a) => ({
      contents: `throw new Error(${JSON.stringify(`webtree: ${a.path} is not in dist/bundle/${file} (src/launch.ts sends only ${list} there)`)});`,
      loader: 'js',
    }));
  },
});
// The read commands' own file (src/launch.ts sends them there): src/cli.ts again, bundled whole
// into one file without splitting, except what only the other commands import when they run: the
// other commands (the registry's imports) and the status page's publishing after a change
// (watch/after-change.ts). execa and nodemailer, imported only when a process runs or mail is
// sent, stay in node_modules.
const read = await build({
  ...cjs,
  entryPoints: [path.join(src, 'cli.ts')],
  outfile: path.join(tmp, 'read.cjs'),
  external: ['pg', 'ejs', 'tar', 'undici', 'execa', 'nodemailer'],
  plugins: [
    onUse,
    onlyCommands(
      'read.cjs',
      [...READ_COMMANDS, 'read-recovery'],
      (importer, p) => importer.endsWith(path.join('watch', 'after-change.ts')) && p === './publish.js',
    ),
  ],
});
/**
 * The changing commands that unpack (install, apply) get a file of their own for the same reason,
 * with their own code cache (read.cjs does not grow: status would read it at every start). All
 * they run is in it, the fetch's parts of undici included, except the heavy libraries left in
 * node_modules (pg, ejs, tar) and execa and nodemailer, which their dynamic import takes from
 * full.js's chunks of them (ES modules: their own code, nothing of webtree's, so no second copy
 * of a module with state): bundled here, their ~0.7 MB would be read at every install.
 */
const chunkOf = (pkg) => {
  const out = Object.entries(result.metafile.outputs).find(
    ([, o]) => o.entryPoint && new RegExp(`node_modules/${pkg}/`).test(o.entryPoint),
  );
  if (!out) throw new Error(`bundle: no chunk of ${pkg} in full.js's build`);
  return `./${path.relative(tmp, path.join(root, out[0]))}`;
};
const lazyLibs = { execa: chunkOf('execa'), nodemailer: chunkOf('nodemailer') };
/**
 * The parts of undici a fetch uses (src/fetch/undici.ts, ~0.4 MB) are a file of their own,
 * undici.cjs, with its own code cache, required when a fetch first needs them: an install of a
 * local archive never reads them. undici.ts holds no state of webtree's, so being outside
 * install.cjs costs nothing but the require.
 */
const undiciFile = {
  name: 'undici-file',
  setup(b) {
    b.onResolve({ filter: /^\.\/undici\.js$/ }, (a) =>
      a.importer.startsWith(path.join(src, 'fetch') + path.sep)
        ? { path: 'undici', namespace: 'undici-file' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'undici-file' }, () => ({
      contents:
        "const { requireCached } = require('./code-cache.ts');\n" +
        "module.exports = requireCached(require('node:path').join(__dirname, 'undici.cjs')).exports;",
      resolveDir: path.join(src, 'core'),
      loader: 'js',
    }));
  },
};
const undici = await build({
  ...cjs,
  entryPoints: [path.join(src, 'fetch', 'undici.ts')],
  outfile: path.join(tmp, 'undici.cjs'),
});
const install = await build({
  ...cjs,
  entryPoints: [path.join(src, 'cli.ts')],
  outfile: path.join(tmp, 'install.cjs'),
  external: ['pg', 'ejs', 'tar'],
  plugins: [
    onUse,
    {
      name: 'lazy-libs',
      setup(b) {
        b.onResolve({ filter: /^(execa|nodemailer)$/ }, (a) => ({ path: lazyLibs[a.path], external: true }));
      },
    },
    undiciFile,
    onlyCommands('install.cjs', INSTALL_COMMANDS),
  ],
});
// The front door bin/webtree.js requires: a few lines that pick read.cjs or full.js.
const launch = await build({
  ...cjs,
  entryPoints: [path.join(src, 'launch.ts')],
  outfile: path.join(tmp, 'cli.cjs'),
});
// The unpacking's threads, and warm.cjs, which bin/webtree.js requires to start an install's
// reader early: CommonJS files, one each. A thread started from a CommonJS file skips Node's ES
// module loader (~10 ms of the reader's start-up CPU); their own code compiles in ~1 ms, so they
// have no code cache (measured: none was faster). Node's own start of a thread is most of the rest.
const threads = await build({
  ...cjs,
  entryPoints: ['unpack-worker', 'write-worker', 'hash-worker', 'warm'].map((n) =>
    path.join(src, 'archive', `${n}.ts`),
  ),
  outdir: path.join(tmp, 'archive'),
  outExtension: { '.js': '.cjs' },
  external: ['tar'],
});
/**
 * A file compiled from a V8 code cache cannot call import() on Node 20: V8 brings the script's
 * dynamic import callback back from the cache as the build process's, which this process does
 * not know ("A dynamic import callback was not specified"). So their import() calls (a built-in
 * or a library loaded when first needed, execa's chunk) go through import.cjs, a plain CommonJS
 * file beside them that Node compiles itself: its import() resolves from dist/bundle/, as theirs did.
 */
const IMPORTER = 'import.cjs';
fs.writeFileSync(
  path.join(tmp, IMPORTER),
  "'use strict';\n// See scripts/bundle.mjs: the import() of the files compiled from a code cache.\nmodule.exports = (specifier) => import(specifier);\n",
);
const importsViaFile = (file) => {
  // esbuild prints a string of code in double quotes (undici's comments have import('…') in single ones).
  const out = fs.readFileSync(file, 'utf8').replace(/(?<![\w$.])import\((?=")/g, `require("./${IMPORTER}")(`);
  if (/(?<![\w$.])import\(\s*[^"'\s]/.test(out))
    throw new Error(`bundle: ${file} calls import() on a variable, which fails from a code cache on Node 20`);
  fs.writeFileSync(file, out);
};
// The files' compiled code, made by the Node that builds (npm install's prepare): another Node's V8 refuses it.
// read.cjs's cache holds what its top level and status, list and history run on a throw-away site
// (--warm; an eager one, every function, was no faster than the top level's alone: docs/benchmarks.md);
// install.cjs's every function (less main-thread CPU than its top level's alone; WEBTREE_CACHE_LAZY=1
// at build makes that one instead, to measure the two again), and undici.cjs's (its top level sets a V8 flag).
const caches = {
  'read.cjs': ['--warm'],
  'install.cjs': process.env.WEBTREE_CACHE_LAZY ? [] : ['--eager'],
  'undici.cjs': ['--eager'],
};
/**
 * One ES module view of each CommonJS module, not one per importer: esbuild wraps a module's
 * require() in __toESM at every module that imports its default (14 of read.cjs's modules import
 * node:path, 14 node:fs/promises), each a new object with a getter per export. The view is a
 * read-only copy, so importers can share it. A bundle without the helper is left as it is.
 */
const sharedEsmViews = (file) => {
  const text = fs.readFileSync(file, 'utf8');
  const helper = 'var __toESM = (mod, isNodeMode, target) => (';
  if (!text.includes(helper)) return;
  fs.writeFileSync(
    file,
    text.replace(
      helper,
      'var __esmViews = new WeakMap();\n' +
        'var __toESM = (mod, isNodeMode) => { if (mod == null || typeof mod !== "object" && typeof mod !== "function") return __toESMEach(mod, isNodeMode); ' +
        'const key = isNodeMode ? 1 : 0; let v = __esmViews.get(mod); if (!v) __esmViews.set(mod, v = []); return v[key] ??= __toESMEach(mod, isNodeMode); };\n' +
        'var __toESMEach = (mod, isNodeMode, target) => (',
    ),
  );
};
for (const [f, flags] of Object.entries(caches)) {
  importsViaFile(path.join(tmp, f));
  if (f === 'read.cjs') sharedEsmViews(path.join(tmp, f));
  execFileSync(
    process.execPath,
    [path.join(root, 'scripts', 'code-cache.mjs'), path.join(tmp, f), path.join(final, f), ...flags],
    { stdio: 'inherit' },
  );
}
const meta = {};
for (const r of [result, read, install, undici, threads, launch])
  for (const [file, o] of Object.entries(r.metafile.outputs)) {
    if (file.endsWith('.map')) continue;
    meta[path.relative(tmp, path.join(root, file))] = Object.keys(o.inputs);
  }
meta[IMPORTER] = ['scripts/bundle.mjs'];
fs.writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify(meta));
const old = `${final}.old-${process.pid}`;
if (fs.existsSync(final)) fs.renameSync(final, old);
fs.renameSync(tmp, final);
fs.rmSync(old, { recursive: true, force: true });
