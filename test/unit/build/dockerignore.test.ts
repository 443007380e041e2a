import { describe, expect, test } from 'vitest';
import { BuildError } from '../../../src/errors';
import { parseDockerignore, PathMatcher, readIgnoreFile } from '../../../src/build/context/dockerignore';

const excluded = (patterns: string[], path: string) => new PathMatcher(patterns).excludes(path);

describe('.dockerignore file', () => {
  test('comments, blank lines, spaces, cleaning, leading slash, BOM', () => {
    const text = '\uFEFF# comment\n\n  node_modules/  \n/build\n./a//b/../c\n! keep.md\n #not a comment\n';
    expect(readIgnoreFile(text)).toEqual(['node_modules', 'build', 'a/c', '!keep.md', '#not a comment']);
  });

  test('a lone ! is an error', () => {
    expect(() => parseDockerignore('!\n')).toThrow(new BuildError('illegal exclusion pattern: "!"'));
  });

  test('a bad pattern is an error', () => {
    expect(() => parseDockerignore('[\n')).toThrow(BuildError);
  });
});

describe("Docker's pattern rules", () => {
  test.each([
    ['*', 'fileutils.go', true],
    ['*.go', 'fileutils.go', true],
    ['*.go', 'dir/fileutils.go', false],
    ['docs', 'docs/README.md', true],
    ['docs/*', 'docs/README.md', true],
    ['**', 'dir/file', true],
    ['**/', 'file', true],
    ['dir/**', 'dir/file', true],
    ['dir/**', 'dir/dir2/file', true],
    ['abc/**', 'abc', false],
    ['**/dir', 'dir', true],
    ['**/dir', 'a/b/dir/file', true],
    ['**/dir2/*', 'dir/dir2/file', true],
    ['**/dir2/**', 'dir/dir2/dir3/file', true],
    ['**file', 'dir/dir/file', true],
    ['**/file*.txt', 'dir/dir/file.txt', true],
    ['**/**/*.txt2', 'dir/dir/file.txt', false],
    ['**/*.txt', 'file.txt', true],
    ['a**/*.txt', 'a/dir/dir/file.txt', true],
    ['a/*.txt', 'a/dir/file.txt', false],
    ['a/*.txt', 'a/file.txt', true],
    ['a[b-d]e', 'ace', true],
    ['a[b-d]e', 'aae', false],
    ['a[^b-d]e', 'aze', true],
    ['.*', '.foo', true],
    ['.*', 'foo', false],
    ['abc.def', 'abcZdef', false],
    ['abc?def', 'abcZdef', true],
    ['abc?def', 'abcdef', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['**/foo/bar', 'foo/bar', true],
    ['**/.foo', 'bar.foo', false],
    ['a(b)c/def', 'a(b)c/def', true],
    ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
    ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
    ['node_modules', 'node_modules/x/y/z.js', true],
    ['secret', 'secret.txt', false],
  ])('%s ~ %s → %s', (pattern, path, want) => {
    expect(excluded([pattern], path)).toBe(want);
  });

  test('the last matching pattern wins; ! re-includes', () => {
    expect(excluded(['*.go', '!fileutils.go'], 'fileutils.go')).toBe(false);
    expect(excluded(['!fileutils.go', '*.go'], 'fileutils.go')).toBe(true);
    expect(excluded(['docs', '!docs/README.md'], 'docs/README.md')).toBe(false);
    expect(excluded(['docs', '!docs/README.md'], 'docs/other.md')).toBe(true);
    expect(excluded(['**', '!util/docker/web'], 'util/docker/web/foo')).toBe(false);
    expect(excluded(['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo')).toBe(true);
    expect(excluded(['*.md', '!README*.md', 'README-secret.md'], 'README-secret.md')).toBe(true);
    expect(excluded(['*.md', '!README*.md', 'README-secret.md'], 'README.md')).toBe(false);
  });

  test('the root is never excluded; hasExclusions says whether to walk excluded dirs', () => {
    expect(excluded(['**'], '.')).toBe(false);
    expect(new PathMatcher(['a']).hasExclusions).toBe(false);
    expect(new PathMatcher(['a', '!a/b']).hasExclusions).toBe(true);
    expect(new PathMatcher([]).empty).toBe(true);
  });
});
