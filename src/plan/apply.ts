/**
 * The planner of `webtree apply`: the site as read against a release, as ONE plan. Pure.
 *
 * Every missing version is unpacked into its staging directory first (temporary paths only);
 * the commit is the first operation that makes anything live (the first version's rename, or
 * the first pointer swap when nothing is installed); every operation after it is safe to run
 * again. So a kill before the commit is undone by the next command (all products old) and a
 * kill after it is finished (all products new); never some of each.
 */
import type { ProductDescriptor } from '../catalog/types.js';
import { pointerPath, versionPath, webLinkPath } from '../catalog/paths.js';
import { WebtreeError } from '../core/errors.js';
import type { Site } from '../site/types.js';
import type { HistoryEntry, TreeState } from './facts.js';
import {
  activationOps,
  refuseBlockedLinks,
  refuseDamaged,
  stagedInstall,
  recordOp,
  type PlanContext,
} from './lifecycle.js';
import { emptyPlan, type Op, type Plan } from './ops.js';

/** What apply does to one product: the contract of `apply --json` (DESIGN.md, docs/json.md). */
export interface ProductAction {
  name: string;
  from: string | null;
  to: string;
  action: 'install' | 'activate' | 'none';
}

/** One product of the release, as the planner needs it (the release file's entry, read). */
export interface Wanted {
  product: string;
  version: string;
  sha256: string;
  license?: string;
  /** Where it came from, for the history and `webtree release` (a path, or a URL without its query). */
  source: string;
}

/** Manifests of versions adopted from a hand-made tree carry this instead of a sha256. */
export const ADOPTED = 'adopted';

/**
 * What the release asks of each product, from the tree alone (no archive needed): --check's
 * answer and the order of work. A version installed from another archive is refused: the same
 * name for other bytes is never switched to silently.
 */
export function releaseActions(
  site: Site,
  catalog: ProductDescriptor[],
  tree: TreeState,
  wanted: Wanted[],
): ProductAction[] {
  return wanted.map((w) => {
    const st = tree.products[w.product];
    const d = catalog.find((p) => p.name === w.product)!;
    const from = st?.current ?? null;
    if (st?.versions.includes(w.version)) {
      const have = st.sha256[w.version];
      if (have !== undefined && have !== ADOPTED && have !== w.sha256) {
        throw new WebtreeError(
          'EVERSIONCONFLICT',
          `${w.product} ${w.version} is installed from a different archive (sha256 ${have}) than the release pins (${w.sha256})`,
          {
            hint: `give the new build its own version in the release file, or correct its sha256; nothing was changed`,
          },
        );
      }
      return { name: w.product, from, to: w.version, action: from === w.version ? 'none' : 'activate' };
    }
    if (st?.unmanaged.includes(w.version)) {
      throw new WebtreeError(
        'EVERSIONCONFLICT',
        `${versionPath(site, d, w.version)} exists but webtree did not install it`,
        {
          hint: 'take the tree over with `webtree adopt`, or move that directory aside; nothing was changed',
        },
      );
    }
    return { name: w.product, from, to: w.version, action: 'install' };
  });
}

export interface ApplyPlan {
  plan: Plan;
  actions: ProductAction[];
}

const label = (a: ProductAction) =>
  `${a.name} ${a.from ?? '(none)'} -> ${a.to}${a.action === 'install' ? ' (install)' : ''}`;

/**
 * The one change: `archives` gives the local, verified file of every product to install
 * (fetched into the cache, or the release's own path).
 */
