/**
 * Read the tree as it is into plain data: which versions are installed (a version directory
 * AND its manifest: a directory alone is half-made or laid by hand), which one each pointer
 * names, leftovers of interrupted applies, and the history.
 */
import type { Dirent } from 'node:fs';
import { manifestSpec, peekArchiveSha256 } from './manifest-file.js';
import { isDamaged, type DamagedFileError } from '../core/state-file.js';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import {
  manifestDir,
  manifestPath,
  pointerPath,
  productDir,
  STAGING_PREFIX,
  TRASH_PREFIX,
  versionFromDirName,
  versionFromPointer,
  versionPath,
  webLinkPath,
} from '../catalog/paths.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { sortVersions } from '../catalog/version.js';
import { isErrno } from '../core/errors.js';
import type { Site } from '../site/types.js';
import { lstatOrNullSync, readLinkOrNullSync } from './fs-read.js';
import { historyLineError, isHistoryRead, readHistory, readHistoryLines, type HistoryLines } from './history.js';
import type { DamageNote, ProductState, TreeState } from '../plan/facts.js';
import { openListingMemo, tickWait, type Listing, type ListingMemo } from './listing-memo.js';
import { setTimeout as sleep } from 'node:timers/promises';

// The types live beside the planners that read them; this reader keeps offering them.
export type { DamageNote, ProductState, TreeState };

/** A damaged state file as plain data: which, what is wrong, the fix (and the version, for a manifest). */

export const damageNote = (e: DamagedFileError, version?: string): DamageNote => ({
  file: e.file,
  message: e.message,
  hint: e.hint ?? '',
  ...(version !== undefined ? { version } : {}),
});

export const historyFile = (site: Site) => path.join(site.paths.state, 'history.jsonl');

/**
 * The tree is read with the synchronous calls: a read command does nothing else meanwhile, and
 * each asynchronous call waited a round trip through libuv's thread pool (status at 8 x 200
 * versions spent a third of its wall time idle so; issue 15).
 */
function readDirOrEmpty(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}

/** The names in a directory, none when it does not exist: no Dirent per entry where the type is not needed. */
function namesOrNone(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}

/**
 * How much of the manifests to read. 'read' parses each one (its archive sha256; a corrupt one
 * makes the version unmanaged), for planners and verify. 'list' only lists the manifest
 * directory: status and list then cost one readdir per product, whatever the number of versions
 * and files (sha256 stays empty; verify finds a corrupt manifest), or none while the product's
 * directories are as the listing memo recorded them (listing-memo.ts).
 */
export type ManifestRead = 'read' | 'list';

/**
 * The version an entry of a product directory is, or undefined; a leftover of an interrupted
 * change is added to `leftovers` (its path).
 */
function versionEntry(
  d: ProductDescriptor,
  e: Dirent,
  inDir: string,
  pointerName: string | undefined,
  leftovers: string[],
): string | undefined {
  const name = e.name;
  if (name.startsWith(STAGING_PREFIX) || name.startsWith(TRASH_PREFIX)) {
    leftovers.push(inDir + name);
    return undefined;
  }
  // A real directory where the pointer belongs is no version (TV's `current` matches "{v}"):
  // it is reported as a blocked pointer instead.
  if (name === pointerName) return undefined;
  const v = versionFromDirName(d, name);
  // The entry's type as readdir gives it (no lstat per version): a link named like a version is not one.
  return v === undefined || !e.isDirectory() ? undefined : v;
}

/** 'list': the versions with a manifest in the manifest directory's listing, and those without. */
function listByManifests(
  d: ProductDescriptor,
  dir: string,
  inDir: string,
  pointerName: string | undefined,
  manifestDir: string,
): Listing {
  const entries = readDirOrEmpty(dir);
  const listed = new Set(namesOrNone(manifestDir));
  const versions: string[] = [];
  const unmanaged: string[] = [];
  const leftovers: string[] = [];
  // An index, not for-of: each step of an iterator made an object (~0.1 MB of garbage per status).
  for (let i = 0; i < entries.length; i++) {
    const v = versionEntry(d, entries[i], inDir, pointerName, leftovers);
    if (v === undefined) continue;
    // manifestPath's file name (a version has no "/").
    if (listed.has(`${v}.json`)) versions.push(v);
    else unmanaged.push(v);
  }
  return { versions: sortVersions(versions), unmanaged: sortVersions(unmanaged), leftovers };
}

/** A product directory's names as a listing compares them: the directory with its "/", the pointer's name in it. */
function dirNames(site: Site, d: ProductDescriptor) {
  const dir = productDir(site, d);
  // An entry's path as path.join(dir, name) makes it (dir is normalised, a name has no "/"), built
  // without path.join's normalising walk: hundreds of versions per product, several paths each.
  const inDir = dir.endsWith('/') ? dir : `${dir}/`;
  const pointerAt = pointerPath(site, d);
  // The pointer's name when it lives in this directory: compared by name, no path made per entry.
  const pointerName = pointerAt.startsWith(inDir) ? pointerAt.slice(inDir.length) : undefined;
  return { dir, inDir, pointerAt, pointerName };
}

/**
 * 'list': the product's listing, from the memo while both directories are as it recorded them
 * (read mode), else listed, and kept when the memo is written (write mode: a change's end).
 */
function productListing(site: Site, d: ProductDescriptor, memo?: ListingMemo): Listing {
  const { dir, inDir, pointerName } = dirNames(site, d);
  const manifests = manifestDir(site, d);
  // The memo looks at both directories before they are listed (listing-memo.ts says why).
  const found = memo?.find(d.name, [dir, manifests], `${d.versionDir}\n${pointerName ?? ''}`);
  if (found?.listing) return found.listing;
  const listing = listByManifests(d, dir, inDir, pointerName, manifests);
  found?.keep(listing);
  return listing;
}

