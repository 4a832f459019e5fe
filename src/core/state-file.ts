/**
 * The one way webtree reads a file it keeps (the lock, the journal, history.jsonl, manifests,
 * rendered.json) or is given (the site file). Whatever is found there, a reader gets text or one
 * DamagedFileError that names the file, what is wrong with it and the fix: never a hang (a FIFO
 * is opened O_NONBLOCK and refused by its type, /dev/zero is refused before a byte is read), a
 * crash on `null`, or a stack trace. Parsing and the shape of each file stay with its owner:
 * this module only knows files, text and JSON.
 */
import { isUtf8 } from 'node:buffer';
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { isErrno, WebtreeError, type ErrorCode } from './errors.js';

/** A state file that cannot be used as it is. `problem` is its own sentence part ("is empty"). */
export class DamagedFileError extends WebtreeError {
  constructor(
    readonly file: string,
    readonly what: string,
    readonly problem: string,
    fix: string,
    code: ErrorCode = 'EDAMAGED',
    exitCode?: number,
  ) {
    super(code, `${what} ${file} ${problem}`, { hint: fix, exitCode });
    this.name = 'DamagedFileError';
  }
}

export const isDamaged = (err: unknown): err is DamagedFileError => err instanceof DamagedFileError;

/** What a file that is not a regular file is, in an operator's words. */
export function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export interface StateFileSpec {
  /** "webtree's lock", "the intent journal", "the manifest of TV 3.4". */
  what: string;
  /** The fix, said whatever the damage ("move it aside: mv … ; then …"). */
  fix: string;
  /** More than any file of this kind webtree writes: refused rather than read into memory. */
  maxBytes?: number;
  /** The error's code and exit status (the site file: ESITE, exit 2). */
  code?: ErrorCode;
  exitCode?: number;
}

const DEFAULT_MAX = 256 * 1024 * 1024;

/**
 * The text, or undefined for a NUL byte or bytes that are not UTF-8: nothing webtree writes.
 * Checked by buffer's isUtf8 (simdutf) and decoded by toString, which keeps a BOM in the text:
 * the same answer as a fatal TextDecoder, whose decoding of a 500 kB history took ~6 ms of
 * status at 8 x 200 versions, the two native calls a fraction of that (issue 15).
 */
function utf8Text(buf: Buffer): string | undefined {
  if (buf.includes(0) || !isUtf8(buf)) return undefined;
  return buf.toString('utf8');
}

/**
 * The file's text, or undefined when it does not exist. Opened O_NONBLOCK (a FIFO opens at once
 * and is then refused by its type, never read), the type checked on the open descriptor (no race
 * between a stat and the open), the size bounded, empty and binary files refused. The calls are
 * the synchronous ones: each of these files is small and read once, and a read command waited on
 * libuv's thread pool for nothing (issue 15).
 */
export async function readStateText(file: string, spec: StateFileSpec): Promise<string | undefined> {
  return readStateTextSync(file, spec);
}

export function readStateTextSync(file: string, spec: StateFileSpec): string | undefined {
  const bad = damageOf(file, spec);
  const fd = openState(file, spec);
  if (fd === undefined) return undefined;
  try {
    let buf: Buffer;
    try {
      buf = readFileSync(fd);
    } catch (err) {
      throw readFailure(err, bad);
    }
    if (buf.length === 0) throw bad('is empty');
    const text = utf8Text(buf);
    if (text === undefined) throw bad('holds binary data, not text');
    return text;
  } finally {
    closeSync(fd);
  }
}

const damageOf = (file: string, spec: StateFileSpec) => (problem: string) =>
  new DamagedFileError(file, spec.what, problem, spec.fix, spec.code, spec.exitCode);

const readFailure = (err: unknown, bad: (problem: string) => DamagedFileError) =>
  isErrno(err) ? bad(`cannot be read: ${err.code}${err.code === 'EIO' ? ' (a disk error: see dmesg)' : ''}`) : err;

