/**
 * Every command, in the order `webtree help` lists them: what parsing, usage, help and completion
 * need, and the import of the code that runs it. Importing this module loads no command: a
 * command's code (and what it needs: pg, ejs, tar, execa) is imported only when it runs, so that
 * `webtree status` starts fast. A test walks this list.
 */
import type { CommandSpec, LazyCommand, Run } from './types.js';
import { APACHE_SERVICE_VERBS, APACHE_VERBS } from './words.js';

const lazy = (spec: CommandSpec, load: () => Promise<Run>): LazyCommand => ({ ...spec, load });

export const COMMANDS: LazyCommand[] = [
  lazy(
    {
      name: 'init',
      summary: 'write a site file and the empty tree (a sandbox with --prefix)',
      args: '',
      positionals: { min: 0, max: 0 },
      changes: true,
      json: true,
      options: {
        prefix: {
          type: 'string',
          arg: 'DIR',
          description:
            'lay the whole site out under DIR (a sandbox): DIR/www, DIR/dbwebtools, DIR/local/web_logs, the site file DIR/webtree.yaml (unless --config)',
        },
        listen: {
          type: 'string',
          arg: 'HOST:PORT',
          description: 'where Apache listens (default 0.0.0.0:80; sandbox 127.0.0.1:8080)',
        },
        user: { type: 'string', arg: 'NAME', description: 'service account Apache runs as (default codemanager)' },
        group: {
          type: 'string',
          arg: 'NAME',
          description: "service account's group (default: the user's primary group, else sispi)",
        },
        server: {
          type: 'string',
          multiple: true,
          arg: 'NAME=HOST:PORT',
          description: 'a database server (repeat; the first is active unless server3 is listed)',
        },
        'no-check-db': {
          type: 'boolean',
          description:
            'do not ask the active server which database cluster it is (asked when the servers are given, or for the production site)',
        },
      },
      examples: [
        {
          cmd: 'init',
          says: 'the production site: /usr/remote/software/www/webtree.yaml and the empty tree, Apache on 0.0.0.0:80',
        },
        {
          cmd: 'init --prefix /tmp/sandbox --user $USER',
          says: 'a sandbox under /tmp/sandbox (Apache on 127.0.0.1:8080), run by you',
        },
        {
          cmd: 'init --prefix /tmp/sandbox --server server3=localhost:5432 --server server2=localhost:5433',
          says: 'a sandbox whose two database servers are local clusters',
        },
        { cmd: 'init --dry-run', says: 'print what init would create and create nothing' },
      ],
    },
    async () => (await import('./init.js')).initCommand.run,
  ),
  lazy(
    {
      name: 'install',
      summary: 'verify and unpack a product archive (a file or a URL) into a new version, then activate it',
      args: 'ARCHIVE|URL',
      positionals: { min: 1, max: 1 },
      changes: true,
      json: true,
      options: {
        product: { type: 'string', arg: 'P', description: "product, when the archive's name does not say" },
        version: {
          type: 'string',
          arg: 'V',
          description: "version, when the archive's name does not carry one (EXPO.tar)",
        },
        'no-activate': { type: 'boolean', description: 'install without pointing current at it' },
        license: { type: 'string', arg: 'FILE', description: "ChartDirector's licence file (chartdir.lic)" },
        force: {
          type: 'boolean',
          description: "install even when the archive's own top directory names another product or version",
        },
        sha256: {
          type: 'string',
          arg: 'HEX',
          description: "the archive's sha256; required for a URL (fetched into the cache and checked before unpacking)",
        },
      },
      examples: [
        {
          cmd: 'install https://files.example.org/tv-3.4.tar.gz --sha256 HEX',
          says: 'fetch, check the sha256, then install as for a file',
        },
        { cmd: 'install tv-3.4.tar.gz', says: 'unpack TV 3.4 beside the other versions and make it current' },
        { cmd: 'install EXPO.tar --version 2024-03', says: 'an archive whose name carries no version' },
        {
          cmd: 'install ChartDirector-5.0.2.tar.gz --license chartdir.lic',
          says: 'ChartDirector with its licence file',
        },
      ],
    },
    async () => (await import('./install.js')).installCommand.run,
  ),
  lazy(
    {
      name: 'apply',
      summary: 'make the site match a release file: fetch, install and switch every product as one change',
      args: 'FILE',
      positionals: { min: 1, max: 1 },
      changes: true,
      readsWith: 'check',
      json: true,
      options: {
        check: {
          type: 'boolean',
          description:
            'change and download nothing; say per product what would change (exit 3: changes pending, 0: none)',
        },
      },
      examples: [
        {
          cmd: 'apply release.yaml',
          says: 'fetch what is missing, install it, switch every product that differs, restart and check once',
        },
        {
          cmd: 'apply release.yaml --check',
          says: 'exit 0 when the site matches the release, 3 when it does not, and what would change',
        },
        {
          cmd: 'apply release.yaml --check --json',
          says: '{"changed": …, "products": [{"name", "from", "to", "action"}]} (docs/json.md)',
        },
        { cmd: 'apply release.yaml --dry-run', says: 'print the one plan and change nothing' },
      ],
    },
    async () => (await import('./apply.js')).applyCommand.run,
  ),
  lazy(
    {
      name: 'release',
      summary: 'write the release file of the site as it runs (active versions, sources, sha256)',
      args: '',
      positionals: { min: 0, max: 0 },
      changes: false,
      json: true,
      options: {
        output: { type: 'string', arg: 'FILE', description: 'write it to FILE (atomically) instead of stdout' },
      },
      examples: [
        { cmd: 'release', says: 'print the release file of this host' },
        { cmd: 'release --output /tmp/release.yaml', says: 'capture this host, to `webtree apply` on another' },
      ],
    },
    async () => (await import('./release.js')).releaseCommand.run,
  ),
  lazy(
    {
      name: 'activate',
      summary: 'point a product at one of its installed versions',
      args: 'PRODUCT VERSION',
      positionals: { min: 2, max: 2 },
      changes: true,
      json: true,
      options: {},
      examples: [
        { cmd: 'activate TV 3.4', says: 'make TV 3.4 current; a running Apache serves it at once' },
        { cmd: 'activate QE 2.1 --dry-run', says: 'print the plan and change nothing' },
        { cmd: 'activate wsgi_py 1.5a --json', says: 'the result as JSON (docs/json.md)' },
      ],
    },
    async () => (await import('./activate.js')).activateCommand.run,
  ),
  lazy(
    {
      name: 'rollback',
      summary: 'go back to the version that was active before (from the history)',
      args: 'PRODUCT',
      positionals: { min: 1, max: 1 },
      changes: true,
      json: true,
      options: { to: { type: 'string', arg: 'VERSION', description: 'go back to this installed version instead' } },
      examples: [
        { cmd: 'rollback TV', says: 'back to the version TV had before the last activation' },
        { cmd: 'rollback TV --to 3.3a', says: 'back to a named installed version' },
        { cmd: 'rollback AV --dry-run', says: 'say which version it would go back to, and change nothing' },
      ],
    },
    async () => (await import('./activate.js')).rollbackCommand.run,
  ),
  lazy(
    {
      name: 'list',
      summary: 'installed versions of every product (or one), the active one marked',
      args: '[PRODUCT]',
      positionals: { min: 0, max: 1 },
      changes: false,
      json: true,
      options: {},
      examples: [
        { cmd: 'list', says: 'every product, its versions oldest first, the current one marked *' },
        { cmd: 'list TV', says: 'TV only' },
        { cmd: 'list --json', says: 'the same as JSON (docs/json.md)' },
      ],
    },
    async () => (await import('./list.js')).listCommand.run,
  ),
  lazy(
    {
      name: 'status',
      summary: 'what is active: each product, the database server, Apache',
      args: '',
      positionals: { min: 0, max: 0 },
      changes: false,
      json: true,
      options: {},
      examples: [
        { cmd: 'status', says: 'current and previous version of each product, the active server, Apache' },
        { cmd: 'status --json', says: 'the same as JSON, for scripts and monitors' },
        { cmd: '--config /tmp/sandbox/webtree.yaml status', says: 'the status of another site' },
      ],
    },
    async () => (await import('./status.js')).statusCommand.run,
  ),
  lazy(
    {
      name: 'history',
      summary: 'what happened to the tree: when, who, what, from, to, outcome',
      args: '[PRODUCT]',
      positionals: { min: 0, max: 1 },
      changes: false,
      json: true,
      options: {},
      examples: [
        { cmd: 'history', says: 'every change to the tree, oldest first' },
        { cmd: 'history TV', says: "TV's installs, activations, rollbacks and prunes" },
        { cmd: 'history --json', says: 'the entries as JSON' },
      ],
    },
    async () => (await import('./history.js')).historyCommand.run,
  ),
  lazy(
    {
      name: 'variants',
      summary: 'keep copies of the per-server cfg and ECL settings variants; restore them and the indirection',
      args: 'keep|restore',
      positionals: { min: 1, max: 1 },
      changes: true,
      json: true,
      verbs: ['keep', 'restore'],
      options: {},
      examples: [
        {
          cmd: 'variants restore',
          says: "put back every variant a hand rename replaced by a link (the guide's mv settings.py …), byte for byte, and the links",
        },
        { cmd: 'variants keep', says: 'record the variants as they are now, after you changed one on purpose' },
        { cmd: 'variants restore --dry-run', says: 'say what would be restored, change nothing' },
      ],
    },
    async () => (await import('./variants.js')).variantsCommand.run,
  ),
  lazy(
    {
      name: 'break-lock',
      summary:
        "remove webtree's lock after asking: one held on another host sharing the disk is never taken over by itself",
      args: '',
      positionals: { min: 0, max: 0 },
      changes: false,
      json: true,
      options: {
        yes: { type: 'boolean', description: 'do not ask (scripts): break it once you know its command is gone' },
      },
      examples: [
        {
          cmd: 'break-lock',
          says: 'show who holds the lock (host, pid, user, command, age) and ask before breaking it',
        },
        { cmd: 'break-lock --yes', says: 'break it without asking' },
      ],
    },
    async () => (await import('./break-lock.js')).breakLockCommand.run,
  ),
  lazy(
    {
      name: 'prune',
      summary: 'delete old versions, never the current or the previous one',
      args: '[PRODUCT]',
      positionals: { min: 0, max: 1 },
      changes: true,
      json: true,
      options: {
        keep: {
          type: 'string',
          arg: 'N',
          description: 'how many of the newest versions to keep (current and previous are always kept)',
        },
        cache: {
          type: 'boolean',
          description:
            'remove the cached archives (fetched by URL) that no installed version needs; PRODUCT may then be left out',
        },
      },
      examples: [
        { cmd: 'prune TV --keep 3', says: 'keep the three newest TV versions, the current and the previous one' },
        { cmd: 'prune QE --keep 0 --dry-run', says: 'which versions would go, keeping only current and previous' },
        { cmd: 'prune --cache', says: 'remove the fetched archives that no installed version needs' },
      ],
    },
    async () => (await import('./prune.js')).pruneCommand.run,
  ),
  lazy(
    {
      name: 'verify',
      summary: 'check links, manifests, the active server and licences; exit 1 on any finding',
      args: '',
      positionals: { min: 0, max: 0 },
      changes: false,
      json: true,
      options: {},
      examples: [
        { cmd: 'verify', says: 'check the whole tree; exit 0 when all is well, 1 with the findings' },
        { cmd: 'verify --json', says: 'the findings as JSON, for a monitor' },
      ],
    },
    async () => (await import('./verify.js')).verifyCommand.run,
  ),
  lazy(
    {
      name: 'check',
      summary:
        "read-only: verify, Apache, every app's probe, the database servers, disks; metrics, status page, mail on change",
      args: '',
      positionals: { min: 0, max: 0 },
      changes: false,
      json: true,
      options: {},
      examples: [
        { cmd: 'check', says: 'exit 0 when all is well, 1 with the findings and the command that fixes each' },
        { cmd: 'check --json', says: '{"ok", "findings": [{"code", "thing", "problem", "fix"}], …} (docs/json.md)' },
      ],
    },
    async () => (await import('./check.js')).checkCommand.run,
  ),
  lazy(
    {
      name: 'render',
      summary: 'generate httpd.conf, conf.d/*, robots.txt, runApache.sh and the init scripts; test, then go live',
      args: '',
      positionals: { min: 0, max: 0 },
      changes: true,
      readsWith: 'diff',
      json: true,
      options: {
        diff: {
          type: 'boolean',
          description: 'show what would change as a unified diff and change nothing (exit 3: changes pending, 0: none)',
        },
        force: {
          type: 'boolean',
          description: 'overwrite files edited by hand, keeping each hand-edited one as FILE.hand-edited-<time>',
        },
        templates: {
          type: 'string',
          arg: 'DIR',
          description: "render from the templates in DIR instead of webtree's conf-templates/",
        },
      },
      examples: [
        { cmd: 'render --diff', says: 'the changes as a unified diff; exit 3 when there are some, 0 when none' },
        { cmd: 'render', says: 'write the files httpd -t accepted, reload a running Apache, check every app' },
        { cmd: 'render --templates ./my-templates', says: 'render from edited copies of the templates' },
        { cmd: 'render --force', says: 'overwrite files edited by hand, keeping each as FILE.hand-edited-<time>' },
      ],
    },
    async () => (await import('./render.js')).renderCommand.run,
  ),
  lazy(
    {
      name: 'apache',
      summary: `run Apache as the service account; VERB: ${APACHE_VERBS.join(', ')}`,
      args: 'VERB',
      positionals: { min: 1, max: 1 },
      changes: false,
      json: true,
      options: {
        systemd: {
          type: 'boolean',
          description:
            'install-service/uninstall-service: the systemd unit (/etc/systemd/system/webtree-httpd.service); the default where systemd runs',
        },
        sysv: {
          type: 'boolean',
          description:
            'install-service/uninstall-service: the SysV init script (/etc/init.d/webtree-httpd) and its rc?.d links; the default elsewhere',
        },
      },
      verbs: APACHE_VERBS,
      rootVerbs: APACHE_SERVICE_VERBS,
      examples: [
        { cmd: 'apache start', says: 'start Apache as the service account and check every app' },
        { cmd: 'apache graceful', says: 'reload the configuration, then check every app' },
        { cmd: 'apache status --json', says: "running or not, the pid, each app's answer; exit 1 unless all is well" },
        {
          cmd: 'apache install-service --systemd',
          says: '(root) put the rendered unit in /etc/systemd/system and enable it: Apache starts at boot as the service account',
        },
      ],
    },
    async () => (await import('./apache.js')).apacheCommand.run,
  ),
  lazy(
    {
      name: 'switch-web',
      summary: "failover: move every web tool to SERVER's database in one step",
      args: 'SERVER',
      positionals: { min: 1, max: 1 },
      changes: true,
      json: true,
      options: {
        'no-check-db': {
          type: 'boolean',
          description: 'do not check that SERVER answers and is the primary (pg_is_in_recovery() = false)',
        },
        'no-restart': {
          type: 'boolean',
          description: "no restart of the apps' daemons and no health check after the switch",
        },
        'allow-split-brain': {
          type: 'boolean',
          description:
            'switch even when another site server is also a reachable primary (two masters: you accept serving one fork)',
        },
      },
      examples: [
        {
          cmd: 'switch-web server2',
          says: "check server2 is the primary of the site's cluster and the only one, switch every tool to it, restart the apps' daemons and check them",
        },
        { cmd: 'switch-web server3 --dry-run', says: 'run the checks and print the plan; change nothing' },
        {
          cmd: 'switch-web server2 --no-check-db',
          says: 'switch without asking the database (it does not answer yet)',
        },
      ],
    },
    async () => (await import('./switch-web.js')).switchWebCommand.run,
  ),
  lazy(
    {
      name: 'adopt',
      summary: 'take over a tree laid out by hand (cfg links, ECL settings.py, version dirs)',
      args: '',
      positionals: { min: 0, max: 0 },
      changes: true,
      json: true,
      options: {
        'no-check-db': {
          type: 'boolean',
          description: "do not ask the active server which database cluster it is (recorded for switch-web's checks)",
        },
      },
      examples: [
        { cmd: 'adopt --dry-run', says: 'after `webtree init` on the hand-made tree: what adopt would change' },
        { cmd: 'adopt', says: 'take the tree over in place; no reader sees a difference' },
      ],
    },
    async () => (await import('./adopt.js')).adoptCommand.run,
  ),
  lazy(
    {
      name: 'repair',
      summary: 'put every consumer back through <switch>/active after a hand edit split the web tools between servers',
      args: '',
      positionals: { min: 0, max: 0 },
      changes: true,
      json: true,
      options: {
        'no-restart': {
          type: 'boolean',
          description: "no restart of the apps' daemons and no health check after the repair",
        },
      },
      examples: [
        {
          cmd: 'repair --dry-run',
          says: 'after `ln -sf des_tv.cfg_server3 des_tv.cfg` by hand: what repair would put back',
        },
        { cmd: 'repair', says: 'every consumer back on the active server, the apps restarted and checked' },
      ],
    },
    async () => (await import('./repair.js')).repairCommand.run,
  ),
  lazy(
    {
      name: 'recover',
      summary: 'finish or undo a change that was interrupted, then run its check (reads only report it)',
      args: '',
      positionals: { min: 0, max: 0 },
      changes: true,
      json: true,
      options: {},
      examples: [
        { cmd: 'recover', says: 'settle the change status reports as pending, with its restart and health check' },
        { cmd: 'recover --dry-run', says: 'say which change is pending and what recover would do' },
      ],
    },
    async () => (await import('./recover.js')).recoverCommand.run,
  ),
  lazy(
    {
      name: 'help',
      summary: 'show the usage of webtree or of one command, with examples',
      args: '[COMMAND [VERB]]',
      positionals: { min: 0, max: 2 },
      changes: false,
      json: false,
      options: {},
      examples: [
        { cmd: 'help', says: 'every command' },
        { cmd: 'help install', says: "install's usage and examples (the same as `webtree install --help`)" },
        { cmd: 'help apache', says: 'the apache verbs' },
      ],
    },
    async () => (await import('./help.js')).helpCommand(COMMANDS).run,
  ),
  lazy(
    {
      name: 'completion',
      summary: 'print the shell completion script (bash)',
      args: 'SHELL',
      positionals: { min: 1, max: 1 },
      changes: false,
      json: false,
      options: {},
      examples: [
        {
          cmd: 'completion bash > /etc/bash_completion.d/webtree',
          says: 'as root: completion for every user (new shells)',
        },
        {
          cmd: 'completion bash > ~/.local/share/bash-completion/completions/webtree',
          says: 'for yourself only; bash-completion loads it on first use',
        },
      ],
    },
    async () => (await import('./completion.js')).completionCommand(COMMANDS).run,
  ),
];

export const findCommand = (name: string) => COMMANDS.find((c) => c.name === name);
