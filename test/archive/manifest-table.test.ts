/**
 * verify's streaming read of a manifest (state/manifest-table.ts): the writer's layout is read
 * to exactly the table the whole parse gives, across its 1 MiB reads; anything else goes to the
 * whole reader, which reads it the same or names the damage in the same words.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableOf, type Manifest } from '../../src/archive/manifest.js';
import { manifestPieces, readManifestFile } from '../../src/state/manifest-file.js';
import { readManifestTable, writerLayoutTable } from '../../src/state/manifest-table.js';

const SPEC = { what: 'the manifest of TV 3.4', fix: 'move it aside' };
const AT = '2026-12-06T12:00:00.000Z';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webtree-mtable-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Enough entries to cross several 1 MiB reads, in every spelling JSON gives a path. */
const many: Manifest['files'] = Array.from({ length: 12_000 }, (_, i) => ({
  path: [`d/"q\\${i}".txt`, `d/caf\u00e9\u0001${i}`, `d/\u{1F600}/\u2028${i}`, `p/${'x'.repeat(i % 300)}${i}`][i % 4],
  size: i * 1001,
  sha256: (i * 7919).toString(16).padStart(64, '0'),
  mode: i % 5 ? 0o644 : 0o4755,
}));

async function written(name: string, text: string): Promise<string> {
  const f = join(dir, name);
  await writeFile(f, text);
  return f;
}

const text = (files: Manifest['files'], sha = 'e'.repeat(64)) =>
  [...manifestPieces('TV', '3.4', { archiveSha256: sha, files }, AT)].join('');

describe('readManifestTable', () => {
  it('reads the writer layout to the whole parse table, for no files, one, thousands, and adopted', async () => {
    const cases: [Manifest['files'], string][] = [
      [[], 'e'.repeat(64)],
      [many.slice(0, 1), 'adopted'],
      [many, 'e'.repeat(64)],
    ];
    for (const [files, sha] of cases) {
      const f = await written(`w${files.length}.json`, text(files, sha));
      expect(writerLayoutTable(f)).toBeDefined();
      expect(await readManifestTable(f, SPEC)).toEqual(tableOf((await readManifestFile(f, SPEC))!));
    }
  });

  it('reads other layouts whole: spaces, another key order, a digest in capitals, a newline after it', async () => {
    const files = many.slice(0, 50);
    const upper = files.map((f, i) => (i === 7 ? { ...f, sha256: f.sha256.toUpperCase() } : f));
    for (const t of [
      JSON.stringify(JSON.parse(text(files)), null, 2),
      JSON.stringify({ files, archiveSha256: 'f'.repeat(64) }),
      text(upper),
      `${text(files)}\n`,
    ]) {
      const f = await written('other.json', t);
      expect(writerLayoutTable(f)).toBeUndefined();
      const table = await readManifestTable(f, SPEC);
      expect(table).toEqual(tableOf((await readManifestFile(f, SPEC))!));
      expect(table!.paths).toHaveLength(50);
    }
    expect((await readManifestTable(await written('up.json', text(upper)), SPEC))!.known[7]).toBe(0);
  });

  it('names a damaged manifest as the whole reader does', async () => {
    const good = text(many);
    for (const t of [
      good.slice(0, -1),
      good.slice(0, good.length >> 1),
      `${good}]`,
      good.replace('"size":1001,', '"size":-1,'),
      good.replace('"size":1001,', '"size":01001,'),
      good.replace('"mode":420}', '"mode":"420"}'),
      good.replace('caf\u00e9', 'caf\u0000'),
      good.replace('"path":"d/', '"path":"d\\x/'),
      '',
    ]) {
      const f = await written('bad.json', t);
      expect(writerLayoutTable(f)).toBeUndefined();
      const whole = await readManifestFile(f, SPEC).catch((e: Error) => e);
      expect(whole).toBeInstanceOf(Error);
      await expect(readManifestTable(f, SPEC)).rejects.toThrow((whole as Error).message);
    }
    expect(await readManifestTable(join(dir, 'none.json'), SPEC)).toBeUndefined();
  });
});
