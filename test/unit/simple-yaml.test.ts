/**
 * The site file's fast reader (src/site/simple-yaml.ts) beside the yaml package: whatever the fast
 * reader accepts, the yaml package reads without an error as the same value; what it does not
 * accept it leaves to the yaml package (undefined). Files init writes are accepted (else status
 * would load the yaml package every time). A seeded generator mutates them towards the edges of the
 * subset: odd scalars, indentation, duplicate and odd keys, comments, document markers.
 *
 * Replay a failure with the seed it prints: WEBTREE_FUZZ_SEED=<seed> npx vitest run test/unit/simple-yaml.test.ts
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadSite, readSite } from '../../src/site/load.js';
import { DEFAULT_SERVERS } from '../../src/site/schema.js';
import { parseSimpleYaml } from '../../src/site/simple-yaml.js';
import { siteYaml, type SiteValues } from '../../src/site/write.js';
import { FUZZ_CASES, FUZZ_SEED, prng } from '../helpers/prng.js';

const SEED = FUZZ_SEED;
const CASES = FUZZ_CASES;

/** The yaml package's reading, as site/read-yaml.ts asks for it; undefined when it reports an error. */
function yamlValue(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) return undefined;
  return doc.toJS({ maxAliasCount: 100 }) ?? {};
}

/** The fast reader agrees with the yaml package, or leaves the text to it. True when it accepted. */
function agrees(text: string): boolean {
  const fast = parseSimpleYaml(text);
  if (fast === undefined) return false;
  const full = yamlValue(text);
  expect(full, `yaml refuses what the fast reader accepted:\n${text}`).toBeDefined();
  expect(fast.value, text).toStrictEqual(full);
  return true;
}

const SERVERS = [
  { name: 'server3', host: 'server3.ctio.noao.edu', port: 5442 },
  { name: 'server2', host: '127.0.0.1', port: 5433 },
];
const INIT_FILES: SiteValues[] = [
  {},
  { 'paths.www': '/tmp/sandbox/www', 'paths.products': '/tmp/sandbox/dbwebtools', 'apache.listen': '127.0.0.1:8080' },
  { 'paths.www': '/s/my www', 'apache.eups.setups': '/e/setups.sh', 'apache.user': 'codemanager' },
  { 'watch.mail.to': 'ops@example.org', 'watch.mail.from': 'webtree@example.org', 'watch.mail.smtp': 'mail:25' },
  { 'apache.serverAdmin': '"quoted"@example.org', 'logs.interval': 86400, 'ecl.enabled': false },
  { 'database.name': '5442', 'apache.serverName': 'true', 'apache.pythonHome': '/opt/py # not a comment' },
];
const initText = (v: SiteValues, servers = SERVERS) => siteYaml(v, servers, 'header\nwritten by the test');

