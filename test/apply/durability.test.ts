/**
 * Durability, seen in the system calls of a real install (strace -f): a rename makes something
 * live, so what it makes live must be on disk before it, and the rename itself after it.
 * - a file written through a temporary (manifest, journal) is fsync'd before its rename;
 * - the unpacked tree is flushed (`sync -f`: syncfs) before the commit rename makes it a version;
 * - after every rename of the executor's (file, staging directory, link swap) its directory is
 *   fsync'd before the next rename, so the order survives a power cut.
 * Removing any one of them fails this test (tried: writeFileAtomic without fh.sync(), fsyncDir
 * returning at once, syncTemps without its `sync -f`). Needs strace (.ci/run installs it) and
 * its seccomp filter, so that only the traced calls stop the process.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { ensureBuilt, makeSandbox, type Sandbox } from '../helpers/cli.js';

function hasStrace(): boolean {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true')
      throw new Error(
        'strace is missing; CI must run the durability test: apt-get install strace (.ci/run installs it)',
      );
    console.warn('skipping the durability test: strace is not installed (apt-get install strace)');
    return false;
  }
}

type Event = { kind: 'sync'; call: string; path: string } | { kind: 'rename'; from: string; to: string };

const CALLS = 'fsync,fdatasync,syncfs,rename,renameat,renameat2';

/**
 * The successful calls of an `strace -f -y` log, in the order they completed. With -f a call cut
 * by another thread's is printed twice: `… <unfinished ...>`, then `<... fsync resumed>) = 0`.
 */
function parseTrace(text: string): Event[] {
  const events: Event[] = [];
  const open = new Map<string, string>();
  const event = (call: string, args: string): Event | undefined => {
    if (call === 'fsync' || call === 'fdatasync' || call === 'syncfs') {
      const m = /^\d+<(.*)>$/.exec(args.split(',')[0].trim());
      return m ? { kind: 'sync', call, path: m[1] } : undefined;
    }
    const names = [...args.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1]);
    return names.length >= 2 ? { kind: 'rename', from: names[0], to: names[1] } : undefined;
  };
  for (const line of text.split('\n')) {
    let m = /^(\d+) +(\w+)\((.*) <unfinished \.\.\.>$/.exec(line);
    if (m) {
      open.set(`${m[1]} ${m[2]}`, m[3]);
      continue;
    }
    m = /^(\d+) +<\.\.\. (\w+) resumed>.*\) += 0$/.exec(line);
    if (m) {
      const args = open.get(`${m[1]} ${m[2]}`);
      open.delete(`${m[1]} ${m[2]}`);
      const e = args === undefined ? undefined : event(m[2], args);
      if (e) events.push(e);
      continue;
    }
    m = /^(\d+) +(\w+)\((.*)\) += 0$/.exec(line);
    const e = m ? event(m[2], m[3]) : undefined;
    if (e) events.push(e);
  }
  return events;
}

const run = hasStrace();

describe.runIf(run)('durability: the syncs a real install makes, in order (strace)', () => {
  let sb: Sandbox;
  let events: Event[];
  let tvDir: string;

  beforeAll(async () => {
    ensureBuilt();
    sb = await makeSandbox();
    tvDir = path.join(sb.dir, 'site/dbwebtools/tv');
    const first = await sb.run(['install', await writeSampleArchive(sb.dir, 'TV', '3.3')]);
    expect(first.exitCode, first.stderr).toBe(0);
    // The upgrade is traced: a new version unpacked, its manifest written, then made current.
    const archive = await writeSampleArchive(sb.dir, 'TV', '3.4');
    const log = path.join(sb.dir, 'strace.log');
    const r = await execa(
      'strace',
      ['-f', '--seccomp-bpf', '-y', '-qq', '-e', `trace=${CALLS}`, '-o', log, ...sb.argv(['install', archive])],
      {
        reject: false,
        stdin: 'ignore',
        env: { WEBTREE_LOCK_WAIT: '60' },
      },
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    events = parseTrace(await fs.readFile(log, 'utf8'));
  }, 120_000);
  afterAll(async () => sb?.cleanup());

  const renames = () => events.flatMap((e, i) => (e.kind === 'rename' ? [{ ...e, i }] : []));
  const syncs = (from: number, to: number) => events.slice(from, to).flatMap((e) => (e.kind === 'sync' ? [e] : []));
  const commitOf = () => {
    const all = renames();
    const commit = all.find(
      (r) => r.to === path.join(tvDir, '3.4') && path.basename(r.from).startsWith('.webtree-staging-3.4'),
    );
    expect(
      commit,
      `no rename of the staging directory onto ${tvDir}/3.4 in:\n${all.map((r) => `${r.from} -> ${r.to}`).join('\n')}`,
    ).toBeDefined();
    return commit!;
  };

  it("every file written through a temporary is fsync'd before its rename makes it live", () => {
    const writes = renames().filter((r) => /\.webtree-write-/.test(path.basename(r.from)));
    // The manifest of 3.4 and the journal, at least.
    expect(writes.map((w) => w.to)).toContain(path.join(sb.dir, 'site/www/state/manifests/TV/3.4.json'));
    for (const w of writes) {
      expect(
        syncs(0, w.i).some((s) => s.call === 'fsync' && s.path === w.from),
        `${w.from} renamed to ${w.to} without an fsync of it first`,
      ).toBe(true);
    }
  });

  it('the unpacked tree is flushed (syncfs) after it is complete and before the commit rename', () => {
    const commit = commitOf();
    // The unpacker's last step puts the tree under its staging name; the flush must come after it.
    const staged = renames()
      .filter((r) => r.to === commit.from && r.i < commit.i)
      .at(-1);
    expect(staged, 'the unpacked tree was never renamed to its staging name').toBeDefined();
    const flushes = syncs(staged!.i + 1, commit.i).filter(
      (s) => s.call === 'syncfs' && (s.path === commit.from || s.path.startsWith(commit.from + '/')),
    );
    expect(flushes.length, `no syncfs of ${commit.from} between its unpacking and the commit`).toBeGreaterThan(0);
  });

  it("after each rename that makes something live, its directory is fsync'd before the next rename", () => {
    const commit = commitOf();
    const all = renames();
    const live = all.filter((r) => /\.webtree-(write|link|staging)-/.test(path.basename(r.from)));
    // The manifest, the journal, the commit, the swap of `current` at least.
    expect(live.map((r) => r.to)).toEqual(
      expect.arrayContaining([
        path.join(tvDir, '3.4'),
        path.join(tvDir, 'current'),
        path.join(sb.dir, 'site/www/state/manifests/TV/3.4.json'),
      ]),
    );
    for (const r of live) {
      const next = all.find((n) => n.i > r.i)?.i ?? events.length;
      const dir = path.dirname(r.to);
      expect(
        syncs(r.i + 1, next).some((s) => s.call === 'fsync' && s.path === dir),
        `no fsync of ${dir} after ${path.basename(r.from)} -> ${r.to}, before the next rename`,
      ).toBe(true);
    }
    // The link swap comes after the commit and its fsync: `current` never names a version a power cut could lose.
    const swap = all.find((r) => r.to === path.join(tvDir, 'current') && r.i > commit.i);
    expect(swap).toBeDefined();
  });
});
