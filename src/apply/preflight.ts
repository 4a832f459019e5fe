/**
 * Before the first operation (and before the journal), check that this account may write every
 * directory the plan will create, rename or write into. A permission found missing halfway
 * would leave a journal to recover and a staging tree to sweep; found here it leaves nothing,
 * and one error names every path at once rather than one per attempt. access(2) with W_OK also
 * fails with EROFS on a read-only file system, for root as well.
 */
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { accountText, currentAccount, type Account } from '../core/errno.js';
import { dbEntry } from '../core/identity.js';
import { effectiveAllows, workingAs } from '../core/privilege.js';
import { isErrno, WebtreeError } from '../core/errors.js';
import { describeOp, type Plan } from '../plan/ops.js';
import type { Site } from '../site/types.js';

export interface AccessNeed {
  /** A directory the plan writes into. */
  dir: string;
  /** The operation that needs it, in the plan's words. */
  why: string;
  /**
   * 'into': entries are made in `dir` (missing, it is created: its nearest existing ancestor counts);
   * 'create': `dir` is made when missing (mkdir -p: nothing is needed when it exists);
   * 'empty': `dir` is a tree to be deleted, its entries removed (nothing is needed when it is gone).
   */
  how: 'into' | 'create' | 'empty';
  /** A swap-link that is a no-op when `link` already points at `target`: then nothing is needed. */
  unless?: { link: string; target: string };
}

/** Every directory the plan writes into, with the operation that needs it. Pure: paths only. */
export function accessNeeds(plan: Plan, stateDir: string): AccessNeed[] {
  const needs: AccessNeed[] = [{ dir: stateDir, why: "write webtree's journal and history", how: 'into' }];
  const into = (p: string, why: string) => needs.push({ dir: path.dirname(p), why, how: 'into' });
  for (const op of plan.ops) {
    const why = describeOp(op);
    switch (op.kind) {
      case 'make-dir':
        needs.push({ dir: op.path, why, how: 'create' });
        break;
      case 'extract':
        into(op.dest, why);
        break;
      case 'add-file':
      case 'write-file':
        into(op.path, why);
        break;
      case 'copy-file':
      case 'copy-exact':
        into(op.to, why);
        break;
      case 'write-manifest':
        into(op.to, why);
        break;
      case 'rename':
        into(op.from, why);
        if (path.dirname(op.to) !== path.dirname(op.from)) into(op.to, why);
        break;
      case 'swap-link':
        needs.push({ dir: path.dirname(op.path), why, how: 'into', unless: { link: op.path, target: op.target } });
        break;
      case 'link-over-file':
        into(op.path, why);
        if (path.dirname(op.keep) !== path.dirname(op.path)) into(op.keep, why);
        break;
      case 'remove':
        into(op.path, why);
        needs.push({ dir: op.path, why, how: 'empty' });
        break;
      case 'check-version':
      case 'record':
        break;
    }
  }
  return needs;
}

interface Refusal {
  dir: string;
  why: string[];
  readOnly: boolean;
  owner: string;
}

const nameOf = async (file: string, id: number): Promise<string> =>
  (await dbEntry(file, String(id), 2))?.[0] ?? String(id);

