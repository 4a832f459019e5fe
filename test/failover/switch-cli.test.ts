/** switch-web and verify through the built CLI, on real sandbox trees (no database: --no-check-db). */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHistory } from '../../src/state/history.js';
import { sandboxes, webtree } from './cli.js';
import { readServers } from './consumers.js';

const sandbox = sandboxes().withConsumers;

/** Every link and file under the web tree, for "nothing changed" comparisons. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name);
    if (p.includes(`${path.sep}state${path.sep}`) || e.name === 'state') continue; // the lock and history change on purpose
    out[p] = e.isSymbolicLink() ? `-> ${await fs.readlink(p)}` : e.isFile() ? await fs.readFile(p, 'utf8') : 'dir';
  }
  return out;
}

describe('switch-web (CLI)', () => {
  it('moves every consumer to the server in one step, records it, prints the runbook; again is a no-op', async () => {
    const s = await sandbox();
    expect(Object.values(readServers(s.paths))).toEqual(s.paths.map(() => 'server3'));
    const r = await webtree(s.config, ['switch-web', 'server2', '--no-check-db']);
    expect(r.code, r.stderr).toBe(0);
    expect(Object.values(readServers(s.paths))).toEqual(s.paths.map(() => 'server2'));
    expect(r.stdout).toContain('switched the web tools from server3 to server2');
    expect(r.stdout).toContain('apache not running: no restart needed');
    expect(r.stdout).toMatch(/Site package[\s\S]*alarmserver[\s\S]*standby[\s\S]*FNAL mirror/);
    const h = await readHistory(path.join(s.site.paths.state, 'history.jsonl'));
    expect(h.at(-1)).toMatchObject({ action: 'switch-web', from: 'server3', to: 'server2', outcome: 'ok' });
    expect(h.at(-1)!.message).toContain('database not checked (--no-check-db)');

    const again = await webtree(s.config, ['switch-web', 'server2', '--no-check-db']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already use server2; nothing to do');
    expect((await readHistory(path.join(s.site.paths.state, 'history.jsonl'))).length).toBe(h.length);

    const st = JSON.parse((await webtree(s.config, ['status', '--json'])).stdout);
    expect(st.server).toBe('server2');
    expect((await webtree(s.config, ['verify'])).code).toBe(0);
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    const s = await sandbox();
    const before = await snapshot(s.dir);
    const r = await webtree(s.config, ['switch-web', 'server2', '--no-check-db', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`point ${path.join(s.site.paths.switch, 'active')} -> server2`);
    expect(await snapshot(s.dir)).toEqual(before);
  });

  it('refuses an unknown server with exit 2 naming the choices', async () => {
    const s = await sandbox();
    const r = await webtree(s.config, ['switch-web', 'server9', '--no-check-db']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('choose one of: server3, server2');
  });

  it('refuses a missing variant with exit 1, naming the file; nothing changes; the attempt is in the history', async () => {
    const s = await sandbox();
    const missing = path.join(s.site.paths.html, 'cfg', 'QE_decam.cfg_server2');
    await fs.rm(missing);
    const before = await snapshot(s.dir);
    const r = await webtree(s.config, ['switch-web', 'server2', '--no-check-db']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${missing}: missing (QE)`);
    expect(await snapshot(s.dir)).toEqual(before);
    const h = await readHistory(path.join(s.site.paths.state, 'history.jsonl'));
    expect(h.at(-1)).toMatchObject({ action: 'switch-web', to: 'server2', outcome: 'failed' });
    expect(h.at(-1)!.message).toMatch(/^refused: server2 lacks 1 variant/);
  });

  it('an unreadable variant is refused too (a directory where the file should be)', async () => {
    const s = await sandbox();
    const v = path.join(s.site.ecl.dir, 'settings.py_server2');
    await fs.rm(v);
    await fs.mkdir(v);
    const r = await webtree(s.config, ['switch-web', 'server2', '--no-check-db']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${v}: not a regular file (ECL)`);
  });

  it.runIf(process.getuid?.() === 0)('run as root, a variant the service account cannot read is refused', async () => {
    const s = await sandbox();
    const v = path.join(s.site.paths.html, 'cfg', 'des_tv.cfg_server2');
    await fs.chown(v, 0, 0);
    await fs.chmod(v, 0o600);
    const r = await webtree(s.config, ['switch-web', 'server2', '--no-check-db']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/des_tv\.cfg_server2: not readable by \S+, the account the apps run as/);
  });

  it('verify reports a server mismatch when a slot link is tampered with', async () => {
    const s = await sandbox();
    const slot = path.join(s.site.paths.switch, 'server3', 'des_tv.cfg');
    await fs.rm(slot);
    await fs.symlink(path.join(s.site.paths.html, 'cfg', 'des_tv.cfg_server2'), slot);
    const r = await webtree(s.config, ['verify', '--json']);
    expect(r.code).toBe(1);
    const problems = (JSON.parse(r.stdout).findings as { problem: string }[]).map((f) => f.problem);
    expect(problems).toContainEqual(
      expect.stringMatching(
        /TV serves server2: .*des_tv\.cfg resolves to .*des_tv\.cfg_server2, but .*active says server3 \(`webtree repair`/,
      ),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(/split between servers: server2 \(TV\), server3 \(ConstantsDB, AV, QE, ECL\)/),
    );
  });

  it('refuses when a consumer was re-pointed by hand around the indirection', async () => {
    const s = await sandbox();
    const cfg = path.join(s.site.paths.html, 'cfg', 'constants.cfg');
    await fs.rm(cfg);
    await fs.symlink('constants.cfg_server3', cfg);
    const r = await webtree(s.config, ['switch-web', 'server2', '--no-check-db']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${cfg}: -> constants.cfg_server3`);
    expect(r.stderr).toContain('webtree repair');
  });
});
