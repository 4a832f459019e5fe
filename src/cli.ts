/**
 * The entry point and the one error boundary: parse the command line, run the command, turn
 * errors into a message, a hint and an exit status (0 done, 1 refused/failed, 2 bad usage or
 * site file, 3 changes pending). Stack traces only with --debug. Under --json an error is a JSON
 * document on stdout too: {"error": {code, message, hint, details}, "exit": N}.
 *
 * Only the registry is loaded up front; the command's own code is imported when it runs.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { explainErrno, noteServiceAccount } from './core/errno.js';
import { usageError, WebtreeError } from './core/errors.js';
import { exitStatusFor, signalName, STOP_SIGNALS, type StopSignal } from './core/interrupt.js';
import { createReporter, processStreams, type ErrorReport, type Streams } from './core/reporter.js';
import { COMMANDS, findCommand } from './commands/registry.js';
import { didYouMean } from './core/suggest.js';
import { commandUsage, GLOBAL, mainUsage } from './commands/usage.js';
import type { Site } from './site/types.js';
import { historySize, publishIfChanged } from './watch/after-change.js';
import { splitCommand } from './core/command-name.js';
import { debugLine } from './core/debug-line.js';

/** The version in webtree's own package.json. */
async function packageVersion(): Promise<string> {
  const { PACKAGE_ROOT } = await import('./core/package-root.js');
  const { readFile } = await import('node:fs/promises');
  return (JSON.parse(await readFile(`${PACKAGE_ROOT}/package.json`, 'utf8')) as { version: string }).version;
}

/**
 * An option the command does not take, said in its own words with the nearest one it does take
 * ("unknown option --dryrun (did you mean --dry-run?)"), before parseArgs's own wording.
 */
function refuseUnknownOptions(command: string, args: string[], specs: Record<string, unknown>): void {
  const known = Object.keys(specs);
  for (const a of args) {
    if (a === '--') return;
    if (!a.startsWith('--')) continue;
    const name = a.slice(2).split('=')[0];
    if (known.includes(name)) continue;
    const near = didYouMean(name, known);
    throw usageError(
      `unknown option --${name}${near ? ` (did you mean --${near}?)` : ''}`,
      `webtree help ${command} lists its options`,
    );
  }
}

function describeError(err: unknown): { report: ErrorReport; code: number; stack?: string } {
  if (err instanceof WebtreeError) {
    return {
      report: { code: err.code, message: err.message, hint: err.hint ?? null, details: err.details ?? null },
      code: err.exitCode,
      stack: err.stack,
    };
  }
  const e = err as Error;
  return {
    report: {
      code: 'EUNEXPECTED',
      message: `unexpected error: ${e?.message ?? String(err)}`,
      hint: 'run again with --debug for the stack trace, and report it',
      details: null,
    },
    code: 1,
    stack: e?.stack,
  };
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
      streams.err(
        `webtree: ${sig} ignored: still putting the tree in order after ${String(controller.signal.reason)} (kill -9 would leave that to the next command)\n`,
      );
      return;
    }
    streams.err(`webtree: ${sig}: stopping; a change not yet live is put back, one already live is finished\n`);
    controller.abort(sig);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  return { signal: controller.signal, dispose: () => STOP_SIGNALS.forEach((s) => process.off(s, onSignal)) };
}

/**
 * The site file, read as whoever runs webtree; run as root, the process then works as the
 * service account it names (src/core/privilege.ts), unless the command keeps root.
 */
async function loadSiteAs(keepRoot: boolean, config: string | undefined, env: NodeJS.ProcessEnv): Promise<Site> {
  const { loadSite, siteFilePath } = await import('./site/open.js');
  const site = await loadSite(siteFilePath(config, env));
  if (!keepRoot) await (await import('./apply/owner.js')).becomeServiceAccount(site.apache.user, site.apache.group);
  return site;
}

/** The writer of descriptors 1 and 2, for the front door (src/launch.ts) to write by it too. */
export { processStreams };

