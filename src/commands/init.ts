import { writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeDirs } from '../apply/fsatomic.js';
import { lstatOrNull } from '../state/fs-read.js';
import { becomeServiceAccount, chownTree, ownerForThisProcess, primaryGroup, type Owner } from '../apply/owner.js';
import { WebtreeError } from '../core/errors.js';
import { effectiveAllows, withRoot } from '../core/privilege.js';
import { identityOps } from '../failover/record-identity.js';
import { planInit, treeDirs } from '../plan/init.js';
import { activeLink, consumers, serverSlotDir, slotPath } from '../plan/switch-layout.js';
import { readSite, siteFilePath } from '../site/load.js';
import { DEFAULT_SERVERS } from '../site/schema.js';
import type { DbServer, Site } from '../site/types.js';
import { siteYaml, type SiteValues } from '../site/write.js';
import { lockAndRecover, newApplyId, printPlan } from './tx.js';
import type { CommandCode } from './types.js';

async function firstExisting(candidates: string[]): Promise<string | undefined> {
  for (const c of candidates) if (await lstatOrNull(c)) return c;
  return undefined;
}

/** Where this host keeps Apache and mod_wsgi (Debian, then Red Hat layouts). */
async function detectApache(): Promise<SiteValues> {
  const httpd = await firstExisting(['/usr/sbin/apache2', '/usr/sbin/httpd']);
  const wsgi = await firstExisting([
    '/usr/lib/apache2/modules/mod_wsgi.so',
    '/usr/lib64/httpd/modules/mod_wsgi.so',
    '/usr/lib/httpd/modules/mod_wsgi.so',
  ]);
  const modules = await firstExisting([
    '/usr/lib/apache2/modules',
    '/usr/lib64/httpd/modules',
    '/usr/lib/httpd/modules',
  ]);
  return { 'apache.httpd': httpd, 'apache.wsgiModule': wsgi, 'apache.modulesDir': modules };
}

function parseServer(spec: string): DbServer {
  const m = /^([A-Za-z0-9][A-Za-z0-9_-]*)=([A-Za-z0-9.-]+):(\d{1,5})$/.exec(spec);
  if (!m)
    throw new WebtreeError('EUSAGE', `bad --server "${spec}"`, {
      hint: 'give it as NAME=HOST:PORT, e.g. --server server2=server2.ctio.noao.edu:5442',
    });
  return { name: m[1], host: m[2], port: Number(m[3]) };
}

