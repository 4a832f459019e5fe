/**
 * The fixed words of some commands, apart from the registry: the registry names them in its
 * specs, and the commands that check them import them from here (not from the registry, which
 * imports the commands).
 */
export const APACHE_VERBS = [
  'start',
  'stop',
  'restart',
  'graceful',
  'status',
  'configtest',
  'install-service',
  'uninstall-service',
] as const;
export type ApacheVerb = (typeof APACHE_VERBS)[number];
/** The apache verbs that change files (they take --dry-run) and keep root throughout: service files under /etc. */
export const APACHE_SERVICE_VERBS = ['install-service', 'uninstall-service'] as const;

export const SHELLS = ['bash'] as const;
