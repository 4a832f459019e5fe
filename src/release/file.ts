/**
 * The release file: one YAML mapping that pins every product's version, its archive and the
 * archive's sha256 (DESIGN.md, "The release file"). Read like the site file: every problem is
 * reported at once with its key and line, and a bad file is exit 2. Pure: text in, data out.
 */
import path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Pair } from 'yaml';
import { identifyArchive } from '../catalog/archive-name.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { versionProblem } from '../catalog/version.js';
import { WebtreeError } from '../core/errors.js';
import { archiveSource, SHA256_RE, type ArchiveSource } from './source.js';

export interface ReleaseEntry {
  /** The catalog's name (the file may spell it in any case). */
  product: string;
  version: string;
  archive: ArchiveSource;
  /** Lower-case hex. */
  sha256: string;
  license?: string;
  line?: number;
  /** The line of the `license` key, for problems found later (the file missing on this host). */
  licenseLine?: number;
}

export interface ReleaseProblem {
  key: string;
  line?: number;
  message: string;
}

const ENTRY_KEYS = ['version', 'archive', 'sha256', 'license'];

const lineOfNode = (lc: LineCounter, node: unknown): number | undefined => {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? lc.linePos(range[0]).line : undefined;
};

/** A scalar's text as written: `version: 3.40` is the version "3.40", not the number 3.4. */
function scalarText(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  if (typeof node.value === 'string') return node.value;
  if (typeof node.value === 'number') return (node as { source?: string }).source ?? String(node.value);
  return undefined;
}

/** The archive's name against the entry: a name that names another product or version is refused. */
function nameProblem(
  e: { product: string; version: string; archive: ArchiveSource },
  catalog: ProductDescriptor[],
): string | undefined {
  let id;
  try {
    id = identifyArchive(e.archive.name, catalog);
  } catch {
    return undefined; // a name that says nothing (EXPO.tar, a download URL) cannot disagree
  }
  if (id.product !== e.product) return `the archive's name ${e.archive.name} is of ${id.product}, not ${e.product}`;
  if (id.version !== e.version)
    return `the archive's name ${e.archive.name} says version ${id.version}, the entry says ${e.version}`;
  return undefined;
}

function readEntry(
  pair: Pair,
  lc: LineCounter,
  catalog: ProductDescriptor[],
  seen: Map<string, string>,
  problems: ReleaseProblem[],
): ReleaseEntry | undefined {
  // A key that is no scalar (a map, a list) has no name of its own: its text names it in the problem.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  const name = scalarText(pair.key) ?? String((pair.key as { value?: unknown })?.value ?? '');
  const line = lineOfNode(lc, pair.key);
  const key = `products.${name}`;
  const bad = (k: string, message: string, l = line) => void problems.push({ key: k, line: l, message });
  const d = catalog.find((p) => p.name === name) ?? catalog.find((p) => p.name.toLowerCase() === name.toLowerCase());
  if (!d)
    return bad(
      key,
      `unknown product "${name}" (products: ${catalog
        .filter((p) => p.installable)
        .map((p) => p.name)
        .join(', ')})`,
    );
  if (!d.installable)
    return bad(
      key,
      `${d.name} has no versions: webtree does not install it (it is served from its own directory); leave it out of the release file`,
    );
  if (seen.has(d.name)) return bad(key, `${d.name} is named twice (also as "${seen.get(d.name)}")`);
  seen.set(d.name, name);
  if (!isMap(pair.value)) return bad(key, 'must be a mapping: { version: "V", archive: PATH-OR-URL, sha256: HEX }');
  const fields = new Map<string, unknown>();
  for (const it of pair.value.items) {
    const k = scalarText(it.key) ?? '';
    if (!ENTRY_KEYS.includes(k))
      bad(`${key}.${k}`, `unknown key "${k}" (keys: ${ENTRY_KEYS.join(', ')})`, lineOfNode(lc, it.key));
    else fields.set(k, it.value);
  }
  const lineOf = (k: string) => {
    const it = (pair.value as { items: Pair[] }).items.find((i) => scalarText(i.key) === k);
    return lineOfNode(lc, it?.key) ?? line;
  };
  const text = (k: string): string | undefined => {
    if (!fields.has(k)) return undefined;
    const t = scalarText(fields.get(k));
    if (t === undefined) bad(`${key}.${k}`, 'must be a string', lineOf(k));
    return t;
  };
  const before = problems.length;
  const version = text('version');
  const archive = text('archive');
  const sha = text('sha256');
  const license = text('license');
  if (!fields.has('version')) bad(`${key}.version`, 'is required');
  else if (version !== undefined && versionProblem(version))
    bad(`${key}.version`, `bad version "${version}": ${versionProblem(version)}`, lineOf('version'));
  let source: ArchiveSource | undefined;
  if (!fields.has('archive')) bad(`${key}.archive`, 'is required: an absolute path, a file:// or an http(s):// URL');
  else if (archive !== undefined) {
    const s = archiveSource(archive);
    if (typeof s === 'string') bad(`${key}.archive`, s, lineOf('archive'));
    else source = s;
  }
  if (!fields.has('sha256'))
    bad(`${key}.sha256`, 'is required: every archive is pinned by its sha256 (sha256sum ARCHIVE)');
  else if (sha !== undefined && !SHA256_RE.test(sha))
    bad(
      `${key}.sha256`,
      `must be 64 hex digits (got "${sha.length > 80 ? `${sha.slice(0, 80)}…` : sha}")`,
      lineOf('sha256'),
    );
  if (license !== undefined) {
    if (!d.license)
      bad(
        `${key}.license`,
        `${d.name} takes no licence file (only ${catalog
          .filter((p) => p.license)
          .map((p) => p.name)
          .join(', ')} does): remove the key`,
        lineOf('license'),
      );
    else if (!path.isAbsolute(license) || /[\u0000-\u001f]/.test(license))
      bad(
        `${key}.license`,
        `must be the licence file's absolute path, e.g. /etc/webtree/${d.license.file} (got "${license}")`,
        lineOf('license'),
      );
  }
  if (problems.length > before || version === undefined || source === undefined || sha === undefined) return undefined;
  const entry: ReleaseEntry = {
    product: d.name,
    version,
    archive: source,
    sha256: sha.toLowerCase(),
    ...(license ? { license, licenseLine: lineOf('license') } : {}),
    line,
  };
  const mismatch = nameProblem(entry, catalog);
  if (mismatch) return bad(`${key}.version`, `${mismatch}; make the two agree`, lineOf('version'));
  return entry;
}

