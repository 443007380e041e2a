import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DOCKER_HUB_ENDPOINT, defaultRegistry, isInsecureRegistry, loadRegistryConfig, parseRegistryConfig,
  registryHostConfig, type RegistrySettings,
} from '../../src/image/registry/registry-config';
import { canonicalString, familiarString, parseReference, setDefaultRegistry } from '../../src/image/reference';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-regcfg-')); });
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const FILE = '/cfg/config.json';
function settings(raw: unknown, hosts = ''): RegistrySettings {
  const hostsFile = path.join(dir, 'hosts');
  fs.writeFileSync(hostsFile, hosts);
  return parseRegistryConfig(raw, FILE, [path.join(dir, 'certs.d')], hostsFile);
}
const urls = (s: RegistrySettings, r: string, over = {}) => registryHostConfig(s, r, over).pullEndpoints.map((e) => e.url);

describe('loadRegistryConfig', () => {
  it('has Docker defaults without a config file', () => {
    const s = loadRegistryConfig({ configRoot: dir, rootless: true });
    expect(defaultRegistry(s)).toBe('docker.io');
    expect(s.certsDirs).toEqual([path.join(dir, 'certs.d')]);
    expect(s.file).toBe(path.join(dir, 'config.json'));
  });

  it('reads the registry keys and ignores the others', () => {
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ storageDriver: 'vfs', defaultRegistry: 'reg.example:5000' }));
    expect(defaultRegistry(loadRegistryConfig({ configRoot: dir, rootless: true }))).toBe('reg.example:5000');
  });

  it('as root also reads the system certs.d directories of Docker and Podman', () => {
    const s = loadRegistryConfig({ configRoot: dir, rootless: false });
    expect(s.certsDirs).toEqual([path.join(dir, 'certs.d'), '/etc/docker/certs.d', '/etc/containers/certs.d']);
  });

  it('names the file on invalid JSON', () => {
    fs.writeFileSync(path.join(dir, 'config.json'), '{"registries": ');
    expect(() => loadRegistryConfig({ configRoot: dir, rootless: true }))
      .toThrow(new RegExp(`^${path.join(dir, 'config.json')}: invalid JSON`));
  });
});

describe('parseRegistryConfig: wrong types name the file and key', () => {
  const cases: [unknown, RegExp][] = [
    [[], /must hold a JSON object/],
    [{ defaultRegistry: 5 }, /"defaultRegistry" must be a registry/],
    [{ defaultRegistry: 'Not A Host/x' }, /"defaultRegistry"/],
    [{ defaultRegistry: 'myreg' }, /"defaultRegistry" must be a registry host\[:port\] with a "." or ":"/],
    [{ insecureRegistries: 'reg:5000' }, /"insecureRegistries" must be a list of strings/],
    [{ insecureRegistries: ['bad host!'] }, /"insecureRegistries" must be registry names .*"bad host!"/],
    [{ registryMirrors: ['mirror.example'] }, /"registryMirrors" .*"mirror.example" is not one/],
    [{ registryMirrors: ['ftp://mirror.example'] }, /"registryMirrors"/],
    [{ registryMirrors: ['https://mirror.example/some/path'] }, /"registryMirrors"/],
    [{ registries: [] }, /"registries" must be an object/],
    [{ registries: { 'reg:5000': { insecure: 'yes' } } }, /"registries.reg:5000.insecure" must be true or false/],
    [{ registries: { 'reg:5000': { mirrors: 'https://m' } } }, /"registries.reg:5000.mirrors" must be a list/],
    [{ registries: { 'reg:5000': { insecur: true } } }, /"registries.reg:5000.insecur" is not a known key/],
    [{ registries: { 'bad host': {} } }, /"registries.bad host": "bad host" is not a registry/],
  ];
  for (const [raw, re] of cases) {
    it(JSON.stringify(raw), () => {
      expect(() => settings(raw)).toThrow(re);
      try { settings(raw); } catch (e) {
        expect((e as Error).message.startsWith(`${FILE}: `)).toBe(true);
        expect((e as { exitCode: number }).exitCode).toBe(125);
      }
    });
  }
});

