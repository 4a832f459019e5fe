/**
 * What an archive's own top-level directory says it is. `cp tv-3.4.tar.gz tv-3.9.tar.gz` makes a
 * file whose name says 3.9 and whose top directory says tv-3.4; a TV archive given `--product AV`
 * has a top directory that names TV. Its name is what install goes by, so a top directory that
 * names another product or version is refused (unless --force). Pure: patterns in, a sentence out.
 */
import { escapeRe } from '../core/regex.js';
import type { ProductDescriptor } from './types.js';
import { compareVersions } from './version.js';

/** What the extract checks the stripped top directory against (it travels in the plan's operation). */
export interface ExpectTop {
  product: string;
  version: string;
  /** Every product's archive patterns without their extension ("tv-{v}"). */
  names: { product: string; pattern: string }[];
}

const EXTENSION = /\.(tar\.gz|tgz|tar|tar\.bz2|tbz2|tar\.xz|txz)$/;

export function topDirNames(catalog: ProductDescriptor[]): ExpectTop['names'] {
  const out: ExpectTop['names'] = [];
  for (const d of catalog.filter((p) => p.installable)) {
    for (const a of d.archives) {
      const pattern = a.replace(EXTENSION, '');
      if (pattern.includes('{v}') && !out.some((o) => o.product === d.name && o.pattern === pattern))
        out.push({ product: d.name, pattern });
    }
  }
  return out;
}

function matchTop(pattern: string, top: string): string | undefined {
  const [before, after] = pattern.split('{v}');
  return new RegExp(`^${escapeRe(before)}([A-Za-z0-9][A-Za-z0-9._+-]*?)${escapeRe(after ?? '')}$`).exec(top)?.[1];
}

/**
 * Why the top directory contradicts what is being installed ("names TV 3.4"), or undefined when
 * it agrees or names nothing webtree knows (a top directory "product/" or "ChartDirector/").
 */
export function topDirMismatch(top: string, expect: ExpectTop): string | undefined {
  const said = expect.names.flatMap((n) => {
    const v = matchTop(n.pattern, top);
    return v === undefined ? [] : [{ product: n.product, version: v }];
  });
  if (said.length === 0) return undefined;
  if (said.some((s) => s.product === expect.product && compareVersions(s.version, expect.version) === 0))
    return undefined;
  const own = said.find((s) => s.product === expect.product);
  const first = own ?? said[0];
  return `${first.product} ${first.version}`;
}
