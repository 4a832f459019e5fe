/**
 * adopt --dry-run predicts adopt (issue 10): on a hand-kept tree, every path the real adopt
 * changes is one the dry run named, with the value it named, and nothing else changes (the
 * history gets the entries the dry run listed); on a tree adopt refuses (a symbolic link inside
 * a version, which no manifest can record), the dry run refuses with the same words and both
 * leave the tree as it was.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Op } from '../../src/plan/ops.js';
import { readHistory } from '../../src/state/history.js';
import { ensureBuilt, webtree } from './cli.js';
import { handTree } from './hand-tree.js';

const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 120_000);
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

async function tree() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-adopt-dry-'));
  dirs.push(dir);
  return { dir, ...(await handTree(dir, { qeServer3: true })), state: path.join(dir, 'www', 'state') };
}

/** Every path under dir and what it is; the lock and the disk reserve, which any command takes and gives back, left out. */
async function snapshot(dir: string, state: string): Promise<Map<string, string>> {
  const skip = new Set(['lock', 'reserve'].map((n) => path.join(state, n)));
  const out = new Map<string, string>();
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name);
    if (skip.has(p)) continue;
    out.set(
      p,
      e.isSymbolicLink() ? `-> ${await fs.readlink(p)}` : e.isFile() ? `file ${await fs.readFile(p, 'utf8')}` : 'dir',
    );
  }
  return out;
}

function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p)).sort();
}

describe('adopt --dry-run predicts what adopt does', () => {
  it('the same changes, path by path, and the same history entries', async () => {
    const t = await tree();
    const before = await snapshot(t.dir, t.state);
    const dry = await webtree(t.config, ['adopt', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(await snapshot(t.dir, t.state)).toEqual(before); // the dry run wrote nothing
    const plan: { operations: Op[]; notes: string[] } = JSON.parse(dry.stdout);
    const kept = path.join(t.state, 'variants');
    expect(plan.notes).toContain(
      `adopt also keeps a copy of each server's variant files in ${kept} as \`webtree variants keep\` does (what \`webtree variants restore\` puts back)`,
    );

    // What each operation says the path will be once adopt is done.
    const predicted = new Map<string, (now: string | undefined) => boolean>();
    const records: Op[] = [];
    for (const op of plan.operations) {
      switch (op.kind) {
        case 'make-dir':
          predicted.set(op.path, (v) => v === 'dir');
          break;
        case 'swap-link':
          predicted.set(op.path, (v) => v === `-> ${op.target}`);
          break;
        case 'link-over-file':
          predicted.set(op.path, (v) => v === `-> ${op.target}`);
          predicted.set(op.keep, (v) => v === before.get(op.path)); // the plain file itself, kept under the variant's name
          break;
        case 'write-manifest':
          predicted.set(
            op.to,
            (v) => v !== undefined && JSON.parse(v.slice('file '.length)).archiveSha256 === 'adopted',
          );
          break;
        case 'write-file':
          predicted.set(op.path, (v) => v === `file ${op.content}`);
          break;
        case 'record':
          records.push(op);
          break;
        default:
          throw new Error(`adopt planned an operation this test does not know: ${JSON.stringify(op)}`);
      }
    }
    expect(predicted.size).toBeGreaterThan(20);

    const r = await webtree(t.config, ['adopt']);
    expect(r.code, r.stderr).toBe(0);
    const after = await snapshot(t.dir, t.state);
    const history = path.join(t.state, 'history.jsonl');
    // Beside the plan: the history (compared below), the kept copies the note announced, the status page
    // with its state, which every changing command refreshes from the history (docs/watching.md), and
    // the listing memo every change writes at its end (src/state/listing-memo.ts).
    const page = path.join(t.dir, 'www', 'html', 'webtree');
    const under = (p: string, d: string) => p === d || p.startsWith(d + path.sep);
    const beside = (p: string) =>
      p === history ||
      under(p, kept) ||
      under(p, page) ||
      p === path.join(t.state, 'watch.json') ||
      p === path.join(t.state, 'listing.json');
    // Exactly the paths the dry run named changed, each to what it said; the rest of the tree is as it was.
    expect(changed(before, after).filter((p) => !beside(p))).toEqual([...predicted.keys()].sort());
    for (const [p, ok] of predicted) expect(ok(after.get(p)), `${p}: ${after.get(p)}`).toBe(true);
    // The history got the entries the dry run listed, in its order.
    const pick = (e: { action: string; product?: string; from?: string; to?: string; outcome?: string }) => [
      e.action,
      e.product,
      e.from,
      e.to,
      e.outcome,
    ];
    expect((await readHistory(history)).map(pick)).toEqual(
      records.map((o) => (o.kind === 'record' ? pick(o.entry) : [])),
    );
    // And the copies the note announced: one per variant file, for each server.
    const copies = changed(before, after).filter(
      (p) => p.startsWith(kept + path.sep) && after.get(p)?.startsWith('file ') && !p.endsWith('index.json'),
    );
    expect(copies.map((p) => path.relative(kept, p)).sort()).toEqual(
      ['constants.cfg', 'des_alarms.cfg', 'des_tv.cfg', 'ecl-settings.py', 'QE_decam.cfg']
        .flatMap((s) => ['server2', 'server3'].map((v) => path.join(v, s)))
        .sort(),
    );
  });

  it('a symbolic link inside a version: the dry run refuses as adopt does, in the same words, and nothing changes', async () => {
    const t = await tree();
    const link = path.join(t.dir, 'dbwebtools', 'tv', '3.3b', 'product', 'old.wsgi');
    await fs.symlink('tv.wsgi', link);
    const before = await snapshot(t.dir, t.state);
    const dry = await webtree(t.config, ['adopt', '--dry-run']);
    const real = await webtree(t.config, ['adopt']);
    expect(dry.code, dry.stdout + dry.stderr).toBe(1);
    expect(real.code, real.stdout + real.stderr).toBe(1);
    expect(dry.stderr).toMatch(
      /TV 3\.3b: cannot record \S+old\.wsgi in a manifest: it is a symbolic link \(an installed version holds only files and directories: move it out of \S+\/tv\/3\.3b\)/,
    );
    expect(dry.stderr).toContain(link);
    expect(real.stderr).toBe(dry.stderr);
    expect(await snapshot(t.dir, t.state)).toEqual(before);
  });
});
