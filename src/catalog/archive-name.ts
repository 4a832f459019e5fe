import path from 'node:path';
import { WebtreeError } from '../core/errors.js';
import { escapeRe } from '../core/regex.js';
import { findVersionedProduct } from './load.js';
import type { ProductDescriptor } from './types.js';
import { versionProblem } from './version.js';

export interface ArchiveIdentity {
  product: string;
  version: string;
}

function patternRe(pattern: string): RegExp {
  const [before, after] = pattern.split('{v}');
  return new RegExp(`^${escapeRe(before)}(?<v>[A-Za-z0-9][A-Za-z0-9._+-]*?)${escapeRe(after ?? '')}$`);
}

/**
 * Product and version from an archive's file name ("tv-3.3a.tar.gz" -> TV 3.3a), with
 * --product/--version taking precedence. A name that carries no version and no --version
 * is bad usage (exit 2): guessing a version would make the install impossible to roll back.
 */
export function identifyArchive(
  archive: string,
  catalog: ProductDescriptor[],
  override: { product?: string; version?: string } = {},
): ArchiveIdentity {
  const base = path.basename(archive);
  let product = override.product;
  let version = override.version;
  // Any case, as every other command takes product names; a product without versions is refused.
  if (product !== undefined) product = findVersionedProduct(catalog, product).name;
  const candidates = catalog.filter((d) => d.installable && (product === undefined || d.name === product));
  let nameMatched = false;
  for (const d of candidates) {
    for (const p of d.archives) {
      const m = patternRe(p).exec(base);
      if (m) {
        product ??= d.name;
        version ??= m.groups!.v;
        nameMatched = true;
        break;
      }
    }
    if (nameMatched) break;
    if (d.unversionedArchives.includes(base)) {
      product ??= d.name;
      nameMatched = true;
      break;
    }
  }
  if (product === undefined) {
    throw new WebtreeError('EBADNAME', `cannot tell which product "${base}" is from its name`, {
      hint: `name it like ${catalog
        .filter((d) => d.installable)
        .map((d) => d.archives[0])
        .join(', ')}, or give --product and --version`,
    });
  }
  if (version === undefined) {
    throw new WebtreeError('EBADNAME', `"${base}" carries no version`, {
      hint: `give one: webtree install ${archive} --version V`,
    });
  }
  const problem = versionProblem(version);
  if (problem)
    throw new WebtreeError('EBADNAME', `bad version "${version}" for ${product}: ${problem}`, {
      hint: 'give a clean one with --version',
    });
  return { product, version };
}
