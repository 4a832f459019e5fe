/**
 * The read step of adopt: what the hand-laid tree looks like, as plain data for the pure
 * planner (src/plan/adopt.ts): each consumer path and the variants beside it (link targets,
 * real paths, inodes, identical bytes), the failover links that may already exist (init lays
 * some out), and each product's pointer and web links with the real paths they lead to.
 */
import { activeServer } from '../state/server.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  manifestDir,
  pointerPath,
  pointerTarget,
  productDir,
  versionPath,
  webLinkPath,
  webLinkTarget,
} from '../catalog/paths.js';
import { firstNotAFile } from '../archive/manifest.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { lstatOrNull, readLinkOrNull } from '../state/fs-read.js';
import { consumers, serverSlotDir, slotPath } from '../plan/switch-layout.js';
import type { Site } from '../site/types.js';
import type { AdoptFacts, ConsumerFacts, PathFacts, PathKind, ProductFacts, TreeState } from '../plan/facts.js';

const realOrNull = (p: string) => fs.realpath(p).catch(() => null);

export async function pathFacts(p: string): Promise<PathFacts> {
  const st = await lstatOrNull(p);
  if (!st) return { kind: 'missing', real: null };
  const kind: PathKind = st.isSymbolicLink() ? 'link' : st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other';
  const real = await realOrNull(p);
  const target = real === null ? null : await fs.stat(real).catch(() => null);
  return {
    kind,
    ...(kind === 'link' ? { link: await fs.readlink(p) } : {}),
    real,
    ...(target
      ? { ino: `${target.dev}:${target.ino}`, owner: `${target.uid}:${target.gid}`, mode: target.mode & 0o7777 }
      : {}),
  };
}

async function sameBytes(a: PathFacts, b: PathFacts): Promise<boolean> {
  if (a.real === null || b.real === null) return false;
  const [x, y] = await Promise.all([fs.readFile(a.real).catch(() => null), fs.readFile(b.real).catch(() => null)]);
  return x !== null && y !== null && x.equals(y);
}

export async function readAdoptFacts(site: Site, catalog: ProductDescriptor[], tree: TreeState): Promise<AdoptFacts> {
  const servers = site.database.servers.map((s) => s.name);
  const facts: AdoptFacts = { active: await activeServer(site), dirs: [], slots: {}, consumers: {}, products: {} };
  for (const d of [site.paths.switch, ...servers.map((s) => serverSlotDir(site, s))])
    if ((await lstatOrNull(d))?.isDirectory()) facts.dirs.push(d);
  const cs = consumers(site, catalog);
  for (const s of servers) {
    facts.slots[s] = {};
    for (const c of cs) facts.slots[s][c.slot] = await readLinkOrNull(slotPath(site, s, c.slot));
  }
  for (const c of cs) {
    const at = await pathFacts(c.path);
    const variants: ConsumerFacts['variants'] = {};
    for (const s of servers) {
      const v = await pathFacts(c.variant(s));
      variants[s] = { ...v, sameBytes: at.kind === 'file' && (await sameBytes(at, v)) };
    }
    facts.consumers[c.slot] = { at, variants };
  }
  for (const d of catalog.filter((p) => p.installable)) {
    const st = tree.products[d.name];
    const pointerReal: Record<string, string | null> = {};
    for (const v of [...st.versions, ...st.unmanaged])
      pointerReal[v] = await realOrNull(path.join(productDir(site, d), pointerTarget(d, v)));
    const webLinks: ProductFacts['webLinks'] = {};
    for (const l of d.webLinks)
      webLinks[l.path] = {
        ...(await pathFacts(webLinkPath(site, l))),
        expectedReal: await realOrNull(webLinkTarget(site, d, l)),
      };
    const manifestsDir = (await lstatOrNull(manifestDir(site, d)))?.isDirectory() ?? false;
    const unrecordable: Record<string, string> = {};
    for (const v of st.unmanaged) {
      const why = firstNotAFile(versionPath(site, d, v));
      if (why !== undefined) unrecordable[v] = why;
    }
    facts.products[d.name] = {
      pointer: await pathFacts(pointerPath(site, d)),
      pointerReal,
      webLinks,
      manifestsDir,
      unrecordable,
    };
  }
  return facts;
}
