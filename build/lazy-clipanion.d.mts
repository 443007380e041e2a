import type { Plugin } from 'esbuild';

export function bundledSource(file: string): string;
export const lazyClipanion: Plugin;
