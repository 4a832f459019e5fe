/**
 * Which site file, and reading it: what every command but init needs of the site file, without
 * loading the yaml package for the plain files init writes (site/simple-yaml.ts).
 */
import path from 'node:path';
import { WebtreeError } from '../core/errors.js';
import { readStateText } from '../core/state-file.js';
import { checkSite } from './check.js';
import { parseSimpleYaml } from './simple-yaml.js';
import type { Site } from './types.js';

export const PRODUCTION_SITE_FILE = '/usr/remote/software/www/webtree.yaml';

/**
 * Which site file, for every command (init writes it, the others read it): --config, then
 * (init only) --prefix's DIR/webtree.yaml, then $WEBTREE_CONFIG, then the production layout's
 * <www>/webtree.yaml. What is given on the command line wins over the environment: a
 * WEBTREE_CONFIG left exported from an earlier sandbox must not send `init --prefix NEW`'s site
 * file into the old one.
 */
export function siteFilePath(
  config: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  prefix?: string,
): string {
  // An empty value would resolve to the working directory: said as what it is, not "EISDIR".
  if (config === '')
    throw new WebtreeError('ESITE', '--config was given an empty file name', {
      hint: 'give the site file: --config FILE',
    });
  if (config !== undefined) return path.resolve(config);
  if (prefix !== undefined) return path.join(path.resolve(prefix), 'webtree.yaml');
  if (env.WEBTREE_CONFIG === '') {
    throw new WebtreeError('ESITE', 'WEBTREE_CONFIG is set but empty', {
      hint: `set it to the site file (export WEBTREE_CONFIG=FILE), or unset it to use ${PRODUCTION_SITE_FILE}`,
    });
  }
  return path.resolve(env.WEBTREE_CONFIG ?? PRODUCTION_SITE_FILE);
}

/** Read the site file, or refuse with exit 2 naming the key and line of every problem. */
export async function loadSite(file: string): Promise<Site> {
  // A FIFO, /dev/zero, a directory, an empty or binary file: refused by type and size, never read for ever.
  const text = await readStateText(file, {
    what: 'the site file',
    code: 'ESITE',
    maxBytes: 1024 * 1024,
    fix: 'give the site file webtree init wrote (--config FILE or WEBTREE_CONFIG), or write one with: webtree init --prefix DIR',
  });
  if (text === undefined) {
    throw new WebtreeError('ESITE', `site file ${file} does not exist`, {
      hint: 'give --config FILE, set WEBTREE_CONFIG, or create one with: webtree init --prefix DIR',
    });
  }
  // The plain file init writes, without the yaml package (its 260 kB cost status a fifth of its
  // start-up); anything else, and any problem, goes through the yaml package, which names lines.
  const fast = parseSimpleYaml(text);
  const checked = fast === undefined ? undefined : checkSite(fast.value, file, () => undefined);
  const { site, problems } = checked?.site ? checked : (await import('./read-yaml.js')).readSite(text, file);
  if (!site) {
    const lines = problems.map((p) => `  ${file}${p.line ? `:${p.line}` : ''}: ${p.key}: ${p.message}`);
    throw new WebtreeError(
      'ESITE',
      `bad site file ${file} (${problems.length} problem${problems.length > 1 ? 's' : ''})`,
      {
        details: lines.join('\n'),
        hint: 'fix the site file and run the command again; every setting is described in README.md ("The site file") and in the comments `webtree init` writes',
      },
    );
  }
  return site;
}
