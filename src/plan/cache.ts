/** prune --cache: the cached archives that no installed version needs. Pure. */
import path from 'node:path';
import type { TreeState } from './facts.js';
import { recordOp, type PlanContext } from './lifecycle.js';
import { emptyPlan, type Op, type Plan } from './ops.js';

/** A cached archive as the cache lists it. */
export interface CachedArchive {
  sha256: string;
  name: string;
  file: string;
  bytes: number;
}

export function planPruneCache(cached: CachedArchive[], tree: TreeState, ctx: PlanContext): Plan {
  const needed = new Set(Object.values(tree.products).flatMap((st) => st.versions.map((v) => st.sha256[v])));
  const doomed = cached.filter((c) => !needed.has(c.sha256));
  const command = 'prune --cache';
  if (doomed.length === 0)
    return emptyPlan(
      command,
      `no cached archive to remove (${cached.length} cached, each needed by an installed version)`,
    );
  // The whole <sha256>/ directory: the archive and any partial download beside it.
  const dirs = [...new Set(doomed.map((c) => path.dirname(c.file)))];
  const ops: Op[] = dirs.map((d) => ({ kind: 'remove', path: d }));
  const bytes = doomed.reduce((n, c) => n + c.bytes, 0);
  const message = `removed ${doomed.map((c) => c.name).join(', ')} (${bytes} bytes) from the cache`;
  ops.push(recordOp(ctx, { action: 'prune-cache', message, outcome: 'ok' }));
  return {
    command,
    summary: `remove ${doomed.length} cached archive(s) no installed version needs: ${doomed.map((c) => c.name).join(', ')}`,
    ops,
    commit: 0,
    temps: [],
    notes: [],
  };
}
