/**
 * Startup stays light: status and help load no command but their own, and none of the heavy
 * libraries (pg, ejs, tar, execa, undici) or the executor, and status none of Node's stream
 * modules; install loads none of those libraries, nor
 * the YAML parser. Recorded by a module-resolve hook in the
 * real CLI, which runs the bundle (scripts/bundle.mjs): each bundle file loaded stands for the
 * sources dist/bundle/meta.json says it holds. Timing itself is measured by bench/status.mjs,
 * never asserted here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, makeSandbox, ROOT, type Sandbox } from '../helpers/cli.js';

const HOOK = path.join(ROOT, 'test', 'fixtures', 'record-loads.mjs');
const BUILTINS = path.join(ROOT, 'test', 'fixtures', 'record-builtins.cjs');
const HEAVY = /\/node_modules\/(pg|ejs|tar|execa|undici)\//;

let sb: Sandbox;
beforeAll(async () => {
  sb = await makeSandbox();
});
afterAll(async () => sb.cleanup());

const BUNDLE = path.join(ROOT, 'dist', 'bundle');

/** The modules behind the files loaded: a bundle file's sources (as /src/... or /node_modules/...), any other file itself. */
async function loads(args: string[]): Promise<{ exitCode: number; modules: string[]; files: string[] }> {
  const r = await execa(process.execPath, ['--import', HOOK, BIN, '--config', sb.config, ...args], { reject: false });
  const files = [
    ...new Set(
      r.stderr
        .split('\n')
        .filter((l) => l.startsWith('LOAD '))
        .map((l) => new URL(l.slice(5)).pathname),
    ),
  ];
  const meta = JSON.parse(readFileSync(path.join(BUNDLE, 'meta.json'), 'utf8')) as Record<string, string[]>;
  const modules = files.flatMap((f) =>
    f.startsWith(BUNDLE + '/') ? (meta[path.relative(BUNDLE, f)] ?? [`unmapped ${f}`]).map((s) => `/${s}`) : [f],
  );
  return { exitCode: r.exitCode ?? -1, modules: [...new Set(modules)], files };
}

describe('what a command loads', () => {
  it('status: no heavy library, no executor, no other command', async () => {
    const r = await loads(['status']);
    expect(r.exitCode).toBe(0);
    expect(r.files.some((f) => f.endsWith('/dist/bundle/cli.cjs'))).toBe(true);
    // From read.cjs alone: not install's own file (install.cjs), nor the full CLI.
    expect(r.files.filter((f) => /\/dist\/bundle\/(read|install|undici)\.cjs$|full\.js$/.test(f))).toEqual([
      path.join(BUNDLE, 'read.cjs'),
    ]);
    expect(r.modules.some((m) => m.endsWith('/src/commands/status.ts'))).toBe(true);
    expect(r.modules.filter((m) => HEAVY.test(m) || m.startsWith('unmapped'))).toEqual([]);
    expect(
      r.modules.filter((m) => /\/src\/(apply\/executor|archive\/|commands\/(tx|install|render|switch-web))/.test(m)),
    ).toEqual([]);
  });

  it("status: none of Node's terminal, network or stream modules (node:tty brings all three)", async () => {
    const r = await execa(process.execPath, ['--require', BUILTINS, BIN, '--config', sb.config, 'status'], {
      reject: false,
    });
    expect(r.exitCode).toBe(0);
    const builtins = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('BUILTIN '))
      .map((l) => l.slice(8));
    expect(builtins).toContain('vm'); // the hook saw the front door's code cache load
    expect(builtins.filter((m) => /^(tty|net|stream)$/.test(m))).toEqual([]);
  });

  it('help: the registry only', async () => {
    const r = await loads(['help', 'install']);
    expect(r.exitCode).toBe(0);
    expect(r.modules.filter((m) => HEAVY.test(m) || /\/node_modules\/yaml\//.test(m))).toEqual([]);
    expect(r.modules.some((m) => m.endsWith('/src/commands/install.ts'))).toBe(false);
    expect(r.modules.some((m) => m.endsWith('/src/commands/help.ts'))).toBe(true);
  });

  it('install: none of the heavy libraries at start-up (they are loaded by what needs them)', async () => {
    // An archive that does not exist: the command's code is loaded, then it stops before any work.
    const r = await loads(['install', path.join(sb.dir, 'tv-9.9.tar.gz')]);
    expect(r.exitCode).toBe(2);
    expect(r.modules.some((m) => m.endsWith('/src/commands/install.ts'))).toBe(true);
    // From install.cjs and the reader's warm.cjs: no ES module of the bundle, nor the fetch's undici.cjs.
    expect(r.files.filter((f) => f.startsWith(BUNDLE + '/') && !/(install|cli|archive\/warm)\.cjs$/.test(f))).toEqual(
      [],
    );
    // Not even tar: the reader thread bin/webtree.js starts early (src/archive/warm.ts) decodes
    // plain headers itself (src/archive/ustar.ts) and loads node-tar only for another kind. Nor
    // yaml: the site file is read by the fast reader, the catalog from its cache, and install
    // needs nothing of the release file's parser.
    expect(r.modules.filter((m) => HEAVY.test(m) || m.startsWith('unmapped'))).toEqual([]);
    expect(r.modules.filter((m) => /\/node_modules\/yaml\//.test(m))).toEqual([]);
  });

  it('the hook sees heavy libraries when a command needs them (render --diff loads ejs)', async () => {
    const r = await loads(['render', '--diff']);
    expect(r.exitCode).toBe(3);
    expect(r.modules.some((m) => /\/node_modules\/ejs\//.test(m))).toBe(true);
  });
});
