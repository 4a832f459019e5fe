/**
 * The one process runner: every child process webtree starts (sync -f, id, getent, systemctl,
 * getcap, httpd -t, runApache.sh, the demo's CLI steps) goes through runProcess(), with an argument
 * array, never a shell string. Built on execa, as STYLE.md and issue 9 ask; no other module imports execa
 * or node:child_process (.dependency-cruiser.cjs: one-process-runner).
 */
import { withRoot, workingAs } from './privilege.js';

export interface RunResult {
  /** The exit status; -1 when the program could not be started, was killed or timed out. */
  exitCode: number;
  /** The output, without its final newline ('' under output: 'inherit'). */
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as the program wrote them. */
  all: string;
  /** Why it failed, in execa's words (the command, the exit status or signal, ENOENT), or ''. */
  message: string;
}

export interface RunOptions {
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** 'inherit': the child writes to this process's stdout and stderr (the demo's transcript). */
  output?: 'pipe' | 'inherit';
}

/**
 * Run file with args and wait for it; never rejects for a failing program: the result says how
 * it ended. stdin is closed, so that nothing ever waits on a terminal.
 */
export async function runProcess(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  // Loaded at the first use: the commands that only read (status, list) start no process, and
  // execa's loading is a good part of a short command's start-up (issue 15; docs/benchmarks.md).
  const { execa } = await import('execa');
  const io = opts.output === 'inherit' ? ({ stdout: 'inherit', stderr: 'inherit' } as const) : ({ all: true } as const);
  const start = () => execa(file, args, { ...childOptions(opts), stdin: 'ignore', ...io });
  // runuser needs root: during a drop (core/privilege.ts) only the spawn takes it back, which
  // execa does synchronously inside this call; the child has its own ids from then on.
  return resultOf(await (file === 'runuser' ? withRoot(start) : start()));
}

/** A program started ahead of when it is needed, waiting for its input: see startWaiting. */
export interface WaitingProcess {
  /** Write `input` to its stdin, close it, and wait for the program to end. */
  finish(input: string): Promise<RunResult>;
}

/**
 * Start file with args now, its stdin a pipe that stays open until finish(): for a program whose
 * start should not be paid for when its work is due (a fork of a big process costs tens of
 * milliseconds). The caller must call finish on every path, with '' when it turns out not to be
 * needed; until then the program keeps this process alive.
 */
export function startWaiting(file: string, args: string[], opts: RunOptions = {}): WaitingProcess {
  const started = (async () => {
    const { execa } = await import('execa');
    // In a box: the subprocess is itself a promise, which an async function would wait for.
    return { child: execa(file, args, { ...childOptions(opts), stdin: 'pipe', all: true }) };
  })();
  // Marked as handled now: finish, when it comes, reports the failure as a result.
  started.catch(() => undefined);
  return {
    async finish(input: string) {
      let child;
      try {
        ({ child } = await started);
      } catch (err) {
        return { exitCode: -1, stdout: '', stderr: '', all: '', message: String(err) };
      }
      // A program that died early closed its end: its result says why, not an EPIPE here.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
      return resultOf(await child);
    },
  };
}

/** What every child gets: no rejection (the result says how it ended), the added env, its cwd. */
function childOptions(opts: RunOptions) {
  // execa always chdirs the child into cwd (node:child_process did not): working as the service
  // account, root's working directory (/root, ansible's) may be closed to it and the spawn fails.
  return { reject: false, env: opts.env, cwd: workingAs() ? '/' : undefined } as const;
}

function resultOf(r: {
  exitCode?: number;
  stdout?: unknown;
  stderr?: unknown;
  all?: unknown;
  failed: boolean;
  message?: unknown;
}): RunResult {
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    exitCode: r.exitCode ?? -1,
    stdout: text(r.stdout),
    stderr: text(r.stderr),
    all: text(r.all),
    message: r.failed ? text(r.message) : '',
  };
}

/**
 * Does `test ARGS` (test(1)) hold for `account`? Asked as the account through runuser (no PAM
 * prompt, no login shell needed): as root, access(2) says yes to anything. Only root may ask.
 */
export async function testAsAccount(account: string, args: string[]): Promise<boolean> {
  return (await runProcess('runuser', ['-u', account, '--', 'test', ...args])).exitCode === 0;
}
