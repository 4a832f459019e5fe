// The plain-header reader (src/archive/ustar.ts) must give node-tar's answer whenever it gives one:
// generated headers (node-tar's own encoding, the GNU layout, GNU tar's and node-tar's archives)
// and the same headers with bytes changed where the two readers could part: numbers with spaces,
// signs, NULs, newlines and base-256 bytes, names with bytes after their NUL or not ASCII,
// checksums in every width and spacing. Seeded (test/helpers/prng.ts): a failure prints the seed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Header, ReadEntry } from 'tar';
import { plainHeader } from '../../src/archive/ustar.js';
import type { EntryView } from '../../src/archive/framing.js';
import { FUZZ_CASES, FUZZ_SEED, prng, type Rng } from '../helpers/prng.js';

/** node-tar's reading of the block, as framing.ts turns it into an entry; undefined where framing.ts would refuse or treat it otherwise. */
function nodeTarView(block: Buffer): EntryView | undefined {
  let h: Header;
  try {
    h = new Header(Buffer.from(block), 0);
  } catch {
    return undefined;
  }
  if (h.nullBlock || !h.cksumValid || !h.path) return undefined;
  const e = new ReadEntry(h);
  if (e.meta || e.ignore) return undefined;
  return {
    path: e.path,
    type: e.type,
    typeflag: h.typeKey,
    size: e.size,
    bodySize: e.remain,
    mode: e.mode,
    linkpath: e.linkpath,
    mtime: e.mtime,
  };
}

function expectSame(block: Buffer, why: string): boolean {
  const fast = plainHeader(block);
  if (fast === undefined) return false;
  const slow = nodeTarView(block);
  const show = `${why} (seed ${FUZZ_SEED}); block ${block.toString('hex')}`;
  expect(slow, show).toBeDefined();
  expect({ ...fast, mtime: fast.mtime?.getTime() }, show).toEqual({ ...slow, mtime: slow!.mtime?.getTime() });
  return true;
}

/** Sets the checksum field as writers do, in one of their forms. */
function setChecksum(b: Buffer, form: number): void {
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i];
  const o = sum.toString(8);
  const forms = [
    `${o.padStart(6, '0')}\0 `, // GNU tar, node-tar
    `${o.padStart(7, '0')}\0`, // POSIX
    ` ${o.padStart(6, '0')}\0`,
    `${o.padStart(8, '0')}`, // no terminator: node-tar reads on into the typeflag
    `${o.padStart(6, ' ')} \0`,
  ];
  b.write(forms[form % forms.length], 148, 8, 'latin1');
}

const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-';
function name(r: Rng, max: number): string {
  const parts: string[] = [];
  const n = r.int(1, 6);
  for (let i = 0; i < n; i++) {
    let s = '';
    for (let j = r.int(1, Math.max(1, Math.floor(max / n))); j > 0; j--) s += r.pick([...ASCII]);
    parts.push(s);
  }
  return parts.join('/');
}

/** A header as node-tar writes it (POSIX ustar), or turned into GNU's layout. */
function generated(r: Rng): Buffer {
  const type = r.chance(0.8)
    ? r.pick(['File', 'Directory'] as const)
    : r.pick(['SymbolicLink', 'Link', 'FIFO', 'OldFile'] as const);
  const h = new Header({
    path: name(r, r.chance(0.2) ? 240 : 90) + (type === 'Directory' && r.chance(0.5) ? '/' : ''),
    mode: r.pick([0o644, 0o755, 0o600, 0o4755, 0o1777, 0, 0o100644]),
    size: type === 'File' ? r.int(0, 2 ** 33) : 0,
    mtime: new Date(r.int(0, 2 ** 33) * 1000),
    uid: r.int(0, 70000),
    gid: r.int(0, 70000),
    type,
    linkpath: type === 'SymbolicLink' || type === 'Link' ? 'target' : undefined,
    uname: 'codemanager',
    gname: 'sispi',
  });
  h.encode();
  const b = Buffer.from(h.block!);
  if (r.chance(0.4)) {
    b.write('ustar  \0', 257, 8, 'latin1'); // GNU's magic: node-tar then reads no prefix
    setChecksum(b, 0);
  }
  return b;
}

const NUMBER_FIELDS = [100, 108, 116, 124, 136, 148, 329, 337, 476, 488];
const TEXT_FIELDS: [number, number][] = [
  [0, 100],
  [157, 100],
  [345, 155],
];

