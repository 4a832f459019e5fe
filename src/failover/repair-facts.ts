/**
 * The read step of repair (and of switch-web to the server already active): adopt's facts about
 * every consumer and its variants, what <switch>/active is, and whether the active server's
 * variants can be read by the account the apps run as.
 */
import type { ProductDescriptor } from '../catalog/types.js';
import { activeKind as readActiveKind } from '../state/server.js';
import { consumers } from '../plan/switch-layout.js';
import type { Site } from '../site/types.js';
import type { RepairFacts, TreeState } from '../plan/facts.js';
import { readAdoptFacts } from './adopt-facts.js';
import { variantProblem } from './switch-facts.js';

export async function readRepairFacts(site: Site, catalog: ProductDescriptor[], tree: TreeState): Promise<RepairFacts> {
  const facts = await readAdoptFacts(site, catalog, tree);
  const activeKind = await readActiveKind(site);
  const usable: Record<string, string> = {};
  const account = process.getuid?.() === 0 ? site.apache.user : undefined;
  for (const c of consumers(site, catalog))
    usable[c.slot] = facts.active === null ? 'unknown' : await variantProblem(c.variant(facts.active), account);
  return { ...facts, activeKind, usable };
}
