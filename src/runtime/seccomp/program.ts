import os from 'node:os';
import { DEFAULT_CAPABILITIES } from '../oci-spec';
import { compileProfile, minKernels, nativeArch, versionAtLeast } from './compile';
import { DEFAULT_PROFILE } from './default-profile';
import { DEFAULT_PROGRAMS } from './default-programs';
import { parseSeccompProfile } from './profile';

/** What a container asked for: Docker's default, none, or a profile's JSON text. */
export type SeccompChoice = { kind: 'default' } | { kind: 'unconfined' } | { kind: 'custom'; json: string };

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * The BPF program (struct sock_filter[] as hex) for a container, or undefined for unconfined.
 * The common case (default profile, default capabilities) is precompiled at build time
 * (default-programs.ts): nothing is compiled on `skiff run`'s start-up path.
 */
export function seccompProgramHex(choice: SeccompChoice, caps: readonly string[]): string | undefined {
  if (choice.kind === 'unconfined') return undefined;
  const arch = nativeArch();
  if (!arch) throw new Error(`seccomp: no syscall table for the ${process.arch} architecture; use --security-opt seccomp=unconfined`);
  const kernel = os.release();
  if (choice.kind === 'default' && sameSet(caps, DEFAULT_CAPABILITIES) && minKernels(DEFAULT_PROFILE).every((k) => versionAtLeast(kernel, k))) {
    return DEFAULT_PROGRAMS[arch];
  }
  const profile = choice.kind === 'default' ? DEFAULT_PROFILE : parseSeccompProfile(choice.json);
  return compileProfile(profile, { arch, caps, kernel }).toString('hex');
}
