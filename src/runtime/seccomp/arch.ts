/** The architectures seccomp programs are compiled for, and kernel version checks. */

export type SeccompArch = 'x86_64' | 'aarch64';

/** The architecture this Node process runs on, if a syscall table exists for it. */
export function nativeArch(): SeccompArch | undefined {
  return process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : undefined;
}

/** Is kernel release `kernel` ("6.1.0-18-amd64") at least `min` ("4.8")? */
export function versionAtLeast(kernel: string, min: string): boolean {
  const [a, b] = kernel.split(/[.-]/).map(Number);
  const [c, d] = min.split('.').map(Number);
  return a > c || (a === c && (b || 0) >= (d || 0));
}
