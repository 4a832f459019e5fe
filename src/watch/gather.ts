/**
 * One read-only pass over everything that can be wrong: the tree (verify), Apache, every app's
 * probe, every database server, the disks, the licence, an interrupted change. It never takes
 * the lock, never recovers, restarts, rolls back or switches anything.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { liveApps } from '../apache/check.js';
import { status as apacheStatus } from '../apache/control.js';
import { holderAlive, type LockHolder } from '../apply/lock.js';
import { readJournal } from '../apply/journal.js';
import { webLinkPath } from '../catalog/paths.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { checkPrimary } from '../db/primary.js';
import type { Site } from '../site/types.js';
import type { HistoryEntry } from '../state/history.js';
import { productRows } from '../state/rows.js';
import { activeServer } from '../state/server.js';
import { readTree } from '../state/tree.js';
import { verifyTree } from '../verify/checks.js';
import { findingsOf } from './findings.js';
import { probeApp, type ProbeTarget } from './probe.js';
import type { ChangeEntry, CheckReport, DiskState, ProductState, ServerState } from './report.js';

const DAY_MS = 24 * 3600 * 1000;

export async function runCheck(
  site: Site,
  catalog: ProductDescriptor[],
  now: () => Date = () => new Date(),
): Promise<CheckReport> {
  const installable = catalog.filter((d) => d.installable);
  const tree = await readTree(site, installable);
  const [verify, apache, targets, servers, disks, interrupted] = await Promise.all([
    verifyTree(site, installable, tree),
    apacheStatus(site),
    probeTargets(site, catalog),
    Promise.all(site.database.servers.map((s) => serverState(site, s))),
    diskStates(site),
    interruptedChange(site),
  ]);
  const t0 = process.hrtime.bigint();
  const apps = apache.running
    ? await Promise.all(targets.map((t) => probeApp(site, t)))
    : targets.map((t) => ({
        app: t.app,
        url: t.paths[0],
        up: false,
        status: null,
        seconds: 0,
        error: 'Apache is not running',
      }));
  const probeSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const active = await activeServer(site);
  const findings = findingsOf({
    verify,
    apache: { up: apache.running },
    apps,
    active,
    servers,
    disks,
    interrupted,
    minFreeMiB: site.watch.minFreeMiB,
    minFreePercent: site.watch.minFreePercent,
  });
  const base = treeFacts(site, installable, tree.history, productRows(installable, tree), now());
  return {
    ...base,
    ok: findings.length === 0,
    probeSeconds,
    findings,
    apache: { up: apache.running, pid: apache.pid ?? null },
    apps,
    active,
    servers,
    disks,
  };
}

/** The part of the report a changing command can refresh without probing anything. */
export function treeFacts(
  site: Site,
  catalog: ProductDescriptor[],
  history: HistoryEntry[],
  rows: ReturnType<typeof productRows>,
  at: Date,
) {
  const products: ProductState[] = rows.map((r) => ({ ...r, activatedAt: activatedAt(history, r.name, r.current) }));
  const changes: ChangeEntry[] = history.map((h) => ({
    time: h.time,
    action: h.action,
    product: h.product,
    from: h.from,
    to: h.to ?? h.version,
    outcome: h.outcome,
    user: h.sudoUser ? `${h.user} (sudo ${h.sudoUser})` : h.user,
    message: h.message,
  }));
  const since = at.getTime() - 30 * DAY_MS;
  void catalog;
  return {
    checkedAt: at.toISOString(),
    host: os.hostname(),
    site: site.file,
    products,
    recent: changes.slice(-20).reverse(),
    timeline: changes.filter((c) => Date.parse(c.time) >= since),
    lastChange: changes.length ? changes[changes.length - 1].time : null,
  };
}

const ACTIVATING = new Set(['install', 'activate', 'rollback', 'auto-rollback', 'adopt', 'repair', 'apply']);

function activatedAt(history: HistoryEntry[], product: string, current: string | null): string | null {
  if (current === null) return null;
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i];
    if (h.product !== product || !ACTIVATING.has(h.action)) continue;
    if (h.outcome === 'failed' || h.outcome === 'undone') continue;
    if ((h.to ?? h.version) === current) return h.time;
  }
  return null;
}

/** Every served app's probe: the WSGI apps the live configuration mounts, and EXPO when it is active. */
async function probeTargets(site: Site, catalog: ProductDescriptor[]): Promise<ProbeTarget[]> {
  const { configured } = await liveApps(site, catalog);
  const out: ProbeTarget[] = [];
  for (const d of catalog) {
    const base = d.probe ?? d.wsgi?.mount;
    if (!base) continue;
    if (d.wsgi ? !configured.some((a) => a.name === d.name) : !(await webLinksResolve(site, d))) continue;
    const extra = Object.entries(site.probes).find(([name]) => name.toLowerCase() === d.name.toLowerCase())?.[1];
    out.push({ app: d.name, paths: extra?.path ? [base, extra.path] : [base], expect: extra?.expect });
  }
  return out;
}

async function webLinksResolve(site: Site, d: ProductDescriptor): Promise<boolean> {
  if (!d.webLinks.length) return false;
  for (const l of d.webLinks) if (!(await fs.stat(webLinkPath(site, l)).catch(() => undefined))) return false;
  return true;
}

async function serverState(site: Site, s: Site['database']['servers'][number]): Promise<ServerState> {
  try {
    const r = await checkPrimary(s, {
      name: site.database.name,
      user: site.database.user,
      connectTimeoutSec: site.database.connectTimeout,
    });
    return { name: s.name, host: s.host, port: s.port, up: true, primary: r.primary };
  } catch (err) {
    return { name: s.name, host: s.host, port: s.port, up: false, primary: null, error: (err as Error).message };
  }
}

/** Free space where the products, the web tree and the logs live; one entry per file system. */
async function diskStates(site: Site): Promise<DiskState[]> {
  const places: [string, string][] = [
    [site.paths.products, 'products'],
    [site.paths.www, 'web tree'],
    [site.paths.runtime, 'logs'],
  ];
  const out: DiskState[] = [];
  const seen = new Map<number, DiskState>();
  for (const [p, what] of places) {
    const st = await fs.stat(p).catch(() => undefined);
    const fsst = await fs.statfs(p).catch(() => undefined);
    if (!st || !fsst) continue;
    const known = seen.get(st.dev);
    if (known) {
      known.what += `, ${what}`;
      continue;
    }
    const d: DiskState = { path: p, what, freeBytes: fsst.bavail * fsst.bsize, totalBytes: fsst.blocks * fsst.bsize };
    seen.set(st.dev, d);
    out.push(d);
  }
  return out;
}

/** A journal left behind, not the one of a command that runs now (it holds the lock). */
async function interruptedChange(site: Site): Promise<boolean> {
  if (!(await readJournal(site.paths.state).catch(() => ({})))) return false;
  try {
    const holder = JSON.parse(await fs.readFile(path.join(site.paths.state, 'lock'), 'utf8')) as LockHolder;
    return !(await holderAlive(holder));
  } catch {
    return true;
  }
}
