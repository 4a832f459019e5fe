/**
 * status and list read the history's lines 'pointer'-wise (src/state/history.ts): a line framed
 * `{ … }` without `"to"` (or an escape) is passed over unparsed. On seeded random histories, with
 * damaged, torn, escaped and odd lines among the entries, that reading gives every entry that can
 * move a pointer exactly as reading every line does, hence the same activation stacks (the
 * previous version status shows), and no problem that the full reading does not find.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { activationStack } from '../../src/plan/previous.js';
import { readHistoryLines } from '../../src/state/history.js';
import { FUZZ_CASES, FUZZ_SEED, prng, type Rng } from '../helpers/prng.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webtree-history-pointer-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const PRODUCTS = ['TV', 'QE', 'dbiapp_pylib'];
const VERSIONS = ['3.3a', '3.4', '3.10', 'v1_4a'];

function entry(r: Rng, i: number): Record<string, unknown> {
  const e: Record<string, unknown> = {
    id: `id-${i}`,
    time: '2026-12-06T00:00:00Z',
    user: 'root',
    action: r.pick(['install', 'activate', 'rollback', 'adopt', 'auto-rollback', 'prune', 'switch-web', 'apply']),
    outcome: r.pick(['ok', 'ok', 'ok', 'failed', 'recovered', 'undone', 'rolled-back']),
  };
  if (r.chance(0.9)) e.product = r.pick(PRODUCTS);
  if (r.chance(0.5)) e.version = r.pick(VERSIONS);
  if (r.chance(0.5)) e.to = r.pick(VERSIONS);
  if (r.chance(0.3)) e.from = r.pick(VERSIONS);
  if (r.chance(0.1)) e.undo = true;
  if (r.chance(0.1)) e.message = r.pick(['went "to" 3.4', 'to', 'back to where it was', 'é\\u00e9']);
  return e;
}

function line(r: Rng, i: number): string {
  const text = JSON.stringify(entry(r, i));
  switch (r.int(0, 14)) {
    case 0:
      return text.slice(0, r.int(1, text.length - 1)); // cut short
    case 1:
      return r.pick(['{}', 'null', '[]', '{"to":5}', 'garbage', '{"a":1', '']);
    case 2:
      return text.replace('"to"', '"\\u0074o"'); // the key spelt with an escape
    case 3:
      return `  ${text}\r`; // spaces before, a carriage return after
    case 4:
      return text.replace('"outcome":', '"outcome":5,"x":'); // a wrong shape
    default:
      return text;
  }
}

describe("the history's 'pointer' reading", () => {
  it(`gives every entry that moves a pointer, as reading every line does (seed ${FUZZ_SEED})`, async () => {
    const r = prng(FUZZ_SEED);
    const file = path.join(dir, 'history.jsonl');
    let withTo = 0;
    let problems = 0;
    for (let c = 0; c < Math.max(50, FUZZ_CASES / 20); c++) {
      const lines = Array.from({ length: r.int(1, 80) }, (_, i) => line(r, i));
      fs.writeFileSync(file, lines.join('\n') + (r.chance(0.7) ? '\n' : ''));
      const all = await readHistoryLines(file, 'all');
      const pointer = await readHistoryLines(file, 'pointer');
      const moving = (es: typeof all.entries) => es.filter((e) => e.to !== undefined);
      expect(moving(pointer.entries), `case ${c}`).toEqual(moving(all.entries));
      for (const p of PRODUCTS)
        expect(activationStack(pointer.entries, p), `case ${c} ${p}`).toEqual(activationStack(all.entries, p));
      // Every problem it finds is one the full reading finds; the torn and the unframed it finds too.
      for (const p of pointer.problems) expect(all.problems, `case ${c}`).toContainEqual(p);
      for (const p of all.problems) {
        const t = lines[p.line - 1].trim();
        if (!(t.startsWith('{') && t.endsWith('}')) || t.includes('"to"') || t.includes('\\u'))
          expect(pointer.problems, `case ${c} line ${p.line}`).toContainEqual(p);
      }
      withTo += moving(all.entries).length;
      problems += all.problems.length;
    }
    // The cases held entries that move pointers and damaged lines both.
    expect(withTo).toBeGreaterThan(0);
    expect(problems).toBeGreaterThan(0);
  });

  it(`does so across 64 kB blocks and past a line longer than a block (seed ${FUZZ_SEED})`, async () => {
    const r = prng(FUZZ_SEED ^ 0x5eed);
    const file = path.join(dir, 'long.jsonl');
    let withTo = 0;
    for (let c = 0; c < Math.max(12, FUZZ_CASES / 250); c++) {
      const lines: string[] = [];
      let size = 0;
      const want = r.int(66_000, 300_000);
      for (let i = 0; size < want; i++) {
        let l = line(r, i);
        // Now and then a line longer than a block, with its "to" (or its damage) at either end.
        if (r.chance(0.004)) l = JSON.stringify({ ...entry(r, i), message: 'm'.repeat(r.int(65_000, 140_000)) });
        lines.push(l);
        size += l.length + 1;
      }
      fs.writeFileSync(file, lines.join(r.chance(0.2) ? '\r\n' : '\n') + (r.chance(0.7) ? '\n' : ''));
      const all = await readHistoryLines(file, 'all');
      const pointer = await readHistoryLines(file, 'pointer');
      const moving = (es: typeof all.entries) => es.filter((e) => e.to !== undefined);
      expect(moving(pointer.entries), `case ${c}`).toEqual(moving(all.entries));
      for (const p of pointer.problems) expect(all.problems, `case ${c}`).toContainEqual(p);
      withTo += moving(all.entries).length;
    }
    expect(withTo).toBeGreaterThan(0);
  });

  it('passes over a framed line without a "to": a damage inside it is left to verify', async () => {
    const file = path.join(dir, 'framed.jsonl');
    const ok = JSON.stringify({ time: 't', user: 'u', action: 'activate', product: 'TV', to: '3.4', outcome: 'ok' });
    fs.writeFileSync(file, `{"time":"t","user":"u","action":"install","outcome":5}\n${ok}\n{"a":1\n`);
    const all = await readHistoryLines(file, 'all');
    const pointer = await readHistoryLines(file, 'pointer');
    expect(all.problems.map((p) => p.line)).toEqual([1, 3]);
    expect(pointer.problems.map((p) => p.line)).toEqual([3]);
    expect(pointer.entries).toEqual(all.entries);
  });
});
