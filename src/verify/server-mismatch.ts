/**
 * verify's failover findings: <switch>/active names a site server through a link; every
 * consumer goes through it; every server has its own variant (not another server's file or
 * bytes) that the apps' account can read; and every consumer really serves the active server.
 * "Serves" follows each consumer to the file a reader gets: a variant's path, or, for a plain
 * file left by the guide's renaming, the variant it is (same inode, same bytes, or the one
 * missing). Each finding says what fixes it.
 */
import fs from 'node:fs/promises';
import { lstatOrNull, readLinkOrNull } from '../state/fs-read.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { activeLink, consumers, consumerTarget, slotPath, type Consumer } from '../plan/switch-layout.js';
import type { Site } from '../site/types.js';
import { variantProblem, variantTwins } from '../failover/switch-facts.js';
import type { Finding } from './finding.js';

const realOrNull = (p: string) => fs.realpath(p).catch(() => null);
const REPAIR = '`webtree repair` puts every consumer back through the indirection';

/** The server whose variant a reader of `c` gets, and how that was told; undefined when none. */
async function servedBy(site: Site, c: Consumer): Promise<{ server: string; how: string } | undefined> {
  const names = site.database.servers.map((s) => s.name);
  const real = await realOrNull(c.path);
  if (real === null) return undefined;
  for (const s of names)
    if ((await realOrNull(c.variant(s))) === real) return { server: s, how: `resolves to ${real}` };
  const st = await lstatOrNull(c.path);
  if (!st?.isFile()) return undefined;
  const bytes = await fs.readFile(c.path).catch(() => null);
  const equal: string[] = [];
  const missing: string[] = [];
  for (const s of names) {
    const v = await realOrNull(c.variant(s));
    if (v === null) missing.push(s);
    else if (bytes !== null && (await fs.readFile(v).catch(() => null))?.equals(bytes)) equal.push(s);
  }
  if (equal.length === 1) return { server: equal[0], how: `is a plain file with the bytes of ${c.variant(equal[0])}` };
  if (equal.length === 0 && missing.length === 1)
    return {
      server: missing[0],
      how: `is a plain file, and ${c.variant(missing[0])} is missing (renamed into it by hand)`,
    };
  return undefined;
}

export async function checkFailover(site: Site, catalog: ProductDescriptor[]): Promise<Finding[]> {
  const out: Finding[] = [];
  const link = activeLink(site);
  const names = site.database.servers.map((s) => s.name);
  const st = await lstatOrNull(link);
  const active = await readLinkOrNull(link);
  if (!st)
    out.push({
      what: 'server',
      problem: `${link} is missing: no active database server (webtree switch-web SERVER makes it)`,
    });
  else if (!st.isSymbolicLink())
    out.push({
      what: 'server',
      problem: `${link} is a real ${st.isDirectory() ? 'directory' : 'file'}, not a link: the apps read what was copied into it, and no switch moves them (webtree switch-web SERVER moves it aside and points ${link} at SERVER)`,
    });
  else if (!names.includes(active!))
    out.push({
      what: 'server',
      problem: `${link} -> ${active}, which is not one of the site's servers (${names.join(', ')}): webtree switch-web SERVER points it at one`,
    });

  const account = process.getuid?.() === 0 ? site.apache.user : undefined;
  const seen = new Map<string, string[]>(); // server -> apps
  for (const c of consumers(site, catalog)) {
    const what = `server/${c.app}`;
    const at = await lstatOrNull(c.path);
    const target = at?.isSymbolicLink() ? await fs.readlink(c.path) : null;
    if (!at) out.push({ what, problem: `${c.path} is missing (${REPAIR})` });
    else if (target !== consumerTarget(site, c))
      out.push({
        what,
        problem: `${c.path} ${target !== null ? `-> ${target}` : `is a real ${at.isDirectory() ? 'directory' : 'file'}`}, expected -> ${consumerTarget(site, c)}: a switch would not move it (${REPAIR})`,
      });
    for (const s of names) {
      const v = c.variant(s);
      const problem = await variantProblem(v, account);
      if (problem === 'missing') out.push({ what, problem: `${v} is missing: ${c.app} cannot be switched to ${s}` });
      else if (problem !== 'ok')
        out.push({
          what,
          problem: `${v} is ${problem}: ${s === active ? `${c.app} fails now` : `switch-web ${s} refuses`} (chown ${site.apache.user} / chmod it like the other variants)`,
        });
      const twins = await variantTwins(site, c, s);
      // Each pair once: from the first server of the pair in the site's order.
      const later = twins.filter((t) => names.indexOf(t.split(' ')[0]) > names.indexOf(s));
      if (later.length)
        out.push({
          what,
          problem: `${v} is the same as ${later.map((t) => `${t.split(' ')[0]}'s variant ${t.slice(t.indexOf(' ') + 1)}`).join(', ')}: a switch between them moves nothing (give each server a file of its own)`,
        });
      const slot = await readLinkOrNull(slotPath(site, s, c.slot));
      if (slot !== null && slot !== v)
        out.push({
          what,
          problem: `${slotPath(site, s, c.slot)} -> ${slot}, expected -> ${v} (${s === active ? 'webtree repair' : `switch-web ${s}`} re-points it)`,
        });
    }
    const served = await servedBy(site, c);
    if (served === undefined) {
      const real = await realOrNull(c.path);
      if (real !== null && real !== c.path)
        out.push({ what, problem: `${c.path} resolves to ${real}, which is no server's variant` });
      continue;
    }
    seen.set(served.server, [...(seen.get(served.server) ?? []), c.app]);
    if (active !== null && served.server !== active)
      out.push({
        what,
        problem: `${c.app} serves ${served.server}: ${c.path} ${served.how}, but ${link} says ${active} (${REPAIR})`,
      });
  }
  if (seen.size > 1) {
    out.push({
      what: 'server',
      problem: `the web tools are split between servers: ${[...seen].map(([s, apps]) => `${s} (${apps.join(', ')})`).join(', ')} (${REPAIR}${active ? `: every one on ${active}` : ''})`,
    });
  }
  return out;
}