/** The existing directory that would be written for this need, or undefined when none would be. */
async function existingDir(need: AccessNeed): Promise<string | undefined> {
  if (need.unless && (await fs.readlink(need.unless.link).catch(() => null)) === need.unless.target) return undefined;
  let dir = need.dir;
  for (let first = true; ; first = false) {
    const st = await fs
      .stat(dir)
      .catch((err) => (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') ? null : ('unseen' as const)));
    // A directory this account cannot even look at (no search permission on the way): access() will say.
    if (st === 'unseen') return dir;
    if (st) return st.isDirectory() && !(first && need.how === 'create') ? dir : undefined;
    // Gone, a tree to delete needs nothing; anything else is created, in its parent.
    if (need.how === 'empty' || path.dirname(dir) === dir) return undefined;
    dir = path.dirname(dir);
  }
}

/** "owner root:root, mode 0755", for a message about a path someone may not write. */
export async function ownerText(p: string): Promise<string> {
  const st = await fs.stat(p).catch(() => undefined);
  if (!st) return 'cannot be looked at: a directory above it is closed to this account';
  return `owner ${await nameOf('/etc/passwd', st.uid)}:${await nameOf('/etc/group', st.gid)}, mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}`;
}

async function check(dir: string): Promise<Omit<Refusal, 'why'> | undefined> {
  // Working as the service account, access(2) would answer for root (the real uid).
  if (workingAs()) {
    const st = await fs.stat(dir).catch(() => undefined);
    if (st && !effectiveAllows(st, 3)) return { dir, readOnly: false, owner: await ownerText(dir) };
  }
  try {
    await fs.access(dir, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (err) {
    if (!isErrno(err, 'EACCES') && !isErrno(err, 'EPERM') && !isErrno(err, 'EROFS')) return undefined;
    return { dir, readOnly: isErrno(err, 'EROFS'), owner: await ownerText(dir) };
  }
}

/** The error for the directories this account cannot write: each named with what needs it. */
export function preflightError(plan: Plan, refusals: Refusal[], me: Account, site: Site): WebtreeError {
  const denied = refusals.filter((r) => !r.readOnly);
  const readOnly = refusals.filter((r) => r.readOnly);
  const n = refusals.length;
  const head = denied.length
    ? `permission denied: ${accountText(me)} may not write ${n === 1 ? 'a directory' : `${n} directories`} that \`${plan.command}\` needs; nothing was changed`
    : `${n === 1 ? 'a directory' : `${n} directories`} that \`${plan.command}\` needs ${n === 1 ? 'is' : 'are'} on a read-only file system; nothing was changed`;
  const details = refusals
    .map((r) => `  ${r.dir} (${r.readOnly ? 'read-only file system' : r.owner}): ${r.why.join('; ')}`)
    .join('\n');
  const hints: string[] = [];
  if (denied.length) {
    const dirs = denied.map((r) => r.dir).join(' ');
    const { user, group } = site.apache;
    hints.push(
      me.user === user
        ? `give ${n === 1 ? 'it' : 'them'} to ${user}: \`chown -R ${user}:${group} ${dirs}\`, or run webtree as root`
        : `run webtree as root or as ${user}, the service account the tree belongs to (\`chown -R ${user}:${group} ${dirs}\`)`,
    );
  }
  if (readOnly.length)
    hints.push(
      `remount read-write (\`mount -o remount,rw\` on the file system of ${readOnly.map((r) => r.dir).join(' ')})`,
    );
  return new WebtreeError(denied.length ? 'EACCES' : 'EROFS', head, { details, hint: hints.join('; ') });
}

/** Refuse the plan, before anything is written, when this account cannot write what it needs. */
export async function preflight(plan: Plan, site: Site): Promise<void> {
  if (plan.ops.length === 0) return;
  // Several needs can land on one existing directory: check it once, name every reason.
  // The look-ups are independent: made together, not one round trip of libuv's pool after another
  // (an install's plan has a dozen of them, before its unpack; docs/benchmarks.md, session 8).
  const needs = accessNeeds(plan, site.paths.state);
  const found = await Promise.all(needs.map(existingDir));
  const whys = new Map<string, string[]>();
  needs.forEach((need, i) => {
    const dir = found[i];
    if (dir === undefined) return;
    const w = whys.get(dir) ?? [];
    if (!w.includes(need.why)) w.push(need.why);
    whys.set(dir, w);
  });
  const checked = await Promise.all([...whys.keys()].map(check));
  const refusals: Refusal[] = [];
  [...whys.values()].forEach((why, i) => {
    const r = checked[i];
    if (r) refusals.push({ ...r, why });
  });
  if (refusals.length) throw preflightError(plan, refusals, await currentAccount(), site);
}
