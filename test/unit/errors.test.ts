import fs from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  asSkiffError, ConflictError, EXIT_CODES, exitCodeOf, InternalError, InvalidError, NotFoundError, SkiffError,
  TemplateError, UpstreamError, UsageError,
} from '../../src/errors';
import { SkiffError as UtilSkiffError } from '../../src/util/errors';

describe('error kinds -> Docker exit codes', () => {
  test('most verbs exit 1 on an engine error, run/create 125; usage 125 and templates 64 everywhere', () => {
    for (const E of [NotFoundError, ConflictError, InvalidError, UpstreamError, InternalError]) {
      expect(exitCodeOf(new E('x'), 'verb')).toBe(1);
      expect(exitCodeOf(new E('x'), 'run')).toBe(125);
      expect(new E('x').exitCode).toBe(1);
    }
    expect(exitCodeOf(new UsageError('x'), 'verb')).toBe(125);
    expect(exitCodeOf(new UsageError('x'), 'run')).toBe(125);
    expect(exitCodeOf(new TemplateError('x'), 'verb')).toBe(64);
    expect(EXIT_CODES['exec-not-found'].run).toBe(127);
    expect(EXIT_CODES['exec-denied'].run).toBe(126);
  });

  test('kinds are SkiffErrors; new SkiffError(message, code) keeps its code (125 by default), as from util/errors', () => {
    expect(UtilSkiffError).toBe(SkiffError);
    expect(new NotFoundError('No such container: x')).toBeInstanceOf(SkiffError);
    expect(new NotFoundError('x').kind).toBe('not-found');
    expect(exitCodeOf(new SkiffError('x'))).toBe(125);
    expect(exitCodeOf(new SkiffError('x', 1))).toBe(1);
    expect(exitCodeOf(new SkiffError('x', 130))).toBe(130);
    // run wraps a plain failure as 125, and keeps 126/127 (the command could not be executed)
    expect(exitCodeOf(new SkiffError('x', 1), 'run')).toBe(125);
    expect(exitCodeOf(new SkiffError('x', 127), 'run')).toBe(127);
  });

  test('a raw Node system error becomes one line in Go\'s words, with its kind', () => {
    let enoent: unknown;
    try { fs.readFileSync('/nonexistent/skiff-errors-test'); } catch (e) { enoent = e; }
    const a = asSkiffError(enoent);
    expect(a.message).toBe('open /nonexistent/skiff-errors-test: no such file or directory');
    expect(a.kind).toBe('not-found');
    expect(exitCodeOf(enoent, 'verb')).toBe(1);
    expect(exitCodeOf(enoent, 'run')).toBe(125);
    const eacces = Object.assign(new Error("EACCES: permission denied, mkdir '/root/x'"), { code: 'EACCES', syscall: 'mkdir', path: '/root/x' });
    expect(asSkiffError(eacces).message).toBe('mkdir /root/x: permission denied');
    expect(asSkiffError(eacces).kind).toBe('unavailable');
    const bug = asSkiffError(new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(bug.kind).toBe('internal');
    expect(bug.message).toBe("Cannot read properties of undefined (reading 'x')");
  });
});