export function planApply(
  site: Site,
  catalog: ProductDescriptor[],
  tree: TreeState,
  wanted: Wanted[],
  archives: Record<string, string>,
  ctx: PlanContext,
  release: string,
): ApplyPlan {
  const actions = releaseActions(site, catalog, tree, wanted);
  const changing = actions.filter((a) => a.action !== 'none');
  const command = `apply ${release}`;
  if (changing.length === 0) return { actions, plan: emptyPlan(command, `the site matches ${release}; nothing to do`) };
  const pre: Op[] = [];
  const renames: Op[] = [];
  const live: Op[] = [];
  const records: Op[] = [];
  const temps: string[] = [];
  const notes: string[] = [];
  // One entry per product, each with its own id: the history is read per product (rollback, release).
  const entry = (a: ProductAction, e: Omit<HistoryEntry, 'id' | 'time' | 'user' | 'sudoUser' | 'outcome'>): Op =>
    recordOp(ctx, { ...e, outcome: 'ok' }, `${ctx.id}.${a.name}`);
  for (const a of changing) {
    const d = catalog.find((p) => p.name === a.name)!;
    const st = tree.products[a.name];
    const w = wanted.find((x) => x.product === a.name)!;
    refuseDamaged(st);
    refuseBlockedLinks(site, st);
    if (a.action === 'install') {
      const archive = archives[a.name];
      if (archive === undefined) {
        throw new WebtreeError(
          'EVERSIONCONFLICT',
          `${a.name} ${a.to} is no longer installed (the tree changed while the archives were fetched)`,
          {
            hint: 'run the apply again: it fetches what is missing now; nothing was changed',
          },
        );
      }
      const s = stagedInstall(
        site,
        d,
        st,
        { archive, version: a.to, sha256: w.sha256, activate: true, license: w.license },
        ctx.id,
      );
      pre.push(...s.ops);
      renames.push(s.rename);
      temps.push(...s.temps);
      notes.push(...s.notes);
      records.push(
        entry(a, {
          action: 'install',
          product: a.name,
          version: a.to,
          sha256: w.sha256,
          source: w.source,
          ...(w.license ? { license: w.license } : {}),
          ...(a.from ? { from: a.from } : {}),
          to: a.to,
        }),
      );
    } else {
      records.push(entry(a, { action: 'activate', product: a.name, ...(a.from ? { from: a.from } : {}), to: a.to }));
    }
    live.push(...activationOps(site, d, a.to));
  }
  const summary = `apply ${release}: ${changing.map(label).join(', ')}`;
  // The first record is the change as a whole: an undone or failed apply is recorded through it.
  const whole = recordOp(ctx, { action: 'apply', message: changing.map(label).join(', '), outcome: 'ok' });
  const ops = [...pre, ...renames, ...live, whole, ...records];
  return { actions, plan: { command, summary, ops, commit: pre.length, temps, notes } };
}

/** One product of a live change: what it was and what it became. */
export interface Change {
  product: string;
  from: string | null;
  to: string;
}

/**
 * Back to where every product of a change was, after its health check failed: each product
 * with an earlier version is pointed at it again; one that had none loses its pointer and web
 * links (as before the change; its new version stays installed). Finished, never undone, if
 * interrupted: undoing it would leave the failed release live.
 */
export function planApplyBack(
  site: Site,
  catalog: ProductDescriptor[],
  changes: Change[],
  ctx: PlanContext,
  why: string,
): Plan {
  const ops: Op[] = [];
  for (const c of changes) {
    const d = catalog.find((p) => p.name === c.product)!;
    if (c.from !== null) {
      ops.push(...activationOps(site, d, c.from));
    } else {
      for (const l of d.webLinks) ops.push({ kind: 'remove', path: webLinkPath(site, l) });
      ops.push({ kind: 'remove', path: pointerPath(site, d) });
    }
    ops.push(
      recordOp(
        ctx,
        {
          action: 'auto-rollback',
          product: c.product,
          from: c.to,
          ...(c.from !== null ? { to: c.from, undo: true } : {}),
          outcome: 'rolled-back',
          message: `${why}; went back to ${c.from ?? 'no version'} with the rest of the release`,
        },
        `${ctx.id}.${c.product}`,
      ),
    );
  }
  const summary = `go back: ${changes.map((c) => `${c.product} ${c.to} -> ${c.from ?? '(none)'}`).join(', ')}`;
  return { command: 'apply (going back)', summary, ops, commit: 0, temps: [], notes: [], finish: true };
}
