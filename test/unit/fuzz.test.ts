/**
 * Fuzz the two parsers that read what operators type: the site-file loader and the archive-name
 * parser. A seeded generator mutates valid inputs (YAML damage, wrong types, unknown keys, huge
 * numbers, unicode, empty files, binary bytes, deep nesting; names with odd versions, extensions,
 * unicode, separators, great length). Every input is either accepted whole or refused with a
 * WebtreeError of exit status 2: never another exception. Thousands of cases run in-process, a
 * few dozen through the real CLI (exit 2, no stack frames on stderr).
 *
 * Replay a failure with the seed it prints: WEBTREE_FUZZ_SEED=<seed> npx vitest run test/unit/fuzz.test.ts
 * WEBTREE_FUZZ_CASES sets the in-process count per parser (default 3000).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identifyArchive } from '../../src/catalog/archive-name.js';
import { loadCatalog } from '../../src/catalog/load.js';
import type { ProductDescriptor } from '../../src/catalog/types.js';
import { versionProblem } from '../../src/catalog/version.js';
import { WebtreeError } from '../../src/core/errors.js';
import { loadSite } from '../../src/site/load.js';
import { SETTINGS } from '../../src/site/schema.js';
import { siteYaml } from '../../src/site/write.js';
import { runCli } from '../helpers/cli.js';
import { FUZZ_CASES, FUZZ_SEED, prng, type Rng } from '../helpers/prng.js';

const SEED = FUZZ_SEED;
const CASES = FUZZ_CASES;

const ODD_STRINGS = [
  '',
  ' ',
  '\t',
  '~',
  'null',
  'true',
  'no',
  'yes',
  'NaN',
  '.nan',
  '.inf',
  '-.inf',
  '1e400',
  '-0',
  '0x1F',
  '0o17',
  '1_000',
  '99999999999999999999999999',
  '-1',
  '0',
  '3.5',
  '2147483648',
  '9007199254740993',
  '"quoted"',
  "'single'",
  '[1, 2]',
  '{a: 1}',
  '&anchor x',
  '*alias',
  '!!binary aGVsbG8=',
  '!!str',
  '!custom tag',
  '|',
  '>',
  '- item',
  '? key',
  '%YAML 1.2',
  '---',
  '...',
  'é',
  'Ω≈ç√∫',
  '日本語',
  '🙂🚀',
  '\u202eevil',
  '\u0000',
  '\u0007',
  '\ufeff',
  '\ud800',
  'a\u0301',
  '../../etc/passwd',
  '/srv/../x',
  'C:\\Windows',
  '\\\\server\\share',
  'x'.repeat(5000),
  '$(rm -rf /)',
  '`id`',
  '${HOME}',
  '%s%n',
  '<script>',
  "'; DROP TABLE x; --",
];

const SYNTAX = [
  ':',
  '{',
  '}',
  '[',
  ']',
  '&',
  '*',
  '!',
  '|',
  '>',
  "'",
  '"',
  '%',
  '@',
  '`',
  '#',
  '-',
  '?',
  ',',
  '\t',
  '\n',
  '  ',
  ': :',
  '\r',
  '\\',
];

function randomUnicode(r: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const cp = r.pick([
      () => r.int(0x20, 0x7e),
      () => r.int(0, 0x1f),
      () => r.int(0x80, 0x7ff),
      () => r.int(0x800, 0xffff),
      () => r.int(0x10000, 0x10ffff),
    ])();
    s += cp >= 0xd800 && cp <= 0xdfff ? '\ufffd' : String.fromCodePoint(cp);
  }
  return s;
}

function randomValue(r: Rng, depth = 0): string {
  switch (r.int(0, 7)) {
    case 0:
      return r.pick(ODD_STRINGS);
    case 1:
      return String(r.pick([r.int(-1e9, 1e9), r.next() * 1e308, -r.next(), 2 ** r.int(0, 1100)]));
    case 2:
      return JSON.stringify(randomUnicode(r, r.int(0, 40)));
    case 3:
      return depth > 3 ? '[]' : `[${Array.from({ length: r.int(0, 4) }, () => randomValue(r, depth + 1)).join(', ')}]`;
    case 4:
      return depth > 3
        ? '{}'
        : `{${Array.from({ length: r.int(0, 3) }, () => `${r.pick(['a', 'name', 'host', 'port', 'www', ''])}: ${randomValue(r, depth + 1)}`).join(', ')}}`;
    case 5:
      return r.pick(['true', 'false', 'null', '~', '']);
    case 6:
      return `/${randomUnicode(r, r.int(0, 12)).replace(/[\n\r]/g, '')}`;
    default:
      return `127.0.0.1:${r.pick(['0', '65536', '-1', '80', '99999999999', 'http', ''])}`;
  }
}

/** A valid site file: what init writes, with a few settings varied. */
function validSite(r: Rng): string {
  const base = `/tmp/fuzz-${r.int(0, 999)}`;
  const values: Record<string, string | number | boolean> = {
    'paths.www': `${base}/www`,
    'paths.products': `${base}/products`,
    'apache.listen': `127.0.0.1:${r.int(1, 65535)}`,
  };
  if (r.chance(0.5)) values['apache.healthTimeout'] = r.int(1, 60);
  if (r.chance(0.3)) values['ecl.enabled'] = r.chance(0.5);
  return siteYaml(
    values,
    [
      { name: 'server3', host: 'server3.example', port: 5442 },
      { name: 'server2', host: 'server2.example', port: 5442 },
    ],
    'fuzz',
  );
}

