/**
 * The bundled CLI's front door (scripts/bundle.mjs builds it as dist/bundle/cli.cjs, what
 * bin/webtree.js requires). The read commands run from dist/bundle/read.cjs, one CommonJS file
 * holding all they need, compiled from the V8 code cache the build made beside it
 * (core/code-cache.ts): Node's ES module loader costs more per file than require, and a file it
 * loads cannot come from a code cache on Node 20. install and apply run so from install.cjs.
 * Every other command runs from the full CLI, dist/bundle/full.js and its ES module chunks, which
 * load a command's code only when it runs. All three are built from src/cli.ts: the same main, the
 * same messages.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireCached } from './core/code-cache.js';
import { splitCommand } from './core/command-name.js';
import type { Streams } from './core/reporter.js';
import { debugLine } from './core/debug-line.js';

/** The commands read.cjs holds (scripts/bundle.mjs reads this list too). */
export const READ_COMMANDS = ['status', 'list', 'history'];
/**
 * The commands install.cjs holds: those that unpack an archive, whose start is on the unpack's
 * critical path (full.js's ES module chunks cost an install ~140 ms of compiling on Node 20).
 */
export const INSTALL_COMMANDS = ['install', 'apply'];

type Main = (argv: string[], streams?: Streams, env?: NodeJS.ProcessEnv) => Promise<number>;

export async function main(argv: string[], streams?: Streams, env?: NodeJS.ProcessEnv): Promise<number> {
  const { name } = splitCommand(argv);
  const own =
    name === undefined
      ? undefined
      : READ_COMMANDS.includes(name)
        ? 'read.cjs'
        : INSTALL_COMMANDS.includes(name)
          ? 'install.cjs'
          : undefined;
  if (own !== undefined) {
    // Beside this file in dist/bundle/ (the CommonJS build defines import.meta.url).
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), own);
    const { exports, cache } = requireCached(file);
    const cli = exports as { main: Main; processStreams: Streams };
    // --debug says whether the code cache served (a rejected one costs the compile, nothing else);
    // by the CLI's own writer, which a closed or full stderr does not stop (src/core/reporter.ts).
    if (argv.includes('--debug'))
      (streams ?? cli.processStreams).err(`${debugLine(`${own} loaded, code cache ${cache}`)}\n`);
    return cli.main(argv, streams, env);
  }
  // Relative to this file in dist/bundle/ (the bundler leaves an import of a variable as it is).
  const file = './full.js';
  const cli = (await import(file)) as { main: Main };
  return cli.main(argv, streams, env);
}
