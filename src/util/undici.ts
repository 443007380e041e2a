/**
 * undici, with V8 told to keep its HTTP parser on the baseline WebAssembly compiler.
 *
 * undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles it with Liftoff (its
 * baseline compiler) and then recompiles the hot functions with TurboFan in a background
 * thread: measured at ~0.35 s of CPU per pull, more than all the parsing it speeds up, on a
 * 2-core machine where that CPU is taken from the layer unpacking. Liftoff code parses headers
 * and chunk framing fast enough. The flag only affects WebAssembly compiled after it is set,
 * which is why every use of undici goes through this module.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--liftoff-only');

export * from 'undici';
