import type { PortBound } from './ports';

/**
 * Published ports through skiff's own forwarder (native/helper/port_forward.c, the model of
 * Podman's rootlessport): the monitor binds each host port in the host's network namespace and,
 * at each run, a forwarder that entered the container's network namespace relays every TCP
 * connection (splice, no Node and no helper in the data path) and UDP datagram to the
 * container's own address there. The container sees that address as the peer, not the client's
 * (slirp4netns's own port handler keeps the client's address: port_handler=slirp4netns).
 *
 * Used by the slirp4netns default network (unless port_handler=slirp4netns), pasta's TCP ports,
 * and user-defined networks, whose containers the host reaches no other way. On the first two,
 * TCP ports are handed to the server's own socket once it binds them (port_handoff.c).
 */

/** The monitor's `port-forward` records: PROTO HOST_IP HOST_PORT CTR_IP CTR_PORT. */
export function portForwardRecords(bound: readonly PortBound[], containerAddress: string): string[][] {
  return bound.map((p) => [p.protocol, p.hostIp, String(p.hostPort), containerAddress, String(p.containerPort)]);
}
