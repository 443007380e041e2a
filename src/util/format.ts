/** Human-readable sizes and durations exactly as Docker prints them (docker/go-units). */

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/**
 * go-units HumanSizeWithPrecision(size, 3): "4.26MB", "1.2kB", "512B". Precision 4 is go-units'
 * HumanSize, which Docker prints for "Total reclaimed space".
 */
export function humanSize(bytes: number, precision = 3): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  // Go's %.3g: three significant digits, trailing zeros trimmed, exponent form when needed.
  const p = size.toPrecision(precision);
  if (p.includes('e')) {
    const [m, e] = p.split('e');
    return `${Number(m)}e${e[0]}${e.slice(1).padStart(2, '0')}${DECIMAL_UNITS[i]}`;
  }
  return `${Number(p)}${DECIMAL_UNITS[i]}`;
}

/** go-units HumanDuration: "Less than a second", "About a minute", "3 hours", "2 weeks"... */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3600000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(Math.floor(ms / 3600000) / 24 / 365)} years`;
}

/**
 * Go's text/tabwriter as Docker configures it (minwidth 10, tabwidth 1, padding 3, spaces):
 * tab-terminated cells are padded to their column's width; the last cell of a line is not.
 * (`docker top` uses minwidth 20.)
 */
export function tabwrite(text: string, minWidth = 10): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const cells of lines) {
    cells.slice(0, -1).forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...c].length);
    });
  }
  return lines.map((cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(Math.max(minWidth, widths[i] + 3)))).join('')).join('\n');
}

/** Print a header and rows as Docker's tabwriter does (trailing blanks trimmed). */
export function table(header: string[], rows: string[][]): string {
  const text = tabwrite([header, ...rows].map((r) => header.map((_, i) => r[i] ?? '').join('\t')).join('\n'));
  return text.split('\n').map((l) => l.trimEnd()).join('\n') + '\n';
}

/** "sha256:abc..." -> first 12 hex chars, as Docker shows IDs. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** Go's time.Time.String() in local time: "2024-01-01 00:00:00 +0000 UTC". */
export function goTimeString(d: Date): string {
  const off = -d.getTimezoneOffset();
  const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');
  const local = new Date(d.getTime() + off * 60000);
  const zone = `${off < 0 ? '-' : '+'}${pad(Math.trunc(off / 60))}${pad(off % 60)}`;
  const date = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  return `${date} ${time} ${zone} ${off === 0 ? 'UTC' : zone}`;
}

/** Go's time.ParseDuration ("1m30s", "500ms"), as nanoseconds; undefined when it is not one. */
export function parseGoDuration(v: string): number | undefined {
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 6e10, h: 3.6e12 };
  if (v === '0') return 0;
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)) return undefined;
  let ns = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ns += Number(m[1]) * unit[m[2]];
  return Math.round(ns);
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** go-units BytesSize: "%.4g" of 1024-based units, as `docker stats` prints memory ("1.465MiB"). */
export function binarySize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1024 && i < BINARY_UNITS.length - 1) {
    size /= 1024;
    i++;
  }
  return `${Number(size.toPrecision(4))}${BINARY_UNITS[i]}`;
}
