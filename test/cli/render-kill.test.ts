/**
 * A render killed between its file writes: the next command finishes it (the files passed
 * httpd -t together; a mix of old and new never did), never reports it undone.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await makeSandbox();
  for (const [p, v] of [['TV', '3.3a'], ['QE', '2.0']]) expect((await sb.run(['install', await writeSampleArchive(sb.dir, p, v)])).exitCode).toBe(0);
});
afterAll(async () => sb.cleanup());

describe('render killed mid-write', () => {
  it('is finished by the next command: every file new, rendered.json written, nothing pending', async () => {
    const journal = path.join(sb.dir, 'site/www/state/journal.json');
    const child = sb.spawn(['render'], { WEBTREE_TEST_OP_DELAY_MS: '150' });
    // wait until some files are written (the journal exists and conf/httpd.conf is there), then kill
    for (let i = 0; i < 200; i++) {
      const started = await fs.access(journal).then(() => true, () => false);
      const some = await fs.access(path.join(sb.dir, 'site/www/conf/httpd.conf')).then(() => true, () => false);
      if (started && some) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await child;
    expect(await fs.access(journal).then(() => true, () => false), 'the kill landed before the render finished').toBe(true);
    // render --diff is a read, and reads settle an interrupted change first: then nothing is pending.
    const r = await sb.run(['render', '--diff']);
    expect(r.stderr).toMatch(/an interrupted `render` .* was finished/);
    expect(r.exitCode).toBe(0);
    expect((await sb.run(['status'])).exitCode).toBe(0);
    expect(JSON.parse(await fs.readFile(path.join(sb.dir, 'site/www/state/rendered.json'), 'utf8')).files).toHaveProperty([path.join(sb.dir, 'site/www/conf/httpd.conf')]);
    const last = (await sb.json(['history'])).entries.at(-1);
    expect(last).toMatchObject({ action: 'render', outcome: 'recovered' });
  });
});
