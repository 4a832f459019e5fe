/**
 * Every hostile archive of the corpus, through `webtree install`: exit 1, the entry and the reason
 * named, nothing written outside the staging directory, the staging directory gone, and the live
 * version untouched and still served.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { CORPUS_LIMITS, makeBadArchives, outsideDir, type BadArchive } from '../fixtures/make-bad-archives.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';

let sb: Sandbox;
let corpus: BadArchive[];
let corpusDir: string;
const tv = () => path.join(sb.dir, 'site/dbwebtools/tv');

async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(e.parentPath, e.name);
    const st = await fs.lstat(p);
    // A directory's mtime moves when the staging dir comes and goes; its entries are what count.
    out.push(`${path.relative(dir, p)} ${st.mode} ${st.isDirectory() ? '' : `${st.size} ${st.mtimeMs}`}`);
  }
  return out.sort();
}

beforeAll(async () => {
  sb = await makeSandbox();
  // The corpus is built against small limits; the site takes the same ones.
  const text = await fs.readFile(sb.config, 'utf8');
  const limited = text
    .replace(/maxBytes: \d+/, `maxBytes: ${CORPUS_LIMITS.maxBytes}`)
    .replace(/maxEntries: \d+/, `maxEntries: ${CORPUS_LIMITS.maxEntries}`)
    .replace(/maxDepth: \d+/, `maxDepth: ${CORPUS_LIMITS.maxDepth}`)
    .replace(/maxRatio: \d+/, `maxRatio: ${CORPUS_LIMITS.maxRatio}`);
  expect(limited).not.toBe(text);
  await fs.writeFile(sb.config, limited);
  expect((await sb.run(['install', await writeSampleArchive(sb.dir, 'TV', '3.3a')])).exitCode).toBe(0);
  corpusDir = path.join(sb.dir, 'corpus');
  await fs.mkdir(corpusDir);
  corpus = await makeBadArchives(corpusDir);
}, 180_000);
afterAll(async () => sb.cleanup());

describe('webtree install refuses every hostile archive', () => {
  it('has at least twenty kinds', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(20);
  });

  it('refuses each with exit 1, naming the entry and the reason, and leaves the site as it was', async () => {
    const siteBefore = await snapshot(path.join(sb.dir, 'site'));
    const outsideBefore = await snapshot(outsideDir(corpusDir));
    const failures: string[] = [];
    for (const [i, bad] of corpus.entries()) {
      const r = await sb.run(['install', bad.file, '--product', 'TV', '--version', `9.${i}`]);
      if (r.exitCode !== 1) failures.push(`${bad.name}: exit ${r.exitCode} ${r.stderr}`);
      else if (!bad.expect.test(r.stderr))
        failures.push(`${bad.name}: message ${JSON.stringify(r.stderr)} does not match ${bad.expect}`);
      else if (/unexpected error|at .*\.js:\d+/.test(r.stderr))
        failures.push(`${bad.name}: not a clean refusal: ${r.stderr}`);
      const names = await fs.readdir(tv());
      if (names.some((n) => n.startsWith('.webtree-') || n.startsWith('9.')))
        failures.push(`${bad.name}: left ${names.join(' ')}`);
      if ((await fs.readlink(path.join(tv(), 'current'))) !== '3.3a') failures.push(`${bad.name}: current moved`);
    }
    expect(failures).toEqual([]);
    // Nothing outside the staging directory changed: the site (bar the history) and the escape targets.
    const siteAfter = (await snapshot(path.join(sb.dir, 'site'))).filter(
      (l) => !l.startsWith('www/state/history.jsonl') && !l.startsWith('www/state '),
    );
    expect(siteAfter).toEqual(
      siteBefore.filter((l) => !l.startsWith('www/state/history.jsonl') && !l.startsWith('www/state ')),
    );
    expect(await snapshot(outsideDir(corpusDir))).toEqual(outsideBefore);
    expect(await fs.readFile(path.join(sb.dir, 'site/www/html/TV/tv.wsgi'), 'utf8')).toMatch(/VERSION = "3.3a"/);
    const failed = (await sb.json(['history', 'TV'])).entries.filter(
      (e: { outcome: string }) => e.outcome === 'failed',
    );
    expect(failed.length).toBe(corpus.length);
  }, 300_000);
});
