/**
 * A product descriptor (products/<name>.yaml) from its text to a checked ProductDescriptor: the
 * one reading of the format, used by the build (scripts/cache-catalog.mjs, through dist/) and by
 * loadCatalog for a descriptor edited since. Pure: text in, descriptor or error out. Every
 * refusal names the file, the key and the fix, so that a typo in products/ fails the build
 * instead of surfacing as an undefined deep in a render or a switch.
 */
import { parse } from 'yaml';
import { WebtreeError } from '../core/errors.js';
import type { ProductDescriptor } from './types.js';

const KEYS = new Set([
  'name',
  'title',
  'installable',
  'archives',
  'unversionedArchives',
  'base',
  'dir',
  'versionDir',
  'pointer',
  'webLinks',
  'layout',
  'content',
  'addFiles',
  'license',
  'requires',
  'wsgi',
  'probe',
]);

/** A file name in one directory: what a version gets added, holds as its licence or its settings. */
const PLAIN_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
/** A URL path Apache mounts an app on, written unquoted into its configuration. */
const MOUNT = /^\/[A-Za-z0-9._~/-]*$/;

function bad(file: string, key: string, problem: string, fix: string): never {
  throw new WebtreeError('ESITE', `product descriptor ${file}: ${key ? `"${key}" ` : ''}${problem}`, {
    hint: `${fix} (in webtree's products/ directory, then npm run build)`,
  });
}

/** A relative path that stays below where it is joined: no leading /, no .. part, not empty. */
const relativeInside = (v: unknown): v is string =>
  typeof v === 'string' && v !== '' && !v.startsWith('/') && !v.split('/').includes('..');
const shown = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** A nested mapping's keys: none but the known ones, so that a misspelt key is not silently dropped. */
function onlyKeys(file: string, key: string, v: Record<string, unknown>, known: string[], example: string): void {
  for (const k of Object.keys(v))
    if (!known.includes(k)) bad(file, `${key}.${k}`, `is not a key of ${key} (it has ${known.join(', ')})`, example);
}

function optionalStrings(file: string, r: Record<string, unknown>, key: string, example: string): string[] {
  if (r[key] === undefined) return [];
  if (!strings(r[key])) bad(file, key, `must be a list of strings (got ${shown(r[key])})`, `write it as ${example}`);
  return r[key];
}

function wsgiOf(file: string, v: unknown, webLinks: string[], installable: boolean): ProductDescriptor['wsgi'] {
  if (v === undefined) return undefined;
  const fix = 'write it as wsgi: { mount: /TV, link: TV, cfg: des_tv.cfg } (script: optional)';
  if (!isMap(v)) bad(file, 'wsgi', `must be a mapping (got ${shown(v)})`, fix);
  onlyKeys(file, 'wsgi', v, ['mount', 'link', 'script', 'cfg'], fix);
  if (typeof v.mount !== 'string' || !MOUNT.test(v.mount))
    bad(file, 'wsgi.mount', `must be a URL path starting with / (got ${shown(v.mount)})`, 'write it as mount: /TV');
  if (typeof v.link !== 'string')
    bad(file, 'wsgi.link', `must be a string (got ${shown(v.link)})`, 'name the web link that holds the app: link: TV');
  // Render and first-served find the app's directory through this web link.
  if (!webLinks.includes(v.link) && !(v.link === '' && !installable))
    bad(
      file,
      'wsgi.link',
      `must be the path of one of webLinks (${webLinks.join(', ') || 'none'}) (got ${shown(v.link)})`,
      'add the link to webLinks or name one that is there',
    );
  for (const k of ['script', 'cfg'] as const)
    if (v[k] !== undefined && (typeof v[k] !== 'string' || !PLAIN_NAME.test(v[k])))
      bad(
        file,
        `wsgi.${k}`,
        `must be a file name without a directory (got ${shown(v[k])})`,
        `write it as ${k}: des_tv.${k === 'cfg' ? 'cfg' : 'wsgi'}`,
      );
  const out: NonNullable<ProductDescriptor['wsgi']> = { mount: v.mount, link: v.link };
  if (typeof v.script === 'string') out.script = v.script;
  if (typeof v.cfg === 'string') out.cfg = v.cfg;
  return out;
}

function licenseOf(file: string, v: unknown): ProductDescriptor['license'] {
  if (v === undefined) return undefined;
  const fix = 'write it as license: { file: chartdir.lic }';
  if (!isMap(v)) bad(file, 'license', `must be a mapping with file (got ${shown(v)})`, fix);
  onlyKeys(file, 'license', v, ['file'], fix);
  if (typeof v.file !== 'string' || !PLAIN_NAME.test(v.file))
    bad(file, 'license.file', `must be a file name without a directory (got ${shown(v.file)})`, fix);
  return { file: v.file };
}

