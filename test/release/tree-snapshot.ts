/** Every path of a tree with its kind, mode, size, link target and content hash: "byte for byte as it was". */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export async function snapshotTree(
  root: string,
  skip: (rel: string) => boolean = (r) => r.startsWith('www/state/cache') || r === 'www/state/lock',
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(dir: string): Promise<void> {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      const rel = path.relative(root, p);
      if (skip(rel)) continue;
      const st = await fs.lstat(p);
      if (st.isSymbolicLink()) out[rel] = `link ${await fs.readlink(p)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir ${(st.mode & 0o7777).toString(8)}`;
        await walk(p);
      } else
        out[rel] = `file ${(st.mode & 0o7777).toString(8)} ${st.size} ${createHash('sha256')
          .update(await fs.readFile(p))
          .digest('hex')}`;
    }
  }
  await walk(root);
  return out;
}
