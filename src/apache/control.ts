/**
 * Apache for the web tree, run as the service account: root goes through runuser, the account
 * acts directly, anyone else is refused. Lifecycle verbs go through the generated runApache.sh,
 * so that Apache gets the same environment (eups, PYTHONHOME) as from init.d/httpd; stop and
 * status need no environment and work from the pid file and /proc. Every child process gets an
 * argument array, never a shell string.
 */
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { resolveOwner } from '../apply/owner.js';
import { ownerText } from '../apply/preflight.js';
import { WebtreeError } from '../core/errors.js';
import { runProcess, testAsAccount } from '../core/exec.js';
import { currentIdentity, type Identity } from '../core/identity.js';
import type { Site } from '../site/types.js';
import { apacheLayout } from '../plan/apache-layout.js';
import { connectHost } from './health.js';
import { apacheQuote } from './quote.js';
import { errorLogOffset, errorLogSince, errorLogTail } from './error-log.js';
import { canConnect, findOurProcesses, isOurHttpd, processUptimeSec, readPidFile, waitUntil } from './process.js';

export interface ApacheStatus {
  running: boolean;
  pid?: number;
  uptimeSec?: number;
  /** A pid file that names no live httpd of ours. */
  stalePidFile: boolean;
}

export { currentIdentity, type Identity } from '../core/identity.js';

/** argv run as the service account; refuses anyone but root and the account. */
export function asAccount(site: Site, verb: string, argv: string[], me: Identity = currentIdentity()): string[] {
  const { user } = site.apache;
  if (me.user === user) return argv;
  // runuser: no PAM password prompt and no login shell needed (the account may have nologin).
  if (me.uid === 0) return ['runuser', '-u', user, '--', ...argv];
  throw new WebtreeError('EPERM', `only root or ${user} may ${verb} Apache (you are ${me.user})`, {
    hint: `run it as root (sudo webtree apache ${verb}) or as ${user}`,
  });
}

/**
 * eups' `setup` is a shell function, so a site with eups runs httpd -t inside bash after
 * sourcing setups.sh. The script is constant; the paths and product names arrive as arguments.
 */
const EUPS_WRAPPER =
  '. "$1" || exit 1; shift; while [ "$1" != -- ]; do setup "$1" || exit 1; shift; done; shift; exec "$@"';

/** Apache's own commands, with the site's PYTHONHOME (mod_wsgi's Python) where it sets one. */
function run(argv: string[], site: Site) {
  const env = site.apache.pythonHome ? { PYTHONHOME: site.apache.pythonHome } : undefined;
  return runProcess(argv[0], argv.slice(1), { env });
}

/**
 * httpd -t on a whole tree; resolves to Apache's "Syntax OK". By default the live one; a new
 * tree is tested before it goes live by passing its staged httpd.conf and staged conf.d
 * (httpd.conf includes "${WEBTREE_CONFD}/*.conf", conf.d unless defined). The account must be
 * able to read them, and confDir is substituted into a quoted glob: no quotes, backslashes or
 * wildcards in it.
 */
