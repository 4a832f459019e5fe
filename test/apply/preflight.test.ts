/**
 * The executor's preflight: which directories a plan writes into (pure), and the refusal before
 * the journal when one of them cannot be written. Root passes every permission check, so as
 * root the directory is a read-only tmpfs (access(2) gives EROFS to root as well); otherwise it
 * is a directory without write permission.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Executor } from '../../src/apply/executor.js';
import { journalFile } from '../../src/apply/journal.js';
import { accessNeeds, preflight, preflightError } from '../../src/apply/preflight.js';
import { loadCatalog } from '../../src/catalog/load.js';
import type { ProductDescriptor } from '../../src/catalog/types.js';
import { WebtreeError } from '../../src/core/errors.js';
import { planInstall, planPrune, type PlanContext } from '../../src/plan/lifecycle.js';
import type { ProductState } from '../../src/state/tree.js';
import { productState, sandboxSite } from '../helpers/site.js';

const ctx: PlanContext = { id: 'ID', now: '2026-11-28T00:00:00.000Z', who: { user: 'op' }, history: [] };
const state = (over: Partial<ProductState> = {}): ProductState => productState('TV', over);
let TV: ProductDescriptor;
beforeAll(async () => {
  TV = (await loadCatalog()).find((d) => d.name === 'TV')!;
});

describe('accessNeeds', () => {
  it('install: the state dir, the product dir, the manifests, the web tree; each with the operation', () => {
    const site = sandboxSite('/t');
    const plan = planInstall(
      site,
      TV,
      state({ versions: ['3.3a'], current: '3.3a', sha256: { '3.3a': 'a' } }),
      { archive: '/a/tv-3.4.tar.gz', version: '3.4', sha256: 'b', activate: true },
      ctx,
    );
    const needs = accessNeeds(plan, site.paths.state);
    expect(needs[0]).toEqual({ dir: '/t/www/state', why: "write webtree's journal and history", how: 'into' });
    expect(needs).toContainEqual({ dir: '/t/dbwebtools/tv', why: 'make directory /t/dbwebtools/tv', how: 'create' });
    expect(needs).toContainEqual({
      dir: '/t/dbwebtools/tv',
      why: 'unpack /a/tv-3.4.tar.gz into /t/dbwebtools/tv/.webtree-staging-3.4-ID',
      how: 'into',
    });
    expect(needs).toContainEqual({
      dir: '/t/dbwebtools/tv',
      why: 'rename /t/dbwebtools/tv/.webtree-staging-3.4-ID to /t/dbwebtools/tv/3.4',
      how: 'into',
    });
    expect(needs).toContainEqual({
      dir: '/t/www/state/manifests/TV',
      why: 'record manifest of TV 3.4 in /t/www/state/manifests/TV/3.4.json',
      how: 'into',
    });
    expect(needs).toContainEqual({
      dir: '/t/www/html',
      why: 'point /t/www/html/TV -> /t/dbwebtools/tv/current/product',
      how: 'into',
      unless: { link: '/t/www/html/TV', target: '/t/dbwebtools/tv/current/product' },
    });
    // check-version reads, record writes the history (in the state dir, already there)
    expect(needs.every((n) => !/^check |^record in history/.test(n.why))).toBe(true);
  });

  it('prune: the version tree itself is emptied, besides its parent', () => {
    const site = sandboxSite('/t');
    const st = state({ versions: ['1', '2', '3', '4'], current: '4', sha256: { 1: 'a', 2: 'b', 3: 'c', 4: 'd' } });
    const needs = accessNeeds(planPrune(site, TV, st, 1, ctx), site.paths.state);
    expect(needs).toContainEqual({ dir: '/t/dbwebtools/tv/1', why: 'remove /t/dbwebtools/tv/1', how: 'empty' });
    expect(needs).toContainEqual({ dir: '/t/dbwebtools/tv', why: 'remove /t/dbwebtools/tv/1', how: 'into' });
  });
});

describe('preflightError', () => {
  it('several directories, one on a read-only file system, run by an operator who is not the service account', () => {
    const site = sandboxSite('/t');
    const plan = planInstall(
      site,
      TV,
      state(),
      { archive: '/a/tv-3.4.tar.gz', version: '3.4', sha256: 'b', activate: true },
      ctx,
    );
    const e = preflightError(
      plan,
      [
        {
          dir: '/t/dbwebtools',
          why: ['make directory /t/dbwebtools/tv'],
          readOnly: false,
          owner: 'owner root:root, mode 0755',
        },
        {
          dir: '/t/www/html',
          why: ['point /t/www/html/TV -> /t/dbwebtools/tv/current/product'],
          readOnly: true,
          owner: '',
        },
      ],
      { user: 'alice', uid: 1000, group: 'alice' },
      site,
    );
    expect(e.code).toBe('EACCES');
    expect(e.message).toBe(
      'permission denied: alice (uid 1000) may not write 2 directories that `install TV 3.4` needs; nothing was changed',
    );
    expect(e.details).toBe(
      [
        '  /t/dbwebtools (owner root:root, mode 0755): make directory /t/dbwebtools/tv',
        '  /t/www/html (read-only file system): point /t/www/html/TV -> /t/dbwebtools/tv/current/product',
      ].join('\n'),
    );
    expect(e.hint).toBe(
      `run webtree as root or as ${site.apache.user}, the service account the tree belongs to (\`chown -R ${site.apache.user}:${site.apache.group} /t/dbwebtools\`); remount read-write (\`mount -o remount,rw\` on the file system of /t/www/html)`,
    );
  });
});

const isRoot = process.getuid?.() === 0;

describe('preflight on a real tree', () => {
  let dir: string;
  let locked: string;
  let mounted = false;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-preflight-'));
    const site = sandboxSite(dir);
    for (const d of [site.paths.state, path.join(site.paths.state, 'manifests'), site.paths.html, site.paths.products])
      await fs.mkdir(d, { recursive: true });
    locked = path.join(site.paths.products, 'tv');
    await fs.mkdir(locked);
    if (isRoot) {
      await execa('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k,mode=0755', 'webtree-test-ro', locked]);
      mounted = true;
    } else await fs.chmod(locked, 0o555);
  });
  afterAll(async () => {
    if (mounted) await execa('umount', [locked]);
    await fs.chmod(locked, 0o755).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('refuses with every directory it cannot write, and the executor writes no journal', async () => {
    const site = sandboxSite(dir);
    const plan = planInstall(
      site,
      TV,
      state(),
      { archive: '/a/tv-3.4.tar.gz', version: '3.4', sha256: 'b', activate: true },
      ctx,
    );
    const err = await preflight(plan, site).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WebtreeError);
    const e = err as WebtreeError;
    expect(e.code).toBe(isRoot ? 'EROFS' : 'EACCES');
    expect(e.exitCode).toBe(1);
    expect(e.message).toMatch(
      isRoot
        ? /needs is on a read-only file system; nothing was changed/
        : /may not write a directory that `install` needs; nothing was changed/,
    );
    // One line for the one directory, naming what needs it.
    expect(e.details!.split('\n')).toHaveLength(1);
    expect(e.details).toContain(`  ${locked} (`);
    expect(e.details).toMatch(/unpack \/a\/tv-3\.4\.tar\.gz into .*; rename .*; point .*current -> 3\.4/);
    expect(e.hint).toMatch(isRoot ? /mount -o remount,rw/ : /chown -R /);

    const applied = await new Executor({ site }).apply(plan, 'ID').then(
      () => undefined,
      (x: unknown) => x,
    );
    expect((applied as WebtreeError).code).toBe(e.code);
    await expect(fs.access(journalFile(site.paths.state))).rejects.toThrow(/ENOENT/);
    expect(await fs.readdir(site.paths.state)).toEqual(['manifests']);
  });

  it('a plan whose directories are all writable passes', async () => {
    const site = sandboxSite(dir);
    const plan = planInstall(
      site,
      { ...TV, dir: 'tv-elsewhere' },
      state(),
      { archive: '/a/tv-3.4.tar.gz', version: '3.4', sha256: 'b', activate: true },
      ctx,
    );
    await expect(preflight(plan, site)).resolves.toBeUndefined();
  });
});
