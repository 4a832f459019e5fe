/**
 * Who runs this process: its uid and user name (the uid itself when the passwd database has no
 * name for it). One answer for the history, the error messages and Apache's control.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Identity {
  uid: number;
  user: string;
}

let invoker: Identity | undefined;

/**
 * Who ran webtree, asked once: run as root, the process later works as the service account
 * (core/privilege.ts), but the history and the lock still say root.
 */
export function currentIdentity(): Identity {
  if (invoker) return invoker;
  const uid = process.getuid?.() ?? -1;
  let user = String(uid);
  try {
    user = os.userInfo().username;
  } catch {
    /* a uid without a passwd entry: named by its number */
  }
  invoker = { uid, user };
  return invoker;
}

/**
 * The lines of /etc/passwd or /etc/group, split into fields; none when the file cannot be read.
 * Synchronous: read at every start as root, before the privilege drop (a pool round trip each).
 */
export function dbLines(file: string): string[][] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // No such database: no entries.
  }
  return text.split('\n').map((l) => l.split(':'));
}

/** The fields of the line of /etc/passwd or /etc/group whose field `key` equals `value`. */
export async function dbEntry(file: string, value: string, key = 0): Promise<string[] | undefined> {
  return dbLines(file).find((f) => f.length > key && f[key] === value);
}
