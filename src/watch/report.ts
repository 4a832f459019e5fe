/**
 * What one `webtree check` saw, as plain data: the findings and every fact the metrics and the
 * status page show. Written to <state>/watch.json so that the next check can tell a change of
 * state (mail only on transitions) and a changing command can refresh the page without probing.
 */
export interface WatchFinding {
  /** Stable, for scripts and for telling a new finding from an old one. */
  code: string;
  /** What it is about: a product, an app, a server, a directory. */
  thing: string;
  problem: string;
  /** The command (or the step) that fixes it. */
  fix: string;
}

export interface AppProbe {
  app: string;
  url: string;
  up: boolean;
  status: number | null;
  seconds: number;
  error?: string;
}

export interface ServerState {
  name: string;
  host: string;
  port: number;
  up: boolean;
  primary: boolean | null;
  error?: string;
}

export interface ProductState {
  name: string;
  current: string | null;
  previous: string | null;
  versions: string[];
  /** When current became current (the history's last activation of it), ISO time. */
  activatedAt: string | null;
}

export interface DiskState {
  path: string;
  what: string;
  freeBytes: number;
  totalBytes: number;
}

export interface ChangeEntry {
  time: string;
  action: string;
  product?: string;
  from?: string;
  to?: string;
  outcome: string;
  user: string;
  message?: string;
}

export interface CheckReport {
  ok: boolean;
  /** ISO time of the check (or of the change that refreshed the tree's part). */
  checkedAt: string;
  /** The probes' own time, seconds (the check's cost beyond them is the bench's figure). */
  probeSeconds: number;
  host: string;
  site: string;
  findings: WatchFinding[];
  apache: { up: boolean; pid: number | null };
  apps: AppProbe[];
  active: string | null;
  servers: ServerState[];
  products: ProductState[];
  disks: DiskState[];
  /** The last 20 changes, newest first. */
  recent: ChangeEntry[];
  /** Changes of the last 30 days (time, action, outcome) for the timeline. */
  timeline: ChangeEntry[];
  lastChange: string | null;
}

/** A finding's identity: a new one (not its wording changing) is what triggers a mail. */
export const findingKey = (f: WatchFinding) => `${f.code}:${f.thing}`;
