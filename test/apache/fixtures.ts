/** Site objects for the Apache tests, built directly (every path under one root). */
import path from 'node:path';
import type { Site } from '../../src/site/types.js';
import type { WsgiApp } from '../../src/apache/render.js';

export interface SiteOptions {
  listen?: { host: string; port: number };
  user?: string;
  group?: string;
  httpd?: string;
  modulesDir?: string;
  eups?: Site['apache']['eups'];
  pythonHome?: string;
  healthTimeout?: number;
  logSize?: string;
  logFiles?: number;
}

/** A sandbox site under root: root/www, root/dbwebtools, root/local/web_logs, as `init --prefix`. */
export function makeSite(root: string, o: SiteOptions = {}): Site {
  const www = path.join(root, 'www');
  const products = path.join(root, 'dbwebtools');
  const modulesDir = o.modulesDir ?? '/usr/lib/apache2/modules';
  return {
    file: path.join(root, 'webtree.yaml'),
    paths: {
      www,
      html: path.join(www, 'html'),
      products,
      webpylib: path.join(products, 'webpylib'),
      runtime: path.join(root, 'local', 'web_logs'),
      state: path.join(www, 'state'),
      switch: path.join(www, 'servers'),
    },
    apache: {
      listen: o.listen ?? { host: '127.0.0.1', port: 8080 },
      serverName: 'localhost',
      serverAdmin: 'codemanager@localhost',
      user: o.user ?? 'codemanager',
      group: o.group ?? 'sispi',
      httpd: o.httpd ?? '/usr/sbin/apache2',
      modulesDir,
      wsgiModule: path.join(modulesDir, 'mod_wsgi.so'),
      pythonHome: o.pythonHome,
      eups: o.eups,
      healthTimeout: o.healthTimeout ?? 5,
      wsgi: { processes: 2, gracefulTimeout: 35, shutdownTimeout: 35 },
      rotatelogs: '/usr/bin/rotatelogs',
    },
    database: {
      name: 'decam_prd',
      user: 'decam_reader',
      active: 'server3',
      servers: [
        { name: 'server3', host: 'server3.ctio.noao.edu', port: 5442 },
        { name: 'server2', host: 'server2.ctio.noao.edu', port: 5442 },
      ],
      connectTimeout: 5,
    },
    ecl: { enabled: false, dir: path.join(www, 'wsgi', 'ECL', 'decam') },
    limits: { maxBytes: 1 << 30, maxEntries: 100_000, maxDepth: 64, maxRatio: 200 },
    logs: { size: o.logSize ?? '20M', files: o.logFiles ?? 10 },
    watch: { page: path.join(www, 'html', 'webtree', 'index.html'), minFreeMiB: 1, minFreePercent: 1, mail: {} },
    probes: {},
    fetch: { connectTimeout: 10, idleTimeout: 30, retries: 4, maxBytes: 2 * 1024 ** 3 },
  };
}

/** The app as the catalog would give it: served through html/<link>, script at its top. */
export function makeApp(site: Site, name: string, mount: string, link: string, script: string): WsgiApp {
  const dir = path.join(site.paths.html, link);
  return { name, mount, dir, script: path.join(dir, script) };
}
