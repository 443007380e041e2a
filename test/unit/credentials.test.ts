import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DOCKER_HUB_AUTH_KEY, authKey, eraseCredentials, getCredentials, inDockerConfig, registryFromServer, storeCredentials,
} from '../../src/image/registry/credentials';

let dir: string;
let paths: { configRoot: string; dockerConfigDir: string };
let savedPath: string | undefined;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const authFile = () => path.join(paths.configRoot, 'auth.json');
const readAuth = () => JSON.parse(fs.readFileSync(authFile(), 'utf8'));
const writeJson = (f: string, v: unknown) => { fs.mkdirSync(path.dirname(f), { recursive: true }); fs.writeFileSync(f, JSON.stringify(v)); };

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-creds-'));
  paths = { configRoot: path.join(dir, 'skiff'), dockerConfigDir: path.join(dir, 'docker') };
  savedPath = process.env.PATH;
});
afterEach(() => {
  process.env.PATH = savedPath;
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A real docker-credential-NAME helper: a shell script keeping one file per server URL in
 * STORE, speaking the protocol (get/store/erase, "credentials not found in native keychain").
 */
function installHelper(name: string): string {
  const bin = path.join(dir, 'bin');
  const store = path.join(dir, `store-${name}`);
  fs.mkdirSync(bin, { recursive: true });
  fs.mkdirSync(store, { recursive: true });
  const script = `#!/bin/sh
store='${store}'
input=$(cat)
echo "$1 $input" >> "$store.log"
key=$(printf '%s' "$input" | od -An -tx1 | tr -d ' \\n')
case "$1" in
  get)
    server=$input
    f=$(printf '%s' "$server" | od -An -tx1 | tr -d ' \\n')
    if [ -f "$store/$f" ]; then cat "$store/$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store)
    server=$(printf '%s' "$input" | sed 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/')
    f=$(printf '%s' "$server" | od -An -tx1 | tr -d ' \\n')
    printf '%s' "$input" > "$store/$f" ;;
  erase)
    f=$key
    if [ -f "$store/$f" ]; then rm "$store/$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  *) echo "unknown action"; exit 1 ;;
esac
`;
  fs.writeFileSync(path.join(bin, `docker-credential-${name}`), script, { mode: 0o755 });
  process.env.PATH = `${bin}:${savedPath}`;
  return store;
}
const helperLog = (store: string) => fs.readFileSync(`${store}.log`, 'utf8').trim().split('\n');

describe('server names and keys (Docker)', () => {
  it('login/logout SERVER arguments become registries', () => {
    expect(registryFromServer('docker.io')).toBe('docker.io');
    expect(registryFromServer('index.docker.io')).toBe('docker.io');
    expect(registryFromServer('registry-1.docker.io')).toBe('docker.io');
    expect(registryFromServer(DOCKER_HUB_AUTH_KEY)).toBe('docker.io');
    expect(registryFromServer('https://localhost:5000/v2/')).toBe('localhost:5000');
    expect(registryFromServer('http://reg.example')).toBe('reg.example');
    expect(registryFromServer('reg.example:5000/some/path')).toBe('reg.example:5000');
  });
  it('Docker Hub is filed under https://index.docker.io/v1/, others under host[:port]', () => {
    expect(authKey('docker.io')).toBe(DOCKER_HUB_AUTH_KEY);
    expect(authKey('localhost:5000')).toBe('localhost:5000');
  });
});

describe('skiff auth file', () => {
  it('stores Docker config.json format with mode 0600 and reads it back', async () => {
    await storeCredentials(paths, 'localhost:5000', 'alice', 'pa:ss');
    await storeCredentials(paths, 'docker.io', 'bob', 'hub');
    expect(fs.statSync(authFile()).mode & 0o777).toBe(0o600);
    expect(readAuth()).toEqual({ auths: { 'localhost:5000': { auth: b64('alice:pa:ss') }, [DOCKER_HUB_AUTH_KEY]: { auth: b64('bob:hub') } } });
    expect(await getCredentials(paths, 'localhost:5000')).toEqual({ username: 'alice', password: 'pa:ss' });
    expect(await getCredentials(paths, 'docker.io')).toEqual({ username: 'bob', password: 'hub' });
    expect(await getCredentials(paths, 'localhost:5001')).toBeUndefined();
  });

  it('keeps unknown keys and other registries when writing', async () => {
    writeJson(authFile(), { auths: { 'other:1': { auth: b64('o:p'), email: 'x@y' } }, HttpHeaders: { 'X-A': 'b' }, psFormat: 'table' });
    await storeCredentials(paths, 'reg.example', 'u', 'p');
    const cfg = readAuth();
    expect(cfg.HttpHeaders).toEqual({ 'X-A': 'b' });
    expect(cfg.psFormat).toBe('table');
    expect(cfg.auths['other:1']).toEqual({ auth: b64('o:p'), email: 'x@y' });
    expect(await eraseCredentials(paths, 'reg.example')).toBe(true);
    expect(readAuth()).toEqual({ auths: { 'other:1': { auth: b64('o:p'), email: 'x@y' } }, HttpHeaders: { 'X-A': 'b' }, psFormat: 'table' });
  });

  it('matches keys written with a scheme or a path, as Docker does', async () => {
    writeJson(authFile(), { auths: {
      'https://reg.example:5000/v2/': { auth: b64('a:1') },
      'http://plain.example': { username: 'b', password: '2' },
      'docker.io': { auth: b64('c:3') },
    } });
    expect(await getCredentials(paths, 'reg.example:5000')).toEqual({ username: 'a', password: '1' });
    expect(await getCredentials(paths, 'plain.example')).toEqual({ username: 'b', password: '2' });
    expect(await getCredentials(paths, 'docker.io')).toEqual({ username: 'c', password: '3' });
    expect(await getCredentials(paths, 'reg.example')).toBeUndefined();
  });

  it('identity tokens', async () => {
    writeJson(authFile(), { auths: { 'reg.example': { auth: b64('u:'), identitytoken: 'refresh-me' } } });
    expect(await getCredentials(paths, 'reg.example')).toEqual({ identityToken: 'refresh-me' });
  });

  it('erase removes every spelling of the registry and says whether there was one', async () => {
    writeJson(authFile(), { auths: { 'reg.example': { auth: b64('a:1') }, 'https://reg.example': { auth: b64('a:1') }, 'keep:1': { auth: b64('k:k') } } });
    expect(await eraseCredentials(paths, 'reg.example')).toBe(true);
    expect(Object.keys(readAuth().auths)).toEqual(['keep:1']);
    expect(await eraseCredentials(paths, 'reg.example')).toBe(false);
    expect(await eraseCredentials({ ...paths, configRoot: path.join(dir, 'none') }, 'reg.example')).toBe(false);
  });

  it('an empty entry (a helper placeholder) is not a login', async () => {
    writeJson(authFile(), { auths: { 'reg.example': {} } });
    expect(await getCredentials(paths, 'reg.example')).toBeUndefined();
  });

  it('invalid files are one clear error naming the file and key', async () => {
    fs.mkdirSync(paths.configRoot, { recursive: true });
    fs.writeFileSync(authFile(), '{"auths": [');
    await expect(getCredentials(paths, 'x.example')).rejects.toThrow(new RegExp(`^${authFile()}: invalid JSON`));
    writeJson(authFile(), { auths: [] });
    await expect(getCredentials(paths, 'x.example')).rejects.toThrow(/"auths" must be an object/);
    writeJson(authFile(), { auths: { 'x.example': 'nope' } });
    await expect(getCredentials(paths, 'x.example')).rejects.toThrow(/"auths.x.example" must be an object/);
    writeJson(authFile(), { credsStore: 7 });
    await expect(getCredentials(paths, 'x.example')).rejects.toThrow(/"credsStore" must be a helper name/);
    writeJson(authFile(), { credHelpers: { 'x.example': true } });
    await expect(getCredentials(paths, 'x.example')).rejects.toThrow(/"credHelpers" must be an object/);
    writeJson(authFile(), { auths: { 'x.example': { auth: b64('no-colon') } } });
    await expect(getCredentials(paths, 'x.example')).rejects.toThrow(/not base64 of "user:password"/);
  });
});

describe("Docker's config.json as a fallback", () => {
  it('is read when skiff has nothing, and never written', async () => {
    const dockerFile = path.join(paths.dockerConfigDir, 'config.json');
    writeJson(dockerFile, { auths: { [DOCKER_HUB_AUTH_KEY]: { auth: b64('hubuser:hubpw') }, 'reg.example': { auth: b64('d:1') } } });
    const before = fs.readFileSync(dockerFile, 'utf8');
    expect(await getCredentials(paths, 'docker.io')).toEqual({ username: 'hubuser', password: 'hubpw' });
    expect(await inDockerConfig(paths, 'docker.io')).toBe(true);
    await storeCredentials(paths, 'reg.example', 's', '2');
    expect(await getCredentials(paths, 'reg.example')).toEqual({ username: 's', password: '2' }); // skiff's own wins
    expect(await eraseCredentials(paths, 'docker.io')).toBe(false);
    expect(fs.readFileSync(dockerFile, 'utf8')).toBe(before);
  });

  it('honours $DOCKER_CONFIG', async () => {
    const saved = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = path.join(dir, 'elsewhere');
    try {
      writeJson(path.join(dir, 'elsewhere', 'config.json'), { auths: { 'reg.example': { auth: b64('e:1') } } });
      expect(await getCredentials({ configRoot: paths.configRoot }, 'reg.example')).toEqual({ username: 'e', password: '1' });
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG; else process.env.DOCKER_CONFIG = saved;
    }
  });

  it('a helper it names that is not installed is skipped (pulls stay anonymous)', async () => {
    writeJson(path.join(paths.dockerConfigDir, 'config.json'), { credsStore: 'not-installed-here' });
    expect(await getCredentials(paths, 'reg.example')).toBeUndefined();
  });
});

describe('credential helpers (docker-credential-NAME protocol)', () => {
  it('credsStore: store, get, erase through the helper; the auth file keeps no secret', async () => {
    const store = installHelper('shelltest');
    writeJson(authFile(), { credsStore: 'shelltest' });
    await storeCredentials(paths, 'reg.example:5000', 'hu', 'hp');
    await storeCredentials(paths, 'docker.io', 'hubu', 'hubp');
    expect(readAuth()).toEqual({ credsStore: 'shelltest' });
    expect(await getCredentials(paths, 'reg.example:5000')).toEqual({ username: 'hu', password: 'hp' });
    expect(await getCredentials(paths, 'docker.io')).toEqual({ username: 'hubu', password: 'hubp' });
    expect(await getCredentials(paths, 'other.example')).toBeUndefined();
    expect(await eraseCredentials(paths, 'reg.example:5000')).toBe(true);
    expect(await getCredentials(paths, 'reg.example:5000')).toBeUndefined();
    expect(await eraseCredentials(paths, 'reg.example:5000')).toBe(false);
    const log = helperLog(store);
    expect(log[0]).toBe('store {"ServerURL":"reg.example:5000","Username":"hu","Secret":"hp"}');
    expect(log[1]).toBe(`store {"ServerURL":"${DOCKER_HUB_AUTH_KEY}","Username":"hubu","Secret":"hubp"}`);
    expect(log).toContain('get reg.example:5000');
    expect(log).toContain(`get ${DOCKER_HUB_AUTH_KEY}`);
    expect(log).toContain('erase reg.example:5000');
  });

  it('credHelpers per registry win over credsStore and the auths', async () => {
    installHelper('one');
    const two = installHelper('two');
    writeJson(authFile(), { credsStore: 'one', credHelpers: { 'special.example': 'two' }, auths: { 'special.example': { auth: b64('file:pw') } } });
    await storeCredentials(paths, 'special.example', 'viaTwo', 'pw2');
    expect(helperLog(two)[0]).toContain('"Username":"viaTwo"');
    expect(await getCredentials(paths, 'special.example')).toEqual({ username: 'viaTwo', password: 'pw2' });
    expect(fs.existsSync(`${path.join(dir, 'store-one')}.log`)).toBe(false);
  });

  it('an identity token comes back from a helper with Username "<token>"', async () => {
    const store = installHelper('tok');
    const f = Buffer.from('reg.example').toString('hex');
    fs.writeFileSync(path.join(store, f), JSON.stringify({ ServerURL: 'reg.example', Username: '<token>', Secret: 'refresh' }));
    writeJson(authFile(), { credHelpers: { 'reg.example': 'tok' } });
    expect(await getCredentials(paths, 'reg.example')).toEqual({ identityToken: 'refresh' });
  });

  it('helper failures and a missing helper are clear errors', async () => {
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'docker-credential-broken'), '#!/bin/sh\ncat >/dev/null\necho "keychain locked"\nexit 3\n', { mode: 0o755 });
    fs.writeFileSync(path.join(bin, 'docker-credential-garbage'), '#!/bin/sh\ncat >/dev/null\necho "not json"\n', { mode: 0o755 });
    process.env.PATH = `${bin}:${savedPath}`;
    writeJson(authFile(), { credHelpers: { 'a.example': 'broken', 'b.example': 'garbage', 'c.example': 'absent' } });
    await expect(getCredentials(paths, 'a.example')).rejects.toThrow('error getting credentials with docker-credential-broken: keychain locked');
    await expect(storeCredentials(paths, 'a.example', 'u', 'p')).rejects.toThrow('error storing credentials with docker-credential-broken: keychain locked');
    await expect(getCredentials(paths, 'b.example')).rejects.toThrow(/docker-credential-garbage get: answered something that is not JSON/);
    await expect(getCredentials(paths, 'c.example')).rejects.toThrow(/docker-credential-absent is not in \$PATH .*auth.json/);
  });
});
