/**
 * A guard in front of EJS. Apache's and bash's own syntax holds EJS's delimiters: LogFormat's
 * `%>s` (the final status) is EJS's tag end, and EJS silently drops a tag end met outside a tag,
 * so every access-log line said `s` where the status belongs. Instead of trusting each template's
 * author to notice, every template (shipped or an operator's `--templates DIR` copy) is scanned
 * the way EJS scans it, and a delimiter EJS would swallow or misread is refused with its line.
 */
import { WebtreeError } from '../core/errors.js';

/** EJS's tag tokens (its default delimiters), longest first as EJS matches them. */
const TOKEN = /<%%|%%>|<%=|<%-|<%_|<%#|<%|%>|-%>|_%>/g;

export interface TemplateProblem {
  line: number;
  token: string;
  why: string;
}

/** Every place where EJS would not pass a delimiter through as the template's author meant. */
export function templateProblems(text: string): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  // null: plain text; 'code': inside <% %>, <%- %>, <%= %>, <%# %>; 'literal': after <%% (EJS then
  // passes the next %> through, which is how a literal `<% … %>` is written).
  let mode: null | 'code' | 'literal' = null;
  let line = 1;
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    const at = m.index;
    line += countNewlines(text, last, at);
    last = at;
    const token = m[0];
    if (token === '<%%') {
      if (mode === 'code') problems.push({ line, token, why: 'inside a tag' });
      mode = 'literal';
    } else if (token === '%%>') {
      // Written on purpose: EJS outputs a literal `%>`. A bare `%>` after it is still checked.
      if (mode === 'code') problems.push({ line, token, why: 'inside a tag' });
      mode = null;
    } else if (token.startsWith('<%')) {
      if (mode === 'code') problems.push({ line, token, why: 'inside a tag: EJS would start a new tag there' });
      mode = 'code';
    } else if (mode === null) {
      problems.push({ line, token, why: 'outside a tag: EJS drops it (write %%> for a literal %>)' });
    } else {
      mode = null;
    }
  }
  return problems;
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Refuses a template whose delimiters EJS would swallow; `name` is how the error names the file. */
export function checkTemplateSyntax(name: string, text: string): void {
  const problems = templateProblems(text);
  if (!problems.length) return;
  throw new WebtreeError(
    'ERENDER',
    `template ${name} holds ${problems.length === 1 ? 'a delimiter' : `${problems.length} delimiters`} EJS would misread`,
    {
      details: problems.map((p) => `  ${name}:${p.line}: "${p.token}" ${p.why}`).join('\n'),
      hint: "in a template, write %%> for a literal %> (Apache's %>s) and <%% for a literal <%; tags are <%- … %>",
    },
  );
}
