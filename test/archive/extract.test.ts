/**
 * extractArchive on genuine archives: made by node-tar, by GNU tar and by hand; both layouts;
 * every limit exactly at its boundary.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { c as createTar } from 'tar';
import { extractArchive, type ExtractResult } from '../../src/archive/extract.js';
import { buildManifest, sha256File } from '../../src/archive/manifest.js';
import { WebtreeError } from '../../src/core/errors.js';
import type { Limits } from '../../src/site/types.js';
import { dirEntry, file, gz, header, noise, pad, pax, tar } from '../fixtures/make-bad-archives.js';

const LIMITS: Limits = { maxBytes: 64 * 1024 * 1024, maxEntries: 10_000, maxDepth: 64, maxRatio: 100 };
const MiB = 1024 * 1024;

let tmp: string;
let dest: string;

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'webtree-extract-'));
  dest = join(tmp, 'dest');
  await mkdir(dest);
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function write(name: string, data: Buffer): Promise<string> {
  const p = join(tmp, name);
  await writeFile(p, data);
  return p;
}

/** Every path under dest with its kind and permission bits, sorted. */
async function listing(root = dest, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(rel ? join(root, rel) : root)).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    const st = await lstat(join(root, p));
    out.push(`${p}${st.isDirectory() ? '/' : ''} ${(st.mode & 0o7777).toString(8)}`);
    if (st.isDirectory()) out.push(...(await listing(root, p)));
  }
  return out;
}

async function refused(
  archive: string,
  limits: Limits,
  layout: 'single-top' | 'any' = 'single-top',
): Promise<WebtreeError> {
  const err = await extractArchive(archive, dest, { limits, layout }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebtreeError);
  expect((err as WebtreeError).code).toBe('EBADARCHIVE');
  expect(await readdir(dest)).toEqual([]);
  expect(await readdir(tmp)).not.toContain('dest.unpack');
  return err as WebtreeError;
}

/** A product tree on disk: pkg-1.0/{run.wsgi (0755), lib/app.py, static/empty/, data.bin}. */
async function makeProduct(): Promise<string> {
  const src = join(tmp, 'src');
  await mkdir(join(src, 'pkg-1.0', 'lib'), { recursive: true });
  await mkdir(join(src, 'pkg-1.0', 'static', 'empty'), { recursive: true });
  await writeFile(join(src, 'pkg-1.0', 'run.wsgi'), '#!/usr/bin/env python\n');
  await chmod(join(src, 'pkg-1.0', 'run.wsgi'), 0o755);
  await writeFile(join(src, 'pkg-1.0', 'lib', 'app.py'), 'print("hi")\n');
  await writeFile(join(src, 'pkg-1.0', 'data.bin'), Buffer.alloc(3000, 7));
  return src;
}

