/**
 * Read the tree as it is into plain data: which versions are installed (a version directory
 * AND its manifest: a directory alone is half-made or laid by hand), which one each pointer
 * names, leftovers of interrupted applies, and the history.
 */
import type { Dirent } from 'node:fs';
import { peekArchiveSha256 } from './manifest-file.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import { manifestPath, pointerPath, productDir, STAGING_PREFIX, TRASH_PREFIX, versionFromDirName, versionFromPointer, versionPath, webLinkPath } from '../catalog/paths.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { sortVersions } from '../catalog/version.js';
import { isErrno } from '../core/errors.js';
import type { Site } from '../site/types.js';
import { readLinkOrNull, lstatOrNull } from './fs-read.js';
import { readHistory } from './history.js';
import type { ProductState, TreeState } from '../plan/facts.js';

// The types live beside the planners that read them; this reader keeps offering them.
export type { ProductState, TreeState };

export const historyFile = (site: Site) => path.join(site.paths.state, 'history.jsonl');

async function readDirOrEmpty(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}

/**
 * How much of the manifests to read. 'read' parses each one (its archive sha256; a corrupt one
 * makes the version unmanaged), for planners and verify. 'list' only lists the manifest
 * directory: status and list then cost one readdir per product, whatever the number of versions
 * and files (sha256 stays empty; verify finds a corrupt manifest).
 */
export type ManifestRead = 'read' | 'list';

export async function readProductState(site: Site, d: ProductDescriptor, manifests: ManifestRead = 'read'): Promise<ProductState> {
  const dir = productDir(site, d);
  const entries = await readDirOrEmpty(dir);
  const listed = manifests === 'list' ? new Set((await readDirOrEmpty(path.dirname(manifestPath(site, d, 'x')))).map((e) => e.name)) : undefined;
  const versions: string[] = [];
  const unmanaged: string[] = [];
  const leftovers: string[] = [];
  const sha256: Record<string, string> = {};
  for (const e of entries) {
    const name = e.name;
    if (name.startsWith(STAGING_PREFIX) || name.startsWith(TRASH_PREFIX)) { leftovers.push(path.join(dir, name)); continue; }
    // A real directory where the pointer belongs is no version (TV's `current` matches "{v}"):
    // it is reported as a blocked pointer instead.
    if (path.join(dir, name) === pointerPath(site, d)) continue;
    const v = versionFromDirName(d, name);
    // The entry's type as readdir gives it (no lstat per version): a link named like a version is not one.
    if (v === undefined || !e.isDirectory()) continue;
    if (listed) {
      if (listed.has(path.basename(manifestPath(site, d, v)))) versions.push(v);
      else unmanaged.push(v);
      continue;
    }
    try {
      sha256[v] = await peekArchiveSha256(manifestPath(site, d, v));
      versions.push(v);
    } catch (err) {
      if (!isErrno(err, 'ENOENT') && !(err instanceof SyntaxError)) throw err;
      unmanaged.push(v);
    }
  }
  const pointer = (await readLinkOrNull(pointerPath(site, d))) ?? undefined;
  const current = pointer === undefined ? undefined : versionFromPointer(d, pointer);
  const licensed = d.license && current !== undefined ? (await lstatOrNull(path.join(versionPath(site, d, current), d.license.file)))?.isFile() === true : undefined;
  const blockedLinks: string[] = [];
  const webLinkTargets: Record<string, string | null> = {};
  if (pointer === undefined && (await lstatOrNull(pointerPath(site, d)))) blockedLinks.push(pointerPath(site, d)); // there, and not a link
  for (const l of d.webLinks) {
    const p = webLinkPath(site, l);
    const st = await lstatOrNull(p);
    if (st && !st.isSymbolicLink()) blockedLinks.push(p);
    else webLinkTargets[p] = st ? await readLinkOrNull(p) : null;
  }
  return { name: d.name, versions: sortVersions(versions), sha256, current, pointer, unmanaged: sortVersions(unmanaged), leftovers, licensed, blockedLinks, webLinkTargets };
}

export async function readTree(site: Site, catalog: ProductDescriptor[], manifests: ManifestRead = 'read'): Promise<TreeState> {
  const products: Record<string, ProductState> = {};
  for (const d of catalog.filter((p) => p.installable)) products[d.name] = await readProductState(site, d, manifests);
  return { products, history: await readHistory(historyFile(site)) };
}
