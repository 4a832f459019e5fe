/**
 * A tree laid out by hand the way sispi-database-guide's "Database Web Viewers" describes it,
 * under one temp dir, plus the site file and state dir that `webtree init` (production, no
 * --prefix) would have added. By default it is the guide's own listing: QE_decam.cfg ->
 * QE_decam.cfg_server3 with only QE_decam.cfg_server2 beside it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { siteYaml } from '../../src/site/write.js';
import { DEFAULT_SERVERS } from '../../src/site/schema.js';
import type { DbServer } from '../../src/site/types.js';
import { ensureServiceAccount } from '../helpers/service-account.js';

export interface HandTreeOptions {
  /** Put QE_decam.cfg_server3 in place (the guide's listing lacks it). */
  qeServer3?: boolean;
  /** Server each cfg link names, by cfg name (default server3). */
  cfgServer?: Record<string, string>;
  /** Which settings.py variant the hand renaming left missing (default server3: settings.py is server3's). */
  eclMissing?: string | null;
  /** The site file's database servers (default: loopback, port 1, where nothing listens: adopt's database question is refused at once, never sent off this host). */
  servers?: DbServer[];
}

export const CFGS = ['constants.cfg', 'des_alarms.cfg', 'des_tv.cfg', 'QE_decam.cfg'];
export const cfgText = (server: string, name: string) =>
  `[database]\n# ${name}\nserver = ${server}\nhost = ${server}.ctio.noao.edu\nport = 5442\ndbname = decam_prd\n`;
export const eclText = (server: string) =>
  `DATABASE_SERVER = '${server}'\nDATABASES = {'default': {'HOST': '${server}.ctio.noao.edu', 'PASSWORD': 'not-for-others'}}\n`;

/** On the host the files belong to the service account (the apps read them as it, the 0600 ones too). */
const owner = process.getuid?.() === 0 ? await ensureServiceAccount() : undefined;

/** mkdir -p, each directory made given to the account: it owns the tree's directories on the host too. */
async function dirs(p: string): Promise<void> {
  const first = await fs.mkdir(p, { recursive: true });
  if (!first || !owner) return;
  for (let d = p; d.length >= first.length; d = path.dirname(d)) await fs.chown(d, owner.uid, owner.gid);
}

async function file(p: string, content: string, mode = 0o644): Promise<void> {
  await dirs(path.dirname(p));
  await fs.writeFile(p, content, { mode });
  await fs.chmod(p, mode);
  if (owner) await fs.chown(p, owner.uid, owner.gid);
}

async function link(p: string, target: string): Promise<void> {
  await dirs(path.dirname(p));
  await fs.symlink(target, p);
  if (owner) await fs.lchown(p, owner.uid, owner.gid);
}

