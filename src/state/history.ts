import { currentIdentity } from '../core/identity.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import { moveAsideCommand } from '../core/attic.js';
import {
  DamagedFileError,
  isDamaged,
  kindOf,
  isNonEmptyStr,
  isStr,
  oneOf,
  optional,
  eachStateLineSync,
  readStateText,
  type LineVisitor,
  shapeProblem,
  type FieldCheck,
  type StateFileSpec,
} from '../core/state-file.js';
import type { HistoryEntry } from '../plan/facts.js';

// The entry's type lives beside the planners that read it; its readers here keep offering it.
export type { HistoryEntry };

export function whoAmI(env: NodeJS.ProcessEnv = process.env): { user: string; sudoUser?: string } {
  const { user } = currentIdentity();
  return env.SUDO_USER ? { user, sudoUser: env.SUDO_USER } : { user };
}

const OUTCOMES = ['ok', 'failed', 'recovered', 'undone', 'rolled-back'];
const optStr = optional(isStr);
const ENTRY_FIELDS: Record<string, FieldCheck> = {
  id: optStr,
  time: isStr,
  user: isStr,
  sudoUser: optStr,
  action: isNonEmptyStr,
  product: optStr,
  version: optStr,
  from: optStr,
  to: optStr,
  sha256: optStr,
  source: optStr,
  license: optStr,
  undo: optional((v) => typeof v === 'boolean'),
  outcome: oneOf(...OUTCOMES),
  message: optStr,
};

/** The history file's damage and its fix: a bad line can be mended or dropped, a bad file moved aside. */
export function historySpec(file: string): StateFileSpec {
  const state = path.dirname(file);
  return {
    what: "webtree's history",
    // Made only when an error says it: its dated name was the first Date of every status (~1 ms).
    get fix() {
      return `move it aside (${moveAsideCommand(file, state)}); webtree starts a new history, and rollback and prune then know only what happens after`;
    },
  };
}

/** One damaged line: its number, what is wrong, and the fix for that line alone. */
export interface HistoryLineProblem {
  line: number;
  problem: string;
}

export interface HistoryRead {
  entries: HistoryEntry[];
  /** Lines that are not history entries (a torn last line from a power cut is not one of them). */
  problems: HistoryLineProblem[];
}

/**
 * Which lines to parse. 'all': every one (verify, history, and every changing command, which refuse
 * a damaged line). 'pointer': those that can hold a `to`, the only entries the rows of status and
 * list read (the previous version); a line from `{` to `}` without one is passed over unparsed.
 * At 8 x 200 versions most of the history is `install --no-activate` entries, and parsing each one
 * was a quarter of status's time (its objects, kept to the end, then cost the scavenges copying
 * them). A line damaged inside its frame is then found by verify and by the next change, not by
 * status or list: what they show does not depend on it. A torn or damaged frame is still reported.
 */
export type HistoryLines = 'all' | 'pointer';

/**
 * Every entry that is whole and of the right shape, and the lines that are not. The file itself
 * (a directory, a FIFO, binary, unreadable) throws a DamagedFileError. An empty file is an empty
 * history. A last line without its newline that does not parse is the torn end of an append cut
 * short by a power cut: the entries before it still count and it is no damage.
 */
export async function readHistoryLines(file: string, which: HistoryLines = 'all'): Promise<HistoryRead> {
  const out: HistoryRead = { entries: [], problems: [] };
  try {
    if (which === 'pointer') {
      eachStateLineSync(file, historySpec(file), pointerLines(out));
      return out;
    }
    const text = await readStateText(file, historySpec(file));
    if (text === undefined) return out;
    const lines = text.split('\n');
    lines.forEach((line, i) => takeLine(out, line, i + 1, i === lines.length - 1));
    return out;
  } catch (err) {
    if (isDamaged(err) && err.problem === 'is empty') return { entries: [], problems: [] };
    throw err;
  }
}

