// `skiff run`: exit codes, stdio, terminals, environment, working directory, users, and how
// the image config (Entrypoint/Cmd/WorkingDir/User/Env) is honoured.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  BUSYBOX,
  CONFIG,
  errorLines,
  hostProcessesMatching,
  looksLikeStackTrace,
  skiff,
  skiffPty,
  store,
  useStore,
  waitFor,
  type RunOptions,
} from './harness';

useStore({ load: ['busybox.docker.tar', 'config.docker.tar'] });

const run = (args: string[], opts?: RunOptions) => skiff(['run', '--rm', ...args], opts);
const inBusybox = (script: string, flags: string[] = [], opts?: RunOptions) =>
  run([...flags, BUSYBOX, 'sh', '-c', script], opts);

describe('exit codes', () => {
  test('true exits 0 with empty stdout and stderr', async () => {
    const r = await run([BUSYBOX, 'true']);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  test("the container's exit code is passed through", async () => {
    const r = await inBusybox('exit 3');
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('');
  });

  test('a container killed by a signal exits 128+N', async () => {
    // PID 1 ignores signals sent from inside its own namespace, so kill it from the host.
    const argv = 'sleep 8123.5';
    const running = run([BUSYBOX, ...argv.split(' ')]);
    const pids = await waitFor(() => {
      const p = hostProcessesMatching(argv, { exact: true });
      return p.length ? p : undefined;
    }, 20_000, 'the container process');
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const r = await running;
    expect(r.code).toBe(137);
  });

  test('an unknown command exits 127 with one line naming it', async () => {
    const r = await run([BUSYBOX, 'nosuchcmd']);
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('nosuchcmd');
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(looksLikeStackTrace(r.stderr)).toBe(false);
  });

  test('an absolute path that does not exist exits 127', async () => {
    const r = await run([BUSYBOX, '/no/such/binary']);
    expect(r.code).toBe(127);
    expect(errorLines(r.stderr)).toHaveLength(1);
  });

  test('a file that is not executable exits 126', async () => {
    const r = await run([BUSYBOX, '/etc/passwd']);
    expect(r.code).toBe(126);
    expect(r.stderr).toContain('/etc/passwd');
    expect(errorLines(r.stderr)).toHaveLength(1);
  });

  test('a directory as the command exits 126', async () => {
    const r = await run([BUSYBOX, '/tmp']);
    expect(r.code).toBe(126);
    expect(errorLines(r.stderr)).toHaveLength(1);
  });

  test('an unknown image (--pull never) exits 125 with one line naming it', async () => {
    const r = await run(['--pull', 'never', 'skiff-test/no-such-image:latest', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('skiff-test/no-such-image');
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  test('an image on an unreachable registry exits 125 with one error line', async () => {
    const r = await run(['127.0.0.1:9/skiff-test/no-such-image:latest', 'true'], { timeoutMs: 40_000 });
    expect(r.code).toBe(125);
    // docker prints "Unable to find image '...' locally" first; the error itself is one line.
    const errs = errorLines(r.stderr).filter((l) => !/^Unable to find image/.test(l));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/127\.0\.0\.1:9/);
    expect(looksLikeStackTrace(r.stderr)).toBe(false);
  });

  test('a malformed reference exits 125 ("invalid reference format")', async () => {
    const r = await run(['Foo', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/invalid reference format/);
    expect(errorLines(r.stderr)).toHaveLength(1);
  });

  test('an unknown user exits 125 with one line naming it', async () => {
    const r = await run(['-u', 'nosuchuser', BUSYBOX, 'id']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('nosuchuser');
    expect(errorLines(r.stderr)).toHaveLength(1);
  });
});

// Flags that are wrong whatever the image must fail before any pull: an image that is not here,
// on a registry that does not answer, shows whether skiff tried to pull first.
describe('flags are checked before the image is pulled', () => {
  const MISSING = '127.0.0.1:9/skiff-test/not-here:latest';
  const before = async (flags: string[], expected: RegExp) => {
    const r = await run([...flags, MISSING, 'true'], { timeoutMs: 40_000 });
    expect(r.code).toBe(125);
    expect(r.stderr).not.toMatch(/Unable to find image|127\.0\.0\.1:9/);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(expected);
  };
  test('an invalid --name', () => before(['--name', 'bad name!'], /Invalid container name \(bad name!\)/));
  test('a --name in use', async () => {
    const c = await skiff(['create', '--name', 'taken-before-pull', BUSYBOX, 'true']);
    expect(c.code).toBe(0);
    await before(['--name', 'taken-before-pull'], /Conflict\. The container name "\/taken-before-pull" is already in use/);
  });
  test('an unknown --network', () => before(['--network', 'nosuchnet'], /network nosuchnet not found/));
  test('a relative --workdir', () => before(['-w', 'rel/dir'], /the working directory 'rel\/dir' is invalid/));
  test('a missing --env-file', () => before(['--env-file', '/nonexistent/skiff.env'], /\/nonexistent\/skiff\.env/));
});

describe('--network bridge', () => {
  test('is the default user-mode network: an interface besides lo, and nothing on stderr', async () => {
    const r = await run(['--network', 'bridge', BUSYBOX, 'sh', '-c', 'ls /sys/class/net']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').filter((i) => i !== 'lo').length).toBe(1);
    expect(r.stderr).toBe('');
  });
});

describe('stdio', () => {
  test('stdout and stderr stay separate', async () => {
    const r = await inBusybox('echo out; echo err >&2; echo out2');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('out\nout2\n');
    expect(r.stderr).toBe('err\n');
  });

  test('-i pipes stdin into the container', async () => {
    const r = await run(['-i', BUSYBOX, 'cat'], { input: 'hi\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hi\n');
  });

  test('-i carries a large stdin completely and the container sees EOF', async () => {
    const big = Buffer.alloc(1 << 20, 'x');
    const r = await run(['-i', BUSYBOX, 'wc', '-c'], { input: big });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(String(1 << 20));
  });

  test('large output is delivered completely', async () => {
    const r = await inBusybox('head -c 3000000 /dev/zero | tr "\\0" y');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.length).toBe(3_000_000);
  });

  test('without -i the container gets an empty stdin', async () => {
    const r = await run([BUSYBOX, 'cat'], { input: 'should not arrive\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
  });

  test('without -t there is no terminal', async () => {
    const r = await run([BUSYBOX, 'tty']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('not a tty\n');
  });
});

describe('terminal (-t) under a pty', () => {
  test('-t gives the container a /dev/pts terminal', async () => {
    const r = await skiffPty(['run', '--rm', '-t', BUSYBOX, 'tty']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\/dev\/pts\/\d+$/);
  });

  test('-t: stdin and stdout are terminals, TERM is set', async () => {
    const r = await skiffPty(['run', '--rm', '-t', BUSYBOX, 'sh', '-c', '[ -t 0 ] && [ -t 1 ] && echo yes; echo "TERM=$TERM"']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^yes$/m);
    expect(r.stdout).toMatch(/^TERM=xterm$/m);
  });

  test('-t passes the exit code through', async () => {
    const r = await skiffPty(['run', '--rm', '-t', BUSYBOX, 'sh', '-c', 'exit 5']);
    expect(r.code).toBe(5);
  });

  test('-it: typed input reaches the container', async () => {
    const r = await skiffPty(['run', '--rm', '-it', BUSYBOX, 'sh', '-c', 'read x; echo "got:$x"'], { input: 'hello\n' });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^got:hello$/m);
  });
});

describe('environment', () => {
  test('default environment: PATH from the image, HOSTNAME, HOME; nothing of skiff leaks in', async () => {
    const r = await run([BUSYBOX, 'env']);
    expect(r.code, r.stderr).toBe(0);
    const env = r.stdout.split('\n').filter(Boolean);
    expect(env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect(env).toContain('HOME=/root');
    expect(env.some((l) => /^HOSTNAME=\S+$/.test(l))).toBe(true);
    expect(env.filter((l) => /^(SKIFF_|XDG_|NODE_|npm_|VITEST)/.test(l))).toEqual([]);
    expect(env).not.toContain(`USER=${os.userInfo().username}`);
  });

  test('-e K=V sets a variable', async () => {
    const r = await inBusybox('echo "$FOO|$EMPTY|"', ['-e', 'FOO=bar baz', '-e', 'EMPTY=']);
    expect(r.stdout).toBe('bar baz||\n');
  });

  test('-e K passes the variable from the caller', async () => {
    const r = await inBusybox('echo "$FROM_HOST"', ['-e', 'FROM_HOST'], { env: { FROM_HOST: 'host value' } });
    expect(r.stdout).toBe('host value\n');
  });

  test('-e overrides the image Env', async () => {
    const r = await inBusybox('echo $PATH', ['-e', 'PATH=/bin']);
    expect(r.stdout).toBe('/bin\n');
  });

  test('--env-file reads K=V lines, skips comments and blanks', async () => {
    const f = path.join(store().dir, 'env.list');
    fs.writeFileSync(f, '# a comment\nA=1\n\nB=two words\nC=x=y\nPASSED\n');
    const r = await inBusybox('echo "$A|$B|$C|$PASSED"', ['--env-file', f], { env: { PASSED: 'from caller' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('1|two words|x=y|from caller\n');
  });

  // Node itself looks for --env-file on its whole command line and would exit 9 before skiff
  // runs; the single executable's execArgv ['--'] (build/build.mjs) keeps it skiff's.
  test('--env-file with a missing file fails with one line naming the file, exit 125', async () => {
    const r = await run(['--env-file', '/nonexistent/env.list', BUSYBOX, 'true']);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('/nonexistent/env.list');
  });
});

describe('working directory', () => {
  test('default working directory is /', async () => {
    expect((await run([BUSYBOX, 'pwd'])).stdout).toBe('/\n');
  });

  test('-w sets it', async () => {
    expect((await run(['-w', '/tmp', BUSYBOX, 'pwd'])).stdout).toBe('/tmp\n');
  });

  test('-w creates a missing directory, as docker does', async () => {
    const r = await run(['-w', '/does/not/exist', BUSYBOX, 'pwd']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('/does/not/exist\n');
  });
});

describe('users', () => {
  test('root by default', async () => {
    const r = await run([BUSYBOX, 'id']);
    expect(r.stdout).toMatch(/^uid=0\(root\) gid=0\(root\)/);
  });

  test('-u 1000 resolves through /etc/passwd', async () => {
    const r = await run(['-u', '1000', BUSYBOX, 'id']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^uid=1000\(app\) gid=1000\(app\)/);
  });

  test('-u app: primary group from passwd, supplementary groups from /etc/group, HOME', async () => {
    const r = await inBusybox('id; echo $HOME', ['-u', 'app']);
    expect(r.code, r.stderr).toBe(0);
    const [id, home] = r.stdout.split('\n');
    expect(id).toMatch(/^uid=1000\(app\) gid=1000\(app\) groups=.*2000\(extra\)/);
    expect(home).toBe('/home/app');
  });

  test('-u app:extra sets the group', async () => {
    const r = await run(['-u', 'app:extra', BUSYBOX, 'id']);
    expect(r.stdout).toMatch(/^uid=1000\(app\) gid=2000\(extra\)/);
  });

  test('-u 1000:2000 numeric', async () => {
    const r = await run(['-u', '1000:2000', BUSYBOX, 'id']);
    expect(r.stdout).toMatch(/^uid=1000\(app\) gid=2000\(extra\)/);
  });

  test('-u with a uid not in /etc/passwd uses gid 0', async () => {
    const r = await run(['-u', '4242', BUSYBOX, 'id']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^uid=4242 gid=0\(root\)/);
  });

  test('a non-root user cannot write where root owns', async () => {
    const r = await inBusybox('touch /etc/x 2>/dev/null && echo wrote || echo denied; touch /home/app/x && echo ok', ['-u', 'app']);
    expect(r.stdout).toBe('denied\nok\n');
  });
});

describe('image config', () => {
  test('Entrypoint + Cmd', async () => {
    const r = await run([CONFIG]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('entry default\n');
  });

  test('arguments replace Cmd, not Entrypoint', async () => {
    expect((await run([CONFIG, 'x', 'y'])).stdout).toBe('entry x y\n');
  });

  test('WorkingDir from the image (and --entrypoint resets Cmd)', async () => {
    const r = await run(['--entrypoint', 'pwd', CONFIG]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('/home/app\n');
  });

  test('User from the image', async () => {
    const r = await run(['--entrypoint', 'id', CONFIG]);
    expect(r.stdout).toMatch(/^uid=1000\(app\) gid=1000\(app\)/);
  });

  test('Env from the image, and -e overrides it', async () => {
    expect((await run(['--entrypoint', 'sh', CONFIG, '-c', 'echo $FOO'])).stdout).toBe('bar\n');
    expect((await run(['-e', 'FOO=baz', '--entrypoint', 'sh', CONFIG, '-c', 'echo $FOO'])).stdout).toBe('baz\n');
  });

  test('-u and -w override the image', async () => {
    const r = await run(['-u', '0', '-w', '/tmp', '--entrypoint', 'sh', CONFIG, '-c', 'id -u; pwd']);
    expect(r.stdout).toBe('0\n/tmp\n');
  });

  test('--entrypoint with arguments on an image without Entrypoint', async () => {
    const r = await run(['--entrypoint', '/bin/echo', BUSYBOX, 'hello', 'world']);
    expect(r.stdout).toBe('hello world\n');
  });

  test('the default Cmd of busybox is sh, which reads stdin with -i', async () => {
    const r = await run(['-i', BUSYBOX], { input: 'echo from-stdin-sh\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('from-stdin-sh\n');
  });
});
