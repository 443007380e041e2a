// Types for code-cache.mjs (plain JavaScript so that any Node can run the build).
export const WARM_RUNS: readonly { name: string; argv: string[] }[];
export const HANDED_OVER_EXIT: number;
export function wrapBundle(code: string): string;
export function bundleIndex(root: string, esbuild: typeof import('esbuild')): Promise<{ index: Record<string, string | null>; paths: Record<string, string[][]> }>;
export function makeCodeCaches(opts: { runtime: string; runs: { name: string; wrapped: string; argv: string[] }[]; outDir: string; nativeEnv: Record<string, string> }): Record<string, string>;
export function checkCodeCaches(exe: string, caches: boolean): void;
