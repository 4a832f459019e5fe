import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's root (the directory holding products/ and conf-templates/). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
