/**
 * switch-web as a plan: make sure <switch>/<server>/<slot> links exist (pre-commit: nothing
 * reads them until active names the server), then the commit, one swap of <switch>/active. A
 * kill before the commit leaves every reader on the old server; after it, on the new one.
 * Pure: the facts come from src/failover/switch-facts.ts, the checks from the command.
 */
import type { ProductDescriptor } from '../catalog/types.js';
import { WebtreeError } from '../core/errors.js';
import type { Site } from '../site/types.js';
import type { HistoryEntry, SwitchFacts } from './facts.js';
import { historyEntry, type PlanContext } from './lifecycle.js';
import { emptyPlan, type Op, type Plan } from './ops.js';
import { activeLink, consumers, consumerTarget, serverSlotDir, slotPath } from './switch-layout.js';

export interface SwitchRequest {
  server: string;
  /** What was checked before switching, one phrase each; goes into the history. */
  checks: string[];
  /** Set when this switch undoes the one before it (the health check failed). */
  undo?: { reason: string };
  /** After the commit: the record of the cluster the target was checked to be (src/state/cluster.ts). */
  after?: Op[];
}

export function requireKnownServer(site: Site, server: string): void {
  const names = site.database.servers.map((s) => s.name);
  if (!names.includes(server)) {
    // Exit 2: a name that is not in the site file is bad usage, not a refused failover.
    throw new WebtreeError('EUSAGE', `"${server}" is not one of the site's database servers`, {
      hint: `choose one of: ${names.join(', ')}`,
    });
  }
}

export const switchEntry = (
  ctx: PlanContext,
  from: string | undefined,
  req: SwitchRequest,
  outcome: HistoryEntry['outcome'] = 'ok',
  message?: string,
): HistoryEntry =>
  historyEntry(ctx, {
    action: 'switch-web',
    ...(from ? { from } : {}),
    to: req.server,
    ...(req.undo ? { undo: true } : {}),
    outcome,
    message:
      message ??
      [req.undo ? `switched back: ${req.undo.reason}` : '', `checks: ${req.checks.join('; ') || 'none'}`]
        .filter(Boolean)
        .join('; '),
  });

/**
 * What refuses a switch to `server` before anything changes, from the files alone (no database):
 * a consumer outside the indirection, a variant missing or unreadable. Each refusal is ESWITCH
 * and says that nothing changed.
 */
export function refuseSwitch(site: Site, catalog: ProductDescriptor[], facts: SwitchFacts, server: string): void {
  requireKnownServer(site, server);
  const cs = consumers(site, catalog);

  // A consumer outside the indirection would stay behind: the one thing a failover must not do.
  const outside = cs.filter((c) => facts.consumers[c.slot]?.link !== consumerTarget(site, c));
  if (outside.length) {
    throw new WebtreeError(
      'ESWITCH',
      `${outside.length} consumer path(s) do not go through ${activeLink(site)}, so one switch would not move them; nothing changed`,
      {
        details: outside
          .map((c) => {
            const f = facts.consumers[c.slot];
            return `  ${c.path}: ${f?.kind === 'link' ? `-> ${f.link}` : (f?.kind ?? 'missing')} (expected -> ${consumerTarget(site, c)})`;
          })
          .join('\n'),
        hint: `\`webtree repair\` puts every consumer back through ${activeLink(site)} (a tree laid out by hand and never taken over: \`webtree adopt\`); \`webtree verify\` lists every finding`,
      },
    );
  }
  // A variant that is another server's file (a link to it, a copy): the switch would move nothing.
  const twins = cs.filter((c) => (facts.twins?.[c.slot] ?? []).length > 0);
  if (twins.length) {
    throw new WebtreeError(
      'ESWITCH',
      `${twins.length} of ${server}'s variant(s) are another server's file or bytes, so switching would leave those tools where they are; nothing changed`,
      {
        details: twins
          .map((c) => `  ${c.variant(server)} (${c.app}): same as ${facts.twins![c.slot].join(', ')}`)
          .join('\n'),
        hint: `give ${server} its own variant${twins.length > 1 ? 's' : ''} (a file with ${server}'s host and port, not a link to or a copy of another server's), then run switch-web again`,
      },
    );
  }
  const unusable = cs.filter((c) => facts.variants[c.slot] !== 'ok');
  if (unusable.length) {
    throw new WebtreeError(
      'ESWITCH',
      `${server} lacks ${unusable.length} variant(s) the web tools need; nothing changed`,
      {
        details: unusable
          .map((c) => `  ${c.variant(server)}: ${facts.variants[c.slot] ?? 'missing'} (${c.app})`)
          .join('\n'),
        hint: `put ${unusable.length > 1 ? 'them' : 'it'} in place: a file of ${server}'s own, with ${server}'s host and port, readable by ${site.apache.user} (not a link to another server's variant), then run switch-web again`,
      },
    );
  }
}

