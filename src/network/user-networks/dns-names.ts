/**
 * The names file of a container's embedded DNS server (native/helper/dns_message.c reads it,
 * in the container's monitor, again whenever it was replaced): what the server answers for on
 * the container's networks. One line per container per network, the networks in the
 * container's interface order (the server answers from the first network that has a name, as
 * Docker's), each container with its monitor's PID and start time (the server answers only
 * while that monitor runs, so a container that stopped stops resolving at once, with nobody
 * rewriting the file; "0 0" is the container itself), its address and its DNS names: Docker's
 * DNSNames, the name, aliases, short ID and hostname. `external` when the container has a way
 * out: only then does the server ask the host's resolvers.
 */
/** The names file in the container directory. */
export const DNS_NAMES_FILE = 'dns-names';

export interface DnsNamesEntry { network: string; monitor?: { pid: number; start: string }; ip: string; names: string[] }

export function dnsNamesText(external: boolean, entries: readonly DnsNamesEntry[]): string {
  const lines = entries.map((e) => {
    // DNS names are matched without case; one with a blank or a control character is no name a query can ask for
    const names = [...new Set(e.names.map((n) => n.toLowerCase()).filter((n) => n && !/[\s\x00-\x1f\x7f]/.test(n)))];
    return names.length ? `${e.network} ${e.monitor ? `${e.monitor.pid} ${e.monitor.start}` : '0 0'} ${e.ip} ${names.join(' ')}\n` : '';
  });
  return `# skiff embedded DNS: NETWORK MONITOR_PID MONITOR_START IPV4 NAMES...\n${external ? 'external\n' : ''}${lines.join('')}`;
}
