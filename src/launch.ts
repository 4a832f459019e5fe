/**
 * The bundled CLI's front door (scripts/bundle.mjs builds it as dist/bundle/cli.js, what
 * bin/webtree.js imports). The read commands run from dist/bundle/read.js, one file holding all
 * they need: Node resolves, reads and compiles each ES module on its own, and the full CLI's
 * shared chunks cost `status` some thirty files. Every other command runs from the full CLI,
 * dist/bundle/full.js and its chunks, which load a command's code only when it runs. Both are
 * built from src/cli.ts: the same main, the same messages.
 */
import { splitCommand } from './core/command-name.js';
import type { Streams } from './core/reporter.js';

/** The commands read.js holds (scripts/bundle.mjs reads this list too). */
export const READ_COMMANDS = ['status', 'list', 'history'];

type Main = (argv: string[], streams?: Streams, env?: NodeJS.ProcessEnv) => Promise<number>;

export async function main(argv: string[], streams?: Streams, env?: NodeJS.ProcessEnv): Promise<number> {
  const { name } = splitCommand(argv);
  // Relative to this file in dist/bundle/ (the bundler leaves an import of a variable as it is).
  const file = name !== undefined && READ_COMMANDS.includes(name) ? './read.js' : './full.js';
  const cli = (await import(file)) as { main: Main };
  return cli.main(argv, streams, env);
}
