/** The site, normalised: every path absolute, every default filled in. Plain data only. */
export interface DbServer {
  name: string;
  host: string;
  port: number;
}

export interface Limits {
  /** Largest total of unpacked bytes an archive may produce. */
  maxBytes: number;
  /** Most entries an archive may hold. */
  maxEntries: number;
  /** Deepest path (in components) an archive may hold. */
  maxDepth: number;
  /** Largest ratio of unpacked bytes to archive bytes (a gzip bomb is ~1000:1). */
  maxRatio: number;
}

export interface Site {
  /** Where the site file was read from (absolute). */
  file: string;
  paths: {
    /** Apache ServerRoot: conf/, conf.d/, html/, run/, bin/, init.d/. */
    www: string;
    /** DocumentRoot. */
    html: string;
    /** Products root: <product dir>/<version>/ and <product dir>/current. */
    products: string;
    /** ChartDirector, dbiapp_pylib, wsgi_py. */
    webpylib: string;
    /** Local disk: Apache's Mutex, mod_wsgi sockets, logs. */
    runtime: string;
    /** webtree's own state: lock, journal, history, manifests. */
    state: string;
    /** The failover indirection: <switch>/<server>/… and <switch>/active -> <server>. */
    switch: string;
  };
  apache: {
    listen: { host: string; port: number };
    serverName: string;
    serverAdmin: string;
    user: string;
    group: string;
    /** The httpd binary (Debian: /usr/sbin/apache2). */
    httpd: string;
    /** Directory holding mod_mpm_event.so, mod_authz_core.so, … */
    modulesDir: string;
    /** mod_wsgi.so. */
    wsgiModule: string;
    /** PYTHONHOME for runApache.sh, where the site sets one. */
    pythonHome?: string;
    /** eups set-up for runApache.sh, where the site uses eups. */
    eups?: { setups: string; products: string[] };
    /** Seconds a health check waits for each app. */
    healthTimeout: number;
    /**
     * mod_wsgi daemon lifetime: processes per app, and the seconds a restart (a touch of the
     * script, a graceful) lets requests in flight finish (mod_wsgi's own default is 5 s).
     */
    wsgi: { processes: number; gracefulTimeout: number; shutdownTimeout: number };
    /** Apache's rotatelogs: both logs are piped through it. */
    rotatelogs: string;
  };
  database: {
    name: string;
    user: string;
    /** The server init links the sandbox to; the tree's <switch>/active is the truth afterwards. */
    active: string;
    servers: DbServer[];
    /** Seconds to wait for a database connection before calling it unreachable. */
    connectTimeout: number;
  };
  ecl: { enabled: boolean; dir: string };
  limits: Limits;
  /** Apache's logs through rotatelogs: a new file at `size` (and every `interval` s), `files` kept. */
  logs: { size: string; interval?: number; files: number };
  watch: {
    textfile?: string;
    page: string;
    minFreeMiB: number;
    minFreePercent: number;
    mail: { to?: string; from?: string; smtp?: { host: string; port: number } };
  };
  /** Per product (the catalog's name), a deeper probe than its mount: a path and text the answer must hold. */
  probes: Record<string, Probe>;
  /** Fetching archives by URL (apply, install URL). */
  fetch: { connectTimeout: number; idleTimeout: number; retries: number; maxBytes: number; caFile?: string };
}

export interface Probe {
  path?: string;
  expect?: string;
}
