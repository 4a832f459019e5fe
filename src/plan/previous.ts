/**
 * Which version was active before, from the history rather than from version numbers: an
 * operator who went 3.3a -> 3.10 -> 3.4 and rolls back expects 3.10, not 3.3a. The history is
 * replayed as a stack of activations; a rollback without --to pops it (an undo), anything
 * else that changes the pointer pushes.
 */
import type { HistoryEntry } from './facts.js';

const CHANGES_POINTER = new Set(['install', 'activate', 'rollback', 'adopt', 'auto-rollback']);
/** Outcomes of a change that took effect: done, finished by the next command, or going back after a failed check. */
const TOOK_EFFECT = new Set(['ok', 'recovered', 'rolled-back']);

/** This entry moved the product's pointer (from `from`, when known, to `to`). */
const movedPointer = (e: HistoryEntry, product: string): e is HistoryEntry & { to: string } =>
  e.product === product && e.to !== undefined && CHANGES_POINTER.has(e.action) && TOOK_EFFECT.has(e.outcome);

export function activationStack(history: HistoryEntry[], product: string): string[] {
  const stack: string[] = [];
  for (const e of history) {
    if (!movedPointer(e, product)) continue;
    if (stack.length === 0 && e.from !== undefined) stack.push(e.from);
    if (e.undo && stack.length > 1 && stack[stack.length - 2] === e.to) {
      stack.pop();
      continue;
    }
    if (stack[stack.length - 1] !== e.to) stack.push(e.to);
  }
  return stack;
}

/** The version a plain rollback returns to: below the current one on the stack, still installed. */
export function previousVersion(
  history: HistoryEntry[],
  product: string,
  current: string | undefined,
  installed: string[],
): string | undefined {
  const stack = activationStack(history, product);
  if (current !== undefined && stack[stack.length - 1] !== current) stack.push(current); // changed by hand
  for (let i = stack.length - 2; i >= 0; i--) {
    if (stack[i] !== current && installed.includes(stack[i])) return stack[i];
  }
  return undefined;
}

/** The version current replaced last (even when that change was a rollback): prune keeps it too. */
export function lastReplaced(history: HistoryEntry[], product: string): string | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const e = history[i];
    if (movedPointer(e, product) && e.from !== undefined) return e.from;
  }
  return undefined;
}
