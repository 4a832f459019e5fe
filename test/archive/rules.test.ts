/**
 * What an archive may hold (EntryRules and the name rules of names.ts), in-process: real GNU tar
 * archives of links, devices, FIFOs, absolute and climbing names, framed as the unpacking worker
 * frames them, and hand-built headers for what GNU tar will not write.
 */
import { execFileSync } from 'node:child_process';
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TarFraming } from '../../src/archive/framing.js';
import { collisionReason, foldKey, nameParts, q, safeMode } from '../../src/archive/names.js';
import { EntryRules, type Admitted } from '../../src/archive/rules.js';
import { WebtreeError } from '../../src/core/errors.js';
import type { Limits } from '../../src/site/types.js';
import { dirEntry, file, header, pax, tar } from '../fixtures/make-bad-archives.js';

const LIMITS: Limits = { maxBytes: 64 * 1024 * 1024, maxEntries: 1000, maxDepth: 64, maxRatio: 100 };
const MiB = 1024 * 1024;

/** Frame `data` and admit every entry, as the unpacking worker does; the admitted entries and the rules. */
function admitAll(data: Buffer, limits = LIMITS, archiveSize = data.length) {
  const rules = new EntryRules(limits, archiveSize);
  const admitted: Admitted[] = [];
  const f = new TarFraming('t.tar', limits, (v) => admitted.push(rules.admit(v)));
  f.push(data);
  f.end();
  return { rules, admitted };
}

function refusal(data: Buffer, limits = LIMITS, archiveSize = data.length): WebtreeError {
  try {
    admitAll(data, limits, archiveSize);
  } catch (err) {
    expect(err).toBeInstanceOf(WebtreeError);
    expect((err as WebtreeError).code).toBe('EBADARCHIVE');
    return err as WebtreeError;
  }
  throw new Error('the archive was admitted');
}

let tmp: string;
let tree: string;
const gnuTar = (args: string[]) => execFileSync('tar', ['-c', '--format=pax', '-f', '-', ...args]);

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'webtree-rules-'));
  tree = join(tmp, 'tree');
  await mkdir(join(tree, 'top/sub'), { recursive: true });
  await writeFile(join(tree, 'top/a.txt'), 'a');
  await writeFile(join(tree, 'top/A.TXT'), 'A');
  await writeFile(join(tree, 'top/caf\u00e9'), 'nfc');
  await writeFile(join(tree, 'top/cafe\u0301'), 'nfd');
  await symlink('../../../etc/passwd', join(tree, 'top/escape'));
  await link(join(tree, 'top/a.txt'), join(tree, 'top/hard'));
  execFileSync('mkfifo', [join(tree, 'top/fifo')]);
});
afterAll(async () => rm(tmp, { recursive: true, force: true }));

describe('entries GNU tar writes that webtree refuses', () => {
  it('a symbolic link, even one that would escape the tree, with its target in the message', () => {
    expect(refusal(gnuTar(['-C', tree, 'top/escape'])).message).toBe(
      'archive entry "top/escape" is a symbolic link (to "../../../etc/passwd"); only regular files and directories are accepted',
    );
  });

  it('a hard link', () => {
    expect(refusal(gnuTar(['-C', tree, 'top/a.txt', 'top/hard'])).message).toMatch(
      /archive entry "top\/hard" is a hard link \(to "top\/a\.txt"\)/,
    );
  });

  it('a character device and a FIFO', () => {
    expect(refusal(gnuTar(['-C', '/dev', 'null'])).message).toMatch(/"null" is a character device/);
    expect(refusal(gnuTar(['-C', tree, 'top/fifo'])).message).toMatch(/"top\/fifo" is a FIFO \(named pipe\)/);
  });

  it('an absolute name and a name that climbs out (tar -P keeps both)', () => {
    expect(refusal(gnuTar(['-P', join(tree, 'top/a.txt')])).message).toMatch(/is an absolute path/);
    expect(refusal(gnuTar(['-P', '-C', join(tree, 'top'), '../top/a.txt'])).message).toBe(
      'archive entry "../top/a.txt" climbs out of the tree (..)',
    );
  });

  it('two names that are one file when case is ignored, or after Unicode normalisation', () => {
    expect(refusal(gnuTar(['-C', tree, 'top/a.txt', 'top/A.TXT'])).message).toBe(
      'archive entry "top/A.TXT" collides with "top/a.txt" when case is ignored',
    );
    expect(refusal(gnuTar(['-C', tree, 'top/caf\u00e9', 'top/cafe\u0301'])).message).toMatch(
      /collides with "top\/café" after Unicode normalisation \(NFC\)/,
    );
  });

  it('accepts the plain files and directories of the same tree, with their parents and safe modes', () => {
    const { rules, admitted } = admitAll(gnuTar(['-C', tree, 'top/sub', 'top/a.txt']));
    expect(admitted.map((a) => [a.rel, a.kind, a.size])).toEqual([
      ['top/sub', 'dir', 0],
      ['top/a.txt', 'file', 1],
    ]);
    // top/ itself is implicit: it is counted and listed, and is the directory to strip.
    expect(rules.entries).toBe(3);
    expect(rules.bytes).toBe(1);
    expect(rules.finish('t.tar', 'single-top')).toBe('top');
  });
});

