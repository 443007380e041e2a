import { describe, expect, it } from 'vitest';
import {
  canonicalString,
  digestError,
  familiarName,
  familiarString,
  fullName,
  isValidDigest,
  isValidTag,
  parseReference,
  tryParseReference,
} from '../../src/image/reference';
import { SkiffError } from '../../src/util/errors';

const D = 'sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa';

function err(s: string): SkiffError {
  try {
    parseReference(s);
  } catch (e) {
    expect(e).toBeInstanceOf(SkiffError);
    return e as SkiffError;
  }
  throw new Error(`expected ${JSON.stringify(s)} to be rejected`);
}

describe('parseReference: normalisation', () => {
  const cases: [string, string, string, string | undefined, string | undefined][] = [
    // input, registry, repository, tag, digest
    ['busybox', 'docker.io', 'library/busybox', 'latest', undefined],
    ['busybox:1.36', 'docker.io', 'library/busybox', '1.36', undefined],
    ['user/app', 'docker.io', 'user/app', 'latest', undefined],
    ['docker.io/foo', 'docker.io', 'library/foo', 'latest', undefined],
    ['docker.io/library/foo', 'docker.io', 'library/foo', 'latest', undefined],
    ['docker.io/library/foo/bar', 'docker.io', 'library/foo/bar', 'latest', undefined],
    ['index.docker.io/library/debian', 'docker.io', 'library/debian', 'latest', undefined],
    ['index.docker.io/debian', 'docker.io', 'library/debian', 'latest', undefined],
    ['host:5000/ns/app:tag', 'host:5000', 'ns/app', 'tag', undefined],
    ['localhost/app', 'localhost', 'app', 'latest', undefined],
    ['localhost:5000/app:v1', 'localhost:5000', 'app', 'v1', undefined],
    ['test.com/foo', 'test.com', 'foo', 'latest', undefined],
    ['test_com/foo', 'docker.io', 'test_com/foo', 'latest', undefined],
    ['test-com:8080/foo', 'test-com:8080', 'foo', 'latest', undefined],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo', 'latest', undefined],
    ['127.0.0.1:5000/library/debian', '127.0.0.1:5000', 'library/debian', 'latest', undefined],
    ['[fc00::1]:5000/docker/docker', '[fc00::1]:5000', 'docker/docker', 'latest', undefined],
    ['[fc00:1:2:3:4:5:6:7]:5000/library/debian', '[fc00:1:2:3:4:5:6:7]:5000', 'library/debian', 'latest', undefined],
    // uppercase first component is taken as a host name (Docker)
    ['Foo/bar', 'Foo', 'bar', 'latest', undefined],
    ['DOCKER/docker', 'DOCKER', 'docker', 'latest', undefined],
    // a single component is never a registry, even with a ':'
    ['192.168.0.1:80', 'docker.io', 'library/192.168.0.1', '80', undefined],
    ['localhost:5000', 'docker.io', 'library/localhost', '5000', undefined],
    ['app@' + D, 'docker.io', 'library/app', undefined, D],
    ['app:tag@' + D, 'docker.io', 'library/app', 'tag', D],
    ['host:5000/ns/app@' + D, 'host:5000', 'ns/app', undefined, D],
    ['docker---rules/docker', 'docker.io', 'docker---rules/docker', 'latest', undefined],
    ['dock__er/docker', 'docker.io', 'dock__er/docker', 'latest', undefined],
    ['d/docker', 'docker.io', 'd/docker', 'latest', undefined],
    ['a:Tag_1.0-x', 'docker.io', 'library/a', 'Tag_1.0-x', undefined],
    [
      'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
      'docker.io',
      'library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
      'latest',
      undefined,
    ],
    [
      'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
      'docker.io',
      'library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
      'latest',
      undefined,
    ],
  ];
  for (const [input, registry, repository, tag, digest] of cases) {
    it(input, () => {
      const r = parseReference(input);
      expect(r).toEqual({
        registry,
        repository,
        ...(tag !== undefined ? { tag } : {}),
        ...(digest !== undefined ? { digest } : {}),
      });
      // no stray keys set to undefined
      expect('tag' in r).toBe(tag !== undefined);
      expect('digest' in r).toBe(digest !== undefined);
    });
  }
});

describe('names and strings', () => {
  const cases: [string, string, string][] = [
    ['busybox', 'busybox', 'docker.io/library/busybox'],
    ['library/ubuntu', 'ubuntu', 'docker.io/library/ubuntu'],
    ['fooo/bar', 'fooo/bar', 'docker.io/fooo/bar'],
    ['index.docker.io/fooo/bar', 'fooo/bar', 'docker.io/fooo/bar'],
    ['other/library', 'other/library', 'docker.io/other/library'],
    ['library/foo/bar', 'library/foo/bar', 'docker.io/library/foo/bar'],
    ['127.0.0.1:8000/privatebase', '127.0.0.1:8000/privatebase', '127.0.0.1:8000/privatebase'],
    ['example.com:8000/private/moonbase', 'example.com:8000/private/moonbase', 'example.com:8000/private/moonbase'],
    ['host:5000/ns/app:tag', 'host:5000/ns/app', 'host:5000/ns/app'],
    ['localhost/library/x', 'localhost/library/x', 'localhost/library/x'],
    ['Foo/bar', 'Foo/bar', 'Foo/bar'],
  ];
  for (const [input, familiar, full] of cases) {
    it(input, () => {
      const r = parseReference(input);
      expect(familiarName(r)).toBe(familiar);
      expect(fullName(r)).toBe(full);
    });
  }

  it('familiarString / canonicalString', () => {
    expect(familiarString(parseReference('busybox'))).toBe('busybox:latest');
    expect(canonicalString(parseReference('busybox'))).toBe('docker.io/library/busybox:latest');
    const short = `busybox:latest@${D}`;
    expect(familiarString(parseReference(short))).toBe(short);
    expect(canonicalString(parseReference(short))).toBe(`docker.io/library/${short}`);
    expect(familiarString(parseReference(`u/app@${D}`))).toBe(`u/app@${D}`);
    expect(canonicalString(parseReference(`localhost:5000/a:b`))).toBe('localhost:5000/a:b');
  });
});

