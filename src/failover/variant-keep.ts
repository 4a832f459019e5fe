/**
 * Kept copies of the per-server variants (html/cfg/<name>.cfg_<server>, ECL's
 * settings.py_<server>): content, owner and mode, in <state>/variants (0700, files 0600: the
 * password is in them), so that the guide's old habit — `mv settings.py settings.py_server3`
 * once webtree's link is there renames the link over the real server3 file — loses nothing:
 * verify names what happened and `webtree variants restore` puts each file back byte for byte,
 * and the indirection with it. A copy is refreshed only from a regular file: a variant that is
 * now a link or missing keeps its last good copy. This file reads; the plans are
 * src/plan/variants.ts and the executor applies them, under the lock (src/commands/variants.ts).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ProductDescriptor } from '../catalog/types.js';
import { lstatOrNull } from '../state/fs-read.js';
import { consumers, consumerTarget, slotPath } from '../plan/switch-layout.js';
import { keptIndex, type KeptVariant, type LinkNow, type VariantFacts, type VariantNow } from '../plan/variants.js';
import type { Site } from '../site/types.js';

export type { KeptVariant };

export const keptDir = (site: Site) => path.join(site.paths.state, 'variants');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export async function readKept(site: Site): Promise<KeptVariant[]> {
  try {
    const v: unknown = JSON.parse(await fs.readFile(keptIndex(keptDir(site)), 'utf8'));
    return Array.isArray(v) ? (v as KeptVariant[]) : [];
  } catch {
    return [];
  }
}

/** What happened to each kept variant since it was kept, in words; empty when nothing did. */
export async function variantFindings(site: Site): Promise<{ what: string; problem: string; path: string }[]> {
  const out: { what: string; problem: string; path: string }[] = [];
  const fix = '`webtree variants restore` puts the kept copy back';
  for (const k of await readKept(site)) {
    const what = `variant/${k.server}`;
    const add = (problem: string) => out.push({ what, problem, path: k.path });
    const st = await lstatOrNull(k.path);
    if (!st) add(`${k.path} is missing (webtree kept a copy at ${k.keptAt}): ${fix}`);
    else if (st.isSymbolicLink()) {
      add(
        `${k.path} is a link now (-> ${await fs.readlink(k.path)}), not the ${k.server} file webtree kept a copy of: a rename by hand (the guide's \`mv settings.py settings.py_${k.server}\`) put it there; ${fix}, and the indirection with it`,
      );
    } else if (!st.isFile()) add(`${k.path} is not a regular file: ${fix}`);
    else if (sha(await fs.readFile(k.path)) !== k.sha256) {
      add(
        `${k.path} was changed behind webtree's back (kept at ${k.keptAt}): if the change is yours, \`webtree variants keep\` records it; if not, ${fix}`,
      );
    } else if (st.uid !== k.uid || st.gid !== k.gid || (st.mode & 0o7777) !== k.mode) {
      add(`${k.path}'s owner or mode changed (kept ${k.uid}:${k.gid} ${k.mode.toString(8)}): ${fix}`);
    }
  }
  return out;
}

/** Every variant, kept copy and indirection link as they are now: what the plans of keep and restore need. */
export async function readVariantFacts(site: Site, catalog: ProductDescriptor[]): Promise<VariantFacts> {
  const variants: VariantNow[] = [];
  const links: LinkNow[] = [];
  for (const c of consumers(site, catalog)) {
    for (const { name: server } of site.database.servers) {
      const p = c.variant(server);
      const st = await lstatOrNull(p);
      const file = st?.isFile()
        ? { sha256: sha(await fs.readFile(p)), uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 }
        : undefined;
      variants.push({ path: p, server, slot: c.slot, file });
    }
    const want: [string, string][] = [
      [c.path, consumerTarget(site, c)],
      ...site.database.servers.map((s): [string, string] => [slotPath(site, s.name, c.slot), c.variant(s.name)]),
    ];
    for (const [link, target] of want) {
      const st = await lstatOrNull(link);
      const now = !st ? 'missing' : st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'directory' : 'file';
      links.push({
        path: link,
        target,
        now,
        nowTarget: now === 'link' ? await fs.readlink(link) : undefined,
        parentMissing: !st && !(await lstatOrNull(path.dirname(link))),
      });
    }
  }
  return {
    keptDir: keptDir(site),
    kept: await readKept(site),
    variants,
    damaged: (await variantFindings(site)).map((f) => f.path),
    links,
    euid: process.geteuid?.() ?? -1,
  };
}
