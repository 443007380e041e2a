/**
 * Docker's seccomp profile format (the JSON `--security-opt seccomp=FILE` reads, and the shape
 * of moby's profiles/seccomp/default.json), and its validation. Compiling is compile.ts's job.
 */

export type SeccompOp = 'SCMP_CMP_EQ' | 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_GT' | 'SCMP_CMP_GE' | 'SCMP_CMP_MASKED_EQ';

export interface SeccompArg { index: number; value: number; valueTwo?: number; op: SeccompOp }

/** Conditions on the container (Docker evaluates them when it builds the spec). */
export interface SeccompFilter { caps?: string[]; arches?: string[]; minKernel?: string }

export interface SeccompRule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
  comment?: string;
}

export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] | null }[];
  syscalls?: SeccompRule[];
}

const OPS = new Set<string>(['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GT', 'SCMP_CMP_GE', 'SCMP_CMP_MASKED_EQ']);
/** The actions a classic-BPF filter can return without a helper process (no SCMP_ACT_NOTIFY). */
export const ACTIONS = new Set<string>(['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP', 'SCMP_ACT_TRACE', 'SCMP_ACT_LOG']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isUint = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;

function checkFilter(f: unknown, where: string): void {
  if (f === undefined || f === null) return;
  if (!isObject(f)) throw new Error(`${where} must be an object`);
  if (f.caps !== undefined && f.caps !== null && !isStringArray(f.caps)) throw new Error(`${where}.caps must be a list of capability names`);
  if (f.arches !== undefined && f.arches !== null && !isStringArray(f.arches)) throw new Error(`${where}.arches must be a list of architectures`);
  if (f.minKernel !== undefined && f.minKernel !== null && (typeof f.minKernel !== 'string' || !/^\d+\.\d+/.test(f.minKernel))) {
    throw new Error(`${where}.minKernel must be a kernel version such as "4.8"`);
  }
}

/**
 * Parse and check a profile's JSON text; throws an Error saying which field is wrong. Accepts
 * what Docker accepts (`name` or `names`, `architectures` or `archMap`), rejects what a BPF
 * filter cannot do (SCMP_ACT_NOTIFY).
 */
export function parseSeccompProfile(text: string): SeccompProfile {
  let p: unknown;
  try { p = JSON.parse(text); } catch (e) { throw new Error(`not valid JSON: ${(e as Error).message}`); }
  if (!isObject(p)) throw new Error('a profile is a JSON object with "defaultAction" and "syscalls"');
  if (typeof p.defaultAction !== 'string' || !ACTIONS.has(p.defaultAction)) {
    throw new Error(`defaultAction ${JSON.stringify(p.defaultAction)} is not one of ${[...ACTIONS].join(', ')}`);
  }
  if (p.defaultErrnoRet !== undefined && !isUint(p.defaultErrnoRet, 4095)) throw new Error('defaultErrnoRet must be an errno number');
  if (p.architectures !== undefined && p.architectures !== null && !isStringArray(p.architectures)) throw new Error('architectures must be a list of SCMP_ARCH_ names');
  if (Array.isArray(p.architectures) && p.architectures.length && Array.isArray(p.archMap) && p.archMap.length) {
    throw new Error("both 'architectures' and 'archMap' are specified, use either 'architectures' or 'archMap'");
  }
  const syscalls = p.syscalls ?? [];
  if (!Array.isArray(syscalls)) throw new Error('syscalls must be a list');
  const rules: SeccompRule[] = syscalls.map((r: unknown, i: number) => {
    const where = `syscalls[${i}]`;
    if (!isObject(r)) throw new Error(`${where} must be an object`);
    if (r.name !== undefined && r.names !== undefined) throw new Error(`${where}: both 'name' and 'names' are specified, use either 'name' or 'names'`);
    const names = r.name !== undefined ? [r.name] : r.names;
    if (!isStringArray(names) || names.length === 0) throw new Error(`${where}.names must be a list of syscall names`);
    if (typeof r.action !== 'string' || !ACTIONS.has(r.action)) throw new Error(`${where}.action ${JSON.stringify(r.action)} is not one of ${[...ACTIONS].join(', ')}`);
    if (r.errnoRet !== undefined && r.errnoRet !== null && !isUint(r.errnoRet, 4095)) throw new Error(`${where}.errnoRet must be an errno number`);
    const args = r.args ?? [];
    if (!Array.isArray(args)) throw new Error(`${where}.args must be a list`);
    args.forEach((a: unknown, j: number) => {
      const aw = `${where}.args[${j}]`;
      if (!isObject(a)) throw new Error(`${aw} must be an object`);
      if (!isUint(a.index, 5)) throw new Error(`${aw}.index must be 0 to 5`);
      if (!isUint(a.value, Number.MAX_SAFE_INTEGER)) throw new Error(`${aw}.value must be a non-negative integer`);
      if (a.valueTwo !== undefined && !isUint(a.valueTwo, Number.MAX_SAFE_INTEGER)) throw new Error(`${aw}.valueTwo must be a non-negative integer`);
      if (typeof a.op !== 'string' || !OPS.has(a.op)) throw new Error(`${aw}.op ${JSON.stringify(a.op)} is not one of ${[...OPS].join(', ')}`);
    });
    checkFilter(r.includes, `${where}.includes`);
    checkFilter(r.excludes, `${where}.excludes`);
    return { ...(r as unknown as SeccompRule), names, args: args as SeccompArg[] };
  });
  return { ...(p as unknown as SeccompProfile), syscalls: rules };
}
