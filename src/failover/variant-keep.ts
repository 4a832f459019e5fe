/**
 * Kept copies of the per-server variants (html/cfg/<name>.cfg_<server>, ECL's
 * settings.py_<server>): content, owner and mode, in <state>/variants (0700, files 0600: the
 * password is in them), so that the guide's old habit — `mv settings.py settings.py_server3`
 * once webtree's link is there renames the link over the real server3 file — loses nothing:
 * verify names what happened and `webtree variants restore` puts each file back byte for byte,
 * and the indirection with it. A copy is refreshed only from a regular file: a variant that is
 * now a link or missing keeps its last good copy.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ProductDescriptor } from '../catalog/types.js';
import { makeDirs, tempName, writeFileAtomic, fsyncDir } from '../apply/fsatomic.js';
import { lstatOrNull } from '../state/fs-read.js';
import { consumers, consumerTarget, slotPath } from '../plan/switch-layout.js';
import type { Site } from '../site/types.js';

export interface KeptVariant {
  path: string;
  server: string;
  slot: string;
  sha256: string;
  uid: number;
  gid: number;
  mode: number;
  keptAt: string;
}

export const keptDir = (site: Site) => path.join(site.paths.state, 'variants');
const indexFile = (site: Site) => path.join(keptDir(site), 'index.json');
const copyFile = (site: Site, k: { server: string; slot: string }) => path.join(keptDir(site), k.server, k.slot);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export async function readKept(site: Site): Promise<KeptVariant[]> {
  try {
    const v: unknown = JSON.parse(await fs.readFile(indexFile(site), 'utf8'));
    return Array.isArray(v) ? v as KeptVariant[] : [];
  } catch {
    return [];
  }
}

/** Copy every variant that is a regular file now; returns how many copies changed. */
export async function keepVariants(site: Site, catalog: ProductDescriptor[], now = new Date().toISOString()): Promise<number> {
  const kept = new Map((await readKept(site)).map((k) => [k.path, k]));
  let changed = 0;
  await makeDirs(keptDir(site), 0o700);
  await fs.chmod(keptDir(site), 0o700);
  for (const c of consumers(site, catalog)) {
    for (const { name: server } of site.database.servers) {
      const p = c.variant(server);
      const st = await lstatOrNull(p);
      if (!st?.isFile()) continue;
      const content = await fs.readFile(p);
      const k: KeptVariant = { path: p, server, slot: c.slot, sha256: sha(content), uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, keptAt: now };
      const old = kept.get(p);
      if (old && old.sha256 === k.sha256 && old.uid === k.uid && old.gid === k.gid && old.mode === k.mode) continue;
      await makeDirs(path.dirname(copyFile(site, k)), 0o700);
      await writeFileAtomic(copyFile(site, k), content, 0o600);
      kept.set(p, k);
      changed++;
    }
  }
  if (changed) await writeFileAtomic(indexFile(site), JSON.stringify([...kept.values()], null, 1), 0o600);
  return changed;
}

/** What happened to each kept variant since it was kept, in words; empty when nothing did. */
export async function variantFindings(site: Site): Promise<{ what: string; problem: string }[]> {
  const out: { what: string; problem: string }[] = [];
  const fix = '`webtree variants restore` puts the kept copy back';
  for (const k of await readKept(site)) {
    const what = `variant/${k.server}`;
    const st = await lstatOrNull(k.path);
    if (!st) out.push({ what, problem: `${k.path} is missing (webtree kept a copy at ${k.keptAt}): ${fix}` });
    else if (st.isSymbolicLink()) {
      out.push({ what, problem: `${k.path} is a link now (-> ${await fs.readlink(k.path)}), not the ${k.server} file webtree kept a copy of: a rename by hand (the guide's \`mv settings.py settings.py_${k.server}\`) put it there; ${fix}, and the indirection with it` });
    } else if (!st.isFile()) out.push({ what, problem: `${k.path} is not a regular file: ${fix}` });
    else if (sha(await fs.readFile(k.path)) !== k.sha256) {
      out.push({ what, problem: `${k.path} was changed behind webtree's back (kept at ${k.keptAt}): if the change is yours, \`webtree variants keep\` records it; if not, ${fix}` });
    } else if (st.uid !== k.uid || st.gid !== k.gid || (st.mode & 0o7777) !== k.mode) {
      out.push({ what, problem: `${k.path}'s owner or mode changed (kept ${k.uid}:${k.gid} ${k.mode.toString(8)}): ${fix}` });
    }
  }
  return out;
}

/** Put a file (or link) in place of p in one rename, so that readers always find something. */
async function replace(p: string, make: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = tempName(p, 'restore');
  try {
    await make(tmp);
    await fs.rename(tmp, p);
  } finally {
    await fs.rm(tmp, { force: true });
  }
  await fsyncDir(path.dirname(p));
}

/**
 * Every kept variant back byte for byte with its owner and mode, then every consumer and slot
 * link back through the indirection. Returns what was done, one line each.
 */
export async function restoreVariants(site: Site, catalog: ProductDescriptor[], dryRun = false, opts: { links?: boolean } = {}): Promise<string[]> {
  const done: string[] = [];
  const bad = new Set((await variantFindings(site)).map((f) => f.problem.split(' ')[0]));
  for (const k of await readKept(site)) {
    if (!bad.has(k.path)) continue;
    done.push(`restore ${k.path} from the copy kept at ${k.keptAt}`);
    if (dryRun) continue;
    const content = await fs.readFile(copyFile(site, k));
    await replace(k.path, async (tmp) => {
      await fs.writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
      // Owner first (it may clear set-id bits), then the mode; an owner this account cannot give stays its own.
      await fs.lchown(tmp, k.uid, k.gid).catch(() => done.push(`  (could not give it to ${k.uid}:${k.gid}: run webtree as root)`));
      await fs.chmod(tmp, k.mode);
    });
  }
  // repair puts the links back itself (its plan, its restart): it asks for the files only.
  if (opts.links === false) return done;
  for (const c of consumers(site, catalog)) {
    const want = consumerTarget(site, c);
    const links: [string, string][] = [[c.path, want], ...site.database.servers.map((s): [string, string] => [slotPath(site, s.name, c.slot), c.variant(s.name)])];
    for (const [link, target] of links) {
      const st = await lstatOrNull(link);
      if (st?.isSymbolicLink() && (await fs.readlink(link)) === target) continue;
      if (st?.isDirectory()) { done.push(`left ${link}: a directory, not a file or link (move it aside by hand)`); continue; }
      done.push(`link ${link} -> ${target}${st ? ` (was a ${st.isSymbolicLink() ? `link to ${await fs.readlink(link)}` : 'file'})` : ''}`);
      if (!dryRun && st?.isFile()) {
        // A file where the link belongs may hold what no copy has: kept beside the copies first.
        const aside = path.join(keptDir(site), `replaced-${Date.now()}-${path.basename(link)}`);
        await fs.copyFile(link, aside);
        await fs.chmod(aside, 0o600);
        done.push(`  (its content is kept in ${aside})`);
      }
      if (!dryRun) {
        await makeDirs(path.dirname(link), 0o755);
        await replace(link, (tmp) => fs.symlink(target, tmp));
      }
    }
  }
  return done;
}
