/**
 * Load a CommonJS file with the V8 code cache the build made for it (scripts/code-cache.mjs):
 * compiling dist/bundle/read.cjs (400 kB then, 145 kB now) cost every status, list and history some 18 ms of
 * CPU, and Node 20 caches no compiled code of its own. The file is compiled the way Node's
 * require compiles it (its module wrapper, its file name, imports through the main loader) but
 * from the cache; V8 checks the cache against the source, its own version and its flags, and
 * compiles from the source whenever it refuses it (another Node, other V8 flags, a source of
 * another length): the cache only ever makes it faster. V8 does not check the compiled code itself
 * (a damaged cache file made it stop with "Fatal error ... unreachable code"), nor the source
 * beyond its length: the file holds a copy of the source it was made from and the code twice, and
 * all three are compared here byte for byte first (memcmp: a hash would need zlib, whose loading
 * with the stream modules behind it cost a status ~3 ms, or JavaScript, 10-20 ms of a cold start).
 * Nothing is written at run time (the package may be read-only, and the command may run as the
 * service account).
 */
import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/**
 * What happened to the cache: 'accepted', 'rejected' by V8, 'damaged' (its copies differ: not
 * given to V8), 'missing', or 'unused' (this Node has no importModuleDynamically for vm).
 */
export type CacheUse = 'accepted' | 'rejected' | 'damaged' | 'missing' | 'unused';

/**
 * The cache file: these four bytes, the source's length and the code's (32-bit little-endian),
 * the source, the code, and the code again. A file damaged anywhere (a byte changed, cut short)
 * no longer holds two equal copies of the code, or the source it was made from.
 */
export const CACHE_MAGIC = 'WTC2';
const HEAD = 12;

export function cacheFileBytes(source: Buffer, code: Buffer): Buffer {
  const head = Buffer.alloc(HEAD);
  head.write(CACHE_MAGIC, 0, 'latin1');
  head.writeUInt32LE(source.length, 4);
  head.writeUInt32LE(code.length, 8);
  return Buffer.concat([head, source, code, code]);
}

/** V8's code from a cache file made for this source, or undefined when the file's copies disagree. */
function codeIn(file: Buffer, source: Buffer): Buffer | undefined {
  if (file.length < HEAD || file.toString('latin1', 0, 4) !== CACHE_MAGIC) return undefined;
  const sourceLength = file.readUInt32LE(4);
  const codeLength = file.readUInt32LE(8);
  if (sourceLength !== source.length || codeLength === 0 || file.length !== HEAD + sourceLength + 2 * codeLength)
    return undefined;
  const code = file.subarray(HEAD + sourceLength, HEAD + sourceLength + codeLength);
  return source.equals(file.subarray(HEAD, HEAD + sourceLength)) &&
    code.equals(file.subarray(HEAD + sourceLength + codeLength))
    ? code
    : undefined;
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
  if (loader === undefined || req.cache[file]) return { exports: req(file) as unknown, cache: 'unused' };
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