describe('insecure registries (Docker rules)', () => {
  it('loopback addresses and localhost are insecure by default, other hosts are not', () => {
    const s = settings({});
    for (const r of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000', '[::ffff:127.0.0.1]:5000']) {
      expect(isInsecureRegistry(s, r), r).toBe(true);
    }
    for (const r of ['docker.io', 'reg.example:5000', '10.0.0.1:5000', '[::2]:5000', 'quay.io']) {
      expect(isInsecureRegistry(s, r), r).toBe(false);
    }
  });

  it('insecureRegistries matches names exactly (with the port) and CIDRs by address', () => {
    const s = settings({ insecureRegistries: ['reg.example:5000', '10.1.0.0/16', 'http://plain.example', 'index.docker.io'] });
    expect(isInsecureRegistry(s, 'reg.example:5000')).toBe(true);
    expect(isInsecureRegistry(s, 'reg.example')).toBe(false);
    expect(isInsecureRegistry(s, 'reg.example:5001')).toBe(false);
    expect(isInsecureRegistry(s, 'plain.example')).toBe(true);
    expect(isInsecureRegistry(s, '10.1.2.3:5000')).toBe(true);
    expect(isInsecureRegistry(s, '10.2.0.1:5000')).toBe(false);
    expect(isInsecureRegistry(s, 'docker.io')).toBe(true);
  });

  it('names that /etc/hosts maps into an insecure CIDR are insecure (Docker resolves them)', () => {
    const s = settings({ insecureRegistries: ['192.168.7.0/24'] }, '127.0.0.1 localhost\n192.168.7.9 build-box build # comment\n::1 ip6-localhost\n');
    expect(isInsecureRegistry(s, 'build-box:5000')).toBe(true);
    expect(isInsecureRegistry(s, 'build:5000')).toBe(true);
    expect(isInsecureRegistry(s, 'ip6-localhost:5000')).toBe(true);
    expect(isInsecureRegistry(s, 'comment:5000')).toBe(false);
  });

  it('registries.HOST.insecure overrides, both ways', () => {
    const s = settings({ registries: { 'localhost:5000': { insecure: false }, 'reg.example': { insecure: true } } });
    expect(isInsecureRegistry(s, 'localhost:5000')).toBe(false);
    expect(isInsecureRegistry(s, 'reg.example')).toBe(true);
  });
});

describe('registryHostConfig', () => {
  it('docker.io is registry-1.docker.io over verified https', () => {
    const h = registryHostConfig(settings({}), 'docker.io');
    expect(h).toMatchObject({ registry: 'docker.io', insecure: false });
    expect(h.pullEndpoints).toEqual([{ url: DOCKER_HUB_ENDPOINT, mirror: false, tls: { verify: true } }]);
    expect(h.pushEndpoint).toEqual(h.pullEndpoints[0]);
    expect(registryHostConfig(settings({}), 'index.docker.io').registry).toBe('docker.io');
  });

  it('a secure registry: https only, verified', () => {
    const h = registryHostConfig(settings({}), 'reg.example:5000');
    expect(h.pullEndpoints).toEqual([{ url: 'https://reg.example:5000', mirror: false, tls: { verify: true } }]);
    expect(h.pushEndpoints).toEqual(h.pullEndpoints);
  });

  it('an insecure registry: https without verification, then http (Docker order)', () => {
    const h = registryHostConfig(settings({}), '127.0.0.1:5000');
    expect(h.insecure).toBe(true);
    expect(h.pullEndpoints).toEqual([
      { url: 'https://127.0.0.1:5000', mirror: false, tls: { verify: false } },
      { url: 'http://127.0.0.1:5000', mirror: false, tls: { verify: false } },
    ]);
    expect(h.pushEndpoints).toEqual(h.pullEndpoints);
    expect(h.pushEndpoint.url).toBe('https://127.0.0.1:5000');
  });

  it('--tls-verify overrides the configuration for this command', () => {
    const s = settings({});
    expect(urls(s, 'reg.example', { tlsVerify: false })).toEqual(['https://reg.example', 'http://reg.example']);
    expect(registryHostConfig(s, 'reg.example', { tlsVerify: false }).pullEndpoints[0].tls.verify).toBe(false);
    expect(urls(s, 'localhost:5000', { tlsVerify: true })).toEqual(['https://localhost:5000']);
    expect(registryHostConfig(s, 'localhost:5000', { tlsVerify: true }).insecure).toBe(false);
  });

  it('mirrors come first in config order; registryMirrors are docker.io\'s; push never uses a mirror', () => {
    const s = settings({
      registryMirrors: ['https://hub-mirror.example/', 'http://10.0.0.5:5000'],
      registries: {
        'docker.io': { mirrors: ['https://first.example'] },
        'reg.example': { mirrors: ['https://m1.example:5000', 'https://localhost:6000'] },
      },
    });
    const hub = registryHostConfig(s, 'docker.io');
    expect(hub.pullEndpoints.map((e) => [e.url, e.mirror])).toEqual([
      ['https://first.example', true], ['https://hub-mirror.example', true], ['http://10.0.0.5:5000', true],
      [DOCKER_HUB_ENDPOINT, false],
    ]);
    expect(hub.pushEndpoints.map((e) => e.url)).toEqual([DOCKER_HUB_ENDPOINT]);
    const reg = registryHostConfig(s, 'reg.example');
    expect(reg.pullEndpoints.map((e) => [e.url, e.tls.verify])).toEqual([
      ['https://m1.example:5000', true],
      ['https://localhost:6000', false], // the mirror's own host is insecure
      ['https://reg.example', true],
    ]);
    expect(reg.pushEndpoint).toEqual({ url: 'https://reg.example', mirror: false, tls: { verify: true } });
    expect(urls(s, 'quay.io')).toEqual(['https://quay.io']);
  });
});

