/**
 * Which database cluster a server is, beside whether it is the master. A primary is not enough:
 * an old master rebuilt without `-R` comes up as a primary of a stale fork, and an unrelated,
 * freshly initialised cluster on the right port is a primary too. PostgreSQL gives every cluster
 * a `system_identifier` at initdb, kept by base backups and promotion, so a standby and its
 * promoted self share it; the timeline goes up at every promotion, so a server whose timeline is
 * behind the one the site recorded is a master that was failed over from.
 *
 * The timeline of a primary comes from the name of the WAL file it writes
 * (pg_walfile_name(pg_current_wal_lsn())), which every role may call and which moves at the
 * promotion itself; pg_control_checkpoint().timeline_id lags until the next checkpoint.
 * pg_control_system() is executable by PUBLIC on a stock PostgreSQL 15, but sites that harden
 * their servers revoke it: then the role needs pg_monitor (or GRANT EXECUTE on the function),
 * and webtree says so instead of failing.
 */
import type pg from 'pg';
import type { DbServer } from '../site/types.js';
import { withClient, type DbTarget } from './primary.js';

export interface ServerProbe {
  server: string;
  primary: boolean;
  version: string;
  /** pg_control_system().system_identifier, as text (a bigint); null when the role may not read it. */
  systemIdentifier: string | null;
  /** The timeline the primary writes on; null on a standby (not needed there). */
  timeline: number | null;
  /** Why the identity could not be read (a missing grant), for a warning. */
  identityProblem?: string;
}

/** The one grant the site's role needs for the identity check, as the docs and the warning say it. */
export const identityGrant = (user: string) =>
  `GRANT pg_monitor TO ${user}; (or GRANT EXECUTE ON FUNCTION pg_control_system() TO ${user};)`;

async function systemIdentifier(client: pg.Client, db: DbTarget): Promise<{ id: string | null; problem?: string }> {
  try {
    const r = await client.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()');
    return { id: r.rows[0].id };
  } catch (err) {
    // 42501: insufficient_privilege. Anything else is a real failure and is thrown as such.
    if ((err as { code?: string }).code !== '42501') throw err;
    return {
      id: null,
      problem: `role "${db.user}" may not call pg_control_system(), so the cluster identity cannot be checked: as a superuser run ${identityGrant(db.user)}`,
    };
  }
}

export async function probeServer(server: DbServer, db: DbTarget): Promise<ServerProbe> {
  return withClient(server, db, async (client) => {
    const r = await client.query<{ rec: boolean; version: string }>(
      "SELECT pg_is_in_recovery() AS rec, current_setting('server_version') AS version",
    );
    const { rec, version } = r.rows[0];
    const { id, problem } = await systemIdentifier(client, db);
    let timeline: number | null = null;
    if (!rec) {
      const t = await client.query<{ wal: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS wal');
      timeline = parseInt(t.rows[0].wal.slice(0, 8), 16);
    }
    return {
      server: server.name,
      primary: rec === false,
      version,
      systemIdentifier: id,
      timeline,
      ...(problem ? { identityProblem: problem } : {}),
    };
  });
}
