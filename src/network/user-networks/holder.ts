import fs from 'node:fs';
import path from 'node:path';
import { UnavailableError } from '../../errors';
import { findOnPath } from '../../util/which';
import type { NetworkRecord } from './network-store';
import type { Endpoint } from './endpoint';
import { bridgeName } from './endpoint';

/**
 * The files of the network namespace holder (native/helper/net_holder.c), in the run root:
 *  - holder.pid: "PID START" of the running holder, written by it once it is ready;
 *  - users.lock: shared by every monitor of a container on a user network for its life, and by
 *    skiff while it starts one; the holder exits once it can take it exclusively and no
 *    container's veth is left in its namespace;
 *  - start.lock: exclusive while one skiff checks for the holder and starts it, so two never do;
 *  - holder.log: the holder's and slirp4netns's stderr.
 */
export interface HolderFiles { dir: string; pidFile: string; usersLock: string; startLock: string; log: string }

export function holderFiles(runRoot: string): HolderFiles {
  const dir = path.join(runRoot, 'networks');
  return {
    dir, pidFile: path.join(dir, 'holder.pid'), usersLock: path.join(dir, 'users.lock'),
    startLock: path.join(dir, 'start.lock'), log: path.join(dir, 'holder.log'),
  };
}

export interface HolderId { pid: number; start: string }

export function readHolderPid(file: string): HolderId | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^(\d+) (\d+)\n?$/.exec(text);
  return m ? { pid: Number(m[1]), start: m[2] } : undefined;
}

/**
 * The holder's NAT and filter rules (nftables, inside its own namespace): what leaves through
 * slirp4netns's tap0 is masqueraded to slirp's guest address, only bridges of networks with a
 * way out ("skn…", endpoint.ts) may forward there, and nothing is forwarded between bridges,
 * so containers on different networks cannot reach each other. Frames within one bridge are
 * switched, not forwarded (the holder turns bridge-nf-call-iptables off).
 */
export const HOLDER_RULES = `table inet skiff {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "skn*" oifname "tap0" accept
  }
  chain postrouting {
    type nat hook postrouting priority 100;
    oifname "tap0" masquerade
  }
}
`;

/** Where slirp4netns and nft are, or what to install. */
export function holderTools(): { slirp4netns: string; nft: string } {
  const extra = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };
  const slirp4netns = findOnPath('slirp4netns', extra);
  const nft = findOnPath('nft', extra);
  if (!slirp4netns) throw new UnavailableError('user-defined networks need slirp4netns for their way out, which is not installed: install the slirp4netns package');
  if (!nft) throw new UnavailableError('user-defined networks need nft for their NAT rules, which is not installed: install the nftables package');
  return { slirp4netns, nft };
}

/** skiff-helper's mode line for the holder. */
export function holderMode(files: HolderFiles, tools: { slirp4netns: string; nft: string }): string[] {
  return ['net-holder', files.pidFile, files.usersLock, tools.slirp4netns, tools.nft, HOLDER_RULES];
}

/**
 * The fields of one attachment (the monitor's `net-attach` record, or net-connect's arguments
 * after the container): holder, bridge and its gateway address, interface, address, MAC, and
 * the gateway for the default route ('' for none: an internal network, or not the first).
 */
export function attachFields(holder: HolderId, n: NetworkRecord, e: Endpoint, defaultRoute: boolean): string[] {
  const prefix = n.subnet.split('/')[1];
  return [String(holder.pid), holder.start, bridgeName(n), `${n.gateway}/${prefix}`, e.ifname,
    `${e.ipAddress}/${e.prefixLen}`, e.macAddress, defaultRoute && !n.internal ? e.gateway : ''];
}
