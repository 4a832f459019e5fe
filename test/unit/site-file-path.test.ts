/**
 * Which site file: the one rule every command uses (init to write it, the others to read it),
 * as README "The site file" and docs/commands/init.md say it.
 */
import { describe, expect, it } from 'vitest';
import { PRODUCTION_SITE_FILE, siteFilePath } from '../../src/site/load.js';

describe('siteFilePath', () => {
  const env = { WEBTREE_CONFIG: '/env/webtree.yaml' };

  it('--config first, whatever else is given', () => {
    expect(siteFilePath('/given/site.yaml', env, '/prefix')).toBe('/given/site.yaml');
    expect(siteFilePath('/given/site.yaml', {})).toBe('/given/site.yaml');
  });

  it("then init's --prefix: the command line wins over an exported WEBTREE_CONFIG", () => {
    expect(siteFilePath(undefined, env, '/prefix')).toBe('/prefix/webtree.yaml');
    expect(siteFilePath(undefined, { WEBTREE_CONFIG: '' }, '/prefix')).toBe('/prefix/webtree.yaml');
  });

  it('then $WEBTREE_CONFIG, then the production site file', () => {
    expect(siteFilePath(undefined, env)).toBe('/env/webtree.yaml');
    expect(siteFilePath(undefined, {})).toBe(PRODUCTION_SITE_FILE);
    expect(PRODUCTION_SITE_FILE).toBe('/usr/remote/software/www/webtree.yaml');
  });

  it('relative names are resolved against the working directory', () => {
    expect(siteFilePath('site.yaml', {})).toBe(`${process.cwd()}/site.yaml`);
    expect(siteFilePath(undefined, {}, 'sb')).toBe(`${process.cwd()}/sb/webtree.yaml`);
    expect(siteFilePath(undefined, { WEBTREE_CONFIG: 'e.yaml' })).toBe(`${process.cwd()}/e.yaml`);
  });

  it('an empty --config or WEBTREE_CONFIG is refused by name (exit 2), never taken for the working directory', () => {
    expect(() => siteFilePath('', env)).toThrow(expect.objectContaining({ code: 'ESITE', exitCode: 2 }));
    expect(() => siteFilePath('', env)).toThrow('--config was given an empty file name');
    expect(() => siteFilePath(undefined, { WEBTREE_CONFIG: '' })).toThrow('WEBTREE_CONFIG is set but empty');
  });
});
