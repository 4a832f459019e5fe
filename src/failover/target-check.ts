/**
 * Is SERVER a server the web tools may be pointed at? Asked of a switch's target and, before
 * going back after a failed health check, of the server the switch came from. A primary is not
 * enough (src/db/cluster.ts says why): it must be the cluster the site serves, on a timeline
 * not behind the recorded one, and, for a switch, no other site server may be a primary too
 * (two masters: the tools would read one fork while the other takes writes).
 */
import { probeServer, type ServerProbe } from '../db/cluster.js';
import { describeServer, standbyRefusal, type DbTarget } from '../db/primary.js';
import { errorText, WebtreeError } from '../core/errors.js';
import type { DbServer, Site } from '../site/types.js';
import { clusterFile, describeCluster, type ClusterRecord } from '../state/cluster.js';

export interface TargetOptions {
  /** Look at the site's other servers for a second primary (a switch: yes; going back: no, we come from one). */
  splitBrain: boolean;
  /** --allow-split-brain: a second primary is a warning, not a refusal. */
  allowSplitBrain: boolean;
}

export interface TargetVerdict {
  /** One phrase per check that passed, for the report and the history. */
  checks: string[];
  /** Said on stderr and kept in the history's checks. */
  warnings: string[];
  probe: ServerProbe;
}

export const dbTarget = (site: Site): DbTarget => ({
  name: site.database.name,
  user: site.database.user,
  connectTimeoutSec: site.database.connectTimeout,
});

const server = (site: Site, name: string): DbServer => site.database.servers.find((s) => s.name === name)!;

const rebuildHint = (name: string) =>
  `if ${name} was the old master, rebuild it as a standby of the new one (pg_basebackup -R; see \`webtree help switch-web\` and docs/runbook.md)`;

export async function checkTarget(
  site: Site,
  name: string,
  recorded: ClusterRecord | null,
  opts: TargetOptions,
): Promise<TargetVerdict> {
  const db = dbTarget(site);
  const target = server(site, name);
  const others = opts.splitBrain ? site.database.servers.filter((s) => s.name !== name) : [];
  // All at once: an unreachable other server costs one connect timeout, not one each.
  const [probe, ...seen] = await Promise.all([
    probeServer(target, db),
    ...others.map((s) =>
      probeServer(s, db).catch((err: unknown) =>
        err instanceof WebtreeError ? err : new WebtreeError('EDB', errorText(err)),
      ),
    ),
  ]);
  if (!probe.primary) throw standbyRefusal(target);
  const checks = [`${describeServer(target)} is primary (pg_is_in_recovery() = false, PostgreSQL ${probe.version})`];
  const warnings: string[] = [];
  const sameId = recorded?.systemIdentifier != null && probe.systemIdentifier !== null;

  if (sameId && probe.systemIdentifier !== recorded.systemIdentifier) {
    throw new WebtreeError(
      'ESWITCH',
      `${describeServer(target)} is another database cluster (system_identifier ${probe.systemIdentifier}) than the one the site serves (${describeCluster(recorded)}): it holds other data`,
      {
        hint: `${rebuildHint(name)}; if the site really moved to a new cluster, check it by hand, remove ${clusterFile(site)}, and switch again`,
      },
    );
  }
  if (probe.systemIdentifier === null)
    warnings.push(probe.identityProblem ?? `the cluster identity of ${name} could not be read`);
  else
    checks.push(
      recorded?.systemIdentifier
        ? `same cluster (system_identifier ${probe.systemIdentifier})`
        : `cluster system_identifier ${probe.systemIdentifier} (none recorded before: recorded now)`,
    );

  if (recorded?.timeline != null && probe.timeline !== null && probe.timeline < recorded.timeline) {
    throw new WebtreeError(
      'ESWITCH',
      `${describeServer(target)} is on timeline ${probe.timeline}, behind the site's timeline ${recorded.timeline} (${describeCluster(recorded)}): it is a master that was failed over from, and its data forked off`,
      {
        hint: `${rebuildHint(name)}, then switch to the current master`,
      },
    );
  }
  if (probe.timeline !== null)
    checks.push(`timeline ${probe.timeline}${recorded?.timeline != null ? ` (recorded ${recorded.timeline})` : ''}`);

  const masters: string[] = [];
  others.forEach((s, i) => {
    const r = seen[i];
    if (r instanceof WebtreeError)
      checks.push(
        `${s.name} not a primary we can reach (${r.message.replace(`${describeServer(s)} `, '').replace(/^: /, '')})`,
      );
    else if (!r.primary) checks.push(`${s.name} is a standby`);
    else masters.push(`${describeServer(s)}${r.timeline !== null ? ` (timeline ${r.timeline})` : ''}`);
  });
  if (masters.length) {
    const what = `${masters.join(', ')} ${masters.length > 1 ? 'are' : 'is'} also a reachable primary: two masters (split brain)`;
    if (!opts.allowSplitBrain) {
      throw new WebtreeError(
        'ESWITCH',
        `${what}; the web tools would read ${name} while clients may still write to the other`,
        {
          hint: `stop the old master or make it a standby first (pg_ctl stop on it); if you know both are masters and mean to serve ${name}, run switch-web ${name} --allow-split-brain`,
        },
      );
    }
    warnings.push(`${what}; switched anyway (--allow-split-brain)`);
  }
  return { checks, warnings, probe };
}

/** The record a switch or adopt writes after a check of `probe`. */
export const recordOf = (probe: ServerProbe, now: string, by: string): ClusterRecord => ({
  server: probe.server,
  systemIdentifier: probe.systemIdentifier,
  timeline: probe.timeline,
  time: now,
  by,
});
