// `container inspect` and `inspect` of containers: Docker's JSON for what the container was
// asked to be, its state through the lifecycle, --format, --type and -s.
import { describe, expect, test } from 'vitest';
import { BUSYBOX, fixtureInfo, skiff, uniqueName, useStore, waitFor } from './harness';

useStore();

async function ok(args: string[]) {
  const r = await skiff(args);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}
async function inspect(name: string, args: string[] = []) {
  return JSON.parse((await ok(['container', 'inspect', ...args, name])).stdout)[0];
}

describe('container inspect', () => {
  test('shows what create was asked: name, env, cmd, entrypoint, user, workdir, hostname, --rm, tty', async () => {
    const name = uniqueName('insp');
    await ok(['create', '--name', name, '-e', 'FOO=bar baz', '-u', '1:2', '-w', '/tmp', '-h', 'myhost', '-t', '-i',
      '--entrypoint', '/bin/echo', '--cap-add', 'NET_ADMIN', '--cap-drop', 'CHOWN', '--security-opt', 'no-new-privileges',
      BUSYBOX, 'one', 'two']);
    const j = await inspect(name);
    expect(j.Id).toMatch(/^[0-9a-f]{64}$/);
    expect(j.Name).toBe(`/${name}`);
    expect(j.Path).toBe('/bin/echo');
    expect(j.Args).toEqual(['one', 'two']);
    expect(j.Image).toBe(fixtureInfo()[BUSYBOX].id);
    expect(j.Config.Image).toBe(BUSYBOX);
    expect(j.Config.Entrypoint).toEqual(['/bin/echo']);
    expect(j.Config.Cmd).toEqual(['one', 'two']);
    expect(j.Config.Env).toContain('FOO=bar baz');
    expect(j.Config.User).toBe('1:2');
    expect(j.Config.WorkingDir).toBe('/tmp');
    expect(j.Config.Hostname).toBe('myhost');
    expect([j.Config.Tty, j.Config.OpenStdin, j.Config.AttachStdin, j.Config.AttachStdout, j.Config.StdinOnce]).toEqual([true, true, true, true, true]);
    expect(j.HostConfig.AutoRemove).toBe(false);
    expect(j.HostConfig.NetworkMode).toBe('bridge') // Docker's name for the default network;
    expect(j.HostConfig.CapAdd).toEqual(['NET_ADMIN']);
    expect(j.HostConfig.CapDrop).toEqual(['CHOWN']);
    expect(j.HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
    expect(j.HostConfig.RestartPolicy).toEqual({ Name: 'no', MaximumRetryCount: 0 });
    expect(j.State).toMatchObject({ Status: 'created', Running: false, Pid: 0, ExitCode: 0, StartedAt: '0001-01-01T00:00:00Z' });
    expect(j.Mounts).toEqual([]);
    expect(Object.keys(j.NetworkSettings.Networks)).toEqual(['bridge']);
  });

  test('image defaults: Cmd from the image, no entrypoint, WorkingDir empty; run -d attaches nothing; --rm is AutoRemove', async () => {
    const name = uniqueName('insp');
    await ok(['run', '-d', '--rm', '--name', name, BUSYBOX, 'sleep', '30']);
    const j = await inspect(name);
    expect(j.Config.Cmd).toEqual(['sleep', '30']);
    expect(j.Config.Entrypoint).toBeNull();
    expect(j.Config.WorkingDir).toBe('');
    expect([j.Config.AttachStdin, j.Config.AttachStdout, j.Config.AttachStderr]).toEqual([false, false, false]);
    expect(j.HostConfig.AutoRemove).toBe(true);
    await ok(['rm', '-f', name]);
  });

  test('state through the lifecycle: created, running (with its PID), exited with its code', async () => {
    const name = uniqueName('life');
    await ok(['create', '--name', name, BUSYBOX, 'sh', '-c', 'sleep 2; exit 3']);
    const fmt = '{{.State.Status}} {{.State.Running}} {{.State.ExitCode}}';
    expect((await ok(['inspect', '-f', fmt, name])).stdout).toBe('created false 0\n');
    await ok(['start', name]);
    const running = await inspect(name);
    expect(running.State.Status).toBe('running');
    expect(running.State.Running).toBe(true);
    expect(running.State.Pid).toBeGreaterThan(0);
    expect(Date.parse(running.State.StartedAt)).toBeGreaterThan(0);
    await waitFor(async () => (await ok(['inspect', '-f', '{{.State.Status}}', name])).stdout === 'exited\n', 20_000);
    const exited = await inspect(name);
    expect(exited.State).toMatchObject({ Status: 'exited', Running: false, Pid: 0, ExitCode: 3 });
    expect(Date.parse(exited.State.FinishedAt)).toBeGreaterThanOrEqual(Date.parse(exited.State.StartedAt));
  });

  test('-s adds SizeRw (the writable layer) and SizeRootFs (plus the image)', async () => {
    const name = uniqueName('size');
    await ok(['run', '--name', name, BUSYBOX, 'sh', '-c', 'head -c 12345 /dev/zero > /big']);
    const j = await inspect(name, ['-s']);
    expect(j.SizeRw).toBeGreaterThanOrEqual(12345);
    expect(j.SizeRw).toBeLessThan(20000);
    expect(j.SizeRootFs).toBeGreaterThan(j.SizeRw);
    expect((await inspect(name)).SizeRw).toBeUndefined();
  });
});

describe('inspect dispatch', () => {
  test('a container first, then an image; --type picks one; missing names are errors after the others', async () => {
    const name = uniqueName('disp');
    const id = (await ok(['create', '--name', name, BUSYBOX, 'true'])).stdout.trim();
    const both = await skiff(['inspect', '-f', '{{.Id}}', name, BUSYBOX]);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toBe(`${id}\n${fixtureInfo()[BUSYBOX].id}\n`);
    // a name that is both a container and an image: the container
    const tag = `${name}:latest`;
    await ok(['tag', BUSYBOX, tag]);
    expect((await ok(['inspect', '-f', '{{.Id}}', name])).stdout).toBe(`${id}\n`);
    expect((await ok(['inspect', '--type', 'image', '-f', '{{.Id}}', name])).stdout).toBe(`${fixtureInfo()[BUSYBOX].id}\n`);
    await ok(['rmi', tag]);
    const asImage = await skiff(['inspect', '--type', 'image', name]);
    expect(asImage.code).toBe(1);
    expect(asImage.stderr).toBe(`skiff: No such image: ${name}\n`);
    const asContainer = await skiff(['inspect', '--type', 'container', '-f', '{{.Name}}', BUSYBOX, name]);
    expect(asContainer.code).toBe(1);
    expect(asContainer.stdout).toBe(`/${name}\n`);
    expect(asContainer.stderr).toBe(`skiff: No such container: ${BUSYBOX}\n`);
    const ci = await skiff(['container', 'inspect', 'no-such-ctr']);
    expect(ci.code).toBe(1);
    expect(ci.stdout).toBe('[]\n');
    expect(ci.stderr).toBe('skiff: No such container: no-such-ctr\n');
  });
});
