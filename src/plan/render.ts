/**
 * render: the generated files against what is on disk and what webtree last wrote
 * (<state>/rendered.json, a sha256 per file). Pure: the caller reads the files, renders the
 * templates and passes everything in; this decides what to write, what to remove, and which
 * files someone edited by hand since webtree wrote them.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { apacheLayout } from './apache-layout.js';
import type { Site } from '../site/types.js';
import { recordOp, type PlanContext } from './lifecycle.js';
import type { Op, Plan } from './ops.js';
import { unifiedDiff } from './udiff.js';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
export const renderedRecordPath = (site: Site) => path.join(site.paths.state, 'rendered.json');

/** A file of the Apache tree as render makes it (src/apache/render.ts). */
export interface RenderedFile {
  path: string;
  content: string;
  mode: number;
}

export interface LiveFile {
  content: string;
  mode: number;
}

export interface RenderInput {
  /** What the templates give now. */
  files: RenderedFile[];
  /** What is on disk, for every rendered and every recorded path (null: missing). */
  live: Record<string, LiveFile | null>;
  /** sha256 by path of what webtree last wrote (rendered.json); null when render never ran. */
  recorded: Record<string, string> | null;
  force: boolean;
}

export interface FileChange {
  path: string;
  kind: 'create' | 'update' | 'mode' | 'remove';
  before: string | null;
  after: string | null;
  mode: number;
  /** The live file's mode before the change (null: there was no file). */
  beforeMode: number | null;
  /** Edited by hand since webtree wrote it (or written by hand and never by webtree). */
  handEdited: boolean;
  diff: string;
}

export interface RenderPlan {
  plan: Plan;
  changes: FileChange[];
  /** Hand-edited files the plan would overwrite or remove: refused without --force. */
  conflicts: FileChange[];
  /** httpd.conf or a conf.d file changes: Apache must accept the new tree, then graceful. */
  confChanged: boolean;
  /** sha256 by path, as rendered.json will hold it. */
  record: Record<string, string>;
}

/** Comments aside, the same text: a file from `init` or an older webtree that render may take over silently. */
const meaningful = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))
    .join('\n');

