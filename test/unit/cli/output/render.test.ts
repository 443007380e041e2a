import { describe, expect, test } from 'vitest';
import { checkFormat, renderInspect, renderList, renderObject } from '../../../../src/cli/output/render';
import { tabwrite } from '../../../../src/util/format';
import { goStruct } from '../../../../src/util/go-template';
import { emptyContainerRow, PS_DEFAULT_FORMAT, PS_HEADERS } from '../../../../src/engine/ps';
import { SkiffError } from '../../../../src/util/errors';

describe('renderList', () => {
  const spec = { defaultFormat: 'table {{.A}}\t{{.B}}', headers: { A: 'COL A', B: 'COL B', ID: 'ID' } };
  const rows = [goStruct({ A: 'x', B: '1', ID: 'i1' }, 'T'), goStruct({ A: 'longer value', B: '22', ID: 'i1' }, 'T')];

  test('tabwriter: min width 10, padding 3, the last cell not padded', () => {
    expect(tabwrite('a\tb\nccccccccccccc\td')).toBe('a               b\nccccccccccccc   d');
  });

  test('default table, table TEMPLATE with a literal \\t, plain template, json', () => {
    expect(renderList(rows, {}, spec)).toBe('COL A          COL B\nx              1\nlonger value   22\n');
    expect(renderList(rows, { format: 'table {{.B}}\\t{{upper .A}}' }, spec)).toBe('COL B     COL A\n1         X\n22        LONGER VALUE\n');
    expect(renderList(rows, { format: '{{.A}}={{.B}}' }, spec)).toBe('x=1\nlonger value=22\n');
    expect(renderList(rows, { format: 'json' }, spec)).toBe('{"A":"x","B":"1","ID":"i1"}\n{"A":"longer value","B":"22","ID":"i1"}\n');
    expect(renderList([], { format: 'table' }, spec)).toBe('COL A     COL B\n');
  });

  test('-q prints the quiet template with no format or `table`; a custom format wins, as docker-cli', () => {
    expect(renderList(rows, { quiet: true }, spec)).toBe('i1\ni1\n');
    expect(renderList(rows, { quiet: true, format: 'table' }, spec)).toBe('i1\ni1\n');
    expect(renderList(rows, { quiet: true }, { ...spec, quietUnique: true })).toBe('i1\n');
    expect(renderList(rows, { quiet: true, format: '{{.B}}' }, spec)).toBe('1\n22\n');
  });

  test('a bad template is a "template parsing error", exit 1', () => {
    expect(() => renderList(rows, { format: '{{.A' }, spec)).toThrow(/^template parsing error: template: :1: unclosed action/);
    expect(() => renderList(rows, { format: '{{.A' }, spec)).toThrow(expect.objectContaining({ exitCode: 1 }));
  });
});

describe("ps's probe row (docker-cli runs the format on an empty ContainerContext first)", () => {
  const psSpec = { defaultFormat: PS_DEFAULT_FORMAT, headers: PS_HEADERS, probeRow: emptyContainerRow() };

  test('a misspelt field fails with nothing to list, in docker-cli\'s words, exit 1', () => {
    let err: unknown;
    try { renderList([], { format: '{{.Nmes}}' }, psSpec); } catch (e) { err = e; }
    expect((err as SkiffError).message).toBe('failed to execute template: template: :1: executing "" at <.Nmes>: can\'t evaluate field Nmes in type *formatter.ContainerContext');
    expect((err as SkiffError).exitCode).toBe(1);
    expect(() => renderList([], { format: 'table {{.Nmes}}' }, psSpec)).toThrow(/^failed to execute template/);
  });

  test('every ps field and {{.Label "k"}} pass the probe; an empty list prints nothing', () => {
    const all = Object.keys(PS_HEADERS).filter((k) => k !== 'Label').map((k) => `{{.${k}}}`).join(' ');
    expect(renderList([], { format: `${all} {{.Label "x"}}` }, psSpec)).toBe('');
    expect(renderList([], { format: 'json' }, psSpec)).toBe('');
  });
});

describe('--format that looks like a flag', () => {
  test('is refused as a usage error (125), in every renderer', () => {
    expect(() => checkFormat('--quiet')).toThrow(/invalid argument "--quiet" for "--format" flag/);
    expect(() => checkFormat('--quiet')).toThrow(expect.objectContaining({ exitCode: 125, kind: 'usage' }));
    expect(() => renderList([], { format: '--all' }, { defaultFormat: 'table', headers: {} })).toThrow(/--all/);
    expect(() => renderObject({}, '--x', () => '')).toThrow(/--x/);
    expect(() => renderInspect([], '--x')).toThrow(/--x/);
    expect(() => checkFormat('-x {{.ID}}')).not.toThrow();
  });
});

describe('renderObject and renderInspect', () => {
  const obj = goStruct({ Name: 'n', N: 2 }, 'T');

  test('object: human text without a format, json, a template', () => {
    expect(renderObject(obj, undefined, () => 'human\n')).toBe('human\n');
    expect(renderObject(obj, 'json', () => '')).toBe('{"Name":"n","N":2}\n');
    expect(renderObject(obj, '{{.Name}}\\t{{.N}}', () => '')).toBe('n\t2\n');
  });

  test('inspect: an indented JSON array, or the template per object; a template failing on one object is its own error', () => {
    expect(renderInspect([obj], undefined).text).toBe('[\n    {\n        "Name": "n",\n        "N": 2\n    }\n]\n');
    expect(renderInspect([], undefined).text).toBe('[]\n');
    const other = goStruct({ Other: 1 }, 'U');
    const r = renderInspect([obj, other], '{{.Name}}');
    expect(r.text).toBe('n\n');
    expect(r.errors.map((e) => [e.message, e.exitCode])).toEqual([
      ['template parsing error: template: :1: executing "" at <.Name>: can\'t evaluate field Name in type U', 1],
    ]);
  });

  test('a template that does not parse exits 64, as docker-cli\'s inspect, version and info', () => {
    expect(() => renderInspect([obj], '{{.Name')).toThrow(expect.objectContaining({ exitCode: 64, kind: 'template' }));
    expect(() => renderObject(obj, '{{.Name', () => '')).toThrow(/^template parsing error: template: :1: unclosed action/);
  });
});