describe('certs.d', () => {
  const certs = (host: string) => {
    const d = path.join(dir, 'certs.d', host);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };

  it('every *.crt is a CA, a *.cert/*.key pair is the client certificate, for the registry and its mirrors', () => {
    const d = certs('reg.example:5000');
    fs.writeFileSync(path.join(d, 'ca.crt'), 'CA1');
    fs.writeFileSync(path.join(d, 'other.crt'), 'CA2');
    fs.writeFileSync(path.join(d, 'client.cert'), 'CERT');
    fs.writeFileSync(path.join(d, 'client.key'), 'KEY');
    fs.writeFileSync(path.join(certs('mirror.example'), 'ca.crt'), 'MCA');
    const s = settings({ registries: { 'reg.example:5000': { mirrors: ['https://mirror.example'] } } });
    const h = registryHostConfig(s, 'reg.example:5000');
    const [mirror, own] = h.pullEndpoints;
    expect(own.tls.ca?.map(String)).toEqual(['CA1', 'CA2']);
    expect(String(own.tls.cert)).toBe('CERT');
    expect(String(own.tls.key)).toBe('KEY');
    expect(own.tls.verify).toBe(true);
    expect(mirror.tls.ca?.map(String)).toEqual(['MCA']);
    expect(mirror.tls.cert).toBeUndefined();
  });

  it('an insecure registry still presents its client certificate', () => {
    const d = certs('localhost:5000');
    fs.writeFileSync(path.join(d, 'a.cert'), 'CERT');
    fs.writeFileSync(path.join(d, 'a.key'), 'KEY');
    const h = registryHostConfig(settings({}), 'localhost:5000');
    expect(h.pullEndpoints[0].tls).toMatchObject({ verify: false });
    expect(String(h.pullEndpoints[0].tls.cert)).toBe('CERT');
  });

  it('unpaired client files are an error, as in Docker', () => {
    const d = certs('reg.example');
    fs.writeFileSync(path.join(d, 'client.cert'), 'CERT');
    expect(() => registryHostConfig(settings({}), 'reg.example')).toThrow(/missing key client.key for client certificate .*must use the extension .crt/);
    fs.rmSync(path.join(d, 'client.cert'));
    fs.writeFileSync(path.join(d, 'client.key'), 'KEY');
    expect(() => registryHostConfig(settings({}), 'reg.example')).toThrow(/missing client certificate client.cert for key/);
  });

  it('the first certs.d directory that has the host wins', () => {
    const second = path.join(dir, 'second');
    fs.mkdirSync(path.join(second, 'reg.example'), { recursive: true });
    fs.writeFileSync(path.join(second, 'reg.example', 'ca.crt'), 'SECOND');
    const s = { ...settings({}), certsDirs: [path.join(dir, 'certs.d'), second] };
    expect(registryHostConfig(s, 'reg.example').pushEndpoint.tls.ca?.map(String)).toEqual(['SECOND']);
    fs.writeFileSync(path.join(certs('reg.example'), 'ca.crt'), 'FIRST');
    expect(registryHostConfig(s, 'reg.example').pushEndpoint.tls.ca?.map(String)).toEqual(['FIRST']);
  });

  it('no certs.d directory: no CA option (the system store stays in use)', () => {
    expect(registryHostConfig(settings({}), 'reg.example').pushEndpoint.tls).toEqual({ verify: true });
  });
});

describe('defaultRegistry: where short names go', () => {
  afterEach(() => setDefaultRegistry('docker.io'));

  it('short names go to the configured registry, without library/ (Docker Hub only)', () => {
    setDefaultRegistry(defaultRegistry(settings({ defaultRegistry: 'reg.example:5000' })));
    expect(canonicalString(parseReference('busybox'))).toBe('reg.example:5000/busybox:latest');
    expect(canonicalString(parseReference('team/app:1'))).toBe('reg.example:5000/team/app:1');
    // explicit registries, and docker.io's canonical form, are unchanged
    expect(canonicalString(parseReference('docker.io/busybox'))).toBe('docker.io/library/busybox:latest');
    expect(canonicalString(parseReference('index.docker.io/busybox'))).toBe('docker.io/library/busybox:latest');
    expect(canonicalString(parseReference('localhost/app'))).toBe('localhost/app:latest');
    // the full name of an image on the default registry parses back to it
    const ref = parseReference('busybox');
    expect(parseReference(familiarString(ref))).toEqual(ref);
  });

  it('docker.io (the default) keeps Docker normalisation', () => {
    setDefaultRegistry(defaultRegistry(settings({})));
    expect(canonicalString(parseReference('busybox'))).toBe('docker.io/library/busybox:latest');
    expect(canonicalString(parseReference('user/app'))).toBe('docker.io/user/app:latest');
    expect(familiarString(parseReference('docker.io/library/busybox:1'))).toBe('busybox:1');
    setDefaultRegistry('index.docker.io');
    expect(canonicalString(parseReference('busybox'))).toBe('docker.io/library/busybox:latest');
  });
});
