import { describe, expect, test } from 'vitest';
import { BuildError } from '../../../src/errors';
import { parseCheckDirective } from '../../../src/build/dockerfile/lint';
import { parseDockerfile } from '../../../src/build/dockerfile/parser';
import { planBuild } from '../../../src/build/dockerfile/plan';

const warnings = (text: string) => (parseDockerfile(text, 'Dockerfile').warnings ?? []).map((w) => `${w.line} ${w.message}`);

describe("BuildKit's build checks", () => {
  test('a clean Dockerfile has none', () => {
    expect(warnings('FROM busybox AS base\nENV A=1\nWORKDIR /app\nCMD ["sh"]\n')).toEqual([]);
  });

  test('each rule, worded as Docker', () => {
    expect(warnings([
      'FROM busybox as Build', // 1: StageNameCasing, FromAsCasing
      'MAINTAINER me', //         2
      'ENV PATH /bin', //          3: LegacyKeyValueFormat
      'ARG API_TOKEN', //          4: SecretsUsedInArgOrEnv
      'ARG PUBLIC_KEY', //         5: allowed
      'WORKDIR app', //            6: WorkdirRelativePath
      'EXPOSE 80/TCP 8080:80', //  7
      'CMD echo one', //           8: JSONArgsRecommended, MultipleInstructionsDisallowed
      'CMD ["two"]', //            9
      'run true', //              10: ConsistentInstructionCasing
      'FROM scratch AS scratch', // 11: ReservedStageName
    ].join('\n'))).toEqual([
      "1 StageNameCasing: Stage name 'Build' should be lowercase",
      "1 FromAsCasing: 'as' and 'FROM' keywords' casing do not match",
      '2 MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label',
      '3 LegacyKeyValueFormat: "ENV key=value" should be used instead of legacy "ENV key value" format',
      '4 SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ARG "API_TOKEN")',
      '6 WorkdirRelativePath: Relative workdir "app" can have unexpected results if the base image changes',
      "7 ExposeProtoCasing: Defined protocol '80/TCP' in EXPOSE instruction should be lowercase",
      "7 ExposeInvalidFormat: EXPOSE instruction should not define an IP address or host-port mapping, found '8080:80'",
      '8 JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals',
      '8 MultipleInstructionsDisallowed: Multiple CMD instructions should not be used in the same stage because only the last one will be used',
      "10 ConsistentInstructionCasing: Command 'run' should match the case of the command majority (uppercase)",
      '11 ReservedStageName: Stage name should not use the same name as reserved stage "scratch"',
    ]);
  });

  test('SHELL before a shell-form CMD silences JSONArgsRecommended', () => {
    expect(warnings('FROM a\nSHELL ["/bin/bash", "-c"]\nCMD echo\n')).toEqual([]);
  });

  test('# check=skip=… and skip=all', () => {
    expect(warnings('# check=skip=MaintainerDeprecated,JSONArgsRecommended\nFROM a\nMAINTAINER x\nCMD y\n')).toEqual([]);
    expect(warnings('# check=skip=all\nFROM a\nMAINTAINER x\n')).toEqual([]);
  });

  test('# check=error=true fails the build on a finding, the planner\'s included', () => {
    expect(() => parseDockerfile('# check=error=true\nFROM a\nMAINTAINER x\n', 'Dockerfile')).toThrow(new BuildError('lint violation found for rules: MaintainerDeprecated', { file: 'Dockerfile', line: 3 }));
    const df = parseDockerfile('# check=error=true\nFROM a:$NOPE\n', 'Dockerfile');
    expect(() => planBuild(df)).toThrow('lint violation found for rules: UndefinedArgInFrom');
  });

  test('bad check options', () => {
    expect(() => parseCheckDirective('skip')).toThrow('invalid check option "skip"');
    expect(() => parseCheckDirective('color=red')).toThrow('invalid check option "color"');
    expect(() => parseCheckDirective('error=maybe')).toThrow(/failed to parse check option "error=maybe"/);
    expect(parseCheckDirective(' skip = A, B ; error=true')).toEqual({ skipAll: false, skip: new Set(['A', 'B']), error: true });
  });
});
