/**
 * What the end-to-end tests with a real Apache need, in one place: Debian's apache2 and
 * mod_wsgi, and root (Apache is started as the service account codemanager). Under CI=true a
 * missing piece is a failing test, never a skip; elsewhere the suite says what it skipped.
 */
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';

export const HTTPD = '/usr/sbin/apache2';
export const APACHE_MODULES = '/usr/lib/apache2/modules';
const WSGI = `${APACHE_MODULES}/mod_wsgi.so`;
export const APACHE_INSTALL = 'apt-get install apache2 libapache2-mod-wsgi-py3';

/** Why the tests cannot run here (undefined: they can). */
export const apacheMissing: string | undefined =
  !existsSync(HTTPD) || !existsSync(WSGI)
    ? `Apache with mod_wsgi not found (${HTTPD}, ${WSGI}): ${APACHE_INSTALL}`
    : process.getuid?.() !== 0
      ? 'these tests run as root: they start Apache as codemanager through su and runuser'
      : undefined;

/** Call at the top of an end-to-end test file; returns true when its tests must be skipped. */
export function skipWithoutApache(what: string): boolean {
  if (!apacheMissing) return false;
  if (process.env.CI === 'true') {
    const why = apacheMissing;
    describe(`${what} (end to end)`, () =>
      it('needs Apache 2.4 with mod_wsgi, as root', () => {
        throw new Error(why);
      }));
  } else console.warn(`skipping the ${what} end-to-end tests: ${apacheMissing}`);
  return true;
}
