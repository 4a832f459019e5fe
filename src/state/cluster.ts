/**
 * The database cluster the site serves, as last seen by init, adopt or a switch:
 * <state>/cluster.json. switch-web compares a target with it (same system_identifier, timeline
 * not behind). Written only through the executor (a `write-file` op in the plan that saw it).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isErrno, WebtreeError } from '../core/errors.js';
import type { Op } from '../plan/ops.js';
import type { Site } from '../site/types.js';

export interface ClusterRecord {
  /** The server it was read from. */
  server: string;
  /** pg_control_system().system_identifier; null when the role could not read it. */
  systemIdentifier: string | null;
  timeline: number | null;
  /** When, and which command. */
  time: string;
  by: string;
}

export const clusterFile = (site: Site) => path.join(site.paths.state, 'cluster.json');

export async function readCluster(site: Site): Promise<ClusterRecord | null> {
  const file = clusterFile(site);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    throw err;
  }
  const bad = (why: string) =>
    new WebtreeError(
      'EIO',
      `${file} is damaged (${why}), so webtree does not know which database cluster the site serves`,
      {
        hint: `check by hand which server is the master of the right cluster, remove ${file}, and the next switch-web records it again`,
      },
    );
  let v: Partial<ClusterRecord>;
  try {
    v = JSON.parse(text) as Partial<ClusterRecord>;
  } catch {
    throw bad('not JSON');
  }
  if (typeof v !== 'object' || v === null || typeof v.server !== 'string') throw bad('no server');
  if (v.systemIdentifier !== null && !(typeof v.systemIdentifier === 'string' && /^\d+$/.test(v.systemIdentifier)))
    throw bad('bad systemIdentifier');
  if (v.timeline !== null && !(Number.isInteger(v.timeline) && (v.timeline as number) > 0)) throw bad('bad timeline');
  return {
    server: v.server,
    systemIdentifier: v.systemIdentifier ?? null,
    timeline: v.timeline ?? null,
    time: String(v.time ?? ''),
    by: String(v.by ?? ''),
  };
}

/** The plan step that records what a command saw. */
export const recordClusterOp = (site: Site, rec: ClusterRecord): Op => ({
  kind: 'write-file',
  path: clusterFile(site),
  content: `${JSON.stringify(rec, null, 2)}\n`,
  mode: 0o644,
});

export const describeCluster = (rec: ClusterRecord) =>
  `system_identifier ${rec.systemIdentifier ?? 'unknown'}, timeline ${rec.timeline ?? 'unknown'} (recorded from ${rec.server} by ${rec.by}${rec.time ? ` at ${rec.time}` : ''})`;
