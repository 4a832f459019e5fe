/**
 * runProcess, the one process runner, against real programs: how a run ended, what it wrote,
 * the environment it adds, a program that cannot start, and runuser from a process that works
 * as the service account (src/core/privilege.ts), where only the spawn may take root back.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProcess, startWaiting, testAsAccount } from '../../src/core/exec.js';
import { dropToAccount, workingAs } from '../../src/core/privilege.js';
import { resolveOwner } from '../../src/apply/owner.js';

describe('startWaiting (the flush started ahead of its paths)', () => {
  it('runs with the input given at finish, not before', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-wait-'));
    const mark = path.join(dir, 'made');
    const p = startWaiting('xargs', ['-0', '-r', 'touch', '--']);
    // Started, but waiting on its stdin: nothing done yet.
    await new Promise((r) => setTimeout(r, 200));
    await expect(fs.access(mark)).rejects.toThrow();
    const r = await p.finish(mark);
    expect(r.exitCode).toBe(0);
    await fs.access(mark);
    await fs.rm(dir, { recursive: true });
  });

  it("given '', xargs -r runs nothing and ends", async () => {
    const r = await startWaiting('xargs', ['-0', '-r', 'false']).finish('');
    expect(r).toMatchObject({ exitCode: 0, stdout: '' });
  });

  it("the program's failure is its result: exit status and stderr", async () => {
    const r = await startWaiting('xargs', ['-0', '-r', 'sync', '-f', '--']).finish('/nonexistent/dir');
    expect(r.exitCode).toBe(123);
    expect(r.stderr).toMatch(/nonexistent/);
  });

  it('a program that ended before finish (or never started) gives its result, not an EPIPE', async () => {
    const r = await startWaiting('/nonexistent/xargs', []).finish('x'.repeat(1 << 20));
    expect(r.exitCode).toBe(-1);
    expect(r.message).toMatch(/ENOENT/);
    const early = startWaiting('true', []);
    await new Promise((res) => setTimeout(res, 200));
    expect((await early.finish('x'.repeat(1 << 20))).exitCode).toBe(0);
  });
});

describe('runProcess', () => {
  it('the exit status and the output, without the final newline; stdout and stderr also interleaved', async () => {
    const r = await runProcess('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toMatchObject({ exitCode: 3, stdout: 'out', stderr: 'err', all: 'out\nerr' });
    expect(r.message).toMatch(/exit code 3/);
    expect(await runProcess('true', [])).toEqual({ exitCode: 0, stdout: '', stderr: '', all: '', message: '' });
  });

  it('arguments are passed as they are, never through a shell', async () => {
    const r = await runProcess('printf', ['%s|', 'a b', '$HOME', '`id`', ';rm -rf x']);
    expect(r.stdout).toBe('a b|$HOME|`id`|;rm -rf x|');
  });

  it('env is added to this process environment, not put in its place', async () => {
    const r = await runProcess('sh', ['-c', 'echo "$PYTHONHOME:$PATH"'], { env: { PYTHONHOME: '/opt/py' } });
    expect(r.stdout).toBe(`/opt/py:${process.env.PATH}`);
  });

  it('stdin is closed: a program that reads it ends at once', async () => {
    expect(await runProcess('cat', [])).toMatchObject({ exitCode: 0, stdout: '' });
  });

  it('a program that cannot start: exit -1 and a message that names it', async () => {
    const r = await runProcess('/nonexistent/httpd', ['-t']);
    expect(r.exitCode).toBe(-1);
    expect(r.message).toMatch(/\/nonexistent\/httpd.*ENOENT/s);
  });

  it('a program killed by a signal: exit -1 and the signal named', async () => {
    const r = await runProcess('sh', ['-c', 'kill -TERM $$']);
    expect(r.exitCode).toBe(-1);
    expect(r.message).toMatch(/SIGTERM/);
  });
});

// Last in this file: the drop is for the rest of the process (vitest runs each file in its own).
describe.runIf(process.getuid?.() === 0)('runuser while working as the service account (root only)', () => {
  it('runs as the account, and the process keeps the account ids afterwards', async () => {
    const owner = await resolveOwner('codemanager', 'sispi').catch(() => undefined);
    expect(owner, 'the service account codemanager is missing: .ci/run creates it').toBeDefined();
    // From a working directory closed to the account, as root's /root is (ansible runs webtree there).
    process.chdir(await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-exec-closed-')));
    dropToAccount({ user: 'codemanager', uid: owner!.uid, gid: owner!.gid });
    expect(await runProcess('sync', ['-f', '/'])).toMatchObject({ exitCode: 0 });
    expect(workingAs()?.uid).toBe(owner!.uid);
    const r = await runProcess('runuser', ['-u', 'codemanager', '--', 'id', '-u']);
    expect(r).toMatchObject({ exitCode: 0, stdout: String(owner!.uid) });
    expect(process.geteuid!()).toBe(owner!.uid);
    // Only root may call runuser: without withRoot around the spawn this would be refused.
    expect(await testAsAccount('codemanager', ['-d', '/'])).toBe(true);
    expect(await testAsAccount('codemanager', ['-w', '/root'])).toBe(false);
  });
});
