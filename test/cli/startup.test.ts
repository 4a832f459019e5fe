/**
 * Startup stays light: status and help load no command but their own, and none of the heavy
 * libraries (pg, ejs, tar, execa) or the executor. Recorded by a module-resolve hook in the
 * real CLI; timing itself is measured by bench/status.mjs, never asserted here.
 */
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, makeSandbox, ROOT, type Sandbox } from '../helpers/cli.js';

const HOOK = path.join(ROOT, 'test', 'fixtures', 'record-loads.mjs');
const HEAVY = /\/node_modules\/(pg|ejs|tar|execa)\//;

let sb: Sandbox;
beforeAll(async () => {
  sb = await makeSandbox();
});
afterAll(async () => sb.cleanup());

async function loads(args: string[]): Promise<{ exitCode: number; modules: string[] }> {
  const r = await execa(process.execPath, ['--import', HOOK, BIN, '--config', sb.config, ...args], { reject: false });
  return { exitCode: r.exitCode ?? -1, modules: [...new Set(r.stderr.split('\n').filter((l) => l.startsWith('LOAD ')).map((l) => l.slice(5)))] };
}

describe('what a command loads', () => {
  it('status: no heavy library, no executor, no other command', async () => {
    const r = await loads(['status']);
    expect(r.exitCode).toBe(0);
    expect(r.modules.some((m) => m.endsWith('/dist/commands/status.js'))).toBe(true);
    expect(r.modules.filter((m) => HEAVY.test(m))).toEqual([]);
    expect(r.modules.filter((m) => /\/dist\/(apply\/executor|archive\/|commands\/(tx|install|render|switch-web))/.test(m))).toEqual([]);
  });

  it('help: the registry only', async () => {
    const r = await loads(['help', 'install']);
    expect(r.exitCode).toBe(0);
    expect(r.modules.filter((m) => HEAVY.test(m) || /\/node_modules\/yaml\//.test(m))).toEqual([]);
    expect(r.modules.some((m) => m.endsWith('/dist/commands/install.js'))).toBe(false);
  });

  it('the hook sees heavy libraries when a command needs them (render --diff loads ejs)', async () => {
    const r = await loads(['render', '--diff']);
    expect(r.exitCode).toBe(3);
    expect(r.modules.some((m) => /\/node_modules\/ejs\//.test(m))).toBe(true);
  });
});