/** Whether `r` has the shape of a HistoryRead: whole entries, and problems each with its line, 1 or more (a memo's, listing-memo.ts). */
export function isHistoryRead(r: unknown): r is HistoryRead {
  if (typeof r !== 'object' || r === null) return false;
  const { entries, problems } = r as Record<string, unknown>;
  return (
    Array.isArray(entries) &&
    Array.isArray(problems) &&
    entries.every((e) => shapeProblem(e, ENTRY_FIELDS) === undefined) &&
    problems.every(
      (p) =>
        typeof p === 'object' &&
        p !== null &&
        Number.isInteger((p as HistoryLineProblem).line) &&
        (p as HistoryLineProblem).line > 0 &&
        typeof (p as HistoryLineProblem).problem === 'string',
    )
  );
}

/** One line of the file as an entry or a problem; `torn`: the last line, no newline after it. */
function takeLine(out: HistoryRead, line: string, n: number, torn: boolean): void {
  if (!line.trim()) return;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    if (!torn) out.problems.push({ line: n, problem: 'is not a JSON object (truncated or damaged)' });
    return;
  }
  const p = shapeProblem(v, ENTRY_FIELDS);
  if (p) out.problems.push({ line: n, problem: p });
  else out.entries.push(v as HistoryEntry);
}

const TO_KEY = Buffer.from('"to"');
/** An escape: a key could spell `to` with one (`"\u0074o"`), so a line with any is parsed. */
const ESCAPE = Buffer.from('\\u');

/**
 * The 'pointer' reading of each line's bytes: a line framed `{ … }` with neither `"to"` nor an
 * escape in it is passed over; any other is decoded and taken as 'all' takes it. Each search
 * runs from a line's start to the next match in the block (eachStateLineSync gives each block as
 * a view of its whole lines) and is reused until a line passes it: one search per block and key,
 * not one per line.
 */
function pointerLines(out: HistoryRead): LineVisitor {
  let block: Buffer | undefined;
  let to = -1;
  let esc = -1;
  const next = (buf: Buffer, key: Buffer, at: number, found: number) =>
    found === -1 || found >= at ? found : buf.indexOf(key, at);
  return (buf, start, end, n, last) => {
    if (buf !== block) {
      block = buf;
      to = buf.indexOf(TO_KEY, start);
      esc = buf.indexOf(ESCAPE, start);
    } else {
      to = next(buf, TO_KEY, start, to);
      esc = next(buf, ESCAPE, start, esc);
    }
    const framed = end > start && buf[start] === 0x7b && buf[end - 1] === 0x7d;
    const plain = (to === -1 || to >= end) && (esc === -1 || esc >= end);
    if (framed && plain) return;
    takeLine(out, buf.toString('utf8', start, end), n, last);
  };
}

/** A line problem as one error: the file, the line, and both fixes (drop the line, or the file). */
export function historyLineError(file: string, problems: HistoryLineProblem[]): DamagedFileError {
  const first = problems[0];
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more line${problems.length > 2 ? 's' : ''})` : '';
  return new DamagedFileError(
    file,
    "webtree's history",
    `line ${first.line} ${first.problem}${more}`,
    `mend or delete the line (\`sed -i '${first.line}d' ${file}\` deletes it), or ${historySpec(file).fix}`,
  );
}

/**
 * The history as a planner needs it: whole. A damaged line could hide the activation that
 * rollback returns to or the version prune must keep, so it is refused, naming the line.
 */
export async function readHistory(file: string): Promise<HistoryEntry[]> {
  const r = await readHistoryLines(file);
  if (r.problems.length) throw historyLineError(file, r.problems);
  return r.entries;
}

/** Append one entry with O_APPEND and fsync it: the history is never rewritten. */
export async function appendHistory(file: string, entry: HistoryEntry): Promise<void> {
  const fh = await fs.open(file, 'a+', 0o644); // a+: the torn-line check below reads
  try {
    // A torn line from a crash would otherwise swallow this entry's start.
    const st = await fh.stat();
    if (!st.isFile())
      throw new DamagedFileError(file, "webtree's history", `is ${kindOf(st)}, not a file`, historySpec(file).fix);
    let prefix = '';
    if (st.size > 0) {
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, st.size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    await fh.write(prefix + JSON.stringify(entry) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
}
