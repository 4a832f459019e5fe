/**
 * What Apache must never serve, though it sits where the apps read it from disk: the cfg files
 * and their per-server variants (html/cfg/ is inside the document root because the apps find
 * their cfg there), ECL's settings.py*, backups and editor leftovers, what an operator moved
 * aside, render's hand-edited copies, dotfiles (webtree's staging and trash too), and webtree's
 * own directories should the site put them under a served path. Pure: render passes it to
 * httpd.conf.ejs.
 */
import path from 'node:path';
import { asideDir } from '../catalog/paths.js';
import type { Site } from '../site/types.js';

/**
 * A file name that holds a secret or a copy of one. Matched against the last component by
 * <FilesMatch> (so it holds however the file was reached, symlinks included) and against every
 * component of the URL by <LocationMatch> (a directory moved aside, html/TV.by-hand/, serves
 * files whose own names are harmless). Case-insensitive: a copy named DES_TV.CFG is as secret.
 */
const STARTS = ['\\.', '#']; // dotfiles (.htaccess, .git, .webtree-staging-*), emacs autosaves
const ENDS = ['~', '\\.(bak|backup|old|orig|save|sav|swp|swo|tmp|rej|dist|copy)']; // backups
const HOLDS = [
  '\\.by-hand', // the aside name webtree's hints used to give
  '\\.hand-edited-', // render --force's copy of a hand-edited file
  '\\.cfg', // des_tv.cfg, des_tv.cfg_server2, des_tv.cfg.2019
  'settings\\.py', // ECL's settings.py, settings.py_server3, ecl-settings.py
];
const any = (parts: string[]) => `(${parts.join('|')})`;

export const DENIED_FILE_RE = `(?i)(^${any(STARTS)}|${any(ENDS)}$|${any(HOLDS)})`;

/** The same names as a component anywhere in the URL path. */
export const DENIED_URL_RE = `(?i)(/${any(STARTS)}|${any(ENDS)}(/|$)|${any(HOLDS)})`;

/**
 * Directories denied whole, whatever the names inside: the cfg directory, webtree's state, the
 * failover indirection and the aside directory. Only those under a served path matter, but a
 * denial of an unserved directory costs nothing and survives a later change of the document root.
 */
export function deniedDirs(site: Site): string[] {
  const dirs = [path.posix.join(site.paths.html, 'cfg'), site.paths.state, site.paths.switch, asideDir(site)];
  return [...new Set(dirs.map((d) => path.posix.normalize(d)))];
}
