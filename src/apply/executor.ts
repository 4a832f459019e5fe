/**
 * The one place that changes the tree. It applies a Plan under the caller's lock: journal
 * first, then the operations; before the commit only temporary paths are written, so a failure
 * there is undone by removing them; after it, a failure is compensated by reversing what was
 * done, and an interruption (kill -9, power cut) is finished by `recover` on the next run.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { startWaiting, type RunResult, type WaitingProcess } from '../core/exec.js';
import { extractArchive, scratchFor, type ExtractProgress } from '../archive/extract.js';
import { verifiedUnchanged } from '../archive/verified.js';
import { buildManifest, manifestOfUnpacked, type ManifestFile } from '../archive/manifest.js';
import { manifestPieces } from '../state/manifest-file.js';
import { RENDER_STAGE_PREFIX, STAGING_PREFIX, TRASH_PREFIX } from '../catalog/paths.js';
import { errorText, isErrno, WebtreeError } from '../core/errors.js';
import { interruptedFinished, interruptedNothingChanged, isInterrupted, signalName } from '../core/interrupt.js';
import type { Progress } from '../core/progress.js';
import { explainErrno } from '../core/errno.js';
import { describeOp, type Op, type Plan } from '../plan/ops.js';
import type { Site } from '../site/types.js';
import { appendHistory, readHistoryLines, type HistoryEntry } from '../state/history.js';
import { historyFile } from '../state/tree.js';
import { fsyncDir, makeDirs, removeAside, swapLink, writeFileAtomic } from './fsatomic.js';
import { lstatOrNull, readLinkOrNull } from '../state/fs-read.js';
import { clearJournal, readJournal, writeJournal, type AfterSpec, type Journal } from './journal.js';
import { checkRequires } from './check-version.js';
import { topDirMismatch } from '../catalog/top-dir.js';
import { withReserve } from './reserve.js';
import { preflight } from './preflight.js';
import { chownTree, type Owner } from './owner.js';
import { linkOverFile } from './link-over-file.js';

export interface ExecutorOptions {
  site: Site;
  /** Give what is created to this owner (the service account, when running as root). */
  owner?: Owner;
  /** Told each operation as it starts (for --debug). */
  onOp?: (line: string) => void;
  /** Pause between operations: widens the window the kill tests aim at (WEBTREE_TEST_OP_DELAY_MS). */
  opDelayMs?: number;
  /** Pause after the flush before the commit: the window the signal test aims at (WEBTREE_TEST_FLUSH_DELAY_MS). */
  flushDelayMs?: number;
  /** A progress display for unpacking (a bar on a terminal; nothing otherwise). */
  progress?: (label: string) => Progress;
  /**
   * Aborted (reason: the signal's name) when the operator asks the command to stop: looked at
   * between operations and passed to the unpacker. Before the commit point the apply is undone
   * as for a failure; after it the plan is finished and the apply then throws to say so.
   */
  signal?: AbortSignal;
}

type Undo = () => Promise<void>;

/** Where extract unpacks a whole archive when only one directory of it is installed. */
const rawDir = (dest: string) => `${dest}.raw`;

/** The history entry a plan records, if it records one. */
export const recordOf = (plan: Plan) => plan.ops.find((o): o is Extract<Op, { kind: 'record' }> => o.kind === 'record');

/** tempName()'s shape: .<name>.webtree-<tag>-<pid>-<hex>. */
const TEMP_NAME = /^\..+\.webtree-[a-z]+-\d+-[0-9a-f]{8}$/;

/**
 * A path gone in the middle of an operation: something else (the service account, a hand `mv`)
 * moved or replaced part of the tree meanwhile. A refusal with its cause, not an unexpected error.
 */
