import fs from 'node:fs';
import { SkiffError } from '../util/errors';
import { capabilityNumber } from './capabilities';
import type { OciSpec } from './oci-spec';
import { precompiledProgram } from './seccomp/program';

/**
 * Encode an OCI spec into the flat record format the C monitor reads (native/PROTOCOL.md):
 * `KEY \0 N \0 F1 \0 ... FN \0`. All policy stays here; the C side only executes.
 */

const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096,
  REC: 16384, PRIVATE: 1 << 18, STRICTATIME: 1 << 24, RELATIME: 1 << 21,
};

/** Mount options that are flags; everything else is passed as filesystem data. */
const FLAG_OPTIONS: Record<string, number> = {
  ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME, relatime: MS.RELATIME, strictatime: MS.STRICTATIME,
  bind: MS.BIND, rbind: MS.BIND | MS.REC, rw: 0, rprivate: 0, private: 0,
};

export function mountFlags(options: string[] = []): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    if (o in FLAG_OPTIONS) flags |= FLAG_OPTIONS[o];
    else data.push(o);
  }
  return { flags, data: data.join(',') };
}

export { capabilityNumber };

const NAMESPACE_KEYS: Record<string, string | undefined> = {
  pid: 'pid', ipc: 'ipc', uts: 'uts', network: 'net', cgroup: 'cgroup', mount: undefined,
};

/** How the monitor gets the rootfs in place before the container starts. */
export interface RootfsMount { type: 'overlay' | 'fuse-overlayfs' | 'bind'; source: string; data: string }

export interface MonitorOptions {
  rootfsMount: RootfsMount;
  keepStdin: boolean;
  readyFd?: number;
  pidFile?: string;
  exitFile?: string;
  cleanup?: string[];
  /** flock'd by the monitor while it removes `cleanup`: the lock skiff holds to write records */
  lockFile?: string;
  /** where the monitor moves each `cleanup` path (one rename) before removing it: the store's tmp/ */
  cleanupStaging?: string;
  /** the compiled seccomp program (seccomp/program.ts seccompProgramHex); may be left out when it is the precompiled default */
  seccompProgram?: string;
  /** --init: PID 1 is the helper's minimal init, which forks the command (native/helper/init.c) */
  init?: boolean;
  /** --restart, carried out by the monitor (native/helper/restart.c) */
  restart?: { name: string; maximumRetryCount: number };
  /** exists = the user stopped the container: the monitor does not restart it */
  stopFile?: string;
  /** where the monitor writes "COUNT running|restarting" */
  restartFile?: string;
  /** "POLICY MAX" from `update --restart`: the monitor reads it before deciding to restart */
  policyFile?: string;
  /** the container log the monitor writes (logfile.c); absent: not logged */
  log?: { format: 'json-file' | 'k8s-file'; path: string; maxSize: number; maxFiles: number };
  /** where the monitor offers the container's stdio to later `attach` clients */
  attachSocket?: string;
  /** false: the monitor's stdio is not the user's (detached run); it keeps stdin (-i) open for attach */
  attached?: boolean;
  /** --userns=keep-id: the container's own user namespace, nested, with these maps ("C:H:N,...") */
  nestedUserns?: { uidMap: string; gidMap: string };
  /** attached -it: the detach keys the monitor watches the user's terminal for (native/helper/detach.c) */
  detachKeys?: Buffer;
  /** --rm, attached: what the monitor removes instead of `cleanup` once the user detached (the whole container) */
  detachCleanup?: string[];
  /** before the mounts: new volumes filled from the image (copy-up), sources chowned (:U) */
  volumePrep?: VolumePreparation;
  /** healthchecks the monitor runs: an exec spec without target, the log it appends to, and when */
  health?: { spec: string; log: string; intervalMs: number; timeoutMs: number };
  /** the user-mode network helper the monitor starts on each run's network namespace (native/helper/usermode_net.c) */
  network?: { argv: string[]; log: string; pidFile: string; apiSocket?: string; apiRequests: string[] };
  /** --domainname, set in the container's UTS namespace */
  domainname?: string;
  /** user-defined networks: `net-attach` fields per interface, and the lock the monitor holds for life (net_holder.c) */
  userNetworks?: { attach: string[][]; usersLock: string };
  /** published ports the monitor binds and forwards into the container (port_forward.c): `port-forward` fields */
  portForwards?: string[][];
  /** TCP ports may be handed to the server's own socket (port_handoff.c): `port-handoff` */
  portHandoff?: boolean;
  /** the embedded DNS server at 127.0.0.11 (dns_server.c): its names file, and `dns-upstream` fields */
  dns?: { namesFile: string; ndotsSet: boolean; upstreams: string[][] };
}

