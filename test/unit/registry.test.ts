/** Every command in the registry has a name, a summary, a usage and examples, and answers --help and help. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { commandUsage, mainUsage } from '../../src/commands/usage.js';
import { COMMANDS, findCommand } from '../../src/commands/registry.js';
import { AFTER_CHECKS, afterCheck } from '../../src/after/checks.js';
import { GLOBAL } from '../../src/commands/usage.js';

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(
    argv,
    { out: (s) => void (out += s), err: (s) => void (err += s) },
    { WEBTREE_CONFIG: '/nonexistent/webtree.yaml' },
  );
  return { code, out, err };
}

describe('the command registry', () => {
  it('names are unique and every command is listed in the main usage', () => {
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of ['init', 'install', 'activate', 'rollback', 'list', 'status', 'history', 'prune', 'verify'])
      expect(names).toContain(n);
    for (const c of COMMANDS) expect(mainUsage(COMMANDS)).toContain(`  ${c.name} `);
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))(
    '%s has a summary, options with descriptions, and --help',
    async (_n, c) => {
      expect(c.summary.length).toBeGreaterThan(10);
      for (const [name, o] of Object.entries(c.options)) expect(o.description, name).toBeTruthy();
      expect(commandUsage(c)).toMatch(new RegExp(`^usage: webtree ${c.name}`));
      const r = await run([c.name, '--help']);
      expect(r.code).toBe(0);
      expect(r.out).toContain(c.summary);
    },
  );

  it.each(COMMANDS.map((c) => [c.name, c] as const))('%s has 2 to 4 examples that its own options parse', (_n, c) => {
    expect(c.examples.length).toBeGreaterThanOrEqual(2);
    expect(c.examples.length).toBeLessThanOrEqual(4);
    for (const e of c.examples) {
      expect(e.says.length, e.cmd).toBeGreaterThan(5);
      // The words up to a shell redirection, $VARS standing for a value.
      const words = e.cmd.split(/\s+/);
      const argv = words.slice(0, words.indexOf('>') === -1 ? undefined : words.indexOf('>'));
      const specs = { ...GLOBAL, ...c.options };
      const parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: Object.fromEntries(
          Object.entries(specs).map(([n, o]) => [n, { type: o.type, multiple: o.multiple === true }]),
        ),
      });
      expect(parsed.positionals[0], e.cmd).toBe(c.name);
      const n = parsed.positionals.length - 1;
      expect(n >= c.positionals.min && n <= c.positionals.max, e.cmd).toBe(true);
      if (parsed.values['dry-run']) expect(c.changes, e.cmd).toBe(true);
      if (c.verbs) expect(c.verbs).toContain(parsed.positionals[1]);
    }
  });

  it('help COMMAND is COMMAND --help: usage, options and examples; help alone is the main usage', async () => {
    for (const c of COMMANDS) {
      const a = await run(['help', c.name]);
      const b = await run([c.name, '--help']);
      expect(a.code).toBe(0);
      expect(a.out).toBe(b.out);
      expect(a.out).toContain('examples:\n');
      for (const e of c.examples) expect(a.out).toContain(`  webtree ${e.cmd}\n      ${e.says}\n`);
    }
    const main = await run(['help']);
    expect(main.code).toBe(0);
    expect(main.out).toBe(mainUsage(COMMANDS) + '\n');
    expect((await run(['help', 'apache', 'graceful'])).out).toBe(commandUsage(findCommand('apache')!) + '\n');
  });

  it('help of an unknown command or verb is exit 2 naming it and listing what there is', async () => {
    const r = await run(['help', 'instal']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('help: unknown command "instal"');
    expect(r.err).toContain(`hint: commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    const v = await run(['help', 'apache', 'reload']);
    expect(v.code).toBe(2);
    expect(v.err).toContain('unknown apache verb "reload"');
    expect(v.err).toContain('verbs: start, stop, restart, graceful, status, configtest');
    expect((await run(['help', 'status', 'x'])).code).toBe(2);
  });

  it('every kind of after-check a change names is found by the command that recovers it', async () => {
    // The kinds named where a change or a going back records its check in the journal.
    const src = path.join(import.meta.dirname, '..', '..', 'src');
    const kinds = new Set<string>();
    for (const f of await fs.readdir(src, { recursive: true })) {
      if (!f.endsWith('.ts')) continue;
      for (const m of (await fs.readFile(path.join(src, f), 'utf8')).matchAll(/kind: '([^']+)',\s*data\b/g))
        kinds.add(m[1]);
    }
    expect(kinds.size).toBeGreaterThanOrEqual(6);
    expect(Object.keys(AFTER_CHECKS).sort()).toEqual([...kinds].sort());
    for (const k of kinds) expect(typeof afterCheck(k), k).toBe('function');
    expect(afterCheck('no-such-kind')).toBeUndefined();
    expect(afterCheck('toString')).toBeUndefined();
  });

  it('bad usage is exit 2 with a hint, never a stack trace', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown command "frobnicate"\n {2}hint: commands: init, install/);
    const badOpt = await run(['install', 'x.tar.gz', '--bogus']);
    expect(badOpt.code).toBe(2);
    expect(badOpt.err).toMatch(/^webtree: unknown option --bogus\n  hint: webtree help install lists its options/);
    // A changing command with the option with which it only reads: as a read command.
    const diffDry = await run(['render', '--diff', '--dry-run']);
    expect(diffDry.code).toBe(2);
    expect(diffDry.err).toMatch(/render --diff changes nothing; --dry-run does not apply/);
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
