/**
 * completion bash: a completion script made from the registry (commands, each command's
 * options, apache's verbs) and the catalog (product names), so that it never lags behind them.
 * Files for ARCHIVE and FILE values, directories for DIR values.
 */
import { usageError } from '../core/errors.js';
import { SHELLS } from './words.js';
import type { CommandCode, CommandContext, CommandSpec, OptionSpec } from './types.js';
import { GLOBAL } from './usage.js';

/** What a positional word or an option's value completes to. */
type Kind = 'product' | 'file' | 'dir' | 'command' | 'verb' | 'shell' | 'none';

function positionalKinds(c: CommandSpec): Kind[] {
  return c.args
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => {
      // A word may name alternatives (install's ARCHIVE|URL): a file is the one that can be completed.
      const alts = w.replace(/[[\]]/g, '').split('|');
      const a = alts[0];
      if (alts.includes('ARCHIVE') || alts.includes('FILE')) return 'file';
      if (a === 'PRODUCT') return 'product';
      if (a === 'COMMAND') return 'command';
      if (a === 'VERB') return 'verb';
      if (a === 'SHELL') return 'shell';
      return 'none';
    });
}

function valueKind(o: OptionSpec): Kind {
  if (o.arg === 'FILE') return 'file';
  if (o.arg === 'DIR') return 'dir';
  if (o.arg === 'P') return 'product';
  return 'none';
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function reply(kind: Kind, words: { products: string; commands: string; verbs: string }): string {
  switch (kind) {
    case 'product':
      return `_webtree_words ${q(words.products)}`;
    // compopt marks the replies as file names (a slash after a directory, quoting); it exists only inside completion.
    case 'file':
      return 'compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur")';
    case 'dir':
      return 'compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur")';
    case 'command':
      return `_webtree_words ${q(words.commands)}`;
    case 'verb':
      return `_webtree_words ${q(words.verbs)}`;
    case 'shell':
      return `_webtree_words ${q(SHELLS.join(' '))}`;
    case 'none':
      return 'COMPREPLY=()';
  }
}

export function bashCompletion(commands: readonly CommandSpec[], products: string[]): string {
  const optNames = (opts: Record<string, OptionSpec>) => Object.keys(opts).map((n) => `--${n}`);
  const allOptions = { ...GLOBAL, ...Object.assign({}, ...commands.map((c) => c.options)) } as Record<
    string,
    OptionSpec
  >;
  const valued = Object.entries(allOptions)
    .filter(([, o]) => o.type === 'string')
    .map(([n]) => `--${n}`);
  const verbsOf = (c: CommandSpec) => (c.verbs ?? []).join(' ');
  const words = { products: products.join(' '), commands: commands.map((c) => c.name).join(' '), verbs: '' };
  // One case per kind of value: --config|--license) files …
  const byReply = new Map<string, string[]>();
  for (const [n, o] of Object.entries(allOptions))
    if (o.type === 'string')
      byReply.set(reply(valueKind(o), words), [...(byReply.get(reply(valueKind(o), words)) ?? []), `--${n}`]);
  const valueCases = [...byReply].map(([r, names]) => `    ${names.join('|')}) ${r}; return ;;`);
  const optionCases = commands.map(
    (c) =>
      `      ${c.name}) opts=${q([...optNames(c.options), ...optNames(GLOBAL).filter((o) => (o !== '--dry-run' || c.changes) && (o !== '--json' || c.json))].join(' '))} ;;`,
  );
  const positionalCases = commands.flatMap((c) =>
    positionalKinds(c).map((k, i) => `    ${c.name}:${i}) ${reply(k, { ...words, verbs: verbsOf(c) })} ;;`),
  );
  // help's second word: a grouped command's verbs.
  const helpVerbCases = commands
    .filter((c) => c.verbs)
    .map((c) => `    help:1:${c.name}) ${reply('verb', { ...words, verbs: verbsOf(c) })}; return ;;`);
  return `# bash completion for webtree, made by \`webtree completion bash\`.
# Install: webtree completion bash > /etc/bash_completion.d/webtree  (or source it from ~/.bashrc)
_webtree_words() {
  mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}
_webtree() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local cmd= first= npos=0 i w skip=
  # The command is the first word that is neither an option nor an option's value.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if [[ -n $skip ]]; then skip=; continue; fi
    case $w in
      ${valued.join('|')}) skip=1 ;;
      -*) ;;
      *) if [[ -z $cmd ]]; then cmd=$w; elif [[ $npos -eq 0 ]]; then first=$w; npos=1; else npos=$((npos + 1)); fi ;;
    esac
  done
  case $prev in
${valueCases.join('\n')}
  esac
  if [[ $cur == -* ]]; then
    local opts=${q(optNames(GLOBAL).join(' '))}
    case $cmd in
${optionCases.join('\n')}
    esac
    _webtree_words "$opts"
    return
  fi
  if [[ -z $cmd ]]; then
    ${reply('command', words)}
    return
  fi
  case $cmd:$npos:$first in
${helpVerbCases.join('\n')}
  esac
  case $cmd:$npos in
${positionalCases.join('\n')}
    *) COMPREPLY=() ;;
  esac
}
complete -F _webtree webtree
`;
}

async function runCompletion(ctx: CommandContext, commands: readonly CommandSpec[]): Promise<number> {
  const shell = ctx.positionals[0];
  if (!(SHELLS as readonly string[]).includes(shell))
    throw usageError(`completion: no completion for the shell "${shell}"`, `shells: ${SHELLS.join(', ')}`);
  const products = (await ctx.catalog()).filter((d) => d.installable).map((d) => d.name);
  ctx.reporter.result(null, () => bashCompletion(commands, products));
  return 0;
}

/** The registry hands in its commands (it imports this module, so this one does not import it). */
export const completionCommand = (commands: readonly CommandSpec[]): CommandCode => ({
  run: (ctx) => runCompletion(ctx, commands),
});
