/** help [COMMAND [VERB]]: the main usage, or one command's usage with its examples. */
import { usageError } from '../core/errors.js';
import type { CommandCode, CommandContext, CommandSpec } from './types.js';
import { commandUsage, mainUsage } from './usage.js';

async function runHelp(ctx: CommandContext, commands: readonly CommandSpec[]): Promise<number> {
  const [name, verb] = ctx.positionals;
  if (name === undefined) {
    ctx.reporter.result(null, () => mainUsage(commands));
    return 0;
  }
  const c = commands.find((x) => x.name === name);
  if (!c) throw usageError(`help: unknown command "${name}"`, `commands: ${commands.map((x) => x.name).join(', ')}`);
  if (verb !== undefined && !c.verbs?.includes(verb)) {
    throw usageError(
      c.verbs ? `help: unknown ${c.name} verb "${verb}"` : `help ${c.name} takes no second word, got "${verb}"`,
      c.verbs ? `verbs: ${c.verbs.join(', ')}` : `webtree help ${c.name}`,
    );
  }
  ctx.reporter.result(null, () => commandUsage(c));
  return 0;
}

/** The registry hands in its commands (it imports this module, so this one does not import it). */
export const helpCommand = (commands: readonly CommandSpec[]): CommandCode => ({
  run: (ctx) => runHelp(ctx, commands),
});