function vanished(err: unknown, op: Op | undefined): unknown {
  if (err instanceof WebtreeError || !isErrno(err, 'ENOENT')) return err;
  const p = err.path ?? '';
  return new WebtreeError(
    'EIO',
    `${p || 'a path'} went away (ENOENT) during \`${op ? describeOp(op) : 'the change'}\`: something else moved or replaced part of the tree meanwhile`,
    {
      hint: 'find what changed the tree (webtree verify names what is wrong now), then run the command again',
      cause: err,
    },
  );
}

/**
 * Operations that write nothing (check-version) or make what they write durable themselves
 * (write-manifest: writeFileAtomic fsyncs the file, its owner given first, and its directory).
 */
const DURABLE_ALONE: ReadonlySet<Op['kind']> = new Set(['check-version', 'write-manifest']);

/**
 * Where the flush before the commit can start: after the last operation before the commit that
 * leaves its writes to the flush (the unpack, a file copied into the tree). Past the commit when
 * there is none before it.
 */
export function flushStart(plan: Plan): number {
  let k = plan.commit;
  while (k > 0 && DURABLE_ALONE.has(plan.ops[k - 1].kind)) k--;
  return k;
}

/**
 * The manifests that can be written as soon as their extract's files are (extractArchive's
 * onWritten), by the extracted directory: those whose write-manifest follows the extract with
 * only checks between (nothing rewrites a file of the tree meanwhile), before the commit.
 */
export function earlyManifests(plan: Plan): Map<string, Extract<Op, { kind: 'write-manifest' }>> {
  const out = new Map<string, Extract<Op, { kind: 'write-manifest' }>>();
  plan.ops.forEach((op, i) => {
    if (op.kind !== 'extract' || i >= plan.commit) return;
    let j = i + 1;
    while (j < plan.commit && plan.ops[j].kind === 'check-version') j++;
    const next = plan.ops[j];
    if (j < plan.commit && next.kind === 'write-manifest' && next.dir === op.dest) out.set(op.dest, next);
  });
  return out;
}

/**
 * The files below `under` (a directory and its "/"), their paths made relative to it in place:
 * a copy of each of 100,000 entries was megabytes at the peak. Both the unpack's list and the
 * early manifest's entries (made one at a time for it) are the caller's own.
 */
function* filesUnder(files: Iterable<ManifestFile>, under: string): Generator<ManifestFile> {
  for (const f of files) {
    if (!f.path.startsWith(under)) continue;
    f.path = f.path.slice(under.length);
    yield f;
  }
}

const NOTHING_FLUSHED: RunResult = { exitCode: 0, stdout: '', stderr: '', all: '', message: '' };

export const trashFor = (p: string, id: string) =>
  path.join(path.dirname(p), `${TRASH_PREFIX}${path.basename(p)}-${id}`);

export class Executor {
  /**
   * The files each extract wrote, with the hashes taken as they were written, by directory: the
   * manifest of that directory then needs no second read of the tree. Paths written after the
   * extract (add-file, copy-file) are dropped from it and hashed afresh.
   */
  private readonly unpacked = new Map<
    string,
    { files: ManifestFile[]; rewritten: Set<string>; archiveSha256: string }
  >();

  /** The flush's process while it waits for the paths to flush (apply). */
  private flusher?: WaitingProcess;

  /**
   * The manifest of each extract's tree that is written while the unpack makes its last check
   * (earlyManifests), by the tree's directory; the write-manifest operation then has nothing to do.
   */
  private readonly manifestFirst = new Map<string, Extract<Op, { kind: 'write-manifest' }>>();
  private readonly manifestWritten = new Set<string>();

  /** The flush under way, started ahead of the commit (startFlush), with the file systems it flushes. */
  private flushing?: Promise<{ r: RunResult; devices: Set<number>; paths: string[] }>;

  constructor(private readonly opts: ExecutorOptions) {}

  private get state() {
    return this.opts.site.paths.state;
  }

