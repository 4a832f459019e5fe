import path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { WebtreeError } from '../core/errors.js';
import { readStateText } from '../core/state-file.js';
import { DEFAULT_SERVERS, PROBES_KEY, SERVERS_KEY, SETTINGS, type Setting } from './schema.js';
import type { DbServer, Probe, Site } from './types.js';

export const PRODUCTION_SITE_FILE = '/usr/remote/software/www/webtree.yaml';

/**
 * Which site file, for every command (init writes it, the others read it): --config, then
 * (init only) --prefix's DIR/webtree.yaml, then $WEBTREE_CONFIG, then the production layout's
 * <www>/webtree.yaml. What is given on the command line wins over the environment: a
 * WEBTREE_CONFIG left exported from an earlier sandbox must not send `init --prefix NEW`'s site
 * file into the old one.
 */
export function siteFilePath(
  config: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  prefix?: string,
): string {
  // An empty value would resolve to the working directory: said as what it is, not "EISDIR".
  if (config === '')
    throw new WebtreeError('ESITE', '--config was given an empty file name', {
      hint: 'give the site file: --config FILE',
    });
  if (config !== undefined) return path.resolve(config);
  if (prefix !== undefined) return path.join(path.resolve(prefix), 'webtree.yaml');
  if (env.WEBTREE_CONFIG === '') {
    throw new WebtreeError('ESITE', 'WEBTREE_CONFIG is set but empty', {
      hint: `set it to the site file (export WEBTREE_CONFIG=FILE), or unset it to use ${PRODUCTION_SITE_FILE}`,
    });
  }
  return path.resolve(env.WEBTREE_CONFIG ?? PRODUCTION_SITE_FILE);
}

export interface SiteProblem {
  key: string;
  line?: number;
  message: string;
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;

/** Why a value does not fit its setting, or undefined. Newlines and control characters never fit. */
export function valueProblem(s: Setting, v: unknown): string | undefined {
  switch (s.type) {
    case 'int':
      return Number.isSafeInteger(v) && (v as number) > 0 ? undefined : 'must be a positive whole number';
    case 'bool':
      return typeof v === 'boolean' ? undefined : 'must be true or false';
    case 'percent':
      return Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 100
        ? undefined
        : 'must be a whole number from 0 to 100';
    case 'names':
      return Array.isArray(v) && v.every((x) => typeof x === 'string' && NAME.test(x))
        ? undefined
        : 'must be a list of plain names';
    default:
      break;
  }
  if (typeof v !== 'string') return 'must be a string';
  if (CONTROL.test(v)) return 'must not hold a newline or control character';
  if (s.type === 'path' && !path.isAbsolute(v)) return `must be an absolute path (got "${v}")`;
  if (s.type === 'path' && v !== '/' && path.normalize(v).replace(/\/$/, '') !== v.replace(/\/$/, ''))
    return `must be a clean path without . or .. (got "${v}")`;
  if (s.type === 'name' && !NAME.test(v))
    return `must be a plain name: letters, digits, ".", "_", "@", "-" (got "${v}")`;
  if (s.type === 'size' && !/^[1-9][0-9]{0,9}[BKMG]$/.test(v))
    return `must be a number and B, K, M or G, like 20M (got "${v}")`;
  if (s.type === 'email' && !/^[^\s@<>"]+@[^\s@<>"]+$/.test(v))
    return `must be a mail address like postgres-status@example.org (got "${v}")`;
  if (s.type === 'listen' && parseListen(v) === undefined) return `must be HOST:PORT with a port 1-65535 (got "${v}")`;
  return undefined;
}

export function parseListen(v: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+|\*):(\d{1,5})$/.exec(v);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1], port } : undefined;
}

/** The line of a key (not of its value: a list's value starts on the next line). */
function lineOf(doc: Document, lc: LineCounter, keyPath: (string | number)[]): number | undefined {
  const last = keyPath[keyPath.length - 1];
  const parent = keyPath.length > 1 ? doc.getIn(keyPath.slice(0, -1), true) : doc.contents;
  if (typeof last === 'string' && isMap(parent)) {
    const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === last);
    const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lc.linePos(range[0]).line;
  }
  const node = doc.getIn(keyPath, true) as { range?: [number, number, number] } | undefined;
  return node?.range ? lc.linePos(node.range[0]).line : undefined;
}

