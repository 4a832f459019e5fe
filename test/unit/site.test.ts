import { describe, expect, it } from 'vitest';
import { readSite } from '../../src/site/load.js';
import { DEFAULT_SERVERS } from '../../src/site/schema.js';
import { siteYaml } from '../../src/site/write.js';

const minimal = (extra = '') => `paths:\n  www: /srv/w\n  products: /srv/p\n${extra}`;

describe('site file', () => {
  it('fills production defaults and derived paths', () => {
    const { site, problems } = readSite('{}', '/x/webtree.yaml');
    expect(problems).toEqual([]);
    expect(site!.paths).toMatchObject({
      www: '/usr/remote/software/www',
      html: '/usr/remote/software/www/html',
      products: '/usr/remote/software/dbwebtools',
      webpylib: '/usr/remote/software/dbwebtools/webpylib',
      runtime: '/data_local/web_logs',
    });
    expect(site!.apache.user).toBe('codemanager');
    expect(site!.apache.group).toBe('sispi');
    expect(site!.database.active).toBe('server3');
    expect(site!.database.servers).toEqual(DEFAULT_SERVERS);
    expect(site!.ecl.dir).toBe('/usr/remote/software/www/wsgi/ECL/decam');
  });

  it('what init writes reads back the same, comments and all', () => {
    const text = siteYaml(
      { 'paths.www': '/s/my www', 'apache.listen': '127.0.0.1:8123', 'apache.eups.setups': '/e/setups.sh' },
      [
        { name: 'a', host: 'h1', port: 1 },
        { name: 'b', host: 'h2', port: 2 },
      ],
      'header',
    );
    expect(text).toMatch(/^# header/);
    expect(text).toMatch(/# Listen HOST:PORT\n {2}listen: 127.0.0.1:8123/);
    const { site, problems } = readSite(text.replace('active: server3', 'active: a'), '/x');
    expect(problems).toEqual([]);
    expect(site!.paths.html).toBe('/s/my www/html');
    expect(site!.apache.listen).toEqual({ host: '127.0.0.1', port: 8123 });
    expect(site!.apache.eups).toEqual({
      setups: '/e/setups.sh',
      products: ['python', 'PIL', 'postgresql', 'psycopg2'],
    });
  });

  it.each([
    ['wrong type', minimal('apache:\n  healthTimeout: soon\n'), 'apache.healthTimeout', 5, /positive whole number/],
    ['unknown key', minimal('apache:\n  lisen: 1.2.3.4:80\n'), 'apache.lisen', 5, /unknown key/],
    ['unknown section', minimal('extras: 1\n'), 'extras', 4, /unknown key/],
    ['relative path', 'paths:\n  www: srv/w\n', 'paths.www', 2, /absolute path/],
    ['dotted path', 'paths:\n  www: /srv/../etc\n', 'paths.www', 2, /clean path/],
    ['newline in a path', 'paths:\n  www: "/srv/w\\nInclude /etc/passwd"\n', 'paths.www', 2, /newline/],
    [
      'duplicate server',
      minimal(
        'database:\n  servers:\n    - {name: server3, host: a, port: 1}\n    - {name: server3, host: b, port: 2}\n',
      ),
      'database.servers[1].name',
      7,
      /duplicate server "server3"/,
    ],
    [
      'one server only',
      minimal('database:\n  active: a\n  servers:\n    - {name: a, host: a, port: 1}\n'),
      'database.servers',
      6,
      /at least two/,
    ],
    ['active not a server', minimal('database:\n  active: server9\n'), 'database.active', 5, /not one of/],
    ['bad listen', minimal('apache:\n  listen: localhost\n'), 'apache.listen', 5, /HOST:PORT/],
    ['user with a quote', minimal('apache:\n  user: "code\\"manager"\n'), 'apache.user', 5, /plain name/],
  ])('refuses a %s, naming the key and the line', (_name, text, key, line, re) => {
    const { site, problems } = readSite(text, '/x');
    expect(site).toBeUndefined();
    const p = problems.find((x) => x.key === key);
    expect(p, JSON.stringify(problems)).toBeDefined();
    expect(p!.message).toMatch(re);
    expect(p!.line).toBe(line);
  });

  it('reports YAML syntax errors with their line', () => {
    const { problems } = readSite('paths:\n  www: /a\n   bad: [\n', '/x');
    expect(problems[0].key).toBe('(yaml)');
    expect(problems[0].line).toBeGreaterThan(0);
  });

  it('reports every problem at once', () => {
    const { problems } = readSite('paths:\n  www: rel\n  products: rel2\napache:\n  bogus: 1\n', '/x');
    expect(problems.map((p) => p.key).sort()).toEqual(['apache.bogus', 'paths.products', 'paths.www']);
  });
});
