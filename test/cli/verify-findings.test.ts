/**
 * verify's findings beside the versions (issue 10): a directory in a product's place whose name
 * is no version, a service account that does not exist, a missing history, a manifest whose
 * version directory is gone. Each makes verify exit 1 naming the thing and the fix; put back,
 * verify is clean again (so each finding comes from that one damage).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { execa } from 'execa';
import { BIN, makeSandbox, serviceUser, type Sandbox } from '../helpers/cli.js';

let sb: Sandbox;
const site = (...p: string[]) => path.join(sb.dir, 'site', ...p);

beforeAll(async () => {
  sb = await makeSandbox();
  for (const v of ['3.3', '3.4']) {
    const r = await sb.run(['install', await writeSampleArchive(sb.dir, 'TV', v)]);
    if (r.exitCode !== 0) throw new Error(`install TV ${v}: ${r.stderr}`);
  }
}, 120_000);
afterAll(async () => sb.cleanup());

async function findings(): Promise<{ exitCode: number; list: { what: string; problem: string }[] }> {
  const j = await sb.run(['verify', '--json']);
  return { exitCode: j.exitCode, list: JSON.parse(j.stdout).findings };
}

/** As root, through runuser as the tree's own account (it is not root, so it never switches accounts); else as we are. */
async function asOther(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  if (process.getuid?.() !== 0) return sb.run(args);
  const [user] = (await serviceUser()).slice(1);
  const r = await execa('runuser', ['-u', user, '--', process.execPath, BIN, '--config', sb.config, ...args], {
    reject: false,
    stdin: 'ignore',
    env: { WEBTREE_LOCK_WAIT: '5' },
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

async function clean(): Promise<void> {
  const r = await sb.run(['verify']);
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  expect(r.stdout).toContain('verify: all good');
}

describe('verify names what lies beside the versions, and the fix', () => {
  it('the tree as installed is clean', clean);

  it('a directory under a product that is not a version name', async () => {
    // The issue's own example: what an old hint's `mv tv/current tv/current.by-hand` left; it was listed as "version current.by-hand".
    const odd = site('dbwebtools', 'tv', 'current.by-hand');
    await fs.mkdir(odd);
    try {
      expect((await sb.json(['list', 'TV'])).products[0].versions).toEqual(['3.3', '3.4']);
      const f = await findings();
      expect(f.exitCode).toBe(1);
      expect(f.list).toEqual([
        { what: 'TV', problem: expect.stringContaining(`${odd} is not a version name (a version has a digit)`) },
      ]);
      // the fix: a command that moves it where it is neither served nor read as a version
      expect(f.list[0].problem).toContain(
        `mkdir -p ${site('www', 'aside')} && mv ${odd} ${site('www', 'aside', 'current.by-hand.by-hand')}`,
      );
      const text = await sb.run(['verify']);
      expect(text.exitCode).toBe(1);
      expect(text.stdout).toBe(`verify: 1 finding(s)\n  TV: ${f.list[0].problem}`);
    } finally {
      await fs.rmdir(odd);
    }
    await clean();
  });

  it('a service account that does not exist', async () => {
    const before = await fs.readFile(sb.config, 'utf8');
    const user = before.match(/^ {2}user: (\S+)$/m)?.[1];
    expect(user, before).toBeTruthy();
    await fs.writeFile(sb.config, before.replace(/^ {2}user: \S+$/m, '  user: nosuch-webtree-acct'));
    try {
      // Run as root, webtree works as the service account, so a missing one stops every command first.
      if (process.getuid?.() === 0) {
        const r = await sb.run(['verify']);
        expect(r.exitCode).toBe(1);
        expect(r.stderr).toMatch(
          /the service account nosuch-webtree-acct:\S+ does not exist on this host\n {2}hint: create it \(groupadd \S+; useradd -g \S+ nosuch-webtree-acct\) or set apache\.user\/apache\.group in the site file/,
        );
      }
      // Anyone else (the operator's own account here) gets the finding among the others.
      const j = await asOther(['verify', '--json']);
      expect(j.exitCode, j.stderr).toBe(1);
      const list: { what: string; problem: string }[] = JSON.parse(j.stdout).findings;
      expect(list).toEqual([
        {
          what: 'account',
          problem: expect.stringContaining('the service account nosuch-webtree-acct (apache.user) does not exist'),
        },
      ]);
      expect(list[0].problem).toMatch(/create it: useradd -g \S+ nosuch-webtree-acct, or set apache\.user in /);
      expect(list[0].problem).toContain(sb.config);
    } finally {
      await fs.writeFile(sb.config, before);
    }
    await clean();
  });

  it('a missing history file while versions are installed', async () => {
    const h = site('www', 'state', 'history.jsonl');
    const kept = path.join(sb.dir, 'history.kept');
    await fs.rename(h, kept);
    try {
      const f = await findings();
      expect(f.exitCode).toBe(1);
      expect(f.list).toEqual([
        { what: 'history', problem: expect.stringContaining(`${h} is missing though TV is installed`) },
      ]);
      expect(f.list[0].problem).toMatch(
        /restore it from a backup.*the next install, activate or rollback starts a new one.*rollback --to VERSION/,
      );
      // The fix it names works: a change starts a new history, and the finding is gone.
      const a = await sb.run(['activate', 'TV', '3.3']);
      expect(a.exitCode, a.stderr).toBe(0);
      await clean();
      expect((await sb.run(['activate', 'TV', '3.4'])).exitCode).toBe(0);
    } finally {
      await fs.rename(kept, h);
    }
    await clean();
  });

  it('a manifest whose version directory is gone', async () => {
    const dir = site('dbwebtools', 'tv', '3.3');
    const away = path.join(sb.dir, 'tv-3.3.away');
    const manifest = site('www', 'state', 'manifests', 'TV', '3.3.json');
    await fs.rename(dir, away);
    try {
      const f = await findings();
      expect(f.exitCode).toBe(1);
      expect(f.list).toContainEqual({
        what: 'TV 3.3',
        problem: `${manifest} names a version whose directory ${dir} is missing: install its archive again, or move the manifest to ${site('www', 'state', 'attic')}`,
      });
    } finally {
      await fs.rename(away, dir);
    }
    await clean();
  });
});
