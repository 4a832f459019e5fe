/**
 * verify's findings about webtree's own state and what lies beside the versions: a pending or
 * damaged journal, a damaged lock, a missing or damaged history, damaged manifests and render's
 * record, a manifest whose version directory is gone, a directory in a product's place that is no
 * version, a service account that does not exist. Each damaged file is one finding that names
 * the file, what is wrong and the fix. Reads only.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { readLockFile, lockFile } from '../apply/lock.js';
import { readRenderedRecord } from '../apache/render-io.js';
import {
  manifestDir,
  moveAsideCommand,
  pointerPath,
  productDir,
  STAGING_PREFIX,
  TRASH_PREFIX,
  versionFromDirName,
  versionPath,
} from '../catalog/paths.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { dbEntry } from '../core/identity.js';
import { pendingChange } from '../apply/pending.js';
import type { Site } from '../site/types.js';
import { atticDir } from '../core/attic.js';
import { historyLineError, readHistoryLines } from '../state/history.js';
import { isDamaged } from '../core/state-file.js';
import { historyFile, type TreeState } from '../state/tree.js';
import type { Finding } from './finding.js';

const damagedFinding = (err: { message: string; hint?: string }): Finding => ({
  what: 'state',
  problem: `${err.message} (${err.hint})`,
});

async function checkJournalAndLock(out: Finding[], site: Site): Promise<void> {
  const p = await pendingChange(site);
  if (p?.state === 'interrupted') out.push({ what: 'journal', problem: p.message });
  else if (p?.state === 'damaged') out.push({ what: 'journal', problem: `${p.message} (${p.hint})` });
  const lock = await readLockFile(lockFile(site.paths.state));
  if (lock.kind === 'damaged') out.push({ what: 'lock', problem: `${lock.error.message} (${lock.error.hint})` });
}

async function checkHistory(out: Finding[], site: Site, tree: TreeState, catalog: ProductDescriptor[]): Promise<void> {
  const file = historyFile(site);
  try {
    const r = await readHistoryLines(file);
    if (r.problems.length) {
      const e = historyLineError(file, r.problems);
      out.push({ what: 'history', problem: `${e.message} (${e.hint})` });
    }
    const installed = catalog.filter((d) => d.installable && tree.products[d.name]?.versions.length);
    if (r.entries.length === 0 && r.problems.length === 0 && installed.length) {
      const missing = (await fs.lstat(file).catch(() => null)) === null;
      out.push({
        what: 'history',
        problem: `${file} ${missing ? 'is missing' : 'is empty'} though ${installed.map((d) => d.name).join(', ')} ${installed.length > 1 ? 'are' : 'is'} installed: rollback knows no earlier version and prune keeps only by age (restore it from a backup if there is one; otherwise the next install, activate or rollback starts a new one, and until then give rollback --to VERSION)`,
      });
    }
  } catch (err) {
    if (!isDamaged(err)) throw err;
    out.push({ what: 'history', problem: `${err.message} (${err.hint})` });
  }
}

async function checkProductDirs(
  out: Finding[],
  site: Site,
  tree: TreeState,
  catalog: ProductDescriptor[],
): Promise<void> {
  const installable = catalog.filter((d) => d.installable);
  // webpylib is shared: a name is a version if any product that lives there reads it as one.
  const byDir = new Map<string, ProductDescriptor[]>();
  for (const d of installable) byDir.set(productDir(site, d), [...(byDir.get(productDir(site, d)) ?? []), d]);
  for (const [dir, ds] of byDir) {
    const pointers = new Set(ds.map((d) => pointerPath(site, d)));
    for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(dir, e.name);
      if (!e.isDirectory() || pointers.has(p) || e.name.startsWith(STAGING_PREFIX) || e.name.startsWith(TRASH_PREFIX))
        continue;
      if (ds.some((d) => versionFromDirName(d, e.name) !== undefined)) continue;
      if (ds.length > 1 && byDir.has(p)) continue; // a product directory inside webpylib's
      if (installable.some((d) => productDir(site, d) === p)) continue;
      out.push({
        what: ds.map((d) => d.name).join('/'),
        problem: `${p} is not a version name (a version has a digit): webtree neither lists, serves nor prunes it; move it out of the way, where it is neither served nor read as a version (${moveAsideCommand(site, p)})`,
      });
    }
  }
  for (const d of installable) {
    const st = tree.products[d.name];
    for (const dmg of st.damaged ?? [])
      out.push({ what: `${d.name} ${dmg.version}`, problem: `${dmg.message} (${dmg.hint})` });
    // A manifest whose version directory is gone: installed on paper only.
    const mdir = manifestDir(site, d);
    for (const name of await fs.readdir(mdir).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      const v = name.slice(0, -'.json'.length);
      if ((await fs.lstat(versionPath(site, d, v)).catch(() => null)) === null) {
        out.push({
          what: `${d.name} ${v}`,
          problem: `${path.join(mdir, name)} names a version whose directory ${versionPath(site, d, v)} is missing: install its archive again, or move the manifest to ${atticDir(site.paths.state)}`,
        });
      }
    }
  }
}

async function checkAccount(out: Finding[], site: Site): Promise<void> {
  const { user, group } = site.apache;
  if (!(await dbEntry('/etc/passwd', user)))
    out.push({
      what: 'account',
      problem: `the service account ${user} (apache.user) does not exist: Apache cannot run as it (create it: useradd -g ${group} ${user}, or set apache.user in ${site.file})`,
    });
  else if (!(await dbEntry('/etc/group', group)))
    out.push({
      what: 'account',
      problem: `the service account's group ${group} (apache.group) does not exist (groupadd ${group}, or set apache.group in ${site.file})`,
    });
}

export async function verifyState(site: Site, catalog: ProductDescriptor[], tree: TreeState): Promise<Finding[]> {
  const out: Finding[] = [];
  await checkJournalAndLock(out, site);
  await checkHistory(out, site, tree, catalog);
  try {
    await readRenderedRecord(site);
  } catch (err) {
    if (!isDamaged(err)) throw err;
    out.push(damagedFinding(err));
  }
  await checkProductDirs(out, site, tree, catalog);
  await checkAccount(out, site);
  return out;
}
