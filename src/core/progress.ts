/**
 * A one-line progress bar on stderr for long work (unpacking): bytes and entries, a bar when the
 * total is known. Redrawn at most every 100 ms (a redraw per entry would cost more than the
 * entry), kept to the terminal's width so that `\r` can redraw it, cleared by done(). Only ever
 * drawn on a terminal: the reporter hands out a no-op in pipes and under --json.
 */
export interface ProgressUpdate {
  bytes: number;
  entries: number;
  totalBytes?: number;
  /**
   * How far through the work, 0..1, when the total of `bytes` is not known in advance (an
   * archive's unpacked size is known only at its end; how much of the archive was read is).
   */
  fraction?: number;
}

export interface Progress {
  update(p: ProgressUpdate): void;
  /** Clears the line (if one was drawn); later updates draw nothing. */
  done(): void;
}

export const NO_PROGRESS: Progress = { update() {}, done() {} };

export interface ProgressOptions {
  /** Where the line goes (stderr). */
  write: (s: string) => void;
  /** The terminal's width; the line is cut to one less. */
  columns?: number;
  now?: () => number;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${UNITS[i]}`;
}

const BAR = 24;
/** Shortest time between two redraws: at most ten a second. */
const REDRAW_MS = 100;

/** The line as drawn (without the carriage return and erase), for a person and for tests. */
export function progressLine(label: string, p: ProgressUpdate): string {
  const entries = `${p.entries.toLocaleString('en-US')} entr${p.entries === 1 ? 'y' : 'ies'}`;
  const total = p.totalBytes !== undefined && p.totalBytes > 0 ? p.totalBytes : undefined;
  const done = total !== undefined ? p.bytes / total : p.fraction;
  const bytes = total !== undefined ? `${formatBytes(p.bytes)} / ${formatBytes(total)}` : formatBytes(p.bytes);
  if (done === undefined) return `${label}  ${bytes}  ${entries}`;
  const frac = Math.min(1, Math.max(0, done));
  const filled = Math.round(frac * BAR);
  return `${label}  [${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${`${Math.floor(frac * 100)}%`.padStart(4)}  ${bytes}  ${entries}`;
}

export function createProgress(label: string, opts: ProgressOptions): Progress {
  const now = opts.now ?? (() => performance.now());
  const width = Math.max(20, (opts.columns ?? 80) - 1);
  // The first line waits one interval too: work shorter than that never flashes a bar.
  let last = now();
  let drawn = false;
  let finished = false;
  return {
    update(p) {
      if (finished) return;
      const t = now();
      if (t - last < REDRAW_MS) return;
      last = t;
      drawn = true;
      opts.write(`\r${progressLine(label, p).slice(0, width)}\x1b[K`);
    },
    done() {
      if (finished) return;
      finished = true;
      if (drawn) opts.write('\r\x1b[K');
    },
  };
}
