/**
 * The damaged-state corpus: every state file webtree reads (the lock, the journal, history.jsonl,
 * a manifest, rendered.json, the site file) damaged in every way (empty, truncated, null, {}, [],
 * a field missing, a field of the wrong kind, binary, a directory, a FIFO, unreadable), each case
 * run through every command. Whatever the damage: no hang, no crash, no stack trace, an exit
 * status of DESIGN.md; a command that fails names the damaged file; verify reports it as a
 * finding; the reads change nothing; and with the file mended the tree is as it was.
 *
 * The commands run in-process (main(), the same code as the CLI) so that the whole corpus stays
 * fast; a bounded sample runs through the built CLI, as the service account for "unreadable"
 * (root reads everything).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { withRoot } from '../../src/core/privilege.js';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { BIN, makeSandbox, type Sandbox } from '../helpers/cli.js';
import { listing } from './tree.js';

let sb: Sandbox;
let site: string;
let state: string;

type FileKey = 'lock' | 'journal' | 'history' | 'manifest' | 'rendered';
const KINDS = [
  'empty',
  'truncated',
  'null',
  'object',
  'list',
  'missing-field',
  'wrong-type',
  'binary',
  'directory',
  'fifo',
] as const;
type Kind = (typeof KINDS)[number];

/** A whole, valid file of each kind: the damaged variants are made from it. */
function validOf(key: FileKey, original: string | null): Record<string, unknown> {
  switch (key) {
    case 'lock':
      return {
        pid: 999999,
        start: null,
        user: 'root',
        command: 'install',
        since: '2026-01-01T00:00:00Z',
        token: 'abc',
      };
    case 'journal':
      return {
        id: 'x',
        pid: 999999,
        startedAt: '2026-01-01T00:00:00Z',
        plan: { command: 'activate TV 3.4', summary: 's', ops: [], commit: 0, temps: [], notes: [] },
      };
    case 'history':
      return {
        id: 'y',
        time: '2026-01-01T00:00:00Z',
        user: 'root',
        action: 'activate',
        product: 'TV',
        to: '3.4',
        outcome: 'ok',
      };
    case 'manifest':
    case 'rendered':
      return JSON.parse(original!);
  }
}

const FIELD: Record<FileKey, [string, unknown]> = {
  lock: ['pid', 'twelve'],
  journal: ['plan', 'a plan'],
  history: ['outcome', 5],
  manifest: ['files', 'none'],
  rendered: ['files', 7],
};

/** The damaged file's bytes (a string or Buffer), or a directory / FIFO made in its place. */
/** A directory or a FIFO made in the file's place, or the bytes written to it. */
type Damage = string | Buffer | { make: 'directory' | 'fifo' };

function damagedText(key: FileKey, kind: Kind, original: string | null): Damage {
  const valid = validOf(key, original);
  const text = JSON.stringify(valid);
  const [field, wrong] = FIELD[key];
  const line = (s: string) => (key === 'history' ? `${original ?? ''}${s}\n` : s);
  switch (kind) {
    case 'empty':
      return '';
    case 'truncated':
      return line(text.slice(0, Math.floor(text.length / 2)));
    case 'null':
      return line('null');
    case 'object':
      return line('{}');
    case 'list':
      return line('[]');
    case 'missing-field': {
      const { [field]: _gone, ...rest } = valid;
      return line(JSON.stringify(rest));
    }
    case 'wrong-type':
      return line(JSON.stringify({ ...valid, [field]: wrong }));
    case 'binary':
      return Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x01, 0x02, 0x22, 0x7d]);
    case 'directory':
      return { make: 'directory' };
    case 'fifo':
      return { make: 'fifo' };
  }
}

const fileOf = (key: FileKey) =>
  ({
    lock: path.join(state, 'lock'),
    journal: path.join(state, 'journal.json'),
    history: path.join(state, 'history.jsonl'),
    manifest: path.join(state, 'manifests', 'TV', '3.4.json'),
    rendered: path.join(state, 'rendered.json'),
  })[key];

async function put(file: string, content: Damage): Promise<void> {
  await fs.rm(file, { recursive: true, force: true });
  if (typeof content === 'string' || Buffer.isBuffer(content)) await fs.writeFile(file, content);
  else if (content.make === 'directory') await fs.mkdir(path.join(file, 'inside'), { recursive: true });
  else execFileSync('mkfifo', [file]);
}

interface Ran {
  code: number;
  out: string;
  err: string;
}

