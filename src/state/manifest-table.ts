/**
 * verify's reading of a manifest file: straight into the table verify compares with
 * (archive/verify-files.ts), a MiB at a time. A version of 100,000 files has a manifest of 13 MB;
 * parsed whole, it was the text, the parse's 100,000 objects and a map of them at once, most of
 * verify's memory and a good part of its time.
 *
 * Only the layout that manifestText / manifestPieces write (manifest-file.ts: that key order, no
 * spaces, digests in lower-case hex) is read this way. Anything else, damage included, is read
 * by readManifestFile, the whole file checked as before: every damaged manifest is named in the
 * same words, and a manifest that parses is read to the same entries either way.
 */
import { isUtf8 } from 'node:buffer';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { TableBuilder, type ManifestTable } from '../archive/verify-files.js';
import { tableOf } from '../archive/manifest.js';
import type { StateFileSpec } from '../core/state-file.js';
import { readManifestFile } from './manifest-file.js';

const HEAD =
  /^\{"product":"[^"\\\x00-\x1f]*","version":"[^"\\\x00-\x1f]*","installedAt":"[^"\\\x00-\x1f]*","archiveSha256":"([^"\\\x00-\x1f]+)","files":\[/;
const CHUNK = 1024 * 1024;
/** No entry webtree writes is this long: past it, the text is not the writer's layout. */
const LONGEST = 64 * 1024;
const PATH = Buffer.from('{"path":"');
const SIZE = Buffer.from('","size":');
const SHA = Buffer.from(',"sha256":"');
const MODE = Buffer.from('","mode":');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** The value of each lower-case hex digit's byte; -1 for any other byte. */
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = i;

/** Does buf hold `lit` at `at`? */
function has(buf: Buffer, at: number, lit: Buffer): boolean {
  for (let k = 0; k < lit.length; k++) if (buf[at + k] !== lit[k]) return false;
  return true;
}

/**
 * The end of a natural number as JSON writes it (no leading zero, at most 15 digits, which isNat
 * takes) from `at`, its value in natValue; -1 when there is none.
 */
let natValue = 0;
function nat(buf: Buffer, at: number, end: number): number {
  let v = 0;
  let k = at;
  for (; k < end && buf[k] >= 0x30 && buf[k] <= 0x39; k++) v = v * 10 + buf[k] - 0x30;
  if (k === at || k - at > 15 || (buf[at] === 0x30 && k - at > 1)) return -1;
  natValue = v;
  return k;
}

/** One manifest entry in the writer's layout, read from bytes. */
class EntryReader {
  readonly b = new TableBuilder();
  private digest = Buffer.alloc(32);
  /** Whether the entry read last ended the list. */
  last = false;

  /**
   * Reads the entry at `at` (and the comma or "]}" after it): the offset past it, -1 when the
   * bytes up to `end` hold only part of it, -2 when they are not the writer's layout.
   */
  entry(buf: Buffer, at: number, end: number): number {
    if (end - at < PATH.length) return -1;
    if (!has(buf, at, PATH)) return -2;
    let k = at + PATH.length;
    let escaped = false;
    let wide = false;
    for (; k < end && buf[k] !== QUOTE; k++) {
      const c = buf[k];
      if (c < 0x20) return -2;
      if (c === BACKSLASH) {
        escaped = true;
        k++;
      } else if (c >= 0x80) wide = true;
    }
    if (k >= end) return -1;
    const pathEnd = k;
    if (end - k < SIZE.length) return -1;
    if (!has(buf, k, SIZE)) return -2;
    k = nat(buf, k + SIZE.length, end);
    if (k < 0) return end - at < LONGEST ? -1 : -2;
    const size = natValue;
    if (end - k < SHA.length + 64 + MODE.length) return -1;
    if (!has(buf, k, SHA)) return -2;
    k += SHA.length;
    for (let d = 0; d < 32; d++, k += 2) {
      const hi = HEX[buf[k]];
      const lo = HEX[buf[k + 1]];
      if (hi < 0 || lo < 0) return -2;
      this.digest[d] = (hi << 4) | lo;
    }
    if (!has(buf, k, MODE)) return -2;
    k = nat(buf, k + MODE.length, end);
    if (k < 0) return end - at < LONGEST ? -1 : -2;
    const mode = natValue;
    if (end - k < 3) return -1;
    if (buf[k] !== 0x7d) return -2;
    const last = buf[k + 1] === 0x5d;
    if (last ? buf[k + 2] !== 0x7d : buf[k + 1] !== 0x2c) return -2;
    const from = at + PATH.length;
    if (wide && !isUtf8(buf.subarray(from, pathEnd))) return -2;
    let path = buf.toString(wide ? 'utf8' : 'latin1', from, pathEnd);
    // JSON.parse says whether the escapes are JSON's (a bad one sends the file to the whole reader).
    if (escaped) path = JSON.parse(`"${path}"`) as string;
    this.b.addDigest(path, size, this.digest, mode);
    this.last = last;
    return k + (last ? 3 : 2);
  }
}

/** The table, or undefined when the file is not exactly the writer's layout (or cannot be read here). */
export function writerLayoutTable(file: string): ManifestTable | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    // readStateText's own refusals (not a file, empty, past 256 MiB) are said by the whole reader.
    if (!st.isFile() || st.size === 0 || st.size > 256 * 1024 * 1024) return undefined;
    const buf = Buffer.allocUnsafe(CHUNK);
    let end = 0;
    for (let n; end < LONGEST && (n = readSync(fd, buf, end, LONGEST - end, null)) > 0;) end += n;
    const head = HEAD.exec(buf.toString('latin1', 0, end));
    if (!head || !isUtf8(buf.subarray(0, head[0].length))) return undefined;
    const archiveSha256 = buf.toString('utf8', 0, head[0].length).match(HEAD)![1];
    const r = new EntryReader();
    let at = head[0].length;
    if (buf[at] === 0x5d && buf[at + 1] === 0x7d) at += 2;
    else
      for (;;) {
        const e = r.entry(buf, at, end);
        if (e === -2) return undefined;
        if (e === -1) {
          // Part of an entry: moved to the front, the rest read after it.
          buf.copy(buf, 0, at, end);
          end -= at;
          at = 0;
          const n = readSync(fd, buf, end, CHUNK - end, null);
          if (n === 0 || end > LONGEST) return undefined;
          end += n;
          continue;
        }
        at = e;
        if (r.last) break;
      }
    // After the list's end, only the file's end may follow.
    if (at !== end || readSync(fd, buf, 0, CHUNK, null) > 0) return undefined;
    return r.b.table(archiveSha256);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The manifest's file list as verify's table; undefined when there is no manifest. Damage throws
 * readManifestFile's DamagedFileError, naming the file and the fix.
 */
export async function readManifestTable(file: string, spec: StateFileSpec): Promise<ManifestTable | undefined> {
  const t = writerLayoutTable(file);
  if (t) return t;
  const m = await readManifestFile(file, spec);
  return m && tableOf(m);
}
