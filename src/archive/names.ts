/**
 * Archive entry names and modes: how they are quoted in messages, which are refused, and how
 * modes are made safe. Shared by the listing pass, the extraction pass and the tree check so
 * that all three agree on every path.
 */
import { WebtreeError } from '../core/errors.js';

export const HINT_REBUILD =
  'Nothing was installed. Rebuild the archive from plain files and directories only (e.g. tar -czf NAME.tar.gz DIR/) and install it again.';
export const HINT_DAMAGED =
  'Nothing was installed. The file is damaged or incomplete: copy it again, compare its sha256 with the source, and retry.';
export const HINT_LAYOUT =
  'Nothing was installed. Repack it so that everything lies under one top-level directory (e.g. tar -czf NAME-VERSION.tar.gz NAME-VERSION/).';

/** Linux refuses longer components with ENAMETOOLONG; say so before touching the disk. */
const MAX_COMPONENT_BYTES = 255;

// C0/C1 controls and the characters that reorder or hide text on a terminal: an entry name is
// printed to an operator, so it must not be able to rewrite what they read.

const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A name quoted for a one-line message: control characters escaped, very long names shortened. */
export function q(name: string): string {
  let s = name
    .replace(/["\\]/g, (c) => '\\' + c)
    .replace(UNPRINTABLE, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  if (s.length > 160) s = `${s.slice(0, 80)}…${s.slice(-50)} (${name.length} characters)`;
  return `"${s}"`;
}

export function refuseEntry(path: string, reason: string, hint = HINT_REBUILD): WebtreeError {
  return new WebtreeError('EBADARCHIVE', `archive entry ${q(path)} ${reason}`, { hint });
}

export function refuseArchive(archive: string, reason: string, hint = HINT_REBUILD): WebtreeError {
  return new WebtreeError('EBADARCHIVE', `archive ${archive} ${reason}`, { hint });
}

/**
 * The path components an entry name stands for, with leading "./" and trailing "/" removed
 * (tar -C dir . writes both); an empty array is the extraction directory itself. Everything a
 * file system or a later reader could interpret differently from a plain relative path is refused.
 */
export function nameParts(raw: string): string[] {
  if (CONTROL.test(raw)) throw refuseEntry(raw, 'has a control character in its name');
  // node-tar decodes names as UTF-8 and writes the decoded text, so a lossy decode would put a
  // different name on disk than the one in the archive (and make distinct names collide).
  if (raw.includes('\ufffd')) throw refuseEntry(raw, 'has a name that is not valid UTF-8');
  if (raw.startsWith('/')) throw refuseEntry(raw, 'is an absolute path');
  if (raw.includes('\\')) throw refuseEntry(raw, 'has a backslash in its name (a path separator elsewhere)');
  const parts = raw.split('/');
  if (parts.includes('..')) throw refuseEntry(raw, 'climbs out of the tree (..)');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  while (parts.length > 0 && parts[0] === '.') parts.shift();
  for (const part of parts) {
    if (part === '') throw refuseEntry(raw, 'has an empty path component (//)');
    if (part === '.') throw refuseEntry(raw, 'has a "." path component after the start');
    if (Buffer.byteLength(part) > MAX_COMPONENT_BYTES) {
      throw refuseEntry(raw, `has a path component longer than ${MAX_COMPONENT_BYTES} bytes`);
    }
  }
  return parts;
}

/**
 * Two names that one file system keeps apart can be the same file on another (macOS, a CIFS
 * share) or to a tool that normalises: compare them NFC-normalised and case-folded. Upper then
 * lower case folds ß/SS, ſ/s and the Kelvin sign the way full case folding does.
 */
export function foldKey(path: string): string {
  return path.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

/** How two names with the same fold key differ, for the message. */
export function collisionReason(a: string, b: string): string {
  return a.normalize('NFC') === b.normalize('NFC')
    ? `collides with ${q(b)} after Unicode normalisation (NFC)`
    : `collides with ${q(b)} when case is ignored`;
}

/**
 * Modes as unpacked: no setuid/setgid/sticky bit and nothing group- or world-writable (refusing
 * would reject ordinary tarballs made with a umask of 002); the owner can always read, write and
 * (directories) enter, so that webtree can later hash and delete what it unpacked.
 */
export function safeMode(mode: number | undefined, type: 'file' | 'dir'): number {
  if (type === 'dir') return ((mode ?? 0o755) & 0o755) | 0o700;
  return ((mode ?? 0o644) & 0o755) | 0o600;
}