const deep = (r: Rng, open: string, close: string) => {
  const n = r.chance(0.9) ? r.pick([20, 100, 300]) : 6000; // the deep ones cost ~0.1 s each
  return `paths:\n  www: ${open.repeat(n)}1${close.repeat(n)}\n`;
};

/** One malformed (or, now and then, harmlessly changed) site file. */
function mutateSite(r: Rng): string | Buffer {
  let text = validSite(r);
  const lines = () => text.split('\n');
  const setLines = (ls: string[]) => void (text = ls.join('\n'));
  const valueLine = () => {
    const ls = lines();
    const idx = ls
      .map((l, i) => [l, i] as const)
      .filter(([l]) => /^\s+\w+:\s*\S/.test(l))
      .map(([, i]) => i);
    return { ls, i: idx.length ? r.pick(idx) : r.int(0, ls.length - 1) };
  };
  const rounds = r.int(1, 3);
  for (let k = 0; k < rounds; k++) {
    switch (r.int(0, 13)) {
      case 0: {
        // syntax damage at a random place
        const at = r.int(0, text.length);
        text = text.slice(0, at) + r.pick(SYNTAX) + text.slice(at);
        break;
      }
      case 1: {
        // a span deleted
        const at = r.int(0, text.length);
        text = text.slice(0, at) + text.slice(at + r.int(1, 40));
        break;
      }
      case 2: {
        // a value of the wrong type, or an odd one
        const { ls, i } = valueLine();
        ls[i] = `${ls[i].replace(/:\s.*$/, '')}: ${randomValue(r)}`;
        setLines(ls);
        break;
      }
      case 3: {
        // an unknown key, at the top or in a section
        const key = r.pick([
          'extras',
          'path',
          'apache2',
          randomUnicode(r, r.int(1, 8)).replace(/[\n\r:#]/g, 'k'),
          'x'.repeat(300),
        ]);
        text += r.chance(0.5) ? `\n${key}: ${randomValue(r)}\n` : `\napache:\n  ${key}: 1\n`;
        break;
      }
      case 4: {
        // indentation broken
        const ls = lines();
        const i = r.int(0, ls.length - 1);
        ls[i] = r.pick(['', ' ', '   ', '\t', '      ']) + ls[i].trimStart();
        setLines(ls);
        break;
      }
      case 5: {
        // a line duplicated (duplicate keys)
        const ls = lines();
        const i = r.int(0, ls.length - 1);
        ls.splice(i, 0, ls[i]);
        setLines(ls);
        break;
      }
      case 6:
        return r.pick([
          '',
          ' ',
          '\n\n',
          '---',
          '...',
          '~',
          'null',
          '[]',
          '- a\n- b\n',
          '42',
          '"just a string"',
          '\ufeff',
          '#only a comment\n',
        ]);
      case 7: {
        // binary bytes, alone or spliced in
        const bytes = Buffer.from(Array.from({ length: r.int(1, 400) }, () => r.int(0, 255)));
        return r.chance(0.5) ? bytes : Buffer.concat([Buffer.from(text.slice(0, r.int(0, text.length))), bytes]);
      }
      case 8:
        return r.pick([
          () => deep(r, '[', ']'),
          () => deep(r, '{a: ', '}'),
          () =>
            `paths:\n${Array.from({ length: r.chance(0.9) ? r.pick([10, 100]) : 2000 }, (_, d) => `${' '.repeat(2 * d + 2)}k${d}:`).join('\n')} 1\n`,
        ])();
      case 9: {
        // aliases: one anchor and many references (a billion-laughs shape)
        const refs = Array.from({ length: r.pick([2, 20, 200]) }, () => '*a').join(', ');
        return `x: &a [${Array.from({ length: 10 }, () => '"lol"').join(', ')}]\ny: &b [${refs}]\nz: [${Array.from({ length: 200 }, () => '*b').join(', ')}]\npaths:\n  www: *a\n`;
      }
      case 10: {
        // huge or odd numbers where numbers go
        const key = r.pick(SETTINGS.filter((s) => s.type === 'int')).key.split('.');
        text += `\n${key[0]}:\n  ${key[1]}: ${r.pick(['1e400', '-1', '0', '99999999999999999999999', '0.5', '.inf', '.nan', '0x10', '1_0', '9007199254740993'])}\n`;
        break;
      }
      case 11: {
        // unicode in a value
        const { ls, i } = valueLine();
        ls[i] =
          `${ls[i].replace(/:\s.*$/, '')}: ${r.chance(0.5) ? JSON.stringify(randomUnicode(r, r.int(1, 30))) : randomUnicode(r, r.int(1, 30))}`;
        setLines(ls);
        break;
      }
      case 12: {
        // the server list damaged
        text = text.replace(/servers:[\s\S]*?(?=\n\S|$)/, `servers: ${randomValue(r)}`);
        break;
      }
      default: {
        // truncated
        text = text.slice(0, r.int(0, text.length));
        break;
      }
    }
  }
  return text;
}

const EXTS = [
  '.tar.gz',
  '.tgz',
  '.tar',
  '.tar.bz2',
  '.zip',
  '.gz',
  '',
  '.TAR.GZ',
  '.tar.gz.tar.gz',
  '.',
  '..',
  '.tar.gz ',
  '.tar.xz',
];
const STEMS = [
  'tv-',
  'TV-',
  'ConstantsDB-',
  'des_alarms-',
  'QEngine-',
  'EXPO-',
  'EXPO',
  'ChartDirector-',
  'dbiapp_pylib_',
  'wsgi_py_',
  'webpylib-',
  'unknown-',
  '',
  '-',
  '.',
  'tv',
  'tv--',
];

function oddVersion(r: Rng): string {
  return r.pick([
    () => `${r.int(0, 99)}.${r.int(0, 99)}${r.pick(['', 'a', 'b', 'rc1', '_2'])}`,
    () =>
      r.pick([
        'current',
        'previous',
        '..',
        '.',
        '-1',
        '+',
        'v',
        'v1_4a',
        '1..2',
        '1.2.',
        '.1',
        '1/2',
        '1\\2',
        '1 2',
        "1'2",
        '1"2',
        '1;2',
        '1$x',
        '１.０',
        'ⅷ',
        '1\u00002',
      ]),
    () => randomUnicode(r, r.int(1, 12)),
    () => '9'.repeat(r.pick([63, 64, 65, 200, 5000])),
    () => `${r.int(0, 9)}${'.x'.repeat(r.int(1, 40))}`,
  ])();
}

/** One archive name: mostly near-valid, with an odd version, extension, directory or length. */
function archiveName(r: Rng): string {
  let name = `${r.pick(STEMS)}${oddVersion(r)}${r.pick(EXTS)}`;
  if (r.chance(0.2))
    name = r.pick(['/', './', '../', '/tmp/', 'a/b/', '\\', 'C:\\', '//', 'dir with space/', '日本/']) + name;
  if (r.chance(0.1)) name += r.pick(['/', '/.', '\\', '\n', '\u0000']);
  if (r.chance(0.05))
    name = r.pick([
      '',
      '.',
      '..',
      '/',
      '.tar.gz',
      'x'.repeat(r.pick([255, 256, 4096, 100000])),
      randomUnicode(r, r.int(1, 60)),
    ]);
  return name;
}

function archiveOverride(r: Rng): { product?: string; version?: string } {
  const o: { product?: string; version?: string } = {};
  if (r.chance(0.15)) o.product = r.pick(['TV', 'tv', 'EXPO', 'webpylib', '', 'Nope', '../TV', randomUnicode(r, 5)]);
  if (r.chance(0.15)) o.version = oddVersion(r);
  return o;
}

let dir: string;
let catalog: ProductDescriptor[];
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-fuzz-'));
  catalog = await loadCatalog();
  console.log(`fuzz seed ${SEED} (replay: WEBTREE_FUZZ_SEED=${SEED})`);
});
afterAll(async () => fs.rm(dir, { recursive: true, force: true }));