describe('hand-built entries', () => {
  it('a block device, and a type no reader agrees on', () => {
    expect(refusal(tar(header({ name: 'sda', type: '4', devmajor: 8 }))).message).toMatch(/"sda" is a block device/);
    expect(refusal(tar(header({ name: 'sparse', type: 'S' }))).message).toMatch(
      /"sparse" has unsupported entry type SparseFile \(typeflag "S"\)/,
    );
  });

  it('a file that carries a link target', () => {
    expect(refusal(tar(header({ name: 'f', linkname: '/etc/shadow' }))).message).toMatch(
      /"f" carries a link target \("\/etc\/shadow"\) although it is not a link/,
    );
  });

  it('extended headers that disagree about the size', () => {
    // node-tar reads the body by the local pax size (local over global) but reports the global one
    // (global over local): the size limit would be checked against the wrong number.
    const data = tar(pax({ size: 2 }, 'g'), pax({ size: 3 }), header({ name: 'f', size: 3 }), Buffer.alloc(512));
    expect(refusal(data).message).toMatch(/"f" has extended headers that disagree about its size/);
  });

  it('"./" is the extraction directory; a file by that name is refused', () => {
    expect(admitAll(tar(dirEntry('./'), file('./top/x', 'x'))).admitted.map((a) => a.rel)).toEqual(['', 'top/x']);
    expect(refusal(tar(header({ name: '.' }))).message).toMatch(/is a file that names the extraction directory itself/);
  });

  it('a path deeper than maxDepth, with the limit to raise in the hint', () => {
    const limits = { ...LIMITS, maxDepth: 3 };
    expect(admitAll(tar(file('a/b/c', 'x')), limits).admitted).toHaveLength(1);
    const e = refusal(tar(file('a/b/c/d', 'x')), limits);
    expect(e.message).toMatch(/is 4 levels deep, over the limit of 3 \(limits\.maxDepth\)/);
    expect(e.hint).toMatch(/raise limits\.maxDepth in the site file \(now 3\)/);
  });

  it('an entry under a file, an entry twice, a file where a directory was', () => {
    expect(refusal(tar(file('t/a', 'x'), file('t/a/b', 'y'))).message).toMatch(
      /"t\/a\/b" lies under "t\/a", which is a file/,
    );
    expect(refusal(tar(file('t/a', 'x'), file('./t/a', 'y'))).message).toMatch(
      /"\.\/t\/a" appears twice in the archive \(also as "t\/a"\)/,
    );
    expect(refusal(tar(file('t/d/x', 'x'), file('t/d', 'y'))).message).toMatch(
      /"t\/d" is a file, but earlier entries use it as a directory/,
    );
    // A directory named after its contents is fine: the implicit parent becomes explicit once.
    expect(admitAll(tar(file('t/d/x', 'x'), dirEntry('t/d/'))).rules.entries).toBe(3);
  });

  it('maxBytes and maxEntries stop at the entry that crosses them', () => {
    const limits = { ...LIMITS, maxBytes: 10, maxEntries: 3 };
    expect(admitAll(tar(file('t/a', '12345'), file('t/b', '12345')), limits).rules.bytes).toBe(10);
    expect(refusal(tar(file('t/a', '12345'), file('t/b', '123456')), limits).message).toMatch(
      /"t\/b" takes the unpacked size to 11 bytes, over the limit of 10 \(limits\.maxBytes\)/,
    );
    // t, t/a, t/b are three; t/c would be the fourth.
    expect(refusal(tar(file('t/a'), file('t/b'), file('t/c')), limits).message).toMatch(
      /"t\/c" would be file or directory number 4, over the limit of 3 \(limits\.maxEntries\)/,
    );
  });

  it('the ratio limit applies only past its floor of 1 MiB unpacked', () => {
    const limits = { ...LIMITS, maxRatio: 10 };
    // The rules see the header only: the archive size is what the caller read from disk.
    const rules = new EntryRules(limits, 1000);
    const view = (path: string, size: number) => ({ path, type: 'File', typeflag: '0', size, bodySize: size });
    expect(rules.admit(view('t/small', MiB)).size).toBe(MiB); // 1000x the archive, but under the floor
    expect(() => rules.admit(view('t/more', 1))).toThrow(
      /takes the unpacked size to 1048577 bytes, 1048 times the archive's 1000, over the ratio limit of 10 \(limits\.maxRatio\)/,
    );
  });

  it('finish: the layouts', () => {
    const finish = (data: Buffer, layout: 'single-top' | 'any') => admitAll(data).rules.finish('t.tar', layout);
    expect(finish(tar(file('v1/a'), file('v1/b')), 'single-top')).toBe('v1');
    expect(finish(tar(file('a'), file('b')), 'any')).toBeUndefined();
    const err = (data: Buffer) => {
      try {
        finish(data, 'single-top');
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('finish accepted the layout');
    };
    expect(err(tar(file('v1/a'), file('README')))).toMatch(/"README" lies beside the top-level directory "v1"/);
    expect(err(tar(file('a'), file('b')))).toMatch(/"a" is a file at the top level; layout single-top needs/);
    expect(err(tar(file('v1/a'), file('v2/b')))).toMatch(/"v2\/b" lies outside the top-level directory "v1"/);
    expect(err(tar(dirEntry('v1/')))).toMatch(/holds nothing but the directory "v1"/);
    expect(err(tar(dirEntry('./')))).toMatch(/archive t\.tar holds no files or directories/);
  });
});

describe('names', () => {
  it('nameParts strips a leading "./" and trailing "/" and refuses every other oddity', () => {
    expect(nameParts('./a/b/')).toEqual(['a', 'b']);
    expect(nameParts('././')).toEqual([]);
    const why = (raw: string) => {
      try {
        nameParts(raw);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(why('a\nb')).toMatch(/has a control character in its name/);
    expect(why('a\ufffdb')).toMatch(/is not valid UTF-8/);
    expect(why('a\\b')).toMatch(/has a backslash/);
    expect(why('a//b')).toMatch(/has an empty path component/);
    expect(why('a/./b')).toMatch(/has a "\." path component after the start/);
    expect(why('a/..')).toMatch(/climbs out/);
    expect(why(`a/${'x'.repeat(255)}`)).toBe('accepted');
    expect(why(`a/${'x'.repeat(256)}`)).toMatch(/longer than 255 bytes/);
    // 128 two-byte characters: 256 bytes in 128 characters.
    expect(why('\u00e9'.repeat(128))).toMatch(/longer than 255 bytes/);
  });

  it('q escapes quotes, controls and text-reordering characters, and shortens long names', () => {
    expect(q('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(q('x\u001b[2Jy\u202ez')).toBe('"x\\u001b[2Jy\\u202ez"');
    const long = 'a'.repeat(100) + 'b'.repeat(100);
    expect(q(long)).toBe(`"${'a'.repeat(80)}…${'b'.repeat(50)} (200 characters)"`);
  });

  it('foldKey folds case the full way; collisionReason names which rule matched', () => {
    expect(foldKey('Stra\u00dfe')).toBe(foldKey('STRASSE'));
    expect(foldKey('\u212a')).toBe(foldKey('k')); // the Kelvin sign
    expect(foldKey('a')).not.toBe(foldKey('b'));
    expect(collisionReason('caf\u00e9', 'cafe\u0301')).toMatch(/after Unicode normalisation/);
    expect(collisionReason('A', 'a')).toMatch(/when case is ignored/);
  });

  it('safeMode drops set-id, sticky and group/world write bits and keeps the owner able to work', () => {
    expect(safeMode(0o7777, 'file')).toBe(0o755);
    expect(safeMode(0o4755, 'dir')).toBe(0o755);
    expect(safeMode(0o000, 'file')).toBe(0o600);
    expect(safeMode(0o000, 'dir')).toBe(0o700);
    expect(safeMode(0o664, 'file')).toBe(0o644);
    expect(safeMode(undefined, 'file')).toBe(0o644);
    expect(safeMode(undefined, 'dir')).toBe(0o755);
  });
});
