/**
 * Short child processes that every changing command needs (`sync -f`, `id`, `getent`), with an
 * argument array, never a shell string — through node:child_process rather than execa, whose
 * loading alone costs more than these processes take (DESIGN's archive installs in under a
 * second; see docs/benchmarks.md). Anything long-running or interactive uses execa.
 */
import { execFile } from 'node:child_process';

export interface FileResult {
  /** The exit status; -1 when the program could not be started (or was killed). */
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function runFile(file: string, args: string[]): Promise<FileResult> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ exitCode: typeof code === 'number' ? code : -1, stdout, stderr });
    });
  });
}
