import { currentIdentity } from '../core/identity.js';
import fs from 'node:fs/promises';
import { isErrno } from '../core/errors.js';
import type { HistoryEntry } from '../plan/facts.js';

// The entry's type lives beside the planners that read it; its readers here keep offering it.
export type { HistoryEntry };

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
