/**
 * Typed errors with one boundary: code for tests and scripts, a message that names what was
 * wrong, a hint that says what to do, and the exit status of DESIGN.md (1 refused/failed,
 * 2 bad usage or bad site file). Only cli.ts turns these into output and an exit code.
 */
export type ErrorCode =
  | 'EUSAGE' // bad command line
  | 'ESITE' // bad or missing site file
  | 'EBADARCHIVE' // archive refused
  | 'EBADNAME' // archive name carries no product/version
  | 'ENOTINSTALLED'
  | 'EVERSIONCONFLICT' // same version, different sha256
  | 'ELINKISDIR' // a real directory where a link should be
  | 'ELOCKED'
  | 'EINTERRUPTED' // stopped by SIGINT/SIGTERM/SIGHUP (exit 128 + the signal's number)
  | 'ENOPREVIOUS'
  | 'EAPACHE'
  | 'EHEALTH'
  | 'ERENDER'
  | 'EDB'
  | 'ESWITCH'
  | 'EADOPT'
  | 'EPERM'
  | 'EACCES' // the running account may not write a path webtree needs
  | 'ENOSPC' // the disk (or the account's quota) is full
  | 'EROFS' // a read-only file system
  | 'EDAMAGED' // a state file webtree keeps is damaged (named, with the fix)
  | 'EPENDING' // an interrupted change must be finished first (webtree recover)
  | 'ERELEASE' // bad release file (exit 2)
  | 'EFETCH' // an archive could not be fetched
  | 'EIO';

const EXIT_BY_CODE: Partial<Record<ErrorCode, number>> = { EUSAGE: 2, ESITE: 2, EBADNAME: 2, ERELEASE: 2 };

export class WebtreeError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly exitCode: number;
  /** Extra lines shown under the message (an Apache error, a diff, a list of findings). */
  readonly details?: string;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { hint?: string; details?: string; exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'WebtreeError';
    this.code = code;
    this.hint = opts.hint;
    this.details = opts.details;
    this.exitCode = opts.exitCode ?? EXIT_BY_CODE[code] ?? 1;
  }
}

export const usageError = (message: string, hint?: string) => new WebtreeError('EUSAGE', message, { hint });

export function isErrno(err: unknown, code?: string): err is NodeJS.ErrnoException {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    (code === undefined || (err as NodeJS.ErrnoException).code === code)
  );
}

/** An error as one or more lines for a report: a WebtreeError's message and details, else its message. */
export const errorText = (err: unknown): string =>
  err instanceof WebtreeError
    ? [err.message, err.details].filter(Boolean).join('\n')
    : String((err as Error)?.message ?? err);
