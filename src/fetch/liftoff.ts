/**
 * undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles the parser's one huge
 * function a second time with its optimising compiler as soon as it runs hot: 150-250 ms of
 * CPU on another thread during every download, on a host of 2 cores where the unpack's threads
 * and the server want them; the first tier's code (Liftoff) hands the body bytes over as fast
 * (docs/benchmarks.md, "Fetch"). Set before undici loads, as undici compiles llhttp when its
 * client module loads (src/fetch/undici.ts imports this first). A process-wide V8 setting, read
 * when WebAssembly is compiled: webtree runs no other WebAssembly that matters. Its price: V8
 * turns away Node's code cache for built-in modules loaded after any flag changed, so those load
 * slower (child_process and tty, loaded later by an install: ~6 ms more CPU; measured, net
 * ~0.25 s less CPU per 120 MB install URL: docs/benchmarks.md).
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--liftoff-only');
