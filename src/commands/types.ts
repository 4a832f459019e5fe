import type { CommandContext } from '../after/context.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  description: string;
  /** Shown in usage, e.g. "DIR"; completion offers files for FILE, directories for DIR, products for P. */
  arg?: string;
}

// The context lives below the commands: the checks after a change (src/after) run with it too.
export type { CommandContext };

/** An example in help: the command line (after `webtree `) and what it does. */
export interface Example {
  cmd: string;
  says: string;
}

/**
 * What the registry knows of a command without loading it: enough for parsing, usage, help and
 * completion. The code that runs it is imported only when it runs (startup stays fast).
 */
export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional part of the usage line: "ARCHIVE", "PRODUCT VERSION". */
  args: string;
  positionals: { min: number; max: number };
  options: Record<string, OptionSpec>;
  /** Changes the tree: takes --dry-run and the lock. */
  changes: boolean;
  /** An option with which the command only reads (render --diff): no --dry-run, no signal take-over. */
  readsWith?: string;
  /** Takes --json: the result (or the error) as one JSON document on stdout. */
  json: boolean;
  /** A grouped command's first word: apache start|stop|… */
  verbs?: readonly string[];
  /** Run as root, keeps root throughout (service files under /etc); every other command works as the service account. */
  keepsRoot?: boolean;
  /** Verbs of a grouped command that change (take --dry-run) and keep root, though the command's other verbs do neither. */
  rootVerbs?: readonly string[];
  /** Two to four real command lines, shown by help. */
  examples: Example[];
}

export type Run = (ctx: CommandContext) => Promise<number | void>;

/** What a command's own file exports: the code that runs it (the registry holds its spec). */
export interface CommandCode {
  run: Run;
}

/** A registry entry: the spec, and the import of the code that runs it. */
export interface LazyCommand extends CommandSpec {
  load(): Promise<Run>;
}
