import type { ProductDescriptor } from '../catalog/types.js';
import { previousVersion } from '../plan/previous.js';
import type { HistoryEntry } from './history.js';
import type { TreeState } from './tree.js';

/** One product as list and status show it (the shape of `status --json`'s products). */
export interface ProductRow {
  name: string;
  current: string | null;
  previous: string | null;
  versions: string[];
}

export function productRows(catalog: ProductDescriptor[], tree: TreeState): ProductRow[] {
  // Each product's own entries, in order: previousVersion reads only those, and walking the whole
  // history once per product cost status at 8 x 200 versions more than reading it.
  const own = new Map<string | undefined, HistoryEntry[]>();
  for (const e of tree.history) {
    const list = own.get(e.product);
    if (list) list.push(e);
    else own.set(e.product, [e]);
  }
  return catalog
    .filter((d) => d.installable)
    .map((d) => {
      const st = tree.products[d.name];
      return {
        name: d.name,
        current: st.current ?? null,
        previous: previousVersion(own.get(d.name) ?? [], d.name, st.current, st.versions) ?? null,
        versions: st.versions,
      };
    });
}
