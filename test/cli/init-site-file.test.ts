/**
 * Where init writes the site file, through the real CLI: the precedence of siteFilePath (README
 * "The site file", docs/commands/init.md step 3). The hazard it guards: a WEBTREE_CONFIG still
 * exported from an earlier sandbox used to win over `init --prefix NEW`.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, serviceUser } from '../helpers/cli.js';

let dir: string;
let user: string[];
beforeAll(async () => {
  ensureBuilt();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-init-file-'));
  await fs.chmod(dir, 0o755);
  user = await serviceUser();
}, 120_000);
afterAll(async () => fs.rm(dir, { recursive: true, force: true }));

const exists = (p: string) =>
  fs.lstat(p).then(
    () => true,
    () => false,
  );

describe('where init writes the site file', () => {
  it('--prefix wins over an exported WEBTREE_CONFIG', async () => {
    const old = path.join(dir, 'old', 'webtree.yaml');
    const prefix = path.join(dir, 'new');
    const r = await runCli(['init', '--prefix', prefix, '--listen', '127.0.0.1:18090', ...user, '--json'], {
      WEBTREE_CONFIG: old,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).siteFile).toBe(path.join(prefix, 'webtree.yaml'));
    expect(await fs.readFile(path.join(prefix, 'webtree.yaml'), 'utf8')).toContain(`www: ${prefix}/www`);
    expect(await exists(old)).toBe(false);
  });

  it('--config wins over --prefix and WEBTREE_CONFIG', async () => {
    const file = path.join(dir, 'elsewhere.yaml');
    const prefix = path.join(dir, 'p2');
    const r = await runCli(
      ['--config', file, 'init', '--prefix', prefix, '--listen', '127.0.0.1:18091', ...user, '--json'],
      { WEBTREE_CONFIG: path.join(dir, 'env.yaml') },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).siteFile).toBe(file);
    expect(await fs.readFile(file, 'utf8')).toContain(`www: ${prefix}/www`);
    expect(await exists(path.join(prefix, 'webtree.yaml'))).toBe(false);
    expect(await exists(path.join(dir, 'env.yaml'))).toBe(false);
  });

  it('an empty WEBTREE_CONFIG without --prefix is refused by name, exit 2, nothing written', async () => {
    const r = await runCli(['init', '--dry-run'], { WEBTREE_CONFIG: '' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^webtree: WEBTREE_CONFIG is set but empty\n {2}hint: /);
  });
});
