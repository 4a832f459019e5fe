import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The installed package's root (the directory holding products/ and conf-templates/): the first
 * directory up from this module's file with package.json and products/ in it. This module runs
 * from dist/core/ (tsc's output), from src/core/ (the tests) and from a chunk of dist/bundle/ at
 * another depth (the bundled CLI, scripts/bundle.mjs).
 */
function findRoot(from: string): string {
  for (let dir = from; ;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'products'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(from, '..', '..');
    dir = up;
  }
}

export const PACKAGE_ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));
