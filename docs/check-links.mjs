#!/usr/bin/env node
// Checks every relative link and #anchor in the Markdown pages under docs/ (and the README they
// link to): the file must exist and the anchor must be a heading of it, slugged as GitHub does.
// Links inside code blocks and code spans are not links. Usage: node docs/check-links.mjs
// Exit 0 when every link resolves, 1 otherwise (one line per broken link).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const docs = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(docs);

/** GitHub's heading anchor: lower case, punctuation dropped, blanks to hyphens, repeats numbered. */
function anchorsOf(file) {
  const seen = new Map();
  const out = new Set();
  for (const line of withoutCode(fs.readFileSync(file, 'utf8'), false).split('\n')) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1].replace(/`/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Fenced blocks (and code spans, unless spans is false) blanked out; line numbers hold. */
function withoutCode(text, spans = true) {
  let fenced = false;
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced;
        return '';
      }
      if (fenced) return '';
      return spans ? line.replace(/(`+)[\s\S]*?\1/g, '') : line;
    })
    .join('\n');
}

const pages = [path.join(root, 'README.md')];
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.md')) pages.push(p);
  }
};
walk(docs);

const cache = new Map();
let broken = 0;
let checked = 0;
for (const page of pages) {
  const lines = withoutCode(fs.readFileSync(page, 'utf8')).split('\n');
  lines.forEach((line, i) => {
    for (const m of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/i.test(target)) continue; // http:, https:, mailto:
      checked++;
      const [file, anchor] = target.split('#');
      const dest = file ? path.resolve(path.dirname(page), file) : page;
      const where = `${path.relative(root, page)}:${i + 1}: ${target}`;
      if (!fs.existsSync(dest)) {
        console.log(`${where}: no such file`);
        broken++;
        continue;
      }
      if (anchor === undefined) continue;
      if (!dest.endsWith('.md')) {
        console.log(`${where}: an anchor into a file that is not Markdown`);
        broken++;
        continue;
      }
      if (!cache.has(dest)) cache.set(dest, anchorsOf(dest));
      if (!cache.get(dest).has(anchor)) {
        console.log(`${where}: no heading with the anchor #${anchor}`);
        broken++;
      }
    }
  });
}
console.log(`${checked} relative link(s) in ${pages.length} page(s), ${broken} broken`);
process.exit(broken ? 1 : 0);
