/**
 * The one process runner: every child process webtree starts (sync -f, id, getent, systemctl,
 * getcap, httpd -t, runApache.sh, the demo's CLI steps) goes through runProcess(), with an argument
 * array, never a shell string. Built on execa, as STYLE.md and issue 9 ask, but for the flush's
 * waiting process (startWaiting: node:child_process, for its start-up); no other module imports
 * execa or node:child_process (.dependency-cruiser.cjs: one-process-runner).
 */
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { errorText } from './errors.js';
import { withRoot, workingAs } from './privilege.js';

/** node:child_process when first needed: most commands start no process, and loading it costs their start-up. */
const childProcess = () => createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');

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
 *
 * Started by node:child_process itself, not execa: this is the flush's `xargs sync -f` of every
 * install and apply, started as the unpack begins on the thread that writes the files, and
 * execa's loading and spawn took 70-95 ms of that thread's CPU there against 12-16 ms for
 * spawn alone (docs/benchmarks.md, issue 15, session 6). The result is the one runProcess gives.
 */
export function startWaiting(file: string, args: string[], opts: RunOptions = {}): WaitingProcess {
  const ended = waitFor(file, args, opts);
  return {
    async finish(input: string) {
      const { child, result } = ended;
      // A program that died early closed its end: its result says why, not an EPIPE here.
      child?.stdin?.on('error', () => undefined);
      child?.stdin?.end(input);
      return result;
    },
  };
}

/** Spawn file with piped stdio; its result once it has ended and its output is all read. */
function waitFor(file: string, args: string[], opts: RunOptions): { child?: ChildProcess; result: Promise<RunResult> } {
  const command = [file, ...args].join(' ');
  const failed = (why: string): RunResult => ({ exitCode: -1, stdout: '', stderr: '', all: '', message: why });
  let child: ChildProcess;
  try {
    child = childProcess().spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env === undefined ? undefined : { ...process.env, ...opts.env },
      ...(workingAs() ? { cwd: '/' } : {}),
    });
  } catch (err) {
    return { result: Promise.resolve(failed(`Command failed: ${command}\n${errorText(err)}`)) };
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const all: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => (out.push(b), all.push(b)));
  child.stderr!.on('data', (b: Buffer) => (err.push(b), all.push(b)));
  // Without the final newline, as execa gives it (runProcess's results).
  const text = (bs: Buffer[]) =>
    Buffer.concat(bs)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  const result = new Promise<RunResult>((resolve) => {
    // 'error' alone when it never started; 'close' once it ended and its pipes are drained.
    child.once('error', (e) =>
      resolve(
        failed(`Command failed with ${(e as NodeJS.ErrnoException).code ?? 'an error'}: ${command}\n${e.message}`),
      ),
    );
    child.once('close', (code, signal) => {
      const r = { stdout: text(out), stderr: text(err), all: text(all) };
      if (code === 0) resolve({ exitCode: 0, ...r, message: '' });
      else if (code !== null)
        resolve({ exitCode: code, ...r, message: `Command failed with exit code ${code}: ${command}` });
      else resolve({ exitCode: -1, ...r, message: `Command was killed with ${signal ?? 'a signal'}: ${command}` });
    });
  });
  return { child, result };
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
