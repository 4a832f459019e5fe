/**
 * Where the Apache tree keeps each file, in one place: render writes them, control and the
 * generated scripts read them. Paths follow DESIGN.md (conf/, conf.d/, run/, bin/, init.d/
 * under the web tree; logs, Mutex and mod_wsgi sockets on the local runtime disk).
 */
import path from 'node:path';
import type { Site } from '../site/types.js';

export interface ApacheLayout {
  serverRoot: string;
  /** conf/httpd.conf, absolute. runApache.sh passes it relative to ServerRoot. */
  confFile: string;
  confDir: string;
  pidFile: string;
  /** The current error log: a hard link rotatelogs moves to each new file (`tail -F` follows it). */
  errorLog: string;
  accessLog: string;
  /** The rotated files, <runtime>/logs/error_log, error_log.1, …: what rotatelogs -n cycles through. */
  logDir: string;
  /** WSGISocketPrefix: sockets must live where the account can write (not Apache's default). */
  socketPrefix: string;
  runApache: string;
  initScript: string;
  systemdUnit: string;
  /** `webtree check` every minute: a systemd service + timer, and a cron.d file for hosts without systemd. */
  checkService: string;
  checkTimer: string;
  checkCron: string;
  robots: string;
}

export function apacheLayout(site: Site): ApacheLayout {
  const www = path.posix.normalize(site.paths.www);
  const runtime = path.posix.normalize(site.paths.runtime);
  return {
    serverRoot: www,
    confFile: path.posix.join(www, 'conf', 'httpd.conf'),
    confDir: path.posix.join(www, 'conf.d'),
    pidFile: path.posix.join(www, 'run', 'httpd.pid'),
    errorLog: path.posix.join(runtime, 'error_log'),
    accessLog: path.posix.join(runtime, 'access_log'),
    logDir: path.posix.join(runtime, 'logs'),
    socketPrefix: path.posix.join(runtime, 'wsgi'),
    runApache: path.posix.join(www, 'bin', 'runApache.sh'),
    initScript: path.posix.join(www, 'init.d', 'httpd'),
    systemdUnit: path.posix.join(www, 'init.d', 'webtree-httpd.service'),
    checkService: path.posix.join(www, 'init.d', 'webtree-check.service'),
    checkTimer: path.posix.join(www, 'init.d', 'webtree-check.timer'),
    checkCron: path.posix.join(www, 'init.d', 'webtree-check.cron'),
    robots: path.posix.join(site.paths.html, 'robots.txt'),
  };
}

/** An app's file in conf.d: render writes it, and an app is served once it is there. */
export const appConfFile = (layout: ApacheLayout, appName: string) =>
  path.posix.join(layout.confDir, `${appName}.conf`);
