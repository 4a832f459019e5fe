/** Where a product's pieces live in a site. Pure: path arithmetic only. */
import path from 'node:path';
import type { Site } from '../site/types.js';
import type { ProductDescriptor, WebLink } from './types.js';

const withV = (pattern: string, v: string) => pattern.split('{v}').join(v);

/** A pattern's text before and after its {v}, split once per pattern, not per name. */
const PATTERNS = new Map<string, [string, string]>();
/** What a version is made of where a pattern says {v}. */
const V_CHARS = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/**
 * The {v} of `text` under `pattern` (`ChartDirector-{v}`), or undefined. The text around {v} is
 * compared as it is and only the middle tested, rather than one regular expression run per name:
 * its match array per name was ~0.3 MB of a status's garbage at 8 x 200 versions (issue 15).
 * Same answers as /^before([A-Za-z0-9][A-Za-z0-9._+-]*)after$/ (test/unit/version-names.test.ts).
 */
function matchV(pattern: string, text: string): string | undefined {
  let parts = PATTERNS.get(pattern);
  if (!parts) {
    const [before, after] = pattern.split('{v}');
    parts = [before, after ?? ''];
    PATTERNS.set(pattern, parts);
  }
  // Indexed, not destructured: array destructuring runs the iterator protocol, objects per name.
  const before = parts[0];
  const after = parts[1];
  if (text.length <= before.length + after.length || !text.startsWith(before) || !text.endsWith(after))
    return undefined;
  const v = before === '' && after === '' ? text : text.slice(before.length, text.length - after.length);
  return V_CHARS.test(v) ? v : undefined;
}

export const STAGING_PREFIX = '.webtree-staging-';
export const TRASH_PREFIX = '.webtree-trash-';
/** render's staged tree for httpd -t, beside conf/ in the web tree: swept with the other leftovers. */
export const RENDER_STAGE_PREFIX = '.webtree-render-';

export const productDir = (site: Site, d: ProductDescriptor) =>
  path.join(d.base === 'webpylib' ? site.paths.webpylib : site.paths.products, d.dir);
export const versionName = (d: ProductDescriptor, v: string) => withV(d.versionDir, v);
export const versionPath = (site: Site, d: ProductDescriptor, v: string) =>
  path.join(productDir(site, d), versionName(d, v));
export const pointerPath = (site: Site, d: ProductDescriptor) => path.join(productDir(site, d), d.pointer.name);
/** Relative, so that a tree moved or mounted elsewhere keeps working. */
export const pointerTarget = (d: ProductDescriptor, v: string) => withV(d.pointer.target, v);
export const webLinkPath = (site: Site, l: WebLink) => path.join(site.paths.html, l.path);
/** Absolute, as the guide's links are: html/ and the products root may sit on different mounts. */
export const webLinkTarget = (site: Site, d: ProductDescriptor, l: WebLink) => path.join(productDir(site, d), l.target);
/** Where a product's manifests are: one `<version>.json` each. */
export const manifestDir = (site: Site, d: ProductDescriptor) => path.join(site.paths.state, 'manifests', d.name);
export const manifestPath = (site: Site, d: ProductDescriptor, v: string) =>
  path.join(manifestDir(site, d), `${v}.json`);
export const stagingPath = (site: Site, d: ProductDescriptor, v: string, id: string) =>
  path.join(productDir(site, d), `${STAGING_PREFIX}${versionName(d, v)}-${id}`);

/** A version has a digit: `current.by-hand` or `old` beside the versions is not one (verify names it). */
const withDigit = (v: string | undefined) => (v !== undefined && /\d/.test(v) ? v : undefined);
export const versionFromDirName = (d: ProductDescriptor, name: string) =>
  name.startsWith('.') ? undefined : withDigit(matchV(d.versionDir, name));
export const versionFromPointer = (d: ProductDescriptor, target: string) => matchV(d.pointer.target, target);

/** Where hints send what is moved aside: out of the document root and the products root (never served). */
export const asideDir = (site: Site) => path.posix.join(site.paths.www, 'aside');

/** The command a hint gives to move p aside. */
export function moveAsideCommand(site: Site, p: string): string {
  const dest = path.posix.join(asideDir(site), `${path.posix.basename(p)}.by-hand`);
  return `mkdir -p ${asideDir(site)} && mv ${p} ${dest}`;
}
