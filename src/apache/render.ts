/**
 * The Apache tree as data: (site, WSGI apps, template texts) -> files with content and mode.
 * Pure: no fs, no clock, so `render --diff` and the tests run it in memory, and the same input
 * always gives the same bytes (no timestamps in headers).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type Ejs from 'ejs';
import { WebtreeError } from '../core/errors.js';
import { PACKAGE_ROOT } from '../core/package-root.js';
import type { Site } from '../site/types.js';
import { apacheLayout, appConfFile } from '../plan/apache-layout.js';
import type { RenderedFile } from '../plan/render.js';
import { DENIED_FILE_RE, DENIED_URL_RE, deniedDirs } from './deny.js';
import { apacheQuote, cronWord, pipeWord, shellQuote, systemdArg, systemdText } from './quote.js';
import { checkTemplateSyntax } from './template-syntax.js';

export interface WsgiApp {
  /** Process group, conf.d file name and display name: TV, ConstantsDB, AV, QE, ECL. */
  name: string;
  /** URL path Apache mounts the app at: /TV, /QE/DECam. */
  mount: string;
  /** The directory served through the web link (absolute). */
  dir: string;
  /** The .wsgi script (absolute). */
  script: string;
}

// The planner that compares them with the live files owns the type; render makes them.
export type { RenderedFile };

