/** Reads conf-templates/*.ejs for renderTree, which stays free of fs. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { WebtreeError, isErrno } from '../core/errors.js';
import { PACKAGE_ROOT } from '../core/package-root.js';
import { TEMPLATE_NAMES } from './render.js';

export const DEFAULT_TEMPLATE_DIR = path.join(PACKAGE_ROOT, 'conf-templates');

/** Every template renderTree needs, by name (file name without .ejs); a missing one is refused here. */
export async function loadTemplates(dir: string = DEFAULT_TEMPLATE_DIR): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of TEMPLATE_NAMES) {
    const file = path.join(dir, `${name}.ejs`);
    try {
      out[name] = await fs.readFile(file, 'utf8');
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      throw new WebtreeError('ERENDER', `template ${file} is missing`, {
        hint: 'conf-templates/ must hold every template: reinstall webtree or restore the file',
      });
    }
  }
  return out;
}
