import fs from 'node:fs/promises';
import { isErrno, WebtreeError } from '../core/errors.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { readRelease, releaseError, type ReleaseEntry } from './file.js';

/** Read a release file, or refuse with exit 2 naming the key and line of every problem. */
export async function loadRelease(file: string, catalog: ProductDescriptor[]): Promise<ReleaseEntry[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT'))
      throw new WebtreeError('EUSAGE', `release file ${file} does not exist`, {
        hint: 'give the path of a release file (docs/release-file.md); `webtree release --output FILE` writes one from a running site',
      });
    throw new WebtreeError('EUSAGE', `cannot read release file ${file}: ${(err as Error).message}`);
  }
  const { entries, problems } = readRelease(text, catalog);
  if (!entries) throw releaseError(file, problems);
  return entries;
}
