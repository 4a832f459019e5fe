/**
 * EJS's delimiters against Apache's and bash's own syntax: LogFormat's `%>s` once lost its `%>`
 * to EJS without an error. Every template is scanned before it renders, and every line of
 * plain text in each shipped template must reach the rendered file exactly as Apache or bash
 * is meant to read it.
 */
import { describe, expect, it } from 'vitest';
import { WebtreeError } from '../../src/core/errors.js';
import { renderTree, TEMPLATE_NAMES } from '../../src/apache/render.js';
import { checkTemplateSyntax, templateProblems } from '../../src/apache/template-syntax.js';
import { loadTemplates } from '../../src/apache/templates.js';
import { makeApp, makeSite } from './fixtures.js';

const OPTIONS = {
  eups: { setups: '/opt/eups/bin/setups.sh', products: ['python'] },
  pythonHome: '/opt/py',
};
const site = makeSite('/srv/site', OPTIONS);
const apps = [makeApp(site, 'TV', '/TV', 'TV', 'tv.wsgi')];

/** What a line of plain template text must become: EJS's escapes undone, nothing else. */
const asRead = (line: string) => line.replaceAll('%%>', '%>').replaceAll('<%%', '<%');
const TAG = /<%[^%]|(?<!%)%>|-%>|_%>/;

describe('template delimiters', () => {
  it('finds a bare %> in plain text, with its line, and lets the escapes and real tags pass', () => {
    expect(templateProblems('LogFormat "%h %>s %b"\n')).toEqual([
      { line: 1, token: '%>', why: expect.stringMatching(/outside a tag/) },
    ]);
    expect(templateProblems('# a\n# b\nx -%> y')).toEqual([
      { line: 3, token: '-%>', why: expect.stringMatching(/outside a tag/) },
    ]);
    expect(templateProblems('LogFormat "%%>s" <%- q(x) %>\n<%% kept %>\n<%# note -%>\n')).toEqual([]);
    expect(templateProblems('<%- a <% b %>')).toEqual([
      { line: 1, token: '<%', why: expect.stringMatching(/inside a tag/) },
    ]);
    // After the escape bare ones are still refused (EJS would keep the first and drop the second).
    expect(templateProblems('%%>s %>s %>s')).toHaveLength(2);
  });

  it('refuses to render a template that would lose a delimiter, naming the file and line', () => {
    const err = (() => {
      try {
        checkTemplateSyntax('conf-templates/httpd.conf.ejs', 'ServerRoot /x\nLogFormat "%h %>s" common\n');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(WebtreeError);
    expect((err as WebtreeError).code).toBe('ERENDER');
    expect((err as WebtreeError).details).toContain('conf-templates/httpd.conf.ejs:2: "%>" outside a tag');
    expect((err as WebtreeError).hint).toMatch(/%%>/);
  });

  it('render refuses an operator template with a bare %> instead of writing a wrong file', async () => {
    const templates = { ...(await loadTemplates()) };
    templates['httpd.conf'] += 'CustomLog "/tmp/x" "%>s"\n';
    expect(() => renderTree(site, apps, templates)).toThrow(/httpd\.conf\.ejs holds a delimiter EJS would misread/);
  });

  it('every line of plain text in every template reaches the rendered file as Apache and bash read it', async () => {
    const templates = await loadTemplates();
    // Rendered twice: the unit's low-port lines (AmbientCapabilities) appear only for a port below 1024.
    const low = makeSite('/srv/site', { ...OPTIONS, listen: { host: '0.0.0.0', port: 80 } });
    const files = [...renderTree(site, apps, templates), ...renderTree(low, apps, templates)];
    const outputs = files.map((f) => f.content.split('\n'));
    let checked = 0;
    for (const name of TEMPLATE_NAMES) {
      expect(templateProblems(templates[name]), name).toEqual([]);
      for (const line of templates[name].split('\n')) {
        if (TAG.test(line) || line.trim() === '') continue;
        // The template's own file is one of the outputs; the line must be one of its lines.
        expect(
          outputs.some((o) => o.includes(asRead(line))),
          `${name}: ${line}`,
        ).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("the access log's format keeps Apache's final status (%>s)", async () => {
    const conf = renderTree(site, apps, await loadTemplates()).find((f) =>
      f.path.endsWith('/conf/httpd.conf'),
    )!.content;
    expect(conf).toContain('LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined');
  });
});
