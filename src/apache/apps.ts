/**
 * Which WSGI apps the tree serves, read from the tree itself: render generates their conf.d
 * entries, and every restart checks their health. One place, so that render, activate and
 * switch-web agree on the list.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ProductDescriptor } from '../catalog/types.js';
import type { Site } from '../site/types.js';
import { apacheLayout, appConfFile } from '../plan/apache-layout.js';
import { findOurProcesses } from './process.js';
import type { WsgiApp } from './render.js';

/**
 * Every WSGI product whose web link resolves (an installed, active version), and ECL when the
 * site has it and its directory holds a .wsgi. The script is the descriptor's, else the single
 * *.wsgi at the top of the linked directory (the first by name if there are several).
 */
export async function servedApps(site: Site, catalog: ProductDescriptor[]): Promise<WsgiApp[]> {
  const apps: WsgiApp[] = [];
  for (const d of catalog) {
    if (!d.wsgi) continue;
    const ecl = d.name === 'ECL';
    if (ecl && !site.ecl.enabled) continue;
    const dir = ecl ? site.ecl.dir : path.join(site.paths.html, d.wsgi.link);
    const names = await fs.readdir(dir).catch(() => undefined); // follows the web link
    if (!names) continue;
    const script = d.wsgi.script ?? names.filter((n) => n.endsWith('.wsgi')).sort()[0];
    if (!script) continue;
    apps.push({ name: d.name, mount: d.wsgi.mount, dir, script: path.join(dir, script) });
  }
  return apps;
}

/** Splits apps into those the live conf.d mounts and those it does not yet (render not run since). */
export async function splitConfigured(
  site: Site,
  apps: WsgiApp[],
): Promise<{ configured: WsgiApp[]; unconfigured: WsgiApp[] }> {
  const configured: WsgiApp[] = [];
  const unconfigured: WsgiApp[] = [];
  for (const app of apps) {
    const ok = await fs.access(appConfFile(apacheLayout(site), app.name)).then(
      () => true,
      () => false,
    );
    (ok ? configured : unconfigured).push(app);
  }
  return { configured, unconfigured };
}

/**
 * The pids of an app's mod_wsgi daemon group. mod_wsgi writes display-name over argv[0],
 * padded with spaces and cut to argv[0]'s length ("/usr/sbin/apache2": 17 characters), so
 * "(wsgi:ConstantsDB)" appears as "(wsgi:ConstantsDB".
 */
export async function daemonPids(site: Site, name: string): Promise<number[]> {
  const want = `(wsgi:${name})`;
  const out: number[] = [];
  for (const pid of await findOurProcesses(apacheLayout(site).serverRoot)) {
    const argv0 = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0')[0].trimEnd();
    if (argv0 === want || (argv0.startsWith('(wsgi:') && !argv0.endsWith(')') && want.startsWith(argv0))) out.push(pid);
  }
  return out;
}

/**
 * Whether the configuration Apache reads (conf/httpd.conf and conf.d/*.conf) turns mod_wsgi's
 * script reloading off anywhere, so that touching a script may restart no daemon. With reloading
 * on (mod_wsgi's default, and webtree's templates), a touched daemon that is serving a request
 * keeps its pid until that request finishes (mod_wsgi replaces it only then): unchanged pids
 * are a daemon draining, never one that ignored the touch, and a graceful would cut those
 * requests short.
 */
export async function scriptReloadingOff(site: Site): Promise<boolean> {
  const layout = apacheLayout(site);
  const confD = (await fs.readdir(layout.confDir).catch(() => [] as string[])).filter((n) => n.endsWith('.conf'));
  for (const file of [layout.confFile, ...confD.map((n) => path.join(layout.confDir, n))]) {
    const text = await fs.readFile(file, 'utf8').catch(() => '');
    if (/^[ \t]*WSGIScriptReloading[ \t]+Off\b/im.test(text)) return true;
  }
  return false;
}

/**
 * The apps of `before` whose daemons a touch restarted nothing of: their pids all as before, and
 * script reloading off (see scriptReloadingOff). Empty whenever reloading is on.
 */
export async function daemonsNotRestarted(site: Site, before: Map<string, number[]>): Promise<string[]> {
  if (!(await scriptReloadingOff(site))) return [];
  const kept: string[] = [];
  for (const [name, was] of before) {
    const pids = await daemonPids(site, name);
    if (pids.length > 0 && pids.every((p) => was.includes(p))) kept.push(name);
  }
  return kept;
}
