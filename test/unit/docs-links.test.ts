/** Every relative link and anchor in the docs/ pages resolves (docs/check-links.mjs). */
import path from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

it('the docs have no broken link or anchor', async () => {
  const r = await execa(process.execPath, [path.join(ROOT, 'docs', 'check-links.mjs')], { reject: false });
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  expect(r.stdout).toMatch(/\d+ relative link\(s\) in \d+ page\(s\), 0 broken/);
});
