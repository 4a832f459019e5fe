/**
 * The archive's identity through install: the sha256 in the manifest and the history is the
 * archive file's, whatever the unpacking read of it, so the same file installed again is a no-op.
 * And what an archive says about a file's time cannot make an install fail with a bare system error.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';

let sb: Sandbox;
let arch: string;
const site = () => path.join(sb.dir, 'site');

beforeAll(async () => {
  sb = await makeSandbox();
  arch = path.join(sb.dir, 'archives');
  await fs.mkdir(arch);
});
afterAll(async () => sb.cleanup());

const sha256 = async (p: string) =>
  createHash('sha256')
    .update(await fs.readFile(p))
    .digest('hex');

describe('install records the sha256 of the whole archive file', () => {
  it('a .tar.gz padded with zero bytes after its gzip stream (as dd conv=sync or a tape block leaves it)', async () => {
    const a = await writeSampleArchive(arch, 'TV', '3.3a');
    // gunzip stops at the end of its stream and skips trailing zeros as padding: 3 MiB of them
    // lie beyond the first reads of the file.
    await fs.appendFile(a, Buffer.alloc(3 * 1024 * 1024));
    const want = await sha256(a);
    const r = await sb.run(['install', a]);
    expect(r.exitCode, r.stderr).toBe(0);
    const m = JSON.parse(await fs.readFile(path.join(site(), 'www/state/manifests/TV/3.3a.json'), 'utf8'));
    expect(m.archiveSha256).toBe(want);
    const history = (await fs.readFile(path.join(site(), 'www/state/history.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(history.filter((e) => e.action === 'install').map((e) => [e.version, e.outcome, e.sha256])).toEqual([
      ['3.3a', 'ok', want],
    ]);
    // The same file again: recognised as the same archive, not refused as another one.
    const again = await sb.run(['install', a]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/already installed from the same archive/);
  });
});

describe('an archive whose own top directory names another product or version', () => {
  it('cp tv-3.4.tar.gz tv-3.9.tar.gz: refused, naming what it holds; --force installs it as 3.9', async () => {
    const real = await writeSampleArchive(arch, 'TV', '3.4');
    const renamed = path.join(arch, 'tv-3.9.tar.gz');
    await fs.copyFile(real, renamed);
    const r = await sb.run(['install', renamed]);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /^webtree: tv-3\.9\.tar\.gz holds tv-3\.4\/, which names TV 3\.4, not TV 3\.9; nothing was changed\n {2}hint: install the archive under the name of what it holds/m,
    );
    expect((await sb.json(['list', 'TV'])).products[0].versions).not.toContain('3.9');
    expect((await fs.readdir(path.join(site(), 'dbwebtools/tv'))).filter((n) => n.startsWith('.webtree-'))).toEqual([]);
    const forced = await sb.run(['install', renamed, '--force', '--no-activate']);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect((await sb.json(['list', 'TV'])).products[0].versions).toContain('3.9');
  });

  it('a TV archive installed as AV: refused, naming TV', async () => {
    const tv = await writeSampleArchive(arch, 'TV', '3.5');
    const r = await sb.run(['install', tv, '--product', 'AV', '--version', '3.5']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/holds tv-3\.5\/, which names TV 3\.5, not AV 3\.5/);
  });

  it('a top directory that names nothing webtree knows, or the same version spelled alike, installs', async () => {
    const cd = await writeSampleArchive(arch, 'ChartDirector', '5.0.2'); // top directory "ChartDirector/"
    const r = await sb.run(['install', cd]);
    expect(r.exitCode, r.stderr).toBe(0);
  });
});
