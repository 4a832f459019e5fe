/**
 * Per-server variants that really are per server, and the split site put back together, through
 * the built CLI on sandbox trees (no database: --no-check-db): the guide's `ln -sf` and `mv` on a
 * managed tree, variants that are another server's file or bytes, a variant the apps' account
 * cannot read, <switch>/active replaced by a directory or naming an unknown server.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHistory } from '../../src/state/history.js';
import { sandboxes, webtree } from './cli.js';
import { readServers } from './consumers.js';
import { handTree } from './hand-tree.js';

const temp = sandboxes();

async function sandbox() {
  const s = await temp.withConsumers();
  const cfg = (name: string) => path.join(s.site.paths.html, 'cfg', name);
  const history = async () => readHistory(path.join(s.site.paths.state, 'history.jsonl'));
  const problems = async () => {
    const r = await webtree(s.config, ['verify', '--json']);
    return { code: r.code, list: (JSON.parse(r.stdout).findings as { problem: string }[]).map((f) => f.problem) };
  };
  return { ...s, cfg, history, problems };
}

describe('repair and per-server variants (CLI)', () => {
  it("after the guide's ln -sf around the indirection: verify names it and repair; switch-web to the active server puts it back", async () => {
    const s = await sandbox();
    expect((await webtree(s.config, ['switch-web', 'server2', '--no-check-db'])).code).toBe(0);
    await fs.rm(s.cfg('des_tv.cfg'));
    await fs.symlink('des_tv.cfg_server3', s.cfg('des_tv.cfg')); // ln -sf des_tv.cfg_server3 des_tv.cfg
    expect(readServers([s.cfg('des_tv.cfg')])[s.cfg('des_tv.cfg')]).toBe('server3');

    const v = await s.problems();
    expect(v.code).toBe(1);
    expect(v.list).toContainEqual(
      expect.stringMatching(
        /des_tv\.cfg -> des_tv\.cfg_server3, expected -> .*: a switch would not move it \(`webtree repair`/,
      ),
    );
    expect(v.list).toContainEqual(expect.stringMatching(/^TV serves server3: .* says server2 \(`webtree repair`/));
    expect(v.list).toContainEqual(
      expect.stringMatching(
        /split between servers: server3 \(TV\), server2 \(ConstantsDB, AV, QE, ECL\) \(`webtree repair`/,
      ),
    );
    const refused = await webtree(s.config, ['switch-web', 'server3', '--no-check-db']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('`webtree repair` puts every consumer back');

    const r = await webtree(s.config, ['switch-web', 'server2', '--no-check-db']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('the web tools already use server2; put 1 consumer(s) back through');
    expect(r.stdout).toMatch(
      /des_tv\.cfg: -> des_tv\.cfg_server3 \(server3's variant\); now -> .*active\/des_tv\.cfg \(server2\)/,
    );
    expect(Object.values(readServers(s.paths))).toEqual(s.paths.map(() => 'server2'));
    expect((await s.history()).at(-1)).toMatchObject({ action: 'repair', to: 'server2', outcome: 'ok' });
    expect((await s.problems()).code).toBe(0);
  });

  it('webtree repair: --dry-run changes nothing, then --json puts every consumer back; the mv of a variant over settings.py keeps that file', async () => {
    const s = await sandbox(); // server3 active
    const ecl = (f: string) => path.join(s.site.ecl.dir, f);
    const server2Text = await fs.readFile(ecl('settings.py_server2'), 'utf8');
    await fs.rename(ecl('settings.py_server2'), ecl('settings.py')); // the guide's mv, on a managed tree
    await fs.rm(s.cfg('constants.cfg'));
    await fs.symlink('constants.cfg_server2', s.cfg('constants.cfg'));
    const v = await s.problems();
    expect(v.list).toContainEqual(
      expect.stringMatching(
        /^ECL serves server2: .*settings\.py is a plain file, and .*settings\.py_server2 is missing \(renamed into it by hand\), but .* says server3/,
      ),
    );

    const dry = await webtree(s.config, ['repair', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`keep ${ecl('settings.py')} as ${ecl('settings.py_server2')} (hard link)`);
    expect(readServers([ecl('settings.py')])[ecl('settings.py')]).toBe('server2');

    const r = await webtree(s.config, ['repair', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.changed).toBe(true);
    expect(out.repaired).toHaveLength(2);
    expect(Object.values(readServers(s.paths))).toEqual(s.paths.map(() => 'server3'));
    expect(await fs.readFile(ecl('settings.py_server2'), 'utf8')).toBe(server2Text);
    expect((await s.problems()).code).toBe(0);
    const again = await webtree(s.config, ['repair']);
    expect(again.stdout).toContain('nothing to repair');
  });

  it("a variant that is another server's file or bytes is a verify finding and a switch-web refusal naming it", async () => {
    const s = await sandbox();
    await fs.rm(s.cfg('des_tv.cfg_server2'));
    await fs.symlink('des_tv.cfg_server3', s.cfg('des_tv.cfg_server2'));
    await fs.copyFile(s.cfg('QE_decam.cfg_server3'), s.cfg('QE_decam.cfg_server2'));
    const v = await s.problems();
    expect(v.list).toContainEqual(
      expect.stringMatching(
        /des_tv\.cfg_server3 is the same as server2's variant \(the same file, .*des_tv\.cfg_server3\): a switch between them moves nothing/,
      ),
    );
    expect(v.list).toContainEqual(
      expect.stringMatching(/QE_decam\.cfg_server3 is the same as server2's variant \(the same bytes\)/),
    );
    const r = await webtree(s.config, ['switch-web', 'server2', '--no-check-db']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("2 of server2's variant(s) are another server's file or bytes");
    expect(r.stderr).toContain(`${s.cfg('des_tv.cfg_server2')} (TV): same as server3 (the same file`);
    expect(readServers(s.paths)[s.cfg('des_tv.cfg')]).toBe('server3');
    const h = (await s.history()).at(-1)!;
    expect(h).toMatchObject({ action: 'switch-web', to: 'server2', outcome: 'failed' });
    expect(h.message).toContain(`${s.cfg('des_tv.cfg_server2')} (TV): same as server3`); // the refusal names the variant
  });

  it.runIf(process.getuid?.() === 0)(
    'verify reads the variants as the service account: a root-owned 0600 active variant is named',
    async () => {
      const s = await sandbox();
      await fs.chown(s.cfg('des_tv.cfg_server3'), 0, 0);
      await fs.chmod(s.cfg('des_tv.cfg_server3'), 0o600);
      const v = await s.problems();
      expect(v.list).toContainEqual(
        expect.stringMatching(
          /des_tv\.cfg_server3 is not readable by codemanager, the account the apps run as: TV fails now/,
        ),
      );
    },
  );

  it('servers/active replaced by a real directory, or naming an unknown server: findings with their fix; switch-web mends it', async () => {
    const s = await sandbox();
    const active = path.join(s.site.paths.switch, 'active');
    await fs.rm(active);
    await fs.mkdir(active);
    for (const f of await fs.readdir(path.join(s.site.paths.switch, 'server2')))
      await fs.copyFile(path.join(s.site.paths.switch, 'server2', f), path.join(active, f));
    let v = await s.problems();
    expect(v.list).toContainEqual(
      expect.stringMatching(/active is a real directory, not a link: .*webtree switch-web SERVER moves it aside/),
    );
    // status says what is there, not "(none)"
    const st = await webtree(s.config, ['status']);
    expect(st.stdout).toMatch(
      /^server +\(unknown: \S+\/active is a directory, not a link to a server: `webtree verify` names the fix\)$/m,
    );
    const r = await webtree(s.config, ['switch-web', 'server2', '--no-check-db']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/active was a real directory \(copied in by hand\): moved aside to .*active\.by-hand-/);
    expect(await fs.readlink(active)).toBe('server2');
    expect((await s.problems()).code).toBe(0);

    await fs.rm(active);
    await fs.symlink('server9', active);
    v = await s.problems();
    expect(v.list).toContainEqual(
      expect.stringMatching(
        /active -> server9, which is not one of the site's servers \(server3, server2\): webtree switch-web SERVER points it at one/,
      ),
    );
    const repair = await webtree(s.config, ['repair']);
    expect(repair.code).toBe(1);
    expect(repair.stderr).toContain('run webtree switch-web SERVER');
    const back = await webtree(s.config, ['switch-web', 'server3', '--no-check-db']);
    expect(back.code, back.stderr).toBe(0);
    expect((await s.history()).at(-1)).toMatchObject({
      action: 'switch-web',
      from: 'server9',
      to: 'server3',
      outcome: 'ok',
    });
  });

  it.runIf(process.getuid?.() === 0)(
    'adopt never changes what the service account can read: an identical root-owned 0600 copy is not taken as the variant',
    async () => {
      const dir = temp.keep(await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-adopt-mode-')));
      await fs.chmod(dir, 0o755);
      const { config } = await handTree(dir, { qeServer3: true, eclMissing: null });
      const ecl = path.join(dir, 'www', 'wsgi', 'ECL', 'decam');
      await fs.chown(path.join(ecl, 'settings.py_server3'), 0, 0); // same bytes as settings.py, owner root, 0600
      const r = await webtree(config, ['adopt', '--no-check-db']);
      expect(r.code).toBe(1);
      // Root's adopt works as the service account (issue 11), which cannot read root's 0600 copy at
      // all: then it cannot even be compared, and adopt refuses on that instead. Either way: no link.
      expect(r.stderr).toMatch(
        /settings\.py is a plain file identical to settings\.py_server3, but that copy has owner 0:0 mode 0600 where settings\.py has \d+:\d+ mode 0600: linking would change what codemanager can read|settings\.py is a plain file and which server it is for cannot be told/,
      );
      expect((await fs.lstat(path.join(ecl, 'settings.py'))).isFile()).toBe(true);
    },
  );
});
