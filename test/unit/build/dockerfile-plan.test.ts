import { describe, expect, test } from 'vitest';
import { BuildError } from '../../../src/errors';
import { parseDockerfile } from '../../../src/build/dockerfile/parser';
import { planBuild, stageArgScope, type PlanOptions } from '../../../src/build/dockerfile/plan';
import { platformArgs } from '../../../src/build/dockerfile/args';
import type { CopyInstruction, RunInstruction } from '../../../src/build/dockerfile/types';

const plan = (text: string, options?: PlanOptions) => planBuild(parseDockerfile(text, 'Dockerfile'), options);
const order = (text: string, options?: PlanOptions) => plan(text, options).stages.map((s) => s.stage.name ?? s.stage.index);

const multi = `
FROM busybox AS base
RUN echo base
FROM base AS deps
RUN echo deps
FROM busybox AS unrelated
RUN echo never
FROM busybox AS tools
FROM deps AS build
COPY --from=tools /bin/x /x
RUN --mount=type=bind,from=unrelated2,target=/u true
FROM unrelated AS unrelated2
FROM scratch AS final
COPY --from=build /out /out
`;

describe('stage planning', () => {
  test('only the stages the target needs, dependencies first, target last', () => {
    // build needs deps (its base, which needs base), tools (COPY --from) and unrelated2 (mount from, itself on unrelated)
    expect(order(multi)).toEqual(['base', 'deps', 'tools', 'unrelated', 'unrelated2', 'build', 'final']);
    expect(order(multi, { target: 'DEPS' })).toEqual(['base', 'deps']);
    expect(order(multi, { target: 'tools' })).toEqual(['tools']);
  });

  test('bases and references resolved: stage, image, scratch, index, build context', () => {
    const text = 'FROM busybox AS a\nFROM a AS two\nCOPY --from=0 /x /x\nCOPY --from=alpine:3 /y /y\nCOPY --from=ctx /z /z\nRUN --mount=from=a,target=/m x\nFROM scratch\n';
    const p = plan(text, { contexts: new Set(['ctx']), target: 'two' });
    const [a, second] = p.stages;
    expect(p.stages).toHaveLength(2);
    expect(a.base).toEqual({ kind: 'image', ref: 'busybox' });
    expect(second.base).toEqual({ kind: 'stage', index: 0 });
    const [c0, c1, c2, run] = second.stage.instructions as [CopyInstruction, CopyInstruction, CopyInstruction, RunInstruction];
    expect(second.refs.get(c0)).toEqual({ kind: 'stage', index: 0 });
    expect(second.refs.get(c1)).toEqual({ kind: 'image', ref: 'alpine:3' });
    // a bare name that is no stage: an image, with a hint for the error when it cannot be pulled
    const typo = plan('FROM busybox AS build\nFROM scratch\nCOPY --from=biuld /x /x\nCOPY --from=nginx /y /y\n');
    expect([...typo.stages[0].refs.values()]).toEqual([
      { kind: 'image', ref: 'biuld', notAStage: 'no build stage named "biuld" (did you mean build?)' },
      { kind: 'image', ref: 'nginx', notAStage: 'no build stage named "nginx"' },
    ]);
    expect(second.refs.get(c2)).toEqual({ kind: 'context', name: 'ctx' });
    expect(second.refs.get(run.mounts[0])).toEqual({ kind: 'stage', index: 0 });
    // without --target the last stage is the target, and needs nothing else
    const last = plan(text, { contexts: new Set(['ctx']) });
    expect(last.stages.map((s) => s.base)).toEqual([{ kind: 'scratch' }]);
  });

  test('a build context replaces an image of that name in FROM', () => {
    expect(plan('FROM base\n', { contexts: new Set(['base']) }).stages[0].base).toEqual({ kind: 'context', name: 'base' });
  });

  test('FROM expanded with the global args and --build-arg; undeclared ones warned about', () => {
    const text = 'ARG TAG=1.36\nARG REPO\nFROM --platform=$TARGETPLATFORM busybox:$TAG\nFROM $REPO$NOPE:x\n';
    const p = plan(text, { buildArgs: new Map([['REPO', 'alpine']]), automaticArgs: platformArgs({ os: 'linux', architecture: 'amd64' }) });
    expect(p.stages[0].base).toEqual({ kind: 'image', ref: 'alpine:x' });
    expect(p.warnings).toEqual([{ file: 'Dockerfile', line: 4, rule: 'UndefinedArgInFrom', message: "UndefinedArgInFrom: FROM argument 'NOPE' is not declared" }]);
    const first = plan(text, { target: undefined, buildArgs: new Map([['TAG', 'musl']]), automaticArgs: platformArgs({ os: 'linux', architecture: 'amd64' }) });
    expect(first.globals.get('TAG')).toBe('musl');
    expect(plan('ARG TAG=1\nFROM busybox:$TAG AS a\nFROM a\n').stages[0].base).toEqual({ kind: 'image', ref: 'busybox:1' });
    const withPlatform = plan('FROM --platform=$BUILDPLATFORM busybox\n', { automaticArgs: platformArgs({ os: 'linux', architecture: 'arm64' }) });
    expect(withPlatform.stages[0].platform).toBe('linux/arm64');
  });

  test('a stage scope inherits the global args with a bare ARG', () => {
    const p = plan('ARG V=1\nFROM busybox\nARG V\n');
    const scope = stageArgScope(p);
    scope.declare(p.stages[0].stage.instructions[0] as never);
    expect(scope.get('V')).toBe('1');
    expect(p.buildArgs.unconsumed()).toEqual([]);
  });

  test('errors: missing target, future index, circular references, blank base', () => {
    const err = (text: string, options?: PlanOptions) => {
      try {
        plan(text, options);
      } catch (e) {
        expect(e).toBeInstanceOf(BuildError);
        return (e as Error).message;
      }
      throw new Error('expected a BuildError');
    };
    expect(err('FROM a AS x\n', { target: 'nope' })).toBe('target stage "nope" could not be found');
    expect(err('FROM a\nCOPY --from=1 /a /b\nFROM b\n')).toBe('Dockerfile:2: invalid from flag value 1: refers to current or future build stage');
    expect(err('FROM a AS x\nCOPY --from=y /a /b\nFROM b AS y\nCOPY --from=x /a /b\n')).toMatch(/^Dockerfile:\d: circular dependency detected on stage: [xy]$/);
    expect(err('FROM x AS x\n')).toBe('Dockerfile:1: circular dependency detected on stage: x');
    expect(err('FROM $EMPTY\n')).toBe('Dockerfile:1: base name ($EMPTY) should not be blank');
    expect(err('FROM a\nCOPY --from=$X /a /b\n')).toMatch(/variable expansion is not supported for --from/);
  });

  test('a forward COPY --from by name is allowed (built first)', () => {
    expect(order('FROM a AS x\nCOPY --from=y /a /b\nFROM b AS y\n', { target: 'x' })).toEqual(['y', 'x']);
  });
});
