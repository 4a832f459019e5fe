/** What every consumer path gives a reader right now: the server named in the file it reads. */
import { readFileSync } from 'node:fs';
import { loadCatalog } from '../../src/catalog/load.js';
import { consumers } from '../../src/plan/switch-layout.js';
import { loadSite } from '../../src/site/load.js';
import type { Site } from '../../src/site/types.js';

/** init's samples say `server = NAME` (cfg) or `DATABASE_SERVER = 'NAME'` (ECL). */
export function serverIn(text: string): string | undefined {
  return /^server = (\S+)$/m.exec(text)?.[1] ?? /^DATABASE_SERVER = '([^']+)'$/m.exec(text)?.[1];
}

export async function consumerPaths(config: string): Promise<{ site: Site; paths: string[] }> {
  const site = await loadSite(config);
  return { site, paths: consumers(site, await loadCatalog()).map((c) => c.path) };
}

/** Per consumer path: the server its content names, or the error reading it. */
export function readServers(paths: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of paths) {
    try {
      out[p] = serverIn(readFileSync(p, 'utf8')) ?? 'unknown content';
    } catch (err) {
      out[p] = `unreadable: ${(err as NodeJS.ErrnoException).code}`;
    }
  }
  return out;
}
