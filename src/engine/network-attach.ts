import fs from 'node:fs';
import { InternalError, UnavailableError } from '../errors';
import { attachFields, holderFiles, holderMode, holderTools, readHolderPid, type HolderFiles, type HolderId } from '../network/user-networks/holder';
import type { NetworkStore } from '../network/user-networks/network-store';
import { gatewayNetworkName } from '../network/user-networks/endpoint';
import { spawnReportingHelper } from '../runtime/monitor-client';
import { isSameLiveProcess } from '../runtime/process-identity';
import { acquireLock, withLock } from '../state/lock';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { networkStore } from './network-create';

/** The networks' namespace, held for one start or connect: release() when the container took its own hold. */
export interface NetworksHold { holder: HolderId; files: HolderFiles; release(): void }

/**
 * Make sure the holder of the user networks' namespace runs, and keep it from exiting until
 * release(): the users lock (shared) first, so a holder we find stays; then, under the start
 * lock, the holder named by its pid file, or a new one (holder.ts says what each file is for).
 */
export async function holdNetworks(engine: Engine): Promise<NetworksHold> {
  if (engine.paths.rootless && !engine.userns?.pauseFile) {
    throw new UnavailableError(`user-defined networks need a subordinate ID range for user ${process.getuid?.()} in /etc/subuid and /etc/subgid (the containers and the networks' namespace must share one user namespace): add one, or use the default network`);
  }
  const files = holderFiles(engine.paths.runRoot);
  engine.ensureDirs();
  fs.mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const release = await acquireLock(files.usersLock, false);
  try {
    const holder = await withLock(files.startLock, () => findOrStartHolder(engine, files));
    return { holder, files, release };
  } catch (e) {
    release();
    throw e;
  }
}

async function findOrStartHolder(engine: Engine, files: HolderFiles): Promise<HolderId> {
  const known = readHolderPid(files.pidFile);
  if (known && isSameLiveProcess(known.pid, String(known.start))) return known;
  const tools = holderTools();
  fs.rmSync(files.pidFile, { force: true });
  const log = fs.openSync(files.log, 'a', 0o600);
  let holder;
  try {
    holder = spawnReportingHelper(engine.userns, holderMode(files, tools), [-1, -1, log]);
  } finally {
    fs.closeSync(log);
  }
  const failure = await holder.ready();
  if (failure) {
    throw new UnavailableError(`cannot start the namespace that holds the user networks: ${failure.message ?? `skiff-helper exited with ${failure.monitorExit}`} (log: ${files.log})`);
  }
  holder.release();
  const id = readHolderPid(files.pidFile);
  if (!id) throw new InternalError(`the user networks' namespace holder reported ready but left no ${files.pidFile}`);
  return id;
}

/** The container's endpoints in interface order, each with its network (which rm keeps while used). */
function endpointsWithNetworks(store: NetworkStore, c: ContainerRecord) {
  return Object.entries(c.endpoints ?? {})
    .sort(([, a], [, b]) => a.ifname.localeCompare(b.ifname, undefined, { numeric: true }))
    .map(([name, endpoint]) => {
      const network = store.list().find((n) => n.id === endpoint.networkId);
      if (!network) throw new UnavailableError(`network ${name} of container ${c.name} was removed: disconnect the container from it (skiff network disconnect ${name} ${c.name})`);
      return { name, network, endpoint };
    });
}

/** Whether a network (by ID) gives its endpoints a gateway: it exists and is not --internal. */
export function hasWayOut(store: NetworkStore): (networkId: string) => boolean {
  const networks = store.list();
  return (id) => networks.some((n) => n.id === id && !n.internal);
}

/**
 * The monitor's records for a container's user networks: every endpoint (the default route
 * through the gateway network, Docker's choice: endpoint.ts gatewayNetworkName) and the users
 * lock its monitor holds for life.
 */
export function networkSpecRecords(engine: Engine, c: ContainerRecord, hold: NetworksHold): { attach: string[][]; usersLock: string } {
  const store = networkStore(engine);
  const gateway = gatewayNetworkName(c.endpoints, hasWayOut(store));
  const attach = endpointsWithNetworks(store, c).map(({ name, network, endpoint }) => attachFields(hold.holder, network, endpoint, name === gateway));
  return { attach, usersLock: hold.files.usersLock };
}
