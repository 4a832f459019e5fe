/**
 * adopt: take a tree laid out by hand (the guide's html/cfg/x.cfg -> x.cfg_server3 links, ECL's
 * settings.py a plain file beside settings.py_server2) over into webtree's form, where every
 * consumer resolves through <switch>/active. Every step leaves what a reader gets unchanged:
 * the switch links are laid first (nothing reads them yet), then each consumer is re-pointed
 * in one rename at a path that yields the same file. Refuses, changing nothing, when the tree
 * disagrees with itself. Pure: facts from src/failover/adopt-facts.ts.
 */
import path from 'node:path';
import type { ProductDescriptor } from '../catalog/types.js';
import { WebtreeError } from '../core/errors.js';
import { adoptProducts } from './adopt-products.js';
import type { AdoptFacts, ConsumerFacts, TreeState } from './facts.js';
import type { Site } from '../site/types.js';
import type { PlanContext } from './lifecycle.js';
import { emptyPlan, type Op, type Plan } from './ops.js';
import { activeLink, consumers, consumerTarget, serverSlotDir, slotPath, type Consumer } from './switch-layout.js';

/** What one consumer says about the active server, and how to convert it. */
export interface ConsumerVerdict {
  c: Consumer;
  server?: string;
  /** ok: already through the indirection; swap: a link to re-point; file: a plain file to replace; create: missing. */
  action: 'ok' | 'swap' | 'file' | 'create' | 'skip';
  /** For 'file': the variant that keeps the file (hard link). */
  keep?: string;
  line: string;
  problem?: boolean;
}

const base = (p: string) => path.basename(p);

