/**
 * What Linux says about our Apache: the pid file, /proc, the port, the error log. A pid is only
 * trusted when /proc/<pid>/cmdline carries "-d <ServerRoot>" (runApache.sh starts httpd that
 * way): a pid file left by a dead server may name a pid that now belongs to another program.
 */
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';

/**
 * A small file's text, or `fallback` when it cannot be read: the pid file and /proc/<pid>/cmdline
 * that status reads are read with the synchronous call (their asynchronous reads loaded
 * node:fs/promises, and with it fs/dir, the watchers and readline, into every status; issue 15).
 */
function readSmall<T>(file: string, fallback: T): string | T {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The pid a pid file holds: undefined when there is no file, NaN when it holds no number. */
export async function readPidFile(file: string): Promise<number | undefined> {
  const text = readSmall(file, undefined);
  if (text === undefined) return undefined;
  return /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
}

/** An httpd of this ServerRoot (master, worker or mod_wsgi daemon). False for zombies: their cmdline is empty. */
export async function isOurHttpd(pid: number, serverRoot: string): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const raw = readSmall(`/proc/${pid}/cmdline`, '');
  // mod_wsgi's display-name overwrites argv[0] only, so "-d <root>" survives in its daemons.
  const args = raw.split('\0');
  return args.some((arg, i) => arg === '-d' && args[i + 1] === serverRoot);
}

/** Every process of this ServerRoot, by scanning /proc. */
export async function findOurProcesses(serverRoot: string): Promise<number[]> {
  const pids = (await fs.readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number);
  const ours = await Promise.all(pids.map(async (pid) => ((await isOurHttpd(pid, serverRoot)) ? pid : 0)));
  return ours.filter((pid) => pid > 0);
}

/** The real uid a process runs as. */
export async function processUid(pid: number): Promise<number | undefined> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /^Uid:\s+(\d+)/m.exec(status);
  return m ? Number(m[1]) : undefined;
}

/**
 * Seconds since the process started: field 22 of /proc/<pid>/stat counts clock ticks since boot,
 * and USER_HZ is 100 in Linux's user ABI on every architecture Node runs on.
 */
export async function processUptimeSec(pid: number): Promise<number | undefined> {
  const [stat, uptime] = await Promise.all([
    fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''),
    fs.readFile('/proc/uptime', 'utf8').catch(() => ''),
  ]);
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTicks = Number(fields[22 - 3]);
  const bootSec = Number(uptime.split(' ')[0]);
  if (!Number.isFinite(startTicks) || !Number.isFinite(bootSec) || !stat) return undefined;
  return Math.max(0, Math.round(bootSec - startTicks / 100));
}

/** Polls until cond() is true or the time is up; says which. */
export async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/** Does anything accept TCP connections on host:port? */
export async function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  // Loaded here, not with the module: node:net cost `webtree status` (which never connects) ~15 ms.
  const net = await import('node:net');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