/** Validate and normalise parsed YAML. Returns problems instead of throwing so every one is reported at once. */
export function readSite(text: string, file: string): { site?: Site; problems: SiteProblem[] } {
  const lc = new LineCounter();
  const problems: SiteProblem[] = [];
  let doc: Document;
  let raw: Record<string, unknown>;
  try {
    doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
    for (const e of doc.errors)
      problems.push({ key: '(yaml)', line: e.linePos?.[0]?.line, message: e.message.split('\n')[0] });
    if (problems.length) return { problems };
    // toJS throws on alias bombs (ReferenceError) and the parser on nesting too deep for the stack (RangeError).
    raw = (doc.toJS({ maxAliasCount: 100 }) ?? {}) as Record<string, unknown>;
  } catch (err) {
    return {
      problems: [
        { key: '(yaml)', message: `cannot be read as YAML: ${String((err as Error)?.message ?? err).split('\n')[0]}` },
      ],
    };
  }
  if (typeof raw !== 'object' || Array.isArray(raw))
    return { problems: [{ key: '(top)', line: 1, message: 'the site file must be a mapping of settings' }] };

  const sections = new Map<string, Set<string>>();
  for (const s of SETTINGS) {
    const [sec, ...rest] = s.key.split('.');
    if (!sections.has(sec)) sections.set(sec, new Set());
    sections.get(sec)!.add(rest[0]);
  }
  sections.get('database')!.add('servers');
  sections.set(PROBES_KEY, new Set());
  const get = (key: string): unknown =>
    key
      .split('.')
      .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), raw);
  const where = (key: string) => lineOf(doc, lc, key.split('.'));

  for (const [sec, val] of Object.entries(raw)) {
    if (!sections.has(sec)) {
      problems.push({ key: sec, line: where(sec), message: `unknown key "${sec}"` });
      continue;
    }
    if (val === null || typeof val !== 'object' || Array.isArray(val)) {
      problems.push({ key: sec, line: where(sec), message: 'must be a mapping' });
      continue;
    }
    if (sec === PROBES_KEY) continue;
    for (const k of Object.keys(val)) {
      if (!sections.get(sec)!.has(k))
        problems.push({ key: `${sec}.${k}`, line: where(`${sec}.${k}`), message: `unknown key "${sec}.${k}"` });
    }
  }
  const eups = get('apache.eups');
  if (eups !== undefined && eups !== null) {
    if (typeof eups !== 'object' || Array.isArray(eups))
      problems.push({
        key: 'apache.eups',
        line: where('apache.eups'),
        message: 'must be a mapping with setups and products',
      });
    else
      for (const k of Object.keys(eups))
        if (k !== 'setups' && k !== 'products')
          problems.push({
            key: `apache.eups.${k}`,
            line: where(`apache.eups.${k}`),
            message: `unknown key "apache.eups.${k}"`,
          });
  }

  const mail = get('watch.mail');
  if (mail !== undefined && mail !== null) {
    if (typeof mail !== 'object' || Array.isArray(mail))
      problems.push({
        key: 'watch.mail',
        line: where('watch.mail'),
        message: 'must be a mapping with to, from and smtp',
      });
    else
      for (const k of Object.keys(mail))
        if (!['to', 'from', 'smtp'].includes(k))
          problems.push({
            key: `watch.mail.${k}`,
            line: where(`watch.mail.${k}`),
            message: `unknown key "watch.mail.${k}"`,
          });
  }
  const probes = readProbes(get(PROBES_KEY), where, problems);

  const values = new Map<string, unknown>();
  for (const s of SETTINGS) {
    const v = get(s.key);
    if (v === undefined || v === null) {
      values.set(s.key, s.default);
      continue;
    }
    const p = valueProblem(s, v);
    if (p) problems.push({ key: s.key, line: where(s.key), message: p });
    values.set(s.key, v);
  }
  const servers = readServers(get(SERVERS_KEY), doc, lc, problems);
  if (problems.length) return { problems };
  const site = normalise(values, servers, probes, file);
  if (!site.database.servers.some((s) => s.name === site.database.active)) {
    problems.push({
      key: 'database.active',
      line: where('database.active'),
      message: `"${site.database.active}" is not one of database.servers (${site.database.servers.map((s) => s.name).join(', ')})`,
    });
  }
  return problems.length ? { problems } : { site, problems };
}

