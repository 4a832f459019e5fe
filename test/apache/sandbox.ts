/**
 * A sandbox web tree with small real WSGI apps, laid out as the guide's: versions under the
 * products root, `current` links, web links in html/, and python libraries in webpylib that the
 * apps import (proving the daemons' python-path). Each app answers
 * "<app> <version> <webpylib tag> <dbiapp_pylib tag> <user it runs as>".
 */
import { chmod, chown, mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Site } from '../../src/site/types.js';
import { renderTree, type RenderedFile, type WsgiApp } from '../../src/apache/render.js';
import { loadTemplates } from '../../src/apache/templates.js';
import { makeApp } from './fixtures.js';

/** Product dir under the products root, web link under html/, script, first version. */
export const SANDBOX_APPS = [
  { name: 'TV', mount: '/TV', dir: 'tv', link: 'TV', sub: 'product', script: 'tv.wsgi', version: '3.3a' },
  {
    name: 'ConstantsDB',
    mount: '/ConstantsDB',
    dir: 'ConstantsDB',
    link: 'ConstantsDB',
    sub: '',
    script: 'ConstantsDB.wsgi',
    version: '1.5d',
  },
  { name: 'QE', mount: '/QE/DECam', dir: 'QEngine', link: 'QE/DECam', sub: '', script: 'qe.wsgi', version: '2.1' },
];

const wsgi = (app: string) => `import os, pwd
import webtree_probe, dbiapp_probe

APP = ${JSON.stringify(app)}
HERE = os.path.dirname(os.path.abspath(__file__))

def application(environ, start_response):
    with open(os.path.join(HERE, "VERSION")) as f:
        version = f.read().strip()
    user = pwd.getpwuid(os.getuid()).pw_name
    body = "%s %s %s %s %s\\n" % (APP, version, webtree_probe.TAG, dbiapp_probe.TAG, user)
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [body.encode("utf-8")]
`;

export { freePort } from '../helpers/http.js';

/** Writes a version of a sandbox app and points its `current` link at it (link renamed over). */
export async function installVersion(site: Site, appName: string, version: string): Promise<void> {
  const a = SANDBOX_APPS.find((x) => x.name === appName)!;
  const dir = path.join(site.paths.products, a.dir, version, a.sub);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, a.script), wsgi(a.name));
  await writeFile(path.join(dir, 'VERSION'), `${version}\n`);
  const current = path.join(site.paths.products, a.dir, 'current');
  await symlink(version, `${current}.new`);
  await rename(`${current}.new`, current);
}

export async function writeTree(files: RenderedFile[]): Promise<void> {
  for (const f of files) {
    await mkdir(path.dirname(f.path), { recursive: true });
    await writeFile(f.path, f.content);
    await chmod(f.path, f.mode);
  }
}

/** The whole sandbox: products, webpylib, web links, the rendered tree; run and log dirs owned by the account. */
export async function buildSandbox(site: Site, owner: { uid: number; gid: number }): Promise<WsgiApp[]> {
  const { products, webpylib, html, www, runtime } = site.paths;
  await mkdir(path.join(webpylib, 'dbiapp_pylib_v1_4a', 'lib'), { recursive: true });
  await writeFile(path.join(webpylib, 'webtree_probe.py'), 'TAG = "webpylib"\n');
  await writeFile(path.join(webpylib, 'dbiapp_pylib_v1_4a', 'lib', 'dbiapp_probe.py'), 'TAG = "dbiapp_pylib"\n');
  await symlink('dbiapp_pylib_v1_4a/lib', path.join(webpylib, 'dbiapp_pylib'));
  const apps: WsgiApp[] = [];
  for (const a of SANDBOX_APPS) {
    await installVersion(site, a.name, a.version);
    const link = path.join(html, a.link);
    await mkdir(path.dirname(link), { recursive: true });
    await symlink(path.join(products, a.dir, 'current', a.sub), link);
    apps.push(makeApp(site, a.name, a.mount, a.link, a.script));
  }
  await writeTree(renderTree(site, apps, await loadTemplates()));
  for (const dir of [path.join(www, 'run'), runtime]) {
    await mkdir(dir, { recursive: true });
    await chown(dir, owner.uid, owner.gid);
  }
  return apps;
}
