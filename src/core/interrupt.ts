/**
 * Stopping on request. The CLI turns SIGINT, SIGTERM and SIGHUP into an AbortSignal whose reason
 * is the signal's name; the executor looks at it between operations. Before the commit point an
 * interrupted apply is put back at once (temporaries removed, journal cleared, an 'undone'
 * history entry); after it the plan is finished, since the change is already live. The exit
 * status is the shell's for a death by that signal: 128 + its number (130 SIGINT, 143 SIGTERM).
 */
import { constants } from 'node:os';
import { WebtreeError } from './errors.js';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** The signal an AbortSignal was aborted for (the CLI aborts with the signal's name). */
export function signalName(s: AbortSignal): StopSignal {
  return (STOP_SIGNALS as readonly unknown[]).includes(s.reason) ? (s.reason as StopSignal) : 'SIGINT';
}

export const exitStatusFor = (sig: StopSignal): number => 128 + constants.signals[sig];

/** Stopped before anything went live: the tree is as it was. */
export function interruptedNothingChanged(s: AbortSignal, where?: string): WebtreeError {
  const sig = signalName(s);
  return new WebtreeError('EINTERRUPTED', 'interrupted: nothing was changed', {
    details: `${sig} arrived ${where ?? 'before the change took effect'}; what was begun is removed and the tree is as it was`,
    hint: 'run the command again when you want the change',
    exitCode: exitStatusFor(sig),
  });
}

/** Stopped after the commit point: the change was live, so it was finished rather than undone. */
export function interruptedFinished(s: AbortSignal, summary: string, checkPending: boolean): WebtreeError {
  const sig = signalName(s);
  return new WebtreeError('EINTERRUPTED', `interrupted after the change took effect: it was finished (${summary})`, {
    details: `${sig} arrived once the change was live; undoing it would have left the tree half-changed`,
    hint: checkPending
      ? 'run `webtree recover`: it runs the check that follows the change (restart, health check); the next changing command would run it too'
      : 'webtree status shows the tree as it is now',
    exitCode: exitStatusFor(sig),
  });
}

export const isInterrupted = (err: unknown): err is WebtreeError =>
  err instanceof WebtreeError && err.code === 'EINTERRUPTED';