export function judgeConsumer(site: Site, c: Consumer, f: ConsumerFacts, active: string | null): ConsumerVerdict {
  const names = site.database.servers.map((s) => s.name);
  const present = names.filter((s) => f.variants[s].kind !== 'missing');
  const beside = present.length
    ? `beside it: ${present.map((s) => base(c.variant(s))).join(', ')}`
    : 'no variant beside it';
  const bad = (line: string): ConsumerVerdict => ({ c, action: 'skip', line: `! ${line}`, problem: true });
  const at = f.at;
  if (at.kind === 'missing') {
    if (!present.length)
      return {
        c,
        action: 'skip',
        line: `  ${c.path}: missing, and ${beside}: ${c.app} is not set up here; left alone`,
      };
    return { c, action: 'create', line: `  ${c.path}: missing (${beside})` };
  }
  if (at.kind === 'link') {
    if (at.link === consumerTarget(site, c)) {
      if (active === null || !names.includes(active))
        return bad(
          `${c.path} goes through ${activeLink(site)}, which ${active === null ? 'is missing' : `names ${active}, not a site server`}`,
        );
      if (at.real === null)
        return bad(`${c.path} goes through ${activeLink(site)} -> ${active}, and leads to nothing (${beside})`);
      return { c, server: active, action: 'ok', line: `  ${c.path}: already through ${activeLink(site)}: ${active}` };
    }
    if (at.real === null)
      return bad(`${c.path} -> ${at.link}, which does not exist (${beside}): ${c.app} reads nothing now`);
    const owner = names.find((s) => f.variants[s].real === at.real);
    if (owner === undefined)
      return bad(`${c.path} -> ${at.link} leads to ${at.real}, which is none of the variants (${beside})`);
    return { c, server: owner, action: 'swap', line: `  ${c.path} -> ${at.link}: ${owner}` };
  }
  if (at.kind !== 'file') return bad(`${c.path} is a ${at.kind}, not a file or a link`);
  // A plain file: a hard link of a variant (adopt got this far before), else the guide's renaming
  // (mv settings.py_server2 settings.py) leaves the active server's variant the one missing.
  const same = names.filter((s) => f.variants[s].ino !== undefined && f.variants[s].ino === at.ino);
  const missing = names.filter((s) => f.variants[s].kind === 'missing');
  const equal = names.filter((s) => f.variants[s].sameBytes && !same.includes(s));
  const candidates = same.length ? same : [...missing, ...equal];
  if (candidates.length !== 1) {
    const why = [
      missing.length ? `missing: ${missing.map((s) => base(c.variant(s))).join(', ')}` : 'no variant missing',
      equal.length ? `identical: ${equal.map((s) => base(c.variant(s))).join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    return bad(`${c.path} is a plain file and which server it is for cannot be told (${why})`);
  }
  const server = candidates[0];
  const v = f.variants[server];
  if (!same.length && v.kind !== 'missing' && (v.owner !== at.owner || v.mode !== at.mode)) {
    // Same bytes, other owner or mode: the link would make the app read a file it may not be able to open.
    const octal = (m?: number) => (m ?? 0).toString(8).padStart(4, '0');
    return bad(
      `${c.path} is a plain file identical to ${base(c.variant(server))}, but that copy has owner ${v.owner} mode ${octal(v.mode)} where ${base(c.path)} has ${at.owner} mode ${octal(at.mode)}: linking would change what ${site.apache.user} can read (chown/chmod the copy like ${base(c.path)}, or remove it, then adopt again)`,
    );
  }
  const how = same.length
    ? `the same file as ${base(c.variant(server))}`
    : missing.includes(server)
      ? `${base(c.variant(server))} is the variant missing`
      : `identical to ${base(c.variant(server))}`;
  return { c, server, action: 'file', keep: c.variant(server), line: `  ${c.path}: a plain file; ${how}: ${server}` };
}

export function planAdopt(
  site: Site,
  catalog: ProductDescriptor[],
  tree: TreeState,
  facts: AdoptFacts,
  ctx: PlanContext,
): Plan {
  // A damaged manifest first: adopt would otherwise see its version as neither installed nor laid by hand.
  const damaged = Object.values(tree.products).flatMap((p) => p.damaged ?? [])[0];
  if (damaged) throw new WebtreeError('EDAMAGED', damaged.message, { hint: damaged.hint });
  const names = site.database.servers.map((s) => s.name);
  const verdicts = consumers(site, catalog).map((c) => judgeConsumer(site, c, facts.consumers[c.slot], facts.active));
  const voters = verdicts.filter((v) => v.server !== undefined);
  const servers = [...new Set(voters.map((v) => v.server!))];
  const products = adoptProducts(site, catalog, tree, facts);
  const lines = verdicts.map((v) => v.line);
  const problems = verdicts.filter((v) => v.problem).length + products.problems.length;
  if (servers.length > 1)
    lines.push(
      `! the consumers name different servers: ${servers
        .map(
          (s) =>
            `${s} (${voters
              .filter((v) => v.server === s)
              .map((v) => v.c.app)
              .join(', ')})`,
        )
        .join(', ')}`,
    );
  if (problems || servers.length > 1) {
    throw new WebtreeError(
      'EADOPT',
      'the tree disagrees with itself, so adopt cannot tell what the web tools should read; nothing changed',
      {
        details: [...lines, ...products.problems.map((p) => `! ${p}`)].join('\n'),
        hint: 'fix the lines marked "!" by hand (which variant is right is an operator\'s call), then run webtree adopt again',
      },
    );
  }
  const active =
    servers[0] ?? (facts.active !== null && names.includes(facts.active) ? facts.active : site.database.active);
  const notes: string[] = [
    `active server: ${active} (${servers.length ? `from ${voters.length} consumer path(s)` : 'no consumer path says; from the site file'})`,
  ];
  const hasActive = (c: Consumer) => facts.consumers[c.slot].variants[active].kind !== 'missing';
  for (const v of verdicts) {
    if (v.action === 'skip') notes.push(v.line.trim());
    if (v.action === 'create')
      notes.push(
        `${v.line.trim()}: ${hasActive(v.c) ? `made, through the switch, to ${active}'s variant` : `${active} has no variant either; left alone`}`,
      );
  }
  const cs = verdicts.map((v) => v.c);
  const used = verdicts.filter((v) => v.action !== 'skip').map((v) => v.c);
  for (const s of names.filter((n) => n !== active)) {
    const lacking = used.filter((c) => facts.consumers[c.slot].variants[s].kind === 'missing');
    if (lacking.length)
      notes.push(
        `warning: ${s} lacks ${lacking.map((c) => base(c.variant(s))).join(', ')}: switch-web ${s} will refuse until they exist`,
      );
  }

  // Before the commit: the switch layout (nothing reads it until a consumer points into it) and manifests.
  const prepare: Op[] = [];
  for (const d of [site.paths.switch, ...names.map((s) => serverSlotDir(site, s))])
    if (!facts.dirs.includes(d)) prepare.push({ kind: 'make-dir', path: d });
  for (const s of names)
    for (const c of cs)
      if (facts.slots[s][c.slot] !== c.variant(s))
        prepare.push({ kind: 'swap-link', path: slotPath(site, s, c.slot), target: c.variant(s) });
  if (facts.active !== active) prepare.push({ kind: 'swap-link', path: activeLink(site), target: active });
  prepare.push(...products.prepare);

  // Live: each one a single rename that leaves the reader with the same file.
  const live: Op[] = [];
  for (const v of verdicts) {
    if (v.action === 'swap') live.push({ kind: 'swap-link', path: v.c.path, target: consumerTarget(site, v.c) });
    if (v.action === 'file')
      live.push({ kind: 'link-over-file', path: v.c.path, target: consumerTarget(site, v.c), keep: v.keep! });
    if (v.action === 'create' && hasActive(v.c))
      live.push({ kind: 'swap-link', path: v.c.path, target: consumerTarget(site, v.c) });
  }
  live.push(...products.live);
  // The products' notes too: a missing web link, a real directory left alone, say what to do even when there is nothing to adopt.
  if (prepare.length + live.length === 0)
    return emptyPlan('adopt', "the tree is already in webtree's form; nothing to adopt", [...notes, ...products.notes]);

  const who = { time: ctx.now, ...ctx.who, outcome: 'ok' as const };
  const converted = verdicts.filter((v) => v.action === 'swap' || v.action === 'file').length;
  const records: Op[] = [
    {
      kind: 'record',
      entry: {
        id: ctx.id,
        ...who,
        action: 'adopt',
        to: active,
        message: `took the tree over: ${converted} consumer path(s) now resolve through ${activeLink(site)} -> ${active}`,
      },
    },
    // One entry per product; each its own id, since the history keeps one entry per id and action.
    ...products.entries.map((e): Op => ({ kind: 'record', entry: { id: `${ctx.id}:${e.product}`, ...who, ...e } })),
  ];
  return {
    command: 'adopt',
    summary: `take the hand-laid tree over (active server ${active}; ${converted} consumer path(s), ${products.entries.length} product(s) adopted)`,
    ops: [...prepare, ...live, ...records],
    commit: prepare.length,
    temps: products.temps,
    notes: [...notes, ...products.notes],
  };
}
