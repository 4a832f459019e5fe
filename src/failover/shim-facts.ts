/**
 * The guide's hand-kept scripts in the service account's ~/bin, for adopt's shims
 * (src/plan/shims.ts). WEBTREE_ACCOUNT_HOME (tests only, README "Test-only environment") stands
 * for the account's home, so that no test writes in a real home directory.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { runProcess } from '../core/exec.js';
import { SHIM_NAMES, type HandScript } from '../plan/shims.js';
import type { Site } from '../site/types.js';
import { lstatOrNull } from '../state/fs-read.js';

async function accountHome(user: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (env.WEBTREE_ACCOUNT_HOME) return env.WEBTREE_ACCOUNT_HOME;
  const r = await runProcess('getent', ['passwd', user]);
  return r.exitCode === 0 ? r.stdout.trim().split(':')[5] || undefined : undefined;
}

export async function readHandScripts(site: Site, env: NodeJS.ProcessEnv): Promise<HandScript[]> {
  const home = await accountHome(site.apache.user, env);
  if (!home) return [];
  const out: HandScript[] = [];
  for (const name of SHIM_NAMES) {
    const p = path.join(home, 'bin', name);
    const st = await lstatOrNull(p);
    // A script the account cannot read is not one adopt can keep: left as it is.
    const content = st?.isFile() ? await fs.readFile(p, 'utf8').catch(() => undefined) : undefined;
    out.push({ path: p, name, content, mode: st ? st.mode & 0o7777 : undefined });
  }
  return out;
}
