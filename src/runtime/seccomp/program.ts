import os from 'node:os';
import { SkiffError } from '../../util/errors';
import { DEFAULT_CAPABILITIES } from '../capabilities';
import { nativeArch, versionAtLeast } from './arch';
import { DEFAULT_PROGRAMS, DEFAULT_PROGRAMS_MIN_KERNEL } from './default-programs';

/** What a container asked for: Docker's default, none, or a profile's JSON text. */
export type SeccompChoice = { kind: 'default' } | { kind: 'unconfined' } | { kind: 'custom'; json: string };

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * The program precompiled at build time (default-programs.ts) when it fits: Docker's default
 * profile, Docker's default capabilities, a kernel new enough for its minKernel rules. This is
 * every plain `skiff run`, and it loads neither the compiler nor the profile data.
 */
export function precompiledProgram(choice: SeccompChoice, caps: readonly string[]): string | undefined {
  const arch = nativeArch();
  if (choice.kind !== 'default' || !arch || !sameSet(caps, DEFAULT_CAPABILITIES)) return undefined;
  return versionAtLeast(os.release(), DEFAULT_PROGRAMS_MIN_KERNEL) ? DEFAULT_PROGRAMS[arch] : undefined;
}

/** The BPF program (struct sock_filter[] as hex) for a container, or undefined for unconfined. */
export async function seccompProgramHex(choice: SeccompChoice, caps: readonly string[]): Promise<string | undefined> {
  if (choice.kind === 'unconfined') return undefined;
  const ready = precompiledProgram(choice, caps);
  if (ready) return ready;
  const arch = nativeArch();
  if (!arch) throw new SkiffError(`seccomp: no syscall table for the ${process.arch} architecture; use --security-opt seccomp=unconfined`);
  const [{ compileProfile }, { DEFAULT_PROFILE }, { parseSeccompProfile }] = await Promise.all([
    import('./compile'), import('./default-profile'), import('./profile')]);
  try {
    const profile = choice.kind === 'default' ? DEFAULT_PROFILE : parseSeccompProfile(choice.json);
    return compileProfile(profile, { arch, caps, kernel: os.release() }).toString('hex');
  } catch (e) {
    throw new SkiffError(`seccomp profile: ${(e as Error).message}`);
  }
}
