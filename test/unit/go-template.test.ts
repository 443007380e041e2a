import { describe, expect, test } from 'vitest';
import { GoNil, NIL_MAP, NIL_SLICE, goJson, goStruct, omittedField, parseFully, parseTemplate, sprintf } from '../../src/util/go-template';

const run = (tmpl: string, data: unknown) => parseTemplate(tmpl).execute(data);

function inspectLike() {
  return goStruct({
    Id: 'sha256:abc',
    RepoTags: ['busybox:latest', 'busybox:1'],
    Size: 4261574,
    Config: goStruct({ Env: ['PATH=/bin', 'A=b'], Cmd: ['sh'], Entrypoint: NIL_SLICE, Labels: { b: '2', a: '1' }, Volumes: NIL_MAP }, 'container.Config'),
    Empty: [],
  }, 'image.InspectResponse', { ID: 'Id' });
}

describe('fields and printing (fmt %v)', () => {
  test.each([
    ['{{.Id}}', 'sha256:abc'],
    ['{{.ID}}', 'sha256:abc'],
    ['{{.Size}}', '4261574'],
    ['{{.RepoTags}}', '[busybox:latest busybox:1]'],
    ['{{.Config.Env}}', '[PATH=/bin A=b]'],
    ['{{.Config.Entrypoint}}', '[]'],
    ['{{.Config.Volumes}}', 'map[]'],
    ['{{.Config.Labels}}', 'map[a:1 b:2]'],
    ['{{.Config.Cmd}}', '[sh]'],
    ['x{{/* comment */}}y', 'xy'],
    ['a  {{- .Size -}}  b', 'a4261574b'],
    ['{{"quoted\\tstring"}}', 'quoted\tstring'],
    ['{{`raw\\t`}}', 'raw\\t'],
  ])('%s', (tmpl, want) => {
    expect(run(tmpl, inspectLike())).toBe(want);
  });

  test('a missing struct field is an error, a missing map key prints <no value>', () => {
    expect(() => run('{{.Nope}}', inspectLike())).toThrow(/can't evaluate field Nope in type image.InspectResponse/);
    expect(run('{{.Config.Labels.c}}', inspectLike())).toBe('<no value>');
    expect(run('{{.x}}', { y: 1 })).toBe('<no value>');
  });

  test('struct printing and nested values', () => {
    expect(run('{{.}}', goStruct({ A: 'x', B: [1, 2], C: { k: 'v' } }, 'T'))).toBe('{x [1 2] map[k:v]}');
    expect(run('{{.}}', null)).toBe('<nil>');
  });
});

describe('functions', () => {
  test.each([
    ['{{json .Config}}', '{"Env":["PATH=/bin","A=b"],"Cmd":["sh"],"Entrypoint":null,"Labels":{"a":"1","b":"2"},"Volumes":null}'],
    ['{{json .RepoTags}}', '["busybox:latest","busybox:1"]'],
    ['{{index .RepoTags 0}}', 'busybox:latest'],
    ['{{index .Config.Labels "a"}}', '1'],
    ['{{index .Config.Labels "zz"}}', ''],
    ['{{join .RepoTags ", "}}', 'busybox:latest, busybox:1'],
    ['{{join .Config.Entrypoint " "}}', ''],
    ['{{upper .Id}}', 'SHA256:ABC'],
    ['{{lower "AbC"}}', 'abc'],
    ['{{title "hello world"}}', 'Hello World'],
    ['{{split "a:b:c" ":"}}', '[a b c]'],
    ['{{len .RepoTags}}', '2'],
    ['{{len .Config.Volumes}}', '0'],
    ['{{pad "x" 1 2}}|', ' x  |'],
    ['{{truncate .Id 6}}', 'sha256'],
    ['{{println "a" 1}}', 'a 1\n'],
    ['{{print "a" 1 2 "b"}}', 'a1 2b'],
    ['{{printf "%s=%d|%5s|%-4s|%q|%v|%x" "k" 42 "r" "l" "q" .RepoTags 255}}', 'k=42|    r|l   |"q"|[busybox:latest busybox:1]|ff'],
    ['{{.Id | printf "%s!"}}', 'sha256:abc!'],
    ['{{.RepoTags | len}}', '2'],
    ['{{slice .Id 0 6}}', 'sha256'],
    ['{{eq .Size 4261574}}', 'true'],
    ['{{eq "a" "b" "a"}}', 'true'],
    ['{{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}', 'true true true true false'],
    ['{{and 1 0 2}} {{or 0 "" "x"}} {{not 0}}', '0 x true'],
    ['{{html "<a&b>"}}', '&lt;a&amp;b&gt;'],
    ['{{urlquery "a b&c"}}', 'a+b%26c'],
    ['{{(index .RepoTags 1) | upper}}', 'BUSYBOX:1'],
  ])('%s', (tmpl, want) => {
    expect(run(tmpl, inspectLike())).toBe(want);
  });

  test('an unknown function is a parse error', () => {
    expect(() => parseTemplate('{{nope .X}}')).toThrow(/function "nope" not defined/);
  });

  test('errors inside functions name the function', () => {
    expect(() => run('{{index .RepoTags 5}}', inspectLike())).toThrow(/index out of range: 5/);
    expect(() => run('{{eq 1 "a"}}', {})).toThrow(/incompatible types/);
  });

  test('and/or short-circuit (Go 1.18)', () => {
    expect(run('{{if and .m (index .m "k")}}y{{else}}n{{end}}', { m: null })).toBe('n');
  });
});

describe('control structures', () => {
  test.each([
    ['{{if .Config.Labels}}yes{{end}}', 'yes'],
    ['{{if .Empty}}yes{{else}}no{{end}}', 'no'],
    ['{{if .Config.Entrypoint}}yes{{else if .Config.Cmd}}cmd{{else}}none{{end}}', 'cmd'],
    ['{{range .RepoTags}}[{{.}}]{{end}}', '[busybox:latest][busybox:1]'],
    ['{{range $i, $t := .RepoTags}}{{$i}}={{$t}};{{end}}', '0=busybox:latest;1=busybox:1;'],
    ['{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}} {{end}}', 'a:1 b:2 '],
    ['{{range .Empty}}x{{else}}empty{{end}}', 'empty'],
    ['{{range .Config.Entrypoint}}x{{else}}nil{{end}}', 'nil'],
    ['{{range .RepoTags}}{{$.Id}} {{end}}', 'sha256:abc sha256:abc '],
    ['{{with .Config}}{{.Cmd}}{{end}}', '[sh]'],
    ['{{with .Empty}}x{{else}}none{{end}}', 'none'],
    ['{{$x := .Size}}{{$x}}', '4261574'],
    ['{{$x := 1}}{{range .RepoTags}}{{$x = 2}}{{end}}{{$x}}', '2'],
    ['{{range .RepoTags}}{{if eq . "busybox:1"}}{{break}}{{end}}{{.}} {{end}}', 'busybox:latest '],
    ['{{range .RepoTags}}{{if eq . "busybox:latest"}}{{continue}}{{end}}{{.}}{{end}}', 'busybox:1'],
    ['{{range 3}}{{.}}{{end}}', '012'],
    ['{{range $e := .Config.Env}}{{$e}};{{end}}', 'PATH=/bin;A=b;'],
  ])('%s', (tmpl, want) => {
    expect(run(tmpl, inspectLike())).toBe(want);
  });

  test.each([
    ['{{.Id', /unclosed action/],
    ['{{if .Id}}x', /unexpected EOF/],
    ['{{end}}', /unexpected \{\{end\}\}/],
    ['{{$nope}}', /undefined variable "\$nope"/],
    ['{{break}}', /outside \{\{range\}\}/],
    ['{{define "x"}}{{end}}', /not supported/],
    ['{{"unterminated}}', /unterminated quoted string/],
  ])('syntax error: %s', (tmpl, re) => {
    expect(() => parseTemplate(tmpl)).toThrow(re);
  });

  test('errors exit 1 and start with "template:"', () => {
    try {
      parseTemplate('{{.Id');
      expect.unreachable();
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(1);
      expect((e as Error).message).toMatch(/^template: /);
    }
  });
});

describe('goJson', () => {
  test('struct order kept, map keys sorted, typed nils are null, indentation as MarshalIndent', () => {
    const v = goStruct({ Z: 1, A: { b: 1, a: [] }, N: NIL_SLICE, S: 'x<y' }, 'T');
    expect(goJson(v)).toBe('{"Z":1,"A":{"a":[],"b":1},"N":null,"S":"x<y"}');
    expect(goJson(v, { indent: '    ', escapeHtml: true })).toBe(
      '{\n    "Z": 1,\n    "A": {\n        "a": [],\n        "b": 1\n    },\n    "N": null,\n    "S": "x\\u003cy"\n}',
    );
    expect(goJson([])).toBe('[]');
    expect(goJson({})).toBe('{}');
    expect(new GoNil('map').toJSON()).toBeNull();
  });
});

describe('sprintf', () => {
  test.each([
    ['%d', [-5], '-5'],
    ['%05d', [42], '00042'],
    ['%+d', [3], '+3'],
    ['%.2f', [3.14159], '3.14'],
    ['%t', [true], 'true'],
    ['%d', ['x'], '%!d(string=x)'],
    ['%s %s', ['a'], 'a %!s(MISSING)'],
    ['%s', ['a', 'b'], 'a%!(EXTRA string=b)'],
    ['100%%', [], '100%'],
    ['%X', [255], 'FF'],
    ['%c', [65], 'A'],
  ])('%s %j', (f, args, want) => {
    expect(sprintf(f, args)).toBe(want);
  });
});

describe('templates of text and {{.Field}} only run without the parser, as the parser would', () => {
  const row = () => {
    const r = goStruct({ Id: 'abc', Names: 'web', Size: 12, Ports: '', Labels: { a: '1' }, List: ['x', 'y'], Nil: NIL_SLICE, Nothing: null }, 'container.Summary', { ID: 'Id' });
    omittedField(r, 'Health', NIL_MAP);
    return r;
  };
  const outcome = (f: () => string) => { try { return { out: f() }; } catch (e) { return { error: (e as Error).message }; } };
  const templates = [
    '{{.ID}}', '{{.Id}}\t{{.Names}}', 'id={{.ID}} {size} {{.Size}}}}', '{{.Labels}} {{.List}} {{.Nil}} {{.Nothing}}',
    '{{.Health}}', '{{.Missing}}', 'x{{.ID}}', 'no actions at all', '', '{ {{.ID}}', '{{.a}}|{{.b}}',
    // not fields-only: the parser's, both ways
    '{{.ID | printf "%s"}}', '{{ .ID }}', '{{.Labels.a}}', '{{json .}}', '{{.ID', '{{- .ID}}',
  ];
  const data: [string, unknown][] = [['a struct', row()], ['a map', { a: 'A', b: 2 }], ['a string', 'text'], ['nil', null], ['a list', [1]]];
  for (const t of templates) {
    for (const [what, d] of data) {
      test(`${JSON.stringify(t)} on ${what}`, () => {
        const full = outcome(() => parseFully(t).execute(d));
        expect(outcome(() => parseTemplate(t).execute(d))).toEqual(full);
      });
    }
  }
  test('the header row of a table: a map of names', () => {
    expect(parseTemplate('{{.ID}}\t{{.Names}}').execute({ ID: 'CONTAINER ID', Names: 'NAMES' })).toBe('CONTAINER ID\tNAMES');
  });
});