describe('parseReference: rejections', () => {
  it('uppercase repository (Docker wording)', () => {
    const e = err('Foo');
    expect(e.message).toBe('invalid reference format: repository name (library/Foo) must be lowercase');
    expect(e.exitCode).toBe(125);
    expect(err('docker/Docker').message).toBe(
      'invalid reference format: repository name (docker/Docker) must be lowercase',
    );
    expect(err('docker.io/docker/Docker').message).toBe(
      'invalid reference format: repository name (docker/Docker) must be lowercase',
    );
    expect(err('host:5000/Foo:tag').message).toBe(
      'invalid reference format: repository name (Foo) must be lowercase',
    );
  });

  it('64-hex identifier is not a repository name', () => {
    const id = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';
    expect(err(id).message).toBe(`invalid repository name (${id}), cannot specify 64-byte hexadecimal strings`);
  });

  it('empty', () => {
    expect(err('').message).toBe('invalid reference format: repository name must have at least one component');
  });

  it('empty tag', () => {
    expect(err('busybox:').message).toBe(
      'invalid reference format: "busybox:" is not a valid image reference (expected [registry/]name[:tag][@digest])',
    );
  });

  const malformed = [
    'https://github.com/docker/docker',
    '-docker',
    '-docker/docker',
    'docker-/docker',
    '-docker.io/docker/docker',
    'docker///docker',
    'docker.io/docker///docker',
    '[fc00::1]',
    '[fc00::1]:5000',
    'fc00::1:5000/debian',
    '[fe80::1%eth0]:5000/debian',
    '[2001:db8:3:4::192.0.2.33]:5000/debian',
    '____/____',
    '_docker/_docker',
    'dock..er/docker',
    'dock_.er/docker',
    'dock-.er/docker',
    'docker/',
    'busybox:-tag',
    'busybox:.tag',
    'busybox:' + 'a'.repeat(129),
    'a b',
    'app@sha256:abc',
    'app@',
    'app:tag:tag',
  ];
  for (const s of malformed) {
    it(`malformed: ${s}`, () => {
      const e = err(s);
      expect(e.message.startsWith('invalid reference format')).toBe(true);
      expect(e.exitCode).toBe(125);
    });
  }

  it('tag of exactly 128 characters is fine', () => {
    expect(parseReference('busybox:' + 'a'.repeat(128)).tag).toBe('a'.repeat(128));
  });

  it('too long repository path', () => {
    const ns = 'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_'.repeat(4);
    expect(err(`${ns}x/docker`).message).toBe(
      'invalid reference format: repository name must not be more than 255 characters',
    );
    // exactly 255 is accepted (path includes the registry-less path only)
    const ok = 'a'.repeat(247) + '/b234567';
    expect(ok.length).toBe(255);
    expect(parseReference(`example.com/${ok}`).repository).toBe(ok);
    expect(err(`example.com/${ok}8`).message).toContain('must not be more than 255 characters');
  });

  it('bad digests', () => {
    const h40 = 'a'.repeat(40);
    expect(err(`app@sha256:${h40}`).message).toBe(`invalid reference format: invalid checksum digest format: "sha256:${h40}"`);
    const upper = 'A'.repeat(64);
    expect(err(`app@sha256:${upper}`).message).toBe(
      `invalid reference format: invalid checksum digest format: "sha256:${upper}"`,
    );
    expect(err(`app@md5:${'a'.repeat(32)}`).message).toBe(
      `invalid reference format: unsupported digest algorithm: "md5:${'a'.repeat(32)}"`,
    );
    expect(parseReference(`app@sha512:${'b'.repeat(128)}`).digest).toBe(`sha512:${'b'.repeat(128)}`);
  });

  it('tryParseReference returns null on error', () => {
    expect(tryParseReference('Foo')).toBeNull();
    expect(tryParseReference('foo')?.repository).toBe('library/foo');
  });
});

describe('helpers', () => {
  it('digestError / isValidDigest', () => {
    expect(digestError(D)).toBeNull();
    expect(isValidDigest(D)).toBe(true);
    expect(isValidDigest('sha256:abc')).toBe(false);
    expect(digestError('sha256')).toBe('invalid checksum digest format');
    expect(digestError(':abc')).toBe('invalid checksum digest format');
    expect(digestError('foo:bar')).toBe('unsupported digest algorithm');
    expect(digestError('FOO:bar')).toBe('invalid checksum digest format');
  });
  it('isValidTag', () => {
    expect(isValidTag('latest')).toBe(true);
    expect(isValidTag('_x')).toBe(true);
    expect(isValidTag('.x')).toBe(false);
    expect(isValidTag('')).toBe(false);
    expect(isValidTag('a'.repeat(129))).toBe(false);
  });
});
