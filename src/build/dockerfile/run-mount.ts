/**
 * `RUN --mount=type=cache,target=/root/.cache,sharing=locked`: the comma-separated fields
 * (CSV quoting allowed) of BuildKit's mount flag, read into a RunMount with BuildKit's keys,
 * aliases, defaults and checks. Values may hold variables: they stay as written, and
 * checkMount() runs again once the executor has expanded them.
 */
import type { RunMount } from './types';

const TYPES = new Set(['bind', 'cache', 'tmpfs', 'secret', 'ssh']);
const SHARING = new Set(['shared', 'private', 'locked']);

/** CSV fields: commas split, double quotes group (a doubled quote is one quote). */
export function csvFields(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  if (quoted) throw new Error(`failed to parse csv mounts: unterminated quote in ${text}`);
  fields.push(field);
  return fields;
}

function parseBool(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (['1', 't', 'true'].includes(v)) return true;
  if (['0', 'f', 'false'].includes(v)) return false;
  throw new Error(`invalid value for ${key}: ${value}`);
}

/** Reads a --mount value; throws an Error worded as BuildKit's. */
export function parseMount(value: string): RunMount {
  const m: RunMount = { type: 'bind' };
  let readonlySet = false;
  for (const field of csvFields(value)) {
    if (field === '') continue;
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const v = eq < 0 ? undefined : field.slice(eq + 1);
    if (v === undefined) {
      if (key === 'readonly' || key === 'ro') m.readonly = true;
      else if (key === 'readwrite' || key === 'rw') m.readonly = false;
      else if (key === 'required') m.required = true;
      else throw new Error(`invalid field '${field}' must be a key=value pair`);
      readonlySet ||= key !== 'required';
      continue;
    }
    switch (key) {
      case 'type': {
        const t = v.toLowerCase();
        if (!TYPES.has(t)) throw new Error(`unsupported mount type "${v}"`);
        m.type = t as RunMount['type'];
        break;
      }
      case 'from':
        if (/\$./.test(v)) throw new Error(`'from' doesn't support variable expansion, define alias stage instead`);
        m.from = v;
        break;
      case 'source': case 'src':
        m.source = v;
        break;
      case 'target': case 'dst': case 'destination':
        m.target = v;
        break;
      case 'readonly': case 'ro':
        m.readonly = parseBool(key, v);
        readonlySet = true;
        break;
      case 'readwrite': case 'rw':
        m.readonly = !parseBool(key, v);
        readonlySet = true;
        break;
      case 'required':
        m.required = parseBool(key, v);
        break;
      case 'size':
        m.size = v;
        break;
      case 'id':
        m.id = v;
        break;
      case 'sharing':
        m.sharing = (v.includes('$') ? v : v.toLowerCase()) as RunMount['sharing'];
        break;
      case 'mode':
        m.mode = v;
        break;
      case 'uid':
        m.uid = v;
        break;
      case 'gid':
        m.gid = v;
        break;
      case 'env':
        // BuildKit's secret-as-environment-variable form; not in RunMount yet: refuse clearly
        throw new Error(`mount option env is not supported`);
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!readonlySet) m.readonly = !(m.type === 'cache' || m.type === 'tmpfs');
  checkMount(m);
  return m;
}

const hasVariable = (v: string | undefined) => v !== undefined && v.includes('$');

/** The checks of a mount's values; values still holding a variable are checked after expansion. */
export function checkMount(m: RunMount): void {
  if (m.required && m.type !== 'secret' && m.type !== 'ssh') throw new Error(`unexpected key 'required' for mount type '${m.type}'`);
  if (m.size !== undefined && m.type !== 'tmpfs') throw new Error(`unexpected key 'size' for mount type '${m.type}'`);
  if (m.size !== undefined && !hasVariable(m.size) && !/^\d+(\.\d+)?\s*([kmgtp]i?b?|b)?$/i.test(m.size)) {
    throw new Error(`invalid value for size: ${m.size}`);
  }
  if (m.sharing !== undefined && !hasVariable(m.sharing) && !SHARING.has(m.sharing)) throw new Error(`unsupported sharing value "${m.sharing}"`);
  for (const key of ['mode', 'uid', 'gid'] as const) {
    const v = m[key];
    if (v === undefined) continue;
    if (m.type !== 'secret' && m.type !== 'ssh' && m.type !== 'cache') throw new Error(`${key} not allowed for "${m.type}" type mounts`);
    if (!hasVariable(v) && !(key === 'mode' ? /^[0-7]+$/ : /^\d+$/).test(v)) throw new Error(`invalid value ${v} for ${key}`);
  }
  if (m.type === 'secret') {
    if (m.from !== undefined) throw new Error('secret mount should not have a from');
    if (m.sharing !== undefined) throw new Error('secret mount should not define sharing');
    if (m.source === undefined && m.target === undefined && m.id === undefined) throw new Error('invalid secret mount. one of source, target required');
    if (m.source !== undefined && m.id !== undefined) throw new Error("both source and id can't be set");
  }
  if (m.sharing !== undefined && m.type !== 'cache') throw new Error(`invalid cache sharing set for ${m.type} mount`);
  if (m.target === undefined && m.type !== 'secret' && m.type !== 'ssh') throw new Error(`mount type ${m.type} requires a target`);
}
