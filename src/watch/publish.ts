/**
 * What a check (or a change) leaves behind: the metrics file, the status page, the state of the
 * last check (<state>/watch.json) and, on a transition, one mail. Files are written to a temporary
 * name beside them and renamed over, so node_exporter and a browser never read half a file.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { resolveOwner } from '../apply/owner.js';
import type { ProductDescriptor } from '../catalog/types.js';
import type { Site } from '../site/types.js';
import { productRows } from '../state/rows.js';
import { readHistory } from '../state/history.js';
import { activeServer } from '../state/server.js';
import { historyFile, readTree } from '../state/tree.js';
import { treeFacts } from './gather.js';
import { mailReason, mailText, sendMail, type Previous } from './mail.js';
import { metricsText } from './metrics.js';
import { pageHtml } from './page.js';
import { findingKey, type CheckReport } from './report.js';

interface WatchState {
  /** The last full check. */
  report?: CheckReport;
  /** What the last mail (or the first check) saw: a transition is measured against it. */
  mailed?: Previous;
  /** History entries already looked at for auto-rollback and switch-web mails. */
  historySeen: number;
}

const stateFile = (site: Site) => path.join(site.paths.state, 'watch.json');

async function readState(site: Site): Promise<WatchState> {
  try {
    const s = JSON.parse(await fs.readFile(stateFile(site), 'utf8')) as WatchState;
    return typeof s === 'object' && s && Number.isInteger(s.historySeen) ? s : { historySeen: 0 };
  } catch {
    return { historySeen: -1 }; // never looked: do not mail about the whole past
  }
}

export async function writeAtomic(site: Site, file: string, text: string, mode = 0o644): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}`);
  // A write that fails (a full disk, most often) leaves no temporary behind: the tree as it was.
  try {
    const fh = await fs.open(tmp, 'w', mode);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    // Root writes what the service account rewrites on its next check.
    if (process.getuid?.() === 0) {
      const o = await resolveOwner(site.apache.user, site.apache.group).catch(() => undefined);
      if (o) {
        await fs.chown(tmp, o.uid, o.gid);
        await fs.chown(dir, o.uid, o.gid).catch(() => undefined);
      }
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

export interface Published {
  mailed: string[];
  mailError?: string;
}

/**
 * After a check: write everything and mail on a transition. A mail that cannot be sent leaves
 * the state as it was, so the next check tries the same mail again.
 */
export async function publishCheck(site: Site, report: CheckReport): Promise<Published> {
  const prev = await readState(site);
  await writeOutputs(site, report);
  return mailAndSave(site, prev, report);
}

/** After a changing command: the tree's part of the page and metrics anew, the rest from the last check. */
export async function publishChange(site: Site, catalog: ProductDescriptor[]): Promise<Published> {
  const prev = await readState(site);
  const installable = catalog.filter((d) => d.installable);
  const tree = await readTree(site, installable, 'list');
  const fresh = treeFacts(site, installable, tree.history, productRows(installable, tree), new Date());
  const last = prev.report;
  const active = await activeServer(site);
  const report: CheckReport = last
    ? { ...last, ...fresh, active, checkedAt: last.checkedAt }
    : {
        ...fresh,
        ok: true,
        probeSeconds: 0,
        findings: [],
        apache: { up: false, pid: null },
        apps: [],
        active,
        servers: [],
        disks: [],
      };
  if (!last)
    report.findings = [
      {
        code: 'not-checked',
        thing: 'check',
        problem: 'webtree check has not run yet',
        fix: 'webtree check (the systemd timer or cron file from render runs it every minute)',
      },
    ];
  report.ok = report.findings.length === 0;
  await writeOutputs(site, report);
  return mailAndSave(site, prev, undefined, report, tree.history.length);
}

async function writeOutputs(site: Site, report: CheckReport): Promise<void> {
  if (site.watch.textfile) await writeAtomic(site, site.watch.textfile, metricsText(report));
  await writeAtomic(site, site.watch.page, pageHtml(report));
}

async function mailAndSave(
  site: Site,
  prev: WatchState,
  checked: CheckReport | undefined,
  shown?: CheckReport,
  historyLength?: number,
): Promise<Published> {
  const report = checked ?? shown!;
  const total = historyLength ?? (await readHistory(historyFile(site))).length;
  const events = prev.historySeen < 0 ? [] : fullHistoryTail(report, total - prev.historySeen);
  const why = mailReason(prev.mailed, checked, events);
  const next: WatchState = {
    report: checked ?? prev.report,
    mailed: checked ? { ok: checked.ok, findings: checked.findings.map(findingKey) } : prev.mailed,
    historySeen: total,
  };
  let mailError: string | undefined;
  if (why.length && site.watch.mail.to) {
    try {
      await sendMail(site, mailText(site, report, why));
    } catch (err) {
      mailError = `mail to ${site.watch.mail.to} failed: ${(err as Error).message}`;
    }
  }
  if (!mailError) await writeAtomic(site, stateFile(site), JSON.stringify(next) + '\n', 0o644);
  return { mailed: mailError || !site.watch.mail.to ? [] : why, mailError };
}

/** The newest `n` history entries, oldest first (the report's recent list is newest first, 20 at most). */
function fullHistoryTail(report: CheckReport, n: number) {
  return n > 0 ? report.recent.slice(0, n).reverse() : [];
}
