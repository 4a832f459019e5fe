/**
 * Planners for the life of a version. Pure: they take the site, the product's state as read,
 * the request and the clock, and return a Plan; they never touch the disk.
 */
import path from 'node:path';
import {
  manifestPath,
  moveAsideCommand,
  pointerPath,
  pointerTarget,
  productDir,
  stagingPath,
  versionPath,
  webLinkPath,
  webLinkTarget,
} from '../catalog/paths.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { compareVersions } from '../catalog/version.js';
import type { ExpectTop } from '../catalog/top-dir.js';
import { WebtreeError } from '../core/errors.js';
import type { Site } from '../site/types.js';
import type { HistoryEntry, ProductState } from './facts.js';
import { lastReplaced, previousVersion } from './previous.js';
import { emptyPlan, type Op, type Plan } from './ops.js';

export interface PlanContext {
  /** Apply id: names temporary paths and ties the history entry to the journal. */
  id: string;
  now: string;
  who: { user: string; sudoUser?: string };
  history: HistoryEntry[];
}

/**
 * A history entry stamped with the change's id (or one derived from it), time and user: every
 * planner's record is made here, the entry's own fields after the stamp in the order given.
 */
export const historyEntry = (
  ctx: Pick<PlanContext, 'id' | 'now' | 'who'>,
  e: Omit<HistoryEntry, 'id' | 'time' | 'user' | 'sudoUser'>,
  id: string = ctx.id,
): HistoryEntry => ({ id, time: ctx.now, ...ctx.who, ...e });

/** The op that records `historyEntry(ctx, e, id)` in the history. */
export const recordOp = (
  ctx: Pick<PlanContext, 'id' | 'now' | 'who'>,
  e: Omit<HistoryEntry, 'id' | 'time' | 'user' | 'sudoUser'>,
  id?: string,
): Op => ({ kind: 'record', entry: historyEntry(ctx, e, id) });

const entry = (ctx: PlanContext, e: Omit<HistoryEntry, 'id' | 'time' | 'user' | 'sudoUser' | 'outcome'>) =>
  historyEntry(ctx, { ...e, outcome: 'ok' });

const notInstalled = (d: ProductDescriptor, v: string, st: ProductState) =>
  new WebtreeError('ENOTINSTALLED', `${d.name} ${v} is not installed`, {
    hint: st.versions.length ? `installed: ${st.versions.join(', ')}` : `install it first: webtree install ARCHIVE`,
  });

/**
 * A real file or directory where webtree keeps a link (a web link, or the pointer itself, as the
 * guide's webpylib/ChartDirector) is refused before anything changes. adopt leaves such paths
 * alone (no rename swaps a directory for a link without a gap), so the hint does not send there.
 */
export function refuseBlockedLinks(site: Site, st: ProductState): void {
  if (st.blockedLinks.length === 0) return;
  const p = st.blockedLinks[0];
  throw new WebtreeError(
    'ELINKISDIR',
    `${p} is a real ${st.blockedLinks.length > 1 ? 'file or directory (and more)' : 'file or directory'} where webtree keeps a link; nothing was changed`,
    {
      hint: `in a quiet moment, move it aside, out of the served tree (${moveAsideCommand(site, p)}) and run the command again at once: it makes the link (the apps read it only when they start)`,
    },
  );
}

/** Point current at v, then make the web links (only now: before, they would not resolve). */
export function activationOps(site: Site, d: ProductDescriptor, v: string): Op[] {
  const ops: Op[] = [{ kind: 'swap-link', path: pointerPath(site, d), target: pointerTarget(d, v) }];
  for (const l of d.webLinks) {
    const link = webLinkPath(site, l);
    if (path.dirname(link) !== site.paths.html) ops.push({ kind: 'make-dir', path: path.dirname(link) });
    ops.push({ kind: 'swap-link', path: link, target: webLinkTarget(site, d, l) });
  }
  return ops;
}

