import type { ProductDescriptor } from '../catalog/types.js';
import { previousVersion } from '../plan/previous.js';
import type { TreeState } from './tree.js';

/** One product as list and status show it (the shape of `status --json`'s products). */
export interface ProductRow {
  name: string;
  current: string | null;
  previous: string | null;
  versions: string[];
}

export function productRows(catalog: ProductDescriptor[], tree: TreeState): ProductRow[] {
  return catalog
    .filter((d) => d.installable)
    .map((d) => {
      const st = tree.products[d.name];
      return {
        name: d.name,
        current: st.current ?? null,
        previous: previousVersion(tree.history, d.name, st.current, st.versions) ?? null,
        versions: st.versions,
      };
    });
}
