/**
 * What `apache install-service` and `uninstall-service` plan from (src/plan/service.ts): the
 * rendered unit or init script in the tree, and what is at each path under /etc now.
 * WEBTREE_SERVICE_ROOT (for tests only, documented in docs/commands/apache.md) puts that /etc
 * under another directory, so that no test touches the host's /etc.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { WebtreeError } from '../core/errors.js';
import { apacheLayout } from '../plan/apache-layout.js';
import { serviceLayout, type EtcPath, type ServiceFacts, type ServiceKind } from '../plan/service.js';
import type { Site } from '../site/types.js';
import { lstatOrNull } from '../state/fs-read.js';

export const serviceRoot = (env: NodeJS.ProcessEnv) => env.WEBTREE_SERVICE_ROOT || '/';

/** systemd when it runs this host (as systemd's own sd_booted() tells), else SysV init. */
export async function defaultKind(): Promise<ServiceKind> {
  return (await lstatOrNull('/run/systemd/system'))?.isDirectory() ? 'systemd' : 'sysv';
}

async function etcPath(p: string): Promise<EtcPath> {
  const st = await lstatOrNull(p);
  if (!st) return { path: p, now: 'missing' };
  if (st.isSymbolicLink()) return { path: p, now: 'link', target: await fs.readlink(p) };
  if (st.isFile()) return { path: p, now: 'file', content: await fs.readFile(p, 'utf8') };
  return { path: p, now: 'other' };
}

export async function readServiceFacts(site: Site, kind: ServiceKind, root: string): Promise<ServiceFacts> {
  const layout = apacheLayout(site);
  const renderedFrom = kind === 'systemd' ? layout.systemdUnit : layout.initScript;
  const rendered = await fs.readFile(renderedFrom, 'utf8').catch(() => undefined);
  const where = serviceLayout(root, kind);
  const etc = path.join(root, 'etc');
  if (!(await lstatOrNull(etc))?.isDirectory()) {
    throw new WebtreeError('EIO', `${etc} is not a directory`, {
      hint: 'WEBTREE_SERVICE_ROOT (tests only) must name a directory holding etc/',
    });
  }
  const missingDirs = new Set<string>();
  for (const p of [where.file, ...where.links.map((l) => l.path)])
    if (!(await lstatOrNull(path.dirname(p)))) missingDirs.add(path.dirname(p));
  return {
    kind,
    rendered,
    renderedFrom,
    file: await etcPath(where.file),
    links: await Promise.all(where.links.map(async (l) => ({ ...(await etcPath(l.path)), want: l.target }))),
    missingDirs: [...missingDirs],
  };
}
