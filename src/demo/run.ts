/**
 * `npm run demo [-- DIR]`: the product life end to end on a sandbox site. Every step is the real
 * CLI, run as a child process and printed like a terminal transcript.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runProcess } from '../core/exec.js';
import { PACKAGE_ROOT } from '../core/package-root.js';
import { demoApache } from './apache-part.js';
import { FIRST_VERSIONS, writeSampleArchive } from './samples.js';
import { freePort } from '../core/net.js';

const BIN = path.join(PACKAGE_ROOT, 'bin', 'webtree.js');

async function accountExists(name: string): Promise<boolean> {
  return (await runProcess('id', ['-u', name])).exitCode === 0;
}

/** Run as root, Apache needs an unprivileged account; elsewhere the demo runs as whoever starts it. */
async function demoUser(): Promise<string[]> {
  if (process.getuid?.() !== 0) return ['--user', os.userInfo().username];
  if (await accountExists('codemanager')) return ['--user', 'codemanager'];
  return ['--user', 'nobody', '--group', 'nogroup'];
}

export async function runDemo(dirArg?: string): Promise<number> {
  const dir = path.resolve(dirArg ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-demo-'))));
  await fs.mkdir(dir, { recursive: true });
  await fs.chmod(dir, 0o755); // the service account must be able to reach the tree
  const archives = path.join(dir, 'archives');
  await fs.mkdir(archives, { recursive: true });
  const config = path.join(dir, 'site', 'webtree.yaml');
  const env = { WEBTREE_CONFIG: config };
  const step = async (args: string[], allowed: number[] = [0]) => {
    process.stdout.write(`\n$ webtree ${args.join(' ')}\n`);
    const r = await runProcess(process.execPath, [BIN, ...args], { env, output: 'inherit' });
    if (!allowed.includes(r.exitCode))
      throw new Error(`demo step failed (exit ${r.exitCode}): webtree ${args.join(' ')}`);
    return r.exitCode;
  };

  console.log(`webtree demo in ${dir}`);
  const files: Record<string, string> = {};
  for (const [p, v] of [...FIRST_VERSIONS, ['TV', '3.4'] as [string, string]])
    files[`${p} ${v}`] = await writeSampleArchive(archives, p, v);
  const licence = path.join(archives, 'chartdir.lic');
  await fs.writeFile(licence, 'sample ChartDirector licence\n');
  console.log(
    `sample archives in ${archives}: ${Object.values(files)
      .map((f) => path.basename(f))
      .join(', ')}`,
  );

  const port = await freePort();
  await step(['init', '--prefix', path.join(dir, 'site'), '--listen', `127.0.0.1:${port}`, ...(await demoUser())]);
  for (const [p, v] of FIRST_VERSIONS)
    await step(['install', files[`${p} ${v}`], ...(p === 'ChartDirector' ? ['--license', licence] : [])]);
  await step(['install', files['TV 3.4']]);
  await step(['status']);
  await step(['rollback', 'TV']);
  await step(['install', files['TV 3.4']]); // the same archive again: a no-op
  await step(['verify']);
  await step(['status']);
  await step(['history', 'TV']);
  await demoApache(step, config);
  console.log(`\nThe sandbox stays in ${dir}; remove it with: rm -rf ${dir}`);
  return 0;
}

runDemo(process.argv[2]).then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(`demo: ${(err as Error).message}`);
    process.exitCode = 1;
  },
);
