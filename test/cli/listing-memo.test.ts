/**
 * status and list through the built CLI with the listing memo (src/state/listing-memo.ts): a
 * change writes it under its lock, status and list read it and say what listing the directories
 * says, a read writes nothing, and a change made by hand afterwards is seen at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';
import { editKeepingTimes } from '../helpers/times.js';

type Status = { products: { name: string; current: string | null; previous: string | null; versions: string[] }[] };
let sb: Sandbox;
let memo: string;
let tvDir: string;
const tv = (s: Status) => s.products.find((p) => p.name === 'TV')!;
const memoOf = (product: string) => JSON.parse(fs.readFileSync(memo, 'utf8')).products[product];

beforeAll(async () => {
  sb = await makeSandbox();
  memo = path.join(sb.dir, 'site', 'www', 'state', 'listing.json');
  tvDir = path.join(sb.dir, 'site', 'dbwebtools', 'tv');
  for (const v of ['3.3a', '3.4']) {
    const r = await sb.run(['install', await writeSampleArchive(sb.dir, 'TV', v)]);
    expect(r.exitCode, r.stderr).toBe(0);
  }
}, 120_000);
afterAll(() => sb?.cleanup());

describe('the listing memo through the CLI', () => {
  it("holds the history's pointer reading: status takes it, the same; an edit by hand is seen at once", async () => {
    const history = path.join(sb.dir, 'site', 'www', 'state', 'history.jsonl');
    const kept = fs.readFileSync(memo, 'utf8');
    expect(JSON.parse(kept).history.entries.map((e: { to?: string }) => e.to)).toEqual(['3.3a', '3.4']);
    const withMemo = await sb.json<Status>(['status']);
    expect(tv(withMemo).previous).toBe('3.3a');
    fs.rmSync(memo);
    expect(await sb.json<Status>(['status'])).toEqual(withMemo);
    // A sentinel in the memo, its key kept: while history.jsonl is as it was, its reading is the memo's.
    const planted = JSON.parse(kept);
    planted.history.entries = [];
    fs.writeFileSync(memo, JSON.stringify(planted));
    expect(tv(await sb.json<Status>(['status'])).previous).toBe(null);
    // The same bytes written again by hand, the modification time set back exactly: only the
    // change time moved, and the lines are read again at once.
    editKeepingTimes(history, () => fs.writeFileSync(history, fs.readFileSync(history)));
    expect(await sb.json<Status>(['status'])).toEqual(withMemo);
    fs.writeFileSync(memo, kept);
  }, 60_000);

  it('a change writes it; status reads it and says what the directories say; reads write nothing', async () => {
    expect(memoOf('TV').versions).toEqual(['3.3a', '3.4']);
    const withMemo = await sb.json<Status>(['status']);
    expect(tv(withMemo).versions).toEqual(['3.3a', '3.4']);
    expect(tv(withMemo).current).toBe('3.4');
    const listed = await sb.json<Status>(['list']);
    fs.rmSync(memo);
    expect(await sb.json<Status>(['status'])).toEqual(withMemo);
    expect(await sb.json<Status>(['list'])).toEqual(listed);
    expect(fs.existsSync(memo)).toBe(false);
  }, 60_000);

  it('a version installed, or removed and added by hand, is seen at once', async () => {
    const r = await sb.run(['install', await writeSampleArchive(sb.dir, 'TV', '3.5'), '--no-activate']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(memoOf('TV').versions).toEqual(['3.3a', '3.4', '3.5']);
    expect(tv(await sb.json<Status>(['status'])).versions).toEqual(['3.3a', '3.4', '3.5']);

    fs.rmSync(path.join(tvDir, '3.3a'), { recursive: true });
    expect(tv(await sb.json<Status>(['status'])).versions).toEqual(['3.4', '3.5']);
    expect(tv(await sb.json<Status>(['list'])).versions).toEqual(['3.4', '3.5']);
    // A version laid by hand, directory and manifest (status lists the manifests' names only).
    const manifests = path.join(sb.dir, 'site', 'www', 'state', 'manifests', 'TV');
    fs.cpSync(path.join(tvDir, '3.4'), path.join(tvDir, '3.6'), { recursive: true });
    fs.copyFileSync(path.join(manifests, '3.4.json'), path.join(manifests, '3.6.json'));
    expect(tv(await sb.json<Status>(['status'])).versions).toEqual(['3.4', '3.5', '3.6']);
    // The memo is still the one the install wrote: the reads above listed, and wrote nothing.
    expect(memoOf('TV').versions).toEqual(['3.3a', '3.4', '3.5']);
  }, 60_000);
});
