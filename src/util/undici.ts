/**
 * The part of undici skiff uses (Agent, request, the redirect interceptor), loaded module by
 * module, with V8 told to keep undici's HTTP parser on the baseline WebAssembly compiler.
 *
 * Why not `require('undici')`: its index loads fetch, WebSocket, EventSource, the cache stores
 * and the mock agents too. Evaluating those was most of the ~80 ms a `pull` spent before its
 * first request over what `images` needs in total. The deep paths are undici's own files (it
 * has no "exports" map); `Object.assign(Dispatcher.prototype, api)` is what undici's index does
 * to give every dispatcher its `request()`.
 *
 * Why --liftoff-only: undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles it
 * with Liftoff (its baseline compiler), then recompiles the hot functions with TurboFan in a
 * background thread: measured at ~0.35 s of CPU per pull, more than all the parsing it speeds
 * up, on a 2-core machine where that CPU is taken from the layer unpacking. The flag only
 * affects WebAssembly compiled after it is set, which is why undici is only used through here.
 */
import { setFlagsFromString } from 'node:v8';
import type * as Undici from 'undici';

setFlagsFromString('--liftoff-only');

/* eslint-disable @typescript-eslint/no-require-imports */
const DispatcherClass = require('undici/lib/dispatcher/dispatcher') as typeof Undici.Dispatcher;
Object.assign(DispatcherClass.prototype, require('undici/lib/api'));
export const Agent = require('undici/lib/dispatcher/agent') as typeof Undici.Agent;
export const redirectInterceptor = require('undici/lib/interceptor/redirect') as typeof Undici.interceptors.redirect;
/* eslint-enable @typescript-eslint/no-require-imports */

export type Agent = Undici.Agent;
export type Dispatcher = Undici.Dispatcher;
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace Dispatcher {
  type ResponseData = Undici.Dispatcher.ResponseData;
}

type RequestOptions = Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  dispatcher: Undici.Dispatcher;
  method?: Undici.Dispatcher.HttpMethod;
};

/** undici's top-level `request(url, opts)`, for an explicit dispatcher. */
export function request(url: string | URL, opts: RequestOptions): Promise<Undici.Dispatcher.ResponseData> {
  const u = new URL(url);
  const { dispatcher, ...rest } = opts;
  return dispatcher.request({ ...rest, origin: u.origin, path: `${u.pathname}${u.search}`, method: opts.method ?? (opts.body ? 'PUT' : 'GET') });
}