  /**
   * With `after`, the journal outlives the operations (phase 'after') until the caller has run
   * that check and calls clearJournal: a process killed during it leaves the next command the
   * job of running it again.
   */
  async apply(plan: Plan, id: string, after?: AfterSpec): Promise<void> {
    if (plan.ops.length === 0) return;
    await preflight(plan, this.opts.site);
    const journal: Journal = {
      id,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      plan,
      ...(after ? { after, phase: 'ops' } : {}),
    };
    await writeJournal(this.state, journal);
    const undos: Undo[] = [];
    // A plan that goes back after a failed check is always finished: stopping it would leave the failure live.
    const signal = plan.finish ? undefined : this.opts.signal;
    let i = 0;
    const flushFrom = flushStart(plan);
    this.manifestFirst.clear();
    this.manifestWritten.clear();
    for (const [dir, op] of earlyManifests(plan)) this.manifestFirst.set(dir, op);
    try {
      for (; i < plan.ops.length; i++) {
        if (this.opts.opDelayMs) await new Promise((r) => setTimeout(r, this.opts.opDelayMs));
        // Up to and including the commit operation's turn nothing is live: stop here, put back below.
        if (signal?.aborted && i <= plan.commit)
          throw interruptedNothingChanged(signal, `before ${describeOp(plan.ops[i])}`);
        // The flush runs while the last steps before the commit do (the check, the manifest):
        // they write nothing or make what they write durable themselves.
        if (i === flushFrom && i < plan.commit) {
          this.flushing = this.startFlush(plan);
          // Its failure is reported at the commit (syncTemps), not as an unhandled rejection meanwhile.
          this.flushing.catch(() => undefined);
        }
        if (i === plan.commit && plan.commit > 0) {
          await this.syncTemps(plan);
          // The flush can take seconds: a signal that came during it still finds nothing live.
          if (signal?.aborted) throw interruptedNothingChanged(signal, `before ${describeOp(plan.ops[i])}`);
        }
        // The flush's process, started while the unpack's threads start up (this thread has
        // nothing else to do then), not after it, when forking a process that has grown by the
        // tree's records costs tens of milliseconds more. xargs runs `sync -f` on the paths
        // syncTemps gives it, and nothing if it is given none (-r).
        if (plan.ops[i].kind === 'extract' && i < plan.commit)
          this.flusher ??= startWaiting('xargs', ['-0', '-r', 'sync', '-f', '--']);
        const undo = await this.run(plan.ops[i], id);
        if (i >= plan.commit && undo) undos.push(undo);
        // The journal must hold what recovery may need to re-run: the sha256 the unpack found.
        if (this.fillArchiveSha256(plan, i)) await writeJournal(this.state, journal);
      }
    } catch (caught) {
      // Stopped before the commit (by the check above, or the unpacker giving up on the signal).
      const interrupted = signal?.aborted === true && i <= plan.commit;
      // Explained once (a full disk, a denied write: the file system, the account, the fix), for
      // the history and for the operator alike.
      const err =
        interrupted && !isInterrupted(caught)
          ? interruptedNothingChanged(signal, `during ${describeOp(plan.ops[i])}`)
          : vanished(await explainErrno(caught).catch(() => caught), plan.ops[i]);
      // Reverse what already went live, newest first, so the tree is as it was; then drop the temps
      // (a reversed rename puts the version back under its staging name).
      const stuck: string[] = [];
      for (const undo of undos.reverse()) await undo().catch((e: Error) => stuck.push(e.message));
      await this.removeTemps(plan);
      if (interrupted) await this.recordInterrupted(plan, id, signal);
      // 'failed', never 'rolled-back': a compensated change never served, so rollback must not return to it.
      else await this.recordFailure(plan, id, err, stuck.length ? `; could not undo: ${stuck.join('; ')}` : '');
      await clearJournal(this.state);
      if (stuck.length) {
        const e = err instanceof WebtreeError ? err : new WebtreeError('EIO', errorText(err), { cause: err });
        throw new WebtreeError(e.code, e.message, {
          hint: 'webtree verify names what is left to mend',
          details: [e.details, `could not put back: ${stuck.join('; ')}`].filter(Boolean).join('\n'),
          exitCode: e.exitCode,
          cause: err,
        });
      }
      throw err;
    } finally {
      // Not needed after all (a failure before the flush): it ends without running sync.
      await this.flusher?.finish('');
      this.flusher = undefined;
      // A flush started ahead of a commit that failed is waited for: no process is left behind.
      await this.flushing?.catch(() => undefined);
      this.flushing = undefined;
    }
    // The change is live from here on: nothing below may report it as not made. A journal that
    // cannot be rewritten (a full disk) still says phase 'ops' with every operation done, which
    // recovery finishes (each again is a no-op) and then checks: the same as phase 'after'.
    if (after) await writeJournal(this.state, { ...journal, phase: 'after' }).catch(() => undefined);
    else await clearJournal(this.state);
    // Stopped once the change was live: it is finished; the check that follows is left to the next command.
    if (signal?.aborted) throw interruptedFinished(signal, plan.summary, after !== undefined);
  }