function readServers(v: unknown, doc: Document, lc: LineCounter, problems: SiteProblem[]): DbServer[] {
  if (v === undefined || v === null) return DEFAULT_SERVERS.map((s) => ({ ...s }));
  const line = (i?: number) => lineOf(doc, lc, i === undefined ? ['database', 'servers'] : ['database', 'servers', i]);
  if (!Array.isArray(v)) {
    problems.push({ key: SERVERS_KEY, line: line(), message: 'must be a list of {name, host, port}' });
    return [];
  }
  const out: DbServer[] = [];
  v.forEach((s: Record<string, unknown>, i) => {
    const key = `${SERVERS_KEY}[${i}]`;
    if (!s || typeof s !== 'object') {
      problems.push({ key, line: line(i), message: 'must be {name, host, port}' });
      return;
    }
    for (const k of Object.keys(s))
      if (!['name', 'host', 'port'].includes(k))
        problems.push({ key: `${key}.${k}`, line: line(i), message: `unknown key "${k}"` });
    if (typeof s.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(s.name)) {
      problems.push({ key: `${key}.name`, line: line(i), message: 'name must be letters, digits, "_" or "-"' });
      return;
    }
    if (typeof s.host !== 'string' || !/^[A-Za-z0-9.:-]+$/.test(s.host)) {
      problems.push({ key: `${key}.host`, line: line(i), message: 'host must be a host name or address' });
      return;
    }
    if (!Number.isInteger(s.port) || (s.port as number) < 1 || (s.port as number) > 65535) {
      problems.push({ key: `${key}.port`, line: line(i), message: 'port must be 1-65535' });
      return;
    }
    if (out.some((o) => o.name === s.name)) {
      problems.push({ key: `${key}.name`, line: line(i), message: `duplicate server "${s.name}"` });
      return;
    }
    out.push({ name: s.name, host: s.host, port: s.port as number });
  });
  if (out.length < 2 && problems.length === 0)
    problems.push({ key: SERVERS_KEY, line: line(), message: 'list at least two servers (a master and a standby)' });
  return out;
}

