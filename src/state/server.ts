import { lstatOrNull, readLinkOrNull } from './fs-read.js';
import { activeLink } from '../plan/switch-layout.js';
import type { Site } from '../site/types.js';

/** The database server the tree points at: the target of <switch>/active. */
export async function activeServer(site: Site): Promise<string | null> {
  return readLinkOrNull(activeLink(site));
}

/**
 * Why there is no active server, in words, when <switch>/active is something other than a link
 * (a directory or a file left by hand): "(none)" would hide it. Undefined when it is a link or absent.
 */
export async function activeNotALink(site: Site): Promise<string | undefined> {
  const st = await lstatOrNull(activeLink(site));
  if (!st || st.isSymbolicLink()) return undefined;
  return `${activeLink(site)} is a ${st.isDirectory() ? 'directory' : 'file'}, not a link to a server: \`webtree verify\` names the fix`;
}