/** Template names, each conf-templates/<name>.ejs. */
export const TEMPLATE_NAMES = [
  'httpd.conf',
  'app.conf',
  'robots.txt',
  'runApache.sh',
  'init.d-httpd',
  'webtree-httpd.service',
  'webtree-check.service',
  'webtree-check.timer',
  'webtree-check.cron',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** Modules httpd.conf loads, by Apache module id and file under modulesDir. */
const MODULES: [string, string][] = [
  ['mpm_event_module', 'mod_mpm_event.so'], // mod_wsgi daemon mode works with event; no prefork needed
  ['unixd_module', 'mod_unixd.so'],
  ['authz_core_module', 'mod_authz_core.so'],
  ['mime_module', 'mod_mime.so'],
  ['dir_module', 'mod_dir.so'],
  ['alias_module', 'mod_alias.so'],
  ['log_config_module', 'mod_log_config.so'],
];

/** How the timer and cron run webtree: this node and this installation's bin/webtree.js. */
export interface WebtreeCommand {
  node: string;
  script: string;
}

export const thisWebtree = (): WebtreeCommand => ({
  node: process.execPath,
  script: path.posix.join(PACKAGE_ROOT, 'bin', 'webtree.js'),
});

export function renderTree(
  site: Site,
  apps: WsgiApp[],
  templates: Record<string, string>,
  webtree: WebtreeCommand = thisWebtree(),
): RenderedFile[] {
  checkInputs(site, apps);
  const layout = apacheLayout(site);
  const { webpylib, html } = site.paths;
  const common = {
    site,
    layout,
    apps: [...apps].sort((a, b) => a.name.localeCompare(b.name)),
    listen: listenArg(site.apache.listen),
    denied: { dirs: deniedDirs(site), files: DENIED_FILE_RE, urls: DENIED_URL_RE },
    modules: [
      ...MODULES.map(([id, file]) => ({ id, file: path.posix.join(site.apache.modulesDir, file) })),
      { id: 'wsgi_module', file: site.apache.wsgiModule },
    ],
    // What the guide's runApache.sh put on PYTHONPATH; per daemon process here.
    pythonPath: [webpylib, path.posix.join(webpylib, 'dbiapp_pylib'), html].join(':'),
    // A restart lets requests in flight finish (a 30-second report) while another process serves.
    wsgiLifetime: `processes=${site.apache.wsgi.processes} graceful-timeout=${site.apache.wsgi.gracefulTimeout} shutdown-timeout=${site.apache.wsgi.shutdownTimeout}`,
    errorLogPipe: logPipe(site, layout.errorLog, path.posix.join(layout.logDir, 'error_log')),
    accessLogPipe: logPipe(site, layout.accessLog, path.posix.join(layout.logDir, 'access_log')),
    checkArgv: [webtree.node, webtree.script, '--config', site.file, 'check'],
    q: apacheQuote,
    cron: cronWord,
    sh: shellQuote,
    sdArg: systemdArg,
    sdText: systemdText,
  };
  const one = (file: string, name: TemplateName, mode: number, extra: object = {}): RenderedFile => ({
    path: file,
    content: renderOne(templates, name, { ...common, ...extra }),
    mode,
  });
  return [
    one(layout.confFile, 'httpd.conf', 0o644),
    ...common.apps.map((app) => one(appConfFile(layout, app.name), 'app.conf', 0o644, { app })),
    one(layout.robots, 'robots.txt', 0o644),
    one(layout.runApache, 'runApache.sh', 0o755),
    one(layout.initScript, 'init.d-httpd', 0o755),
    one(layout.systemdUnit, 'webtree-httpd.service', 0o644),
    one(layout.checkService, 'webtree-check.service', 0o644),
    one(layout.checkTimer, 'webtree-check.timer', 0o644),
    one(layout.checkCron, 'webtree-check.cron', 0o644),
  ];
}

// EJS is required at the first render, not at start-up: every changing command can reach this
// module through the checks after a change, and most never render.
let ejsLib: typeof Ejs | undefined;
const loadEjs = (): typeof Ejs => (ejsLib ??= createRequire(import.meta.url)('ejs') as typeof Ejs);

function renderOne(templates: Record<string, string>, name: TemplateName, data: object): string {
  const text = templates[name];
  if (text === undefined) {
    throw new WebtreeError('ERENDER', `template ${name}.ejs is missing`, {
      hint: 'reinstall webtree: conf-templates/ must hold every template',
    });
  }
  // Before EJS sees it: a stray %> would vanish from the output without an error.
  checkTemplateSyntax(`conf-templates/${name}.ejs`, text);
  const header = `generated by webtree from conf-templates/${name}.ejs; do not edit: \`webtree render\` writes it from the site file`;
  try {
    return loadEjs().render(
      text,
      { ...data, header },
      {
        filename: `conf-templates/${name}.ejs`,
        // `<%=` would HTML-escape; the files need the quoting of their own syntax instead.
        escape: () => {
          throw new Error('use <%- with a quoting helper (q, sh, sdArg, sdText), not <%=');
        },
      },
    );
  } catch (err) {
    throw new WebtreeError('ERENDER', `template ${name}.ejs failed to render`, {
      details: err instanceof Error ? err.message : String(err),
      hint: 'fix the template in conf-templates/ and run webtree render again',
      cause: err,
    });
  }
}

/**
 * Apache's own rotatelogs, so that rotating needs no restart: -n cycles through a bounded set of
 * files in logDir, -L keeps `link` a hard link to the one being written (the stable name
 * excerpts and operators read), -f opens it at start, -D makes logDir when it is missing.
 */
function logPipe(site: Site, link: string, base: string): string {
  const { size, interval, files } = site.logs;
  // rotatelogs reads the file name (not the link's) as a strftime format: %% is a plain %.
  const argv = [
    site.apache.rotatelogs,
    '-f',
    '-D',
    '-L',
    link,
    '-n',
    String(files),
    base.replace(/%/g, '%%'),
    ...(interval ? [String(interval)] : []),
    size,
  ];
  return apacheQuote(`|${argv.map(pipeWord).join(' ')}`);
}

function listenArg(listen: Site['apache']['listen']): string {
  const { host, port } = listen;
  if (host === '' || host === '*') return String(port);
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * What no quoting can make safe: control characters (a newline starts a new directive), `${`
 * (Apache expands ${VAR} in every line, quoted or not), `:` inside a python-path entry (the
 * separator), and names that become file names and process groups.
 */
function checkInputs(site: Site, apps: WsgiApp[]): void {
  const bad = (what: string, value: string, why: string): never => {
    throw new WebtreeError('ERENDER', `${what} ${JSON.stringify(value)} ${why}`, {
      hint: 'correct it in the site file or the product catalog',
    });
  };
  const text = (what: string, value: string) => {
    if (/[\u0000-\u001f\u007f]/.test(value)) bad(what, value, 'holds a control character');
    if (value.includes('${')) bad(what, value, 'holds "${", which Apache would expand');
  };
  const abs = (what: string, value: string) => {
    text(what, value);
    if (!path.posix.isAbsolute(value)) bad(what, value, 'is not an absolute path');
  };
  for (const [key, value] of Object.entries(site.paths)) abs(`paths.${key}`, value);
  abs('apache.rotatelogs', site.apache.rotatelogs);
  if (!/^[1-9][0-9]*[BKMG]$/.test(site.logs.size)) bad('logs.size', site.logs.size, 'is not a size like 20M');
  for (const key of ['httpd', 'modulesDir', 'wsgiModule', 'pythonHome'] as const) {
    const value = site.apache[key];
    if (value !== undefined) abs(`apache.${key}`, value);
  }
  if (site.apache.eups) {
    abs('apache.eups.setups', site.apache.eups.setups);
    for (const p of site.apache.eups.products) if (!NAME.test(p)) bad('eups product', p, 'is not a plain name');
  }
  for (const key of ['serverName', 'serverAdmin'] as const) text(`apache.${key}`, site.apache[key]);
  for (const key of ['user', 'group'] as const)
    if (!NAME.test(site.apache[key])) bad(`apache.${key}`, site.apache[key], 'is not a plain name');
  const { host, port } = site.apache.listen;
  if (!/^[A-Za-z0-9.:[\]*-]*$/.test(host)) bad('apache.listen host', host, 'is not a host name or address');
  if (!Number.isInteger(port) || port < 1 || port > 65535) bad('apache.listen port', String(port), 'is not a port');
  for (const p of [site.paths.webpylib, site.paths.html])
    if (p.includes(':')) bad('python-path entry', p, 'holds ":", the python-path separator');
  const seen = new Set<string>();
  for (const app of apps) {
    if (!NAME.test(app.name)) bad('WSGI app name', app.name, 'is not a plain name');
    text(`mount of ${app.name}`, app.mount);
    if (!app.mount.startsWith('/')) bad(`mount of ${app.name}`, app.mount, 'does not start with /');
    abs(`directory of ${app.name}`, app.dir);
    abs(`script of ${app.name}`, app.script);
    for (const key of [app.name.toLowerCase(), app.mount]) {
      if (seen.has(key)) bad('WSGI app', app.name, `is listed twice (${key})`);
      seen.add(key);
    }
  }
}
