import type { ProductDescriptor } from '../catalog/types.js';
import type { Reporter } from '../core/reporter.js';
import type { Site } from '../site/types.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  description: string;
  /** Shown in usage, e.g. "DIR". */
  arg?: string;
}

export interface CommandContext {
  positionals: string[];
  options: Record<string, string | boolean | string[] | undefined>;
  reporter: Reporter;
  dryRun: boolean;
  debug: boolean;
  /** --config as given (undefined: $WEBTREE_CONFIG or the production default). */
  config?: string;
  env: NodeJS.ProcessEnv;
  /** Loads and validates the site file (exit 2 when bad). */
  site(): Promise<Site>;
  catalog(): Promise<ProductDescriptor[]>;
  /** Aborted (reason: the signal's name) on SIGINT, SIGTERM or SIGHUP while a changing command runs. */
  signal?: AbortSignal;
}

export interface Command {
  name: string;
  /** Several words for grouped commands: "apache start". */
  summary: string;
  /** Positional part of the usage line: "ARCHIVE", "PRODUCT VERSION". */
  args: string;
  positionals: { min: number; max: number };
  options: Record<string, OptionSpec>;
  /** Changes the tree: takes --dry-run and the lock. */
  changes: boolean;
  /** Reads only: takes --json. */
  json: boolean;
  run(ctx: CommandContext): Promise<number | void>;
}