  /**
   * After an extract planned without the archive's sha256: put the one the unpack found into the
   * plan's later operations that record it (the manifest, the history entry). True if any changed.
   */
  private fillArchiveSha256(plan: Plan, i: number): boolean {
    const op = plan.ops[i];
    if (op.kind !== 'extract' || op.sha256 !== undefined) return false;
    const sha = this.unpacked.get(op.dest)?.archiveSha256;
    if (sha === undefined) return false;
    let changed = false;
    for (const later of plan.ops.slice(i + 1)) {
      if (later.kind === 'write-manifest' && later.dir === op.dest && later.archiveSha256 === undefined) {
        later.archiveSha256 = sha;
        changed = true;
      }
      if (later.kind === 'record' && later.entry.action === 'install' && later.entry.sha256 === undefined) {
        later.entry.sha256 = sha;
        changed = true;
      }
    }
    return changed;
  }

  /**
   * Set a file's times to now, through links. Touching an app's WSGI script is how mod_wsgi is
   * told to restart that app's daemon alone; it changes no content, so it needs no journal.
   */
  async touch(p: string): Promise<void> {
    this.opts.onOp?.(`touch ${p}`);
    const now = new Date();
    await fs.utimes(p, now, now);
  }

  async clearJournal(): Promise<void> {
    await clearJournal(this.state);
  }

  /**
   * Finish or undo an apply that was interrupted. Returns what was done, or undefined if nothing
   * was pending. When the finished plan has an `after` check still to run, the journal stays and
   * `resume` names the check: the caller runs it, then calls clearJournal.
   */
  async recover(): Promise<{ journal: Journal; finished: boolean; resume?: AfterSpec } | undefined> {
    const journal = await readJournal(this.state);
    if (!journal) {
      await this.sweepLeftovers([]);
      return undefined;
    }
    const { plan, id } = journal;
    if (journal.phase === 'after' && journal.after) return { journal, finished: true, resume: journal.after };
    // A plan marked `finish` (going back after a failed check) is always completed: every one of
    // its operations can run again, and undoing it would leave the failed change live.
    const committed =
      plan.finish === true || (plan.commit < plan.ops.length && (await this.isDone(plan.ops[plan.commit])));
    if (committed) {
      for (const op of plan.ops.slice(plan.finish ? 0 : plan.commit)) await this.run(op, id, true);
      if (journal.after) {
        await this.sweepLeftovers(plan.temps);
        await writeJournal(this.state, { ...journal, phase: 'after' });
        return { journal, finished: true, resume: journal.after };
      }
    } else {
      await this.removeTemps(plan);
      const record = recordOf(plan);
      if (record)
        await this.appendOnce({
          ...record.entry,
          outcome: 'undone',
          message: 'interrupted before it took effect; undone by the next command',
        });
    }
    await this.sweepLeftovers(plan.temps);
    await clearJournal(this.state);
    return { journal, finished: committed };
  }

