/**
 * The WSGI apps a release serves for the first time (no conf.d/<P>.conf yet), as render will
 * see them once the release is live. apply renders them BEFORE it switches anything (issue 12:
 * "renders the Apache tree first"), so that the one restart and health check after the switch
 * covers them too, and a release whose new app Apache refuses changes nothing.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { WsgiApp } from './render.js';
import { filesIn } from '../archive/top-files.js';
import { versionPath } from '../catalog/paths.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { apacheLayout, appConfFile } from '../plan/apache-layout.js';
import type { ProductAction } from '../plan/apply.js';
import type { Site } from '../site/types.js';

const exists = (p: string) =>
  fs.access(p).then(
    () => true,
    () => false,
  );

/**
 * `archives`: the verified local file of each product to install (its headers give the script's
 * name; nothing is unpacked). A product whose version holds no *.wsgi is no app, as for render.
 */
export async function firstServedApps(
  site: Site,
  catalog: ProductDescriptor[],
  actions: ProductAction[],
  archives: Record<string, string>,
): Promise<WsgiApp[]> {
  const apps: WsgiApp[] = [];
  for (const a of actions) {
    const d = catalog.find((p) => p.name === a.name)!;
    if (a.action === 'none' || !d.wsgi || d.name === 'ECL') continue;
    if (await exists(appConfFile(apacheLayout(site), d.name))) continue;
    // The directory the web link serves, within the version: "current/product" is the version's product/.
    const parts = d.webLinks.find((l) => l.path === d.wsgi!.link)?.target.split('/') ?? [];
    if (parts[0] !== d.pointer.name) continue; // served from elsewhere: `webtree render` once it is live
    const within = parts.slice(1).join('/');
    const names =
      a.action === 'install'
        ? await filesIn(archives[a.name], site.limits, d.layout, within, d.content)
        : await fs.readdir(path.join(versionPath(site, d, a.to), within)).catch(() => [] as string[]);
    const added = Object.keys(d.addFiles)
      .filter((n) => path.posix.dirname(n) === (within || '.'))
      .map((n) => path.posix.basename(n));
    const script = d.wsgi.script ?? [...names, ...added].filter((n) => n.endsWith('.wsgi')).sort()[0];
    if (!script) continue;
    // The web link's path, as servedApps names it once the link resolves.
    const dir = path.join(site.paths.html, d.wsgi.link);
    apps.push({ name: d.name, mount: d.wsgi.mount, dir, script: path.join(dir, script) });
  }
  return apps;
}
