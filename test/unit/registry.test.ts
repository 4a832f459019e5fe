/** Every command in the registry has a name, a summary and a usage, and answers --help. */
import { describe, expect, it } from 'vitest';
import { commandUsage, main, mainUsage } from '../../src/cli.js';
import { COMMANDS } from '../../src/commands/registry.js';

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => void (out += s), err: (s) => void (err += s) }, { WEBTREE_CONFIG: '/nonexistent/webtree.yaml' });
  return { code, out, err };
}

describe('the command registry', () => {
  it('names are unique and every command is listed in the main usage', () => {
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of ['init', 'install', 'activate', 'rollback', 'list', 'status', 'history', 'prune', 'verify']) expect(names).toContain(n);
    for (const c of COMMANDS) expect(mainUsage()).toContain(`  ${c.name} `);
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))('%s has a summary, options with descriptions, and --help', async (_n, c) => {
    expect(c.summary.length).toBeGreaterThan(10);
    for (const [name, o] of Object.entries(c.options)) expect(o.description, name).toBeTruthy();
    expect(commandUsage(c)).toMatch(new RegExp(`^usage: webtree ${c.name}`));
    const r = await run([c.name, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(c.summary);
  });

  it('bad usage is exit 2 with a hint, never a stack trace', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown command "frobnicate"\n {2}hint: commands: init, install/);
    const badOpt = await run(['install', 'x.tar.gz', '--bogus']);
    expect(badOpt.code).toBe(2);
    expect(badOpt.err).toMatch(/install: Unknown option '--bogus'/);
    const count = await run(['activate', 'TV']);
    expect(count.code).toBe(2);
    expect(count.err).toMatch(/activate takes 2 arguments \(PRODUCT VERSION\), got 1/);
    const dry = await run(['status', '--dry-run']);
    expect(dry.code).toBe(2);
    for (const r of [unknown, badOpt, count, dry]) expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('a missing site file is exit 2 naming it and how to make one', async () => {
    const r = await run(['status']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/site file \/nonexistent\/webtree.yaml does not exist/);
    expect(r.err).toMatch(/webtree init --prefix DIR/);
  });
});