/** main() in-process, bounded: a hang is a failure, not a stuck test run. */
async function run(args: string[]): Promise<Ran> {
  let out = '';
  let err = '';
  const streams = { out: (s: string) => void (out += s), err: (s: string) => void (err += s) };
  const env = { ...process.env, WEBTREE_LOCK_WAIT: '1', NO_COLOR: '1', WEBTREE_CONFIG: sb.config };
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<number>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`webtree ${args.join(' ')} hung`)), 20_000);
  });
  try {
    const code = await Promise.race([main(args, streams, env), hang]);
    return { code, out, err };
  } finally {
    clearTimeout(timer);
  }
}

/** Every command, reads and changes; each succeeds (or is a no-op) on the healthy tree. */
const READS: string[][] = [
  ['status'],
  ['status', '--json'],
  ['list'],
  ['history'],
  ['verify'],
  ['render', '--diff'],
  ['apache', 'status'],
];
const CHANGES: string[][] = [
  ['activate', 'TV', '3.4'],
  ['activate', 'TV', '3.3a', '--dry-run'],
  ['rollback', 'TV', '--dry-run'],
  ['prune', 'TV', '--keep', '5'],
  ['switch-web', 'server3', '--no-check-db', '--no-restart'],
  ['adopt', '--dry-run'],
  ['recover'],
  ['recover', '--dry-run'],
];
/** Exits that mean something other than damage on a healthy tree: apache status 1 (Apache is stopped), render --diff 3. */
const healthyExit = (args: string[]) => (args[0] === 'apache' ? 1 : 0);

