// Types for code-cache.mjs (plain JavaScript so that any Node can run the build).
export const WARM_RUNS: readonly { name: string; argv: string[] }[];
export function wrapBundle(code: string): string;
export function cacheIndex(root: string, esbuild: typeof import('esbuild')): Promise<Record<string, string>>;
export function makeCodeCaches(opts: { runtime: string; wrapped: string; outDir: string; nativeEnv: Record<string, string> }): Record<string, string>;
export function checkCodeCaches(exe: string): void;
