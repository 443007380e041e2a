import { describe, expect, it } from 'vitest';
import { copyPlan, splitCpArg } from '../../src/engine/cp';

describe('cp argument split (Docker\'s splitCpArg)', () => {
  it('NAME:PATH is a container path; absolute and ./ paths are local even with a colon', () => {
    expect(splitCpArg('web:/etc/hosts')).toEqual({ container: 'web', path: '/etc/hosts' });
    expect(splitCpArg('web:etc')).toEqual({ container: 'web', path: 'etc' });
    expect(splitCpArg('/tmp/a:b')).toEqual({ path: '/tmp/a:b' });
    expect(splitCpArg('./a:b')).toEqual({ path: './a:b' });
    expect(splitCpArg('plain')).toEqual({ path: 'plain' });
  });
});

describe('cp path rules (Docker\'s PrepareArchiveCopy)', () => {
  const file = { isDir: false, base: 'f', contentsOnly: false };
  const dir = { isDir: true, base: 'd', contentsOnly: false };
  const dirContents = { isDir: true, base: 'd', contentsOnly: true };
  const existingDir = { path: '/x', exists: true, isDir: true, assertsDir: false };
  const existingFile = { path: '/x/y', exists: true, isDir: false, assertsDir: false };
  const missing = { path: '/x/new', exists: false, isDir: false, assertsDir: false };
  const missingSlash = { path: '/x/new/', exists: false, isDir: false, assertsDir: true };

  it('into an existing directory the source keeps its name; SRC/. puts its contents there', () => {
    expect(copyPlan(file, existingDir)).toEqual({ dir: '/x', name: 'f' });
    expect(copyPlan(dir, existingDir)).toEqual({ dir: '/x', name: 'd' });
    expect(copyPlan(dirContents, existingDir)).toEqual({ dir: '/x', name: '' });
  });
  it('onto a new path or an existing file the source takes that name', () => {
    expect(copyPlan(file, missing)).toEqual({ dir: '/x', name: 'new' });
    expect(copyPlan(dir, missing)).toEqual({ dir: '/x', name: 'new' });
    expect(copyPlan(dir, missingSlash)).toEqual({ dir: '/x', name: 'new' });
    expect(copyPlan(file, existingFile)).toEqual({ dir: '/x', name: 'y' });
  });
  it('a directory never replaces a file; a file cannot go to a missing DIR/', () => {
    expect(() => copyPlan(dir, existingFile)).toThrow(/cannot copy directory/);
    expect(() => copyPlan(file, missingSlash)).toThrow(/no such directory/);
  });
});
