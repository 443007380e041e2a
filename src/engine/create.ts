import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { familiarString, parseReference } from '../image/reference';
import type { ImageRecord } from '../image/store';
import { withLock } from '../state/lock';
import { readImageFile } from '../storage/image-files';
import { resolveUser } from '../runtime/user';
import { idMapped } from '../runtime/userns';
import { parseSecurityFlags, type SecurityFlags } from '../runtime/security-options';
import type { NetworkMode, SecurityInput } from '../runtime/oci-spec';
import { SkiffError } from '../util/errors';
import { removeTree } from '../util/remove-tree';
import type { ContainerRecord } from './container-store';
import { usingLayers } from './layers-in-use';
import type { Engine } from './context';
import { DEFAULT_PATH, expandEnvArg, mergeEnv, readEnvFile, userThenImageEnv } from './env';
import { generateName, newContainerId, VALID_NAME } from './names';
import { prepareRootfs } from './rootfs';

export interface CreateOptions {
  image: string;
  command: string[];
  name?: string;
  env: string[];
  envFiles: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  hostname?: string;
  network?: string;
  tty: boolean;
  interactive: boolean;
  autoRemove: boolean;
  pull?: string;
  /** `--platform`, used when the image is pulled */
  platform?: string;
  /** --security-opt, --cap-add, --cap-drop, --privileged */
  security?: SecurityFlags;
  /** run -d: nothing attached (inspect's Config.AttachStd*) */
  detach?: boolean;
}

function parseNetwork(n: string | undefined): NetworkMode {
  if (n === undefined || n === 'none') return 'none';
  if (n === 'host') return 'host';
  if (n === 'default' || n === 'bridge') {
    // Said, not silent: a script that asks for Docker's bridge gets loopback only until
    // user-mode networking lands.
    process.stderr.write(`WARNING: --network ${n} is not supported yet: the container gets a private network with loopback only (as --network none)\n`);
    return 'none';
  }
  throw new SkiffError(`network "${n}" not found: this version supports --network none and --network host`);
}

/**
 * Everything about the flags that can be checked without the image, checked before any pull:
 * a bad flag must not cost a download (or a pull error that hides the real mistake).
 */