  private async isDone(op: Op): Promise<boolean> {
    switch (op.kind) {
      case 'rename':
        return (await lstatOrNull(op.from)) === null && (await lstatOrNull(op.to)) !== null;
      case 'swap-link':
      case 'link-over-file':
        return (await readLinkOrNull(op.path)) === op.target;
      case 'remove':
        return (await lstatOrNull(op.path)) === null;
      case 'make-dir':
        return (await lstatOrNull(op.path))?.isDirectory() === true;
      case 'write-file':
        return (await fs.readFile(op.path).catch(() => null))?.equals(Buffer.from(op.content)) === true;
      default:
        return false;
    }
  }

  /** One temporary per file system the plan's temporaries are on now: syncfs flushes a whole file system. */
  private async tempDevices(plan: Plan): Promise<Map<number, string>> {
    const byDevice = new Map<number, string>();
    const sts = await Promise.all(plan.temps.map(lstatOrNull));
    plan.temps.forEach((t, i) => {
      const st = sts[i];
      if (st && !byDevice.has(st.dev)) byDevice.set(st.dev, t);
    });
    return byDevice;
  }

  /**
   * Flush the file systems of the temporaries there are now (`sync -f`): through the waiting
   * flusher, taken at once (apply's end finishes only one still waiting), or a new one.
   */
  private startFlush(plan: Plan): Promise<{ r: RunResult; devices: Set<number>; paths: string[] }> {
    const waiting = this.flusher;
    this.flusher = undefined;
    return (async () => {
      let byDevice: Map<number, string>;
      try {
        byDevice = await this.tempDevices(plan);
      } catch (err) {
        // The waiting flusher is this one's now: ended here, or its xargs waits on its input
        // for ever and keeps the command from exiting (apply's end no longer sees it).
        await waiting?.finish('');
        throw err;
      }
      const paths = [...byDevice.values()];
      if (paths.length) this.opts.onOp?.(`flush ${paths.join(', ')} (sync -f)`);
      // xargs runs nothing when given no path (-r).
      const flusher = waiting ?? (paths.length ? startWaiting('xargs', ['-0', '-r', 'sync', '-f', '--']) : undefined);
      const r = (await flusher?.finish(paths.join('\0'))) ?? NOTHING_FLUSHED;
      return { r, devices: new Set(byDevice.keys()), paths };
    })();
  }

  /**
   * Make what the pre-commit steps wrote durable before the rename makes it live: the flush
   * started ahead (apply), then a flush of any file system a temporary is on that it did not
   * cover (a manifest written since on another file system than the tree).
   */
  private async syncTemps(plan: Plan): Promise<void> {
    const early = this.flushing;
    this.flushing = undefined;
    const done = early ? [await early] : [];
    const left = [...(await this.tempDevices(plan))].filter(([dev]) => !done.some((d) => d.devices.has(dev)));
    if (left.length) done.push(await this.startFlush({ ...plan, temps: left.map(([, t]) => t) }));
    if (this.opts.flushDelayMs) await new Promise((res) => setTimeout(res, this.opts.flushDelayMs));
    for (const { r, paths } of done) {
      if (r.exitCode === 0) continue;
      throw new WebtreeError(
        'EIO',
        `could not flush ${paths.join(', ')} to disk before making it live: ${r.stderr.trim() || `sync exited ${r.exitCode}`}`,
        {
          hint: 'nothing was changed; check the disk (dmesg) and run the command again',
        },
      );
    }
  }

