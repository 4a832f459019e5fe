/**
 * repair: put every consumer back through <switch>/active after a hand edit split the site (the
 * guide's `ln -sf des_tv.cfg_server3 des_tv.cfg`, or `mv settings.py_server2 settings.py` on a
 * tree webtree already manages). Each consumer becomes the link to <switch>/active/<slot> in one
 * rename, so it reads the active server's variant; a plain file found there is kept under a
 * variant name (hard link: same owner, mode and bytes) before the link replaces it, never lost.
 * Pure: the facts come from src/failover/repair-facts.ts.
 *
 * The work is split in parts (RepairPart), each with its own lines and operations, so that
 * another kind of repair (restoring kept copies of variants) is one more part.
 */
import path from 'node:path';
import type { ProductDescriptor } from '../catalog/types.js';
import { WebtreeError } from '../core/errors.js';
import type { Site } from '../site/types.js';
import type { RepairFacts } from './facts.js';
import { recordOp, type PlanContext } from './lifecycle.js';
import { emptyPlan, type Op, type Plan } from './ops.js';
import { activeLink, consumers, consumerTarget, serverSlotDir, slotPath } from './switch-layout.js';

export interface RepairPart {
  /** Before the commit: nothing reads these yet. */
  prepare: Op[];
  /** Live: each one rename that leaves readers with a whole file. */
  live: Op[];
  /** What was found and what is done about it, one line each. */
  lines: string[];
  /** Why the part cannot be repaired: repair refuses, changing nothing. */
  problems: string[];
}

const base = (p: string) => path.basename(p);

/** Every consumer back through <switch>/active (which must name a site server). */
export function repairConsumers(
  site: Site,
  catalog: ProductDescriptor[],
  facts: RepairFacts,
  active: string,
  id: string,
): RepairPart {
  const part: RepairPart = { prepare: [], live: [], lines: [], problems: [] };
  const names = site.database.servers.map((s) => s.name);
  if (!facts.dirs.includes(serverSlotDir(site, active))) {
    if (!facts.dirs.includes(site.paths.switch)) part.prepare.push({ kind: 'make-dir', path: site.paths.switch });
    part.prepare.push({ kind: 'make-dir', path: serverSlotDir(site, active) });
  }
  for (const c of consumers(site, catalog)) {
    const f = facts.consumers[c.slot];
    const want = consumerTarget(site, c);
    if (facts.slots[active]?.[c.slot] !== c.variant(active))
      part.prepare.push({ kind: 'swap-link', path: slotPath(site, active, c.slot), target: c.variant(active) });
    if (f.at.kind === 'link' && f.at.link === want) continue;
    const unusable = () =>
      part.problems.push(
        `${c.path} cannot be put back on ${active}: ${c.variant(active)} is ${facts.usable[c.slot]} (${c.app})`,
      );
    const owner = names.find((s) => f.variants[s].real !== null && f.variants[s].real === f.at.real);
    if (f.at.kind === 'link' || f.at.kind === 'missing') {
      if (facts.usable[c.slot] !== 'ok') {
        unusable();
        continue;
      }
      const was = f.at.kind === 'missing' ? 'missing' : `-> ${f.at.link}${owner ? ` (${owner}'s variant)` : ''}`;
      part.lines.push(`${c.path}: ${was}; now -> ${want} (${active})`);
      part.live.push({ kind: 'swap-link', path: c.path, target: want });
      continue;
    }
    if (f.at.kind !== 'file') {
      part.problems.push(
        `${c.path} is a ${f.at.kind}: move it aside by hand (mv ${c.path} ${c.path}.by-hand), then run webtree repair again`,
      );
      continue;
    }
    // A plain file: keep it under the name of the variant it is (hard link), or beside the path.
    const same = names.find((s) => f.variants[s].ino !== undefined && f.variants[s].ino === f.at.ino);
    const equal = names.filter((s) => f.variants[s].sameBytes);
    const missing = names.filter((s) => f.variants[s].kind === 'missing');
    const server =
      same ?? (equal.length === 1 ? equal[0] : missing.length === 1 && equal.length === 0 ? missing[0] : undefined);
    const keep = server !== undefined ? c.variant(server) : `${c.path}.before-repair-${id}`;
    // Kept as the active server's own variant, the file itself is what the app goes on reading.
    if (server !== active && facts.usable[c.slot] !== 'ok') {
      unusable();
      continue;
    }
    const how = same
      ? `the same file as ${base(keep)}`
      : server !== undefined && equal.includes(server)
        ? `identical to ${base(keep)}`
        : server !== undefined
          ? `${base(keep)} is missing, so it is ${server}'s (kept as ${base(keep)})`
          : `no server's variant (kept as ${base(keep)})`;
    part.lines.push(`${c.path}: a plain file, ${how}; now -> ${want} (${active})`);
    part.live.push({ kind: 'link-over-file', path: c.path, target: want, keep });
  }
  return part;
}

export function planRepair(
  site: Site,
  catalog: ProductDescriptor[],
  facts: RepairFacts,
  ctx: PlanContext,
  parts: RepairPart[] = [],
): Plan {
  const names = site.database.servers.map((s) => s.name);
  const link = activeLink(site);
  if (facts.activeKind !== 'link' || facts.active === null || !names.includes(facts.active)) {
    const what =
      facts.activeKind === 'missing'
        ? 'is missing'
        : facts.activeKind !== 'link'
          ? `is a real ${facts.activeKind}, not a link`
          : `-> ${facts.active}, which is not one of the site's servers (${names.join(', ')})`;
    throw new WebtreeError(
      'ESWITCH',
      `${link} ${what}, so repair cannot tell which server the web tools should read; nothing changed`,
      {
        hint: `run webtree switch-web SERVER (it checks SERVER, then points ${link} at it${facts.activeKind === 'directory' ? ', moving the directory aside' : ''}), then webtree repair if verify still finds consumers around it`,
      },
    );
  }
  const all = [repairConsumers(site, catalog, facts, facts.active, ctx.id), ...parts];
  const problems = all.flatMap((p) => p.problems);
  if (problems.length) {
    throw new WebtreeError('ESWITCH', `${problems.length} consumer(s) cannot be repaired; nothing changed`, {
      details: problems.map((p) => `  ${p}`).join('\n'),
      hint: `fix what is named (a variant for ${facts.active} readable by ${site.apache.user}, say), then run webtree repair again`,
    });
  }
  const prepare = all.flatMap((p) => p.prepare);
  const live = all.flatMap((p) => p.live);
  const lines = all.flatMap((p) => p.lines);
  if (live.length === 0 && prepare.length === 0)
    return emptyPlan('repair', `every consumer already goes through ${link} -> ${facts.active}; nothing to repair`);
  const message = `put ${live.length} consumer(s) back through ${link} -> ${facts.active}${lines.length ? `: ${lines.join('; ')}` : ''}`;
  return {
    command: 'repair',
    summary: `put every consumer back through ${link} -> ${facts.active} (${live.length} to repair)`,
    // The first live rename is the commit: before it nothing any reader opens has changed.
    ops: [...prepare, ...live, recordOp(ctx, { action: 'repair', to: facts.active, outcome: 'ok', message })],
    commit: prepare.length,
    temps: [],
    notes: lines,
  };
}
