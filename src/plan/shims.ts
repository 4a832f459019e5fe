/**
 * adopt's shims for the guide's hand-kept scripts in ~codemanager/bin: switch_web_tools.sh (the
 * guide's failover step) and runApache.sh (what the guide's init script runs). Where one exists
 * and is not webtree's already, adopt keeps the original in the attic (bytes and mode) and puts a
 * small script in its place that does the same through webtree, so that the habit and the other
 * hosts' scripts that call it keep working. Pure: the scripts' facts and the clock come in.
 */
import path from 'node:path';
import { atticDir } from '../core/attic.js';
import type { Site } from '../site/types.js';
import type { Op } from './ops.js';

/** One shell word: left bare when it is plainly safe, else single-quoted. */
const q = (s: string) => (/^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export const SHIM_MARK = '# webtree shim:';
export const SHIM_NAMES = ['switch_web_tools.sh', 'runApache.sh'] as const;

/** A hand-kept script as it is now, in the account's bin directory. */
export interface HandScript {
  path: string;
  name: (typeof SHIM_NAMES)[number];
  /** Absent when there is no regular file there. */
  content?: string;
  mode?: number;
}

export interface WebtreeCall {
  node: string;
  script: string;
}

const head = (site: Site, w: WebtreeCall, name: string, kept: string) => [
  '#!/bin/bash',
  `${SHIM_MARK} written by \`webtree adopt\` in place of the hand-kept ${name}; the original is`,
  `# kept in ${kept}. It does what the guide says the script does, through webtree.`,
  `node=${q(w.node)}`,
  `webtree=${q(w.script)}`,
  `config=${q(site.file)}`,
];

export function shimText(
  site: Site,
  w: WebtreeCall,
  name: HandScript['name'],
  kept: string,
  activeLink: string,
): string {
  if (name === 'runApache.sh') {
    return [
      ...head(site, w, name, kept),
      '# runApache.sh start|stop|restart|graceful (and status, configtest): webtree apache VERB.',
      'case "$1" in',
      '    start|stop|restart|graceful|status|configtest) exec "$node" "$webtree" --config "$config" apache "$@" ;;',
      '    *) echo "usage: runApache.sh start|stop|restart|graceful|status|configtest" >&2; exit 1 ;;',
      'esac',
      '',
    ].join('\n');
  }
  return [
    ...head(site, w, name, kept),
    "# switch_web_tools.sh [SERVER] [switch-web options]: every web tool to SERVER's database;",
    '# without SERVER, to the other server when the site has two, else it names the choices.',
    `servers=(${site.database.servers.map((s) => q(s.name)).join(' ')})`,
    'if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then exec "$node" "$webtree" --config "$config" switch-web "$@"; fi',
    `active=$(basename "$(readlink ${q(activeLink)})" 2>/dev/null)`,
    'others=()',
    'for s in "${servers[@]}"; do [ "$s" = "$active" ] || others+=("$s"); done',
    'if [ ${#others[@]} -ne 1 ]; then',
    '    echo "switch_web_tools.sh: the web tools use ${active:-no server}; say which server to switch to: ${others[*]}" >&2',
    '    echo "usage: switch_web_tools.sh SERVER [webtree switch-web options]" >&2',
    '    exit 2',
    'fi',
    'exec "$node" "$webtree" --config "$config" switch-web "${others[0]}" "$@"',
    '',
  ].join('\n');
}

/**
 * The operations that keep each hand-kept script in the attic and put the shim in its place.
 * The attic copy is never overwritten (keepExisting): a recovery that runs them again must not
 * copy the shim over the original.
 */
export function planShims(
  site: Site,
  scripts: HandScript[],
  w: WebtreeCall,
  activeLink: string,
  now: string,
): { ops: Op[]; notes: string[] } {
  const ops: Op[] = [];
  const notes: string[] = [];
  const stamp = now.replace(/[:.]/g, '-');
  for (const s of scripts) {
    if (s.content === undefined || s.content.includes(SHIM_MARK)) continue;
    const kept = path.join(atticDir(site.paths.state), `${s.name}.${stamp}`);
    ops.push({ kind: 'make-dir', path: atticDir(site.paths.state) });
    ops.push({ kind: 'copy-exact', from: s.path, to: kept, mode: (s.mode ?? 0o755) & 0o7777, keepExisting: true });
    ops.push({ kind: 'write-file', path: s.path, content: shimText(site, w, s.name, kept, activeLink), mode: 0o755 });
    notes.push(
      `${s.path} now calls webtree (${s.name === 'runApache.sh' ? 'webtree apache VERB' : 'webtree switch-web'}); the hand-kept one is in ${kept}`,
    );
  }
  return { ops, notes };
}
