/**
 * Credentials for a host from ~/.netrc (machine/login/password, and `default`), the file curl
 * and ftp read. They never appear in the site or release file, and never in any message.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withRoot } from '../core/privilege.js';

export interface Credentials {
  login: string;
  password: string;
}

/** The netrc file's tokens, in order (quoted tokens and comments as curl reads them). */
function tokens(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trimStart().startsWith('#')) continue;
    for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g))
      out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]);
  }
  return out;
}

/** The entry for `host` (else `default`), or undefined. Pure: the file's text in. */
export function netrcLookup(text: string, host: string): Credentials | undefined {
  const t = tokens(text);
  let fallback: Credentials | undefined;
  for (let i = 0; i < t.length; i++) {
    if (t[i] !== 'machine' && t[i] !== 'default') continue;
    const isDefault = t[i] === 'default';
    const machine = isDefault ? undefined : t[++i];
    const c: Partial<Credentials> = {};
    for (let j = i + 1; j < t.length && t[j] !== 'machine' && t[j] !== 'default'; j++) {
      if (t[j] === 'login') c.login = t[++j];
      else if (t[j] === 'password') c.password = t[++j];
      else if (t[j] === 'macdef') break; // a macro runs to a blank line; curl ignores it, as do we
      i = j;
    }
    if (c.login === undefined || c.password === undefined) continue;
    if (machine !== undefined && machine.toLowerCase() === host.toLowerCase()) return c as Credentials;
    if (isDefault && fallback === undefined) fallback = c as Credentials;
  }
  return fallback;
}

/**
 * $NETRC, else ~/.netrc of $HOME; a missing file is no credentials. The file is the operator's
 * (root's, mode 0600), read with the ids of who ran webtree, not the service account's that
 * root works as in the tree: one synchronous read.
 */
export function credentialsFor(host: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const file = env.NETRC ?? path.join(env.HOME ?? os.homedir(), '.netrc');
  let text: string | undefined;
  try {
    text = withRoot(() => readFileSync(file, 'utf8'));
  } catch {
    text = undefined;
  }
  return Promise.resolve(text === undefined ? undefined : netrcLookup(text, host));
}
