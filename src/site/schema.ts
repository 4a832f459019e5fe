/**
 * Every setting of the site file: its type, its production default and what it is for. The
 * loader validates against this table, `init` writes the file from it (with the descriptions
 * as comments), and README.md's "The site file" lists it (a test keeps the two in step). Defaults that depend on another
 * setting are given as "<www>/html" and filled in by normalise.
 */
export type SettingType = 'path' | 'text' | 'name' | 'listen' | 'int' | 'bool' | 'names' | 'size' | 'percent' | 'email';

export interface Setting {
  key: string; // dotted: "paths.www"
  type: SettingType;
  default?: string | number | boolean | string[];
  description: string;
  optional?: boolean;
}

export const SETTINGS: Setting[] = [
  {
    key: 'paths.www',
    type: 'path',
    default: '/usr/remote/software/www',
    description: 'Apache ServerRoot: conf/, conf.d/, html/, run/, bin/, init.d/',
  },
  {
    key: 'paths.html',
    type: 'path',
    default: '<www>/html',
    description: 'document root: robots.txt, cfg/, the web links',
  },
  {
    key: 'paths.products',
    type: 'path',
    default: '/usr/remote/software/dbwebtools',
    description: 'products root: <product>/<version>/ and <product>/current',
  },
  {
    key: 'paths.webpylib',
    type: 'path',
    default: '<products>/webpylib',
    description: 'python libraries: ChartDirector, dbiapp_pylib, wsgi_py',
  },
  {
    key: 'paths.runtime',
    type: 'path',
    default: '/data_local/web_logs',
    description: "local disk: Apache's Mutex, mod_wsgi sockets, logs",
  },
  {
    key: 'paths.state',
    type: 'path',
    default: '<www>/state',
    description: "webtree's lock, journal, history and manifests",
  },
  {
    key: 'paths.switch',
    type: 'path',
    default: '<www>/servers',
    description: 'failover indirection: <switch>/<server>/ and <switch>/active',
  },
  { key: 'apache.listen', type: 'listen', default: '0.0.0.0:80', description: 'Listen HOST:PORT' },
  { key: 'apache.serverName', type: 'name', default: 'system1', description: 'ServerName' },
  { key: 'apache.serverAdmin', type: 'text', default: 'codemanager@localhost', description: 'ServerAdmin' },
  { key: 'apache.user', type: 'name', default: 'codemanager', description: 'service account Apache runs as' },
  { key: 'apache.group', type: 'name', default: 'sispi', description: "service account's group" },
  {
    key: 'apache.httpd',
    type: 'path',
    default: '/usr/sbin/apache2',
    description: 'the httpd binary (called directly, not through apachectl)',
  },
  {
    key: 'apache.modulesDir',
    type: 'path',
    default: '/usr/lib/apache2/modules',
    description: "directory of Apache's modules",
  },
  {
    key: 'apache.wsgiModule',
    type: 'path',
    default: '/usr/lib/apache2/modules/mod_wsgi.so',
    description: "mod_wsgi's shared object",
  },
  { key: 'apache.pythonHome', type: 'path', optional: true, description: 'PYTHONHOME for runApache.sh (unset: none)' },
  {
    key: 'apache.eups.setups',
    type: 'path',
    optional: true,
    description: "eups' setups.sh for runApache.sh (unset: no eups)",
  },
  {
    key: 'apache.eups.products',
    type: 'names',
    default: ['python', 'PIL', 'postgresql', 'psycopg2'],
    description: 'products runApache.sh sets up with eups',
  },
  {
    key: 'apache.rotatelogs',
    type: 'path',
    default: '/usr/bin/rotatelogs',
    description: "Apache's rotatelogs, which writes both logs (Red Hat: /usr/sbin/rotatelogs)",
  },
  { key: 'apache.healthTimeout', type: 'int', default: 10, description: 'seconds a health check waits for each app' },
  {
    key: 'apache.wsgiProcesses',
    type: 'int',
    default: 2,
    description: "processes per app's mod_wsgi daemon: one serves while another drains on a restart",
  },
  {
    key: 'apache.wsgiGracefulTimeout',
    type: 'int',
    default: 35,
    description: "seconds an app's daemon lets requests in flight finish on a graceful restart",
  },
  {
    key: 'apache.wsgiShutdownTimeout',
    type: 'int',
    default: 35,
    description: "seconds an app's daemon lets requests in flight finish before a restart kills them",
  },
  { key: 'database.name', type: 'name', default: 'decam_prd', description: 'database the web tools read' },
  {
    key: 'database.user',
    type: 'name',
    default: 'decam_reader',
    description: 'role for the primary check (password: PGPASSWORD or ~/.pgpass, never here)',
  },
  {
    key: 'database.active',
    type: 'name',
    default: 'server3',
    description: 'server init links the tree to (afterwards the tree says which is active)',
  },
  {
    key: 'database.connectTimeout',
    type: 'int',
    default: 5,
    description: 'seconds before a database server counts as unreachable',
  },
  { key: 'ecl.enabled', type: 'bool', default: true, description: 'the site has the Electronic Control Log' },
  {
    key: 'ecl.dir',
    type: 'path',
    default: '<www>/wsgi/ECL/decam',
    description: "ECL's directory (settings.py switched per server)",
  },
  {
    key: 'logs.size',
    type: 'size',
    default: '20M',
    description: 'each Apache log starts a new file at this size (a number and B, K, M or G)',
  },
  {
    key: 'logs.interval',
    type: 'int',
    optional: true,
    description: 'and also every this many seconds, 86400 = daily at midnight UTC (unset: by size only)',
  },
  {
    key: 'logs.files',
    type: 'int',
    default: 10,
    description: 'files kept per log (access, error); the oldest is overwritten',
  },
  {
    key: 'watch.textfile',
    type: 'path',
    optional: true,
    description: "Prometheus metrics for node_exporter's textfile collector, a .prom file (unset: none)",
  },
  {
    key: 'watch.page',
    type: 'path',
    default: '<html>/webtree/index.html',
    description: 'the status page, written after every check and every change',
  },
  {
    key: 'watch.minFreeMiB',
    type: 'int',
    default: 1024,
    description: 'a finding when the disk of the products, the web tree or the logs has less free space, MiB',
  },
  {
    key: 'watch.minFreePercent',
    type: 'percent',
    default: 5,
    description: 'a finding when that disk has less free space than this, percent',
  },
  {
    key: 'watch.mail.to',
    type: 'email',
    optional: true,
    description: "where mail on a change of state goes, the guide's postgres-status alias (unset: no mail)",
  },
  {
    key: 'watch.mail.from',
    type: 'email',
    optional: true,
    description: 'sender of that mail (unset: <service account>@<this host>)',
  },
  {
    key: 'watch.mail.smtp',
    type: 'listen',
    optional: true,
    description: 'SMTP server HOST:PORT (unset: the local sendmail)',
  },
  {
    key: 'limits.maxBytes',
    type: 'int',
    default: 4 * 1024 ** 3,
    description: 'largest unpacked size of an archive, bytes',
  },
  { key: 'limits.maxEntries', type: 'int', default: 200_000, description: 'most entries in an archive' },
  { key: 'limits.maxDepth', type: 'int', default: 64, description: 'deepest path in an archive, components' },
  {
    key: 'limits.maxRatio',
    type: 'int',
    default: 200,
    description: 'largest unpacked/archive size ratio (gzip bombs)',
  },
  {
    key: 'fetch.connectTimeout',
    type: 'int',
    default: 10,
    description: 'seconds to wait for a connection when fetching an archive by URL',
  },
  {
    key: 'fetch.idleTimeout',
    type: 'int',
    default: 30,
    description: 'seconds a download may stall before it counts as dropped (then resumed)',
  },
  {
    key: 'fetch.retries',
    type: 'int',
    default: 4,
    description: 'retries of a download after a dropped connection, a timeout or a 5xx answer',
  },
  {
    key: 'fetch.maxBytes',
    type: 'int',
    default: 2 * 1024 ** 3,
    description: 'largest archive a download may bring, bytes',
  },
  {
    key: 'fetch.caFile',
    type: 'path',
    optional: true,
    description: 'extra CA certificates (PEM) for https:// archives, besides the system ones and NODE_EXTRA_CA_CERTS',
  },
];

/** Top-level section besides SETTINGS: probes.<PRODUCT>.path / .expect, per product. */
export const PROBES_KEY = 'probes';

/** Top-level keys besides those of SETTINGS: the server list. */
export const SERVERS_KEY = 'database.servers';

export const DEFAULT_SERVERS = [
  { name: 'server3', host: 'server3.ctio.noao.edu', port: 5442 },
  { name: 'server2', host: 'server2.ctio.noao.edu', port: 5442 },
];
