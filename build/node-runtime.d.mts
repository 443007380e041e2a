// Types for node-runtime.mjs (plain JavaScript so that any Node can run the build).
export const RUNTIME_PACKAGES: Record<string, string>;
export interface PinnedRuntime { name: string; version: string; major: number }
export interface InstalledRuntime extends PinnedRuntime { bin: string; nodedir: string }
export function pinnedRuntime(pkgJson: { optionalDependencies?: Record<string, string> }, arch?: string): PinnedRuntime;
export function installedRuntime(root: string, arch?: string): InstalledRuntime;
