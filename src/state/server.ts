import { readLinkOrNull } from './fs-read.js';
import { activeLink } from '../plan/switch-layout.js';
import type { Site } from '../site/types.js';

/** The database server the tree points at: the target of <switch>/active. */
export async function activeServer(site: Site): Promise<string | null> {
  return readLinkOrNull(activeLink(site));
}
