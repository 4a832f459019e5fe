/**
 * Excerpts of Apache's error log that follow rotatelogs: the log's stable name is a hard link to
 * the file being written, so a mark is that file's inode and size. When the link has moved on
 * since the mark, the rest of the marked file (found by its inode among the rotated ones) comes
 * first, then the new file from its start.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Site } from '../site/types.js';
import { apacheLayout } from '../plan/apache-layout.js';

export interface LogMark {
  ino: number;
  size: number;
}

/** Where the error log ends now, so that a report shows only what this change caused. */
export async function errorLogOffset(site: Site): Promise<LogMark> {
  const st = await fs.stat(apacheLayout(site).errorLog).catch(() => undefined);
  return { ino: st?.ino ?? 0, size: st?.size ?? 0 };
}

/** The last `maxLines` lines the error log gained since `mark`, across a rotation. */
export async function errorLogSince(site: Site, mark: LogMark, maxLines = 20): Promise<string> {
  const L = apacheLayout(site);
  const st = await fs.stat(L.errorLog).catch(() => undefined);
  if (!st) return '';
  let text: string;
  if (st.ino === mark.ino) {
    text = await readFrom(L.errorLog, st.size >= mark.size ? mark.size : 0);
  } else {
    const old = mark.ino ? await findByInode(L.logDir, mark.ino) : undefined;
    text = (old ? await readFrom(old, mark.size) : '') + (await readFrom(L.errorLog, 0));
  }
  return text.trimEnd().split('\n').slice(-maxLines).join('\n');
}

/**
 * What the error log gained since `mark`, headed by its path ("(nothing new)" when nothing).
 * Apache's children write the log through rotatelogs' pipe, so the lines of a request that just
 * failed can reach the file a moment after its answer: wait until the log has stopped growing
 * for 300 ms (2 s at most) before reading. Only failure reports read it, so the wait costs nothing
 * when all is well.
 */
export async function errorLogTail(site: Site, mark: LogMark, lines = 20): Promise<string> {
  await settled(apacheLayout(site).errorLog);
  return `end of ${apacheLayout(site).errorLog}:\n${(await errorLogSince(site, mark, lines)) || '(nothing new)'}`;
}

async function readFrom(file: string, offset: number): Promise<string> {
  const buf = await fs.readFile(file).catch(() => Buffer.alloc(0));
  return (buf.length >= offset ? buf.subarray(offset) : buf).toString('utf8');
}

async function findByInode(dir: string, ino: number): Promise<string | undefined> {
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    const p = path.join(dir, name);
    if ((await fs.stat(p).catch(() => undefined))?.ino === ino) return p;
  }
  return undefined;
}

async function settled(file: string, quietMs = 300, maxMs = 2000): Promise<void> {
  const size = async () => (await fs.stat(file).catch(() => undefined))?.size ?? -1;
  const deadline = Date.now() + maxMs;
  let last = await size();
  let since = Date.now();
  while (Date.now() < deadline && Date.now() - since < quietMs) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await size();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}
