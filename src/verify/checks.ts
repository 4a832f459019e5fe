/**
 * verify: every link resolves and points where webtree put it, every installed version matches
 * its manifest, one database server everywhere, the licence is there. Reads only.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { verifyTable, type ManifestTable } from '../archive/verify-files.js';
import {
  manifestPath,
  moveAsideCommand,
  pointerPath,
  pointerTarget,
  versionPath,
  webLinkPath,
  webLinkTarget,
} from '../catalog/paths.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { lstatOrNull } from '../state/fs-read.js';
import { manifestSpec } from '../state/manifest-file.js';
import { readManifestTable } from '../state/manifest-table.js';
import { isDamaged } from '../core/state-file.js';
import { verifyState } from './state-checks.js';
import type { Finding } from './finding.js';
import { checkFailover } from './server-mismatch.js';
import { variantFindings } from '../failover/variant-keep.js';
import type { Site } from '../site/types.js';
import type { TreeState } from '../state/tree.js';

export type { Finding };

async function resolves(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

/** fix: what makes the link again, said after a missing or real-directory finding. */
async function checkLink(out: Finding[], link: string, expected: string, what: string, fix?: string): Promise<void> {
  const st = await lstatOrNull(link);
  if (!st) return void out.push({ what, problem: `${link} is missing${fix ? ` (${fix} makes it)` : ''}` });
  if (!st.isSymbolicLink())
    return void out.push({
      what,
      problem: `${link} is a real ${st.isDirectory() ? 'directory' : 'file'}, not a link${fix ? ` (move it aside, then ${fix} makes the link)` : ''}`,
    });
  const target = await fs.readlink(link);
  if (target !== expected)
    out.push({ what, problem: `${link} -> ${target}, expected -> ${expected}${fix ? ` (${fix} re-points it)` : ''}` });
  else if (!(await resolves(link))) out.push({ what, problem: `${link} -> ${target} does not resolve` });
}

async function checkProduct(out: Finding[], site: Site, d: ProductDescriptor, tree: TreeState): Promise<void> {
  const st = tree.products[d.name];
  const what = d.name;
  if (st.pointer !== undefined && st.current === undefined)
    out.push({ what, problem: `${pointerPath(site, d)} -> ${st.pointer} names no version` });
  const pointer = pointerPath(site, d);
  const held = st.blockedLinks.includes(pointer) ? await lstatOrNull(pointer) : null;
  if (held) {
    // The guide's webpylib/ChartDirector: a real directory, which adopt leaves alone.
    out.push({
      what,
      problem: `${pointer} is a real ${held.isDirectory() ? 'directory' : 'file'} where webtree keeps ${d.name}'s version link, so webtree can neither check nor roll it back: in a quiet moment, move it aside, out of the served tree (${moveAsideCommand(site, pointer)}) and install ${d.name} with webtree at once (webtree install ARCHIVE${d.license ? ' --license FILE' : ''})`,
    });
    if (d.license && held.isDirectory() && !(await lstatOrNull(path.join(pointer, d.license.file)))) {
      out.push({ what, problem: `no licence file ${d.license.file} in ${pointer}: ${d.name} runs watermarked` });
    }
  }
  if (st.current !== undefined) {
    if (!st.versions.includes(st.current))
      out.push({ what, problem: `current names ${st.current}, which is not installed` });
    await checkLink(out, pointerPath(site, d), pointerTarget(d, st.current), what);
    for (const l of d.webLinks)
      await checkLink(
        out,
        webLinkPath(site, l),
        webLinkTarget(site, d, l),
        what,
        `\`webtree activate ${d.name} ${st.current}\``,
      );
    if (d.license && !(await lstatOrNull(path.join(versionPath(site, d, st.current), d.license.file)))) {
      out.push({
        what,
        problem: `no licence file ${d.license.file} in ${st.current}: ChartDirector runs watermarked (install --license FILE)`,
      });
    }
  } else if (st.versions.length)
    out.push({ what, problem: `${st.versions.length} version(s) installed but none is active` });
  for (const v of st.versions) {
    const file = manifestPath(site, d, v);
    let m: ManifestTable | undefined;
    try {
      m = await readManifestTable(file, manifestSpec(file, site.paths.state, `${d.name} ${v}`));
    } catch (err) {
      if (!isDamaged(err)) throw err;
      out.push({ what: `${d.name} ${v}`, problem: `${err.message} (${err.hint})` });
      continue;
    }
    if (m)
      for (const p of await verifyTable(versionPath(site, d, v), m)) out.push({ what: `${d.name} ${v}`, problem: p });
  }
  for (const v of st.unmanaged)
    out.push({
      what,
      problem: `${versionPath(site, d, v)} has no manifest: not installed by webtree (adopt it, or move it aside)`,
    });
  for (const l of st.leftovers)
    out.push({ what, problem: `leftover of an interrupted apply: ${l} (any changing command removes it)` });
}

async function checkServers(out: Finding[], site: Site, catalog: ProductDescriptor[]): Promise<void> {
  out.push(...(await checkFailover(site, catalog)));
  out.push(...(await variantFindings(site)).map(({ what, problem }) => ({ what, problem })));
}

export async function verifyTree(site: Site, catalog: ProductDescriptor[], tree: TreeState): Promise<Finding[]> {
  const out: Finding[] = [];
  out.push(...(await verifyState(site, catalog, tree)));
  for (const d of catalog.filter((p) => p.installable)) await checkProduct(out, site, d, tree);
  await checkServers(out, site, catalog);
  return out;
}
