#!/usr/bin/env node
// Unpacking speed and memory, as a ratio against GNU tar in the same run (the machines are shared
// and noisy: only the ratio means something). Builds an archive like DESIGN.md's measurement
// (default 120 MB in 8,000 files), then times, best of N:
//   baseline: tar -xzf + sync -f          webtree: extractArchive (list, check, extract, check tree)
// Usage: npm run build && node bench/extract.mjs [--mb 120] [--files 8000] [--runs 3]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { extractArchive } from '../dist/archive/extract.js';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '120' }, files: { type: 'string', default: '8000' }, runs: { type: 'string', default: '3' } } });
const mb = Number(values.mb), files = Number(values.files), runs = Number(values.runs);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webtree-bench-'));
try {
  const src = path.join(dir, 'src', 'product-1.0');
  const per = Math.floor((mb * 1024 * 1024) / files);
  for (let i = 0; i < files; i++) {
    const sub = path.join(src, `d${i % 40}`, `e${i % 7}`);
    fs.mkdirSync(sub, { recursive: true });
    // half random (incompressible), half text: a build tree is both
    fs.writeFileSync(path.join(sub, `f${i}.dat`), i % 2 ? randomBytes(per) : Buffer.alloc(per, `line ${i}\n`));
  }
  const archive = path.join(dir, 'product-1.0.tar.gz');
  execFileSync('tar', ['-czf', archive, '-C', path.join(dir, 'src'), 'product-1.0']);
  const limits = { maxBytes: 4 * 1024 ** 3, maxEntries: 200_000, maxDepth: 64, maxRatio: 200 };
  // Rounds alternate which side goes first, and each measurement starts after a full sync, so
  // neither pays for the other's dirty pages.
  const once = async (fn) => {
    const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
    fs.mkdirSync(out);
    execFileSync('sync');
    const t0 = process.hrtime.bigint();
    await fn(out);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    fs.rmSync(out, { recursive: true, force: true });
    return s;
  };
  const baseline = async (out) => {
    execFileSync('tar', ['-xzf', archive, '-C', out]);
    execFileSync('sync', ['-f', out]);
  };
  const webtree = async (out) => {
    await extractArchive(archive, out, { limits, layout: 'single-top' });
    execFileSync('sync', ['-f', out]);
  };
  let gnu = Infinity, ours = Infinity;
  const rss0 = process.memoryUsage().rss;
  let rssPeak = rss0;
  for (let r = 0; r < runs; r++) {
    if (r % 2 === 0) {
      gnu = Math.min(gnu, await once(baseline));
      ours = Math.min(ours, await once(webtree));
    } else {
      ours = Math.min(ours, await once(webtree));
      gnu = Math.min(gnu, await once(baseline));
    }
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }
  const rssGrowth = (rssPeak - rss0) / 1024 / 1024;
  const size = fs.statSync(archive).size / 1024 / 1024;
  console.log(`archive ${size.toFixed(1)} MB, ${files} files, ${mb} MB unpacked; best of ${runs}`);
  console.log(`GNU tar + sync -f        ${gnu.toFixed(2)} s`);
  console.log(`webtree extractArchive   ${ours.toFixed(2)} s   (ratio ${(ours / gnu).toFixed(2)}x GNU tar; RSS grew ${rssGrowth.toFixed(0)} MB)`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
