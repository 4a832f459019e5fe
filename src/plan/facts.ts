/**
 * The facts the pure planners take, as plain data: the readers (src/state, src/failover) fill
 * them in from the tree, the planners read them. They live here, beside the planners, so that a
 * planner never imports the code that reads the disk, and the readers point down at them.
 */

/** What <switch>/active is on disk: a link (the only right kind), or what stands in its place. */
export type ActiveKind = 'link' | 'directory' | 'file' | 'missing' | 'other';

// The history and the installed tree (src/state/history.ts, src/state/tree.ts read them).

/** One line of the append-only history (<state>/history.jsonl). */
export interface HistoryEntry {
  /** The apply (journal) id; recovery uses it so that a finished entry is never written twice. */
  id: string;
  time: string;
  user: string;
  sudoUser?: string;
  action: string;
  product?: string;
  version?: string;
  from?: string;
  to?: string;
  sha256?: string;
  /** install: where the archive came from (a path, or a URL without its query); `webtree release` writes it. */
  source?: string;
  /** install of a product with a licence (ChartDirector): the licence file given (--license, a release's `license`). */
  license?: string;
  /** rollback without --to: undoes the last activation instead of stacking a new one. */
  undo?: boolean;
  /**
   * ok: done as asked. failed: refused or reversed, the tree as it was (a refused switch, a
   * change undone after a failure, a health check with nothing to go back to). undone:
   * interrupted before its commit, undone by the next command. recovered: interrupted after its
   * commit, finished by the next command. rolled-back: the going back after a failed health
   * check (a product's auto-rollback, switch-web's switch back, render's previous files).
   * README.md ("History") lists the same.
   */
  outcome: 'ok' | 'failed' | 'recovered' | 'undone' | 'rolled-back';
  message?: string;
}

export interface ProductState {
  name: string;
  /** Installed versions, oldest first. */
  versions: string[];
  /** archive sha256 by version, from the manifests. */
  sha256: Record<string, string>;
  /** The version the pointer names, if it names one. */
  current?: string;
  /** The pointer's raw target, when it exists. */
  pointer?: string;
  /** Directories that look like versions but have no manifest. */
  unmanaged: string[];
  /** Versions whose manifest is damaged (neither installed nor unmanaged until it is mended). */
  damaged?: DamageNote[];
  /** Leftover staging or trash directories (absolute). */
  leftovers: string[];
  /** The active version holds the product's licence file (products that need one). */
  licensed?: boolean;
  /** The pointer or web links that are real files or directories where webtree keeps a link. */
  blockedLinks: string[];
  /** Each web link's target as read (by its path), null when it is missing; blocked ones are left out. */
  webLinkTargets?: Record<string, string | null>;
}

export interface TreeState {
  products: Record<string, ProductState>;
  history: HistoryEntry[];
  /**
   * 'pointer': `history` holds only the entries that can move a pointer (status and list read no
   * more: src/state/history.ts), enough for previousVersion and nothing else; unset: every entry.
   */
  historyRead?: 'pointer';
  /** Damaged state files a lenient read went past (the history, its lines); empty for a strict read. */
  damage?: DamageNote[];
}

/** A damaged state file as plain data: which, what is wrong, the fix (and the version, for a manifest). */
export interface DamageNote {
  file: string;
  message: string;
  hint: string;
  version?: string;
}

// What switch-web reads (src/failover/switch-facts.ts).

export interface SwitchFacts {
  /** Target of <switch>/active (a server name), or null. */
  active: string | null;
  /** What <switch>/active is: a real directory there (copied in by hand) is moved aside by the switch. */
  activeKind?: ActiveKind;
  /** Per slot: the consumer's link target, or a word for what is there instead. */
  consumers: Record<string, { link: string | null; kind: 'link' | 'file' | 'directory' | 'missing' | 'other' }>;
  /** Does <switch>/<server> exist? */
  serverDir: boolean;
  /** Per slot: target of <switch>/<server>/<slot>, or null. */
  slots: Record<string, string | null>;
  /** Per slot: 'ok', or why the server's variant cannot be used. */
  variants: Record<string, string>;
  /** Per slot: the other servers whose variant is the same file or the same bytes (switching would change nothing). */
  twins?: Record<string, string[]>;
}

// What adopt reads (src/failover/adopt-facts.ts).

export type PathKind = 'missing' | 'link' | 'file' | 'directory' | 'other';

export interface PathFacts {
  kind: PathKind;
  /** readlink, for a link. */
  link?: string;
  /** Where it finally leads (realpath), null when it leads nowhere. */
  real: string | null;
  /** dev:ino of what it leads to, to tell hard links apart from copies. */
  ino?: string;
  /** Owner (uid:gid) and permission bits of what it leads to: who can read it. */
  owner?: string;
  mode?: number;
}

export interface ConsumerFacts {
  at: PathFacts;
  /** Per server: the variant beside the consumer, and whether its bytes equal the consumer's. */
  variants: Record<string, PathFacts & { sameBytes: boolean }>;
}

export interface ProductFacts {
  pointer: PathFacts;
  /** Per version (installed or not): where the pointer would lead if it named that version. */
  pointerReal: Record<string, string | null>;
  /** Per web link path: what is there, and where webtree's own link would lead. */
  webLinks: Record<string, PathFacts & { expectedReal: string | null }>;
  manifestsDir: boolean;
  /** Per version to adopt (no manifest yet): what in it a manifest cannot record (a symbolic link …). */
  unrecordable?: Record<string, string>;
}

export interface AdoptFacts {
  active: string | null;
  /** Directories of the failover layout that exist: <switch> and <switch>/<server>. */
  dirs: string[];
  /** slots[server][slot]: target of <switch>/<server>/<slot>, or null. */
  slots: Record<string, Record<string, string | null>>;
  consumers: Record<string, ConsumerFacts>;
  products: Record<string, ProductFacts>;
}

// What repair (and switch-web to the server already active) reads (src/failover/repair-facts.ts).

export interface RepairFacts extends AdoptFacts {
  /** What <switch>/active is: a link (to `active`), a real directory, missing … */
  activeKind: ActiveKind;
  /** Per slot: 'ok', or why the active server's variant cannot be used. */
  usable: Record<string, string>;
}
