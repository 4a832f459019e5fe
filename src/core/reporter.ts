/**
 * The one output channel. Commands hand results to the reporter, which prints text for a person
 * or one JSON document with --json; notes, warnings and progress go to stderr so JSON stays
 * parseable. Colour and progress bars only on a terminal, never under --json, and no colour
 * when NO_COLOR is set (https://no-color.org).
 */
import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { isErrno } from './errors.js';
import { createProgress, NO_PROGRESS, type Progress } from './progress.js';

export type { Progress, ProgressUpdate } from './progress.js';

/** A failure as the error boundary reports it (the `error` of --json's error document). */
export interface ErrorReport {
  code: string;
  message: string;
  hint: string | null;
  /** Extra lines: an Apache error, a diff, a list of findings. */
  details: string | null;
}

export interface Reporter {
  readonly json: boolean;
  /** The command's result: `data` for --json, `text()` for a person. */
  result(data: unknown, text: () => string): void;
  /** Progress and notes for a person (stderr; kept out of --json's stdout). */
  note(line: string): void;
  warn(line: string): void;
  /** A bar on stderr while long work runs (a terminal only; a no-op in pipes and under --json). */
  progress(label: string): Progress;
  /** The command failed: `{error, exit}` on stdout under --json, else the message and hint on stderr. */
  error(e: ErrorReport, exit: number, debugStack?: string): void;
}

export interface Streams {
  out: (s: string) => void;
  err: (s: string) => void;
  /** stderr is a terminal: colour and progress are drawn only then. */
  readonly errIsTTY?: boolean;
  /** The terminal's width, for the progress line. */
  readonly errColumns?: number;
}

/**
 * stdout and stderr written with write(2) on descriptors 1 and 2 while that works. Making
 * process.stdout (a stream over the pipe, file or terminal, with the modules behind it) cost
 * `status` 3-6 ms of its start for the one write it does at its end (issue 15); on Linux those
 * streams write synchronously as well, so the order of the output is the same. A descriptor
 * another process made non-blocking and that is full (EAGAIN) sends the rest, and all after it,
 * through the process's stream, which waits. A reader that went away (EPIPE: `webtree history |
 * head`, or `2>&1 | head` under --debug) ends that output quietly: the command, a change in flight
 * too, runs to its end and exits as it would have. Any other failure of stdout (a full disk) is
 * said once on stderr and the command exits 1; of stderr, there is nowhere left to say it.
 */
function fdWriter(fd: 1 | 2, stream: () => NodeJS.WriteStream, lost: (err: unknown) => void): (s: string) => void {
  let to: 'fd' | 'stream' | 'gone' = 'fd';
  const gone = (err: unknown) => {
    if (to === 'gone') return;
    to = 'gone';
    lost(err);
  };
  return (s) => {
    if (to === 'gone') return;
    const b = Buffer.from(s);
    let done = 0;
    if (to === 'fd')
      try {
        while (done < b.length) done += writeSync(fd, b, done);
        return;
      } catch (err) {
        if (!isErrno(err, 'EAGAIN')) return gone(err);
        to = 'stream';
        stream().on('error', gone);
      }
    stream().write(b.subarray(done));
  };
}

function outputLost(err: unknown): void {
  if (isErrno(err, 'EPIPE')) return;
  const code = isErrno(err) ? err.code : String(err);
  writeErr(
    `webtree: the output could not be written to stdout (${code}); the command ran to its end\n  hint: ${code === 'ENOSPC' ? 'free space where stdout goes, or' : 'check where stdout goes, or'} send it elsewhere\n`,
  );
  process.on('exit', (exit) => {
    if (!exit) process.exitCode = 1;
  });
}

const writeErr = fdWriter(
  2,
  () => process.stderr,
  () => undefined,
);
const writeOut = fdWriter(1, () => process.stdout, outputLost);

export const processStreams: Streams = {
  out: writeOut,
  err: writeErr,
  // Asked of the descriptor: making process.stderr to ask it would, on a pipe, set O_NONBLOCK on
  // the pipe (libuv's open of a pipe does), for every process that shares it.
  get errIsTTY() {
    return isatty(2);
  },
  get errColumns() {
    return isatty(2) ? process.stderr.columns : undefined;
  },
};

/** Colour on stderr: a terminal, no --json, and NO_COLOR unset or empty. */
export const colourWanted = (json: boolean, streams: Streams, env: NodeJS.ProcessEnv) =>
  !json && streams.errIsTTY === true && !env.NO_COLOR;

const paint = (on: boolean, code: string, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

export function errorLines(e: ErrorReport, colour: boolean): string {
  return [paint(colour, '1;31', `webtree: ${e.message}`), e.details, e.hint ? `  hint: ${e.hint}` : undefined]
    .filter((l) => l)
    .join('\n');
}

export function createReporter(
  json: boolean,
  streams: Streams = processStreams,
  env: NodeJS.ProcessEnv = process.env,
): Reporter {
  // Asked on first use: touching process.stderr opens it, which a status that only prints need not pay for.
  let colourMemo: boolean | undefined;
  const colour = () => (colourMemo ??= colourWanted(json, streams, env));
  return {
    json,
    result(data, text) {
      if (json) streams.out(JSON.stringify(data, null, 2) + '\n');
      else {
        const t = text();
        if (t) streams.out(t.endsWith('\n') ? t : t + '\n');
      }
    },
    note(line) {
      streams.err(line + '\n');
    },
    warn(line) {
      streams.err(`${paint(colour(), '33', 'webtree: warning:')} ${line}\n`);
    },
    progress(label) {
      if (json || streams.errIsTTY !== true) return NO_PROGRESS;
      return createProgress(label, { write: streams.err, columns: streams.errColumns });
    },
    error(e, exit, debugStack) {
      if (json) streams.out(JSON.stringify({ error: e, exit }, null, 2) + '\n');
      else streams.err(errorLines(e, colour()) + '\n');
      if (debugStack) streams.err(debugStack + '\n');
    },
  };
}
