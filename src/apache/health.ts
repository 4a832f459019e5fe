/**
 * Does every app answer? One HTTP GET per app mount plus /robots.txt on the site's Listen
 * address, retried briefly while Apache and its mod_wsgi daemons start up.
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

export interface HealthResult {
  url: string;
  /** Answered with a status below 400. */
  ok: boolean;
  status?: number;
  error?: string;
  /** The start of the answer (up to 64 KiB), e.g. for a version check. */
  body?: string;
}

export interface HealthOptions {
  /** How long refused connections and 503s are retried (Apache starting up). Default 5000. */
  retryForMs?: number;
}

const MAX_BODY = 64 * 1024;

export async function checkHealth(site: Site, apps: WsgiApp[], opts: HealthOptions = {}): Promise<HealthResult[]> {
  const host = connectHost(site.apache.listen.host);
  const { port } = site.apache.listen;
  const timeoutMs = site.apache.healthTimeout * 1000;
  const paths = [...apps.map((a) => a.mount), '/robots.txt'];
  return Promise.all(paths.map((p) => probe(host, port, p, timeoutMs, opts.retryForMs ?? 5000)));
}

async function probe(host: string, port: number, urlPath: string, timeoutMs: number, retryForMs: number): Promise<HealthResult> {
  const deadline = Date.now() + retryForMs;
  for (;;) {
    const r = await getOnce(host, port, urlPath, timeoutMs);
    // Not listening yet, or mod_wsgi's daemon not up yet; a timeout has already waited long enough.
    const starting = r.status === 503 || /ECONNREFUSED|ECONNRESET|socket hang up/.test(r.error ?? '');
    if (r.ok || !starting || Date.now() >= deadline) return r;
    await sleep(250);
  }
}

async function getOnce(host: string, port: number, urlPath: string, timeoutMs: number): Promise<HealthResult> {
  // Loaded when a probe is made: status and list import this module's connectHost only.
  const http = await import('node:http');
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${encodeURI(urlPath)}`;
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: encodeURI(urlPath), agent: false, headers: { 'User-Agent': 'webtree-health', Connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_BODY) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => {
        clearTimeout(timer);
        const status = res.statusCode ?? 0;
        resolve({ url, ok: status >= 200 && status < 400, status, body: Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8') });
      });
      res.on('error', (err) => finish(err));
    });
    const finish = (err: Error) => {
      clearTimeout(timer);
      req.destroy();
      resolve({ url, ok: false, error: (err as NodeJS.ErrnoException).code ? `${(err as NodeJS.ErrnoException).code}: ${err.message}` : err.message });
    };
    // One deadline for connect, headers and body alike.
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    req.on('error', finish);
  });
}
