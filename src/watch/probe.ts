/**
 * An app's deep probe: one GET of its catalog probe path (its mount; EXPO's index page) and, when
 * the site file names one, of probes.<PRODUCT>.path, whose answer must contain
 * probes.<PRODUCT>.expect. Only a 2xx answer counts (a redirect to a login page is not the app
 * answering). No retries: check reports what is, it does not wait for a restart to finish. The GET
 * is the health check's own (apache/health.ts getPage), under its own User-Agent.
 */
import { getPage } from '../apache/health.js';
import type { Site } from '../site/types.js';
import type { AppProbe } from './report.js';

export interface ProbeTarget {
  app: string;
  paths: string[];
  expect?: string;
}

const MAX_BODY = 256 * 1024;

export async function probeApp(site: Site, t: ProbeTarget): Promise<AppProbe> {
  const started = process.hrtime.bigint();
  let last: AppProbe | undefined;
  for (const [i, p] of t.paths.entries()) {
    const r = await getPage(site, p, { agent: 'webtree-check', maxBody: MAX_BODY });
    const status = r.status ?? null;
    const expectHere = t.expect !== undefined && i === t.paths.length - 1;
    let error = r.error;
    const is2xx = status !== null && status >= 200 && status < 300;
    if (is2xx && expectHere && !(r.body ?? '').includes(t.expect!)) error = `the answer does not contain "${t.expect}"`;
    last = {
      app: t.app,
      url: r.url,
      up: is2xx && error === undefined,
      status,
      seconds: 0,
      ...(error ? { error } : {}),
    };
    if (!last.up) break;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { ...last!, seconds };
}