/** The hashes taken while unpacking are those of the bytes on disk, file for file, and of the archive. */
async function expectHashesOfDisk(res: ExtractResult, archive: string): Promise<void> {
  const onDisk = await buildManifest(dest, await sha256File(archive));
  expect(res.archiveSha256).toBe(onDisk.archiveSha256);
  expect([...res.files].sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual(onDisk.files);
}

const PRODUCT_TREE = ['data.bin 644', 'lib/ 755', 'lib/app.py 644', 'run.wsgi 755', 'static/ 755', 'static/empty/ 755'];

describe('genuine archives', () => {
  it('strips the single top directory of a node-tar .tar.gz, with sane modes', async () => {
    const src = await makeProduct();
    const archive = join(tmp, 'pkg-1.0.tar.gz');
    await createTar({ gzip: true, cwd: src, file: archive, portable: true }, ['pkg-1.0']);
    const res = await extractArchive(archive, dest, { limits: LIMITS, layout: 'single-top' });
    expect(res).toMatchObject({ entries: 6, bytes: 3000 + 12 + 22, strippedTop: 'pkg-1.0' });
    await expectHashesOfDisk(res, archive);
    expect(await listing()).toEqual(PRODUCT_TREE);
    expect(await readFile(join(dest, 'lib', 'app.py'), 'utf8')).toBe('print("hi")\n');
    expect(await readdir(tmp)).toEqual(['dest', 'pkg-1.0.tar.gz', 'src']);
  });

  it('reads GNU tar archives: gzip by magic bytes whatever the name, "./" prefixes, record padding', async () => {
    const src = await makeProduct();
    const named = join(tmp, 'product.tar'); // gzipped despite the name
    execFileSync('tar', ['-C', src, '-czf', named, 'pkg-1.0']);
    expect((await extractArchive(named, dest, { limits: LIMITS, layout: 'single-top' })).strippedTop).toBe('pkg-1.0');
    expect(await listing()).toEqual(PRODUCT_TREE);

    const dotted = join(tmp, 'dotted.tar');
    execFileSync('tar', ['-C', join(src, 'pkg-1.0'), '-cf', dotted, '.']);
    const dest2 = join(tmp, 'dest2');
    await mkdir(dest2);
    const res = await extractArchive(dotted, dest2, { limits: LIMITS, layout: 'any' });
    expect(res.strippedTop).toBeUndefined();
    expect(await listing(dest2)).toEqual(PRODUCT_TREE);
  });

  it('layout "any" keeps loose files as they are', async () => {
    const archive = await write(
      'loose.tar',
      tar(file('README', 'r'), dirEntry('lib/'), file('lib/a.py', 'a'), file('index.html', '<p>')),
    );
    const res = await extractArchive(archive, dest, { limits: LIMITS, layout: 'any' });
    expect(res).toMatchObject({ entries: 4, bytes: 5 });
    expect(res.strippedTop).toBeUndefined();
    await expectHashesOfDisk(res, archive);
    expect(await listing()).toEqual(['README 644', 'index.html 644', 'lib/ 755', 'lib/a.py 644']);
  });

  it('layout "any" still strips a single top directory', async () => {
    const archive = await write('one.tar', tar(dirEntry('EXPO/'), file('EXPO/index.html', '<p>')));
    expect(await extractArchive(archive, dest, { limits: LIMITS, layout: 'any' })).toMatchObject({
      entries: 1,
      bytes: 3,
      strippedTop: 'EXPO',
    });
    expect(await listing()).toEqual(['index.html 644']);
  });

  it('creates directories the archive only implies, and keeps empty files and directories', async () => {
    const archive = await write(
      'implied.tar',
      tar(file('top/a/b/c.txt', 'c'), file('top/empty', ''), dirEntry('top/void/')),
    );
    const res = await extractArchive(archive, dest, { limits: LIMITS, layout: 'single-top' });
    expect(res).toMatchObject({ entries: 5, bytes: 1, strippedTop: 'top' });
    await expectHashesOfDisk(res, archive);
    expect(await listing()).toEqual(['a/ 755', 'a/b/ 755', 'a/b/c.txt 644', 'empty 644', 'void/ 755']);
  });

  it('accepts pax long names, non-ASCII names and a git-archive style global header', async () => {
    const long = `top/${'x'.repeat(120)}/${'y'.repeat(120)}.txt`;
    const archive = await write(
      'pax.tar',
      tar(pax({ comment: 'c0ffee' }, 'g'), dirEntry('top/'), file(long, 'L'), file('top/caf\u00e9.txt', 'é')),
    );
    const res = await extractArchive(archive, dest, { limits: LIMITS, layout: 'single-top' });
    expect(res.entries).toBe(3);
    expect(await readFile(join(dest, long.slice(4)), 'utf8')).toBe('L');
    expect(await readFile(join(dest, 'caf\u00e9.txt'), 'utf8')).toBe('é');
  });
});

describe('file times', () => {
  it("keep the archive's mtime, before 1970 too", async () => {
    const archive = await write(
      'times.tar',
      tar(dirEntry('top/'), pax({ mtime: '-86400' }), file('top/old', 'o'), file('top/new', 'n')),
    );
    await extractArchive(archive, dest, { limits: LIMITS, layout: 'single-top' });
    expect((await lstat(join(dest, 'old'))).mtimeMs).toBe(-86_400_000);
    expect((await lstat(join(dest, 'new'))).mtimeMs).toBe(1_700_000_000_000);
  });

  it('an mtime no date can hold (a pax "mtime" that is no number, or out of range) is ignored, as an unreadable header field is', async () => {
    const archive = await write(
      'bad-times.tar',
      tar(dirEntry('top/'), pax({ mtime: 'soon' }), file('top/a', 'a'), pax({ mtime: '1e20' }), file('top/b', 'b')),
    );
    const before = Date.now() - 1000;
    const res = await extractArchive(archive, dest, { limits: LIMITS, layout: 'single-top' });
    expect(res.entries).toBe(2);
    expect(await readFile(join(dest, 'a'), 'utf8')).toBe('a');
    expect((await lstat(join(dest, 'b'))).mtimeMs).toBeGreaterThan(before);
  });
});

describe('limits at their boundaries', () => {
  it('maxEntries counts every file and directory, the top one included', async () => {
    const parts = [dirEntry('top/')];
    for (let i = 0; i < 9; i++) parts.push(file(`top/f${i}`, ''));
    const archive = await write('ten.tar', tar(...parts));
    expect((await refused(archive, { ...LIMITS, maxEntries: 9 })).message).toMatch(
      /"top\/f8" would be file or directory number 10, over the limit of 9 \(limits\.maxEntries\)/,
    );
    expect(
      (await extractArchive(archive, dest, { limits: { ...LIMITS, maxEntries: 10 }, layout: 'single-top' })).entries,
    ).toBe(9);
  });

  it('maxBytes is the sum of file sizes', async () => {
    const archive = await write(
      'bytes.tar',
      tar(dirEntry('top/'), file('top/a', Buffer.alloc(600)), file('top/b', Buffer.alloc(400))),
    );
    expect((await refused(archive, { ...LIMITS, maxBytes: 999 })).message).toMatch(
      /"top\/b" takes the unpacked size to 1000 bytes, over the limit of 999 \(limits\.maxBytes\)/,
    );
    expect(
      (await extractArchive(archive, dest, { limits: { ...LIMITS, maxBytes: 1000 }, layout: 'single-top' })).bytes,
    ).toBe(1000);
  });

  it('maxDepth counts path components as in the archive', async () => {
    const archive = await write('deep.tar', tar(file('top/a/b/c/f', 'x')));
    expect((await refused(archive, { ...LIMITS, maxDepth: 4 })).message).toMatch(
      /"top\/a\/b\/c\/f" is 5 levels deep, over the limit of 4 \(limits\.maxDepth\)/,
    );
    await extractArchive(archive, dest, { limits: { ...LIMITS, maxDepth: 5 }, layout: 'single-top' });
    expect(await readFile(join(dest, 'a/b/c/f'), 'utf8')).toBe('x');
  });

  it('maxRatio applies only above 1 MiB unpacked, then exactly', async () => {
    const atFloor = await write('floor.tar.gz', gz(tar(dirEntry('top/'), file('top/z', Buffer.alloc(MiB)))));
    expect(
      (await extractArchive(atFloor, dest, { limits: { ...LIMITS, maxRatio: 1 }, layout: 'single-top' })).bytes,
    ).toBe(MiB);
    await rm(dest, { recursive: true });
    await mkdir(dest);
    const over = gz(tar(dirEntry('top/'), file('top/z', Buffer.alloc(MiB + 1))));
    const overFile = await write('over.tar.gz', over);
    expect((await refused(overFile, { ...LIMITS, maxRatio: 1 })).message).toMatch(
      /"top\/z" takes the unpacked size to 1048577 bytes, \d+ times the archive's \d+, over the ratio limit of 1 \(limits\.maxRatio\)/,
    );
    const ratio = (MiB + 1) / over.length;
    await refused(overFile, { ...LIMITS, maxRatio: Math.floor(ratio) });
    expect(
      (
        await extractArchive(overFile, dest, {
          limits: { ...LIMITS, maxRatio: Math.ceil(ratio) },
          layout: 'single-top',
        })
      ).bytes,
    ).toBe(MiB + 1);
  });
});

describe('the staging directory', () => {
  it('must be empty', async () => {
    await writeFile(join(dest, 'x'), 'x');
    const archive = await write('one.tar', tar(file('top/a', 'a')));
    await expect(extractArchive(archive, dest, { limits: LIMITS, layout: 'single-top' })).rejects.toMatchObject({
      code: 'EIO',
      message: /is not empty/,
    });
  });

  it('must not be a symbolic link', async () => {
    const link = join(tmp, 'link');
    await symlink(dest, link);
    const archive = await write('one.tar', tar(file('top/a', 'a')));
    await expect(extractArchive(archive, link, { limits: LIMITS, layout: 'single-top' })).rejects.toMatchObject({
      code: 'EIO',
    });
    expect(await readdir(dest)).toEqual([]);
  });
});

describe('progress', () => {
  it("always gives the archive's size (the bar's divisor), from the first report on", async () => {
    for (const [name, data] of [
      ['small.tar', tar(file('top/a', 'a'))],
      ['large.tar.gz', gz(tar(file('top/a', noise(3 * MiB)), file('top/b', 'b')))],
    ] as const) {
      const archive = await write(name, data);
      const seen: number[] = [];
      await rm(dest, { recursive: true });
      await mkdir(dest);
      await extractArchive(archive, dest, {
        limits: LIMITS,
        layout: 'single-top',
        onProgress: (p) => seen.push(p.archiveBytes),
      });
      expect(seen.length, name).toBeGreaterThan(0);
      expect(
        seen.filter((n) => n !== data.length),
        name,
      ).toEqual([]);
    }
  });
});

describe('one pass', () => {
  it('removes what it wrote when a late entry is refused', async () => {
    const archive = await write(
      'late.tar',
      tar(file('top/a', 'a'.repeat(5000)), file('top/b/c', 'c'), file('top/../evil', 'x')),
    );
    expect((await refused(archive, LIMITS)).message).toMatch(/"top\/\.\.\/evil" climbs out of the tree/);
  });

  it('refuses an archive that is not the file that was hashed when the install was planned', async () => {
    const archive = await write('one.tar', tar(file('top/a', 'a')));
    const planned = await sha256File(archive);
    await writeFile(archive, tar(file('top/a', 'b')));
    const err = await extractArchive(archive, dest, {
      limits: LIMITS,
      layout: 'single-top',
      expectSha256: planned,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      code: 'EBADARCHIVE',
      message: /^archive "one.tar" changed while it was being installed \(sha256 [0-9a-f]{12}…, was [0-9a-f]{12}…\)$/,
    });
    expect(await readdir(dest)).toEqual([]);
    expect(await readdir(tmp)).toEqual(['dest', 'one.tar']);
    // The same file as planned is accepted.
    expect(
      (
        await extractArchive(archive, dest, {
          limits: LIMITS,
          layout: 'single-top',
          expectSha256: await sha256File(archive),
        })
      ).entries,
    ).toBe(1);
  });

  it('stops when its signal is aborted, leaving dest empty', async () => {
    const archive = await write('one.tar', tar(file('top/a', 'a')));
    const ac = new AbortController();
    ac.abort(new Error('interrupted'));
    await expect(
      extractArchive(archive, dest, { limits: LIMITS, layout: 'single-top', signal: ac.signal }),
    ).rejects.toThrow('interrupted');
    expect(await readdir(dest)).toEqual([]);
    expect(await readdir(tmp)).toEqual(['dest', 'one.tar']);
  });
});

describe('messages', () => {
  it('name the archive file when the archive as a whole is refused', async () => {
    const archive = await write('cut.tar', Buffer.concat([dirEntry('top/'), file('top/a', 'a')]));
    expect((await refused(archive, LIMITS)).message).toBe(
      'archive "cut.tar" is truncated: it ends after entry "top/a" without the end-of-archive marker (two 512-byte zero blocks)',
    );
  });

  it('escape control characters and shorten very long names', async () => {
    const archive = await write('ctl.tar', tar(header({ name: 'top/\u202eevil\u0007' }), pad(Buffer.alloc(0))));
    const msg = (await refused(archive, LIMITS)).message;
    expect(msg).toBe('archive entry "top/\\u202eevil\\u0007" has a control character in its name');
    const deep = await write('deep.tar', tar(file(`top/${'d/'.repeat(300)}f`, 'x')));
    const long = (await refused(deep, LIMITS)).message;
    expect(long).toMatch(/^archive entry "top\/d\/d\/.*….*\/d\/f \(605 characters\)" is 302 levels deep/);
    expect(long.length).toBeLessThan(250);
  });
});

describe('modes', () => {
  it('stay safe under a umask of 000, for implied directories too', async () => {
    const archive = await write(
      'modes.tar',
      tar(file('top/a/b', 'x', 0o666), dirEntry('top/c/', 0o777), file('top/c/d', 'y', 0)),
    );
    const old = process.umask(0);
    try {
      await extractArchive(archive, dest, { limits: LIMITS, layout: 'single-top' });
    } finally {
      process.umask(old);
    }
    expect(await listing()).toEqual(['a/ 755', 'a/b 644', 'c/ 755', 'c/d 600']);
  });

  it("are the archive's safe modes under a umask of 077 too: the umask takes nothing", async () => {
    const archive = await write(
      'modes.tar',
      tar(file('top/a/b', 'x', 0o644), file('top/run', '#!', 0o755), dirEntry('top/c/', 0o755)),
    );
    const old = process.umask(0o077);
    try {
      await extractArchive(archive, dest, { limits: LIMITS, layout: 'single-top' });
    } finally {
      process.umask(old);
    }
    expect(await listing()).toEqual(['a/ 755', 'a/b 644', 'c/ 755', 'run 755']);
  });
});
