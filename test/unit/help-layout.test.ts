// The flag table is laid out as Docker lays it out: Docker's own flags, fed to skiff's layout,
// must give back the exact bytes the real docker 28 binary printed (golden/docker/).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatFlags, wrapText, type FlagRow } from '../../src/cli/help/layout';

const golden = (f: string) => fs.readFileSync(path.join(__dirname, 'golden', 'docker', f), 'utf8');

/** The lines of SECTION ("Options:") in a help text, up to the next blank line. */
function section(text: string, head: string): string {
  const lines = text.split('\n');
  const start = lines.indexOf(head);
  const end = lines.indexOf('', start);
  return lines.slice(start + 1, end === -1 ? undefined : end).join('\n');
}

const FORMAT_HELP = "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

describe('flag table (pflag layout)', () => {
  it('docker ps: sorted by name, one description column, wrapped at 79 with Docker\'s slack', () => {
    const rows: FlagRow[] = [
      { short: 'q', long: 'quiet', type: '', text: 'Only display container IDs' },
      { short: 'a', long: 'all', type: '', text: 'Show all containers (default shows just running)' },
      { short: 'f', long: 'filter', type: 'filter', text: 'Filter output based on conditions provided' },
      { long: 'format', type: 'string', text: FORMAT_HELP },
      { short: 'n', long: 'last', type: 'int', text: 'Show n last created containers (includes all states) (default -1)' },
      { short: 'l', long: 'latest', type: '', text: 'Show the latest created container (includes all states)' },
      { long: 'no-trunc', type: '', text: "Don't truncate output" },
      { short: 's', long: 'size', type: '', text: 'Display total file sizes' },
    ];
    expect(formatFlags(rows, 79)).toBe(section(golden('ps.txt'), 'Options:'));
  });

  it('docker pull', () => {
    const rows: FlagRow[] = [
      { short: 'a', long: 'all-tags', type: '', text: 'Download all tagged images in the repository' },
      { long: 'disable-content-trust', type: '', text: 'Skip image verification (default true)' },
      { long: 'platform', type: 'string', text: 'Set platform if server is multi-platform capable' },
      { short: 'q', long: 'quiet', type: '', text: 'Suppress verbose output' },
    ];
    expect(formatFlags(rows, 79)).toBe(section(golden('pull.txt'), 'Options:'));
  });

  it('docker --help: Global Options', () => {
    const rows: FlagRow[] = [
      { long: 'config', type: 'string', text: 'Location of client config files (default "/root/.docker")' },
      { short: 'c', long: 'context', type: 'string', text: 'Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var and default context set with "docker context use")' },
      { short: 'D', long: 'debug', type: '', text: 'Enable debug mode' },
      { short: 'H', long: 'host', type: 'list', text: 'Daemon socket to connect to' },
      { short: 'l', long: 'log-level', type: 'string', text: 'Set the logging level ("debug", "info", "warn", "error", "fatal") (default "info")' },
      { long: 'tls', type: '', text: 'Use TLS; implied by --tlsverify' },
      { long: 'tlscacert', type: 'string', text: 'Trust certs signed only by this CA (default "/root/.docker/ca.pem")' },
      { long: 'tlscert', type: 'string', text: 'Path to TLS certificate file (default "/root/.docker/cert.pem")' },
      { long: 'tlskey', type: 'string', text: 'Path to TLS key file (default "/root/.docker/key.pem")' },
      { long: 'tlsverify', type: '', text: 'Use TLS and verify the remote' },
      { short: 'v', long: 'version', type: '', text: 'Print version information and quit' },
    ];
    expect(formatFlags(rows, 79)).toBe(section(golden('help.txt'), 'Global Options:'));
  });

  it('too narrow beside the flags: the description goes below, indented by 16', () => {
    expect(wrapText(60, 79, 'a b')).toBe('\n                a b');
  });

  it('no wrapping at width 0: embedded newlines keep the column', () => {
    expect(wrapText(10, 0, 'one\ntwo')).toBe('one\n          two');
  });
});
