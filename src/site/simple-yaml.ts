/**
 * The plain YAML that `webtree init` writes (site/write.ts), read without the yaml package: block
 * mappings indented by spaces, block lists of flow mappings, flow lists, comments, and plain,
 * single-quoted and backslash-free double-quoted scalars, resolved as YAML 1.2's core schema
 * resolves them. Anything else (tabs, anchors, tags, block scalars, multi-line scalars, floats,
 * duplicate keys, characters outside printable ASCII, ...) returns undefined and the caller reads
 * the file with the yaml package, which also names the line of any problem (site/open.ts).
 * Whatever this accepts, the yaml package reads as the same value: test/unit/simple-yaml.test.ts
 * holds the two side by side.
 */

/** A value found, or undefined: not this reader's subset. */
export function parseSimpleYaml(text: string): { value: Record<string, unknown> } | undefined {
  if (!/^[\x20-\x7e\n]*$/.test(text)) return undefined;
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    const content = raw.trimStart();
    if (content === '' || content.startsWith('#')) continue;
    lines.push({ indent: raw.length - content.length, content: content.trimEnd() });
  }
  if (lines.length === 0 || lines[0].indent !== 0) return undefined;
  const r = new Reader(lines);
  try {
    const value = r.map(0);
    return r.at === lines.length ? { value } : undefined;
  } catch (err) {
    if (err === NOT_SIMPLE) return undefined;
    throw err;
  }
}

interface Line {
  indent: number;
  content: string;
}

const NOT_SIMPLE = new Error('not the simple subset');
const no = (): never => {
  throw NOT_SIMPLE;
};

/**
 * A key: a plain word, never one the core schema reads as something else, never __proto__, and
 * short (YAML allows an implicit key at most 1024 characters).
 */
const KEY = /^([A-Za-z_][A-Za-z0-9_-]{0,199}):(?: +(.*))?$/;
const RESERVED_KEY = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL|__proto__)$/;

class Reader {
  at = 0;
  constructor(private readonly lines: Line[]) {}

  /** The block mapping whose keys sit at `indent`. */
  map(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (this.at < this.lines.length) {
      const line = this.lines[this.at];
      if (line.indent < indent) break;
      if (line.indent > indent) no();
      const m = KEY.exec(line.content) ?? no();
      const key = m[1];
      if (RESERVED_KEY.test(key) || Object.hasOwn(out, key)) no();
      this.at++;
      const rest = m[2] === undefined || m[2].startsWith('#') ? '' : stripComment(m[2]);
      out[key] = rest === '' ? this.nested(indent) : inlineValue(rest);
    }
    return out;
  }

  /** What follows `key:` with nothing after it: a deeper mapping or list, or null. */
  private nested(indent: number): unknown {
    const next = this.lines[this.at];
    if (next === undefined || next.indent <= indent) return null;
    return next.content === '-' || next.content.startsWith('- ') ? this.list(next.indent) : this.map(next.indent);
  }

  /** A block list at `indent` whose items each fit on their line. */
  private list(indent: number): unknown[] {
    const out: unknown[] = [];
    while (this.at < this.lines.length) {
      const line = this.lines[this.at];
      if (line.indent < indent) break;
      if (line.indent > indent || !line.content.startsWith('- ')) no();
      this.at++;
      const item = stripComment(line.content.slice(2));
      // "- key: value" opens a mapping inside the list: not this reader's.
      if (item === '' || (!item.startsWith('{') && /:( |$)/.test(item))) no();
      out.push(inlineValue(item));
    }
    return out;
  }
}

/**
 * "value  # comment" -> "value": a "#" after a space starts a comment, except inside quotes; after
 * a closing quote only a comment may follow.
 */
function stripComment(s: string): string {
  if (s.startsWith("'") || s.startsWith('"')) {
    const q = s[0];
    let end = 1;
    for (;;) {
      end = s.indexOf(q, end);
      if (end < 0) no();
      if (q === "'" && s[end + 1] === "'") end += 2;
      else break;
    }
    const after = s.slice(end + 1);
    if (after.trim() !== '' && !/^ +#/.test(after)) no();
    return s.slice(0, end + 1);
  }
  const i = s.search(/ #/);
  return (i < 0 ? s : s.slice(0, i)).trim();
}

/** A value on the key's own line: a flow mapping, a flow list, or a scalar. */
function inlineValue(s: string): unknown {
  if (s.startsWith('{')) return flowMap(s);
  if (s.startsWith('[')) return flowList(s);
  return scalar(s, false);
}

/** The parts of "{ a, b }" / "[a, b]", with nothing nested, quoted or trailing. */
function flowItems(s: string, close: string): string[] {
  if (!s.endsWith(close)) no();
  const inner = s.slice(1, -1);
  if (/[[\]{}"'#]/.test(inner)) no();
  if (inner.trim() === '') return [];
  const items = inner.split(',').map((x) => x.trim());
  if (items.some((x) => x === '')) no();
  return items;
}

function flowMap(s: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of flowItems(s, '}')) {
    const m = /^([A-Za-z_][A-Za-z0-9_-]{0,199}): +(\S(?:.*\S)?)$/.exec(item) ?? no();
    if (RESERVED_KEY.test(m[1]) || Object.hasOwn(out, m[1])) no();
    out[m[1]] = scalar(m[2], true);
  }
  return out;
}

function flowList(s: string): unknown[] {
  return flowItems(s, ']').map((x) => scalar(x, true));
}

const NULL = /^(?:~|null|Null|NULL)$/;
const BOOL = /^(?:true|True|TRUE|false|False|FALSE)$/;
const INT = /^[-+]?[0-9]+$/;
/** The core schema's other numbers (octal, hex, floats, .inf, .nan): left to the yaml package. */
const OTHER_NUMBER =
  /^(?:0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$/;

/** One scalar, as the core schema resolves it. In a flow collection a ":" is never plain. */
function scalar(s: string, inFlow: boolean): unknown {
  if (s.startsWith("'")) {
    if (s.length < 2 || !s.endsWith("'")) no();
    const body = s.slice(1, -1);
    if (/'(?!')/.test(body.replace(/''/g, ''))) no();
    return body.replace(/''/g, "'");
  }
  if (s.startsWith('"')) {
    const body = s.slice(1, -1);
    if (s.length < 2 || !s.endsWith('"') || /["\\]/.test(body)) no();
    return body;
  }
  // An indicator first, or ": " / " #" within, means more than a plain scalar ("-" is left to the
  // yaml package unless a letter or digit follows: -7 and -x are plain).
  if (/^(?:[?:,[\]{}#&*!|>'"%@`]|-(?![0-9A-Za-z]))/.test(s) || /: |:$| #/.test(s) || (inFlow && s.includes(':'))) no();
  if (NULL.test(s)) return null;
  if (BOOL.test(s)) return s[0] === 't' || s[0] === 'T';
  if (INT.test(s)) return parseInt(s, 10);
  if (OTHER_NUMBER.test(s)) no();
  return s;
}