function mutate(r: Rng, b: Buffer): void {
  for (let k = r.int(1, 3); k > 0; k--) {
    const what = r.int(0, 5);
    if (what === 0) {
      // A number field written another way.
      const at = r.pick(NUMBER_FIELDS);
      const bytes = r.pick([' ', '\0', '\n', '+', '-', '8', '9', '\t', 'x', '\u0080', '\u00ff', '0', '7']);
      b.write(bytes, at + r.int(0, 7), 1, 'latin1');
    } else if (what === 1) {
      // A text field with something after its NUL, or a byte that is not ASCII.
      const [at, width] = r.pick(TEXT_FIELDS);
      b[at + r.int(0, width - 1)] = r.pick([0, 0x0a, 0x41, 0x2f, 0xc3, 0xa9, 0xff]);
    } else if (what === 2) {
      b[156] = r.pick([0x30, 0x35, 0, 0x31, 0x32, 0x4c, 0x78, 0x67, 0x37]);
    } else if (what === 3) {
      b[475] = r.pick([0, 0x41]);
    } else if (what === 4) {
      b[r.int(0, 511)] = r.int(0, 255);
    } else {
      b.write(r.pick(['ustar\u000000', 'ustar  \u0000', 'ustar\u0000  ', '\u0000'.repeat(8)]), 257, 8, 'latin1');
    }
  }
  // Mostly with a checksum that adds up, so that the readers are compared beyond it.
  if (r.chance(0.85)) setChecksum(b, r.int(0, 4));
}

describe('plainHeader', () => {
  it(`answers as node-tar does for generated and mutated headers (seed ${FUZZ_SEED})`, () => {
    const r = prng(FUZZ_SEED);
    let answered = 0;
    let answeredMutated = 0;
    for (let i = 0; i < FUZZ_CASES; i++) {
      const b = generated(r);
      if (expectSame(b, `generated case ${i}`)) answered++;
      mutate(r, b);
      if (expectSame(b, `mutated case ${i}`)) answeredMutated++;
    }
    // Not a test that passes by answering nothing: most plain headers are read here.
    expect(answered).toBeGreaterThan(FUZZ_CASES * 0.3);
    expect(answeredMutated).toBeGreaterThan(FUZZ_CASES * 0.05);
  });

  it('reads every header of archives made by GNU tar (both layouts) and node-tar, as node-tar does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webtree-ustar-'));
    try {
      const src = join(dir, 'src');
      mkdirSync(join(src, 'v-1', 'sub', 'deeper'), { recursive: true });
      writeFileSync(join(src, 'v-1', 'a.txt'), 'a\n');
      writeFileSync(join(src, 'v-1', 'sub', 'deeper', `${'long'.repeat(20)}.dat`), Buffer.alloc(3000, 1));
      writeFileSync(join(src, 'v-1', 'empty'), '');
      // Over 100 bytes: a prefix in ustar, a GNU long-name header before it in GNU's layout.
      const deep = join(src, 'v-1', 'sub', 'x'.repeat(60));
      mkdirSync(deep);
      writeFileSync(join(deep, `${'y'.repeat(50)}.txt`), 'deep\n');
      const archives: string[] = [];
      for (const format of ['gnu', 'ustar']) {
        const file = join(dir, `${format}.tar`);
        execFileSync('tar', ['--format', format, '-cf', file, '-C', src, 'v-1']);
        archives.push(file);
      }
      const { c } = await import('tar');
      const nt = join(dir, 'node-tar.tar');
      await c({ file: nt, cwd: src, portable: true }, ['v-1']);
      archives.push(nt);
      for (const file of archives) {
        const raw = readFileSync(file);
        let headers = 0;
        let plain = 0;
        for (let p = 0; p + 512 <= raw.length;) {
          const block = raw.subarray(p, p + 512);
          if (block.every((x) => x === 0)) break;
          headers++;
          if (expectSame(block, file)) plain++;
          const h = new Header(Buffer.from(block));
          p += 512 + 512 * Math.ceil((h.typeKey === '5' ? 0 : (h.size ?? 0)) / 512);
        }
        // Eight entries, each header plain (GNU's long-name header itself is left to node-tar).
        expect(plain, file).toBe(8);
        expect(headers, file).toBe(file.endsWith('gnu.tar') ? 9 : 8);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
