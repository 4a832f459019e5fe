/**
 * The site file read by the yaml package: every YAML error and every problem with its key's line.
 * Commands read the site file through site/open.ts, which tries the plain files init writes
 * without the yaml package first and comes here for anything else (and for the lines of any
 * problem); init checks the file it writes here.
 */
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { checkSite, type SiteProblem } from './check.js';
import type { Site } from './types.js';

/** The line of a key (not of its value: a list's value starts on the next line). */
function lineOf(doc: Document, lc: LineCounter, keyPath: (string | number)[]): number | undefined {
  const last = keyPath[keyPath.length - 1];
  const parent = keyPath.length > 1 ? doc.getIn(keyPath.slice(0, -1), true) : doc.contents;
  if (typeof last === 'string' && isMap(parent)) {
    const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === last);
    const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lc.linePos(range[0]).line;
  }
  const node = doc.getIn(keyPath, true) as { range?: [number, number, number] } | undefined;
  return node?.range ? lc.linePos(node.range[0]).line : undefined;
}

/**
 * Parse with the yaml package (every YAML error with its line) and check. Returns problems instead
 * of throwing so every one is reported at once.
 */
export function readSite(text: string, file: string): { site?: Site; problems: SiteProblem[] } {
  const lc = new LineCounter();
  const problems: SiteProblem[] = [];
  let doc: Document;
  let raw: Record<string, unknown>;
  try {
    doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
    for (const e of doc.errors)
      problems.push({ key: '(yaml)', line: e.linePos?.[0]?.line, message: e.message.split('\n')[0] });
    if (problems.length) return { problems };
    // toJS throws on alias bombs (ReferenceError) and the parser on nesting too deep for the stack (RangeError).
    raw = (doc.toJS({ maxAliasCount: 100 }) ?? {}) as Record<string, unknown>;
  } catch (err) {
    return {
      problems: [
        { key: '(yaml)', message: `cannot be read as YAML: ${String((err as Error)?.message ?? err).split('\n')[0]}` },
      ],
    };
  }
  return checkSite(raw, file, (keyPath) => lineOf(doc, lc, keyPath));
}
