/**
 * Where a worker thread's built file is: beside this module in dist/ (tsc's output), in
 * dist/bundle/archive/ in the bundled CLI (whose shared chunks lie elsewhere), and in dist/ when
 * the sources run as TypeScript under the test runner.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../core/package-root.js';

/** Set to true by scripts/bundle.mjs in the bundled CLI. */
declare const WEBTREE_BUNDLE: boolean | undefined;

const HERE =
  typeof WEBTREE_BUNDLE !== 'undefined'
    ? join(PACKAGE_ROOT, 'dist', 'bundle', 'archive')
    : fileURLToPath(import.meta.url).endsWith('.ts')
      ? join(PACKAGE_ROOT, 'dist', 'archive')
      : dirname(fileURLToPath(import.meta.url));

/**
 * The built file of src/archive/NAME.ts: in the bundle a CommonJS file (a thread that starts from
 * one skips Node's ES module loader: ~10 ms of the reader's start-up CPU, docs/benchmarks.md).
 */
export const workerFile = (name: string) =>
  join(HERE, `${name}${typeof WEBTREE_BUNDLE !== 'undefined' ? '.cjs' : '.js'}`);
