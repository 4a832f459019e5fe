/**
 * The site file as text, with every setting's description as a comment: operators edit it by
 * hand. Settings left at a derived default ("<www>/html") or unset are written commented out,
 * so the file shows every knob. Pure: values in, YAML out.
 */
import { stringify } from 'yaml';
import { SETTINGS } from './schema.js';
import type { DbServer } from './types.js';

export type SiteValues = Record<string, string | number | boolean | string[] | undefined>;

const scalar = (v: unknown) =>
  Array.isArray(v) ? `[${v.map((x) => stringify(x).trimEnd()).join(', ')}]` : stringify(v, { lineWidth: 0 }).trimEnd();

export function siteYaml(values: SiteValues, servers: DbServer[], header: string): string {
  const out: string[] = header.split('\n').map((l) => `# ${l}`.trimEnd());
  let section = '';
  let group = '';
  const eupsOn = values['apache.eups.setups'] !== undefined;
  for (const s of SETTINGS) {
    const parts = s.key.split('.');
    const name = parts[parts.length - 1];
    if (parts[0] !== section) {
      section = parts[0];
      group = '';
      out.push('', `${section}:`);
    }
    // A group (eups, mail) is all or nothing: commented out until the site sets it.
    const groupOn =
      parts[1] === 'eups'
        ? eupsOn
        : SETTINGS.some((x) => x.key.startsWith(`${parts[0]}.${parts[1]}.`) && values[x.key] !== undefined);
    const off = parts.length === 3 && !groupOn ? '# ' : '';
    if (parts.length === 3 && parts[1] !== group) {
      group = parts[1];
      out.push(`  ${off}${group}:`);
    }
    const indent = '  '.repeat(parts.length - 1);
    const v = values[s.key] ?? s.default;
    out.push(`${indent}# ${s.description}`);
    if (v === undefined) out.push(`${indent}# ${name}:`);
    else if (typeof v === 'string' && v.startsWith('<')) out.push(`${indent}# ${name}: ${v}`);
    else out.push(`${indent}${off}${name}: ${scalar(v)}`);
    if (s.key === 'database.connectTimeout') {
      out.push('  # the database servers (two or more); switch-web moves the web tools between them');
      out.push('  servers:');
      for (const srv of servers)
        out.push(`    - { name: ${scalar(srv.name)}, host: ${scalar(srv.host)}, port: ${srv.port} }`);
    }
  }
  return out.join('\n') + '\n';
}
