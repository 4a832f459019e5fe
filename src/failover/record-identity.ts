/**
 * init and adopt record which database cluster the site serves, when the active server answers:
 * the first switch-web then has something to compare its target with. Not answering is no
 * reason to refuse either command (the database may be down for the very failover being
 * prepared); the note says that the first checked switch records it instead.
 */
import { errorText } from '../core/errors.js';
import { probeServer } from '../db/cluster.js';
import { describeServer } from '../db/primary.js';
import type { Op } from '../plan/ops.js';
import type { Site } from '../site/types.js';
import { recordClusterOp } from '../state/cluster.js';
import { dbTarget, recordOf } from './target-check.js';

export async function identityOps(
  site: Site,
  active: string,
  now: string,
  by: string,
): Promise<{ ops: Op[]; notes: string[] }> {
  const server = site.database.servers.find((s) => s.name === active);
  if (!server) return { ops: [], notes: [] };
  try {
    const p = await probeServer(server, dbTarget(site));
    const notes = [
      `database: ${describeServer(server)} is ${p.primary ? 'a primary' : 'a standby'}${p.systemIdentifier ? `, cluster system_identifier ${p.systemIdentifier}` : ''}${p.timeline !== null ? `, timeline ${p.timeline}` : ''}: recorded for switch-web's checks`,
    ];
    if (p.identityProblem) notes.push(`warning: ${p.identityProblem}`);
    return { ops: [recordClusterOp(site, recordOf(p, now, by))], notes };
  } catch (err) {
    return {
      ops: [],
      notes: [
        `database cluster not recorded (${errorText(err).split('\n')[0]}); the first switch-web that checks the database records it`,
      ],
    };
  }
}
