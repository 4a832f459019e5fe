/**
 * `webtree completion bash`, sourced into a real bash and driven the way bash drives it
 * (COMP_WORDS, COMP_CWORD, then the function `complete` names): commands, options per command,
 * products for PRODUCT, files for ARCHIVE, directories for DIR, apache's verbs.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { COMMANDS } from '../../src/commands/registry.js';

let dir: string;
let script: string;

// bash -c only drives the completion function; every word arrives as its own argument.
const DRIVER =
  'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; ' +
  'fn=$(complete -p webtree | sed -n "s/.*-F \\([^ ]*\\) .*/\\1/p"); "$fn" webtree "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"; printf "%s\\n" "${COMPREPLY[@]}"';

async function complete(...words: string[]): Promise<string[]> {
  const r = await execa('bash', ['--norc', '--noprofile', '-c', DRIVER, 'bash', script, 'webtree', ...words], {
    cwd: dir,
  });
  return r.stdout.split('\n').filter(Boolean).sort();
}

const PRODUCTS = ['AV', 'ChartDirector', 'ConstantsDB', 'EXPO', 'QE', 'TV', 'dbiapp_pylib', 'wsgi_py'];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-completion-'));
  const r = await runCli(['completion', 'bash']);
  expect(r.exitCode, r.stderr).toBe(0);
  script = path.join(dir, 'webtree.bash');
  await fs.writeFile(script, r.stdout);
  for (const f of ['tv-3.4.tar.gz', 'tv-3.5.tar.gz', 'notes.txt']) await fs.writeFile(path.join(dir, f), '');
  await fs.mkdir(path.join(dir, 'templates'));
});
afterAll(async () => fs.rm(dir, { recursive: true, force: true }));

describe('bash completion', () => {
  it('registers a function for webtree and completes command names', async () => {
    const r = await execa('bash', ['--norc', '--noprofile', '-c', 'source "$1"; complete -p webtree', 'bash', script]);
    expect(r.stdout).toBe('complete -F _webtree webtree');
    expect(await complete('ac')).toEqual(['activate']);
    expect(await complete('s')).toEqual(['status', 'switch-web']);
    expect(await complete('')).toHaveLength(COMMANDS.length);
  });

  it('each command its own options: --dry-run only where it changes something, --json where it reports', async () => {
    const install = await complete('install', '--');
    expect(install).toEqual(
      expect.arrayContaining([
        '--product',
        '--version',
        '--no-activate',
        '--license',
        '--dry-run',
        '--json',
        '--config',
      ]),
    );
    expect(install).not.toContain('--keep');
    const status = await complete('status', '--');
    expect(status).toContain('--json');
    expect(status).not.toContain('--dry-run');
    expect(await complete('prune', 'TV', '--k')).toEqual(['--keep']);
    expect(await complete('help', '--')).not.toContain('--json');
  });

  it('product names (from products/*.yaml) where a PRODUCT goes, after --config too', async () => {
    expect(await complete('activate', '')).toEqual(PRODUCTS);
    expect(await complete('--config', '/srv/webtree.yaml', 'rollback', 'T')).toEqual(['TV']);
    expect(await complete('install', 'x.tar.gz', '--product', 'Co')).toEqual(['ConstantsDB']);
    expect(await complete('activate', 'TV', '')).toEqual([]);
  });

  it('files for ARCHIVE and FILE, directories for DIR', async () => {
    expect(await complete('install', 'tv')).toEqual(['tv-3.4.tar.gz', 'tv-3.5.tar.gz']);
    expect(await complete('install', 'x.tar.gz', '--license', 'no')).toEqual(['notes.txt']);
    expect(await complete('render', '--templates', '')).toEqual(['templates']);
  });

  it("apache's verbs, for apache and for help apache; commands for help", async () => {
    expect(await complete('apache', 'st')).toEqual(['start', 'status', 'stop']);
    expect(await complete('help', 'apache', 'gr')).toEqual(['graceful']);
    expect(await complete('help', 'ro')).toEqual(['rollback']);
    expect(await complete('completion', '')).toEqual(['bash']);
  });

  it('an unknown shell is exit 2 naming it', async () => {
    const r = await runCli(['completion', 'fish']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no completion for the shell "fish"/);
  });
});
