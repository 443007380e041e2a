/**
 * `skiff login` / `skiff logout`, with Docker's behaviour and wording: credentials are checked
 * against the registry (GET /v2/ with them) before they are stored; without -u/-p the stored
 * ones are tried first; a non-terminal stdin cannot be prompted.
 */
import type { Readable, Writable } from 'node:stream';
import type { ReadStream } from 'node:tty';
import { DEFAULT_REGISTRY } from '../image/reference';
import { RegistryClient } from '../image/registry/client';
import {
  DOCKER_HUB_AUTH_KEY, dockerConfigFile, eraseCredentials, getCredentials, inDockerConfig, registryFromServer,
  serverHostname, skiffAuthFile, storeCredentials, usesCredentialHelper, type Credentials,
} from '../image/registry/credentials';
import { registryHostConfig } from '../image/registry/registry-config';
import { SkiffError } from '../util/errors';
import type { Engine } from './context';

export interface LoginOptions {
  server?: string;
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  tlsVerify?: boolean;
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
}

export async function login(engine: Engine, o: LoginOptions): Promise<void> {
  let password = o.password;
  if (password !== undefined && password !== '') {
    o.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    if (o.passwordStdin) throw new SkiffError('--password and --password-stdin are mutually exclusive', 1);
  }
  if (o.passwordStdin) {
    if (!o.username) throw new SkiffError('Must provide --username with --password-stdin', 1);
    password = (await readAll(o.stdin)).replace(/\n$/, '').replace(/\r$/, '');
  }
  // `docker login docker.io` is Docker Hub, like no server at all.
  const registry = o.server ? registryFromServer(o.server) : DEFAULT_REGISTRY;
  const host = registryHostConfig(engine.registries, registry, { tlsVerify: o.tlsVerify });
  const verify = async (c: Credentials) => {
    const client = new RegistryClient(host, c);
    try { await client.ping(); } finally { await client.close(); }
  };

  // Without -u and -p, Docker first tries what is stored.
  if (!o.username && !password) {
    const stored = await getCredentials(engine.paths, registry);
    if (stored) {
      o.stdout.write(`Authenticating with existing credentials...${'username' in stored && stored.username ? ` [Username: ${stored.username}]` : ''}\n`
        + "To login with a different account, run 'skiff logout' followed by 'skiff login'\n\n");
      try {
        await verify(stored);
        o.stdout.write('Login Succeeded\n');
        return;
      } catch (e) {
        o.stderr.write(/unauthorized/.test((e as Error).message)
          ? 'Stored credentials invalid or expired\n'
          : `Login did not succeed, error: ${(e as Error).message}\n`);
      }
    }
  }

  let username = o.username ?? '';
  if (!username || !password) {
    if (!o.stdin.isTTY) throw new SkiffError('Cannot perform an interactive login from a non TTY device', 1);
    const tty = o.stdin as unknown as ReadStream;
    if (!username) {
      o.stdout.write('Username: ');
      username = (await readLine(tty)).trim();
      if (!username) throw new SkiffError('Non-null Username Required', 1);
    }
    if (!password) {
      o.stdout.write('Password: ');
      password = await readHidden(tty);
      o.stdout.write('\n');
      if (!password) throw new SkiffError('Password Required', 1);
    }
  }

  await verify({ username, password: password! });
  try {
    await storeCredentials(engine.paths, registry, username, password!);
  } catch (e) {
    throw new SkiffError(`Error saving credentials: ${(e as Error).message}`, 1);
  }
  if (!usesCredentialHelper(engine.paths, registry)) {
    o.stderr.write(`WARNING! Your credentials are stored unencrypted in '${skiffAuthFile(engine.paths)}'.\n`
      + 'Configure a credential helper (credsStore or credHelpers in that file) to remove this warning.\n\n');
  }
  o.stdout.write('Login Succeeded\n');
}

export interface LogoutOptions { server?: string; stdout: Writable; stderr: Writable }

/** Docker's logout: says which server, or that there was no login; exits 0 either way. */
export async function logout(engine: Engine, o: LogoutOptions): Promise<void> {
  const registry = o.server ? registryFromServer(o.server) : DEFAULT_REGISTRY;
  // Docker names the server as given (without scheme and path), or Hub's index URL by default.
  const shown = o.server ? serverHostname(o.server) : DOCKER_HUB_AUTH_KEY;
  if (await eraseCredentials(engine.paths, registry)) {
    o.stdout.write(`Removing login credentials for ${shown}\n`);
    return;
  }
  o.stdout.write(`Not logged in to ${shown}\n`);
  if (await inDockerConfig(engine.paths, registry)) {
    o.stderr.write(`WARNING! ${dockerConfigFile(engine.paths)} still holds credentials for ${shown} (skiff reads them): `
      + `remove them with 'docker logout ${shown}'\n`);
  }
}

async function readAll(input: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks).toString('utf8');
}

/** One line from a terminal in its normal (cooked) mode. */
function readLine(tty: ReadStream): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      tty.off('data', onData);
      tty.pause();
      resolve(buf.slice(0, nl).replace(/\r$/, ''));
    };
    tty.on('data', onData);
    tty.resume();
  });
}

/** A password from a terminal without echo (raw mode; backspace edits, Ctrl-C aborts). */
function readHidden(tty: ReadStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const finish = (err?: SkiffError) => {
      tty.off('data', onData);
      tty.setRawMode(false);
      tty.pause();
      if (err) reject(err); else resolve(buf);
    };
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new SkiffError('login interrupted', 130));
        if (ch === '\u007f' || ch === '\b') buf = [...buf].slice(0, -1).join('');
        else buf += ch;
      }
    };
    tty.setRawMode(true);
    tty.on('data', onData);
    tty.resume();
  });
}
