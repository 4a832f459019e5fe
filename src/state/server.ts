import { lstatOrNullSync, readLinkOrNullSync } from './fs-read.js';
import { activeLink } from '../plan/switch-layout.js';
import type { ActiveKind } from '../plan/facts.js';
import type { Site } from '../site/types.js';

/**
 * The database server the tree points at: the target of <switch>/active. One link read with the
 * synchronous calls, as the tree's reads are (state/tree.ts): its asynchronous read was the one
 * that loaded node:fs/promises into every status (issue 15).
 */
export async function activeServer(site: Site): Promise<string | null> {
  return readLinkOrNullSync(activeLink(site));
}

/** What <switch>/active is on disk (the facts' ActiveKind). */
export async function activeKind(site: Site): Promise<ActiveKind> {
  const st = lstatOrNullSync(activeLink(site));
  if (!st) return 'missing';
  if (st.isSymbolicLink()) return 'link';
  return st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other';
}

/**
 * Why there is no active server, in words, when <switch>/active is something other than a link
 * (a directory or a file left by hand): "(none)" would hide it. Undefined when it is a link or absent.
 */
export async function activeNotALink(site: Site): Promise<string | undefined> {
  const kind = await activeKind(site);
  if (kind === 'link' || kind === 'missing') return undefined;
  return `${activeLink(site)} is a ${kind === 'directory' ? 'directory' : 'file'}, not a link to a server: \`webtree verify\` names the fix`;
}
