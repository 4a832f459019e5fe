import fs from 'node:fs/promises';
import path from 'node:path';
import { discardPrestarted, prestartUnpack } from '../archive/extract.js';
import { sha256File } from '../archive/manifest.js';
import { identifyArchive } from '../catalog/archive-name.js';
import { topDirNames } from '../catalog/top-dir.js';
import { findVersionedProduct } from '../catalog/load.js';
import { isErrno, WebtreeError } from '../core/errors.js';
import { planInstall } from '../plan/lifecycle.js';
import { serveAfter } from '../after/serve-activation.js';
import { recordOf } from '../apply/executor.js';
import { readProductState } from '../state/tree.js';
import { reportPlan, runChange } from './tx.js';
import { cacheEntryDir } from '../fetch/cache.js';
import { archiveSource, SHA256_RE, shownSource, type ArchiveSource } from '../release/source.js';
import type { CommandCode } from './types.js';

async function requireFile(p: string, what: string): Promise<void> {
  try {
    const st = await fs.stat(p);
    if (!st.isFile()) throw new WebtreeError('EUSAGE', `${what} ${p} is not a regular file`);
  } catch (err) {
    if (isErrno(err, 'ENOENT'))
      throw new WebtreeError('EUSAGE', `${what} ${p} does not exist`, { hint: 'give the path of an existing file' });
    // A path no file can have (a name too long, a file used as a directory, a loop of links): bad usage too.
    if (isErrno(err, 'ENAMETOOLONG') || isErrno(err, 'ENOTDIR') || isErrno(err, 'ELOOP')) {
      throw new WebtreeError(
        'EUSAGE',
        `${what} ${p.length > 200 ? `${p.slice(0, 200)}…` : p} cannot be a file (${err.code})`,
        { hint: 'give the path of an existing file' },
      );
    }
    throw err;
  }
}

/** ARCHIVE as given: a URL (http, https, file) or a path; for a URL the name after the last "/" identifies it. */
function sourceOf(arg: string): ArchiveSource {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(arg)) {
    const s = archiveSource(arg);
    if (typeof s === 'string') throw new WebtreeError('EUSAGE', `archive ${arg}: ${s}`);
    return s;
  }
  const p = path.resolve(arg);
  return { kind: 'file', path: p, name: path.basename(p), text: p };
}

export const installCommand: CommandCode = {
  async run(ctx) {
    const src = sourceOf(ctx.positionals[0]);
    const given = ctx.options.sha256 as string | undefined;
    if (given !== undefined && !SHA256_RE.test(given))
      throw new WebtreeError('EUSAGE', `--sha256 must be 64 hex digits, got "${given.slice(0, 80)}"`, {
        hint: 'sha256sum ARCHIVE prints it',
      });
    const pinned = given?.toLowerCase();
    if (src.kind === 'url' && pinned === undefined) {
      throw new WebtreeError('EUSAGE', `installing from a URL needs the archive's sha256: --sha256 HEX`, {
        hint: `webtree install ${src.text} --sha256 $(sha256sum ${src.name} | cut -d' ' -f1), from a copy you trust`,
      });
    }
    const catalog = await ctx.catalog();
    const id = identifyArchive(src.name, catalog, {
      product: ctx.options.product as string | undefined,
      version: ctx.options.version as string | undefined,
    });
    const d = findVersionedProduct(catalog, id.product);
    if (src.kind === 'file') await requireFile(src.path, 'archive');
    const license = ctx.options.license === undefined ? undefined : path.resolve(ctx.options.license as string);
    if (license !== undefined) {
      if (!d.license)
        throw new WebtreeError('EUSAGE', `${d.name} takes no licence file`, { hint: '--license is for ChartDirector' });
      await requireFile(license, 'licence file');
    }
    const site = await ctx.site();
    const st = await readProductState(site, d, pinned === undefined ? 'list' : 'read');
    const installed = st.versions.includes(id.version);
    // The same version from the same pinned archive: nothing to fetch, the plan says there is nothing to do.
    const skipFetch = installed && pinned !== undefined && st.sha256[id.version] === pinned;
    // The fetch (undici, TLS) is loaded only when an archive is fetched or pinned: a plain install starts without it.
    const localArchive = async (pin: string) =>
      (await import('./apply.js')).localArchive(ctx, site, { archive: src, sha256: pin });
    // A URL's archive lands in the cache under its sha256: the unpack's threads start now, so
    // that their start-up overlaps the download (they read nothing until it is done, below).
    if (src.kind === 'url' && !installed && !skipFetch && !ctx.dryRun)
      prestartUnpack(path.join(cacheEntryDir(site, pinned!), src.name), site.limits, d.layout, false);
    let archive: string;
    if (src.kind === 'url') archive = ctx.dryRun || skipFetch ? src.url : await localArchive(pinned!);
    else archive = pinned !== undefined && !skipFetch && !ctx.dryRun ? await localArchive(pinned) : src.path;
    // Hashed beforehand only when this version looks installed (the same archive is a no-op,
    // another is refused); otherwise the unpacking hashes the archive as it reads it.
    const sha256 = pinned ?? (installed ? await sha256File(archive) : undefined);
    // A new version will be unpacked: start reading the archive while the lock is taken and the
    // change planned (it makes and writes nothing before the unpack's go; it is dropped if the
    // plan needs no unpacking). The archive is whole here: a download has ended.
    if (!installed && !ctx.dryRun) prestartUnpack(archive, site.limits, d.layout, true);
    const activate = ctx.options['no-activate'] !== true;
    // The archive's own top directory must not name another product or version, unless --force.
    const expectTop =
      ctx.options.force === true ? undefined : { product: d.name, version: id.version, names: topDirNames(catalog) };
    const plan = await runChange(
      ctx,
      `install ${src.name}`,
      ({ site, tree, pctx }) =>
        planInstall(
          site,
          d,
          tree.products[d.name],
          {
            archive,
            version: id.version,
            sha256,
            activate,
            license,
            source: shownSource(src),
            ...(expectTop ? { expectTop } : {}),
          },
          pctx,
        ),
      serveAfter(ctx, d),
    ).finally(() => discardPrestarted());
    return reportPlan(ctx, plan, {
      product: d.name,
      version: id.version,
      sha256: sha256 ?? recordOf(plan)?.entry.sha256,
    });
  },
};