export interface InstallRequest {
  archive: string;
  version: string;
  /**
   * The archive's sha256, taken beforehand only when the version looked installed (to tell the
   * same archive from another). Otherwise the unpacking hashes what it reads, and the executor
   * puts that into the manifest and the history.
   */
  sha256?: string;
  activate: boolean;
  license?: string;
  /** What the archive's top directory must not contradict (absent: not checked, install --force). */
  expectTop?: ExpectTop;
  /** Where the archive came from (a path or URL without its query), for the history and `webtree release`. */
  source?: string;
}

/**
 * The part of an install that only writes temporary paths: unpack into staging, add the
 * product's files and licence, check, write the manifest. `rename` then makes it live.
 * install and apply (several products in one change) share it.
 */
export function stagedInstall(
  site: Site,
  d: ProductDescriptor,
  st: ProductState,
  req: InstallRequest,
  id: string,
): { ops: Op[]; rename: Op; temps: string[]; notes: string[] } {
  const v = req.version;
  const staging = stagingPath(site, d, v, id);
  const manifest = manifestPath(site, d, v);
  const ops: Op[] = [
    { kind: 'make-dir', path: productDir(site, d) },
    { kind: 'make-dir', path: path.dirname(manifest) },
    {
      kind: 'extract',
      archive: req.archive,
      dest: staging,
      layout: d.layout,
      content: d.content,
      sha256: req.sha256,
      ...(req.expectTop ? { expectTop: req.expectTop } : {}),
    },
  ];
  for (const [name, content] of Object.entries(d.addFiles))
    ops.push({ kind: 'add-file', path: path.join(staging, name), content });
  const notes: string[] = [];
  if (d.license) {
    const from =
      req.license ??
      (st.current && st.licensed ? path.join(versionPath(site, d, st.current), d.license.file) : undefined);
    if (from) ops.push({ kind: 'copy-file', from, to: path.join(staging, d.license.file) });
    else
      notes.push(
        `warning: ${d.name} has no licence file (${d.license.file}); it runs watermarked. Give one: install --license FILE`,
      );
  }
  ops.push({ kind: 'check-version', dir: staging, product: d.name, requires: d.requires });
  ops.push({
    kind: 'write-manifest',
    dir: staging,
    to: manifest,
    archiveSha256: req.sha256,
    product: d.name,
    version: v,
  });
  return {
    ops,
    rename: { kind: 'rename', from: staging, to: versionPath(site, d, v) },
    temps: [staging, manifest],
    notes,
  };
}

/**
 * A product whose manifest is damaged is not planned for: which versions it has, and which one
 * rollback or prune may touch, is not known for sure. The refusal names the file and the fix.
 */
export function refuseDamaged(st: ProductState): void {
  const d = st.damaged?.[0];
  if (d) throw new WebtreeError('EDAMAGED', d.message, { hint: d.hint });
}

