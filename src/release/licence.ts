/**
 * ChartDirector's licence in a release file (`license: /etc/webtree/chartdir.lic`): the file
 * must be there on this host before anything is fetched or locked, and a version already
 * installed keeps the licence it was installed with (its manifest covers the file), so a
 * release naming another one is said, not silently taken for applied.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { versionPath } from '../catalog/paths.js';
import type { ProductDescriptor } from '../catalog/types.js';
import type { ProductAction } from '../plan/apply.js';
import type { Site } from '../site/types.js';
import { releaseError, type ReleaseEntry, type ReleaseProblem } from './file.js';

const who = () => (typeof process.geteuid === 'function' ? `uid ${process.geteuid()}` : 'this user');

/** Every licence file the release names is a file webtree can read here; else exit 2 naming the key and line. */
export async function checkLicences(file: string, entries: ReleaseEntry[]): Promise<void> {
  const problems: ReleaseProblem[] = [];
  for (const e of entries) {
    if (e.license === undefined) continue;
    const bad = (message: string) =>
      problems.push({ key: `products.${e.product}.license`, line: e.licenseLine ?? e.line, message });
    const st = await fs.stat(e.license).catch((err: NodeJS.ErrnoException) => err);
    if (st instanceof Error) {
      if (st.code === 'ENOENT' || st.code === 'ENOTDIR')
        bad(`${e.license} does not exist on this host: put ${e.product}'s licence file there, or correct the path`);
      else bad(`${e.license} cannot be read (${st.code}): make it readable by webtree (${who()}), or correct the path`);
      continue;
    }
    if (!st.isFile()) {
      bad(`${e.license} is not a file: give the path of ${e.product}'s licence file itself`);
      continue;
    }
    await fs
      .access(e.license, fs.constants.R_OK)
      .catch((err: NodeJS.ErrnoException) =>
        bad(
          `${e.license} cannot be read (${err.code}): make it readable by webtree (${who()}), e.g. chmod 644, or correct the path`,
        ),
      );
  }
  if (problems.length) throw releaseError(file, problems);
}

/**
 * The versions the release keeps or activates whose licence is not the file the release names:
 * one sentence each (a warning; the version is not changed in place).
 */
export async function licenceMismatches(
  site: Site,
  catalog: ProductDescriptor[],
  entries: ReleaseEntry[],
  actions: ProductAction[],
): Promise<string[]> {
  const out: string[] = [];
  for (const a of actions) {
    const e = entries.find((x) => x.product === a.name);
    const d = catalog.find((p) => p.name === a.name);
    if (!e?.license || !d?.license || a.action === 'install') continue;
    const want = await fs.readFile(e.license);
    const have = await fs.readFile(path.join(versionPath(site, d, a.to), d.license.file)).catch(() => undefined);
    if (have?.equals(want)) continue;
    out.push(
      `${d.name} ${a.to} holds ${have ? 'another licence file' : 'no licence file'} than ${e.license} (products.${d.name}.license): a licence goes into a version when it is installed and an installed version is not changed; the release's licence goes in with the next ${d.name} version it installs`,
    );
  }
  return out;
}
