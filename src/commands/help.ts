/** help [COMMAND [VERB]]: the main usage, or one command's usage with its examples. */
import { usageError } from '../core/errors.js';
import { COMMANDS, findCommand } from './registry.js';
import type { CommandCode, CommandContext } from './types.js';
import { commandUsage, mainUsage } from './usage.js';

async function runHelp(ctx: CommandContext): Promise<number> {
  const [name, verb] = ctx.positionals;
  if (name === undefined) {
    ctx.reporter.result(null, () => mainUsage());
    return 0;
  }
  const c = findCommand(name);
  if (!c) throw usageError(`help: unknown command "${name}"`, `commands: ${COMMANDS.map((x) => x.name).join(', ')}`);
  if (verb !== undefined && !c.verbs?.includes(verb)) {
    throw usageError(c.verbs ? `help: unknown ${c.name} verb "${verb}"` : `help ${c.name} takes no second word, got "${verb}"`, c.verbs ? `verbs: ${c.verbs.join(', ')}` : `webtree help ${c.name}`);
  }
  ctx.reporter.result(null, () => commandUsage(c));
  return 0;
}

export const helpCommand: CommandCode = { run: runHelp };
