/**
 * No secret is served: against the real Apache 2.4 + mod_wsgi, as the service account, on a
 * free loopback port. Every cfg file, variant, backup, moved-aside copy, dotfile, hand-edited
 * copy and webtree's state answers 403 or 404, every app still answers (it reads the same files
 * from disk), and a GET of every file under the document root finds no cfg content.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECL_SAMPLE_APP, FIRST_VERSIONS } from '../../src/demo/samples.js';
import { APACHE_INSTALL, skipWithoutApache } from '../helpers/apache-env.js';
import { makeApacheSandbox, stopApacheSandbox, type ApacheSandbox } from '../helpers/apache-sandbox.js';
import { get } from '../helpers/http.js';

const missing = skipWithoutApache('no secret served');
const SECRET = 'pw-4d1f0c9e-never-served';

describe.skipIf(missing)(`no secret is served (needs: ${APACHE_INSTALL})`, () => {
  let sb: ApacheSandbox;
  const site = (...p: string[]) => sb.site(...p);
  const html = (...p: string[]) => site('www', 'html', ...p);
  const url = (rel: string) => sb.url(`/${rel.split('/').map(encodeURIComponent).join('/')}`);
  /** Written as the account would, so that Apache could read it if it were allowed to. */
  const plant = (p: string, content: string) => sb.put(p, content);
  /** Every regular file under dir, following links (the web links lead into the products root). */
  const walk = async (dir: string, rel = ''): Promise<string[]> => {
    const out: string[] = [];
    for (const name of await fs.readdir(path.join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await fs.stat(path.join(dir, r)).catch(() => null);
      if (st?.isDirectory()) out.push(...(await walk(dir, r)));
      else if (st?.isFile()) out.push(r);
    }
    return out;
  };

  beforeAll(async () => {
    sb = await makeApacheSandbox();
    await sb.install(FIRST_VERSIONS);
    await plant(site('www', 'wsgi', 'ECL', 'decam', 'ecl.wsgi'), ECL_SAMPLE_APP);
    // The real variants hold the password: give every one a line the scan can look for.
    for (const f of await fs.readdir(html('cfg'))) {
      if (/_server\d$/.test(f)) await fs.appendFile(html('cfg', f), `password = ${SECRET}\n`);
    }
    for (const s of ['server2', 'server3'])
      await fs.appendFile(site('www', 'wsgi', 'ECL', 'decam', `settings.py_${s}`), `PASSWORD = '${SECRET}'\n`);
    await sb.serve();
  }, 180_000);

  afterAll(() => stopApacheSandbox(sb), 60_000);

  it('every cfg file, variant, backup, aside copy, dotfile and hand-edited copy answers 403 or 404; the apps answer', async () => {
    const tvDir = html('TV');
    const planted = {
      'cfg/des_tv.cfg.bak': `password = ${SECRET}\n`,
      'cfg/des_tv.cfg~': `password = ${SECRET}\n`,
      'cfg/#des_tv.cfg#': `password = ${SECRET}\n`,
      'cfg/des_tv.cfg.2019-05-01': `password = ${SECRET}\n`,
      'des_tv.CFG': `password = ${SECRET}\n`,
      'backup.tar.old': SECRET,
      '.git/config': SECRET,
      '.pgpass': `*:*:*:*:${SECRET}\n`,
      'robots.txt.hand-edited-20261206T000000Z': SECRET,
      'settings.py_server3': `PASSWORD = '${SECRET}'\n`,
      'EXPO/.env': SECRET,
      'EXPO/index.html.orig': SECRET,
    };
    for (const [rel, content] of Object.entries(planted)) await plant(html(rel), content);
    // The old hint's move aside, inside the document root: the .wsgi source and all.
    await fs.cp(await fs.realpath(tvDir), html('TV.by-hand'), { recursive: true });
    const denied = [
      ...Object.keys(planted),
      ...(await fs.readdir(html('cfg'))).map((f) => `cfg/${f}`),
      'cfg/',
      'cfg',
      'TV.by-hand/tv.wsgi',
      'TV.by-hand/static/index.html',
      'TV.by-hand/',
      '.git/',
    ];
    expect(denied.filter((rel) => rel.startsWith('cfg/des_tv.cfg_server')).length).toBe(2);
    const answers = await Promise.all(denied.map(async (rel) => `${rel} ${(await get(url(rel))).status}`));
    expect(answers.filter((a) => !/ (403|404)$/.test(a))).toEqual([]);
    // Encoded and case-changed spellings of the same names.
    for (const raw of [
      'cfg/des_tv%2Ecfg_server3',
      'cfg/./des_tv.cfg',
      'x/../cfg/des_tv.cfg',
      'CFG/des_tv.cfg',
      '%2egit/config',
    ]) {
      expect([403, 404], raw).toContain((await get(sb.url(`/${raw}`))).status);
    }
    const status = await sb.run(['apache', 'status']);
    expect(status.exitCode, status.stdout + status.stderr).toBe(0);
    expect((await get(url('TV'))).body).toBe('TV 3.3a server=server3 dbiapp v1_4a');
    expect((await get(url('ECL'))).body).toBe('ECL server=server3');
    expect((await get(url('EXPO/index.html'))).status).toBe(200);
  }, 60_000);

  it('a GET of every file under the document root finds no cfg content', async () => {
    const files = await walk(html());
    expect(files.length).toBeGreaterThan(25);
    const served: string[] = [];
    for (const rel of files) {
      const r = await get(url(rel));
      expect(r.body, rel).not.toContain(SECRET);
      expect(r.body, rel).not.toMatch(/server[23]\.ctio\.noao\.edu/);
      if (r.status === 200) served.push(rel);
    }
    // The scan reaches what is meant to be served: the static pages and robots.txt.
    expect(served).toEqual(expect.arrayContaining(['robots.txt', 'EXPO/index.html', 'EXPO/expo.css']));
  }, 120_000);

  it("webtree's state moved under the document root is denied whole", async () => {
    const yaml = site('webtree.yaml');
    const text = await fs.readFile(yaml, 'utf8');
    await fs.writeFile(yaml, text.replace(/^( *)# state: .*$/m, `$1state: ${html('state')}`));
    await fs.rename(site('www', 'state'), html('state'));
    const r = await sb.ok(['render']);
    expect(r.stdout).toMatch(/conf\/httpd\.conf/);
    for (const rel of ['state/history.jsonl', 'state/rendered.json', 'state/', `state/manifests/TV/3.3a.json`]) {
      expect([403, 404], rel).toContain((await get(url(rel))).status);
    }
    expect((await fs.stat(html('state', 'history.jsonl'))).isFile()).toBe(true);
    expect((await get(url('TV'))).status).toBe(200);
  }, 60_000);
});