/** The one allowed failure: a WebtreeError that exits 2. Anything else fails, naming the seed and case. */
function expectUsageError(err: unknown, what: string): void {
  if (err instanceof WebtreeError && err.exitCode === 2) return;
  const shown = err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err);
  throw new Error(
    `seed ${SEED}, ${what}: not a clear exit 2 but ${err instanceof WebtreeError ? `exit ${err.exitCode}: ` : ''}${shown}`,
  );
}

const show = (x: string | Buffer) =>
  JSON.stringify(typeof x === 'string' ? x.slice(0, 300) : `<${x.length} bytes> ${x.toString('latin1').slice(0, 200)}`);

describe(`fuzz (seed ${SEED})`, () => {
  it(`the site-file loader: ${CASES} mutated files, each accepted or refused with exit 2`, async () => {
    const r = prng(SEED);
    const file = path.join(dir, 'webtree.yaml');
    let refused = 0;
    for (let i = 0; i < CASES; i++) {
      const input = mutateSite(r);
      await fs.writeFile(file, input);
      try {
        const site = await loadSite(file);
        // Accepted: then it must be a whole, sane site (the mutation was harmless).
        for (const p of Object.values(site.paths)) expect(path.isAbsolute(p), `case ${i}: ${show(input)}`).toBe(true);
        expect(site.database.servers.length).toBeGreaterThanOrEqual(2);
      } catch (err) {
        expectUsageError(err, `site case ${i} ${show(input)}`);
        expect((err as WebtreeError).message).toMatch(/site file/);
        refused++;
      }
    }
    console.log(`site loader: ${refused} of ${CASES} refused with exit 2, ${CASES - refused} accepted`);
    expect(refused).toBeGreaterThan(CASES / 2);
  }, 120_000);

  it(`the archive-name parser: ${CASES} names, each identified or refused with exit 2`, () => {
    const r = prng(SEED ^ 0x5eed);
    let refused = 0;
    for (let i = 0; i < CASES; i++) {
      const name = archiveName(r);
      const override = archiveOverride(r);
      try {
        const id = identifyArchive(name, catalog, override);
        expect(
          catalog.some((d) => d.name === id.product),
          `case ${i}: ${show(name)}`,
        ).toBe(true);
        expect(versionProblem(id.version), `case ${i}: ${show(name)} ${JSON.stringify(override)}`).toBeUndefined();
      } catch (err) {
        expectUsageError(err, `name case ${i} ${show(name)} ${JSON.stringify(override)}`);
        refused++;
      }
    }
    console.log(`archive names: ${refused} of ${CASES} refused with exit 2, ${CASES - refused} identified`);
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(CASES);
  });
});

