// skiff login / logout against real registries on 127.0.0.1: htpasswd Basic auth over TLS and
// Bearer tokens (test/e2e/registry.ts). Credentials must be checked by the registry before they
// are stored, used by pull afterwards, and kept in a credential helper when one is configured.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, looksLikeStackTrace, runCommand, skiff, skiffBin, useStore } from './harness';
import { DEFAULT_USERS, useRegistry, type Registry } from './registry';

const store = useStore({ load: [] });
const basic = useRegistry({ auth: 'basic-tls' });
const token = useRegistry({ auth: 'token', tls: true });
const plainToken = useRegistry({ auth: 'token' });
const [alice, bob] = DEFAULT_USERS;

const authFile = () => path.join(store().configDir, 'auth.json');
const readAuth = () => JSON.parse(fs.readFileSync(authFile(), 'utf8'));
const b64 = (s: string) => Buffer.from(s).toString('base64');
const loginStdin = (reg: Registry, user: string, password: string, extra: string[] = [], env?: Record<string, string>) =>
  skiff(['login', '-u', user, '--password-stdin', ...extra, reg.host], { input: `${password}\n`, env });

describe('login with htpasswd Basic auth over TLS', () => {
  test('a wrong password is refused by the registry: exit 1, nothing stored', async () => {
    const r = await loginStdin(basic(), alice.name, 'wrong');
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr).join('\n')).toMatch(/unauthorized/);
    expect(r.stdout).not.toContain('Login Succeeded');
    expect(looksLikeStackTrace(r.stderr)).toBe(false);
    expect(fs.existsSync(authFile())).toBe(false);
  });

  test('--password-stdin: Login Succeeded, the Docker config.json format, mode 0600', async () => {
    const r = await loginStdin(basic(), alice.name, alice.password);
    expect(r.stdout).toBe('Login Succeeded\n');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`WARNING! Your credentials are stored unencrypted in '${authFile()}'`);
    expect(readAuth()).toEqual({ auths: { [basic().host]: { auth: b64(`${alice.name}:${alice.password}`) } } });
    expect(fs.statSync(authFile()).mode & 0o777).toBe(0o600);
  });

  test('pull uses the stored credentials; after logout the registry refuses it', async () => {
    const ref = await basic().seed(BUSYBOX, 'private/busybox:latest');
    const pulled = await skiff(['pull', '-q', ref]);
    expect(pulled.stderr).toBe('');
    expect(pulled.code).toBe(0);

    const out = await skiff(['logout', basic().host]);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(`Removing login credentials for ${basic().host}\n`);
    expect(readAuth()).toEqual({ auths: {} });

    await skiff(['rmi', ref]);
    const anon = await skiff(['pull', '-q', ref]);
    expect(anon.code).not.toBe(0);
    expect(errorLines(anon.stderr).join('\n')).toMatch(/unauthorized|authentication required/);

    const again = await skiff(['logout', `https://${basic().host}/v2/`]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`Not logged in to ${basic().host}\n`);
  });

  test('-p works with a warning; without -u and -p the stored credentials are tried first', async () => {
    const r = await skiff(['login', '-u', alice.name, '-p', alice.password, basic().host]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
    const again = await skiff(['login', basic().host]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`Authenticating with existing credentials... [Username: ${alice.name}]\n`
      + "To login with a different account, run 'skiff logout' followed by 'skiff login'\n\nLogin Succeeded\n");
    await skiff(['logout', basic().host]);
  });

  test('on a terminal, login asks for the username and the password', async () => {
    // script(1) gives skiff a pseudo-terminal and types our input into it.
    const r = await runCommand('script', ['-qec', `${skiffBin()} login ${basic().host}`, '/dev/null'],
      { input: `${alice.name}\n${alice.password}\n` });
    expect(r.stdout).toContain('Username: ');
    expect(r.stdout).toContain('Password: ');
    expect(r.stdout).toContain('Login Succeeded');
    expect(r.code).toBe(0);
    expect(readAuth().auths[basic().host]).toEqual({ auth: b64(`${alice.name}:${alice.password}`) });
    await skiff(['logout', basic().host]);
  });

  test("Docker's usage errors", async () => {
    const noUser = await skiff(['login', '--password-stdin', basic().host], { input: 'x\n' });
    expect(noUser.code).toBe(1);
    expect(errorLines(noUser.stderr)).toEqual(['skiff: Must provide --username with --password-stdin']);
    const noTty = await skiff(['login', basic().host]);
    expect(noTty.code).toBe(1);
    expect(errorLines(noTty.stderr)).toEqual(['skiff: Cannot perform an interactive login from a non TTY device']);
    const both = await skiff(['login', '-u', 'a', '-p', 'b', '--password-stdin', basic().host], { input: 'x\n' });
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('--password and --password-stdin are mutually exclusive');
    const logout = await skiff(['logout']);
    expect(logout.stdout).toBe('Not logged in to https://index.docker.io/v1/\n');
    expect(logout.code).toBe(0);
  });

  test('certs.d CA: --tls-verify=true trusts the registry only with its ca.crt', async () => {
    // 127.0.0.1 is insecure by default (as in Docker): --tls-verify=true makes skiff verify.
    const refused = await loginStdin(basic(), alice.name, alice.password, ['--tls-verify=true']);
    expect(refused.code).not.toBe(0);
    expect(errorLines(refused.stderr).join('\n')).toMatch(/certificate/i);
    // no advice about Node.js flags (the runtime's own words), which a skiff user cannot pass
    expect(refused.stderr).not.toMatch(/Node\.js|--use-system-ca/);
    const dir = path.join(store().configDir, 'certs.d', basic().host);
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(basic().caFile!, path.join(dir, 'ca.crt'));
    try {
      const ok = await loginStdin(basic(), alice.name, alice.password, ['--tls-verify=true']);
      expect(ok.stderr).not.toMatch(/error/i);
      expect(ok.code).toBe(0);
    } finally {
      fs.rmSync(path.join(store().configDir, 'certs.d'), { recursive: true, force: true });
      await skiff(['logout', basic().host]);
    }
  });

  test("credentials in Docker's config.json ($DOCKER_CONFIG) are used, and left alone by logout", async () => {
    const dockerDir = path.join(store().dir, 'docker-config');
    fs.mkdirSync(dockerDir, { recursive: true });
    const docker = { auths: { [`https://${basic().host}`]: { auth: b64(`${alice.name}:${alice.password}`) } } };
    fs.writeFileSync(path.join(dockerDir, 'config.json'), JSON.stringify(docker));
    const env = { DOCKER_CONFIG: dockerDir };
    const ref = basic().ref('private/busybox:latest');
    const pulled = await skiff(['pull', '-q', ref], { env });
    expect(pulled.stderr).toBe('');
    expect(pulled.code).toBe(0);
    const out = await skiff(['logout', basic().host], { env });
    expect(out.stdout).toBe(`Not logged in to ${basic().host}\n`);
    expect(out.stderr).toContain(`still holds credentials for ${basic().host} (skiff reads them): remove them with 'docker logout ${basic().host}'`);
    expect(JSON.parse(fs.readFileSync(path.join(dockerDir, 'config.json'), 'utf8'))).toEqual(docker);
    await skiff(['rmi', ref]);
  });
});

