/**
 * The manifest file in webtree's state: written after an unpack, read by every plan for the
 * archive's sha256. Its writer and its reader stay together here (the reader relies on the
 * writer's key order), and light: status loads this, not the archive code.
 */
import { open } from 'node:fs/promises';
import type { Manifest } from '../archive/manifest.js';

/**
 * A manifest file's text. The archive's sha256 comes before the file list, so that
 * peekArchiveSha256 needs only the head of the file: planning an install does not parse the file
 * lists of every version (DESIGN's product has 8,000 files).
 */
export const manifestText = (product: string, version: string, m: Manifest, installedAt = new Date().toISOString()) =>
  JSON.stringify({ product, version, installedAt, archiveSha256: m.archiveSha256, files: m.files });

/** The archive sha256 a manifest records (or "adopted"), from its head; anything else is parsed whole. */
export async function peekArchiveSha256(file: string): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(1024);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const m = /^\{"product":"[^"\\]*","version":"[^"\\]*","installedAt":"[^"\\]*","archiveSha256":"([^"\\]*)","files":\[/.exec(head.toString('utf8', 0, bytesRead));
    if (m) return m[1];
    return (JSON.parse(await fh.readFile('utf8')) as Manifest).archiveSha256;
  } finally {
    await fh.close();
  }
}