export const initCommand: CommandCode = {
  async run(ctx) {
    const prefix = ctx.options.prefix as string | undefined;
    const values: SiteValues = { ...(await detectApache()) };
    if (prefix !== undefined) {
      const dir = path.resolve(prefix);
      Object.assign(values, {
        'paths.www': path.join(dir, 'www'),
        'paths.products': path.join(dir, 'dbwebtools'),
        'paths.runtime': path.join(dir, 'local', 'web_logs'),
        'apache.listen': '127.0.0.1:8080',
      });
    }
    if (ctx.options.listen !== undefined) values['apache.listen'] = ctx.options.listen;
    const user = ctx.options.user as string | undefined;
    if (user !== undefined) values['apache.user'] = user;
    values['apache.group'] = ctx.options.group ?? (user ? await primaryGroup(user) : undefined);
    const given = ((ctx.options.server as string[] | undefined) ?? []).map(parseServer);
    const servers = given.length ? given : DEFAULT_SERVERS;
    if (given.length)
      values['database.active'] = servers.some((s) => s.name === 'server3') ? 'server3' : servers[0].name;

    const file = siteFilePath(ctx.config, ctx.env, prefix);
    if (await lstatOrNull(file)) {
      throw new WebtreeError('EIO', `site file ${file} exists; init never overwrites it`, {
        hint: 'edit it by hand, or give another place with --config',
      });
    }
    const text = siteYaml(
      values,
      servers,
      `webtree site file, written by \`webtree init\` on ${new Date().toISOString()}.\nEdit by hand; \`webtree verify\` checks it. Paths must be absolute.`,
    );
    const { site, problems } = readSite(text, file);
    if (!site) {
      throw new WebtreeError('ESITE', 'these options make a bad site file', {
        details: problems.map((p) => `  ${p.key}: ${p.message}`).join('\n'),
        hint: 'fix the options and run init again',
      });
    }
    const catalog = await ctx.catalog();
    const sandbox = prefix !== undefined;
    const existing = await existingPaths(site, catalog);
    const plan = planInit(site, catalog, existing, { sandbox });
    // The cluster the site serves, for switch-web's checks: asked of servers the operator named,
    // or of the production site's; a sandbox with the sample server names has nothing to ask.
    if (ctx.options['no-check-db'] !== true && (given.length > 0 || !sandbox)) {
      const { ops, notes } = await identityOps(site, site.database.active, new Date().toISOString(), 'init');
      plan.ops.push(...ops);
      for (const n of notes) n.startsWith('warning: ') ? ctx.reporter.warn(n.slice(9)) : ctx.reporter.note(n);
    }
    // The site file comes last: an init cut short is run again, and it refuses once the file exists.
    plan.ops.push(
      { kind: 'make-dir', path: path.dirname(file) },
      { kind: 'write-file', path: file, content: text, mode: 0o644 },
    );
    if (ctx.dryRun) {
      printPlan(ctx.reporter, plan);
      return 0;
    }
    const owner = await ownerForThisProcess(site.apache.user, site.apache.group);
    let rootWrites: { file: string; text: string } | undefined;
    if (owner) {
      // Root makes what the account cannot (the top directories, in root-owned parents), then
      // works as the account: an existing tree is the account's, and may hold its links.
      await makeTops(site, path.dirname(file), owner);
      const dir = await fs.stat(path.dirname(file)).catch(() => undefined);
      if (dir && !effectiveAllows(dir, 3, { uid: owner.uid, groups: [owner.gid] })) {
        // A site file beside the tree, in a directory of root's: root writes it, and it stays root's.
        plan.ops.splice(-2, 2);
        rootWrites = { file, text };
      }
      await becomeServiceAccount(site.apache.user, site.apache.group);
    }
    // The one write before the executor: its lock and journal live in the state directory.
    const first = await makeDirs(site.paths.state, 0o755);
    if (first && owner) await chownTree(first, owner);
    // On an existing tree an interrupted change may be pending: it is settled before adding to the tree.
    const { lock, executor } = await lockAndRecover(ctx, site, 'init');
    try {
      await executor.apply(plan, newApplyId());
      if (rootWrites) withRoot(() => writeFileSync(rootWrites.file, rootWrites.text, { flag: 'wx', mode: 0o644 }));
    } finally {
      await lock.release();
    }
    // The production default (0.0.0.0:80) with Apache as an unprivileged account: said now, with the fix, not at the first start.
    const port = await (await import('../apache/control.js')).portProblem(site);
    if (port)
      ctx.reporter.warn(
        `apache.listen is ${site.apache.listen.host}:${site.apache.listen.port} and Apache runs as ${site.apache.user}: ${port.message}; \`webtree apache start\` refuses until then: ${port.hint}`,
      );
    ctx.reporter.result(
      {
        siteFile: file,
        www: site.paths.www,
        products: site.paths.products,
        runtime: site.paths.runtime,
        added: plan.ops.length - (rootWrites ? 0 : 2),
        sandbox,
      },
      () =>
        [
          `wrote ${file}`,
          `web tree ${site.paths.www}, products ${site.paths.products}, runtime ${site.paths.runtime}`,
          `${plan.ops.length - (rootWrites ? 0 : 2)} things added${existing.size ? ` (kept ${existing.size} that were there)` : ''}`,
          prefix !== undefined ? `next: export WEBTREE_CONFIG=${file}` : '',
        ]
          .filter(Boolean)
          .join('\n'),
    );
    return 0;
  },
};

/**
 * What the account cannot make, root makes: each missing directory of the tree (and the site
 * file's) whose nearest existing ancestor is closed to the account, with root-owned parents; the
 * directory itself goes to the account, which makes the rest. Outermost first, so that a
 * directory root gave away is the ancestor the account then writes in. Nothing existing changes.
 */
async function makeTops(site: Site, siteDir: string, owner: Owner): Promise<void> {
  const who = { uid: owner.uid, groups: [owner.gid] };
  const dirs = [...new Set([siteDir, ...treeDirs(site)].map((d) => path.resolve(d)))].sort(
    (a, b) => a.split('/').length - b.split('/').length,
  );
  for (const dir of dirs) {
    let above = path.dirname(dir);
    while ((await lstatOrNull(above)) === null && path.dirname(above) !== above) above = path.dirname(above);
    if (await lstatOrNull(dir)) continue;
    const st = await fs.stat(above).catch(() => undefined);
    if (st?.isDirectory() && effectiveAllows(st, 3, who)) continue;
    await makeDirs(path.dirname(dir), 0o755);
    await fs.mkdir(dir, { mode: 0o755 });
    await fs.lchown(dir, owner.uid, owner.gid);
  }
}

async function existingPaths(site: Site, catalog: Parameters<typeof consumers>[1]): Promise<Set<string>> {
  const candidates = [...treeDirs(site), path.join(site.paths.html, 'robots.txt'), activeLink(site)];
  for (const c of consumers(site, catalog)) {
    candidates.push(c.path);
    for (const s of site.database.servers)
      candidates.push(c.variant(s.name), serverSlotDir(site, s.name), slotPath(site, s.name, c.slot));
  }
  const out = new Set<string>();
  for (const c of candidates) if (await lstatOrNull(c)) out.add(c);
  return out;
}