describe('the site file without the yaml package', () => {
  it('reads every file init writes, as the yaml package does', () => {
    for (const v of INIT_FILES) expect(agrees(initText(v)), initText(v)).toBe(true);
    expect(agrees(initText({}, DEFAULT_SERVERS))).toBe(true);
  });

  it.each([
    ['scalars of the core schema', 'a:\n  i: 5442\n  n: -7\n  p: +5\n  z: 007\n  t: True\n  f: FALSE\n  u: ~\n  e:\n'],
    ['quoted scalars', `a:\n  s: 'it''s # not a comment'\n  d: "5442"\n  x: "a'b"\n`],
    ['comments', 'a: # comment\n  # comment\n  b: c d  # comment\n  e: f#g\n'],
    ['flow collections', 'a:\n  l: [x, y z, 1, true]\n  e: []\n  m:\n    - { n: a, p: 1 }\n    - {}\n'],
    ['deeper lists and maps', 'a:\n      b:\n        - c\n        - 5\n      d: e\nf: g\n'],
  ])('accepts %s as the yaml package reads them', (_name, text) => {
    expect(agrees(text)).toBe(true);
  });

  it.each([
    ['a tab', 'a:\n\tb: 1\n'],
    ['a float', 'a:\n  b: 1.5\n'],
    ['a hex number', 'a:\n  b: 0x1F\n'],
    ['an anchor', 'a:\n  b: &x 1\n'],
    ['a tag', 'a:\n  b: !!str 1\n'],
    ['a block scalar', 'a:\n  b: |\n    text\n'],
    ['a multi-line scalar', 'a:\n  b: one\n    two\n'],
    ['a duplicate key', 'a:\n  b: 1\n  b: 2\n'],
    ['a mapping in a list', 'a:\n  - b: 1\n'],
    ['a backslash escape', 'a:\n  b: "x\\ny"\n'],
    ['a key named like a boolean', 'true:\n  b: 1\n'],
    ['__proto__', '__proto__:\n  b: 1\n'],
    ['a document marker', '---\na:\n  b: 1\n'],
    ['a trailing comma', 'a:\n  b: [x, y,]\n'],
    ['non-ASCII text', 'a:\n  b: café\n'],
    ['a carriage return', 'a:\r\n  b: 1\r\n'],
    ['a flow mapping document', '{}'],
    ['a mis-indented key', 'a:\n  b: 1\n c: 2\n'],
  ])('leaves %s to the yaml package', (_name, text) => {
    expect(parseSimpleYaml(text)).toBeUndefined();
  });

  it(`agrees with the yaml package on ${CASES} mutated site files (seed ${SEED})`, () => {
    const rng = prng(SEED);
    const VALUES = [
      '1.5',
      '0x1F',
      '0o17',
      '-0',
      '+5',
      '007',
      '.inf',
      '-.inf',
      '.nan',
      '1e3',
      '5.',
      '.5',
      'yes',
      'no',
      'True',
      'TRUE',
      'tRUE',
      '~',
      'Null',
      'NULL',
      "'a''b'",
      "'a'b'",
      "''",
      '""',
      '"x"',
      '"a\\"b"',
      'a #b',
      'a#b',
      'a: b',
      'a:b',
      'x:',
      '[a, b]',
      '[]',
      '{}',
      '{ a: 1 }',
      '{a: 1, a: 2}',
      '[a,]',
      '[a, [b]]',
      '- x',
      '-x',
      '-',
      '&a x',
      '*a',
      '!!str 5',
      '|',
      '>',
      '@x',
      '`x`',
      '%x',
      '?x',
      ':x',
      'a  b',
      "'a # b'",
      '"1"',
      '12345678901234567890',
      '1_000',
      '0b101',
      '<www>/x',
      '/a/b c',
      'é',
      ' x',
      '# c',
      "'",
      '"',
      '{',
      '[',
    ];
    const KEYS = [
      'true',
      'null',
      '__proto__',
      '1a',
      'a b',
      '"q"',
      'x',
      'servers',
      'www',
      'k'.repeat(1100),
      '? k',
      '-k',
    ];
    const base = INIT_FILES.map((v) => initText(v));
    let accepted = 0;
    for (let n = 0; n < CASES; n++) {
      const lines = rng.pick(base).split('\n');
      for (let m = rng.int(1, 3); m > 0; m--) {
        const i = rng.int(0, lines.length - 1);
        const line = lines[i];
        const kv = /^(\s*)([^:#\s][^:]*):(.*)$/.exec(line);
        switch (rng.int(0, 7)) {
          case 0:
            if (kv) lines[i] = `${kv[1]}${kv[2]}: ${rng.pick(VALUES)}`;
            break;
          case 1:
            if (kv) lines[i] = `${kv[1]}${rng.pick(KEYS)}:${kv[3]}`;
            break;
          case 2:
            lines[i] = ' '.repeat(rng.int(0, 3)) + line.trimStart();
            break;
          case 3:
            lines.splice(i, 0, line);
            break;
          case 4:
            lines.splice(i, 1);
            break;
          case 5:
            lines.splice(i, 0, rng.pick(['', '  # c', '---', '...', '  - x', '\t', 'a: 1', '%YAML 1.2']));
            break;
          case 6:
            if (kv) lines[i] = `${kv[1]}${kv[2]}:${rng.pick([' ', '', '  ', ' # c ', '\t'])}${kv[3].trim()}`;
            break;
          default:
            if (kv) lines[i] = `${kv[1]}${kv[2]}: ${rng.pick(VALUES)} # ${rng.pick(VALUES)}`;
        }
      }
      const text = lines.join('\n');
      try {
        if (agrees(text)) accepted++;
      } catch (err) {
        throw new Error(`seed ${SEED}, case ${n}: ${(err as Error).message}`);
      }
    }
    // Both sides exercised: many accepted (else the comparison proves little), many left to the yaml package.
    expect(accepted).toBeGreaterThan(CASES / 10);
    expect(accepted).toBeLessThan(CASES);
  });

  it('loadSite reads an init file as readSite does, and a problem with its line as before', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-simple-yaml-'));
    try {
      const file = path.join(dir, 'webtree.yaml');
      const text = initText(INIT_FILES[3]);
      await fs.writeFile(file, text);
      expect(await loadSite(file)).toStrictEqual(readSite(text, file).site);
      // A problem the fast reader's value shows is told by the yaml package's reading: with its line.
      await fs.writeFile(file, text.replace('  wsgiProcesses: 2', '  wsgiProcesses: two'));
      await expect(loadSite(file)).rejects.toMatchObject({
        exitCode: 2,
        details: expect.stringMatching(/webtree\.yaml:\d+: apache\.wsgiProcesses: must be a positive whole number/),
      });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