/** What the container init does to volume sources before it mounts them (native/helper/volume_mount.c). */
export interface VolumePreparation {
  /** SOURCE (a volume's data dir) gets the rootfs's DESTINATION content when SOURCE is empty */
  copyUp: { source: string; destination: string }[];
  /** PATH and everything below it owned by UID:GID (Podman's :U) */
  chown: { path: string; uid: number; gid: number }[];
}

/** Decide, on the host side, whether a bind mount's target is a file or a directory. */
function bindKind(m: { type: string; source: string }): 'file' | 'dir' {
  if (m.type !== 'bind') return 'dir';
  try { return fs.statSync(m.source).isDirectory() ? 'dir' : 'file'; } catch { return 'dir'; }
}

type RecordWriter = (key: string, ...fields: (string | number)[]) => void;

/** A record writer and the encoded result of what it wrote. */
function recordWriter(): { rec: RecordWriter; encode(): Buffer } {
  const parts: string[] = [];
  const rec: RecordWriter = (key, ...fields) => {
    const strings = fields.map(String);
    // Records are NUL-separated: a NUL inside a value (JSON allows \u0000 in an image config)
    // would end the field early and let the rest be read as records of its own.
    const bad = strings.find((f) => f.includes('\0'));
    if (bad !== undefined) throw new SkiffError(`invalid ${key} "${bad.replace(/\0/g, '\\0')}": contains a NUL byte`);
    parts.push(key, String(strings.length), ...strings);
  };
  return { rec, encode: () => Buffer.from(parts.map((p) => `${p}\0`).join('')) };
}

/** The process settings, shared by the container's init (monitor) and `exec` (the same keys). */
function processRecords(rec: RecordWriter, p: OciSpec['process'], seccompProgram: string | undefined): void {
  rec('cwd', p.cwd);
  rec('user', p.user.uid, p.user.gid);
  if (p.user.additionalGids?.length) rec('groups', ...p.user.additionalGids);
  for (const e of p.env) rec('env', e);
  for (const a of p.args) rec('arg', a);
  rec('caps', ...p.capabilities.bounding.map(capabilityNumber));
  if (seccompProgram) rec('seccomp', seccompProgram);
  if (p.noNewPrivileges) rec('no-new-privs', 1);
  rec('tty', p.terminal ? 1 : 0);
}

export interface ExecOptions {
  /** the container's init: host PID and start time (process-identity.ts), checked by the helper;
   * absent in the monitor's healthcheck spec, whose runner passes it on the command line */
  target?: { pid: number; start: string };
  keepStdin: boolean;
  detach: boolean;
  readyFd: number;
  /** the compiled seccomp program, or undefined for none (--privileged, unconfined containers) */
  seccompProgram: string | undefined;
}

/** Encode the spec of `skiff-helper exec` (native/PROTOCOL.md, exec spec): a process to run in a running container. */
export function encodeExecSpec(process: OciSpec['process'], o: ExecOptions): Buffer {
  const { rec, encode } = recordWriter();
  if (o.target) rec('target', o.target.pid, o.target.start);
  processRecords(rec, process, o.seccompProgram);
  rec('stdin', o.keepStdin ? 1 : 0);
  rec('detach', o.detach ? 1 : 0);
  rec('ready-fd', o.readyFd);
  return encode();
}

