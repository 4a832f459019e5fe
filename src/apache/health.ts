/**
 * Does every app answer? One HTTP GET per app mount plus /robots.txt on the site's Listen
 * address, retried briefly while Apache and its mod_wsgi daemons start up. The GET itself
 * (getPage) is also `webtree check`'s deep probe (src/watch/probe.ts), without the retry.
 */
import type { Site } from '../site/types.js';
import { sleep } from './process.js';
import type { WsgiApp } from './render.js';

/** The host to connect to for a Listen address: a wildcard means "this host". */
export function connectHost(listenHost: string): string {
  if (listenHost === '' || listenHost === '*' || listenHost === '0.0.0.0') return '127.0.0.1';
  if (listenHost === '::' || listenHost === '[::]') return '::1';
  return listenHost.replace(/^\[(.*)\]$/, '$1');
}

/** One GET's answer: the status, or why there was none. */
export interface PageAnswer {
  url: string;
  status?: number;
  error?: string;
  /** The start of the answer (up to `maxBody` bytes), e.g. for a version check or a probe's text. */
  body?: string;
}

export interface HealthResult extends PageAnswer {
  /** Answered with a status below 400. */
  ok: boolean;
}

export interface HealthOptions {
  /** How long refused connections and 503s are retried (Apache starting up). Default 5000. */
  retryForMs?: number;
}

export interface GetOptions {
  /** The User-Agent, so that the access log tells a health check after a change from `webtree check`. */
  agent?: string;
  maxBody?: number;
}

export async function checkHealth(site: Site, apps: WsgiApp[], opts: HealthOptions = {}): Promise<HealthResult[]> {
  const paths = [...apps.map((a) => a.mount), '/robots.txt'];
  return Promise.all(paths.map((p) => probe(site, p, opts.retryForMs ?? 5000)));
}

async function probe(site: Site, urlPath: string, retryForMs: number): Promise<HealthResult> {
  const deadline = Date.now() + retryForMs;
  for (;;) {
    const r = await getPage(site, urlPath);
    const ok = r.status !== undefined && r.status >= 200 && r.status < 400;
    // Not listening yet, or mod_wsgi's daemon not up yet; a timeout has already waited long enough.
    const starting = r.status === 503 || /ECONNREFUSED|ECONNRESET|socket hang up/.test(r.error ?? '');
    if (ok || !starting || Date.now() >= deadline) return { ...r, ok };
    await sleep(250);
  }
}

/**
 * One GET of a path on the site's Listen address, no retry: the one HTTP probe of the apps, for
 * the health check after a change and for `webtree check`'s deep probes alike.
 */
export async function getPage(site: Site, urlPath: string, opts: GetOptions = {}): Promise<PageAnswer> {
  // Loaded when a probe is made: status and list import this module's connectHost only.
  const http = await import('node:http');
  const host = connectHost(site.apache.listen.host);
  const { port } = site.apache.listen;
  const timeoutMs = site.apache.healthTimeout * 1000;
  const maxBody = opts.maxBody ?? 64 * 1024;
  const reqPath = encodeURI(urlPath);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${reqPath}`;
  return new Promise((resolve) => {
    const headers = { 'User-Agent': opts.agent ?? 'webtree-health', Connection: 'close' };
    const req = http.get({ host, port, path: reqPath, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < maxBody) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          url,
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).subarray(0, maxBody).toString('utf8'),
        });
      });
      res.on('error', (err) => finish(err));
    });
    const finish = (err: Error) => {
      clearTimeout(timer);
      req.destroy();
      const code = (err as NodeJS.ErrnoException).code;
      resolve({ url, error: code ? `${code}: ${err.message}` : err.message });
    };
    // One deadline for connect, headers and body alike.
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    req.on('error', finish);
  });
}