export async function configtest(site: Site, confFile?: string, confDir?: string): Promise<string> {
  const L = apacheLayout(site);
  let argv = [site.apache.httpd, '-d', L.serverRoot, '-f', confFile ?? L.confFile];
  if (confDir !== undefined) {
    if (/["\\*?[\]\u0000-\u001f]|\$\{/.test(confDir)) {
      throw new WebtreeError('EAPACHE', `cannot test a conf.d staged at ${JSON.stringify(confDir)}`, {
        hint: 'stage it in a directory without quotes, backslashes, wildcards or ${',
      });
    }
    argv.push('-C', `Define WEBTREE_CONFD ${apacheQuote(confDir)}`);
  }
  argv.push('-t');
  if (site.apache.eups)
    argv = [
      '/bin/bash',
      '-c',
      EUPS_WRAPPER,
      'webtree-eups',
      site.apache.eups.setups,
      ...site.apache.eups.products,
      '--',
      ...argv,
    ];
  // As the account where we can, so that a file it cannot read fails here and not at start.
  const me = currentIdentity();
  if (me.uid === 0 || me.user === site.apache.user) argv = asAccount(site, 'test', argv, me);
  const r = await run(argv, site);
  const output = r.all.trim();
  if (r.exitCode !== 0) {
    throw new WebtreeError('EAPACHE', `Apache refuses the configuration ${confFile ?? L.confFile}`, {
      details: output || r.message,
      hint: 'fix what Apache names; nothing was changed',
    });
  }
  return output;
}

export async function status(site: Site): Promise<ApacheStatus> {
  const L = apacheLayout(site);
  const pid = await readPidFile(L.pidFile);
  if (pid === undefined) return { running: false, stalePidFile: false };
  if (!(await isOurHttpd(pid, L.serverRoot))) return { running: false, stalePidFile: true };
  return { running: true, pid, uptimeSec: await processUptimeSec(pid), stalePidFile: false };
}

/**
 * Ports below ip_unprivileged_port_start need root or a capability on the binary: why the
 * account may not listen where the site says, with the fix, or undefined when it may.
 */
export async function portProblem(site: Site): Promise<{ message: string; hint: string } | undefined> {
  const { port } = site.apache.listen;
  if (site.apache.user === 'root') return undefined;
  const text = await fs.readFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').catch(() => '1024');
  const first = Number(text) || 1024;
  if (port >= first) return undefined;
  const caps = await runProcess('getcap', [site.apache.httpd]);
  if (/cap_net_bind_service/.test(caps.stdout)) return undefined;
  return {
    message: `port ${port} is below ${first}: ${site.apache.user} may not listen on it`,
    hint: `set apache.listen to a port of ${first} or more (8080) and forward ${port} to it, or let systemd start it with the right to bind it (as root: webtree apache install-service --systemd, then systemctl start webtree-httpd), or let the binary bind it: setcap cap_net_bind_service=+ep ${site.apache.httpd}`,
  };
}

async function checkPort(site: Site): Promise<void> {
  const p = await portProblem(site);
  if (p) throw new WebtreeError('EAPACHE', p.message, { hint: p.hint });
}

/** Can the account Apache runs as write (and enter) this path? As root, asked as the account. */
async function accountMayWrite(site: Site, p: string, dir: boolean, me: Identity): Promise<boolean> {
  if (me.uid !== 0)
    return fs.access(p, dir ? constants.W_OK | constants.X_OK : constants.W_OK).then(
      () => true,
      () => false,
    );
  return testAsAccount(site.apache.user, dir ? ['-w', p, '-a', '-x', p] : ['-w', p]);
}

export { errorLogOffset, errorLogTail } from './error-log.js';

/**
 * Apache, run as the account, writes its logs, the Mutex and mod_wsgi's sockets in the runtime
 * directory and its pid file in run/. Where it may not, httpd starts and dies with a line in a
 * log it could not open: check first and name the directory and the account.
 */
async function checkRuntimeAccess(site: Site): Promise<void> {
  const L = apacheLayout(site);
  const me = currentIdentity();
  const bad: { path: string; line: string }[] = [];
  for (const [dir, what] of [
    [site.paths.runtime, 'logs, Mutex and mod_wsgi sockets'],
    [path.dirname(L.pidFile), 'the pid file'],
  ]) {
    const st = await fs.stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) {
      throw new WebtreeError('EAPACHE', `${dir}, where Apache keeps ${what}, does not exist`, {
        hint: 'webtree init makes the missing directories',
      });
    }
    if (!(await accountMayWrite(site, dir, true, me)))
      bad.push({ path: dir, line: `${dir} (${await ownerText(dir)}): ${what}` });
  }
  // Not the pid file: a stale one was removed above, and Apache writes its own in run/.
  for (const file of [L.errorLog, L.accessLog]) {
    if ((await fs.stat(file).catch(() => undefined)) && !(await accountMayWrite(site, file, false, me)))
      bad.push({ path: file, line: `${file} (${await ownerText(file)}): Apache appends to it` });
  }
  if (!bad.length) return;
  const { user, group } = site.apache;
  const account = await resolveOwner(user, group).then(
    (o) => `${user} (uid ${o.uid})`,
    () => user,
  );
  throw new WebtreeError(
    'EACCES',
    `permission denied: ${account}, the account Apache runs as, may not write where Apache writes; Apache was not started`,
    {
      details: bad.map((b) => `  ${b.line}`).join('\n'),
      hint: `as root: \`chown -R ${user}:${group} ${bad.map((b) => b.path).join(' ')}\` (running webtree as root does not help: Apache itself runs as ${user})`,
    },
  );
}

async function runApache(site: Site, verb: string) {
  const L = apacheLayout(site);
  const argv = asAccount(site, verb, ['/bin/bash', L.runApache, verb]);
  if (!(await fs.stat(L.runApache).catch(() => undefined))) {
    throw new WebtreeError('EAPACHE', `${L.runApache} does not exist`, { hint: 'run webtree render first' });
  }
  return run(argv, site);
}

