/**
 * What a documentation pass over the CLI found, through the built CLI: ECL named as a PRODUCT,
 * a lost web link of the current version, a real directory where ChartDirector's link belongs,
 * product names in any case, the site file's hint, garbled no-op messages, and reads settling an
 * interrupted change.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { SERVERS_KEY, SETTINGS } from '../../src/site/schema.js';
import { readHistory } from '../../src/state/history.js';
import { makeSandbox, ROOT, type Sandbox } from '../helpers/cli.js';

const boxes: Sandbox[] = [];
async function sandbox(): Promise<{ sb: Sandbox; site: (...p: string[]) => string; arch: string }> {
  const sb = await makeSandbox();
  boxes.push(sb);
  const arch = path.join(sb.dir, 'archives');
  await fs.mkdir(arch);
  return { sb, site: (...p) => path.join(sb.dir, 'site', ...p), arch };
}
afterAll(async () => {
  for (const sb of boxes) await sb.cleanup();
});

/**
 * Do what a "move it aside" hint says (mkdir -p DIR && mv FROM TO), checking that the place is
 * neither served (under html/) nor read as a version (under the products root).
 */
async function moveAsideAsHinted(text: string, from: string, site: (...p: string[]) => string): Promise<string> {
  const m = /\(mkdir -p (\S+) && mv (?:-- )?(\S+) (\S+)\)/.exec(text);
  expect(m, `a move-aside hint in: ${text}`).not.toBeNull();
  const [, dir, src, dest] = m!;
  expect(src).toBe(from);
  expect(path.dirname(dest)).toBe(dir);
  for (const root of [site('www', 'html'), site('dbwebtools')])
    expect(dest.startsWith(root + '/'), `${dest} is under ${root}`).toBe(false);
  await fs.mkdir(dir, { recursive: true });
  await fs.rename(src, dest);
  return dest;
}

const history = (site: (...p: string[]) => string) => readHistory(site('www', 'state', 'history.jsonl'));

describe('ECL has no versions: every command taking PRODUCT refuses it plainly (exit 2)', () => {
  let t: Awaited<ReturnType<typeof sandbox>>;
  beforeAll(async () => {
    t = await sandbox();
  });

  it.each([
    [['activate', 'ECL', '1']],
    [['rollback', 'ECL']],
    [['rollback', 'ecl', '--to', '1']],
    [['prune', 'ECL', '--keep', '1']],
    [['list', 'ECL']],
    [['history', 'ECL']],
    [['activate', 'ECL', '1', '--dry-run']],
  ])('webtree %j', async (args) => {
    const r = await t.sb.run(args);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.stderr).toMatch(/ECL has no versions: webtree does not install it, it is served from its own directory/);
    expect(r.stderr).toMatch(
      /hint: change ECL in that directory by hand; `webtree switch-web SERVER` moves its settings.py/,
    );
  });

  it('install --product ECL too, before reading the archive', async () => {
    const a = await writeSampleArchive(t.arch, 'TV', '1');
    const r = await t.sb.run(['install', a, '--product', 'ECL', '--version', '1']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/ECL has no versions/);
    expect(await fs.readdir(t.site('dbwebtools'))).not.toContain('1');
  });
});

describe('install --product takes any case, as every other command does', () => {
  it('install EXPO-7.tar --product expo installs EXPO 7', async () => {
    const t = await sandbox();
    const a = await writeSampleArchive(t.arch, 'EXPO', '7');
    const r = await t.sb.run(['install', a, '--product', 'expo']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/install EXPO 7 and activate it: done/);
    expect(await fs.readlink(t.site('dbwebtools', 'EXPO', 'current'))).toBe('7');
    const u = await t.sb.run(['install', a, '--product', 'nope']);
    expect(u.exitCode).toBe(2);
    expect(u.stderr).toMatch(/unknown product "nope"/);
  });
});

