/**
 * The report as Prometheus' text exposition format, for node_exporter's textfile collector.
 * Pure. Every family has HELP and TYPE; label values are escaped as the format says (\\, \", \n).
 */
import type { CheckReport } from './report.js';

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>) => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};
const num = (n: number) => (Number.isFinite(n) ? String(n) : 'NaN');
const bool = (b: boolean | null | undefined) => (b ? 1 : 0);
const seconds = (iso: string | null) => (iso ? Date.parse(iso) / 1000 : NaN);

export function metricsText(r: CheckReport): string {
  const out: string[] = [];
  const family = (name: string, help: string, samples: [Record<string, string>, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [l, v] of samples) out.push(`${name}${labels(l)} ${num(v)}`);
  };
  family('webtree_check_ok', '1 when the last webtree check found nothing wrong, else 0.', [[{}, bool(r.ok)]]);
  family('webtree_findings', 'Number of findings of the last webtree check.', [[{}, r.findings.length]]);
  family(
    'webtree_product_info',
    'The active version of each product (always 1).',
    r.products.filter((p) => p.current !== null).map((p) => [{ product: p.name, version: p.current! }, 1]),
  );
  family(
    'webtree_app_up',
    '1 when the app answered its probe with 2xx (and the expected text).',
    r.apps.map((a) => [{ app: a.app }, bool(a.up)]),
  );
  family(
    'webtree_app_probe_seconds',
    'How long the app took to answer its probe, seconds.',
    r.apps.map((a) => [{ app: a.app }, a.seconds]),
  );
  family('webtree_apache_up', '1 when the Apache of this web tree runs.', [[{}, bool(r.apache.up)]]);
  family(
    'webtree_db_up',
    '1 when the database server answered.',
    r.servers.map((s) => [{ server: s.name }, bool(s.up)]),
  );
  family(
    'webtree_db_primary',
    '1 when the database server is a primary (pg_is_in_recovery() = false).',
    r.servers.map((s) => [{ server: s.name }, bool(s.primary)]),
  );
  family(
    'webtree_active_server_info',
    'The database server the web tools use (always 1).',
    r.active ? [[{ server: r.active }, 1]] : [],
  );
  family(
    'webtree_disk_free_bytes',
    'Free space on the file system of the products, the web tree or the logs, bytes.',
    r.disks.map((d) => [{ path: d.path }, d.freeBytes]),
  );
  family(
    'webtree_last_change_timestamp_seconds',
    'When the last change to the site was recorded in the history, Unix time.',
    [[{}, seconds(r.lastChange)]],
  );
  family('webtree_check_timestamp_seconds', 'When the last check ran, Unix time.', [[{}, seconds(r.checkedAt)]]);
  return out.join('\n') + '\n';
}
