/**
 * The failover indirection. Every server-dependent path a reader opens resolves through one
 * link, <switch>/active, so one rename moves the whole site:
 *   html/cfg/des_tv.cfg      -> <switch>/active/des_tv.cfg
 *   <ecl>/settings.py        -> <switch>/active/ecl-settings.py
 *   <switch>/active          -> server3
 *   <switch>/server3/des_tv.cfg -> html/cfg/des_tv.cfg_server3   (the variant operators keep)
 */
import path from 'node:path';
import type { ProductDescriptor } from '../catalog/types.js';
import type { Site } from '../site/types.js';

export interface Consumer {
  /** What the consumer is called inside <switch>/<server>/: "des_tv.cfg", "ecl-settings.py". */
  slot: string;
  /** The path readers open: html/cfg/des_tv.cfg, <ecl>/settings.py. */
  path: string;
  /** The per-server variant operators keep beside it. */
  variant: (server: string) => string;
  app: string;
}

export function consumers(site: Site, catalog: ProductDescriptor[]): Consumer[] {
  const out: Consumer[] = [];
  for (const d of catalog) {
    const cfg = d.wsgi?.cfg;
    if (!cfg) continue;
    if (d.name === 'ECL') {
      if (!site.ecl.enabled) continue;
      out.push({
        slot: 'ecl-settings.py',
        path: path.join(site.ecl.dir, cfg),
        variant: (s) => path.join(site.ecl.dir, `${cfg}_${s}`),
        app: d.name,
      });
    } else {
      const dir = path.join(site.paths.html, 'cfg');
      out.push({ slot: cfg, path: path.join(dir, cfg), variant: (s) => path.join(dir, `${cfg}_${s}`), app: d.name });
    }
  }
  return out;
}

export const activeLink = (site: Site) => path.join(site.paths.switch, 'active');
export const serverSlotDir = (site: Site, server: string) => path.join(site.paths.switch, server);
export const slotPath = (site: Site, server: string, slot: string) => path.join(site.paths.switch, server, slot);
export const consumerTarget = (site: Site, c: Consumer) => path.join(activeLink(site), c.slot);