export function planInstall(
  site: Site,
  d: ProductDescriptor,
  st: ProductState,
  req: InstallRequest,
  ctx: PlanContext,
): Plan {
  refuseDamaged(st);
  const v = req.version;
  const command = `install ${d.name} ${v}`;
  if (st.versions.includes(v)) {
    if (req.sha256 === undefined) {
      throw new WebtreeError(
        'EVERSIONCONFLICT',
        `${d.name} ${v} was installed by another command while this one waited for the lock`,
        {
          hint: `run the install again: it compares the archive with the installed ${d.name} ${v}`,
        },
      );
    }
    if (st.sha256[v] === req.sha256) {
      return emptyPlan(
        command,
        `${d.name} ${v} is already installed from the same archive; nothing to do`,
        st.current === v ? [] : [`${d.name} ${v} is installed but not active: webtree activate ${d.name} ${v}`],
      );
    }
    throw new WebtreeError(
      'EVERSIONCONFLICT',
      `${d.name} ${v} is already installed from a different archive (sha256 ${st.sha256[v].slice(0, 12)}…, this one ${req.sha256.slice(0, 12)}…)`,
      {
        hint: 'give the new build its own version (--version), or prune the old one first if it is not current',
      },
    );
  }
  if (st.unmanaged.includes(v)) {
    throw new WebtreeError('EVERSIONCONFLICT', `${versionPath(site, d, v)} exists but webtree did not install it`, {
      hint: 'take the tree over with `webtree adopt`, or move that directory aside',
    });
  }
  if (req.activate) refuseBlockedLinks(site, st);
  const staged = stagedInstall(site, d, st, req, ctx.id);
  const { ops, notes } = staged;
  const commit = ops.length;
  ops.push(staged.rename);
  const activate = req.activate && st.current !== v;
  if (activate) ops.push(...activationOps(site, d, v));
  ops.push({
    kind: 'record',
    entry: entry(ctx, {
      action: 'install',
      product: d.name,
      version: v,
      sha256: req.sha256,
      ...(req.source ? { source: req.source } : {}),
      ...(req.license ? { license: req.license } : {}),
      ...(activate ? { from: st.current, to: v } : {}),
    }),
  });
  const summary = activate
    ? `install ${d.name} ${v} and activate it${st.current ? ` (was ${st.current})` : ''}`
    : `install ${d.name} ${v} without activating it`;
  return { command, summary, ops, commit, temps: staged.temps, notes };
}

export function planActivate(
  site: Site,
  d: ProductDescriptor,
  st: ProductState,
  v: string,
  ctx: PlanContext,
  action = 'activate',
  undo = false,
): Plan {
  refuseDamaged(st);
  const command = `${action} ${d.name} ${v}`;
  if (!st.versions.includes(v)) throw notInstalled(d, v, st);
  refuseBlockedLinks(site, st);
  if (st.current === v) return planRepair(site, d, st, v, ctx, command);
  const ops = [
    ...activationOps(site, d, v),
    {
      kind: 'record',
      entry: entry(ctx, { action, product: d.name, from: st.current, to: v, ...(undo ? { undo } : {}) }),
    } as Op,
  ];
  return {
    command,
    summary: `point ${d.name} at ${v}${st.current ? ` (was ${st.current})` : ''}`,
    ops,
    commit: 0,
    temps: [],
    notes: [],
  };
}

/**
 * Back to `v` after `why` (the health check after an activation failed): the same activation,
 * recorded as 'rolled-back' with the reason, and finished, never undone, if it is interrupted.
 * A rollback that popped the stack is undone by pushing, and vice versa (`undo`).
 */
export function planGoBack(
  site: Site,
  d: ProductDescriptor,
  st: ProductState,
  v: string,
  ctx: PlanContext,
  undo: boolean,
  why: string,
): Plan {
  const p = planActivate(site, d, st, v, ctx, 'auto-rollback', undo);
  const ops = p.ops.map((o) =>
    o.kind === 'record'
      ? { ...o, entry: { ...o.entry, outcome: 'rolled-back' as const, message: `${why}; went back to ${v}` } }
      : o,
  );
  return { ...p, ops, finish: true };
}

/**
 * Activating the version already current re-makes what is missing or wrong: a web link removed
 * or pointing elsewhere. The pointer is swapped again too (a no-op on disk, the plan's commit,
 * as in every activation); nothing to repair is a no-op.
 */
