/**
 * The files a writer of the unpacking has written, with their sha256, kept compactly until the
 * unpack is over: a name per file and 32 bytes of digest in one buffer, instead of an object and
 * a 64-character hex string each. At 100,000 files the objects were 25 MB on the main thread
 * while the reader still held the listing (docs/benchmarks.md, issue 15); they are made only once
 * the reader has ended (filesOf).
 */
import type { ManifestFile } from './manifest.js';

const DIGEST = 32;

/** What a writer thread sends back at the end (the digests' buffer is transferred, not copied). */
export interface WrittenList {
  paths: string[];
  sizes: number[];
  modes: number[];
  /** DIGEST bytes per file, in the order of paths. */
  digests: ArrayBuffer;
}

export class WrittenFiles {
  private readonly paths: string[] = [];
  private readonly sizes: number[] = [];
  private readonly modes: number[] = [];
  private digests = Buffer.allocUnsafeSlow(DIGEST * 1024);

  add(path: string, size: number, mode: number, digest: Buffer): void {
    const at = this.paths.length * DIGEST;
    if (at + DIGEST > this.digests.length) {
      const more = Buffer.allocUnsafeSlow(this.digests.length * 2);
      this.digests.copy(more);
      this.digests = more;
    }
    digest.copy(this.digests, at);
    this.paths.push(path);
    this.sizes.push(size);
    this.modes.push(mode);
  }

  list(): WrittenList {
    const used = this.digests.subarray(0, this.paths.length * DIGEST);
    // A buffer of its own, exactly the digests: it may be transferred to another thread.
    const digests = new ArrayBuffer(used.length);
    used.copy(Buffer.from(digests));
    return { paths: this.paths, sizes: this.sizes, modes: this.modes, digests };
  }
}

/** The manifest entries of every writer's files, each path renamed by rename (the top directory stripped). */
export function filesOf(lists: WrittenList[], rename: (path: string) => string): ManifestFile[] {
  const out: ManifestFile[] = [];
  for (const l of lists) {
    const digests = Buffer.from(l.digests);
    for (let i = 0; i < l.paths.length; i++) {
      out.push({
        path: rename(l.paths[i]),
        size: l.sizes[i],
        sha256: digests.toString('hex', i * DIGEST, (i + 1) * DIGEST),
        mode: l.modes[i],
      });
    }
    // Let each list go as soon as it is turned into entries.
    l.paths.length = 0;
  }
  return out;
}

/**
 * The same entries as filesOf, sorted by path (plain code-unit order, as a manifest lists them),
 * each made as it is taken and kept by no one here: a manifest written from them as they come
 * never holds an object per file (100,000 at 1 GiB), nor a copy of a path. Sorted by the paths as
 * written: `rename` may only take off a prefix every path has (the archive's top directory),
 * which keeps their order. The lists are left as they are.
 */
export function* sortedFiles(lists: WrittenList[], rename: (path: string) => string): Generator<ManifestFile> {
  const paths = lists.length === 1 ? lists[0].paths : lists.flatMap((l) => l.paths);
  const order = new Uint32Array(paths.length);
  for (let k = 0; k < order.length; k++) order[k] = k;
  order.sort((a, b) => (paths[a] < paths[b] ? -1 : paths[a] > paths[b] ? 1 : 0));
  // Where each list's files begin in `paths`.
  const starts: number[] = [];
  let n = 0;
  for (const l of lists) {
    starts.push(n);
    n += l.paths.length;
  }
  const digests = lists.map((l) => Buffer.from(l.digests));
  for (const k of order) {
    let w = lists.length - 1;
    while (starts[w] > k) w--;
    const l = lists[w];
    const i = k - starts[w];
    yield {
      path: rename(paths[k]),
      size: l.sizes[i],
      sha256: digests[w].toString('hex', i * DIGEST, (i + 1) * DIGEST),
      mode: l.modes[i],
    };
  }
}