describe(`fuzz through the CLI (seed ${SEED})`, () => {
  const CLI_CASES = 24;
  /** No stack frame ("    at f (file:…)") may reach the operator. */
  const noStack = (stderr: string, what: string) => expect(stderr, what).not.toMatch(/^\s+at \S/m);

  it(`${CLI_CASES} malformed site files: exit 2 and a message, never a stack trace`, async () => {
    const r = prng(SEED ^ 0xc11);
    let n = 0;
    for (let i = 0; n < CLI_CASES && i < CLI_CASES * 20; i++) {
      const input = mutateSite(r);
      const file = path.join(dir, `cli-${i}.yaml`);
      await fs.writeFile(file, input);
      const accepted = await loadSite(file).then(
        () => true,
        () => false,
      );
      if (accepted) continue; // only malformed files here
      n++;
      const res = await runCli(['--config', file, r.pick(['status', 'verify', 'list'])]);
      const what = `seed ${SEED} site ${i}: ${show(input)}\n${res.stderr}`;
      expect(res.exitCode, what).toBe(2);
      expect(res.stderr, what).toMatch(
        /^webtree: bad site file|^webtree: cannot read site file|^webtree: the site file \S+ (is empty|holds binary data|is \d+ bytes, more than any such file webtree writes)/m,
      );
      noStack(res.stderr, what);
    }
    expect(n).toBe(CLI_CASES);
  }, 300_000);

  it(`${CLI_CASES} bad archive names given to install: exit 2 and a message, never a stack trace`, async () => {
    const r = prng(SEED ^ 0xa4c);
    await fs.writeFile(path.join(dir, 'cli-file'), 'a file, not a directory');
    for (let i = 0; i < CLI_CASES; i++) {
      // argv cannot carry NUL; everything else goes in as typed.
      const name = archiveName(r).replace(/\u0000/g, '');
      // Under a missing directory, under a regular file (ENOTDIR), or with a component too long for the file system.
      const where = [path.join(dir, 'missing'), path.join(dir, 'cli-file'), path.join(dir, 'y'.repeat(300))][i % 3];
      const res = await runCli(['--config', path.join(dir, 'none.yaml'), 'install', path.join(where, name)]);
      const what = `seed ${SEED} name ${i}: ${show(name)}\n${res.stderr}`;
      expect(res.exitCode, what).toBe(2);
      expect(res.stderr, what).toMatch(/^webtree: /);
      noStack(res.stderr, what);
    }
  }, 300_000);
});