describe('login with Bearer tokens', () => {
  test('alice logs in; a wrong password for bob is refused by the token server', async () => {
    const ok = await loginStdin(token(), alice.name, alice.password);
    expect(ok.stdout).toBe('Login Succeeded\n');
    expect(ok.code).toBe(0);
    expect(token().tokenRequests.some((t) => t.user === alice.name)).toBe(true);
    const denied = await loginStdin(token(), bob.name, 'not-bobs');
    expect(denied.code).toBe(1);
    expect(errorLines(denied.stderr).join('\n')).toMatch(/unauthorized/);
    // the failed login left alice's stored credentials as they were
    expect(readAuth().auths[token().host]).toEqual({ auth: b64(`${alice.name}:${alice.password}`) });
    expect((await skiff(['logout', token().host])).stdout).toBe(`Removing login credentials for ${token().host}\n`);
  });
});

describe('an insecure registry over plain HTTP', () => {
  test('127.0.0.1 is insecure by default (as in Docker): https is tried, then http', async () => {
    const ok = await loginStdin(plainToken(), alice.name, alice.password);
    expect(ok.stdout).toBe('Login Succeeded\n');
    expect(ok.code).toBe(0);
    const denied = await loginStdin(plainToken(), alice.name, 'wrong');
    expect(denied.code).toBe(1);
    expect(errorLines(denied.stderr).join('\n')).toMatch(/unauthorized/);
    // --tls-verify=true: https only, which this registry does not speak
    const verified = await loginStdin(plainToken(), alice.name, alice.password, ['--tls-verify=true']);
    expect(verified.code).not.toBe(0);
    await skiff(['logout', plainToken().host]);
  });
});

