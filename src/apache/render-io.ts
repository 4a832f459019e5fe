/**
 * The I/O around the pure render planner: read what it needs (the apps, the templates, the
 * files on disk, rendered.json), and test a new tree with the real httpd before it goes live.
 */
import { RENDER_STAGE_PREFIX } from '../catalog/paths.js';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chownTree, type Owner } from '../apply/owner.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { isErrno, WebtreeError } from '../core/errors.js';
import { renderedRecordPath, type LiveFile } from '../plan/render.js';
import { moveAsideCommand } from '../core/attic.js';
import { isDamaged, isNat, isObj, optional, readStateJson, type FieldCheck } from '../core/state-file.js';
import { damageNote, type DamageNote } from '../state/tree.js';
import type { Site } from '../site/types.js';
import { servedApps } from './apps.js';
import { configtest } from './control.js';
import { apacheLayout } from '../plan/apache-layout.js';
import { renderTree, type RenderedFile, type WsgiApp } from './render.js';
import { loadTemplates } from './templates.js';

export interface RenderRead {
  apps: WsgiApp[];
  files: RenderedFile[];
  live: Record<string, LiveFile | null>;
  recorded: Record<string, string> | null;
  /** rendered.json was damaged and a lenient read went past it. */
  damage?: DamageNote;
}

async function readLive(file: string): Promise<LiveFile | null> {
  try {
    const [content, st] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
    return { content, mode: st.mode & 0o7777 };
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    throw err;
  }
}

const RENDERED_FIELDS: Record<string, FieldCheck> = {
  version: optional(isNat),
  files: (v) => isObj(v) && Object.values(v as object).every((x) => typeof x === 'string'),
};

/**
 * rendered.json: the sha256 of each file render last wrote, null when render never ran. Damaged,
 * it throws (render must not guess which files were edited by hand), unless `lenient` (render
 * --diff), which then compares as if render never ran and says so in `damage`.
 */
export async function readRenderedRecord(
  site: Site,
  lenient = false,
): Promise<{ recorded: Record<string, string> | null; damage?: DamageNote }> {
  const file = renderedRecordPath(site);
  const spec = {
    what: "render's record",
    fix: `move it aside (${moveAsideCommand(file, site.paths.state)}); render then compares each file with what it would write and keeps any that differs as edited by hand (\`webtree render --force\` replaces those, keeping a copy of each)`,
  };
  try {
    const r = await readStateJson<{ files: Record<string, string> }>(file, spec, RENDERED_FIELDS);
    return { recorded: r ? r.files : null };
  } catch (err) {
    if (!lenient || !isDamaged(err)) throw err;
    return { recorded: null, damage: damageNote(err) };
  }
}

/** `also`: apps not served yet that must be rendered all the same (apply's first-served apps). */
export async function readRenderInputs(
  site: Site,
  catalog: ProductDescriptor[],
  templatesDir?: string,
  lenient = false,
  also: WsgiApp[] = [],
): Promise<RenderRead> {
  const served = await servedApps(site, catalog);
  const order = (a: WsgiApp) => catalog.findIndex((d) => d.name === a.name);
  const apps = [...served, ...also.filter((a) => !served.some((s) => s.name === a.name))].sort(
    (a, b) => order(a) - order(b),
  );
  const files = renderTree(site, apps, await loadTemplates(templatesDir));
  const { recorded, damage } = await readRenderedRecord(site, lenient);
  const live: Record<string, LiveFile | null> = {};
  for (const p of new Set([...files.map((f) => f.path), ...Object.keys(recorded ?? {})])) live[p] = await readLive(p);
  return { apps, files, live, recorded, ...(damage ? { damage } : {}) };
}

/** configtest's Define takes the staged conf.d in quotes: a path with these cannot be staged beside conf/. */
const unstageable = (p: string) => /["\\*?[\]\u0000-\u001f]|\$\{/.test(p);

/**
 * httpd -t on the tree as it will be: the new httpd.conf and a conf.d holding the new app files
 * plus whatever else the live conf.d includes (*.conf an operator added), minus what render
 * removes. Staged beside conf/ (same disk, same permissions), given to the service account so
 * that it reads them as Apache will; removed afterwards. Throws Apache's own message.
 */
export async function testStaged(site: Site, files: RenderedFile[], removed: string[], owner?: Owner): Promise<string> {
  const L = apacheLayout(site);
  // A stage left by a killed render is swept with the other leftovers when the lock is taken.
  const base = unstageable(L.serverRoot) ? os.tmpdir() : L.serverRoot;
  const dir = await fs.mkdtemp(path.join(base, RENDER_STAGE_PREFIX));
  try {
    const conf = path.join(dir, 'conf', 'httpd.conf');
    const confDir = path.join(dir, 'conf.d');
    await fs.mkdir(path.dirname(conf), { recursive: true });
    await fs.mkdir(confDir);
    const rendered = new Map(files.map((f) => [f.path, f.content]));
    await fs.writeFile(conf, rendered.get(L.confFile) ?? (await fs.readFile(L.confFile, 'utf8')));
    const names = new Set<string>();
    for (const name of await fs.readdir(L.confDir).catch(() => [] as string[])) {
      const p = path.join(L.confDir, name);
      if (name.endsWith('.conf') && !removed.includes(p)) names.add(name);
    }
    for (const p of rendered.keys()) if (path.dirname(p) === L.confDir) names.add(path.basename(p));
    for (const name of names) {
      const p = path.join(L.confDir, name);
      await fs.writeFile(path.join(confDir, name), rendered.get(p) ?? (await fs.readFile(p)));
    }
    await fs.chmod(dir, 0o755);
    if (owner) await chownTree(dir, owner);
    return await configtest(site, conf, confDir);
  } catch (err) {
    if (!(err instanceof WebtreeError) || err.code !== 'EAPACHE') throw err;
    throw new WebtreeError('EAPACHE', 'Apache refuses the new configuration; nothing was changed', {
      details: `httpd -t on the new tree (staged in ${dir}) says:\n${err.details ?? err.message}`,
      hint: 'fix what Apache names in the templates or the site file; `webtree render --diff` shows the new files',
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
