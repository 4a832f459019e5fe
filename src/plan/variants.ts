/**
 * The plans of `variants keep` and `variants restore` (src/failover/variant-keep.ts reads their
 * facts). Pure: the facts and the clock come in, a Plan and one line per thing done come out.
 * Both plans are `finish` plans: every operation (a whole-file copy, a link swap, a link over a
 * file) can run again, so an interrupted restore is completed by the next command, never undone
 * back to the hand-renamed state.
 */
import path from 'node:path';
import type { Op, Plan } from './ops.js';
import { recordOp, type PlanContext } from './lifecycle.js';

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

/** A variant as it is now. */
export interface VariantNow {
  path: string;
  server: string;
  slot: string;
  /** Present only for a regular file. */
  file?: { sha256: string; uid: number; gid: number; mode: number };
}

/** A consumer or slot link as it is now, and where it should point. */
export interface LinkNow {
  path: string;
  target: string;
  now: 'missing' | 'link' | 'file' | 'directory';
  nowTarget?: string;
  parentMissing: boolean;
}

export interface VariantFacts {
  keptDir: string;
  kept: KeptVariant[];
  variants: VariantNow[];
  /** The kept variants whose finding says they need restoring (by path). */
  damaged: string[];
  links: LinkNow[];
  /** Who this process writes as: an owner it cannot give stays its own (said in the lines). */
  euid: number;
}

export const keptIndex = (keptDir: string) => path.join(keptDir, 'index.json');
export const keptCopy = (keptDir: string, k: { server: string; slot: string }) => path.join(keptDir, k.server, k.slot);

const same = (k: KeptVariant | undefined, f: NonNullable<VariantNow['file']>) =>
  k !== undefined && k.sha256 === f.sha256 && k.uid === f.uid && k.gid === f.gid && k.mode === f.mode;

const finishPlan = (command: string, summary: string, ops: Op[]): Plan => ({
  command,
  summary,
  ops,
  commit: 0,
  temps: [],
  notes: [],
  finish: true,
});

/** Copy every variant that is a regular file and differs from its kept copy; refresh the index. */
export function planKeep(f: VariantFacts, now: string): { plan: Plan; changed: number } {
  const kept = new Map(f.kept.map((k) => [k.path, k]));
  const ops: Op[] = [{ kind: 'make-dir', path: f.keptDir, mode: 0o700 }];
  const dirs = new Set<string>();
  let changed = 0;
  for (const v of f.variants) {
    if (!v.file || same(kept.get(v.path), v.file)) continue;
    const k: KeptVariant = { path: v.path, server: v.server, slot: v.slot, ...v.file, keptAt: now };
    const to = keptCopy(f.keptDir, k);
    if (!dirs.has(path.dirname(to))) ops.push({ kind: 'make-dir', path: path.dirname(to), mode: 0o700 });
    dirs.add(path.dirname(to));
    // The copy is the account's, 0600: the password is in it.
    ops.push({ kind: 'copy-exact', from: v.path, to, mode: 0o600 });
    kept.set(v.path, k);
    changed++;
  }
  if (changed === 0)
    return { plan: finishPlan('variants keep', 'every kept variant is as it is on disk', []), changed };
  ops.push({
    kind: 'write-file',
    path: keptIndex(f.keptDir),
    content: JSON.stringify([...kept.values()], null, 1),
    mode: 0o600,
  });
  return { plan: finishPlan('variants keep', `keep ${changed} changed variant(s)`, ops), changed };
}

/**
 * Every damaged variant back byte for byte with its owner and mode, then (unless `links` is
 * false: repair makes the links in its own plan) every consumer and slot link through the
 * indirection. A plain file where a link belongs is kept (hard link) in the kept directory.
 */
export function planRestore(
  f: VariantFacts,
  pctx: PlanContext,
  opts: { links?: boolean } = {},
): { plan: Plan; lines: string[] } {
  const ops: Op[] = [];
  const lines: string[] = [];
  const damaged = new Set(f.damaged);
  for (const k of f.kept) {
    if (!damaged.has(k.path)) continue;
    lines.push(`restore ${k.path} from the copy kept at ${k.keptAt}`);
    if (f.euid !== 0 && f.euid !== k.uid)
      lines.push(`  (it stays ${f.euid}'s: it belonged to ${k.uid}:${k.gid}, which only root can give)`);
    ops.push({
      kind: 'copy-exact',
      from: keptCopy(f.keptDir, k),
      to: k.path,
      mode: k.mode,
      owner: { uid: k.uid, gid: k.gid },
    });
  }
  if (opts.links !== false) {
    const stamp = pctx.now.replace(/[^0-9]/g, '');
    for (const l of f.links) {
      if (l.now === 'link' && l.nowTarget === l.target) continue;
      if (l.now === 'directory') {
        lines.push(`left ${l.path}: a directory, not a file or link (move it aside by hand)`);
        continue;
      }
      lines.push(
        `link ${l.path} -> ${l.target}${l.now === 'missing' ? '' : ` (was a ${l.now === 'link' ? `link to ${l.nowTarget}` : 'file'})`}`,
      );
      if (l.now === 'file') {
        // What a file where the link belongs holds may be in no copy: kept (same inode) first.
        const keep = path.join(f.keptDir, `replaced-${stamp}-${path.basename(l.path)}`);
        lines.push(`  (its content is kept in ${keep})`);
        ops.push(
          { kind: 'make-dir', path: f.keptDir, mode: 0o700 },
          { kind: 'link-over-file', path: l.path, target: l.target, keep },
        );
        continue;
      }
      if (l.parentMissing) ops.push({ kind: 'make-dir', path: path.dirname(l.path) });
      ops.push({ kind: 'swap-link', path: l.path, target: l.target });
    }
  }
  if (ops.length === 0) return { plan: finishPlan('variants restore', 'nothing to restore', []), lines };
  const message = lines.filter((l) => !l.startsWith(' ')).join('; ');
  ops.push(recordOp(pctx, { action: 'variants-restore', outcome: 'ok', message }));
  return { plan: finishPlan('variants restore', 'restore the kept variants and the indirection', ops), lines };
}