describe('credential helpers', () => {
  /** docker-credential-e2e: a real helper script keeping one file per server URL. */
  function installHelper(): { env: Record<string, string>; log: () => string[] } {
    const bin = path.join(store().dir, 'helper-bin');
    const keep = path.join(store().dir, 'helper-store');
    fs.mkdirSync(bin, { recursive: true });
    fs.mkdirSync(keep, { recursive: true });
    fs.writeFileSync(path.join(bin, 'docker-credential-e2e'), `#!/bin/sh
input=$(cat)
echo "$1 $input" >> '${keep}/log'
case "$1" in
  store) server=$(printf '%s' "$input" | sed 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/') ;;
  *) server=$input ;;
esac
f='${keep}/'$(printf '%s' "$server" | od -An -tx1 | tr -d ' \\n')
case "$1" in
  get) [ -f "$f" ] && exec cat "$f"; echo "credentials not found in native keychain"; exit 1 ;;
  store) printf '%s' "$input" > "$f" ;;
  erase) rm -f "$f" ;;
esac
`, { mode: 0o755 });
    return {
      env: { PATH: `${bin}:${process.env.PATH}` },
      log: () => fs.readFileSync(path.join(keep, 'log'), 'utf8').trim().split('\n'),
    };
  }

  test('credsStore: login stores through the helper, pull gets from it, logout erases', async () => {
    const helper = installHelper();
    fs.mkdirSync(store().configDir, { recursive: true });
    fs.writeFileSync(authFile(), JSON.stringify({ credsStore: 'e2e', detachKeys: 'ctrl-x' }));
    const ok = await loginStdin(basic(), alice.name, alice.password, [], helper.env);
    expect(ok.stdout).toBe('Login Succeeded\n');
    expect(ok.stderr).not.toContain('unencrypted');
    expect(ok.code).toBe(0);
    expect(readAuth()).toEqual({ credsStore: 'e2e', detachKeys: 'ctrl-x' });
    expect(helper.log()).toContain(`store {"ServerURL":"${basic().host}","Username":"${alice.name}","Secret":"${alice.password}"}`);

    const ref = basic().ref('private/busybox:latest');
    const pulled = await skiff(['pull', '-q', ref], { env: helper.env });
    expect(pulled.stderr).toBe('');
    expect(pulled.code).toBe(0);
    expect(helper.log()).toContain(`get ${basic().host}`);

    const out = await skiff(['logout', basic().host], { env: helper.env });
    expect(out.stdout).toBe(`Removing login credentials for ${basic().host}\n`);
    expect(helper.log()).toContain(`erase ${basic().host}`);
    expect((await skiff(['logout', basic().host], { env: helper.env })).stdout).toBe(`Not logged in to ${basic().host}\n`);
  });

  test('a helper that is not installed is a clear error', async () => {
    fs.writeFileSync(authFile(), JSON.stringify({ credHelpers: { [basic().host]: 'absent' } }));
    const r = await loginStdin(basic(), alice.name, alice.password);
    expect(r.code).not.toBe(0);
    expect(errorLines(r.stderr).join('\n')).toContain('docker-credential-absent is not in $PATH');
    fs.rmSync(authFile());
  });
});
