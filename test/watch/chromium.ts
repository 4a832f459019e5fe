/**
 * The status page in real headless Chromium (Debian's chromium): the DOM it builds and a
 * screenshot. Nothing may leave loopback: every host name resolves to nothing and any request
 * goes to a proxy on a closed loopback port; the net log then lists every URL Chromium asked
 * for, and the page's own requests (anything but Chromium's background calls home) must be none.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export const CHROMIUM = '/usr/bin/chromium';

export const chromiumMissing = () =>
  existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing: apt-get install chromium`;

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--host-resolver-rules=MAP * ~NOTFOUND',
  '--proxy-server=http://127.0.0.1:9',
];

/** Chromium's own calls home (update checks, sign-in), blocked by the flags above; not the page's. */
const BACKGROUND = /^https?:\/\/([a-z0-9-]+\.)*(google\.com|googleapis\.com|gstatic\.com)\//;

export async function loadInChromium(
  file: string,
  screenshot?: string,
): Promise<{ dom: string; requests: string[]; screenshotBytes: number }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-chromium-'));
  try {
    const url = `file://${file}`;
    const netLog = path.join(dir, 'net.json');
    const shot = screenshot ?? path.join(dir, 'page.png');
    const env = { DBUS_SESSION_BUS_ADDRESS: 'disabled:', HOME: dir };
    const [dump, snap] = await Promise.all([
      execa(
        CHROMIUM,
        [...FLAGS, `--user-data-dir=${path.join(dir, 'a')}`, `--log-net-log=${netLog}`, '--dump-dom', url],
        { env, reject: false, timeout: 60_000 },
      ),
      execa(
        CHROMIUM,
        [
          ...FLAGS,
          `--user-data-dir=${path.join(dir, 'b')}`,
          `--screenshot=${shot}`,
          '--window-size=412,1600',
          '--hide-scrollbars',
          url,
        ],
        { env, reject: false, timeout: 60_000 },
      ),
    ]);
    if (dump.exitCode !== 0) throw new Error(`chromium --dump-dom failed: ${dump.stderr}`);
    if (snap.exitCode !== 0) throw new Error(`chromium --screenshot failed: ${snap.stderr}`);
    const log = await fs.readFile(netLog, 'utf8');
    const urls = [...new Set([...log.matchAll(/"url":"([^"]*)"/g)].map((m) => m[1]))];
    return {
      dom: dump.stdout,
      requests: urls.filter((u) => u !== url && !BACKGROUND.test(u)),
      screenshotBytes: (await fs.stat(shot)).size,
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
