/**
 * undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles the parser's one huge
 * function a second time with its optimising compiler as soon as it runs hot: 150-250 ms of
 * CPU on another thread during every download, on a host of 2 cores where the unpack's threads
 * and the server want them; the first tier's code (Liftoff) hands the body bytes over as fast
 * (docs/benchmarks.md, "Fetch"). Set before undici loads, as undici compiles llhttp when its
 * client module loads (src/fetch/undici.ts imports this first). A process-wide V8 setting, read
 * when WebAssembly is compiled: webtree runs no other WebAssembly that matters. Its price: V8
 * turns away Node's code cache for built-in modules loaded after any flag changed, so those load
 * slower: the ones a fetch and its install load are therefore loaded here first (net ~0.25 s
 * less CPU per 120 MB install URL: docs/benchmarks.md).
 */
// Loaded first: the built-in modules undici and the install after the download load anyway.
// Node's code cache for its built-ins is turned away for those loaded after any V8 flag changed
// (the flag hash differs), and they are then compiled from their source: 34-39 against 16-19 ms of
// CPU for these, measured (docs/benchmarks.md, "Issue 12, fetch: built-ins before the V8 flag").
// Required at run time: a bundler drops an import of a built-in that binds nothing.
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';

const load = createRequire(import.meta.url);
for (const m of ['node:assert', 'node:http', 'node:http2', 'node:tls', 'node:child_process']) load(m);
void (load('node:crypto') as typeof import('node:crypto')).webcrypto; // a getter: loads webcrypto
setFlagsFromString('--liftoff-only');
