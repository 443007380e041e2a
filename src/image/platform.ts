/**
 * Platforms (os/architecture/variant) as the OCI image index describes them, and the choice of
 * an image from an index the way containerd's default matcher makes it: same OS and architecture,
 * variants compared after normalisation (arm64 is v8 unless said otherwise, arm is v7).
 */
import { SkiffError } from '../util/errors';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const NODE_ARCH: Record<string, string> = {
  x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x',
  riscv64: 'riscv64', loong64: 'loong64', mips64el: 'mips64le',
};

export function hostPlatform(): Platform {
  return { os: 'linux', architecture: NODE_ARCH[process.arch] ?? process.arch };
}

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', i386: '386', armhf: 'arm', armel: 'arm' };

/** Parse `--platform os/arch[/variant]` (Docker's format; `arch` alone is not accepted). */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new SkiffError(`invalid platform "${s}": use os/arch[/variant], for example linux/amd64 or linux/arm64/v8`);
  }
  const architecture = ARCH_ALIASES[parts[1]] ?? parts[1];
  return { os: parts[0], architecture, ...(parts[2] ? { variant: parts[2] } : {}) };
}

export function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

function normalizedVariant(p: Platform): string | undefined {
  if (p.variant) return p.variant;
  if (p.architecture === 'arm64') return 'v8';
  if (p.architecture === 'arm') return 'v7';
  return undefined;
}

/** Does an index entry's platform satisfy the wanted one? (No variant wanted: any variant.) */
export function platformMatches(candidate: Platform | undefined, wanted: Platform): boolean {
  if (!candidate || candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return false;
  if (!wanted.variant) return true;
  return normalizedVariant(candidate) === normalizedVariant(wanted);
}

/**
 * Pick the entry for `wanted` from an index's entries: an exact variant match first (the host's
 * default variant when none was asked for), then any entry of the right OS and architecture.
 */
export function choosePlatform<T extends { platform?: Platform }>(entries: T[], wanted: Platform): T | undefined {
  const withVariant = { ...wanted, variant: normalizedVariant(wanted) };
  return entries.find((e) => platformMatches(e.platform, withVariant)) ?? entries.find((e) => platformMatches(e.platform, wanted));
}

/** The error for an index without the wanted platform, listing those it has. */
export function noMatchingPlatform(wanted: Platform, entries: { platform?: Platform }[], what: string): SkiffError {
  const have = [...new Set(entries.flatMap((e) => (e.platform ? [platformString(e.platform)] : [])))];
  return new SkiffError(`no matching manifest for ${platformString(wanted)} in the manifest list entries of ${what}; available platforms: ${have.join(', ') || 'none'}; choose one with --platform`, 1);
}
