/**
 * The names of the files an archive puts in one directory of an installed version, read from its
 * headers alone (nothing is written). apply needs them before anything is unpacked: a WSGI app
 * served for the first time is rendered into Apache's configuration first, and its script is
 * the *.wsgi in the directory its web link serves. The same rules as the unpack apply, so an archive the
 * unpack would refuse is refused here, before the lock, with the same message.
 */
import type { Limits } from '../site/types.js';
import { strip } from './check-tree.js';
import { TarFraming } from './framing.js';
import { EntryRules } from './rules.js';
import { openArchive } from './source.js';

/** `dir`: the directory within the installed version ('' its top), '/'-separated; `content`: the part of the archive installed. */
export async function filesIn(
  archive: string,
  limits: Limits,
  layout: 'single-top' | 'any',
  dir: string,
  content?: string,
): Promise<string[]> {
  const src = await openArchive(archive);
  try {
    const rules = new EntryRules(limits, src.size);
    const framing = new TarFraming(src.name, limits, (v) => void rules.admit(v));
    for await (const chunk of src.chunks()) framing.push(chunk);
    framing.end();
    const top = rules.finish(src.name, layout);
    const under = [content, dir]
      .filter(Boolean)
      .map((p) => `${p}/`)
      .join('');
    const out: string[] = [];
    for (const [rel, kind] of rules.listing()) {
      const p = strip(rel, top);
      if (kind !== 'file' || !p.startsWith(under)) continue;
      const name = p.slice(under.length);
      if (name !== '' && !name.includes('/')) out.push(name);
    }
    return out.sort();
  } finally {
    await src.close();
  }
}
