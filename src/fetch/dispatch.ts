/**
 * The undici dispatcher a download goes through: connect and idle timeouts, the system CA
 * certificates plus NODE_EXTRA_CA_CERTS and the site's fetch.caFile, and a proxy from
 * HTTPS_PROXY / HTTP_PROXY unless NO_PROXY names the host (as curl reads them).
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import tls from 'node:tls';
import { Agent, ProxyAgent, type Dispatcher } from './undici.js';
import { WebtreeError } from '../core/errors.js';
import { withRoot } from '../core/privilege.js';
import type { Site } from '../site/types.js';

/** The operator's file, read with the ids of who ran webtree (one synchronous read), not the service account's. */
function readCa(file: string, what: string): string {
  try {
    return withRoot(() => readFileSync(file, 'utf8'));
  } catch (err) {
    throw new WebtreeError(
      'EFETCH',
      `cannot read the CA certificates of ${what} (${file}): ${(err as Error).message}`,
      { hint: 'give a readable PEM file; nothing was changed' },
    );
  }
}

/**
 * The NODE_EXTRA_CA_CERTS Node itself read as this process started (as whoever ran webtree):
 * those certificates are in Node's default store already, which every connection without a
 * `ca` of its own uses. Listing them again costs ~25-40 ms of CPU per fetch (the ~140 system
 * certificates turned into text and parsed back), a tenth of curl's whole download here.
 */
const STARTUP_EXTRA_CA = process.env.NODE_EXTRA_CA_CERTS;

/** The system's CAs and the extra ones (undici's `ca` replaces the defaults, so they are listed too); undefined: the defaults do. */
function caList(site: Site, env: NodeJS.ProcessEnv): string[] | undefined {
  const nodeExtra = env.NODE_EXTRA_CA_CERTS;
  if (nodeExtra && nodeExtra === STARTUP_EXTRA_CA && !site.fetch.caFile) {
    // Node only warns when it cannot read the file: said here as when it is read below.
    try {
      withRoot(() => accessSync(nodeExtra, constants.R_OK));
    } catch {
      readCa(nodeExtra, 'NODE_EXTRA_CA_CERTS');
    }
    return undefined;
  }
  const extra: string[] = [];
  if (nodeExtra) extra.push(readCa(nodeExtra, 'NODE_EXTRA_CA_CERTS'));
  if (site.fetch.caFile) extra.push(readCa(site.fetch.caFile, 'fetch.caFile'));
  return extra.length ? [...tls.rootCertificates, ...extra] : undefined;
}

/** NO_PROXY: "*", or host names, ".domain" suffixes and host:port, separated by commas or spaces. */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/).filter(Boolean)) {
    if (raw === '*') return true;
    const [h, p] = raw
      .toLowerCase()
      .replace(/^\*?\./, '.')
      .split(/:(?=\d+$)/);
    if (p !== undefined && p !== port) continue;
    if (h.startsWith('.') ? host.endsWith(h) || host === h.slice(1) : host === h || host.endsWith(`.${h}`)) return true;
  }
  return false;
}

export function proxyFor(url: URL, env: NodeJS.ProcessEnv): string | undefined {
  if (bypassesProxy(url, env.no_proxy ?? env.NO_PROXY)) return undefined;
  const http = env.http_proxy ?? env.HTTP_PROXY;
  return url.protocol === 'https:' ? (env.https_proxy ?? env.HTTPS_PROXY ?? http) : http;
}

export interface Dispatchers {
  /** The dispatcher for a URL: a proxy's, or the direct one when the environment says so. */
  for(url: string): Dispatcher;
  close(): Promise<void>;
}

/** The dispatchers of one fetch: picked per request, as a redirect may lead to another host. */
export function dispatchersFor(site: Site, env: NodeJS.ProcessEnv): Dispatchers {
  const ca = caList(site, env);
  const timeout = site.fetch.connectTimeout * 1000;
  // One secure context for every connection of the fetch: given as `ca`, each connection (a
  // resume, a redirect) would parse the ~150 certificates again (~60 ms each, measured).
  const tlsOpts = { timeout, ...(ca ? { secureContext: tls.createSecureContext({ ca }) } : {}) };
  const direct = new Agent({ connect: tlsOpts });
  const proxies = new Map<string, ProxyAgent>();
  return {
    for(url) {
      const proxy = proxyFor(new URL(url), env);
      if (proxy === undefined) return direct;
      let a = proxies.get(proxy);
      if (!a) {
        // Credentials in the proxy URL are the proxy's own (HTTPS_PROXY=http://user:pass@host); undici sends them.
        a = new ProxyAgent({ uri: proxy, requestTls: tlsOpts, proxyTls: tlsOpts, connect: tlsOpts });
        proxies.set(proxy, a);
      }
      return a;
    },
    close: async () => {
      await Promise.all([direct.close(), ...[...proxies.values()].map((p) => p.close())]);
    },
  };
}
