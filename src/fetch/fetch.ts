/**
 * Fetch an archive by URL into webtree's cache, pinned by its sha256: streamed to a temporary
 * file, hashed as it streams, renamed into place only when the hash matches (a mismatch is
 * refused naming both hashes, and the download deleted). A dropped connection is resumed with
 * a Range request; timeouts and 5xx answers are retried a bounded number of times with
 * backoff; redirects are followed (at most 5, never https -> http). undici does the HTTP.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from './undici.js';
import { errorText, WebtreeError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';
import type { Site } from '../site/types.js';
import { sha256File } from '../archive/manifest.js';
import { cachedArchive, cacheEntryDir, partFile, sweepParts } from './cache.js';
import { dispatchersFor, type Dispatchers } from './dispatch.js';
import { credentialsFor } from './netrc.js';
import { markVerified } from '../archive/verified.js';

export interface FetchRequest {
  url: string;
  /** The archive's file name (the last part of the URL's path). */
  name: string;
  sha256: string;
}

export interface FetchOptions {
  site: Site;
  env: NodeJS.ProcessEnv;
  progress?: (label: string) => Progress;
  signal?: AbortSignal;
  /** Said once per retry ("retrying in 1 s: …"); to stderr. */
  onRetry?: (line: string) => void;
}

const MAX_REDIRECTS = 5;
/** Bytes per write of the download. */
const BATCH = 4 << 20;

/** A failure worth another try (a dropped connection, a timeout, a 5xx), or the end. */
class Retryable extends Error {}

const shown = (url: string) => {
  const u = new URL(url);
  return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
};

/**
 * The cached archive for `req`, fetched when it is not there with the right hash. A cached file
 * is hashed before it is used: the download is not flushed to disk before its rename (the install
 * that follows makes its own tree durable, and an extra flush of the whole archive was a cost
 * curl does not pay), so after a crash a cache entry may hold other bytes; it is fetched again.
 */
export async function fetchArchive(
  req: FetchRequest,
  opts: FetchOptions,
): Promise<{ file: string; fetched: boolean; bytes: number }> {
  const cached = await cachedArchive(opts.site, req.sha256, req.name);
  if (cached) {
    if ((await sha256File(cached).catch(() => '')) === req.sha256) {
      markVerified(cached, req.sha256);
      return { file: cached, fetched: false, bytes: (await fs.stat(cached)).size };
    }
    opts.onRetry?.(
      `the cached ${req.name} no longer has its sha256 (a crash while it was written?): fetching it again`,
    );
    await fs.rm(cached, { force: true });
  }
  const dir = cacheEntryDir(opts.site, req.sha256);
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  await sweepParts(dir);
  const part = partFile(dir, req.name);
  const fh = await fs.open(part, 'w', 0o644);
  const state = { hash: createHash('sha256'), bytes: 0, total: undefined as number | undefined };
  const bar = opts.progress?.(`fetching ${req.name}`);
  try {
    const dispatcher = dispatchersFor(opts.site, opts.env);
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await oneAttempt(req, opts, dispatcher, fh, state, bar);
          break;
        } catch (err) {
          if (!(err instanceof Retryable) || opts.signal?.aborted) throw err;
          if (attempt >= opts.site.fetch.retries) {
            throw new WebtreeError(
              'EFETCH',
              `could not fetch ${shown(req.url)} after ${attempt + 1} tries: ${err.message}`,
              {
                hint: 'check the server and the network (a proxy: HTTPS_PROXY/NO_PROXY), then run the command again; nothing was changed',
              },
            );
          }
          const wait = Math.min(250 * 2 ** attempt, 8000);
          opts.onRetry?.(
            `${shown(req.url)}: ${err.message}; retrying in ${wait} ms${state.bytes ? ` from byte ${state.bytes}` : ''}`,
          );
          await sleep(wait, undefined, { signal: opts.signal });
        }
      }
    } finally {
      await dispatcher.close().catch(() => undefined);
    }
    const got = state.hash.digest('hex');
    if (got !== req.sha256) {
      throw new WebtreeError(
        'EBADARCHIVE',
        `${shown(req.url)} does not have the pinned sha256: expected ${req.sha256}, got ${got} (${state.bytes} bytes); the download was deleted`,
        {
          hint: 'the file on the server is not the one the release pins: check with its publisher which is right; nothing was changed',
        },
      );
    }
    await fh.close();
    const file = path.join(dir, req.name);
    await fs.rename(part, file);
    markVerified(file, req.sha256);
    return { file, fetched: true, bytes: state.bytes };
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fs.rm(part, { force: true });
    await fs.rmdir(dir).catch(() => undefined); // empty: nothing cached under this sha256
    throw err;
  } finally {
    bar?.done();
  }
}