export async function start(
  site: Site,
  opts: { timeoutMs?: number } = {},
): Promise<{ alreadyRunning: boolean; pid: number }> {
  const L = apacheLayout(site);
  asAccount(site, 'start', []);
  await checkPort(site);
  const before = await status(site);
  if (before.running) return { alreadyRunning: true, pid: before.pid! };
  if (before.stalePidFile) await fs.rm(L.pidFile, { force: true });
  await checkRuntimeAccess(site);
  await killAll(await findOurProcesses(L.serverRoot)); // orphaned workers still hold the port
  const host = connectHost(site.apache.listen.host);
  const { port } = site.apache.listen;
  if (await canConnect(host, port)) {
    throw new WebtreeError('EAPACHE', `port ${port} on ${host} is already taken by another program`, {
      hint: 'stop that program or choose another apache.listen',
    });
  }
  const logOffset = await errorLogOffset(site);
  const r = await runApache(site, 'start');
  // httpd -k start exits 0 once it has detached, and what fails after that (the pid file, the
  // children) leaves nothing running: only a live pid of ours that answers on the port counts.
  let pid = 0;
  const up =
    r.exitCode === 0 &&
    (await waitUntil(
      async () => {
        const s = await status(site);
        pid = s.pid ?? 0;
        return s.running && (await canConnect(host, port, 500));
      },
      opts.timeoutMs ?? 10_000,
      200,
    ));
  if (!up) {
    const tail = await errorLogTail(site, logOffset);
    await stop(site).catch(() => undefined);
    throw new WebtreeError('EAPACHE', `Apache did not start on ${host}:${port}`, {
      details: [r.all.trim(), tail].filter(Boolean).join('\n'),
      hint: 'fix what the error log names, then webtree apache start',
    });
  }
  return { alreadyRunning: false, pid };
}

async function killAll(pids: number[], signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone meanwhile */
    }
  }
}

/**
 * SIGTERM to the master is what `httpd -k stop` sends, without parsing a config that may be
 * broken. Apache gives its children 10 s; whatever of ours is left after the timeout is killed.
 */
export async function stop(
  site: Site,
  opts: { timeoutMs?: number } = {},
): Promise<{ wasRunning: boolean; killed: number[] }> {
  const L = apacheLayout(site);
  asAccount(site, 'stop', []);
  const before = await status(site);
  if (before.running) await killAll([before.pid!], 'SIGTERM');
  const gone = async () => (await findOurProcesses(L.serverRoot)).length === 0;
  let killed: number[] = [];
  if (!(await waitUntil(gone, before.running ? (opts.timeoutMs ?? 20_000) : 0, 200))) {
    killed = await findOurProcesses(L.serverRoot);
    await killAll(killed);
    if (!(await waitUntil(gone, 5_000, 100))) {
      throw new WebtreeError(
        'EAPACHE',
        `httpd processes of ${L.serverRoot} survive SIGKILL: ${(await findOurProcesses(L.serverRoot)).join(' ')}`,
      );
    }
  }
  await fs.rm(L.pidFile, { force: true });
  return { wasRunning: before.running, killed };
}

/**
 * The whole configuration is tested (httpd -t, conf.d included) before anything is stopped, as
 * graceful does: a broken file in conf.d must not take down a site that is serving.
 */
export async function restart(site: Site, opts: { timeoutMs?: number } = {}): Promise<{ pid: number }> {
  try {
    await configtest(site);
  } catch (err) {
    if (!(err instanceof WebtreeError)) throw err;
    throw new WebtreeError(
      'EAPACHE',
      `Apache was not restarted: its configuration does not pass httpd -t; ${(await status(site)).running ? 'it runs on as before' : 'it was not running'}`,
      {
        details: [err.message, err.details].filter(Boolean).join('\n'),
        hint: 'fix what httpd -t names (`webtree apache configtest`), then restart again',
      },
    );
  }
  await stop(site, opts);
  return { pid: (await start(site, opts)).pid };
}

/**
 * httpd -k graceful parses the config first and signals only a config it accepts; the master
 * then re-reads it and exits if it cannot apply it, so success is the master still alive,
 * logging AH00489 ("resuming normal operations", a notice Apache always logs) and listening.
 */
export async function graceful(site: Site, opts: { timeoutMs?: number } = {}): Promise<{ pid: number }> {
  const L = apacheLayout(site);
  asAccount(site, 'restart', []);
  const before = await status(site);
  if (!before.running) throw new WebtreeError('EAPACHE', 'Apache is not running', { hint: 'webtree apache start' });
  const logOffset = await errorLogOffset(site);
  const r = await runApache(site, 'graceful');
  if (r.exitCode !== 0) {
    throw new WebtreeError('EAPACHE', 'Apache refused the graceful restart', {
      details: r.all.trim(),
      hint: 'fix what Apache names; the server runs on as before',
    });
  }
  const alive = () => isOurHttpd(before.pid!, L.serverRoot);
  await waitUntil(
    async () => !(await alive()) || /AH00489/.test(await errorLogSince(site, logOffset, 1000)),
    opts.timeoutMs ?? 10_000,
    100,
  );
  const host = connectHost(site.apache.listen.host);
  if (!(await alive()) || !(await canConnect(host, site.apache.listen.port))) {
    throw new WebtreeError('EAPACHE', 'Apache did not survive the graceful restart', {
      details: await errorLogTail(site, logOffset),
      hint: 'fix what the error log names, then webtree apache start',
    });
  }
  return { pid: before.pid! };
}
