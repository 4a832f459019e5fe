/**
 * Typos and bad numbers on the command line (issue 10): an unknown option or command names the
 * nearest known one, a bad --keep says what it takes, `webtree --version` answers. Each is bad
 * usage: exit 2, one message and a hint, never a stack trace.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, ROOT, runCli, type Sandbox } from '../helpers/cli.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await makeSandbox();
}, 120_000);
afterAll(async () => sb.cleanup());

async function usage(args: string[], message: string, hint: RegExp): Promise<void> {
  const r = await sb.run(args);
  expect(r.exitCode, r.stderr).toBe(2);
  const [first, second, ...rest] = r.stderr.trimEnd().split('\n');
  expect(first).toBe(`webtree: ${message}`);
  expect(second).toMatch(hint);
  expect(rest).toEqual([]);
  expect(r.stdout).toBe('');
}

describe('the command line names the nearest word and the fix', () => {
  it('an option typo: "did you mean", and where the options are listed', async () => {
    await usage(
      ['prune', 'TV', '--dryrun', '--keep', '1'],
      'unknown option --dryrun (did you mean --dry-run?)',
      /^ {2}hint: webtree help prune lists its options$/,
    );
    await usage(
      ['install', 'tv-3.4.tar.gz', '--licence', 'chartdir.lic'],
      'unknown option --licence (did you mean --license?)',
      /^ {2}hint: webtree help install lists its options$/,
    );
  });

  it('a command typo: "did you mean", and the commands; a word near none gets the list only', async () => {
    await usage(
      ['rollbak', 'TV'],
      'unknown command "rollbak" (did you mean rollback?)',
      /^ {2}hint: commands: init, install, .*rollback.*$/,
    );
    await usage(['xyzzy'], 'unknown command "xyzzy"', /^ {2}hint: commands: init, install, /);
  });

  it('--keep that is not a whole number ≥ 0 says what it takes, and how to write a negative one', async () => {
    for (const bad of ['abc', '1.5', '']) {
      await usage(
        ['prune', 'TV', `--keep=${bad}`],
        `--keep takes a whole number ≥ 0 (the current and previous versions are always kept), got "${bad}"`,
        /^ {2}hint: e\.g\. webtree prune TV --keep 3$/,
      );
    }
    await usage(
      ['prune', 'TV', '--keep=-1'],
      '--keep takes a whole number ≥ 0 (the current and previous versions are always kept), got "-1"',
      /^ {2}hint: e\.g\. webtree prune TV --keep 3$/,
    );
    // A separate "-1" reads as an option: said so, with the spelling that works.
    await usage(
      ['prune', 'TV', '--keep', '-1'],
      'prune: --keep was given "-1", which looks like an option',
      /^ {2}hint: write --keep=-1 if that is the value you mean; webtree help prune$/,
    );
  });

  it('webtree --version prints the version of the package', async () => {
    const { version } = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8'));
    const r = await runCli(['--version']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`webtree ${version}`);
  });
});