type State = { hash: Hash; bytes: number; total?: number };

async function oneAttempt(
  req: FetchRequest,
  opts: FetchOptions,
  dispatchers: Dispatchers,
  fh: fs.FileHandle,
  state: State,
  bar?: Progress,
): Promise<void> {
  const { site } = opts;
  let url = req.url;
  for (let hop = 0; ; hop++) {
    const u = new URL(url);
    const headers: Record<string, string> = { 'user-agent': 'webtree', 'accept-encoding': 'identity' };
    if (state.bytes > 0) headers.range = `bytes=${state.bytes}-`;
    const cred = await credentialsFor(u.hostname, opts.env);
    if (cred) headers.authorization = `Basic ${Buffer.from(`${cred.login}:${cred.password}`).toString('base64')}`;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        dispatcher: dispatchers.for(url),
        method: 'GET',
        headers,
        signal: opts.signal,
        headersTimeout: site.fetch.idleTimeout * 1000,
        bodyTimeout: site.fetch.idleTimeout * 1000,
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw classify(err, url);
    }
    const { statusCode: code } = res;
    if (code >= 300 && code < 400 && code !== 304) {
      await res.body.dump().catch(() => undefined);
      const loc = res.headers.location;
      if (typeof loc !== 'string')
        throw new WebtreeError('EFETCH', `${shown(url)} answered ${code} without a Location`, {
          hint: 'nothing was changed',
        });
      const next = new URL(loc, url);
      if (hop + 1 > MAX_REDIRECTS)
        throw new WebtreeError('EFETCH', `${shown(req.url)}: more than ${MAX_REDIRECTS} redirects`, {
          hint: "give the archive's final URL; nothing was changed",
        });
      if (u.protocol === 'https:' && next.protocol !== 'https:') {
        throw new WebtreeError(
          'EFETCH',
          `${shown(url)} redirects to ${shown(next.toString())}: https to ${next.protocol.replace(':', '')} is refused`,
          { hint: 'give an https:// URL that stays on https; nothing was changed' },
        );
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:')
        throw new WebtreeError('EFETCH', `${shown(url)} redirects to a ${next.protocol} URL`, {
          hint: 'nothing was changed',
        });
      url = next.toString();
      continue;
    }
    if (code >= 500 || code === 429 || code === 408) {
      await res.body.dump().catch(() => undefined);
      throw new Retryable(`the server answered ${code}`);
    }
    if (code === 416 && state.bytes > 0) {
      // The server has no bytes past what we hold: start over, the hash says whether it was all.
      await res.body.dump().catch(() => undefined);
      await restart(fh, state);
      throw new Retryable('the server refused the resumed range (416)');
    }
    if (code !== 200 && code !== 206) {
      await res.body.dump().catch(() => undefined);
      const hint =
        code === 401 || code === 403
          ? 'credentials come from ~/.netrc (machine HOST login USER password PASS); nothing was changed'
          : 'check the URL in the release file; nothing was changed';
      throw new WebtreeError('EFETCH', `${shown(url)} answered ${code}${code === 404 ? ' (not found)' : ''}`, { hint });
    }
    const resumed = code === 206 && contentRangeStart(res.headers['content-range']) === state.bytes;
    if (!resumed && state.bytes > 0) await restart(fh, state); // a 200 (or an odd 206): the whole file again
    const length = Number(res.headers['content-length']);
    if (Number.isFinite(length)) state.total = state.bytes + length;
    if (state.total !== undefined && state.total > site.fetch.maxBytes) {
      // Destroying the body emits an abort error: said here, not left unhandled.
      res.body.on('error', () => undefined);
      res.body.destroy();
      throw capError(url, state.total, site);
    }
    // Written in batches of ~4 MiB with one writev, the chunks as they came (no copy into one
    // buffer: that copy cost more main-thread time than the hash); one write runs in libuv's pool
    // while the next batch arrives. Each chunk is hashed as it arrives.
    let batch: Buffer[] = [];
    let batched = 0;
    let writing: Promise<void> | undefined;
    let inFlight = 0; // bytes of the write that runs
    const settle = async () => {
      const w = writing;
      writing = undefined;
      await w;
    };
    const send = async () => {
      await settle();
      if (batched === 0) return;
      const bufs = batch;
      const n = batched;
      batch = [];
      batched = 0;
      inFlight = n;
      writing = fh
        .writev(bufs, state.bytes)
        .then(({ bytesWritten }) => {
          if (bytesWritten !== n) throw new Error(`wrote ${bytesWritten} of ${n} bytes (is the disk full?)`);
          state.bytes += n;
          inFlight = 0;
          bar?.update({ bytes: state.bytes, entries: 0, totalBytes: state.total });
        })
        .catch((err: unknown) => {
          // The end, not a retry: the hash already holds these bytes.
          throw new WebtreeError(
            'EFETCH',
            `cannot write the download of ${req.name} into the cache: ${errorText(err)}`,
            {
              hint: `free space for the cache (${path.join(site.paths.state, 'cache')}) and run the command again; nothing was changed`,
            },
          );
        });
      // Awaited by the next send or settle; never an unhandled rejection meanwhile.
      writing.catch(() => undefined);
    };
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        const held = state.bytes + inFlight + batched + chunk.length;
        if (held > site.fetch.maxBytes) throw capError(url, held, site);
        state.hash.update(chunk);
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= BATCH) await send();
      }
      await send();
      await settle();
    } catch (err) {
      if (err instanceof WebtreeError || opts.signal?.aborted) {
        await settle().catch(() => undefined); // no write may run once the file is closed and removed
        throw err;
      }
      // A drop: what arrived (and was hashed) is written, so the resume asks for the bytes after
      // it. A failed write here is EFETCH, thrown as it is.
      await send();
      await settle();
      throw classify(err, url);
    }
    if (state.total !== undefined && state.bytes < state.total)
      throw new Retryable(`the connection closed after ${state.bytes} of ${state.total} bytes`);
    return;
  }
}

