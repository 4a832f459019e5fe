import { currentIdentity } from '../core/identity.js';
import fs from 'node:fs/promises';
import { isErrno } from '../core/errors.js';

/** One line of the append-only history (<state>/history.jsonl). */
export interface HistoryEntry {
  /** The apply (journal) id; recovery uses it so that a finished entry is never written twice. */
  id: string;
  time: string;
  user: string;
  sudoUser?: string;
  action: string;
  product?: string;
  version?: string;
  from?: string;
  to?: string;
  sha256?: string;
  /** install: where the archive came from (a path, or a URL without its query); `webtree release` writes it. */
  source?: string;
  /** rollback without --to: undoes the last activation instead of stacking a new one. */
  undo?: boolean;
  /**
   * ok: done as asked. failed: refused or reversed, the tree as it was (a refused switch, a
   * change undone after a failure, a health check with nothing to go back to). undone:
   * interrupted before its commit, undone by the next command. recovered: interrupted after its
   * commit, finished by the next command. rolled-back: the going back after a failed health
   * check (a product's auto-rollback, switch-web's switch back, render's previous files).
   * README.md ("History") lists the same.
   */
  outcome: 'ok' | 'failed' | 'recovered' | 'undone' | 'rolled-back';
  message?: string;
}

export function whoAmI(env: NodeJS.ProcessEnv = process.env): { user: string; sudoUser?: string } {
  const { user } = currentIdentity();
  return env.SUDO_USER ? { user, sudoUser: env.SUDO_USER } : { user };
}

export async function readHistory(file: string): Promise<HistoryEntry[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  const out: HistoryEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as HistoryEntry);
    } catch {
      // A power cut can leave a torn last line; the entries before it still count.
    }
  }
  return out;
}

/** Append one entry with O_APPEND and fsync it: the history is never rewritten. */
export async function appendHistory(file: string, entry: HistoryEntry): Promise<void> {
  const fh = await fs.open(file, 'a+', 0o644); // a+: the torn-line check below reads
  try {
    // A torn line from a crash would otherwise swallow this entry's start.
    const st = await fh.stat();
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