describe('activate of the current version repairs its links', () => {
  let t: Awaited<ReturnType<typeof sandbox>>;
  const tvLink = () => t.site('www', 'html', 'TV');
  const want = () => t.site('dbwebtools', 'tv', 'current', 'product');
  beforeAll(async () => {
    t = await sandbox();
    expect((await t.sb.run(['install', await writeSampleArchive(t.arch, 'TV', '3.4')])).exitCode).toBe(0);
    expect((await t.sb.run(['install', await writeSampleArchive(t.arch, 'QE', '2.0')])).exitCode).toBe(0);
  });

  it('all right: a no-op, said in plain words (also under --dry-run), nothing recorded', async () => {
    const before = (await history(t.site)).length;
    const r = await t.sb.run(['activate', 'TV', '3.4']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('TV 3.4 is already active and its links are right; nothing to do');
    const dry = await t.sb.run(['activate', 'TV', '3.4', '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout.trim()).toBe('TV 3.4 is already active and its links are right; nothing to do');
    expect((await history(t.site)).length).toBe(before);
  });

  it('a missing web link is made again, recorded as a repair; --dry-run shows it first', async () => {
    await fs.unlink(tvLink());
    const dry = await t.sb.run(['activate', 'TV', '3.4', '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^would repair the links of TV 3.4 \(.*html\/TV was missing\):/);
    expect(dry.stdout).toContain(`point ${tvLink()} -> ${want()}`);
    await expect(fs.lstat(tvLink())).rejects.toThrow();

    const r = await t.sb.run(['activate', 'TV', '3.4']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/repair the links of TV 3.4 \(.*html\/TV was missing\): done/);
    expect(await fs.readlink(tvLink())).toBe(want());
    expect(await fs.readFile(path.join(tvLink(), 'tv.wsgi'), 'utf8')).toMatch(/VERSION = "3.4"/);
    const last = (await history(t.site)).at(-1)!;
    expect(last).toMatchObject({ action: 'repair', product: 'TV', version: '3.4', outcome: 'ok' });
    expect(last.to).toBeUndefined(); // not an activation: rollback's stack is untouched
    expect((await t.sb.run(['verify'])).exitCode).toBe(0);
  });

  it('a web link pointing elsewhere, and a nested one missing with its directory, are put right', async () => {
    await fs.unlink(tvLink());
    await fs.symlink('/nowhere', tvLink());
    await fs.rm(t.site('www', 'html', 'QE'), { recursive: true });
    const v = await t.sb.run(['verify']);
    expect(v.exitCode).toBe(1);
    expect(v.stdout).toContain(
      `${tvLink()} -> /nowhere, expected -> ${want()} (\`webtree activate TV 3.4\` re-points it)`,
    );
    expect(v.stdout).toContain('(`webtree activate QE 2.0` makes it)');
    expect((await t.sb.run(['activate', 'TV', '3.4'])).exitCode).toBe(0);
    expect(await fs.readlink(tvLink())).toBe(want());
    const qe = await t.sb.run(['activate', 'qe', '2.0']);
    expect(qe.exitCode, qe.stderr).toBe(0);
    expect(await fs.readlink(t.site('www', 'html', 'QE', 'DECam'))).toBe(t.site('dbwebtools', 'QEngine', 'current'));
    expect((await t.sb.run(['verify'])).exitCode).toBe(0);
  });

  it('a real directory where the web link belongs is refused, with a hint that works (not adopt)', async () => {
    await fs.unlink(tvLink());
    await fs.mkdir(tvLink());
    const r = await t.sb.run(['activate', 'TV', '3.4']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      `${tvLink()} is a real file or directory where webtree keeps a link; nothing was changed`,
    );
    expect(r.stderr).toMatch(
      /hint: in a quiet moment, move it (?:aside, )?(?:aside|out of the served tree) \(mkdir -p \S+ && mv (-- )?\S+ \S+\) and run the command again/,
    );
    expect(r.stderr).not.toMatch(/adopt/);
    const v = await t.sb.run(['verify']);
    expect(v.stdout).toContain(
      `${tvLink()} is a real directory, not a link (move it aside, then \`webtree activate TV 3.4\` makes the link)`,
    );
    // Doing what the hint says works, and what was moved is neither served nor a version.
    await moveAsideAsHinted(r.stderr, tvLink(), t.site);
    expect((await t.sb.run(['activate', 'TV', '3.4'])).exitCode).toBe(0);
    expect(await fs.readlink(tvLink())).toBe(want());
    expect((await t.sb.run(['verify'])).exitCode).toBe(0);
  });

  it('adopt shows its notes even when it has nothing to change, and the command its note names works', async () => {
    await fs.unlink(tvLink());
    const r = await t.sb.run(['adopt']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/nothing to adopt/);
    expect(r.stderr).toContain(
      `TV: ${tvLink()} is missing, so the site does not serve it; \`webtree activate TV 3.4\` makes it`,
    );
    expect((await t.sb.run(['activate', 'TV', '3.4'])).exitCode).toBe(0);
    expect(await fs.readlink(tvLink())).toBe(want());
  });
});

describe("a real directory where ChartDirector's link belongs (the guide's webpylib/ChartDirector)", () => {
  it('verify reports it and the missing licence (exit 1); install refuses at planning, --dry-run too', async () => {
    const t = await sandbox();
    const cd = t.site('dbwebtools', 'webpylib', 'ChartDirector');
    await fs.mkdir(cd, { recursive: true });
    await fs.writeFile(path.join(cd, 'pychartdir.py'), '# by hand\n');
    const v = await t.sb.run(['verify']);
    expect(v.exitCode, v.stdout).toBe(1);
    expect(v.stdout).toContain(
      `ChartDirector: ${cd} is a real directory where webtree keeps ChartDirector's version link`,
    );
    expect(v.stdout).toMatch(
      /move it (?:aside, )?(?:aside|out of the served tree) \(mkdir -p \S+ && mv (-- )?\S+ \S+\) and install ChartDirector with webtree at once/,
    );
    expect(v.stdout).toContain(`ChartDirector: no licence file chartdir.lic in ${cd}: ChartDirector runs watermarked`);

    const a = await writeSampleArchive(t.arch, 'ChartDirector', '5.0.2');
    const dry = await t.sb.run(['install', a, '--dry-run']);
    expect(dry.exitCode).toBe(1);
    expect(dry.stderr).toContain(`${cd} is a real file or directory where webtree keeps a link; nothing was changed`);
    const r = await t.sb.run(['install', a]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('nothing was changed');
    expect(r.stderr).not.toMatch(/adopt/);
    const names = await fs.readdir(t.site('dbwebtools', 'webpylib'));
    expect(names.filter((n) => n.startsWith('ChartDirector-') || n.startsWith('.webtree-'))).toEqual([]); // never unpacked
    expect(await fs.readFile(path.join(cd, 'pychartdir.py'), 'utf8')).toBe('# by hand\n');

    // The hint's way: move it aside (out of webpylib, where ChartDirector.by-hand would be on the python path), install at once.
    await moveAsideAsHinted(v.stdout, cd, t.site);
    const lic = path.join(t.sb.dir, 'chartdir.lic');
    await fs.writeFile(lic, 'licence\n');
    const ok = await t.sb.run(['install', a, '--license', lic]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(await fs.readlink(cd)).toBe('ChartDirector-5.0.2');
  });
});

describe("a real directory where TV's current belongs", () => {
  it('is reported once, as the blocked pointer, not also as a version without a manifest', async () => {
    const t = await sandbox();
    const cur = t.site('dbwebtools', 'tv', 'current');
    await fs.mkdir(cur, { recursive: true });
    const v = await t.sb.run(['verify']);
    expect(v.exitCode, v.stdout).toBe(1);
    expect(v.stdout).toContain(`TV: ${cur} is a real directory where webtree keeps TV's version link`);
    expect(v.stdout).not.toMatch(/current has no manifest/);
  });
});

describe('messages', () => {
  it('prune with nothing to keep reads as English', async () => {
    const t = await sandbox();
    for (const v of ['1', '2'])
      expect((await t.sb.run(['install', await writeSampleArchive(t.arch, 'AV', v), '--no-activate'])).exitCode).toBe(
        0,
      );
    const r = await t.sb.run(['prune', 'AV', '--keep', '0']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('remove AV 1, 2 (keeping none): done');
    const again = await t.sb.run(['prune', 'AV', '--keep', '0']);
    expect(again.stdout.trim()).toBe('nothing to prune for AV (keeping none)');
    expect((await history(t.site)).at(-1)?.message).toBe('removed 1, 2; kept none');
  });

  it('a bad site file points to where the settings are documented, and README lists every one', async () => {
    const t = await sandbox();
    await fs.appendFile(t.sb.config, 'colour: blue\n');
    const r = await t.sb.run(['status']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/hint: .*README\.md \("The site file"\)/);
    expect(r.stderr).not.toMatch(/init --help/);
    const readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('## The site file'),
      readme.indexOf('\n## ', readme.indexOf('## The site file') + 1),
    );
    for (const key of [...SETTINGS.map((s) => s.key), SERVERS_KEY]) expect(section, key).toContain(`| \`${key}\` |`);
  });
});

describe('switch-web: what the history holds, as README says', () => {
  it("a server that is not the site's is bad usage (exit 2) and not recorded; a refused switch is", async () => {
    const t = await sandbox();
    const u = await t.sb.run(['switch-web', 'server9', '--no-check-db']);
    expect(u.exitCode).toBe(2);
    expect((await history(t.site)).filter((e) => e.action === 'switch-web')).toEqual([]);
    await fs.rm(t.site('www', 'html', 'cfg', 'des_tv.cfg_server2'));
    const r = await t.sb.run(['switch-web', 'server2', '--no-check-db']);
    expect(r.exitCode).toBe(1);
    expect((await history(t.site)).filter((e) => e.action === 'switch-web').map((e) => [e.to, e.outcome])).toEqual([
      ['server2', 'failed'],
    ]);
  });
});

describe('reads change nothing: an interrupted change is reported, and `webtree recover` settles it', () => {
  let t: Awaited<ReturnType<typeof sandbox>>;
  const journal = () => t.site('www', 'state', 'journal.json');
  const exists = (p: string) =>
    fs.access(p).then(
      () => true,
      () => false,
    );
  beforeAll(async () => {
    t = await sandbox();
    for (const v of ['1', '2'])
      expect((await t.sb.run(['install', await writeSampleArchive(t.arch, 'EXPO', v)])).exitCode).toBe(0);
  });

  /** An activation killed in the middle of its apply: the journal stays, its holder is dead. Returns the version asked for. */
  async function interrupt(): Promise<string> {
    const to = (await fs.readlink(t.site('dbwebtools', 'EXPO', 'current'))) === '1' ? '2' : '1';
    const child = t.sb.spawn(['activate', 'EXPO', to], { WEBTREE_TEST_OP_DELAY_MS: '3000' });
    for (let i = 0; i < 200 && !(await exists(journal())); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await exists(journal()), 'the activation wrote its journal').toBe(true);
    child.kill('SIGKILL');
    await child;
    expect(await exists(journal())).toBe(true);
    return to;
  }

  it('status, list, history, verify, render --diff, apache status and configtest: each says so, leaves the journal and the tree, and recover finishes it', async () => {
    const to = await interrupt();
    const journalText = await fs.readFile(journal(), 'utf8');
    const current = await fs.readlink(t.site('dbwebtools', 'EXPO', 'current'));
    for (const args of [
      ['status'],
      ['list'],
      ['history'],
      ['verify'],
      ['render', '--diff'],
      ['apache', 'status'],
      ['apache', 'configtest'],
    ]) {
      const r = await t.sb.run(args);
      const said = args[0] === 'verify' ? r.stdout : r.stderr;
      expect(said, args.join(' ')).toMatch(
        new RegExp(
          `a change is pending: \`activate EXPO ${to}\` \\(pid \\d+, started [^)]*\\) was interrupted; run \`webtree recover\` to finish it`,
        ),
      );
      expect(r.stderr, args.join(' ')).not.toMatch(/was (finished|undone)|running its check/);
      expect(await fs.readFile(journal(), 'utf8'), `${args.join(' ')} left the journal as it was`).toBe(journalText);
      expect(await fs.readlink(t.site('dbwebtools', 'EXPO', 'current'))).toBe(current);
    }
    const st = await t.sb.run(['status', '--json']);
    expect(JSON.parse(st.stdout).pending).toMatchObject({ state: 'interrupted', command: `activate EXPO ${to}` });
    // --dry-run plans nothing against a half-changed tree.
    const dry = await t.sb.run(['activate', 'EXPO', to, '--dry-run']);
    expect(dry.exitCode).toBe(1);
    expect(dry.stderr).toMatch(/--dry-run plans nothing against a half-changed tree\n {2}hint: run `webtree recover`/);
    const preview = await t.sb.run(['recover', '--dry-run']);
    expect(preview.exitCode).toBe(0);
    expect(preview.stdout).toMatch(new RegExp(`would settle \`activate EXPO ${to}\``));
    expect(await exists(journal())).toBe(true);
    const r = await t.sb.run(['recover']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^\`activate EXPO ${to}\` was (finished|undone)`));
    expect(await exists(journal())).toBe(false);
    expect((await t.sb.run(['recover'])).stdout).toMatch(/nothing to recover/);
    expect((await t.sb.run(['verify'])).exitCode).toBe(0);
  }, 120_000);
});