export async function readProductState(
  site: Site,
  d: ProductDescriptor,
  manifests: ManifestRead = 'read',
  memo?: ListingMemo,
): Promise<ProductState> {
  const { dir, inDir, pointerAt, pointerName } = dirNames(site, d);
  const sha256: Record<string, string> = {};
  const damaged: DamageNote[] = [];
  let listing: Listing;
  if (manifests === 'list') listing = productListing(site, d, memo);
  else {
    const versions: string[] = [];
    const unmanaged: string[] = [];
    const leftovers: string[] = [];
    const entries = readDirOrEmpty(dir);
    // manifestPath's path, made without path.join's normalising walk (a version has no "/").
    const inManifests = `${manifestDir(site, d)}/`;
    for (let i = 0; i < entries.length; i++) {
      const v = versionEntry(d, entries[i], inDir, pointerName, leftovers);
      if (v === undefined) continue;
      const file = v.includes('/') ? manifestPath(site, d, v) : `${inManifests}${v}.json`;
      try {
        const sha = await peekArchiveSha256(file, manifestSpec(file, site.paths.state, `${d.name} ${v}`));
        if (sha === undefined) unmanaged.push(v);
        else {
          sha256[v] = sha;
          versions.push(v);
        }
      } catch (err) {
        if (!isDamaged(err)) throw err;
        damaged.push(damageNote(err, v));
      }
    }
    listing = { versions: sortVersions(versions), unmanaged: sortVersions(unmanaged), leftovers };
  }
  const pointer = readLinkOrNullSync(pointerAt) ?? undefined;
  const current = pointer === undefined ? undefined : versionFromPointer(d, pointer);
  const licensed =
    d.license && current !== undefined
      ? lstatOrNullSync(path.join(versionPath(site, d, current), d.license.file))?.isFile() === true
      : undefined;
  const blockedLinks: string[] = [];
  const webLinkTargets: Record<string, string | null> = {};
  if (pointer === undefined && lstatOrNullSync(pointerAt)) blockedLinks.push(pointerAt); // there, and not a link
  for (const l of d.webLinks) {
    const p = webLinkPath(site, l);
    const st = lstatOrNullSync(p);
    if (st && !st.isSymbolicLink()) blockedLinks.push(p);
    else webLinkTargets[p] = st ? readLinkOrNullSync(p) : null;
  }
  return {
    name: d.name,
    versions: listing.versions,
    sha256,
    current,
    pointer,
    unmanaged: listing.unmanaged,
    damaged,
    leftovers: listing.leftovers,
    licensed,
    blockedLinks,
    webLinkTargets,
  };
}

/**
 * The tree as the planners need it. `lenient` (the read commands): a damaged history is noted in
 * `damage` and its whole entries kept, so that they still show what they can; otherwise (every
 * changing command) it throws the DamagedFileError that names the file and the fix. `history`
 * 'pointer' (status and list, lenient only): only the entries that move a pointer (HistoryLines).
 */
export async function readTree(
  site: Site,
  catalog: ProductDescriptor[],
  manifests: ManifestRead = 'read',
  lenient = false,
  history: HistoryLines = 'all',
): Promise<TreeState> {
  const products: Record<string, ProductState> = {};
  // Read only: the memo is written by changes (keepListings).
  const memo = manifests === 'list' ? openListingMemo(site.paths.state, 'read') : undefined;
  for (const d of catalog.filter((p) => p.installable))
    products[d.name] = await readProductState(site, d, manifests, memo);
  const file = historyFile(site);
  if (!lenient) return { products, history: await readHistory(file), damage: [] };
  try {
    // The pointer reading a change kept, while history.jsonl is as it was then (listing-memo.ts).
    const r =
      (history === 'pointer' ? memo?.history(file, isHistoryRead).read : undefined) ??
      (await readHistoryLines(file, history));
    return {
      products,
      history: r.entries,
      ...(history === 'pointer' ? { historyRead: history } : {}),
      damage: r.problems.length ? [damageNote(historyLineError(file, r.problems))] : [],
    };
  } catch (err) {
    if (!isDamaged(err)) throw err;
    return { products, history: [], damage: [damageNote(err)] };
  }
}

/**
 * The end of a change, under its lock: every installable product listed afresh into the listing
 * memo (listing-memo.ts), and the history's pointer reading with them, once the change's own last
 * write to those directories and to history.jsonl is a tick of the file system's clock old (at
 * most TICK_MS of waiting). Best effort: a failure here leaves status to list the directories and
 * read the history itself.
 */
export async function keepListings(site: Site, catalog: ProductDescriptor[]): Promise<void> {
  const memo = openListingMemo(site.paths.state, 'write');
  if (memo === undefined) return;
  const installable = catalog.filter((d) => d.installable);
  const file = historyFile(site);
  const wait = tickWait([...installable.flatMap((d) => [productDir(site, d), manifestDir(site, d)]), file]);
  if (wait > 0) await sleep(wait);
  // The listings alone: the pointer, licence and web links readProductState also reads are not memoised.
  for (const d of installable) productListing(site, d, memo);
  // Looked at before it is read (history() stats it): an append after the look makes the memo's key old, never its reading.
  const kept = memo.history(file, isHistoryRead);
  try {
    kept.keep(await readHistoryLines(file, 'pointer'));
  } catch {
    // A damaged file: not kept, so status reads it, and says what is wrong with it.
  }
  memo.save();
}
