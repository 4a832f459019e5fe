/**
 * The entry point and the one error boundary: parse the command line, run the command, turn
 * errors into a message, a hint and an exit status (0 done, 1 refused/failed, 2 bad usage or
 * site file, 3 changes pending). Stack traces only with --debug.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadCatalog } from './catalog/load.js';
import { isErrno, usageError, WebtreeError } from './core/errors.js';
import { exitStatusFor, signalName, STOP_SIGNALS, type StopSignal } from './core/interrupt.js';
import { createReporter, processStreams, type Streams } from './core/reporter.js';
import { COMMANDS, findCommand } from './commands/registry.js';
import type { Command, OptionSpec } from './commands/types.js';
import { loadSite, siteFilePath } from './site/load.js';
import type { Site } from './site/types.js';

const GLOBAL: Record<string, OptionSpec> = {
  config: { type: 'string', arg: 'FILE', description: 'site file (default: $WEBTREE_CONFIG, else /usr/remote/software/www/webtree.yaml)' },
  json: { type: 'boolean', description: 'print the result as JSON (read commands)' },
  'dry-run': { type: 'boolean', description: 'print the plan and change nothing (changing commands)' },
  debug: { type: 'boolean', description: 'show each operation and stack traces' },
  help: { type: 'boolean', description: 'show help' },
};

const optLine = (name: string, o: OptionSpec) => `  --${name}${o.arg ? ` ${o.arg}` : ''}`.padEnd(30) + o.description;

export function commandUsage(c: Command): string {
  const opts = Object.entries(c.options).map(([n, o]) => optLine(n, o));
  const common = [c.changes ? '[--dry-run]' : '', c.json ? '[--json]' : ''].filter(Boolean).join(' ');
  return [`usage: webtree ${c.name}${c.args ? ` ${c.args}` : ''}${Object.keys(c.options).length ? ' [options]' : ''} ${common}`.trimEnd(), '', c.summary, ...(opts.length ? ['', 'options:', ...opts] : [])].join('\n');
}

export function mainUsage(): string {
  return [
    'usage: webtree [--config FILE] COMMAND [options]',
    '',
    'Deploys and runs the SISPI database web tools: Apache + mod_wsgi, versioned products, failover.',
    '',
    'commands:',
    // A long argument list gets the summary on the next line rather than running into it.
    ...COMMANDS.map((c) => {
      const head = `  ${c.name} ${c.args}`.trimEnd();
      return head.length < 30 ? `${head.padEnd(30)}${c.summary}` : `${head}\n${''.padEnd(30)}${c.summary}`;
    }),
    '',
    'global options:',
    ...Object.entries(GLOBAL).map(([n, o]) => optLine(n, o)),
    '',
    'exit status: 0 done; 1 refused or failed (the tree is as it was); 2 bad usage or site file; 3 render --diff found changes.',
    'webtree COMMAND --help shows one command.',
  ].join('\n');
}

/** The command's name: the first word that is not an option or an option's value. */
function splitCommand(argv: string[]): { name?: string; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--config') { i++; continue; }
    if (a.startsWith('-')) continue;
    return { name: a, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { rest: argv };
}

function describeError(err: unknown, debug: boolean): { text: string; code: number } {
  if (err instanceof WebtreeError) {
    const lines = [`webtree: ${err.message}`];
    if (err.details) lines.push(err.details);
    if (err.hint) lines.push(`  hint: ${err.hint}`);
    if (debug && err.stack) lines.push(err.stack);
    return { text: lines.join('\n'), code: err.exitCode };
  }
  if (isErrno(err, 'EACCES') || isErrno(err, 'EPERM')) {
    const e = err as NodeJS.ErrnoException;
    return { text: `webtree: permission denied${e.path ? ` on ${e.path}` : ''} (${e.syscall ?? 'access'})\n  hint: run as the service account or as root${debug ? `\n${e.stack}` : ''}`, code: 1 };
  }
  if (isErrno(err, 'ENOSPC')) return { text: `webtree: the disk is full${(err as NodeJS.ErrnoException).path ? ` (writing ${(err as NodeJS.ErrnoException).path})` : ''}; nothing was changed\n  hint: free some space (webtree prune PRODUCT --keep N) and run the command again`, code: 1 };
  const e = err as Error;
  return { text: `webtree: unexpected error: ${e?.message ?? String(err)}${debug ? `\n${e?.stack}` : '\n  hint: run again with --debug for the stack trace, and report it'}`, code: 1 };
}

/**
 * While a changing command runs, SIGINT, SIGTERM and SIGHUP abort its AbortSignal instead of
 * killing the process: the executor puts the tree back (before the commit point) or finishes the
 * change (after it), and the command exits 128 + the signal's number. A second signal during that
 * cleanup is ignored with a message: dying there would leave the work to the next command.
 */
function stopOnSignals(streams: Streams): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (sig: StopSignal) => {
    if (controller.signal.aborted) {
      streams.err(`webtree: ${sig} ignored: still putting the tree in order after ${String(controller.signal.reason)} (kill -9 would leave that to the next command)\n`);
      return;
    }
    streams.err(`webtree: ${sig}: stopping; a change not yet live is put back, one already live is finished\n`);
    controller.abort(sig);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  return { signal: controller.signal, dispose: () => STOP_SIGNALS.forEach((s) => process.off(s, onSignal)) };
}

export async function main(argv: string[], streams: Streams = processStreams, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    const { name, rest } = splitCommand(argv);
    if (name === undefined) {
      if (argv.includes('--help') || argv.includes('-h') || argv.length === 0) {
        streams.out(mainUsage() + '\n');
        return argv.length === 0 ? 2 : 0;
      }
      throw usageError('no command given', 'webtree --help lists the commands');
    }
    const command = findCommand(name);
    if (!command) throw usageError(`unknown command "${name}"`, `commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    const specs = { ...GLOBAL, ...command.options };
    const config: ParseArgsConfig = {
      args: rest,
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(Object.entries(specs).map(([n, o]) => [n, o.multiple ? { type: o.type, multiple: true } : { type: o.type }])),
    };
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs(config);
    } catch (err) {
      throw usageError(`${command.name}: ${(err as Error).message.split('\n')[0]}`, `webtree ${command.name} --help`);
    }
    const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
    if (values.help) {
      streams.out(commandUsage(command) + '\n');
      return 0;
    }
    const { min, max } = command.positionals;
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw usageError(`${command.name} takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}${command.args ? ` (${command.args})` : ''}, got ${parsed.positionals.length}`, commandUsage(command).split('\n')[0]);
    }
    if (values['dry-run'] && !command.changes) throw usageError(`${command.name} changes nothing; --dry-run does not apply`);
    const reporter = createReporter(values.json === true, streams);
    let site: Promise<Site> | undefined;
    const stop = command.changes && values['dry-run'] !== true ? stopOnSignals(streams) : undefined;
    const code = await command.run({
      positionals: parsed.positionals,
      options: values,
      reporter,
      dryRun: values['dry-run'] === true,
      debug,
      config: values.config as string | undefined,
      env,
      site: () => (site ??= loadSite(siteFilePath(values.config as string | undefined, env))),
      catalog: () => loadCatalog(),
      signal: stop?.signal,
    }).finally(() => stop?.dispose());
    if (stop?.signal.aborted && !code) {
      const sig = signalName(stop.signal);
      streams.err(`webtree: interrupted by ${sig} after the command had done its work; nothing is left half-done\n`);
      return exitStatusFor(sig);
    }
    return code ?? 0;
  } catch (err) {
    const { text, code } = describeError(err, debug);
    streams.err(text + '\n');
    return code;
  }
}
