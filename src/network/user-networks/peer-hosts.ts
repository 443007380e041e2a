/**
 * The user networks' part of a container's /etc/hosts: one block at the end, between marker
 * lines, that skiff rewrites whenever a peer starts, connects or disconnects; the rest of the
 * file (own name, --add-host, host entries) is left as it is.
 */
export interface HostsEntry { ip: string; names: string[] }

const BEGIN = '# skiff user networks: begin';
const END = '# skiff user networks: end';

export function withPeerEntries(text: string, entries: readonly HostsEntry[]): string {
  const start = text.indexOf(`${BEGIN}\n`);
  const stop = text.indexOf(`${END}\n`);
  const base = start >= 0 && stop > start ? text.slice(0, start) + text.slice(stop + END.length + 1) : text;
  if (entries.length === 0) return base;
  const lines = entries.map((e) => `${e.ip}\t${[...new Set(e.names.filter(Boolean))].join(' ')}\n`);
  return `${base}${base === '' || base.endsWith('\n') ? '' : '\n'}${BEGIN}\n${lines.join('')}${END}\n`;
}
