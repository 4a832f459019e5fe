/**
 * The one output channel. Commands hand results to the reporter, which prints text for a person
 * or one JSON document with --json; notes and warnings go to stderr so JSON stays parseable.
 */
export interface Reporter {
  readonly json: boolean;
  /** The command's result: `data` for --json, `text()` for a person. */
  result(data: unknown, text: () => string): void;
  /** Progress and notes for a person (stderr; kept out of --json's stdout). */
  note(line: string): void;
  warn(line: string): void;
}

export interface Streams {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const processStreams: Streams = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

export function createReporter(json: boolean, streams: Streams = processStreams): Reporter {
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
      streams.err(`webtree: warning: ${line}\n`);
    },
  };
}