function validateBeforeImage(engine: Engine, o: CreateOptions): { security?: SecurityInput; network: NetworkMode; userEnvFiles: string[] } {
  const security = o.security ? parseSecurityFlags(o.security) : undefined;
  const pull = o.pull ?? 'missing';
  if (!['always', 'missing', 'never'].includes(pull)) {
    throw new SkiffError(`invalid pull policy "${pull}": use always, missing or never`);
  }
  if (o.name !== undefined) {
    if (!VALID_NAME.test(o.name)) {
      throw new SkiffError(`Invalid container name (${o.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    // Early and lock-free, for the message; the check under the lock at the end decides.
    nameConflict(engine, o.name);
  }
  if (o.workdir && !o.workdir.startsWith('/')) {
    throw new SkiffError(`the working directory '${o.workdir}' is invalid, it needs to be an absolute path`);
  }
  const network = parseNetwork(o.network);
  const userEnvFiles = o.envFiles.flatMap((f) => readEnvFile(f, process.env));
  return { security, network, userEnvFiles };
}

/** Throws Docker's conflict error when NAME belongs to a container already. */
function nameConflict(engine: Engine, name: string, all = engine.containers.list()): void {
  const bare = name.replace(/^\//, '');
  const owner = all.find((c) => c.name === bare);
  if (owner) throw new SkiffError(`Conflict. The container name "/${bare}" is already in use by container "${owner.id}". You have to remove (or rename) that container to be able to reuse that name.`);
}

function hostsFile(network: NetworkMode, hostname: string): string {
  if (network === 'host') {
    try { return fs.readFileSync('/etc/hosts', 'utf8'); } catch { /* fall through */ }
  }
  return `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${hostname}\n`;
}

function resolvConf(): string {
  try { return fs.readFileSync('/etc/resolv.conf', 'utf8'); } catch { return ''; }
}

/** Entrypoint/Cmd as Docker combines them: --entrypoint resets the image's Cmd. */
export function resolveArgs(image: { Entrypoint?: string[]; Cmd?: string[] }, entrypoint: string | undefined, command: string[]): string[] {
  const ep = entrypoint !== undefined ? (entrypoint === '' ? [] : [entrypoint]) : image.Entrypoint ?? [];
  const cmd = command.length ? command : entrypoint !== undefined ? [] : image.Cmd ?? [];
  return [...ep, ...cmd];
}

/** What create was asked, kept apart for inspect (the argv above is Entrypoint and Cmd resolved). */
function asAsked(o: CreateOptions, image: { Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string }): Partial<ContainerRecord['config']> {
  const entrypoint = o.entrypoint !== undefined ? (o.entrypoint === '' ? [] : [o.entrypoint]) : image.Entrypoint;
  const cmd = o.command.length ? o.command : o.entrypoint !== undefined ? undefined : image.Cmd;
  const attached = !o.detach;
  return {
    ...(entrypoint?.length ? { entrypoint } : {}),
    ...(cmd?.length ? { cmd } : {}),
    workingDir: o.workdir || image.WorkingDir || '',
    ...(o.security?.capAdd.length ? { capAdd: o.security.capAdd } : {}),
    ...(o.security?.capDrop.length ? { capDrop: o.security.capDrop } : {}),
    ...(o.security?.securityOpt.length ? { securityOpt: o.security.securityOpt } : {}),
    attach: { stdin: attached && o.interactive, stdout: attached, stderr: attached },
  };
}

/** A user outside the namespace's map cannot exist in the container: say why, up front. */
function assertMapped(engine: Engine, uid: number, gid: number, spec: string): void {
  const plan = engine.userns;
  if (!plan) return;
  if (!idMapped(plan.uidMap, uid) || !idMapped(plan.gidMap, gid)) {
    throw new SkiffError(`user "${spec}" (${uid}:${gid}) is not mapped in the user namespace${plan.subordinate ? '' : ' (no subordinate ID range: only root exists in containers)'}; add a subuid/subgid range or run as root in the container`);
  }
}

/**
 * The image to run, pulled first when the policy says so (Docker: `missing` pulls an image that
 * is not here, `always` pulls every time, `never` only looks locally). Pull progress goes to
 * stderr, as with `docker run`.
 */
async function findOrPullImage(engine: Engine, name: string, policy: string, platform?: string): Promise<ImageRecord> {
  const local = policy === 'always' ? undefined : engine.images.find(name);
  if (local) return local;
  if (policy === 'never') throw new SkiffError(`No such image: ${name}; pull it first or use --pull missing`);
  if (policy === 'missing') process.stderr.write(`Unable to find image '${familiarString(parseReference(name))}' locally\n`);
  const { pullImage } = await import('./pull');
  try {
    return (await pullImage(engine, name, { out: process.stderr, platform, printReference: false })).image;
  } catch (e) {
    // `run` and `create` fail with 125 whatever the pull's own code (Docker's convention).
    if (e instanceof SkiffError) e.exitCode = 125;
    throw e;
  }
}

export function createContainer(engine: Engine, o: CreateOptions): Promise<ContainerRecord> {
  // Held throughout: the image's layers are only referenced by the record at the end (layers-in-use.ts).
  return usingLayers(engine, () => createContainerNow(engine, o));
}

async function createContainerNow(engine: Engine, o: CreateOptions): Promise<ContainerRecord> {
  const { security, network, userEnvFiles } = validateBeforeImage(engine, o);
  if (security?.privileged && engine.paths.rootless) {
    process.stderr.write('WARNING: rootless --privileged: capabilities hold only inside the user namespace, and host devices are bind-mounted with your own access (no device the host denies you)\n');
  }
  const image = await findOrPullImage(engine, o.image, o.pull ?? 'missing', o.platform);
  const cfg = image.config.config ?? {};
  const args = resolveArgs(cfg, o.entrypoint, o.command);
  if (args.length === 0) throw new SkiffError(`no command specified for image ${o.image}: give one after the image name`);
  const cwd = o.workdir || cfg.WorkingDir || '/';
  if (!cwd.startsWith('/')) throw new SkiffError(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);

  const layers = await engine.layers();
  const layerDirs = image.chainIds.map((c) => layers.diffDir(c));
  const userSpec = o.user ?? cfg.User ?? '';
  const user = resolveUser(userSpec, readImageFile(layerDirs, 'etc/passwd'), readImageFile(layerDirs, 'etc/group'));

  assertMapped(engine, user.uid, user.gid, userSpec);

  const id = newContainerId();
  const hostname = o.hostname || (network === 'host' ? os.hostname() : id.slice(0, 12));
  const userEnv = [...userEnvFiles, ...o.env.map((e) => expandEnvArg(e, process.env))];
  const defaults = [DEFAULT_PATH, `HOSTNAME=${hostname}`, ...(o.tty ? ['TERM=xterm'] : [])];
  let env = mergeEnv(defaults, userThenImageEnv(userEnv, cfg.Env ?? []));
  if (!env.some((e) => e.startsWith('HOME='))) env = [...env, `HOME=${user.home}`];

  const dir = engine.containers.dir(id);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(path.join(dir, 'hostname'), `${hostname}\n`);
    fs.writeFileSync(path.join(dir, 'hosts'), hostsFile(network, hostname));
    fs.writeFileSync(path.join(dir, 'resolv.conf'), resolvConf());
    await prepareRootfs(engine, layers, dir, image.chainIds.at(-1));
    const rec: ContainerRecord = {
      id, name: '', created: new Date().toISOString(), image: o.image, imageId: image.id,
      path: args[0], args: args.slice(1),
      config: { env, cwd, user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids }, userSpec,
        hostname, tty: o.tty, openStdin: o.interactive, network, autoRemove: o.autoRemove, ...(security ? { security } : {}),
        ...asAsked(o, cfg) },
      storage: { driver: await engine.driver(), layers: image.chainIds },
      state: { status: 'created' },
    };
    await withLock(engine.containers.lockFile, () => {
      const all = engine.containers.list();
      const taken = new Set(all.map((c) => c.name));
      if (o.name !== undefined) {
        nameConflict(engine, o.name, all);
        rec.name = o.name.replace(/^\//, '');
      } else {
        do rec.name = generateName(); while (taken.has(rec.name));
      }
      engine.containers.save(rec);
    });
    return rec;
  } catch (e) {
    await layers.removeTree(dir).catch(() => removeTree(dir));
    throw e;
  }
}
