/**
 * The demo's second half: render the sandbox's Apache tree, start Apache on its loopback port,
 * show what each app answers, serve a new TV version while it runs, and stop it. Where this host
 * has no Apache with mod_wsgi it says how to get one and skips this part (the demo still exits 0).
 */
import fs from 'node:fs/promises';
import { loadSite } from '../site/load.js';

type Step = (args: string[], allowed?: number[]) => Promise<number | undefined>;

const exists = (p: string) =>
  fs.access(p).then(
    () => true,
    () => false,
  );

async function fetchLine(url: string): Promise<string> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const first = (await r.text()).split('\n').find((l) => l.trim() && !l.startsWith('#')) ?? '';
    return `${r.status} ${first.trim()}`;
  } catch (err) {
    return `no answer (${(err as Error).message})`;
  }
}

export async function demoApache(step: Step, config: string): Promise<void> {
  const site = await loadSite(config);
  const { httpd, wsgiModule } = site.apache;
  if (!(await exists(httpd)) || !(await exists(wsgiModule))) {
    console.log(
      [
        '',
        `Apache with mod_wsgi is not installed here (${httpd}, ${wsgiModule}); skipping render and apache.`,
        'To see that part: sudo apt-get install apache2 libapache2-mod-wsgi-py3 (Debian/Ubuntu)',
        '             or: sudo dnf install httpd python3-mod_wsgi (Red Hat family), then run the demo again.',
      ].join('\n'),
    );
    return;
  }
  const { host, port } = site.apache.listen;
  const base = `http://${host}:${port}`;
  const show = async () => {
    console.log('');
    for (const p of ['/TV', '/ConstantsDB', '/AV', '/QE/DECam', '/EXPO/', '/robots.txt'])
      console.log(`  ${`${base}${p}`.padEnd(44)} ${await fetchLine(`${base}${p}`)}`);
  };
  await step(['render']);
  try {
    await step(['apache', 'start']);
    console.log(`\nThe apps of the sandbox, served by Apache as ${site.apache.user}:`);
    await show();
    await step(['activate', 'TV', '3.4']); // only TV's daemon restarts
    await show();
    // Failover: the sandbox has no PostgreSQL, so the primary check is skipped here; on the host
    // switch-web first asks the server whether it is the master.
    await step(['switch-web', 'server2', '--no-check-db']);
    await show();
    await step(['apache', 'status']);
  } finally {
    await step(['apache', 'stop'], [0, 1]);
  }
}