export function encodeMonitorSpec(spec: OciSpec, o: MonitorOptions): Buffer {
  const { rec, encode } = recordWriter();
  rec('rootfs', spec.root.path);
  rec('rootfs-mount', o.rootfsMount.type, o.rootfsMount.source, o.rootfsMount.data);
  for (const ns of spec.linux.namespaces) {
    const key = NAMESPACE_KEYS[ns.type];
    if (key && ns.path) rec('join-ns', key, ns.path);
    else if (key) rec('ns', key);
  }
  if (spec.hostname) rec('hostname', spec.hostname);
  for (const m of spec.mounts) {
    const { flags, data } = mountFlags(m.options);
    rec('mount', m.type === 'bind' ? '' : m.type, m.source, m.destination, flags, data, bindKind(m));
  }
  // The runtime's standard /dev links (runc adds the same).
  rec('symlink', '/proc/self/fd', '/dev/fd');
  rec('symlink', '/proc/self/fd/0', '/dev/stdin');
  rec('symlink', '/proc/self/fd/1', '/dev/stdout');
  rec('symlink', '/proc/self/fd/2', '/dev/stderr');
  rec('symlink', 'pts/ptmx', '/dev/ptmx');
  for (const c of o.volumePrep?.copyUp ?? []) rec('copy-up', c.source, c.destination);
  for (const c of o.volumePrep?.chown ?? []) rec('chown', c.path, c.uid, c.gid);
  if (spec.root.readonly) rec('rootfs-ro', 1);
  if (o.nestedUserns) rec('userns-map', o.nestedUserns.uidMap, o.nestedUserns.gidMap);
  for (const p of spec.linux.maskedPaths) rec('mask', p);
  for (const p of spec.linux.readonlyPaths) rec('ro', p);
  let program: string | undefined;
  if (spec.linux.seccomp) {
    program = o.seccompProgram ?? precompiledProgram(spec.linux.seccomp, spec.process.capabilities.bounding);
    // Never fall back to no filter: a missing program is a bug in the caller.
    if (!program) throw new SkiffError('internal error: the seccomp program was not compiled before encoding the monitor spec');
  }
  processRecords(rec, spec.process, program);
  // the container's own process settings, which exec'd processes inherit from it and do not set again
  for (const r of spec.process.rlimits ?? []) {
    const limit = (n: number) => (n < 0 ? 'unlimited' : n);
    rec('rlimit', r.type.replace(/^RLIMIT_/, '').toLowerCase(), limit(r.soft), limit(r.hard));
  }
  if (spec.process.oomScoreAdj !== undefined) rec('oom-score-adj', spec.process.oomScoreAdj);
  if (o.init) rec('init', 1);
  if (o.restart && o.restart.name !== 'no') rec('restart', o.restart.name, o.restart.maximumRetryCount);
  if (o.stopFile) rec('stop-file', o.stopFile);
  if (o.restartFile) rec('restart-file', o.restartFile);
  if (o.policyFile) rec('policy-file', o.policyFile);
  rec('stdin', o.keepStdin ? 1 : 0);
  if (o.readyFd !== undefined) rec('ready-fd', o.readyFd);
  if (o.pidFile) rec('pid-file', o.pidFile);
  if (o.exitFile) rec('exit-file', o.exitFile);
  for (const c of o.cleanup ?? []) rec('cleanup', c);
  if (o.lockFile) rec('lock-file', o.lockFile);
  if (o.cleanupStaging) rec('cleanup-staging', o.cleanupStaging);
  if (o.log) rec('log', o.log.format, o.log.path, o.log.maxSize, o.log.maxFiles);
  if (o.attachSocket) rec('attach-socket', o.attachSocket);
  if (o.attached === false) rec('attached', 0);
  if (o.network) {
    rec('net-helper', ...o.network.argv);
    rec('net-log', o.network.log);
    rec('net-pid-file', o.network.pidFile);
    if (o.network.apiSocket) rec('net-api-socket', o.network.apiSocket);
    for (const r of o.network.apiRequests) rec('net-api-request', r);
  }
  if (o.domainname) rec('domainname', o.domainname);
  if (o.detachKeys?.length) rec('detach-keys', o.detachKeys.toString('hex'));
  for (const c of o.detachCleanup ?? []) rec('detach-cleanup', c);
  if (o.userNetworks) {
    rec('net-users-lock', o.userNetworks.usersLock);
    for (const fields of o.userNetworks.attach) rec('net-attach', ...fields);
  }
  for (const fields of o.portForwards ?? []) rec('port-forward', ...fields);
  if (o.portHandoff && o.portForwards?.length) rec('port-handoff', 1);
  if (o.dns) {
    rec('dns', o.dns.namesFile, o.dns.ndotsSet ? 1 : 0);
    for (const fields of o.dns.upstreams) rec('dns-upstream', ...fields);
  }
  if (o.health) rec('health', o.health.spec, o.health.log, Math.max(1, Math.round(o.health.intervalMs)), Math.max(1, Math.round(o.health.timeoutMs)));
  return encode();
}
