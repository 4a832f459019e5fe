/**
 * The site file: which one, reading it (site/open.ts: the plain files init writes without the
 * yaml package), the yaml package's full reading (site/read-yaml.ts) and the checks of its
 * settings (site/check.ts), offered from one place.
 */
export { checkSite, parseListen, valueProblem, type KeyLine, type SiteProblem } from './check.js';
export { loadSite, PRODUCTION_SITE_FILE, siteFilePath } from './open.js';
export { readSite } from './read-yaml.js';
