// Types for slim-bundle.mjs (plain JavaScript so that any Node can run the build).
export const FULL_ONLY_MODULES: readonly string[];
export function tableWithOnly(source: string, paths: string[][]): string;
export function slimBundle(root: string, paths: string[][]): import('esbuild').Plugin;