function addFilesOf(file: string, v: unknown): Record<string, string> {
  if (v === undefined) return {};
  const fix = 'write it as addFiles: { __init__.py: "text of the file" }';
  if (!isMap(v)) bad(file, 'addFiles', `must be a mapping of file name to its text (got ${shown(v)})`, fix);
  for (const [name, content] of Object.entries(v)) {
    // Each is written at the top of every installed version: a name with a directory could leave it.
    if (!PLAIN_NAME.test(name)) bad(file, `addFiles.${name}`, 'must be a file name without a directory', fix);
    if (typeof content !== 'string')
      bad(
        file,
        `addFiles.${name}`,
        `must be the file's text (got ${shown(content)})`,
        `${fix}; a block: __init__.py: |`,
      );
  }
  return v as Record<string, string>;
}

/** One descriptor, checked; refuses unknown keys and wrong types so that a typo cannot pass unseen. */
export function validateDescriptor(file: string, raw: unknown): ProductDescriptor {
  if (!isMap(raw))
    bad(file, '', `is not a mapping (got ${shown(raw)})`, 'write one key: value per line, as TV.yaml does');
  const r = raw;
  for (const k of Object.keys(r))
    if (!KEYS.has(k))
      bad(file, k, 'is not a descriptor key', `remove it or correct it to one of: ${[...KEYS].join(', ')}`);
  for (const k of ['name', 'title', 'dir', 'versionDir'])
    if (typeof r[k] !== 'string') bad(file, k, `must be a string (got ${shown(r[k])})`, `give ${k}, as TV.yaml does`);
  if (r.installable !== undefined && typeof r.installable !== 'boolean')
    bad(
      file,
      'installable',
      `must be true or false (got ${shown(r.installable)})`,
      'write installable: false, or leave it out',
    );
  const installable = r.installable !== false;
  if (!strings(r.archives))
    bad(
      file,
      'archives',
      `must be a list of names with {v} (got ${shown(r.archives)})`,
      'write it as archives: ["tv-{v}.tar.gz"]',
    );
  if (r.base !== 'products' && r.base !== 'webpylib')
    bad(file, 'base', `must be products or webpylib (got ${shown(r.base)})`, 'write base: products');
  if (r.layout !== 'single-top' && r.layout !== 'any')
    bad(file, 'layout', `must be single-top or any (got ${shown(r.layout)})`, 'write layout: single-top');
  const pointer = r.pointer;
  if (!isMap(pointer) || typeof pointer.name !== 'string' || typeof pointer.target !== 'string')
    bad(
      file,
      'pointer',
      `needs name and target (got ${shown(pointer)})`,
      'write it as pointer: { name: current, target: "{v}" }',
    );
  const webLinks = r.webLinks ?? [];
  if (
    !Array.isArray(webLinks) ||
    webLinks.some((l) => !isMap(l) || typeof l.path !== 'string' || typeof l.target !== 'string')
  )
    bad(
      file,
      'webLinks',
      `entries need path and target (got ${shown(webLinks)})`,
      'write each as - { path: TV, target: current/product }',
    );
  if (r.content !== undefined && !relativeInside(r.content))
    bad(
      file,
      'content',
      `must be a directory of the unpacked archive, relative, without .. (got ${shown(r.content)})`,
      'write content: lib, or leave it out',
    );
  if (r.probe !== undefined && (typeof r.probe !== 'string' || !r.probe.startsWith('/')))
    bad(file, 'probe', `must be a URL path starting with / (got ${shown(r.probe)})`, 'write probe: /TV');
  const d: ProductDescriptor = {
    name: r.name as string,
    title: r.title as string,
    installable,
    archives: r.archives,
    unversionedArchives: optionalStrings(file, r, 'unversionedArchives', 'unversionedArchives: ["EXPO.tar"]'),
    base: r.base,
    dir: r.dir as string,
    versionDir: r.versionDir as string,
    pointer: { name: pointer.name, target: pointer.target },
    webLinks: (webLinks as { path: string; target: string }[]).map((l) => ({ path: l.path, target: l.target })),
    layout: r.layout,
    content: r.content,
    addFiles: addFilesOf(file, r.addFiles),
    license: licenseOf(file, r.license),
    requires: optionalStrings(file, r, 'requires', 'requires: ["product/*.wsgi"]'),
    wsgi: wsgiOf(
      file,
      r.wsgi,
      (webLinks as { path: string }[]).map((l) => l.path),
      installable,
    ),
    probe: r.probe,
  };
  // Exactly once: a name is read back by the text around its one {v} (catalog/paths.ts), and a
  // second {v} would be written but never read ("{v}-{v}x" writes 3.4-3.4x, reads 3.4- as 3.4).
  const once = (p: string) => p.split('{v}').length === 2;
  if (!once(d.versionDir))
    bad(file, 'versionDir', `must contain {v} once (got ${shown(d.versionDir)})`, 'write it as versionDir: "{v}"');
  if (!once(d.pointer.target))
    bad(file, 'pointer.target', `must contain {v} once (got ${shown(d.pointer.target)})`, 'write it as target: "{v}"');
  return d;
}

/** A descriptor file's text, parsed and checked; bad YAML is named with its line like any other fault. */
export function descriptorFromText(file: string, text: string): ProductDescriptor {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    bad(file, '', `is not valid YAML: ${(err as Error).message.split('\n')[0]}`, 'correct the YAML');
  }
  return validateDescriptor(file, raw);
}
