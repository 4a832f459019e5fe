/**
 * Short child processes that every changing command needs (`sync -f`, `id`, `getent`), with an
 * argument array, never a shell string — through node:child_process rather than execa, whose
 * loading alone costs more than these processes take (DESIGN's archive installs in under a
 * second; see docs/benchmarks.md). Anything long-running or interactive uses execa.
 */
import { withRoot } from './privilege.js';

export interface FileResult {
  /** The exit status; -1 when the program could not be started (or was killed). */
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runFile(file: string, args: string[]): Promise<FileResult> {
  // Loaded at the first use: the commands that only read (status, list) start no process, and
  // node:child_process is a few milliseconds of their start-up (issue 15).
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    // runuser needs root: during a drop the spawn alone takes it back (the child is forked at once).
    const spawn = () =>
      execFile(file, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        resolve({ exitCode: typeof code === 'number' ? code : -1, stdout, stderr });
      });
    if (file === 'runuser') withRoot(spawn);
    else spawn();
  });
}

/**
 * Does `test ARGS` (test(1)) hold for `account`? Asked as the account through runuser (no PAM
 * prompt, no login shell needed): as root, access(2) says yes to anything. Only root may ask.
 */
export async function testAsAccount(account: string, args: string[]): Promise<boolean> {
  return (await runFile('runuser', ['-u', account, '--', 'test', ...args])).exitCode === 0;
}