export async function main(
  argv: string[],
  streams: Streams = processStreams,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const debug = argv.includes('--debug');
  const reporter = createReporter(argv.includes('--json'), streams, env);
  try {
    const { name, rest } = splitCommand(argv);
    if (name === undefined) {
      if (argv.includes('--version')) {
        streams.out(`webtree ${await packageVersion()}\n`);
        return 0;
      }
      if (argv.includes('--help') || argv.includes('-h') || argv.length === 0) {
        streams.out(mainUsage(COMMANDS) + '\n');
        return argv.length === 0 ? 2 : 0;
      }
      throw usageError('no command given', 'webtree help lists the commands');
    }
    const command = findCommand(name);
    if (!command) {
      const names = COMMANDS.map((c) => c.name);
      const near = didYouMean(name, names);
      throw usageError(
        `unknown command "${name}"${near ? ` (did you mean ${near}?)` : ''}`,
        `commands: ${names.join(', ')}`,
      );
    }
    const specs = { ...GLOBAL, ...command.options };
    refuseUnknownOptions(command.name, rest, specs);
    const config: ParseArgsConfig = {
      args: rest,
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        Object.entries(specs).map(([n, o]) => [n, o.multiple ? { type: o.type, multiple: true } : { type: o.type }]),
      ),
    };
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs(config);
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0];
      // "--keep -1": parseArgs calls the value ambiguous; say what was given and how to give it.
      const amb = /^Option '--([\w-]+)' argument is ambiguous/.exec(msg);
      if (amb) {
        const value = rest[rest.indexOf(`--${amb[1]}`) + 1];
        throw usageError(
          `${command.name}: --${amb[1]} was given "${value}", which looks like an option`,
          `write --${amb[1]}=${value} if that is the value you mean; webtree help ${command.name}`,
        );
      }
      throw usageError(`${command.name}: ${msg}`, `webtree help ${command.name}`);
    }
    const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
    if (values.help) {
      streams.out(commandUsage(command) + '\n');
      return 0;
    }
    const { min, max } = command.positionals;
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw usageError(
        `${command.name} takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}${command.args ? ` (${command.args})` : ''}, got ${parsed.positionals.length}`,
        commandUsage(command).split('\n')[0],
      );
    }
    // A changing command given the option with which it only reads (render --diff) reads.
    const reading = command.readsWith !== undefined && values[command.readsWith] === true;
    const rootVerb = command.rootVerbs?.includes(String(parsed.positionals[0])) === true;
    const changes = (command.changes || rootVerb) && !reading;
    if (values['dry-run'] && !changes)
      throw usageError(
        `${reading ? `${command.name} --${command.readsWith}` : command.name} changes nothing; --dry-run does not apply`,
      );
    if (values.json && !command.json) throw usageError(`${command.name} prints text only; --json does not apply`);
    const run = await command.load();
    // Start-up as an operator can see it: from the process's start until the command's own code
    // is loaded and its first operation begins (bench/status.mjs measures the same from outside).
    if (debug) streams.err(`${debugLine(`${command.name}: started (node, the CLI and the command's code loaded)`)}\n`);
    let site: Promise<Site> | undefined;
    let historyBefore = 0;
    // Only a command that will change the tree takes the signals over.
    const stop = changes && values['dry-run'] !== true ? stopOnSignals(streams) : undefined;
    const code = await run({
      positionals: parsed.positionals,
      options: values,
      reporter,
      dryRun: values['dry-run'] === true,
      debug,
      config: values.config as string | undefined,
      env,
      site: () =>
        (site ??= loadSiteAs(command.keepsRoot === true || rootVerb, values.config as string | undefined, env).then(
          (s) => {
            noteServiceAccount(s.apache); // a permission hint then names the service account, not whoever runs
            historyBefore = historySize(s);
            return s;
          },
        )),
      catalog: () => import('./catalog/load.js').then(({ loadCatalog }) => loadCatalog()),
      signal: stop?.signal,
    }).finally(async () => {
      stop?.dispose();
      // The status page and metrics follow the history (src/watch/after-change.ts); init has no page yet.
      if (changes && values['dry-run'] !== true && site && command.name !== 'init') {
        const s = await site.catch(() => undefined);
        if (s) await publishIfChanged(s, historyBefore, reporter);
      }
    });
    if (debug) streams.err(`${debugLine(`${command.name}: done`)}\n`);
    if (stop?.signal.aborted && !code) {
      const sig = signalName(stop.signal);
      streams.err(`webtree: interrupted by ${sig} after the command had done its work; nothing is left half-done\n`);
      return exitStatusFor(sig);
    }
    return code ?? 0;
  } catch (err) {
    // A full disk, a denied permission, a read-only file system: named, with the fix, not a stack trace.
    const { report, code, stack } = describeError(await explainErrno(err));
    reporter.error(report, code, debug ? stack : undefined);
    return code;
  }
}
