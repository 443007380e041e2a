import { DEFAULT_CAPABILITIES } from '../capabilities';
import { versionAtLeast } from './arch';
import { compileProfile, minKernels, type SeccompArch } from './compile';
import { DEFAULT_PROFILE } from './default-profile';

/**
 * What build/gen-seccomp.mjs precompiles into default-programs.ts: Docker's default profile for
 * Docker's default capabilities, on a kernel new enough for every minKernel rule.
 */
export const PRECOMPILED_KERNEL = '999.0';

export function defaultProgramsHex(): Record<SeccompArch, string> {
  const hex = (arch: SeccompArch) => compileProfile(DEFAULT_PROFILE, { arch, caps: DEFAULT_CAPABILITIES, kernel: PRECOMPILED_KERNEL }).toString('hex');
  return { x86_64: hex('x86_64'), aarch64: hex('aarch64') };
}

/** The newest minKernel the default profile has: the precompiled programs assume at least it. */
export function defaultProgramsMinKernel(): string {
  return minKernels(DEFAULT_PROFILE).reduce((max, k) => (versionAtLeast(k, max) ? k : max), '0.0');
}
