/**
 * Load a CommonJS file with the V8 code cache the build made for it (scripts/code-cache.mjs):
 * compiling dist/bundle/read.cjs's 400 kB cost every status, list and history some 18 ms of
 * CPU, and Node 20 caches no compiled code of its own. The file is compiled the way Node's
 * require compiles it (its module wrapper, its file name, imports through the main loader) but
 * from the cache; V8 checks the cache against the source, its own version and its flags, and
 * compiles from the source whenever it refuses it (another Node, other V8 flags, a source of
 * another length): the cache only ever makes it faster. V8 does not check the compiled code itself
 * (a damaged cache file made it stop with "Fatal error ... unreachable code"), nor the source
 * beyond its length: the file starts with a CRC-32 of the source and the code, checked here
 * first (zlib's, native: ~0.1 ms for both; a hash in JavaScript cost 2-4 ms of a cold start).
 * Nothing is written at run time (the package may be read-only, and the command may run as the
 * service account).
 */
import { readFileSync } from 'node:fs';
import type Zlib from 'node:zlib';
import { createRequire, Module } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/**
 * What happened to the cache: 'accepted', 'rejected' by V8, 'damaged' (its check failed: not
 * given to V8), 'missing', or 'unused' (this Node has no importModuleDynamically for vm or no zlib.crc32).
 */
export type CacheUse = 'accepted' | 'rejected' | 'damaged' | 'missing' | 'unused';

/** The cache file's first bytes: these four, then the CRC-32 (little-endian) of the source and then of the code. */
export const CACHE_MAGIC = 'WTC1';

/**
 * zlib's crc32 (Node 20.15 and later), required when a read command starts: zlib is no module
 * the other commands should load at start-up.
 */
const crc32 = (): typeof Zlib.crc32 | undefined =>
  (createRequire(import.meta.url)('node:zlib') as Partial<typeof Zlib>).crc32;

/** The check of a cache file: the CRC-32 of the source's bytes, continued over V8's code. */
export function cacheCheck(source: Buffer, code: Buffer): number {
  const crc = crc32();
  if (!crc) throw new Error(`zlib.crc32 is missing from Node ${process.version}`);
  return crc(code, crc(source));
}

/** The cache file's bytes for a source and V8's code of it. */
export function cacheFileBytes(source: Buffer, code: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(CACHE_MAGIC, 0, 'latin1');
  head.writeUInt32LE(cacheCheck(source, code), 4);
  return Buffer.concat([head, code]);
}

/** V8's code in a cache file's bytes, if they are whole and made for this source. */
function codeIn(file: Buffer, source: Buffer): Buffer | undefined {
  if (file.length <= 8 || file.toString('latin1', 0, 4) !== CACHE_MAGIC) return undefined;
  const code = file.subarray(8);
  return cacheCheck(source, code) === file.readUInt32LE(4) ? code : undefined;
}

/** The parts of node:module's Module this needs (its typings omit the constructor's use here). */
interface CjsModule {
  exports: unknown;
  filename: string;
  paths: string[];
  loaded: boolean;
}
type ModuleClass = new (id: string, parent?: unknown) => CjsModule;
type ModuleStatics = {
  wrap(source: string): string;
  _nodeModulePaths(dir: string): string[];
};

/** The cache file of a built file: beside it, with .cache added. */
export const cacheFileOf = (file: string) => `${file}.cache`;

/**
 * A CommonJS file's source compiled as Node's require compiles it (its module wrapper, its file
 * name, dynamic imports through the main loader), from `cachedData` when given and V8 takes it.
 * scripts/code-cache.mjs compiles the same way to make the cache, or V8 would refuse it.
 */
export function compileWrapped(source: string, filename: string, cachedData?: Buffer): vm.Script {
  return new vm.Script((Module as unknown as ModuleStatics).wrap(source), {
    filename,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
}

/** Runs a compiled module's top level with its exports, require, module, file and directory. */
export function runWrapped(script: vm.Script, mod: { exports: unknown }, req: NodeJS.Require, file: string): void {
  const wrapper = script.runInThisContext() as (...a: unknown[]) => void;
  wrapper.call(mod.exports, mod.exports, req, mod, file, path.dirname(file));
}

/** require(file), compiled from its code cache when V8 accepts it. */
export function requireCached(file: string): { exports: unknown; cache: CacheUse } {
  const req = createRequire(file);
  // Dynamic import() inside a vm.Script needs this (Node 20.12 and later); without it, the plain require.
  const loader = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (loader === undefined || crc32() === undefined || req.cache[file])
    return { exports: req(file) as unknown, cache: 'unused' };
  let cacheBytes: Buffer | undefined;
  try {
    cacheBytes = readFileSync(cacheFileOf(file));
  } catch {
    cacheBytes = undefined;
  }
  const bytes = readFileSync(file);
  const source = bytes.toString('utf8');
  const cachedData = cacheBytes && codeIn(cacheBytes, bytes);
  const M = Module as unknown as ModuleClass & ModuleStatics;
  const script = compileWrapped(source, file, cachedData);
  const mod = new M(file);
  mod.filename = file;
  mod.paths = M._nodeModulePaths(path.dirname(file));
  // In the require cache as require would leave it: a later require of the file gets this module.
  req.cache[file] = mod as unknown as NodeJS.Module;
  try {
    runWrapped(script, mod, req, file);
  } catch (err) {
    delete req.cache[file];
    throw err;
  }
  mod.loaded = true;
  return {
    exports: mod.exports,
    cache:
      cacheBytes === undefined
        ? 'missing'
        : cachedData === undefined
          ? 'damaged'
          : script.cachedDataRejected
            ? 'rejected'
            : 'accepted',
  };
}