/** Parse and check a release file's text. Problems are returned, not thrown, so all are reported at once. */
export function readRelease(
  text: string,
  catalog: ProductDescriptor[],
): { entries?: ReleaseEntry[]; problems: ReleaseProblem[] } {
  const lc = new LineCounter();
  const problems: ReleaseProblem[] = [];
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  } catch (err) {
    return {
      problems: [
        { key: '(yaml)', message: `cannot be read as YAML: ${String((err as Error)?.message ?? err).split('\n')[0]}` },
      ],
    };
  }
  for (const e of doc.errors)
    problems.push({ key: '(yaml)', line: e.linePos?.[0]?.line, message: e.message.split('\n')[0] });
  if (problems.length) return { problems };
  const top = doc.contents;
  if (!isMap(top))
    return { problems: [{ key: '(top)', line: 1, message: 'a release file is a mapping with one key, products' }] };
  let products: Pair | undefined;
  for (const it of top.items) {
    const k = scalarText(it.key);
    if (k === 'products') products = it;
    else
      problems.push({
        key: String(k),
        line: lineOfNode(lc, it.key),
        message: `unknown key "${k}" (a release file has one key, products)`,
      });
  }
  if (!products)
    problems.push({
      key: 'products',
      line: 1,
      message: 'is required: a mapping of product names to { version, archive, sha256 }',
    });
  else if (!isMap(products.value))
    problems.push({
      key: 'products',
      line: lineOfNode(lc, products.key),
      message: 'must be a mapping of product names to { version, archive, sha256 }',
    });
  if (problems.length) return { problems };
  const seen = new Map<string, string>();
  const entries: ReleaseEntry[] = [];
  for (const pair of (products!.value as { items: Pair[] }).items) {
    const e = readEntry(pair, lc, catalog, seen, problems);
    if (e) entries.push(e);
  }
  return problems.length ? { problems } : { entries, problems };
}

/** A release file's problems as one exit-2 error naming each key and line. */
export function releaseError(file: string, problems: ReleaseProblem[]): WebtreeError {
  return new WebtreeError(
    'ERELEASE',
    `bad release file ${file} (${problems.length} problem${problems.length > 1 ? 's' : ''})`,
    {
      details: problems.map((p) => `  ${file}${p.line ? `:${p.line}` : ''}: ${p.key}: ${p.message}`).join('\n'),
      hint: 'fix the release file and run the command again; its form is in docs/release-file.md',
    },
  );
}
