/**
 * What switch-web cannot do, from the guide's "Triggering failover" and "Re-establishing the FNAL
 * mirror": the database side and the other SISPI services. Printed after every switch so that
 * the operator has the rest of the runbook in front of them. Pure text.
 */
import type { Site } from '../site/types.js';

export function failoverRunbook(site: Site, to: string, from: string | null): string[] {
  const host = (name: string | null) => site.database.servers.find((s) => s.name === name)?.host ?? name ?? '?';
  const newHost = host(to);
  const old = from ?? 'the old master';
  return [
    `Still to do by hand (sispi-database-guide, "Triggering failover"), now that ${to} is the master:`,
    `  1. On ${to}: uncomment the client lines in pg_hba.conf (decam_writer from the anemometer and LN2`,
    `     accelerometer hosts, decam_reader for Marco Bonati) and the replication lines, then reload`,
    `     (pg_ctl reload, or SELECT pg_reload_conf()): pg_hba.conf is read only at a reload.`,
    `     Turn WAL archiving on in postgresql.conf (archive_mode = on, archive_command: commented out on a`,
    `     standby); archive_mode takes effect only after a restart of ${to} (pg_ctl restart), not a reload.`,
    `  2. Point the Site package at the new master (${newHost}).`,
    `  3. Then restart the alarmserver and the telemetryserver so that they send data to ${to} (see the ICS page).`,
    `  4. When ${old} is back, rebuild it as the CTIO standby of ${to}, never start it as it is (it would be a`,
    `     second master on an old timeline): fresh data directory, then`,
    `     pg_basebackup -h ${newHost} -D DATADIR -R -X stream -c fast`,
    `     (-R writes standby.signal and primary_conninfo = 'host=${newHost} …': without it the copy starts as a`,
    `     primary of a stale fork, which switch-web refuses), its pg_hba.conf as a standby's, then start it.`,
    `  5. Re-establish the FNAL mirror (des61) from a base backup of ${to}, its primary_conninfo pointing at ${newHost}.`,
    `  6. ECL's settings.py needs no renaming: it moved with the other web tools. Check with \`webtree verify\`.`,
  ];
}
