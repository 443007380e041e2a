import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate } from '../../src/image/registry/www-authenticate';

describe('parseWwwAuthenticate', () => {
  it('parses a Docker Hub bearer challenge', () => {
    const c = parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"');
    expect(c).toEqual([{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } }]);
  });
  it('parses basic with a realm and unescapes quoted strings', () => {
    expect(parseWwwAuthenticate('Basic realm="a \\"quoted\\" realm"')).toEqual([{ scheme: 'basic', params: { realm: 'a "quoted" realm' } }]);
  });
  it('keeps a scope with commas inside quotes together', () => {
    const [c] = parseWwwAuthenticate('Bearer realm="http://x/t", scope="repository:a:pull,push"');
    expect(c.params.scope).toBe('repository:a:pull,push');
  });
  it('reads several challenges and several header values', () => {
    const c = parseWwwAuthenticate(['Basic realm="r"', 'Bearer realm="http://t",service=svc']);
    expect(c.map((x) => x.scheme)).toEqual(['basic', 'bearer']);
    expect(c[1].params.service).toBe('svc');
  });
  it('returns nothing for an empty header', () => {
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
    expect(parseWwwAuthenticate('')).toEqual([]);
  });
});
