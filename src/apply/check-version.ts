import { escapeRe } from '../core/regex.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import { WebtreeError } from '../core/errors.js';

const globRe = (g: string) => new RegExp(`^${g.split('*').map(escapeRe).join('[^/]*')}$`);

async function matches(dir: string, parts: string[]): Promise<boolean> {
  if (parts.length === 0) return true;
  const [head, ...rest] = parts;
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => globRe(head).test(n))) {
    if (await matches(path.join(dir, name), rest)) return true;
  }
  return false;
}

/** The unpacked tree holds what its descriptor says a version of this product holds ("product/*.wsgi"). */
export async function checkRequires(dir: string, product: string, requires: string[]): Promise<void> {
  for (const r of requires) {
    if (!(await matches(dir, r.split('/')))) {
      throw new WebtreeError('EBADARCHIVE', `the archive holds no ${r}, which every ${product} version has`, {
        hint: `is it a ${product} archive? Check its contents with: tar -tzf ARCHIVE`,
      });
    }
  }
}
