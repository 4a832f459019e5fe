import path from 'node:path';
import { readSite } from '../../src/site/load.js';
import type { Site } from '../../src/site/types.js';
import type { ProductState } from '../../src/state/tree.js';
import { siteYaml, type SiteValues } from '../../src/site/write.js';
import { DEFAULT_SERVERS } from '../../src/site/schema.js';

/** A Site laid out under prefix as `init --prefix` does, without touching the disk. */
export function sandboxSite(prefix: string, extra: SiteValues = {}): Site {
  const values: SiteValues = {
    'paths.www': path.join(prefix, 'www'),
    'paths.products': path.join(prefix, 'dbwebtools'),
    'paths.runtime': path.join(prefix, 'local', 'web_logs'),
    'apache.listen': '127.0.0.1:8080',
    ...extra,
  };
  const { site, problems } = readSite(siteYaml(values, DEFAULT_SERVERS, 'test'), path.join(prefix, 'webtree.yaml'));
  if (!site) throw new Error(JSON.stringify(problems));
  return site;
}

/** A product's state as readProductState gives it: nothing installed, unless `over` says otherwise. */
export function productState(name: string, over: Partial<ProductState> = {}): ProductState {
  return { name, versions: [], sha256: {}, unmanaged: [], leftovers: [], blockedLinks: [], ...over };
}