export async function handTree(dir: string, o: HandTreeOptions = {}): Promise<{ config: string }> {
  // The service account must reach the tree (root's webtree works in it as that account).
  await fs.chmod(dir, 0o755);
  const www = path.join(dir, 'www');
  const html = path.join(www, 'html');
  const prod = path.join(dir, 'dbwebtools');
  const pylib = path.join(prod, 'webpylib');
  await file(path.join(html, 'robots.txt'), 'User-agent: *\nDisallow: /\n');

  // html/cfg: one file per server, the consumer a relative link to the active one.
  for (const cfg of CFGS) {
    const server = o.cfgServer?.[cfg] ?? 'server3';
    await file(path.join(html, 'cfg', `${cfg}_server2`), cfgText('server2', cfg));
    if (cfg !== 'QE_decam.cfg' || o.qeServer3)
      await file(path.join(html, 'cfg', `${cfg}_server3`), cfgText('server3', cfg));
    await link(path.join(html, 'cfg', cfg), `${cfg}_${server}`);
  }

  // ECL: settings.py is a plain file (0600: it holds a password); the variant renamed into it is missing.
  const ecl = path.join(www, 'wsgi', 'ECL', 'decam');
  const missing = o.eclMissing === undefined ? 'server3' : o.eclMissing;
  const eclActive = missing ?? 'server3';
  await file(path.join(ecl, 'settings.py'), eclText(eclActive), 0o600);
  await file(path.join(ecl, 'ecl.wsgi'), '# ECL\n');
  for (const s of ['server2', 'server3'])
    if (s !== missing) await file(path.join(ecl, `settings.py_${s}`), eclText(s), 0o600);

  // Products: version dirs and `current` links, no manifests; html links absolute, as in the guide.
  await file(path.join(prod, 'tv', '3.3a', 'product', 'tv.wsgi'), '# TV 3.3a\n');
  await file(path.join(prod, 'tv', '3.3b', 'product', 'tv.wsgi'), '# TV 3.3b\n');
  await link(path.join(prod, 'tv', 'current'), '3.3a');
  await file(path.join(prod, 'ConstantsDB', '1.5d', 'ConstantsDB.wsgi'), '# ConstantsDB 1.5d\n');
  await link(path.join(prod, 'ConstantsDB', 'current'), '1.5d');
  await file(path.join(prod, 'des_alarms', '1.1', 'product', 'alarms.wsgi'), '# AV 1.1\n');
  await link(path.join(prod, 'des_alarms', 'current'), '1.1');
  await file(path.join(prod, 'QEngine', '2.1', 'QE.wsgi'), '# QE 2.1\n');
  await link(path.join(prod, 'QEngine', 'current'), path.join(prod, 'QEngine', '2.1')); // spelled absolute by hand
  await link(path.join(html, 'AV'), path.join(prod, 'des_alarms', 'current', 'product'));
  await link(path.join(html, 'ConstantsDB'), path.join(prod, 'ConstantsDB', 'current'));
  await link(path.join(html, 'TV'), path.join(prod, 'tv', 'current', 'product'));
  await link(path.join(html, 'QE', 'DECam'), path.join(prod, 'QEngine', 'current'));
  await file(path.join(pylib, 'dbiapp_pylib_v1_4a', 'lib', 'dbiapp.py'), '# dbiapp\n');
  await link(path.join(pylib, 'dbiapp_pylib'), 'dbiapp_pylib_v1_4a/lib');
  await file(path.join(pylib, 'wsgi_py_v1_5a', 'lib', 'wsgi_py.py'), '# wsgi_py\n');
  await link(path.join(pylib, 'wsgi_py'), 'wsgi_py_v1_5a/lib');
  for (const [n, t] of [
    ['pychartdir.py', '# cd\n'],
    ['__init__.py', 'from pychartdir import *\n'],
    ['chartdir.lic', 'licence\n'],
  ])
    await file(path.join(pylib, 'ChartDirector', n), t);

  // What `webtree init` adds on the host: the site file and webtree's own directories.
  const config = path.join(dir, 'webtree.yaml');
  const values = {
    'paths.www': www,
    'paths.products': prod,
    'paths.runtime': path.join(dir, 'local', 'web_logs'),
    'apache.listen': '127.0.0.1:8080',
  };
  const servers = o.servers ?? DEFAULT_SERVERS.map((srv) => ({ ...srv, host: '127.0.0.1', port: 1 }));
  await fs.writeFile(config, siteYaml(values, servers, 'hand-laid tree for the adopt tests'));
  for (const d of [path.join(www, 'state', 'manifests'), path.join(www, 'servers')]) await dirs(d);
  return { config };
}

/** Every path a reader opens, for the reader loop: cfg consumers, ECL's settings.py, files behind the web links. */
export function readerPaths(dir: string): string[] {
  const html = path.join(dir, 'www', 'html');
  return [
    ...CFGS.map((c) => path.join(html, 'cfg', c)),
    path.join(dir, 'www', 'wsgi', 'ECL', 'decam', 'settings.py'),
    path.join(html, 'TV', 'tv.wsgi'),
    path.join(html, 'AV', 'alarms.wsgi'),
    path.join(html, 'ConstantsDB', 'ConstantsDB.wsgi'),
    path.join(html, 'QE', 'DECam', 'QE.wsgi'),
    path.join(dir, 'dbwebtools', 'webpylib', 'dbiapp_pylib', 'dbiapp.py'),
  ];
}
