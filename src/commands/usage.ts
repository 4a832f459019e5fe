/** The usage texts: `webtree help`, `webtree help COMMAND` and `COMMAND --help`. Loads no command. */
import type { CommandSpec, OptionSpec } from './types.js';

export const GLOBAL: Record<string, OptionSpec> = {
  config: {
    type: 'string',
    arg: 'FILE',
    description: 'site file (default: $WEBTREE_CONFIG, else /usr/remote/software/www/webtree.yaml)',
  },
  json: {
    type: 'boolean',
    description: 'print the result, or the error, as one JSON document on stdout (docs/json.md)',
  },
  'dry-run': { type: 'boolean', description: 'print the plan and change nothing (changing commands)' },
  debug: { type: 'boolean', description: 'show each operation and stack traces' },
  help: { type: 'boolean', description: 'show help' },
};

const optLine = (name: string, o: OptionSpec) => `  --${name}${o.arg ? ` ${o.arg}` : ''}`.padEnd(30) + o.description;

export function commandUsage(c: CommandSpec): string {
  const opts = Object.entries(c.options).map(([n, o]) => optLine(n, o));
  const common = [c.changes ? '[--dry-run]' : '', c.json ? '[--json]' : ''].filter(Boolean).join(' ');
  return [
    `usage: webtree ${c.name}${c.args ? ` ${c.args}` : ''}${Object.keys(c.options).length ? ' [options]' : ''} ${common}`.trimEnd(),
    '',
    c.summary,
    ...(opts.length ? ['', 'options:', ...opts] : []),
    ...(c.examples.length
      ? ['', 'examples:', ...c.examples.flatMap((e) => [`  webtree ${e.cmd}`, `      ${e.says}`])]
      : []),
    '',
    'global options: --config FILE, --debug (webtree help lists them)',
  ].join('\n');
}

export function mainUsage(commands: readonly CommandSpec[]): string {
  return [
    'usage: webtree [--config FILE] COMMAND [options]',
    '',
    'Deploys and runs the SISPI database web tools: Apache + mod_wsgi, versioned products, failover.',
    '',
    'commands:',
    // A long argument list gets the summary on the next line rather than running into it.
    ...commands.map((c) => {
      const head = `  ${c.name} ${c.args}`.trimEnd();
      return head.length < 30 ? `${head.padEnd(30)}${c.summary}` : `${head}\n${''.padEnd(30)}${c.summary}`;
    }),
    '',
    'global options:',
    ...Object.entries(GLOBAL).map(([n, o]) => optLine(n, o)),
    // Not a global option: install has its own --version V.
    optLine('version', {
      type: 'boolean',
      description: "print webtree's version (webtree --version, before any command)",
    }),
    '',
    'exit status: 0 done; 1 refused or failed (the tree is as it was); 2 bad usage or site file; 3 render --diff found changes.',
    'webtree help COMMAND (or webtree COMMAND --help) shows one command with examples.',
    'NO_COLOR=1 turns colour off; colour is only ever used on a terminal.',
  ].join('\n');
}