/** The file open for reading and checked to be a regular, non-empty file within its bound; undefined when missing. */
function openState(file: string, spec: StateFileSpec): number | undefined {
  const bad = damageOf(file, spec);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    if (isErrno(err, 'ENOTDIR')) throw bad('cannot be reached: a part of its path is a file, not a directory');
    if (isErrno(err, 'EACCES') || isErrno(err, 'EPERM'))
      throw bad(
        `cannot be read: permission denied to ${process.getuid?.() === 0 ? 'root' : `uid ${process.getuid?.()}`}`,
      );
    if (isErrno(err, 'ELOOP')) throw bad('is a symbolic link that loops');
    if (isErrno(err)) throw bad(`cannot be opened: ${err.code}`);
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw bad(`is ${kindOf(st)}, not a file`);
    const max = spec.maxBytes ?? DEFAULT_MAX;
    if (st.size > max) throw bad(`is ${st.size} bytes, more than any such file webtree writes (${max})`);
    if (st.size === 0) throw bad('is empty');
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/**
 * One line of a file read by eachStateLineSync: bytes [start, end) of buf, without the newline.
 * buf is the block's whole lines only, a new view for each block (nothing past them to search).
 */
export type LineVisitor = (buf: Buffer, start: number, end: number, line: number, last: boolean) => void;

const BLOCK = 64 * 1024;

/**
 * The file readStateTextSync reads, with the same checks and the same errors, given line by line
 * as bytes of one reused block instead of as one string. A 500 kB history read whole made two
 * fresh 500 kB areas (the buffer and its string), and first touching fresh memory cost ~2 ms per
 * 500 kB on these machines: a third of what status spent on the history (issue 15). A block is
 * checked (no NUL, UTF-8) up to its last newline, which no UTF-8 sequence contains, so a line is
 * never cut between blocks. `last`: the file's final line, with no newline after it. A binary
 * block found after earlier lines were given still throws: the caller's answer is discarded.
 * Returns false when the file does not exist.
 */
export function eachStateLineSync(file: string, spec: StateFileSpec, visit: LineVisitor): boolean {
  const bad = damageOf(file, spec);
  const fd = openState(file, spec);
  if (fd === undefined) return false;
  const max = spec.maxBytes ?? DEFAULT_MAX;
  try {
    let buf = Buffer.allocUnsafeSlow(BLOCK);
    let held = 0; // bytes of an unfinished line kept at the start of buf
    let total = 0;
    let line = 0;
    for (;;) {
      if (held === buf.length) {
        const bigger = Buffer.allocUnsafeSlow(buf.length * 2); // a line longer than the block
        buf.copy(bigger, 0, 0, held);
        buf = bigger;
      }
      let n: number;
      try {
        n = readSync(fd, buf, held, buf.length - held, null);
      } catch (err) {
        throw readFailure(err, bad);
      }
      total += n;
      if (total > max) throw bad(`is more than ${max} bytes, more than any such file webtree writes`);
      const filled = held + n;
      if (filled === 0) break;
      const cut = n === 0 ? filled : buf.lastIndexOf(0x0a, filled - 1) + 1;
      if (cut === 0) {
        held = filled; // no newline yet: read on
        continue;
      }
      const whole = buf.subarray(0, cut);
      if (whole.includes(0) || !isUtf8(whole)) throw bad('holds binary data, not text');
      let at = 0;
      while (at < cut) {
        const nl = whole.indexOf(0x0a, at);
        const end = nl === -1 ? cut : nl;
        visit(whole, at, end, ++line, nl === -1);
        at = end + 1;
      }
      if (n === 0) break;
      buf.copy(buf, 0, cut, filled);
      held = filled - cut;
    }
    if (total === 0) throw bad('is empty');
    return true;
  } finally {
    closeSync(fd);
  }
}

/** JSON.parse, a failure said as damage: truncated (cut off at its end) or not JSON at all. */
export function parseStateJson(file: string, text: string, spec: StateFileSpec): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const cut = /end of (JSON )?input|Unterminated/i.test(String((err as Error).message));
    throw new DamagedFileError(
      file,
      spec.what,
      cut ? 'is truncated (its JSON ends early)' : 'is not valid JSON',
      spec.fix,
      spec.code,
      spec.exitCode,
    );
  }
}

/** The JSON value's kind as an operator reads it: null, a list, a number … */
export function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/**
 * A field table: each field's check returns true when the value fits. A reader describes its
 * file's shape with one (the lock's gains a field with one line).
 */
export type FieldCheck = (v: unknown) => boolean;
export const isStr: FieldCheck = (v) => typeof v === 'string';
export const isNonEmptyStr: FieldCheck = (v) => typeof v === 'string' && v.length > 0;
export const isPosInt: FieldCheck = (v) => Number.isSafeInteger(v) && (v as number) > 0;
export const isNat: FieldCheck = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
export const optional =
  (c: FieldCheck): FieldCheck =>
  (v) =>
    v === undefined || c(v);
export const nullable =
  (c: FieldCheck): FieldCheck =>
  (v) =>
    v === null || c(v);
export const oneOf =
  (...xs: unknown[]): FieldCheck =>
  (v) =>
    xs.includes(v);
export const isObj: FieldCheck = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why a JSON value does not have the shape `fields` describe ("has no field pid"), or undefined. */
export function shapeProblem(v: unknown, fields: Record<string, FieldCheck>): string | undefined {
  if (!isObj(v)) return `holds ${jsonKind(v)} where an object belongs`;
  const o = v as Record<string, unknown>;
  // for…in, not Object.entries: the history checks every line of the file with the same table.
  for (const name in fields) {
    if (fields[name](o[name])) continue;
    return o[name] === undefined
      ? `has no field "${name}"`
      : `has a field "${name}" of the wrong kind (${jsonKind(o[name])})`;
  }
  return undefined;
}

/** Read, parse and check a JSON state file; undefined when it does not exist. */
export async function readStateJson<T>(
  file: string,
  spec: StateFileSpec,
  fields: Record<string, FieldCheck>,
  extra?: (v: T) => string | undefined,
): Promise<T | undefined> {
  const text = await readStateText(file, spec);
  if (text === undefined) return undefined;
  const v = parseStateJson(file, text, spec);
  const problem = shapeProblem(v, fields) ?? extra?.(v as T);
  if (problem) throw new DamagedFileError(file, spec.what, problem, spec.fix, spec.code, spec.exitCode);
  return v as T;
}
