/**
 * adopt, the products' part (pure): version directories laid out by hand get a manifest of
 * their files as found (archive unknown: sha256 "adopted"), so that they count as installed and
 * can be activated, rolled back and pruned; pointers and web links that lead to the right place
 * in another spelling (absolute, through another path) are re-pointed in webtree's spelling,
 * which readers cannot tell apart. Anything that leads elsewhere is a disagreement.
 */
import path from 'node:path';
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
import { sortVersions } from '../catalog/version.js';
import type { Op } from './ops.js';
import type { Site } from '../site/types.js';
import type { AdoptFacts, HistoryEntry, TreeState } from './facts.js';

export const ADOPTED_SHA256 = 'adopted';

export interface ProductAdoption {
  /** Pre-commit: manifests (only webtree reads them). */
  prepare: Op[];
  /** Live: link re-spellings that lead where they led. */
  live: Op[];
  temps: string[];
  entries: Omit<HistoryEntry, 'id' | 'time' | 'user' | 'sudoUser' | 'outcome'>[];
  notes: string[];
  /** Disagreements: adopt refuses when there is any. */
  problems: string[];
}

export function adoptProducts(
  site: Site,
  catalog: ProductDescriptor[],
  tree: TreeState,
  facts: AdoptFacts,
): ProductAdoption {
  const out: ProductAdoption = { prepare: [], live: [], temps: [], entries: [], notes: [], problems: [] };
  for (const d of catalog.filter((p) => p.installable)) {
    const st = tree.products[d.name];
    const pf = facts.products[d.name];
    const all = sortVersions([...st.versions, ...st.unmanaged]);
    const pointer = pointerPath(site, d);
    if (pf.pointer.kind === 'directory' || pf.pointer.kind === 'file' || pf.pointer.kind === 'other') {
      // A real directory cannot become a link without a moment where it is missing: leave it.
      out.notes.push(
        `${d.name}: ${pointer} is a real ${pf.pointer.kind}, not a version link; left as it is (to version it, move it aside, out of the served tree (${moveAsideCommand(site, pointer)}) and install ${d.name} with webtree at once: apps read it only when they start)`,
      );
      continue;
    }
    let current: string | undefined;
    if (pf.pointer.kind === 'link') {
      current = all.find((v) => pf.pointerReal[v] !== null && pf.pointerReal[v] === pf.pointer.real);
      if (current === undefined) {
        out.problems.push(
          `${d.name}: ${pointer} -> ${pf.pointer.link} leads to ${pf.pointer.real ?? 'nothing'}, which is none of its versions (${all.join(', ') || 'none found'})`,
        );
        continue;
      }
      if (pf.pointer.link !== pointerTarget(d, current))
        out.live.push({ kind: 'swap-link', path: pointer, target: pointerTarget(d, current) });
    } else if (all.length)
      out.notes.push(`${d.name}: no ${d.pointer.name} link, so none of ${all.join(', ')} is active`);

    if (current !== undefined) {
      for (const l of d.webLinks) {
        const wf = pf.webLinks[l.path];
        const link = webLinkPath(site, l);
        const want = webLinkTarget(site, d, l);
        if (wf.kind === 'missing')
          out.notes.push(
            `${d.name}: ${link} is missing, so the site does not serve it; \`webtree activate ${d.name} ${current}\` makes it`,
          );
        else if (wf.kind !== 'link')
          out.notes.push(
            `${d.name}: ${link} is a real ${wf.kind}, not a link; left as it is (in a quiet moment move it aside, out of the served tree (${moveAsideCommand(site, link)}), then \`webtree activate ${d.name} ${current}\` makes the link)`,
          );
        else if (wf.link === want) continue;
        else if (wf.real !== null && wf.real === wf.expectedReal)
          out.live.push({ kind: 'swap-link', path: link, target: want });
        else
          out.problems.push(
            `${d.name}: ${link} -> ${wf.link} leads to ${wf.real ?? 'nothing'}, but ${d.name}'s current (${current}) is ${wf.expectedReal ?? want}`,
          );
      }
    }

    if (st.unmanaged.length === 0) continue;
    // What adopt's manifest would refuse, refused at planning: --dry-run says it too.
    for (const [v, why] of Object.entries(pf.unrecordable ?? {}))
      out.problems.push(
        `${d.name} ${v}: ${why} (an installed version holds only files and directories: move it out of ${versionPath(site, d, v)})`,
      );
    const dir = path.dirname(manifestPath(site, d, st.unmanaged[0]));
    if (!pf.manifestsDir) out.prepare.push({ kind: 'make-dir', path: dir });
    for (const v of st.unmanaged) {
      const to = manifestPath(site, d, v);
      out.prepare.push({
        kind: 'write-manifest',
        dir: versionPath(site, d, v),
        to,
        archiveSha256: ADOPTED_SHA256,
        product: d.name,
        version: v,
      });
      out.temps.push(to);
    }
    out.entries.push({
      action: 'adopt',
      product: d.name,
      ...(current !== undefined ? { to: current } : {}),
      message: `adopted ${st.unmanaged.join(', ')} as installed (laid out by hand: manifest of the files as found)${current !== undefined ? `; current ${current}` : ''}`,
    });
  }
  return out;
}