export function planSwitch(
  site: Site,
  catalog: ProductDescriptor[],
  facts: SwitchFacts,
  req: SwitchRequest,
  ctx: PlanContext,
): Plan {
  requireKnownServer(site, req.server);
  const command = `switch-web ${req.server}`;
  if (facts.active === req.server) return emptyPlan(command, `the web tools already use ${req.server}; nothing to do`);
  refuseSwitch(site, catalog, facts, req.server);
  const cs = consumers(site, catalog);

  const ops: Op[] = [];
  if (!facts.serverDir) ops.push({ kind: 'make-dir', path: serverSlotDir(site, req.server) });
  for (const c of cs) {
    if (facts.slots[c.slot] !== c.variant(req.server))
      ops.push({ kind: 'swap-link', path: slotPath(site, req.server, c.slot), target: c.variant(req.server) });
  }
  const commit = ops.length;
  const notes =
    facts.active === null && facts.activeKind !== 'directory'
      ? [`${activeLink(site)} was missing: the web tools pointed at no server`]
      : [];
  if (facts.activeKind === 'directory') {
    // Copied in by hand: no rename turns a directory into a link, so it goes aside (kept) and the link follows at once.
    const aside = `${activeLink(site)}.by-hand-${ctx.id}`;
    ops.push({ kind: 'rename', from: activeLink(site), to: aside });
    notes.push(`${activeLink(site)} was a real directory (copied in by hand): moved aside to ${aside}`);
  }
  // Relative, as init lays it: the switch dir can be moved or mounted elsewhere.
  ops.push({ kind: 'swap-link', path: activeLink(site), target: req.server });
  ops.push(...(req.after ?? []));
  // A switch back after a failed health check is the failover's auto-rollback: the same outcome as a product's.
  ops.push({
    kind: 'record',
    entry: switchEntry(ctx, facts.active ?? undefined, req, req.undo ? 'rolled-back' : 'ok'),
  });
  const summary = req.undo
    ? `switch the web tools back to ${req.server} (from ${facts.active})`
    : `switch the web tools to ${req.server}${facts.active ? ` (from ${facts.active})` : ''}`;
  // Going back after a failed check is finished, never undone, if it is interrupted.
  return { command, summary, ops, commit, temps: [], notes, ...(req.undo ? { finish: true } : {}) };
}

/**
 * The health check failed after a switch and going back was not safe: webtree stays, and the
 * history says that the switch did not end well (the switch's own entry says ok: it happened).
 */
export function planStayed(server: string, from: string, reason: string, ctx: PlanContext): Plan {
  const entry = historyEntry(ctx, {
    action: 'switch-web',
    from,
    to: server,
    outcome: 'failed',
    message: `stayed on ${server}: ${reason}`,
  });
  return {
    command: `switch-web ${server}`,
    summary: `record that the web tools stay on ${server}`,
    ops: [{ kind: 'record', entry }],
    commit: 0,
    temps: [],
    notes: [],
  };
}

/** A plan that only records a refused switch, so the history shows the attempt and why. */
export function planRefusedSwitch(from: string | null, req: SwitchRequest, reason: string, ctx: PlanContext): Plan {
  const entry = switchEntry(
    ctx,
    from ?? undefined,
    req,
    'failed',
    `refused: ${reason}; checks: ${req.checks.join('; ') || 'none'}`,
  );
  return {
    command: `switch-web ${req.server}`,
    summary: `record the refused switch to ${req.server}`,
    ops: [{ kind: 'record', entry }],
    commit: 0,
    temps: [],
    notes: [],
  };
}