async function restart(fh: fs.FileHandle, state: State): Promise<void> {
  await fh.truncate(0);
  state.hash = createHash('sha256');
  state.bytes = 0;
  state.total = undefined;
}

const contentRangeStart = (h: unknown) => (typeof h === 'string' ? Number(/^bytes (\d+)-/.exec(h)?.[1]) : NaN);

const capError = (url: string, n: number, site: Site) =>
  new WebtreeError(
    'EFETCH',
    `${shown(url)} is larger than fetch.maxBytes (${n} > ${site.fetch.maxBytes} bytes); the download was deleted`,
    {
      hint: 'raise fetch.maxBytes in the site file if the archive really is that large; nothing was changed',
    },
  );

/** undici's errors: a refused TLS handshake is the end; a dropped or silent connection is worth a retry. */
function classify(err: unknown, url: string): Error {
  const code = (err as { code?: string })?.code ?? '';
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME/.test(`${code} ${cause?.code ?? ''}`);
  if (tls) {
    return new WebtreeError(
      'EFETCH',
      `${shown(url)}: the server's certificate is not trusted (${cause?.code ?? code})`,
      {
        hint: 'give its CA in NODE_EXTRA_CA_CERTS or the site setting fetch.caFile; nothing was changed',
      },
    );
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new Retryable('the connection timed out (fetch.connectTimeout)');
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return new Retryable('the server stalled (fetch.idleTimeout)');
  if (cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN') {
    return new WebtreeError('EFETCH', `${shown(url)}: cannot resolve ${new URL(url).hostname}`, {
      hint: 'check the URL and DNS (or the proxy settings); nothing was changed',
    });
  }
  return new Retryable(errorText(cause ?? err).split('\n')[0] || code || 'the connection failed');
}
