/**
 * The plain tar header, read without node-tar: a regular file or a directory, in the POSIX ustar
 * or the GNU layout, with no extended header in effect, every field written the usual way. That
 * is nearly every header of every archive, and node-tar's Header and ReadEntry (a stream per
 * entry) cost some 8-13 µs each, a tenth of a second per 8,000 entries on the reader thread; and
 * an archive of plain headers only never loads node-tar at all (its module graph is about half of
 * the reader thread's start-up).
 *
 * It answers only where the answer is node-tar's, field for field (framing.ts then checks it as
 * it checks node-tar's): anything else, a pax or GNU long name, another type, a base-256 number,
 * a name that is not ASCII, a field with bytes after its terminator, a checksum that does not
 * add up, gets undefined, and framing.ts hands the block to node-tar as before.
 * test/archive/ustar.test.ts holds the two readers to the same answers over generated and
 * mutated headers.
 */
/** One entry as node-tar's ReadEntry will present it, plus the body length the stream carries. */
export interface EntryView {
  path: string;
  type: string;
  typeflag: string;
  size: number;
  bodySize: number;
  mode?: number;
  linkpath?: string;
  mtime?: Date;
}

const SPACE = 0x20;
const ZERO = 0x30;
const SEVEN = 0x37;
const FILE = 0x30; // '0'
const DIR = 0x35; // '5'

/**
 * An octal number as node-tar reads it (parseInt of the field's text, base 8), for the forms the
 * usual writers use: optional spaces, then octal digits (the number), or then a NUL or the field's
 * end (no number: node-tar's undefined). NaN for anything else (a base-256 number, a sign,
 * another character first), which sends the header to node-tar. `width` is the window node-tar
 * reads (its checksum's runs over the typeflag).
 */
function octal(b: Buffer, at: number, width: number): number | undefined {
  let i = at;
  const end = at + width;
  while (i < end && b[i] === SPACE) i++;
  if (i === end || b[i] === 0) return undefined;
  let n = 0;
  const first = i;
  for (; i < end; i++) {
    const c = b[i];
    if (c < ZERO || c > SEVEN) break;
    n = n * 8 + (c - ZERO);
  }
  return i === first ? NaN : n;
}

/** A field whose only bytes that node-tar could read another way are absent (for the numbers that are not used). */
const plainNumberField = (b: Buffer, at: number) => (b[at] & 0x80) === 0;

/**
 * A NUL-terminated ASCII string field, as node-tar's decString gives it (utf8, cut at the first
 * NUL); undefined unless every byte is ASCII and every byte after the first NUL is NUL too.
 */
function text(b: Buffer, at: number, width: number): string | undefined {
  const end = at + width;
  let i = at;
  for (; i < end; i++) {
    const c = b[i];
    if (c === 0) break;
    if (c >= 0x80) return undefined;
  }
  for (let j = i; j < end; j++) if (b[j] !== 0) return undefined;
  return b.toString('latin1', at, i);
}

/** The header's checksum as node-tar adds it: every byte, the checksum field counted as spaces. */
function checksum(b: Buffer): number {
  let sum = 8 * SPACE;
  for (let i = 0; i < 148; i++) sum += b[i];
  for (let i = 156; i < 512; i++) sum += b[i];
  return sum;
}

/** The 8 bytes at 257 (magic and version), compared byte by byte: a string per header cost ~2 µs. */
function isMagic(b: Buffer, magic: readonly number[]): boolean {
  for (let i = 0; i < 8; i++) if (b[257 + i] !== magic[i]) return false;
  return true;
}
const bytesOf = (s: string): readonly number[] => [...s].map((c) => c.charCodeAt(0));
const POSIX = bytesOf('ustar\u000000');
const GNU = bytesOf('ustar  \u0000');

/** The entry a plain header declares, or undefined for node-tar to read it (see above). */
export function plainHeader(b: Buffer): EntryView | undefined {
  const t = b[156];
  if (t !== FILE && t !== DIR) return undefined;
  const posix = isMagic(b, POSIX);
  if (!posix && !isMagic(b, GNU)) return undefined;
  const name = text(b, 0, 100);
  if (name === undefined || name === '') return undefined;
  // A link name on a file or a directory: node-tar keeps it; left to it.
  if (text(b, 157, 100) !== '') return undefined;
  let path = name;
  if (posix) {
    // node-tar's reading of the prefix: 155 bytes when its last byte is set, else 130 and then
    // the access and change times (star's layout) it also decodes.
    const long = b[475] !== 0;
    const prefix = text(b, 345, long ? 155 : 130);
    if (prefix === undefined) return undefined;
    if (long || prefix !== '') path = `${prefix}/${name}`;
    if (!plainNumberField(b, 329) || !plainNumberField(b, 337)) return undefined;
    if (!long && (!plainNumberField(b, 476) || !plainNumberField(b, 488))) return undefined;
  }
  // Old writers marked a directory as a file whose name ends in "/": node-tar's to read.
  if (t === FILE && path.endsWith('/')) return undefined;
  if (!plainNumberField(b, 108) || !plainNumberField(b, 116)) return undefined;
  const mode = octal(b, 100, 8);
  const size = octal(b, 124, 12);
  const mtime = octal(b, 136, 12);
  const cksum = octal(b, 148, 12);
  if (Number.isNaN(mode) || Number.isNaN(size) || Number.isNaN(mtime) || cksum !== checksum(b)) return undefined;
  // node-tar reads a directory's size as 0 whatever the field says (framing.ts checks the field),
  // and no size as 0.
  const body = t === DIR ? 0 : (size ?? 0);
  return {
    path,
    type: t === DIR ? 'Directory' : 'File',
    typeflag: t === DIR ? '5' : '0',
    size: body,
    bodySize: body,
    mode: mode ? mode & 0o7777 : mode,
    linkpath: undefined,
    mtime: mtime === undefined ? undefined : new Date(mtime * 1000),
  };
}