/** `<file>.hand-edited-20250101T120000Z`: beside it, and not matched by conf.d/*.conf. */
export const handEditedCopy = (file: string, now: string) =>
  `${file}.hand-edited-${now.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;

export const isConf = (site: Site, file: string) =>
  file === apacheLayout(site).confFile || path.dirname(file) === apacheLayout(site).confDir;

function handEdited(live: LiveFile, recordedSha: string | undefined, wanted: string | null): boolean {
  if (recordedSha !== undefined) return sha256(live.content) !== recordedSha;
  // Never written by webtree: only a file that says what we would say is ours to replace.
  return wanted === null || meaningful(live.content) !== meaningful(wanted);
}

export function planRender(site: Site, input: RenderInput, ctx: PlanContext): RenderPlan {
  const recorded = input.recorded ?? {};
  const changes: FileChange[] = [];
  const record: Record<string, string> = {};
  for (const f of input.files) {
    const live = input.live[f.path] ?? null;
    record[f.path] = sha256(f.content);
    if (live !== null && live.content === f.content) {
      if (live.mode !== f.mode)
        changes.push({
          path: f.path,
          kind: 'mode',
          before: live.content,
          after: f.content,
          mode: f.mode,
          beforeMode: live.mode,
          handEdited: false,
          diff: '',
        });
      continue;
    }
    const edited = live !== null && handEdited(live, recorded[f.path], f.content);
    changes.push({
      path: f.path,
      kind: live === null ? 'create' : 'update',
      before: live?.content ?? null,
      after: f.content,
      mode: f.mode,
      beforeMode: live?.mode ?? null,
      handEdited: edited,
      diff: unifiedDiff(live?.content ?? null, f.content, f.path),
    });
  }
  for (const p of Object.keys(recorded).sort()) {
    const live = input.live[p] ?? null;
    if (record[p] !== undefined || live === null) continue; // still generated, or already gone
    changes.push({
      path: p,
      kind: 'remove',
      before: live.content,
      after: null,
      mode: live.mode,
      beforeMode: live.mode,
      handEdited: handEdited(live, recorded[p], null),
      diff: unifiedDiff(live.content, null, p),
    });
  }
  const conflicts = changes.filter((c) => c.handEdited);
  // Hand-edited copies first, before the commit; from the first write on, an interrupted render
  // is finished, not undone: the new files passed httpd -t together, a mix of old and new did not.
  const ops: Op[] = conflicts.map((c): Op => ({
    kind: 'copy-file',
    from: c.path,
    to: handEditedCopy(c.path, ctx.now),
  }));
  const commit = ops.length;
  for (const c of changes)
    ops.push(
      c.after === null
        ? { kind: 'remove', path: c.path }
        : { kind: 'write-file', path: c.path, content: c.after, mode: c.mode },
    );
  const recordChanged =
    input.recorded === null || JSON.stringify(sortKeys(recorded)) !== JSON.stringify(sortKeys(record));
  if (ops.length || recordChanged)
    ops.push({ kind: 'write-file', path: renderedRecordPath(site), content: renderedJson(record), mode: 0o644 });
  const names = changes.map((c) => path.relative(site.paths.www, c.path));
  const summary =
    changes.length === 0
      ? `the Apache tree is up to date (${input.files.length} files)`
      : `render ${changes.length} of ${input.files.length} files: ${names.join(', ')}`;
  if (changes.length) {
    const kept = conflicts.map((c) => path.basename(handEditedCopy(c.path, ctx.now)));
    ops.push(
      recordOp(ctx, {
        action: 'render',
        outcome: 'ok',
        message: `${changes.map((c) => `${c.kind} ${path.relative(site.paths.www, c.path)}`).join(', ')}${kept.length ? `; hand-edited copies kept: ${kept.join(', ')}` : ''}`,
      }),
    );
  }
  const notes = input.force
    ? conflicts.map(
        (c) =>
          `taking over ${c.path}, edited by hand; the hand-edited copy is kept as ${handEditedCopy(c.path, ctx.now)}`,
      )
    : [];
  return {
    // The hand-edited copies are the pre-commit part: flushed before the first overwrite, removed if undone.
    plan: {
      command: 'render',
      summary,
      ops,
      commit,
      temps: conflicts.map((c) => handEditedCopy(c.path, ctx.now)),
      notes,
    },
    changes,
    conflicts,
    record,
    confChanged: changes.some((c) => c.kind !== 'mode' && isConf(site, c.path)),
  };
}

/**
 * What puts the files back as they were before `changes`, after Apache failed on them: the old
 * contents, files that were new removed, the old rendered.json. Hand-edited copies stay.
 */
export function planRevert(
  site: Site,
  changes: FileChange[],
  recordedBefore: Record<string, string> | null,
  reason: string,
  ctx: PlanContext,
): Plan {
  const ops: Op[] = changes.map((c): Op =>
    c.before === null
      ? { kind: 'remove', path: c.path }
      : { kind: 'write-file', path: c.path, content: c.before, mode: c.beforeMode ?? c.mode },
  );
  ops.push(
    recordedBefore === null
      ? { kind: 'remove', path: renderedRecordPath(site) }
      : { kind: 'write-file', path: renderedRecordPath(site), content: renderedJson(recordedBefore), mode: 0o644 },
  );
  ops.push(
    recordOp(ctx, { action: 'render', outcome: 'rolled-back', message: `${reason}; the previous files are back` }),
  );
  return {
    command: 'render (revert)',
    summary: 'put the previous Apache files back',
    ops,
    commit: 0,
    temps: [],
    notes: [],
    finish: true,
  };
}

function sortKeys(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export const renderedJson = (record: Record<string, string>) =>
  JSON.stringify({ version: 1, files: sortKeys(record) }, null, 2) + '\n';

/** rendered.json's text to its record; null for a missing or unreadable file (render then treats every file as unrecorded). */
export function parseRendered(text: string | null): Record<string, string> | null {
  if (text === null) return null;
  try {
    const files = (JSON.parse(text) as { files?: unknown }).files;
    if (typeof files !== 'object' || files === null) return null;
    return Object.fromEntries(Object.entries(files).filter(([, v]) => typeof v === 'string'));
  } catch {
    return null;
  }
}
