/**
 * A disk shared between hosts: a second "host" is a UTS namespace with its own hostname
 * (unshare --uts), running the real CLI, which holds the lock while it plans. From this host,
 * its lock is reported with host, pid, user, command and age, and never taken over as dead,
 * not even once its process has died; only `webtree break-lock` breaks it, after asking.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { BIN, makeSandbox, type Sandbox } from '../helpers/cli.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) {
  if (process.env.CI === 'true')
    describe('lock on a shared disk', () =>
      it('runs as root', () => {
        throw new Error('unshare --uts needs root (CI runs the tests as root)');
      }));
  else console.warn('skipping the shared-disk lock tests: unshare --uts needs root');
}

describe.skipIf(!isRoot)('the lock on a disk shared between hosts', () => {
  let sb: Sandbox;
  let archive: string;
  const lockFile = () => path.join(sb.dir, 'site', 'www', 'state', 'lock');

  beforeAll(async () => {
    sb = await makeSandbox();
    archive = await writeSampleArchive(sb.dir, 'TV', '3.4');
  }, 60_000);
  afterAll(async () => sb?.cleanup());

  it('a lock held on another host is reported, never taken over, and broken only by break-lock', async () => {
    // The other host: its own hostname, holding the lock for a minute while it "plans".
    const other = execa(
      'unshare',
      ['--uts', '--', 'sh', '-c', 'hostname webtree-other && exec "$0" "$@"', ...sb.argv(['install', archive])],
      {
        reject: false,
        env: { WEBTREE_TEST_PAUSE_MS: '60000' },
      },
    );
    for (let i = 0; i < 200 && !(await fs.stat(lockFile()).catch(() => null)); i++)
      await new Promise((r) => setTimeout(r, 50));
    const held = JSON.parse(await fs.readFile(lockFile(), 'utf8'));
    expect(held).toMatchObject({ host: 'webtree-other', user: 'root', command: expect.stringContaining('install') });

    const blocked = await sb.run(['activate', 'TV', '3.4'], { WEBTREE_LOCK_WAIT: '0.5' });
    expect(blocked.exitCode).toBe(1);
    expect(blocked.stderr).toMatch(
      new RegExp(
        `locked by pid ${held.pid} \\(user root, \`install [^\`]*\`, since 20\\d\\d-[^,]+, held \\d+ min\\) on host webtree-other`,
      ),
    );
    expect(blocked.stderr).toMatch(/never taken over from here.*webtree break-lock/);

    // Its process dies (the host went down): here its pid means nothing, and the lock stays.
    other.kill('SIGKILL');
    await other;
    const still = await sb.run(['status'], { WEBTREE_LOCK_WAIT: '0.5' });
    expect(await fs.readFile(lockFile(), 'utf8')).toBe(JSON.stringify(held));
    expect(still.stderr + still.stdout).not.toMatch(/took over|recovered a lock/i);

    // break-lock asks; without a terminal or --yes it refuses, changing nothing.
    const unasked = await sb.run(['break-lock']);
    expect(unasked.exitCode).toBe(2);
    expect(unasked.stderr).toMatch(
      /held by pid \d+ \(user root, .*\) on host webtree-other; break-lock asks before breaking it/,
    );
    expect(JSON.parse(await fs.readFile(lockFile(), 'utf8')).token).toBe(held.token);
    // Asked on a terminal, "n" keeps it; then --yes breaks it.
    const no = await execa(
      'script',
      ['-qec', `${process.execPath} ${BIN} --config ${sb.config} break-lock`, '/dev/null'],
      { input: 'n\n', reject: false },
    );
    expect(no.stdout).toMatch(/break the lock\? only if host webtree-other is down/);
    expect(no.exitCode).toBe(1);
    expect(JSON.parse(await fs.readFile(lockFile(), 'utf8')).token).toBe(held.token);
    const broken = await sb.run(['break-lock', '--yes']);
    expect(broken.exitCode, broken.stderr).toBe(0);
    expect(broken.stdout).toMatch(/broke the lock of pid \d+ \(.*\) on host webtree-other/);
    expect(await fs.stat(lockFile()).catch(() => null)).toBeNull();
    expect((await sb.json(['history'])).entries.at(-1)).toMatchObject({ action: 'break-lock', outcome: 'ok' });
    // The tree works again: the killed install had written nothing before its pause.
    const after = await sb.run(['install', archive]);
    expect(after.exitCode, after.stderr).toBe(0);
    expect((await sb.run(['break-lock'])).stdout).toMatch(/not locked/);
  }, 120_000);
});
