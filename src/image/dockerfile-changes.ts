/**
 * `import -c` / `commit -c`: Dockerfile instructions applied to an image config, as Docker's
 * BuildFromConfig does. Only the instructions that change metadata are valid (CMD, ENTRYPOINT,
 * ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR). Arguments are
 * split and unquoted like the Dockerfile parser does, and $VAR / ${VAR} are replaced from the
 * ENV set so far (not in CMD, ENTRYPOINT and ONBUILD, which Docker leaves alone too).
 */
import { posix } from 'node:path';
import { SkiffError } from '../util/errors';
import { parseGoDuration } from '../util/format';

/** The runtime part of an image config (OCI names, Docker's key order). */
export interface ChangeConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
  OnBuild?: string[];
}

const VALID = ['cmd', 'entrypoint', 'env', 'expose', 'healthcheck', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir'];

function invalid(message: string): SkiffError {
  return new SkiffError(message, 125);
}

/** Apply the changes in order to a copy of `base`. */
export function applyChanges(base: ChangeConfig, changes: string[]): ChangeConfig {
  const cfg: ChangeConfig = structuredClone(base);
  let cmdSet = false;
  for (const change of changes.flatMap((c) => c.split('\n'))) {
    const line = change.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(line)!;
    const instr = m[1].toLowerCase();
    const rest = m[2].trim();
    if (!VALID.includes(instr)) throw invalid(`${instr} is not a valid change command`);
    const env = envMap(cfg.Env);
    switch (instr) {
      case 'cmd':
        cfg.Cmd = commandForm(rest, instr);
        cmdSet = true;
        break;
      case 'entrypoint':
        cfg.Entrypoint = commandForm(rest, instr);
        // as Docker: an ENTRYPOINT drops the CMD unless this build set one
        if (!cmdSet) delete cfg.Cmd;
        break;
      case 'env':
        for (const [k, v] of nameValues(rest, instr, env)) {
          const entry = `${k}=${v}`;
          const list = cfg.Env ?? [];
          const i = list.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) list[i] = entry;
          else list.push(entry);
          cfg.Env = list;
          env.set(k, v);
        }
        break;
      case 'label':
        for (const [k, v] of nameValues(rest, instr, env)) (cfg.Labels ??= {})[k] = v;
        break;
      case 'expose':
        for (const w of words(rest)) for (const p of exposedPorts(expand(w, env))) (cfg.ExposedPorts ??= {})[p] = {};
        break;
      case 'user':
        cfg.User = expand(needArg(rest, instr), env);
        break;
      case 'workdir': {
        const dir = expand(needArg(rest, instr), env);
        cfg.WorkingDir = posix.join('/', dir.startsWith('/') ? '' : cfg.WorkingDir ?? '', dir);
        break;
      }
      case 'volume': {
        const json = jsonArray(rest);
        const list = json ?? words(rest).map((w) => expand(w, env));
        if (list.length === 0) throw invalid('VOLUME requires at least one argument');
        for (const v of list) {
          if (v.trim() === '') throw invalid('VOLUME specified can not be an empty string');
          (cfg.Volumes ??= {})[v] = {};
        }
        break;
      }
      case 'stopsignal': {
        const sig = expand(needArg(rest, instr), env);
        if (!/^(SIG)?[A-Z0-9+-]+$/i.test(sig) || (/^\d+$/.test(sig) && Number(sig) === 0)) throw invalid(`invalid signal: ${sig}`);
        cfg.StopSignal = sig;
        break;
      }
      case 'onbuild': {
        const inner = /^(\S+)/.exec(rest)?.[1]?.toLowerCase();
        if (!inner) throw invalid('ONBUILD requires at least one argument');
        if (inner === 'onbuild') throw invalid('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
        if (inner === 'from' || inner === 'maintainer') throw invalid(`${inner.toUpperCase()} isn't allowed as an ONBUILD trigger`);
        (cfg.OnBuild ??= []).push(rest.replace(/^\S+/, (w) => w.toUpperCase()));
        break;
      }
      case 'healthcheck':
        cfg.Healthcheck = healthcheck(rest);
        break;
    }
  }
  return cfg;
}

function needArg(rest: string, instr: string): string {
  if (rest === '') throw invalid(`${instr.toUpperCase()} requires exactly one argument`);
  return rest;
}

function envMap(env: string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return m;
}

/** ["a", "b"] (exec form) when the text is a JSON array of strings, else undefined. */
function jsonArray(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

/** CMD / ENTRYPOINT: exec form as given, shell form run by /bin/sh -c. */
function commandForm(rest: string, instr: string): string[] {
  const json = jsonArray(rest);
  if (json) return json;
  if (rest === '') {
    if (instr === 'entrypoint') return ['/bin/sh', '-c', ''];
    throw invalid('CMD requires at least one argument');
  }
  return ['/bin/sh', '-c', rest];
}

/**
 * Split on white space, keeping quoted parts and escapes inside a word (they are resolved by
 * expand()), as the Dockerfile parser's parseWords.
 */
export function words(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (!quote && /\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '\\' && quote !== "'" && i + 1 < text.length) {
      cur += c + text[++i];
      continue;
    }
    if (quote && c === quote) quote = '';
    else if (!quote && (c === '"' || c === "'")) quote = c;
    cur += c;
  }
  if (quote) throw invalid(`unexpected end of statement while looking for matching ${quote}`);
  if (inWord) out.push(cur);
  return out;
}

/**
 * The shell-word processing Docker applies: quotes removed, backslash escapes resolved,
 * $VAR, ${VAR}, ${VAR:-default} and ${VAR:+alternative} replaced from `env` (not in single quotes).
 */
export function expand(word: string, env: Map<string, string>): string {
  let out = '';
  let quote = '';
  for (let i = 0; i < word.length; i++) {
    const c = word[i];
    if (quote === "'") {
      if (c === "'") quote = '';
      else out += c;
      continue;
    }
    if (c === '\\' && i + 1 < word.length) {
      const n = word[i + 1];
      // inside double quotes only \" \\ \$ are escapes
      if (quote === '"' && !['"', '\\', '$'].includes(n)) out += c;
      else { out += n; i++; continue; }
      continue;
    }
    if (c === '"' || (c === "'" && !quote)) {
      quote = quote === c ? '' : c;
      continue;
    }
    if (c === '$') {
      const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}/.exec(word.slice(i));
      const plain = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(word.slice(i));
      if (braced) {
        const [whole, name, op, arg] = braced;
        const set = env.has(name) && (op?.startsWith(':') ? env.get(name) !== '' : true);
        if (op?.endsWith('-')) out += set ? env.get(name)! : expand(arg, env);
        else if (op?.endsWith('+')) out += set ? expand(arg, env) : '';
        else out += env.get(name) ?? '';
        i += whole.length - 1;
        continue;
      }
      if (plain) {
        out += env.get(plain[1]) ?? '';
        i += plain[0].length - 1;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** ENV / LABEL: `k=v k2="v 2"`, or the legacy `KEY the rest of the line`. */
function nameValues(rest: string, instr: string, env: Map<string, string>): [string, string][] {
  const ws = words(rest);
  if (ws.length === 0) throw invalid(`${instr.toUpperCase()} requires at least one argument`);
  if (!ws[0].includes('=')) {
    const value = rest.slice(rest.indexOf(ws[0]) + ws[0].length).trim();
    if (value === '' && instr === 'env') throw invalid(`ENV must have two arguments`);
    return [[expand(ws[0], env), expand(value, env)]];
  }
  return ws.map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) throw invalid(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    const key = expand(w.slice(0, eq), env);
    if (key === '') throw invalid(`${instr.toUpperCase()} names can not be blank`);
    return [key, expand(w.slice(eq + 1), env)];
  });
}

/** EXPOSE 80 80/udp 8000-8002/tcp → {"80/tcp": {}, ...}, as nat.ParsePortSpecs. */
function exposedPorts(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw invalid(`invalid containerPort: ${spec}`);
  const start = Number(m[1]);
  const end = m[2] !== undefined ? Number(m[2]) : start;
  if (start < 1 || end > 65535 || end < start) throw invalid(`invalid port range: ${spec}`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  return Array.from({ length: end - start + 1 }, (_, i) => `${start + i}/${proto}`);
}

/** Go durations in HEALTHCHECK flags, as nanoseconds. */
function durationNs(v: string, flag: string): number {
  const ns = v === '0' ? undefined : parseGoDuration(v);
  if (ns === undefined) throw invalid(`invalid duration for --${flag}: ${v}`);
  return ns;
}

/** HEALTHCHECK NONE | [--interval=D --timeout=D --start-period=D --start-interval=D --retries=N] CMD ... */
function healthcheck(rest: string): NonNullable<ChangeConfig['Healthcheck']> {
  if (/^none$/i.test(rest)) return { Test: ['NONE'] };
  const hc: NonNullable<ChangeConfig['Healthcheck']> = { Test: [] };
  let text = rest;
  for (;;) {
    const m = /^--([a-z-]+)=(\S+)\s*/.exec(text);
    if (!m) break;
    text = text.slice(m[0].length);
    switch (m[1]) {
      case 'interval': hc.Interval = durationNs(m[2], m[1]); break;
      case 'timeout': hc.Timeout = durationNs(m[2], m[1]); break;
      case 'start-period': hc.StartPeriod = durationNs(m[2], m[1]); break;
      case 'start-interval': hc.StartInterval = durationNs(m[2], m[1]); break;
      case 'retries': {
        const n = Number(m[2]);
        if (!Number.isInteger(n) || n < 0) throw invalid(`invalid --retries: ${m[2]}`);
        hc.Retries = n;
        break;
      }
      default: throw invalid(`unknown flag: --${m[1]}`);
    }
  }
  const cmd = /^cmd\s+([\s\S]+)$/i.exec(text);
  if (!cmd) throw invalid('Unknown type in HEALTHCHECK (try CMD)');
  const json = jsonArray(cmd[1]);
  hc.Test = json ? ['CMD', ...json] : ['CMD-SHELL', cmd[1]];
  return hc;
}
