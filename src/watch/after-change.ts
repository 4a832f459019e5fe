/**
 * The status page and metrics after a changing command: they follow the history, so every
 * change that went live is published, an auto-rollback too (it is news); a command that recorded
 * nothing or only a refusal (the tree as it was) leaves them be. Called by cli.ts around every
 * changing command; publish.ts and the catalog are loaded only when there is something to publish.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Reporter } from '../core/reporter.js';
import type { Site } from '../site/types.js';

const historyPath = (s: Site) => path.join(s.paths.state, 'history.jsonl');

/** The history file's size: where this command's entries will begin. Synchronous: taken before its first write. */
export function historySize(s: Site): number {
  try {
    return statSync(historyPath(s)).size;
  } catch {
    return 0;
  }
}

/**
 * Whether the entries appended since `from` changed the site: any outcome but `failed` (refused or
 * reversed, the tree as it was). A history that shrank was replaced: treat it as changed.
 */
function changedSince(s: Site, from: number): boolean {
  let text: string;
  try {
    const size = statSync(historyPath(s)).size;
    if (size === from) return false;
    if (size < from) return true;
    text = readFileSync(historyPath(s)).subarray(from).toString('utf8');
  } catch {
    return false;
  }
  return text.split('\n').some((line) => {
    if (!line.trim()) return false;
    try {
      return (JSON.parse(line) as { outcome?: unknown }).outcome !== 'failed';
    } catch {
      return true; // a line webtree cannot read: let the page and the check say so
    }
  });
}

/**
 * Publishes the page, the metrics and any mail when the history grew with a change since
 * `historyBefore`. Best effort: a page that cannot be written never turns a change into a failure.
 */
export async function publishIfChanged(s: Site, historyBefore: number, reporter: Reporter): Promise<void> {
  if (!changedSince(s, historyBefore)) return;
  try {
    const [{ publishChange }, { loadCatalog }] = await Promise.all([
      import('./publish.js'),
      import('../catalog/load.js'),
    ]);
    const r = await publishChange(s, await loadCatalog());
    if (r.mailError) reporter.warn(r.mailError);
  } catch (err) {
    reporter.warn(`the status page was not updated: ${(err as Error).message}`);
  }
}
