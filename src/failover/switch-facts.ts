/**
 * The read step of switch-web: what the failover links and the target server's variants look
 * like now, as plain data for the pure planner (src/plan/switch.ts).
 */
import { activeKind as readActiveKind, activeServer } from '../state/server.js';
import fs from 'node:fs/promises';
import { testAsAccount } from '../core/exec.js';
import { workingAs, workingAsLogin } from '../core/privilege.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { lstatOrNull, readLinkOrNull } from '../state/fs-read.js';
import { consumers, serverSlotDir, slotPath, type Consumer } from '../plan/switch-layout.js';
import type { Site } from '../site/types.js';
import type { SwitchFacts } from '../plan/facts.js';

/**
 * The other servers whose variant of `c` is the very file `server`'s resolves to, or holds the
 * same bytes: a "switch" between them moves nothing (a link to server3's file, a copy of it).
 */
export async function variantTwins(site: Site, c: Consumer, server: string): Promise<string[]> {
  const mine = await fs.realpath(c.variant(server)).catch(() => null);
  if (mine === null) return [];
  const bytes = await fs.readFile(mine).catch(() => null);
  const out: string[] = [];
  for (const s of site.database.servers.map((x) => x.name).filter((n) => n !== server)) {
    const theirs = await fs.realpath(c.variant(s)).catch(() => null);
    if (theirs === null) continue;
    if (theirs === mine) out.push(`${s} (the same file, ${theirs})`);
    else if (bytes !== null && (await fs.readFile(theirs).catch(() => null))?.equals(bytes))
      out.push(`${s} (the same bytes)`);
  }
  return out;
}

/**
 * 'ok' when the variant is a file this process can open and read and, run as root, the service
 * account too (the apps read it as that account: root reading it proves nothing); else the
 * reason, in words.
 */
export async function variantProblem(file: string, account?: string): Promise<string> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) return 'not a regular file';
    const fh = await fs.open(file, 'r'); // access(2) says yes to root for anything: really open it
    await fh.close();
    // Opened as the account itself (core/privilege.ts), the open above already was its answer.
    if (account !== undefined && !(await workingAsLogin(account)) && !(await testAsAccount(account, ['-r', file]))) {
      return `not readable by ${account}, the account the apps run as`;
    }
    return 'ok';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return (await lstatOrNull(file)) ? 'a link that resolves to nothing' : 'missing';
    // Root working as the service account (core/privilege.ts) met the refusal as that account.
    const who = account ?? workingAs()?.user;
    if (code === 'EACCES') return who ? `not readable by ${who}, the account the apps run as` : 'not readable';
    return `unreadable (${code ?? String(err)})`;
  }
}

export async function readSwitchFacts(site: Site, catalog: ProductDescriptor[], server: string): Promise<SwitchFacts> {
  const facts: SwitchFacts = {
    active: await activeServer(site),
    consumers: {},
    serverDir: (await lstatOrNull(serverSlotDir(site, server)))?.isDirectory() ?? false,
    slots: {},
    variants: {},
    twins: {},
  };
  facts.activeKind = await readActiveKind(site);
  for (const c of consumers(site, catalog)) {
    const st = await lstatOrNull(c.path);
    const kind = !st
      ? 'missing'
      : st.isSymbolicLink()
        ? 'link'
        : st.isFile()
          ? 'file'
          : st.isDirectory()
            ? 'directory'
            : 'other';
    facts.consumers[c.slot] = { kind, link: kind === 'link' ? await fs.readlink(c.path) : null };
    facts.slots[c.slot] = await readLinkOrNull(slotPath(site, server, c.slot));
    facts.variants[c.slot] = await variantProblem(
      c.variant(server),
      process.getuid?.() === 0 ? site.apache.user : undefined,
    );
    facts.twins![c.slot] = await variantTwins(site, c, server);
  }
  return facts;
}