/** probes: { PRODUCT: { path: /TV/status, expect: "some text" } }; product names are checked against the catalog by check. */
function readProbes(
  v: unknown,
  where: (key: string) => number | undefined,
  problems: SiteProblem[],
): Record<string, Probe> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    problems.push({
      key: PROBES_KEY,
      line: where(PROBES_KEY),
      message: 'must be a mapping of product names to {path, expect}',
    });
    return {};
  }
  const out: Record<string, Probe> = {};
  for (const [name, p] of Object.entries(v as Record<string, unknown>)) {
    const key = `${PROBES_KEY}.${name}`;
    if (!/^[A-Za-z0-9_-]+$/.test(name)) {
      problems.push({ key, line: where(key), message: 'must be a product name' });
      continue;
    }
    if (!p || typeof p !== 'object' || Array.isArray(p)) {
      problems.push({ key, line: where(key), message: 'must be {path, expect}' });
      continue;
    }
    const probe: Probe = {};
    for (const [k, val] of Object.entries(p as Record<string, unknown>)) {
      const at = { key: `${key}.${k}`, line: where(`${key}.${k}`) };
      if (k !== 'path' && k !== 'expect') problems.push({ ...at, message: `unknown key "${k}" (path, expect)` });
      else if (typeof val !== 'string' || val === '' || CONTROL.test(val))
        problems.push({ ...at, message: 'must be a non-empty string on one line' });
      else if (k === 'path' && (!val.startsWith('/') || /[\s#?]/.test(val.replace(/\?.*$/, ''))))
        problems.push({ ...at, message: `must be a URL path starting with / (got "${val}")` });
      else probe[k] = val;
    }
    out[name] = probe;
  }
  return out;
}

function normalise(
  values: Map<string, unknown>,
  servers: DbServer[],
  probes: Record<string, Probe>,
  file: string,
): Site {
  const str = (k: string) => values.get(k) as string;
  const www = str('paths.www');
  const products = str('paths.products');
  const fill = (k: string) =>
    str(k)
      .replace(/^<www>/, www)
      .replace(/^<products>/, products);
  const setups = values.get('apache.eups.setups') as string | undefined;
  return {
    file,
    paths: {
      www,
      html: fill('paths.html'),
      products,
      webpylib: fill('paths.webpylib'),
      runtime: str('paths.runtime'),
      state: fill('paths.state'),
      switch: fill('paths.switch'),
    },
    apache: {
      listen: parseListen(str('apache.listen'))!,
      serverName: str('apache.serverName'),
      serverAdmin: str('apache.serverAdmin'),
      user: str('apache.user'),
      group: str('apache.group'),
      httpd: str('apache.httpd'),
      modulesDir: str('apache.modulesDir'),
      wsgiModule: str('apache.wsgiModule'),
      pythonHome: values.get('apache.pythonHome') as string | undefined,
      eups: setups ? { setups, products: values.get('apache.eups.products') as string[] } : undefined,
      healthTimeout: values.get('apache.healthTimeout') as number,
      wsgi: {
        processes: values.get('apache.wsgiProcesses') as number,
        gracefulTimeout: values.get('apache.wsgiGracefulTimeout') as number,
        shutdownTimeout: values.get('apache.wsgiShutdownTimeout') as number,
      },
      rotatelogs: str('apache.rotatelogs'),
    },
    database: {
      name: str('database.name'),
      user: str('database.user'),
      active: str('database.active'),
      servers,
      connectTimeout: values.get('database.connectTimeout') as number,
    },
    ecl: { enabled: values.get('ecl.enabled') as boolean, dir: fill('ecl.dir') },
    limits: {
      maxBytes: values.get('limits.maxBytes') as number,
      maxEntries: values.get('limits.maxEntries') as number,
      maxDepth: values.get('limits.maxDepth') as number,
      maxRatio: values.get('limits.maxRatio') as number,
    },
    logs: {
      size: str('logs.size'),
      interval: values.get('logs.interval') as number | undefined,
      files: values.get('logs.files') as number,
    },
    watch: {
      textfile: values.get('watch.textfile') as string | undefined,
      page: str('watch.page').replace(/^<html>/, fill('paths.html')),
      minFreeMiB: values.get('watch.minFreeMiB') as number,
      minFreePercent: values.get('watch.minFreePercent') as number,
      mail: {
        to: values.get('watch.mail.to') as string | undefined,
        from: values.get('watch.mail.from') as string | undefined,
        smtp: values.get('watch.mail.smtp') ? parseListen(str('watch.mail.smtp')) : undefined,
      },
    },
    probes,
    fetch: {
      connectTimeout: values.get('fetch.connectTimeout') as number,
      idleTimeout: values.get('fetch.idleTimeout') as number,
      retries: values.get('fetch.retries') as number,
      maxBytes: values.get('fetch.maxBytes') as number,
      caFile: values.get('fetch.caFile') as string | undefined,
    },
  };
}

/** Read the site file, or refuse with exit 2 naming the key and line of every problem. */
export async function loadSite(file: string): Promise<Site> {
  // A FIFO, /dev/zero, a directory, an empty or binary file: refused by type and size, never read for ever.
  const text = await readStateText(file, {
    what: 'the site file',
    code: 'ESITE',
    maxBytes: 1024 * 1024,
    fix: 'give the site file webtree init wrote (--config FILE or WEBTREE_CONFIG), or write one with: webtree init --prefix DIR',
  });
  if (text === undefined) {
    throw new WebtreeError('ESITE', `site file ${file} does not exist`, {
      hint: 'give --config FILE, set WEBTREE_CONFIG, or create one with: webtree init --prefix DIR',
    });
  }
  const { site, problems } = readSite(text, file);
  if (!site) {
    const lines = problems.map((p) => `  ${file}${p.line ? `:${p.line}` : ''}: ${p.key}: ${p.message}`);
    throw new WebtreeError(
      'ESITE',
      `bad site file ${file} (${problems.length} problem${problems.length > 1 ? 's' : ''})`,
      {
        details: lines.join('\n'),
        hint: 'fix the site file and run the command again; every setting is described in README.md ("The site file") and in the comments `webtree init` writes',
      },
    );
  }
  return site;
}