function planRepair(
  site: Site,
  d: ProductDescriptor,
  st: ProductState,
  v: string,
  ctx: PlanContext,
  command: string,
): Plan {
  const bad = d.webLinks.filter(
    (l) => st.webLinkTargets !== undefined && st.webLinkTargets[webLinkPath(site, l)] !== webLinkTarget(site, d, l),
  );
  // current is read from the pointer, so the pointer is right; only the web links can be wrong.
  if (bad.length === 0)
    return emptyPlan(command, `${d.name} ${v} is already active and its links are right; nothing to do`);
  const wrong = bad.map((l) => {
    const was = st.webLinkTargets![webLinkPath(site, l)];
    return was === null ? `${webLinkPath(site, l)} was missing` : `${webLinkPath(site, l)} pointed at ${was}`;
  });
  const ops: Op[] = [{ kind: 'swap-link', path: pointerPath(site, d), target: pointerTarget(d, v) }];
  for (const l of bad) {
    const link = webLinkPath(site, l);
    if (path.dirname(link) !== site.paths.html) ops.push({ kind: 'make-dir', path: path.dirname(link) });
    ops.push({ kind: 'swap-link', path: link, target: webLinkTarget(site, d, l) });
  }
  ops.push({
    kind: 'record',
    entry: entry(ctx, { action: 'repair', product: d.name, version: v, message: wrong.join('; ') }),
  });
  return {
    command,
    summary: `repair the links of ${d.name} ${v} (${wrong.join('; ')})`,
    ops,
    commit: 0,
    temps: [],
    notes: [],
  };
}

export function planRollback(
  site: Site,
  d: ProductDescriptor,
  st: ProductState,
  to: string | undefined,
  ctx: PlanContext,
): Plan {
  refuseDamaged(st);
  if (to !== undefined) return planActivate(site, d, st, to, ctx, 'rollback');
  const prev = previousVersion(ctx.history, d.name, st.current, st.versions);
  if (prev === undefined) {
    throw new WebtreeError(
      'ENOPREVIOUS',
      `the history (${path.join(site.paths.state, 'history.jsonl')}) records no earlier active version of ${d.name} that is still installed`,
      {
        hint:
          st.versions.length > 1
            ? `name one: webtree rollback ${d.name} --to V (installed: ${st.versions.join(', ')})`
            : 'nothing to roll back to',
      },
    );
  }
  return planActivate(site, d, st, prev, ctx, 'rollback', true);
}

/** Versions prune keeps: the newest `keep`, and always the current and the previous one. */
export function keptVersions(
  d: ProductDescriptor,
  st: ProductState,
  keep: number,
  history: HistoryEntry[],
): Set<string> {
  const kept = new Set([...st.versions].sort(compareVersions).reverse().slice(0, keep));
  if (st.current) kept.add(st.current);
  const prev = previousVersion(history, d.name, st.current, st.versions);
  if (prev) kept.add(prev);
  const replaced = lastReplaced(history, d.name);
  if (replaced) kept.add(replaced);
  return kept;
}

export function planPrune(site: Site, d: ProductDescriptor, st: ProductState, keep: number, ctx: PlanContext): Plan {
  refuseDamaged(st);
  if (!Number.isInteger(keep) || keep < 0)
    throw new WebtreeError('EUSAGE', `--keep must be a whole number, got ${keep}`);
  const kept = keptVersions(d, st, keep, ctx.history);
  const doomed = st.versions.filter((v) => !kept.has(v));
  const command = `prune ${d.name} --keep ${keep}`;
  const keeping = kept.size ? `keeping ${[...kept].join(', ')}` : 'keeping none';
  if (doomed.length === 0) return emptyPlan(command, `nothing to prune for ${d.name} (${keeping})`);
  const ops: Op[] = [];
  for (const v of doomed) {
    // The manifest goes first: from that instant the version is no longer listed as installed.
    ops.push({ kind: 'remove', path: manifestPath(site, d, v) });
    ops.push({ kind: 'remove', path: versionPath(site, d, v) });
  }
  ops.push({
    kind: 'record',
    entry: entry(ctx, {
      action: 'prune',
      product: d.name,
      message: `removed ${doomed.join(', ')}; kept ${[...kept].join(', ') || 'none'}`,
    }),
  });
  return {
    command,
    summary: `remove ${d.name} ${doomed.join(', ')} (${keeping})`,
    ops,
    commit: 0,
    temps: [],
    notes: [],
  };
}
