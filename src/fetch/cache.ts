/**
 * webtree's archive cache, in the state directory: <state>/cache/<sha256>/<name>. A file is
 * there only once its bytes hashed to the sha256 it is filed under (the fetcher renames it in
 * after the check), so a cached archive is used without fetching it again. Downloads in progress
 * are .<name>.part-<pid> beside it; those of processes that died are swept.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Site } from '../site/types.js';

export const cacheDir = (site: Site) => path.join(site.paths.state, 'cache');
export const cacheEntryDir = (site: Site, sha256: string) => path.join(cacheDir(site), sha256);
export const partFile = (dir: string, name: string) => path.join(dir, `.${name}.part-${process.pid}`);

const PART = /^\..+\.part-(\d+)$/;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The cached file for (sha256, name), if one is there. */
export async function cachedArchive(site: Site, sha256: string, name: string): Promise<string | undefined> {
  const file = path.join(cacheEntryDir(site, sha256), name);
  const st = await fs.stat(file).catch(() => undefined);
  return st?.isFile() ? file : undefined;
}

/** Remove the partial downloads of processes no longer running (a kill -9 during a fetch). */
export async function sweepParts(dir: string): Promise<void> {
  for (const n of await fs.readdir(dir).catch(() => [] as string[])) {
    const m = PART.exec(n);
    if (m && !alive(Number(m[1]))) await fs.rm(path.join(dir, n), { force: true });
  }
}

export interface CachedArchive {
  sha256: string;
  name: string;
  file: string;
  bytes: number;
}

/** Every cached archive (partial downloads left out). */
export async function listCache(site: Site): Promise<CachedArchive[]> {
  const out: CachedArchive[] = [];
  for (const sha of await fs.readdir(cacheDir(site)).catch(() => [] as string[])) {
    const dir = cacheEntryDir(site, sha);
    for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
      if (PART.test(name)) continue;
      const st = await fs.stat(path.join(dir, name)).catch(() => undefined);
      if (st?.isFile()) out.push({ sha256: sha, name, file: path.join(dir, name), bytes: st.size });
    }
  }
  return out;
}
