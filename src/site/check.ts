/**
 * The site file's settings, checked and normalised from its parsed value. No YAML here: the
 * full parser (site/load.ts, the yaml package) and the fast one for the plain files init writes
 * (site/simple-yaml.ts) both end here, each with its own way to find a key's line.
 */
import path from 'node:path';
import { DEFAULT_SERVERS, PROBES_KEY, SERVERS_KEY, SETTINGS, type Setting } from './schema.js';
import type { DbServer, Probe, Site } from './types.js';

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

/** The line of a key ("database", "servers", 1), when the parser that read the file knows it. */
export type KeyLine = (keyPath: (string | number)[]) => number | undefined;

/** Validate and normalise the parsed file. Returns problems instead of throwing so every one is reported at once. */
export function checkSite(parsed: unknown, file: string, lineOf: KeyLine): { site?: Site; problems: SiteProblem[] } {
  const problems: SiteProblem[] = [];
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { problems: [{ key: '(top)', line: 1, message: 'the site file must be a mapping of settings' }] };
  const raw = parsed as Record<string, unknown>;

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
  const where = (key: string) => lineOf(key.split('.'));

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
  // The two nested mappings: only their own keys, each unknown one named with its line.
  const closedMapping = (key: string, allowed: string[], shape: string) => {
    const v = get(key);
    if (v === undefined || v === null) return;
    if (typeof v !== 'object' || Array.isArray(v)) {
      problems.push({ key, line: where(key), message: `must be a mapping with ${shape}` });
      return;
    }
    for (const k of Object.keys(v))
      if (!allowed.includes(k))
        problems.push({ key: `${key}.${k}`, line: where(`${key}.${k}`), message: `unknown key "${key}.${k}"` });
  };
  closedMapping('apache.eups', ['setups', 'products'], 'setups and products');
  closedMapping('watch.mail', ['to', 'from', 'smtp'], 'to, from and smtp');
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
  const servers = readServers(get(SERVERS_KEY), lineOf, problems);
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

function readServers(v: unknown, lineOf: KeyLine, problems: SiteProblem[]): DbServer[] {
  if (v === undefined || v === null) return DEFAULT_SERVERS.map((s) => ({ ...s }));
  const line = (i?: number) => lineOf(i === undefined ? ['database', 'servers'] : ['database', 'servers', i]);
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
