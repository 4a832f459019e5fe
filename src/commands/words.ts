/**
 * The fixed words of some commands, apart from the registry: the registry names them in its
 * specs, and the commands that check them import them from here (not from the registry, which
 * imports the commands).
 */
export const APACHE_VERBS = ['start', 'stop', 'restart', 'graceful', 'status', 'configtest'] as const;
export type ApacheVerb = (typeof APACHE_VERBS)[number];

export const SHELLS = ['bash'] as const;
