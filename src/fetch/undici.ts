/**
 * The parts of undici a download uses, loaded by their own files. undici's index.js loads all it
 * has (fetch, WebSocket, EventSource, mocks, caches, interceptors): ~165 ms of CPU before the
 * first byte of every fetch, against ~60 for these from node_modules and ~45 bundled into the
 * fetch's chunk (scripts/bundle.mjs; docs/benchmarks.md, "Fetch"). The paths are undici 6.21.3's,
 * and package.json names that version exactly (no range: `npm install` of another 6.x could move
 * them); a version that moves them fails the build and test/fetch, not an operator.
 */
import type * as Undici from 'undici';
// First: it says how V8 compiles llhttp, which undici does as it loads.
import './liftoff.js';
import AgentFile from 'undici/lib/dispatcher/agent.js';
import DispatcherFile from 'undici/lib/dispatcher/dispatcher.js';
import ProxyAgentFile from 'undici/lib/dispatcher/proxy-agent.js';
import api from 'undici/lib/api/index.js';

// What index.js does first: request(), and connect() that ProxyAgent's CONNECT uses, are methods
// of every dispatcher.
Object.assign((DispatcherFile as { prototype: object }).prototype, api);

export const Agent = AgentFile as typeof Undici.Agent;
export type Agent = Undici.Agent;
export const ProxyAgent = ProxyAgentFile as typeof Undici.ProxyAgent;
export type ProxyAgent = Undici.ProxyAgent;
export type { Dispatcher } from 'undici';

/** undici's request(url, { dispatcher, … }) as index.js makes it: the URL split into origin and path. */
export function request(
  url: string,
  opts: Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Undici.Dispatcher },
): Promise<Undici.Dispatcher.ResponseData> {
  const u = new URL(url);
  const { dispatcher, ...rest } = opts;
  return dispatcher.request({ ...rest, origin: u.origin, path: `${u.pathname}${u.search}` });
}
