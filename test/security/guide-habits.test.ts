/**
 * The guide's old failover habit on an adopted tree: once webtree has switched the site to
 * server2, the guide's `mv settings.py settings.py_server3; mv settings.py_server2 settings.py`
 * both succeed and rename webtree's link over the real server3 file. webtree kept a copy of every
 * variant: verify names what happened, and `webtree variants restore` puts the files back byte for
 * byte with owner and mode, and the indirection with them.
 */
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, webtree } from '../failover/cli.js';
import { handTree } from '../failover/hand-tree.js';
import { ensureServiceAccount } from '../helpers/service-account.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const findings = (stdout: string) =>
  (JSON.parse(stdout).findings as { what: string; problem: string }[])
    .filter((f) => !(f.what === 'ChartDirector' && / is a real directory where webtree keeps /.test(f.problem)))
    .map((f) => f.problem);

describe("the guide's failover commands on an adopted tree", () => {
  it('mv settings.py settings.py_server3; mv settings.py_server2 settings.py: verify names it, variants restore undoes it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-habits-'));
    dirs.push(dir);
    const { config } = await handTree(dir, { qeServer3: true });
    const ecl = path.join(dir, 'www', 'wsgi', 'ECL', 'decam');
    const run = async (args: string[], code = 0) => {
      const r = await webtree(config, args);
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(code);
      return r;
    };
    await run(['adopt', '--no-check-db']);
    const before: Record<string, { text: string; mode: number; uid: number }> = {};
    for (const n of ['settings.py_server2', 'settings.py_server3']) {
      const st = await fs.stat(path.join(ecl, n));
      before[n] = { text: await fs.readFile(path.join(ecl, n), 'utf8'), mode: st.mode, uid: st.uid };
    }
    expect(before['settings.py_server3'].text).toContain("'server3'");
    await run(['switch-web', 'server2', '--no-check-db', '--no-restart']);

    // The guide, word for word, in ECL's directory.
    const sh = await execa('sh', ['-c', 'mv settings.py settings.py_server3; mv settings.py_server2 settings.py'], {
      cwd: ecl,
      reject: false,
    });
    expect(sh.exitCode, sh.stderr).toBe(0);
    expect((await fs.lstat(path.join(ecl, 'settings.py_server3'))).isSymbolicLink()).toBe(true);

    const v = await run(['verify', '--json'], 1);
    const problems = findings(v.stdout);
    expect(problems).toContainEqual(
      expect.stringMatching(
        /settings\.py_server3 is a link now .*not the server3 file webtree kept a copy of.*webtree variants restore/,
      ),
    );
    expect(problems).toContainEqual(expect.stringMatching(/settings\.py_server2 is missing \(webtree kept a copy/));

    // check (the one a timer runs every minute) names them too, with the command that restores them.
    const c = await webtree(config, ['check', '--json']);
    expect(c.code, c.stderr).toBe(1);
    const variantFindings = (
      JSON.parse(c.stdout).findings as { code: string; thing: string; problem: string; fix: string }[]
    ).filter((f) => f.code === 'variant');
    expect(variantFindings).toContainEqual(
      expect.objectContaining({
        thing: 'variant/server3',
        problem: expect.stringMatching(/settings\.py_server3 is a link now/),
        fix: 'webtree variants restore',
      }),
    );
    expect(variantFindings).toContainEqual(
      expect.objectContaining({
        thing: 'variant/server2',
        problem: expect.stringMatching(/settings\.py_server2 is missing/),
      }),
    );

    const dry = await run(['variants', 'restore', '--dry-run']);
    expect(dry.stdout).toMatch(/restore .*settings\.py_server3/);
    expect((await fs.lstat(path.join(ecl, 'settings.py_server3'))).isSymbolicLink()).toBe(true);
    const r = await run(['variants', 'restore']);
    expect(r.stdout).toMatch(/link .*settings\.py -> .*servers\/active\/ecl-settings\.py \(was a file\)/);
    for (const n of Object.keys(before)) {
      const st = await fs.lstat(path.join(ecl, n));
      expect(st.isFile(), n).toBe(true);
      expect({ text: await fs.readFile(path.join(ecl, n), 'utf8'), mode: st.mode, uid: st.uid }, n).toEqual(before[n]);
    }
    // The indirection is back: settings.py reads the active server's (server2) file.
    expect(await fs.readFile(path.join(ecl, 'settings.py'), 'utf8')).toBe(before['settings.py_server2'].text);
    // Only the hand tree's ChartDirector directory is left (adopt leaves it), so verify still exits 1.
    expect(findings((await run(['verify', '--json'], 1)).stdout)).toEqual([]);
    expect((await run(['variants', 'restore'])).stdout).toMatch(/nothing to restore/);
    const h = JSON.parse((await run(['history', '--json'])).stdout).entries;
    expect(h.at(-1)).toMatchObject({ action: 'variants-restore', outcome: 'ok' });
  }, 120_000);

  it('webtree repair restores the kept variants too, and the indirection', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-habits-'));
    dirs.push(dir);
    const { config } = await handTree(dir, { qeServer3: true });
    const ecl = path.join(dir, 'www', 'wsgi', 'ECL', 'decam');
    expect((await webtree(config, ['adopt', '--no-check-db'])).code).toBe(0);
    const server3 = await fs.readFile(path.join(ecl, 'settings.py_server3'), 'utf8');
    expect((await webtree(config, ['switch-web', 'server2', '--no-check-db', '--no-restart'])).code).toBe(0);
    await execa('sh', ['-c', 'mv settings.py settings.py_server3; mv settings.py_server2 settings.py'], { cwd: ecl });
    const r = await webtree(config, ['repair', '--no-restart']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/restore .*settings\.py_server3 from the copy kept/);
    expect(await fs.readFile(path.join(ecl, 'settings.py_server3'), 'utf8')).toBe(server3);
    expect((await fs.lstat(path.join(ecl, 'settings.py_server2'))).isFile()).toBe(true);
    expect((await fs.lstat(path.join(ecl, 'settings.py'))).isSymbolicLink()).toBe(true);
  }, 120_000);

  it("a variant changed behind webtree's back is named; restore puts the kept bytes back", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-habits-'));
    dirs.push(dir);
    const { config } = await handTree(dir, { qeServer3: true });
    expect((await webtree(config, ['adopt', '--no-check-db'])).code).toBe(0);
    const cfg = path.join(dir, 'www', 'html', 'cfg', 'des_tv.cfg_server2');
    const text = await fs.readFile(cfg, 'utf8');
    await fs.writeFile(cfg, 'host = somewhere-else\n');
    const v = await webtree(config, ['verify', '--json']);
    expect(findings(v.stdout)).toContainEqual(
      expect.stringMatching(/des_tv\.cfg_server2 was changed behind webtree's back.*variants keep.*variants restore/),
    );
    // restore is a change like any other: it waits for the lock and, held, refuses with nothing written.
    const holder = execa(process.execPath, [BIN, '--config', config, 'prune', 'TV', '--keep', '9'], {
      reject: false,
      env: { WEBTREE_TEST_PAUSE_MS: '6000', WEBTREE_LOCK_WAIT: '10' },
    });
    const lock = path.join(dir, 'www', 'state', 'lock');
    for (let i = 0; i < 200 && !(await fs.stat(lock).catch(() => null)); i++)
      await new Promise((r) => setTimeout(r, 50));
    const refused = await webtree(config, ['variants', 'restore'], { WEBTREE_LOCK_WAIT: '0.5' });
    expect(refused.code, refused.stdout).toBe(1);
    expect(refused.stderr).toMatch(/locked by pid \d+ .*prune/);
    expect(await fs.readFile(cfg, 'utf8')).toBe('host = somewhere-else\n');
    expect((await holder).exitCode).toBe(0);
    // Through the executor: --debug shows its operation, with the kept owner and mode.
    const st = await fs.stat(cfg);
    const r = await webtree(config, ['variants', 'restore', '--debug']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(
        `copy \\S+/state/variants/server2/des_tv\\.cfg to ${cfg.replace(/[.]/g, '\\.')} \\(mode 644, owner ${st.uid}:${st.gid}\\)`,
      ),
    );
    expect(await fs.readFile(cfg, 'utf8')).toBe(text);
    // The kept copies are the account's alone.
    const kept = path.join(dir, 'www', 'state', 'variants');
    expect((await fs.stat(kept)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(path.join(kept, 'server2', 'des_tv.cfg'))).mode & 0o777).toBe(0o600);
  }, 120_000);

  it("adopt puts shims in place of ~codemanager/bin's switch_web_tools.sh and runApache.sh, keeping the originals; the shims do what the guide says", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-habits-'));
    dirs.push(dir);
    const { config } = await handTree(dir, { qeServer3: true });
    const bin = path.join(dir, 'home', 'codemanager', 'bin');
    await fs.mkdir(bin, { recursive: true });
    const hand: Record<string, string> = {
      'switch_web_tools.sh': '#!/bin/bash\n# kept by hand: relinks each cfg to the other server\nexit 0\n',
      'runApache.sh': "#! /bin/bash\n# the guide's: apachectl -d ${apacheHome} -f ${confFile} -k start ...\nexit 0\n",
    };
    const account = await ensureServiceAccount();
    for (const [n, text] of Object.entries(hand)) {
      await fs.writeFile(path.join(bin, n), text, { mode: 0o750 });
      await fs.chmod(path.join(bin, n), 0o750);
    }
    await execa('chown', ['-R', `${account.uid}:${account.gid}`, path.join(dir, 'home')]);
    const env = { WEBTREE_ACCOUNT_HOME: path.join(dir, 'home', 'codemanager') };
    const a = await webtree(config, ['adopt', '--no-check-db'], env);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toMatch(
      /switch_web_tools\.sh now calls webtree \(webtree switch-web\); the hand-kept one is in .*state\/attic\/switch_web_tools\.sh\./,
    );
    // The originals are in the attic, bytes and mode; the shims are the account's, 0755.
    const attic = path.join(dir, 'www', 'state', 'attic');
    for (const [n, text] of Object.entries(hand)) {
      const kept = (await fs.readdir(attic)).filter((f) => f.startsWith(`${n}.`));
      expect(kept, n).toHaveLength(1);
      expect(await fs.readFile(path.join(attic, kept[0]), 'utf8')).toBe(text);
      expect((await fs.stat(path.join(attic, kept[0]))).mode & 0o777).toBe(0o750);
      const st = await fs.stat(path.join(bin, n));
      expect({ mode: st.mode & 0o777, uid: st.uid }).toEqual({ mode: 0o755, uid: account.uid });
      expect(await fs.readFile(path.join(bin, n), 'utf8')).toMatch(/^# webtree shim:/m);
    }
    const active = () => fs.readlink(path.join(dir, 'www', 'servers', 'active'));
    const before = await active();
    const other = /server3/.test(before) ? 'server2' : 'server3';
    // The guide's step, as the guide says it: run switch_web_tools.sh; it switches to the other server.
    const sw = await execa('bash', [path.join(bin, 'switch_web_tools.sh'), '--no-check-db', '--no-restart'], {
      reject: false,
      env: { WEBTREE_LOCK_WAIT: '10' },
    });
    expect(sw.exitCode, sw.stderr).toBe(0);
    expect(sw.stdout).toMatch(new RegExp(`switched the web tools from \\S+ to ${other}`));
    expect(await active()).toMatch(new RegExp(`${other}$`));
    const back = await execa('bash', [path.join(bin, 'switch_web_tools.sh'), '--no-check-db', '--no-restart'], {
      reject: false,
    });
    expect(back.exitCode, back.stderr).toBe(0);
    expect(await active()).toBe(before);
    // runApache.sh VERB is webtree apache VERB (stopped here: status says so, exit 1); anything else, the usage.
    const st = await execa('bash', [path.join(bin, 'runApache.sh'), 'status'], { reject: false });
    expect({ code: st.exitCode, out: st.stdout }).toEqual({ code: 1, out: 'apache stopped' });
    const bad = await execa('bash', [path.join(bin, 'runApache.sh'), 'bogus'], { reject: false });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/usage: runApache\.sh start\|stop\|restart\|graceful/);
    // adopt again: the shims are webtree's already, nothing more goes to the attic.
    expect((await webtree(config, ['adopt', '--no-check-db'], env)).code).toBe(0);
    expect((await fs.readdir(attic)).filter((f) => /^(switch_web_tools|runApache)\.sh\./.test(f))).toHaveLength(2);
  }, 120_000);
});
