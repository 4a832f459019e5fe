/** Every command, in the order `webtree --help` lists them. A test walks this list. */
import { activateCommand, rollbackCommand } from './activate.js';
import { adoptCommand } from './adopt.js';
import { apacheCommand } from './apache.js';
import { historyCommand } from './history.js';
import { initCommand } from './init.js';
import { installCommand } from './install.js';
import { listCommand } from './list.js';
import { pruneCommand } from './prune.js';
import { renderCommand } from './render.js';
import { statusCommand } from './status.js';
import { switchWebCommand } from './switch-web.js';
import type { Command } from './types.js';
import { verifyCommand } from './verify.js';

export const COMMANDS: Command[] = [
  initCommand,
  installCommand,
  activateCommand,
  rollbackCommand,
  listCommand,
  statusCommand,
  historyCommand,
  pruneCommand,
  verifyCommand,
  renderCommand,
  apacheCommand,
  switchWebCommand,
  adoptCommand,
];

export const findCommand = (name: string) => COMMANDS.find((c) => c.name === name);