const noCrash = (r: Ran, what: string) => {
  expect([0, 1, 2, 3], `${what}: exit ${r.code}\n${r.err}`).toContain(r.code);
  expect(r.err, what).not.toMatch(/unexpected error|\n\s+at \S+ \(|Cannot read properties/);
};

beforeAll(async () => {
  sb = await makeSandbox();
  site = path.join(sb.dir, 'site');
  state = path.join(site, 'www', 'state');
  const arch = path.join(sb.dir, 'archives');
  await fs.mkdir(arch);
  for (const v of ['3.3a', '3.4']) {
    const r = await sb.run(['install', await writeSampleArchive(arch, 'TV', v)]);
    if (r.exitCode !== 0) throw new Error(r.stderr);
  }
  const r = await sb.run(['render']);
  if (r.exitCode !== 0) throw new Error(r.stderr);
}, 120_000);
// main() in-process leaves this process working as the service account (src/core/privilege.ts):
// the sandbox, made by root, is removed with root's ids again.
afterAll(() => withRoot(() => sb && rmSync(sb.dir, { recursive: true, force: true })));

// First: main() run in-process as root gives the process to the service account (as every command
// run as root does), after which runuser is no longer root's to use.
describe.runIf(process.getuid?.() === 0 || process.env.CI === 'true')(
  'through the CLI, as the service account: an unreadable file (root reads everything)',
  () => {
    const asAccount = (args: string[]) => {
      try {
        const out = execFileSync(
          'runuser',
          ['-u', 'codemanager', '--', process.execPath, BIN, '--config', sb.config, ...args],
          {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
            env: { ...process.env, WEBTREE_LOCK_WAIT: '1' },
            timeout: 30_000,
          },
        );
        return { code: 0, out, err: '' };
      } catch (e) {
        const x = e as { status: number | null; stdout: string; stderr: string };
        return { code: x.status ?? -1, out: String(x.stdout), err: String(x.stderr) };
      }
    };
    it.each(['lock', 'journal', 'history', 'manifest', 'rendered'] as FileKey[])(
      '%s with mode 000',
      async (key) => {
        const file = fileOf(key);
        const original = await fs.readFile(file, 'utf8').catch(() => null);
        if (original === null) await fs.writeFile(file, JSON.stringify(validOf(key, null)));
        const st = await fs.stat(state);
        await fs.chown(file, st.uid, st.gid);
        await fs.chmod(file, 0o000);
        try {
          const v = asAccount(['verify']);
          expect(v.code, v.out + v.err).toBe(1);
          expect(v.out, v.err).toContain(`${file} cannot be read: permission denied`);
          // A command that reads the file: render reads its record, the others read the lock, journal, history, manifests.
          const r = asAccount(key === 'rendered' ? ['render'] : ['prune', 'TV', '--keep', '5']);
          expect(r.code, r.err).toBe(1);
          expect(r.err).toContain(file);
          expect(r.err).not.toMatch(/unexpected error|\n\s+at /);
        } finally {
          await fs.rm(file, { force: true });
          if (original !== null) await fs.writeFile(file, original);
        }
      },
      60_000,
    );
  },
);

describe('the healthy tree', () => {
  it('every command of the corpus succeeds on it (so a failure below is the damage)', async () => {
    for (const args of [...READS, ...CHANGES]) {
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(healthyExit(args));
    }
  });
});

describe.each(['lock', 'journal', 'history', 'manifest', 'rendered'] as FileKey[])('a damaged %s', (key) => {
  it.each(KINDS)(
    '%s: no hang, no crash, named when it stops a command, a verify finding, reads change nothing',
    async (kind) => {
      const file = fileOf(key);
      const original = await fs.readFile(file, 'utf8').catch(() => null);
      await put(file, damagedText(key, kind, original));
      try {
        for (const args of READS) {
          const before = await listing(site);
          const r = await run(args);
          const what = `${key} ${kind}: ${args.join(' ')}`;
          noCrash(r, what);
          expect(await listing(site), `${what} changed the tree`).toEqual(before);
          if (args[0] === 'verify') {
            // An empty lock is the one harmless case (a power cut; the next command takes it over).
            if (key === 'lock' && kind === 'empty') continue;
            expect(r.code, `${what}: ${r.out}`).toBe(1);
            expect(r.out, what).toContain(file);
          } else if (r.code !== healthyExit(args)) expect(r.err, what).toContain(file);
        }
        for (const args of CHANGES) {
          const r = await run(args);
          const what = `${key} ${kind}: ${args.join(' ')}`;
          noCrash(r, what);
          if (r.code !== 0) {
            expect(r.code, what).toBe(1);
            expect(r.err, `${what}: names the file`).toContain(file);
            expect(r.err, `${what}: says the fix`).toMatch(/\n {2}hint: \S/);
          }
          // A journal damaged in any way is no plan to guess around: every change stops at it.
          if (key === 'journal') expect(r.code, what).toBe(1);
        }
      } finally {
        await fs.rm(file, { recursive: true, force: true });
        if (original !== null) await fs.writeFile(file, original);
      }
      const v = await run(['verify']);
      expect(v.code, `verify once ${key} is mended: ${v.out}`).toBe(0);
    },
    120_000,
  );
});

describe('a damaged lock never spins', () => {
  it('null: install refuses at once naming the lock and its fix, and apache stop too', async () => {
    const file = fileOf('lock');
    await fs.writeFile(file, 'null');
    try {
      for (const args of [
        ['prune', 'TV', '--keep', '5'],
        ['apache', 'stop'],
      ]) {
        const r = await run(args);
        expect(r.code, r.err).toBe(1);
        expect(r.err).toContain(`webtree's lock ${file} holds null where an object belongs`);
        expect(r.err).toContain(`rm -r -- ${file}`);
      }
    } finally {
      await fs.rm(file, { force: true });
    }
  });
});

describe('a damaged site file', () => {
  const cases: [string, (f: string) => Promise<void>][] = [
    ['empty', (f) => fs.writeFile(f, '')],
    ['binary', (f) => fs.writeFile(f, Buffer.from([0, 1, 2, 0xff]))],
    ['a directory', (f) => fs.mkdir(f)],
    ['a FIFO', async (f) => void execFileSync('mkfifo', [f])],
    ['/dev/zero', (f) => fs.symlink('/dev/zero', f)],
  ];
  it.each(cases)('%s: exit 2 naming it, for every command, never a hang', async (_name, make) => {
    const original = await fs.readFile(sb.config);
    await fs.rm(sb.config);
    await make(sb.config);
    try {
      for (const args of [...READS, ...CHANGES]) {
        const r = await run(args);
        noCrash(r, args.join(' '));
        expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(2);
        expect(r.err + r.out).toContain(`the site file ${sb.config} `);
      }
    } finally {
      await fs.rm(sb.config, { recursive: true, force: true });
      await fs.writeFile(sb.config, original);
    }
  });

  it('an empty WEBTREE_CONFIG says so (not "EISDIR" of the working directory)', async () => {
    let err = '';
    const code = await main(
      ['status'],
      { out: () => undefined, err: (s) => void (err += s) },
      { ...process.env, WEBTREE_CONFIG: '' },
    );
    expect(code).toBe(2);
    expect(err).toMatch(/^webtree: WEBTREE_CONFIG is set but empty\n {2}hint: set it to the site file/);
  });
});
