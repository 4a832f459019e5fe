/**
 * verify's "one server everywhere": follow every consumer path to the file a reader really gets
 * and name the server whose variant that is. A tampered slot link (<switch>/server3/des_tv.cfg
 * -> des_tv.cfg_server2) or a consumer linked straight to a variant shows up here even when each
 * link on its own looks plausible.
 */
import { activeServer } from '../state/server.js';
import fs from 'node:fs/promises';
import type { ProductDescriptor } from '../catalog/types.js';
import { activeLink, consumers } from '../plan/switch-layout.js';
import type { Site } from '../site/types.js';
import type { Finding } from './finding.js';

const realOrNull = (p: string) => fs.realpath(p).catch(() => null);

export async function checkServerMismatch(site: Site, catalog: ProductDescriptor[]): Promise<Finding[]> {
  const active = await activeServer(site);
  if (active === null) return []; // reported by checkServers
  const out: Finding[] = [];
  const seen = new Map<string, string[]>(); // server -> apps
  for (const c of consumers(site, catalog)) {
    const real = await realOrNull(c.path);
    if (real === null) continue; // missing or dangling: checkServers reports it
    let owner: string | undefined;
    for (const s of site.database.servers) if ((await realOrNull(c.variant(s.name))) === real) owner = s.name;
    if (owner === undefined) {
      if (real !== c.path) out.push({ what: `server/${c.app}`, problem: `${c.path} resolves to ${real}, which is no server's variant` });
      continue;
    }
    seen.set(owner, [...(seen.get(owner) ?? []), c.app]);
    if (owner !== active) out.push({ what: `server/${c.app}`, problem: `${c.path} resolves to ${owner}'s variant (${real}), but ${activeLink(site)} says ${active}` });
  }
  if (seen.size > 1) {
    out.push({ what: 'server', problem: `the web tools are split between servers: ${[...seen].map(([s, apps]) => `${s} (${apps.join(', ')})`).join(', ')}` });
  }
  return out;
}
