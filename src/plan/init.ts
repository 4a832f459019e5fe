/**
 * init: the empty tree, and in a sandbox sample per-server variants linked for the active
 * server so that it can fail over out of the box. Only adds what is missing: `existing` says
 * what is there already, and nothing there is rewritten.
 */
import path from 'node:path';
import type { ProductDescriptor } from '../catalog/types.js';
import type { Site } from '../site/types.js';
import { activeLink, consumers, consumerTarget, serverSlotDir, slotPath } from './switch-layout.js';
import type { Op, Plan } from './ops.js';

export function treeDirs(site: Site): string[] {
  const w = site.paths.www;
  const dirs = [
    w,
    path.join(w, 'conf'),
    path.join(w, 'conf.d'),
    site.paths.html,
    path.join(site.paths.html, 'cfg'),
    path.join(w, 'run'),
    path.join(w, 'bin'),
    path.join(w, 'init.d'),
    site.paths.state,
    path.join(site.paths.state, 'manifests'),
    site.paths.switch,
    site.paths.products,
    site.paths.webpylib,
    site.paths.runtime,
  ];
  if (site.ecl.enabled) dirs.push(site.ecl.dir);
  return dirs;
}

export function sampleCfg(site: Site, slot: string, server: string): string {
  const s = site.database.servers.find((x) => x.name === server)!;
  if (slot === 'ecl-settings.py') {
    return [
      `# Sample ECL settings for ${server}, written by webtree init. Replace with the real file.`,
      `DATABASE_SERVER = '${s.name}'`,
      `DATABASES = {'default': {'NAME': '${site.database.name}', 'HOST': '${s.host}', 'PORT': '${s.port}'}}`,
      '',
    ].join('\n');
  }
  return [
    `# Sample ${slot} for ${server}, written by webtree init. Replace with the real file.`,
    '[database]',
    `server = ${s.name}`,
    `host = ${s.host}`,
    `port = ${s.port}`,
    `dbname = ${site.database.name}`,
    '',
  ].join('\n');
}

export function planInit(
  site: Site,
  catalog: ProductDescriptor[],
  existing: Set<string>,
  opts: { sandbox: boolean },
): Plan {
  const ops: Op[] = [];
  const missing = (p: string) => !existing.has(p);
  for (const d of treeDirs(site)) if (missing(d)) ops.push({ kind: 'make-dir', path: d });
  const robots = path.join(site.paths.html, 'robots.txt');
  if (missing(robots))
    ops.push({ kind: 'write-file', path: robots, content: 'User-agent: *\nDisallow: /\n', mode: 0o644 });
  if (opts.sandbox) {
    // Samples only for the consumers init itself lays down: on a tree laid out by hand a sample
    // would hide a missing variant (the guide's own QE_decam.cfg_server3) from adopt and verify.
    const cs = consumers(site, catalog).filter((c) => missing(c.path));
    for (const srv of site.database.servers) {
      if (missing(serverSlotDir(site, srv.name))) ops.push({ kind: 'make-dir', path: serverSlotDir(site, srv.name) });
      for (const c of cs) {
        if (missing(c.variant(srv.name)))
          ops.push({
            kind: 'write-file',
            path: c.variant(srv.name),
            content: sampleCfg(site, c.slot, srv.name),
            mode: 0o644,
          });
        if (missing(slotPath(site, srv.name, c.slot)))
          ops.push({ kind: 'swap-link', path: slotPath(site, srv.name, c.slot), target: c.variant(srv.name) });
      }
    }
    if (missing(activeLink(site)))
      ops.push({ kind: 'swap-link', path: activeLink(site), target: site.database.active });
    for (const c of cs)
      if (missing(c.path)) ops.push({ kind: 'swap-link', path: c.path, target: consumerTarget(site, c) });
  }
  return {
    command: 'init',
    summary: ops.length ? `lay out the tree under ${site.paths.www}` : 'the tree is complete; nothing to add',
    ops,
    commit: 0,
    temps: [],
    notes: [],
  };
}
