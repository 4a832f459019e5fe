/**
 * A `--debug` line: the milliseconds since the process started, right-aligned, then the text.
 * One format for the front door (launch.ts), the CLI's start and end (cli.ts), the lock's wait
 * (tx.ts) and every operation (after/context.ts), so that the lines read as one column.
 */
export const debugLine = (text: string): string => `${`${Math.round(performance.now())} ms`.padStart(10)}  ${text}`;
