/**
 * Which command the leading words of a command line name, among commands known by their paths:
 * the longest path that argv starts with, or, when none matches, whether argv[0] begins some
 * longer path (a management noun typed alone or with an unknown verb). Shared by the full
 * command list (index.ts) and the table of lazily loaded commands (command-table.ts), so that
 * both resolve a command line the same way.
 */
export function matchCommandPath<T extends { paths?: readonly (readonly string[])[] }>(
  argv: readonly string[], entries: readonly T[],
): { entry: T; path: string[] } | { noun: boolean } {
  let best: { entry: T; path: string[] } | undefined;
  let noun = false;
  for (const entry of entries) {
    for (const p of entry.paths ?? []) {
      if (p.length === 0 || p[0] !== argv[0]) continue;
      if (p.length > 1) noun = true;
      if (p.every((w, i) => argv[i] === w) && p.length > (best?.path.length ?? 0)) best = { entry, path: [...p] };
    }
  }
  return best ?? { noun };
}
