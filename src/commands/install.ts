import fs from 'node:fs/promises';
import path from 'node:path';
import { discardPrestarted, prestartUnpack } from '../archive/extract.js';
import { sha256File } from '../archive/manifest.js';
import { identifyArchive } from '../catalog/archive-name.js';
import { findVersionedProduct } from '../catalog/load.js';
import { isErrno, WebtreeError } from '../core/errors.js';
import { planInstall } from '../plan/lifecycle.js';
import { serveAfter } from '../after/serve-activation.js';
import { recordOf } from '../apply/executor.js';
import { readProductState } from '../state/tree.js';
import { reportPlan, runChange } from './tx.js';
import type { CommandCode } from './types.js';

async function requireFile(p: string, what: string): Promise<void> {
  try {
    const st = await fs.stat(p);
    if (!st.isFile()) throw new WebtreeError('EUSAGE', `${what} ${p} is not a regular file`);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new WebtreeError('EUSAGE', `${what} ${p} does not exist`, { hint: 'give the path of an existing file' });
    // A path no file can have (a name too long, a file used as a directory, a loop of links): bad usage too.
    if (isErrno(err, 'ENAMETOOLONG') || isErrno(err, 'ENOTDIR') || isErrno(err, 'ELOOP')) {
      throw new WebtreeError('EUSAGE', `${what} ${p.length > 200 ? `${p.slice(0, 200)}…` : p} cannot be a file (${(err).code})`, { hint: 'give the path of an existing file' });
    }
    throw err;
  }
}

export const installCommand: CommandCode = {
  async run(ctx) {
    const archive = path.resolve(ctx.positionals[0]);
    const catalog = await ctx.catalog();
    const id = identifyArchive(archive, catalog, { product: ctx.options.product as string | undefined, version: ctx.options.version as string | undefined });
    const d = findVersionedProduct(catalog, id.product);
    await requireFile(archive, 'archive');
    const license = ctx.options.license === undefined ? undefined : path.resolve(ctx.options.license as string);
    if (license !== undefined) {
      if (!d.license) throw new WebtreeError('EUSAGE', `${d.name} takes no licence file`, { hint: '--license is for ChartDirector' });
      await requireFile(license, 'licence file');
    }
    // Hashed beforehand only when this version looks installed (the same archive is a no-op,
    // another is refused); otherwise the unpacking hashes the archive as it reads it.
    const site = await ctx.site();
    const installed = (await readProductState(site, d, 'list')).versions.includes(id.version);
    const sha256 = installed ? await sha256File(archive) : undefined;
    // A new version will be unpacked: start reading the archive while the lock is taken and the
    // change planned (it writes nothing; it is dropped if the plan needs no unpacking).
    if (sha256 === undefined && !ctx.dryRun) prestartUnpack(archive, site.limits, d.layout);
    const activate = ctx.options['no-activate'] !== true;
    const plan = await runChange(ctx, `install ${path.basename(archive)}`, ({ site, tree, pctx }) =>
      planInstall(site, d, tree.products[d.name], { archive, version: id.version, sha256, activate, license }, pctx), serveAfter(ctx, d))
      .finally(() => discardPrestarted());
    return reportPlan(ctx, plan, { product: d.name, version: id.version, sha256: sha256 ?? recordOf(plan)?.entry.sha256 });
  },
};
