/**
 * An app's deep probe: one GET of its catalog probe path (its mount; EXPO's index page) and, when
 * the site file names one, of probes.<PRODUCT>.path, whose answer must contain
 * probes.<PRODUCT>.expect. Only a 2xx answer counts (a redirect to a login page is not the app
 * answering). No retries: check reports what is, it does not wait for a restart to finish.
 */
import http from 'node:http';
import { connectHost } from '../apache/health.js';
import type { Site } from '../site/types.js';
import type { AppProbe } from './report.js';

export interface ProbeTarget {
  app: string;
  paths: string[];
  expect?: string;
}

const MAX_BODY = 256 * 1024;

export async function probeApp(site: Site, t: ProbeTarget): Promise<AppProbe> {
  const host = connectHost(site.apache.listen.host);
  const { port } = site.apache.listen;
  const started = process.hrtime.bigint();
  let last: AppProbe | undefined;
  for (const [i, p] of t.paths.entries()) {
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${encodeURI(p)}`;
    const r = await getOnce(host, port, encodeURI(p), site.apache.healthTimeout * 1000);
    const expectHere = t.expect !== undefined && i === t.paths.length - 1;
    let error = r.error;
    const is2xx = r.status !== null && r.status >= 200 && r.status < 300;
    if (is2xx && expectHere && !r.body.includes(t.expect!)) error = `the answer does not contain "${t.expect}"`;
    last = { app: t.app, url, up: is2xx && error === undefined, status: r.status, seconds: 0, ...(error ? { error } : {}) };
    if (!last.up) break;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { ...last!, seconds };
}

function getOnce(host: string, port: number, reqPath: string, timeoutMs: number): Promise<{ status: number | null; body: string; error?: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: reqPath, agent: false, headers: { 'User-Agent': 'webtree-check', Connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_BODY) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? null, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => done(err));
    });
    const done = (err: Error) => {
      clearTimeout(timer);
      req.destroy();
      const code = (err as NodeJS.ErrnoException).code;
      resolve({ status: null, body: '', error: code ? `${code}: ${err.message}` : err.message });
    };
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    req.on('error', done);
  });
}
