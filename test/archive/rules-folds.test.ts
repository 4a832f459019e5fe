// EntryRules keeps a folded name only for paths that do not fold to themselves (a plain
// lower-case name is its own key, looked up in the listing itself): collisions must be found in
// either order, through implied directories too, and the listing must still say what each path is.
import { describe, expect, it } from 'vitest';
import type { EntryView } from '../../src/archive/framing.js';
import { EntryRules } from '../../src/archive/rules.js';

const LIMITS = { maxBytes: 1e9, maxEntries: 1000, maxDepth: 64, maxRatio: 1e6 };

const file = (path: string, size = 1): EntryView => ({ path, type: 'File', typeflag: '0', size, bodySize: size });
const dir = (path: string): EntryView => ({ path, type: 'Directory', typeflag: '5', size: 0, bodySize: 0 });

function admitAll(...views: EntryView[]): EntryRules {
  const rules = new EntryRules(LIMITS, 1e6);
  for (const v of views) rules.admit(v);
  return rules;
}

describe('EntryRules name collisions', () => {
  it('refuses a capitalised name after the plain lower-case one, and the other way round', () => {
    expect(() => admitAll(file('top/readme.txt'), file('top/README.TXT'))).toThrow(
      /"top\/README\.TXT" collides with "top\/readme\.txt" when case is ignored/,
    );
    expect(() => admitAll(file('top/README.TXT'), file('top/readme.txt'))).toThrow(
      /"top\/readme\.txt" collides with "top\/README\.TXT" when case is ignored/,
    );
  });

  it('refuses a file whose implied directory collides with a plain lower-case one', () => {
    expect(() => admitAll(file('top/lib/a.py'), file('top/LIB/b.py'))).toThrow(
      /"top\/LIB\/b\.py" collides with "top\/lib" when case is ignored/,
    );
  });

  it('refuses names equal after NFC whichever comes first', () => {
    expect(() => admitAll(file('top/cafe\u0301'), file('top/caf\u00e9'))).toThrow(/after Unicode normalisation/);
  });

  it('admits distinct names and lists each with its kind, in the archive order', () => {
    const rules = admitAll(dir('./top/'), file('top/a.txt'), file('top/A-b.txt'), file('top/sub/c'));
    expect([...rules.listing()]).toEqual([
      ['top', 'dir'],
      ['top/a.txt', 'file'],
      ['top/A-b.txt', 'file'],
      ['top/sub', 'dir'],
      ['top/sub/c', 'file'],
    ]);
    expect(rules.kindAt('top/sub')).toBe('dir');
    expect(rules.kindAt('top/missing')).toBeUndefined();
    expect(rules.finish('x.tar', 'single-top')).toBe('top');
  });

  it('names a directory entry by its own spelling when it appears twice', () => {
    expect(() => admitAll(dir('top/'), dir('./top/'))).toThrow(
      /"\.\/top\/" appears twice in the archive \(also as "top\/"\)/,
    );
  });
});
