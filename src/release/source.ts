/**
 * Where an archive comes from, as a release file or `install URL` names it: a local file (an
 * absolute path or a file:// URL) or an http(s):// URL. The name after the last "/" identifies
 * product and version, as an archive file's name does.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type ArchiveSource =
  { kind: 'file'; path: string; name: string; text: string } | { kind: 'url'; url: string; name: string; text: string };

const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * A sha256 as a release file or `install --sha256` gives it. Here, not in file.ts: install
 * imports it, and file.ts brings the YAML parser (some 60 ms of an install's start-up).
 */
export const SHA256_RE = /^[0-9a-fA-F]{64}$/;

/** The source `text` names, or why it cannot be one (a sentence for the error). */
export function archiveSource(text: string): ArchiveSource | string {
  if (CONTROL.test(text)) return 'must not hold a newline or control character';
  if (text.startsWith('/')) {
    if (path.normalize(text) !== text) return `must be a clean absolute path without . or .. (got "${text}")`;
    return { kind: 'file', path: text, name: path.basename(text), text };
  }
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return `must be an absolute path, a file:// or an http(s):// URL (got "${text}")`;
  }
  if (u.protocol === 'file:') {
    if (u.host !== '' && u.host !== 'localhost')
      return `a file:// URL names a file on this host (got host "${u.host}")`;
    const p = fileURLToPath(u);
    return { kind: 'file', path: p, name: path.basename(p), text };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return `${u.protocol.replace(/:$/, '')}:// is not supported: give an absolute path, a file:// or an http(s):// URL`;
  // Credentials never sit in a file that is copied between hosts and kept in git.
  if (u.username || u.password) return 'must not carry a user or password: webtree reads credentials from ~/.netrc';
  const name = decodeURIComponent(u.pathname.split('/').pop() ?? '');
  if (!name || name.includes('/'))
    return `names no file: the part after the last "/" must be the archive's name (got "${u.pathname}")`;
  return { kind: 'url', url: u.toString(), name, text };
}

/** The URL without query and fragment, for messages and the history (a query may hold a token). */
export function shownSource(s: ArchiveSource): string {
  if (s.kind === 'file') return s.path;
  const u = new URL(s.url);
  return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
}
