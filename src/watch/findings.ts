/**
 * From what a check saw to the findings, each with the command that fixes it. Pure: the tests
 * give it facts and read the findings.
 */
import type { Finding } from '../verify/checks.js';
import type { AppProbe, DiskState, ServerState, WatchFinding } from './report.js';

export interface CheckFacts {
  verify: Finding[];
  apache: { up: boolean };
  apps: AppProbe[];
  active: string | null;
  servers: ServerState[];
  disks: DiskState[];
  minFreeMiB: number;
  minFreePercent: number;
  /** A journal is there and no live command holds the lock. */
  interrupted: boolean;
}

const MiB = 1024 * 1024;

export function findingsOf(f: CheckFacts): WatchFinding[] {
  const out: WatchFinding[] = [];
  if (f.interrupted) {
    out.push({
      code: 'interrupted',
      thing: 'journal',
      problem: 'a change was interrupted and is neither finished nor undone',
      fix: 'webtree recover (or any changing command) finishes or undoes it',
    });
  }
  for (const v of f.verify) {
    if (v.what === 'journal') continue; // said above, with the lock taken into account
    // A kept variant (failover/variant-keep.ts) replaced by a link, gone or changed: its own code, so that a watcher can tell it.
    if (v.what.startsWith('variant/'))
      out.push({
        code: 'variant',
        thing: v.what,
        problem: v.problem,
        fix: /changed behind/.test(v.problem)
          ? 'webtree variants keep if the change is yours, else webtree variants restore'
          : 'webtree variants restore',
      });
    else if (/licen[cs]e/i.test(v.problem))
      out.push({
        code: 'licence',
        thing: v.what,
        problem: v.problem,
        fix: 'webtree install ChartDirector-VERSION.tar.gz --license chartdir.lic',
      });
    else
      out.push({
        code: 'verify',
        thing: v.what,
        problem: v.problem,
        fix: 'webtree verify names it; the fix is in its text',
      });
  }
  if (!f.apache.up)
    out.push({ code: 'apache-down', thing: 'apache', problem: 'Apache is not running', fix: 'webtree apache start' });
  else {
    for (const a of f.apps.filter((x) => !x.up)) {
      out.push({
        code: 'app-down',
        thing: a.app,
        problem:
          a.status === null
            ? `${a.url}: ${a.error ?? 'no answer'}`
            : `${a.url} answered ${a.status}${a.error ? ` (${a.error})` : ''}`,
        fix: `webtree apache graceful (restarts ${a.app}'s daemon); the error log says why`,
      });
    }
  }
  out.push(...serverFindings(f.active, f.servers));
  for (const d of f.disks) {
    const percent = d.totalBytes ? (100 * d.freeBytes) / d.totalBytes : 0;
    if (d.freeBytes < f.minFreeMiB * MiB || percent < f.minFreePercent) {
      out.push({
        code: 'disk-low',
        thing: d.path,
        problem: `${d.what}: ${(d.freeBytes / MiB).toFixed(0)} MiB free (${percent.toFixed(1)} %), below ${f.minFreeMiB} MiB or ${f.minFreePercent} %`,
        fix: `free space on ${d.path} (df -h ${d.path}; webtree prune PRODUCT --keep N removes old versions)`,
      });
    }
  }
  return out;
}

/** The active server must be a reachable primary; when it is not, name the one to switch to. */
function serverFindings(active: string | null, servers: ServerState[]): WatchFinding[] {
  const primaries = servers.filter((s) => s.up && s.primary === true);
  const other = primaries.find((s) => s.name !== active);
  const switchFix = other
    ? `webtree switch-web ${other.name}`
    : "promote the standby (the guide's failover), then webtree switch-web SERVER";
  if (active === null)
    return [
      {
        code: 'no-active-server',
        thing: 'server',
        problem: 'no active database server is set in the tree',
        fix: switchFix,
      },
    ];
  const a = servers.find((s) => s.name === active);
  if (!a)
    return [
      {
        code: 'no-active-server',
        thing: active,
        problem: `the active server ${active} is not one of the site's servers`,
        fix: switchFix,
      },
    ];
  const out: WatchFinding[] = [];
  if (!a.up)
    out.push({
      code: 'active-down',
      thing: active,
      problem: `the active database server ${active} does not answer: ${a.error ?? 'unreachable'}`,
      fix: switchFix,
    });
  else if (a.primary === false)
    out.push({
      code: 'active-standby',
      thing: active,
      problem: `the active database server ${active} is a standby (pg_is_in_recovery() = true): the web tools cannot write`,
      fix: switchFix,
    });
  if (primaries.length > 1)
    out.push({
      code: 'two-primaries',
      thing: 'servers',
      problem: `more than one server is a primary: ${primaries.map((s) => s.name).join(', ')}`,
      fix: "stop the old master before anything writes to it (the guide's failover section)",
    });
  return out;
}
