/**
 * Where a hint moves a thing aside: the state directory's attic. It is neither served (the state
 * directory is outside html/ and the products root) nor read as a version (no product directory
 * holds it), and webtree never reads what is in it.
 */
import path from 'node:path';

export const atticDir = (stateDir: string) => path.join(stateDir, 'attic');

/** A name for the moved thing that says when: two moves of the same file never collide. */
export const atticName = (p: string, now = new Date()) =>
  `${path.basename(p)}.${now.toISOString().replace(/[:.]/g, '-')}`;

/** The shell line an operator types to move `p` into the attic (argument quoted when it needs it). */
export function moveAsideCommand(p: string, stateDir: string, now = new Date()): string {
  const q = (s: string) => (/^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const attic = atticDir(stateDir);
  return `mkdir -p ${q(attic)} && mv -- ${q(p)} ${q(path.join(attic, atticName(p, now)))}`;
}