  /** The plan's temporaries and the executor's own scratch beside each (extract's `.raw`). */
  private async removeTemps(plan: Plan): Promise<void> {
    for (const t of plan.temps) {
      for (const p of [t, rawDir(t), scratchFor(t), scratchFor(rawDir(t))])
        // A removal that fails (the tree moved under it, a full disk) must not take the place
        // of the error being reported: what is left has a temporary's name, which the next
        // command sweeps (sweepLeftovers).
        await fs.rm(p, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /**
   * Staging and trash directories, and the temporary links and files of an atomic swap or write
   * cut short between its two steps: nothing live can own them while we hold the lock.
   */
  private async sweepLeftovers(known: string[]): Promise<void> {
    const { paths } = this.opts.site;
    const www = ['conf', 'conf.d', 'bin', 'init.d'].map((d) => path.join(paths.www, d));
    const dirs = new Set([
      ...known.map((t) => path.dirname(t)),
      ...www,
      paths.www,
      path.join(paths.state, 'variants'),
      paths.products,
      paths.webpylib,
      paths.html,
      path.join(paths.html, 'cfg'),
      paths.switch,
      paths.state,
      this.opts.site.ecl.dir,
    ]);
    // Every listing at once (the start of every change: some thirty directories, each a round trip
    // of libuv's pool when listed one after another); the removals, seldom any, one at a time.
    const tops = [paths.products, paths.switch, paths.html, path.join(paths.state, 'variants')];
    const subdirs = await Promise.all(tops.map((top) => fs.readdir(top, { withFileTypes: true }).catch(() => [])));
    tops.forEach((top, i) => {
      for (const e of subdirs[i]) if (e.isDirectory()) dirs.add(path.join(top, e.name));
    });
    const all = [...dirs];
    const listed = await Promise.all(all.map((dir) => fs.readdir(dir).catch(() => [] as string[])));
    for (const [i, dir] of all.entries()) {
      for (const name of listed[i]) {
        const reserveTemp = dir === paths.state && /^reserve\.\d+\.tmp$/.test(name); // a reserve cut short
        if (
          name.startsWith(STAGING_PREFIX) ||
          name.startsWith(TRASH_PREFIX) ||
          name.startsWith(RENDER_STAGE_PREFIX) ||
          TEMP_NAME.test(name) ||
          reserveTemp
        )
          await fs.rm(path.join(dir, name), { recursive: true, force: true });
      }
    }
  }

  /**
   * An extract's manifest, from the files as the unpack gives them (sorted, under the unpacked
   * root; `content`: only that directory of it is installed), written while the unpack makes its
   * last check. The same file as write-manifest writes after it.
   */
  private async writeManifest(
    op: Extract<Op, { kind: 'write-manifest' }>,
    w: { archiveSha256: string; files: Iterable<ManifestFile> },
    content?: string,
  ): Promise<void> {
    this.opts.onOp?.(`${describeOp(op)} (while the unpacked tree is checked)`);
    const under = content === undefined ? undefined : `${content}/`;
    // Sorted still: every path kept has the same prefix, which is taken off.
    const files = under === undefined ? w.files : filesUnder(w.files, under);
    const m = { archiveSha256: op.archiveSha256 ?? w.archiveSha256, files };
    await writeFileAtomic(op.to, manifestPieces(op.product, op.version, m), 0o644, this.opts.owner);
    await this.own(op.to);
    this.manifestWritten.add(op.to);
  }

  /** A file rewritten after its extract: its hash from the unpacking no longer holds. */
  private forget(p: string): void {
    for (const [dir, u] of this.unpacked) {
      if (!p.startsWith(dir + path.sep)) continue;
      const rel = path.relative(dir, p).split(path.sep).join('/');
      u.rewritten.add(rel);
    }
  }

  private async own(p: string, recursive = false): Promise<void> {
    const o = this.opts.owner;
    if (!o) return;
    if (recursive) await chownTree(p, o);
    else await fs.lchown(p, o.uid, o.gid);
  }

  private async appendOnce(entry: HistoryEntry): Promise<void> {
    const file = historyFile(this.opts.site);
    const seen = (await readHistoryLines(file)).entries.some((e) => e.id === entry.id && e.action === entry.action);
    if (seen) return;
    const existed = (await lstatOrNull(file)) !== null;
    await withReserve(this.state, () => appendHistory(file, entry));
    if (!existed) await this.own(file);
  }

  /** A change stopped by a signal before its plan was made: one 'undone' entry says so. */
  async noteInterrupted(entry: HistoryEntry): Promise<void> {
    const message = `interrupted by ${this.opts.signal ? signalName(this.opts.signal) : 'a signal'} before it took effect; nothing was changed`;
    await this.appendOnce({ ...entry, outcome: 'undone', message }).catch(() => undefined);
  }

  private async recordInterrupted(plan: Plan, id: string, signal: AbortSignal): Promise<void> {
    const record = recordOf(plan);
    if (!record) return;
    const message = `interrupted by ${signalName(signal)} before it took effect; nothing was changed`;
    await this.appendOnce({ ...record.entry, id, outcome: 'undone', message }).catch(() => undefined);
  }

  private async recordFailure(plan: Plan, id: string, err: unknown, extra: string): Promise<void> {
    const record = recordOf(plan);
    if (!record) return;
    const message = (err instanceof Error ? err.message : String(err)) + extra;
    await this.appendOnce({ ...record.entry, id, outcome: 'failed', message }).catch(() => undefined);
  }

  /** Run one operation; return how to reverse it once it is live. `again` is set when recovery re-runs it. */
  private async run(op: Op, id: string, again = false): Promise<Undo | undefined> {
    // Written already, while its unpack made its last check (writeManifest said so then).
    if (op.kind === 'write-manifest' && this.manifestWritten.has(op.to)) return undefined;
    this.opts.onOp?.(describeOp(op));
    switch (op.kind) {
      case 'make-dir': {
        const first = await makeDirs(op.path, op.mode ?? 0o755);
        if (first) await this.own(first, true);
        // A closed directory is closed whoever made it and whatever the umask.
        if (op.mode !== undefined) await fs.chmod(op.path, op.mode);
        return undefined;
      }
      case 'extract': {
        const raw = op.content ? rawDir(op.dest) : op.dest;
        await fs.mkdir(raw, { mode: 0o755 });
        await this.own(raw);
        const bar = this.opts.progress?.(`unpacking ${path.basename(op.archive)}`);
        const early = this.manifestFirst.get(op.dest);
        let result;
        try {
          result = await extractArchive(op.archive, raw, {
            limits: this.opts.site.limits,
            layout: op.layout,
            owner: this.opts.owner,
            expectSha256: op.sha256,
            // An archive this process just fetched and checked, unchanged since: not hashed again.
            knownSha256: op.sha256 !== undefined && verifiedUnchanged(op.archive, op.sha256),
            signal: this.opts.signal,
            ...(early ? { onWritten: (w) => this.writeManifest(early, w, op.content) } : {}),
            onProgress:
              bar &&
              ((p: ExtractProgress) =>
                bar.update({ bytes: p.bytes, entries: p.entries, fraction: p.archiveRead / p.archiveBytes })),
          });
        } finally {
          bar?.done();
        }
        const named =
          op.expectTop && result.strippedTop !== undefined
            ? topDirMismatch(result.strippedTop, op.expectTop)
            : undefined;
        if (named) {
          const want = `${op.expectTop!.product} ${op.expectTop!.version}`;
          throw new WebtreeError(
            'EBADARCHIVE',
            `${path.basename(op.archive)} holds ${result.strippedTop}/, which names ${named}, not ${want}; nothing was changed`,
            {
              hint: `install the archive under the name of what it holds (it may be a copy renamed by hand), or, if ${want} is right, run the install again with --force`,
            },
          );
        }
        let files = result.files;
        if (op.content) {
          const st = await lstatOrNull(path.join(raw, op.content));
          if (!st?.isDirectory()) {
            throw new WebtreeError(
              'EBADARCHIVE',
              `${path.basename(op.archive)} has no ${op.content}/ directory, which this product installs`,
              { hint: 'is it the right archive for this product?' },
            );
          }
          await fs.rename(path.join(raw, op.content), op.dest);
          await fs.rm(raw, { recursive: true, force: true });
          files = [...filesUnder(files, `${op.content}/`)];
        }
        await fs.chmod(op.dest, 0o755);
        // Everything below was created with its owner already; only dest itself is ours.
        await this.own(op.dest);
        this.unpacked.set(op.dest, {
          files,
          rewritten: new Set(),
          archiveSha256: result.archiveSha256,
        });
        return undefined;
      }
      case 'check-version':
        await checkRequires(op.dir, op.product, op.requires);
        return undefined;
      case 'add-file':
        this.forget(op.path);
        await writeFileAtomic(op.path, op.content, 0o644);
        await this.own(op.path);
        return undefined;
      case 'copy-file':
        this.forget(op.to);
        try {
          await fs.copyFile(op.from, op.to);
        } catch (err) {
          if (isErrno(err, 'ENOENT'))
            throw new WebtreeError('EIO', `cannot copy ${op.from}: it does not exist`, {
              hint: 'give an existing file',
            });
          throw err;
        }
        await fs.chmod(op.to, 0o644);
        await this.own(op.to);
        return undefined;
      case 'copy-exact': {
        if (op.keepExisting && (await lstatOrNull(op.to))) return undefined;
        this.forget(op.to);
        await writeFileAtomic(op.to, await fs.readFile(op.from), op.mode, op.owner);
        if (!op.owner) await this.own(op.to);
        return undefined;
      }
      case 'write-manifest': {
        const u = this.unpacked.get(op.dir);
        const sha = op.archiveSha256 ?? u?.archiveSha256;
        if (sha === undefined)
          throw new WebtreeError(
            'EIO',
            `no archive sha256 for the manifest of ${op.product} ${op.version}: nothing was unpacked into ${op.dir}`,
            { hint: 'this is a fault in webtree; report it' },
          );
        const m = u ? await manifestOfUnpacked(op.dir, sha, u.files, u.rewritten) : await buildManifest(op.dir, sha);
        // Its owner given before its fsync: the flush before the commit may have begun already.
        await writeFileAtomic(op.to, manifestPieces(op.product, op.version, m), 0o644, this.opts.owner);
        await this.own(op.to);
        return undefined;
      }
      case 'rename': {
        if (again && (await this.isDone(op))) return undefined;
        await fs.rename(op.from, op.to);
        await fsyncDir(path.dirname(op.to));
        return async () => {
          await fs.rename(op.to, op.from);
          await fsyncDir(path.dirname(op.to));
        };
      }
      case 'swap-link': {
        const { previous } = await swapLink(op.path, op.target);
        await this.own(op.path);
        if (previous === op.target) return undefined;
        return async () => {
          if (previous === null) await fs.rm(op.path, { force: true });
          else {
            await swapLink(op.path, previous);
            await this.own(op.path);
          }
        };
      }
      case 'link-over-file': {
        const undo = await linkOverFile(op);
        await this.own(op.path);
        return undo;
      }
      case 'remove':
        await removeAside(op.path, trashFor(op.path, id));
        return undefined;
      case 'write-file': {
        const before = await fs.readFile(op.path).catch(() => null);
        await writeFileAtomic(op.path, op.content, op.mode);
        await this.own(op.path);
        return async () => {
          if (before === null) await fs.rm(op.path, { force: true });
          else {
            await writeFileAtomic(op.path, before, op.mode);
            await this.own(op.path);
          }
        };
      }
      case 'record':
        await this.appendOnce({
          ...op.entry,
          ...(again ? { outcome: 'recovered', message: 'finished by the next command after an interruption' } : {}),
        });
        return undefined;
    }
  }
}
