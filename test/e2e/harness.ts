// E2E harness: runs the real dist/skiff with a private store per test file.
//
// Environment:
//   SKIFF_BIN          the executable under test (default <repo>/dist/skiff)
//   SKIFF_E2E_MODE     'rootless' | 'rootful' (default: from the uid)
//   SKIFF_E2E_TMP      where per-file stores are created (default os.tmpdir())
//   SKIFF_E2E_NOSUB_USER  a user without a subuid range (only set by run.sh as root)
//
// Each test file gets its own SKIFF_ROOT / SKIFF_RUNROOT / XDG_DATA_HOME / XDG_CONFIG_HOME, so
// files never see each other's images or containers. XDG_CACHE_HOME is left alone so the native
// assets are extracted once per user, not once per file.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(REPO, 'test/fixtures/out');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** written to stdin, then stdin is closed (stdin is always closed, empty by default) */
  input?: string | Buffer;
  /** extra environment (merged over the store's environment) */
  env?: Record<string, string | undefined>;
  /** kill the command after this long and fail (default 45 s, below vitest's 60 s) */
  timeoutMs?: number;
  /** use this store instead of the file's default one */
  store?: Store;
  /** replace the whole environment instead of merging (the store variables are still added) */
  cleanEnv?: boolean;
}

export function skiffBin(): string {
  return path.resolve(process.env.SKIFF_BIN || path.join(REPO, 'dist/skiff'));
}

export function mode(): 'rootless' | 'rootful' {
  const m = process.env.SKIFF_E2E_MODE;
  if (m === 'rootless' || m === 'rootful') return m;
  return process.getuid?.() === 0 ? 'rootful' : 'rootless';
}

export const isRootless = (): boolean => mode() === 'rootless';

/** Absolute path of a built fixture (run `node test/fixtures/build-images.mjs` first). */
export function fixture(name: string): string {
  const p = path.join(FIXTURES, name);
  if (!fs.existsSync(p)) {
    throw new Error(`fixture ${p} is missing: run 'node test/fixtures/build-images.mjs' first`);
  }
  return p;
}

/** Image IDs and diff IDs of the fixtures, as computed by build-images.mjs. */
export function fixtureInfo(): Record<string, { id: string; layers: string[] }> {
  return JSON.parse(fs.readFileSync(fixture('images.json'), 'utf8'));
}

export const BUSYBOX = 'skiff-test/busybox:latest';
export const LAYERED = 'skiff-test/layered:latest';
export const CONFIG = 'skiff-test/config:latest';

// ---------------------------------------------------------------------------------------------
// stores
// ---------------------------------------------------------------------------------------------

export interface Store {
  /** the per-file temporary directory holding everything below */
  dir: string;
  /** SKIFF_ROOT: images, layers, containers */
  root: string;
  /** SKIFF_RUNROOT */
  runroot: string;
  /** skiff's config dir (config.json, auth.json, certs.d/): SKIFF_CONFIG */
  configDir: string;
  /** variables that point skiff at this store */
  env: Record<string, string>;
}

function tmpBase(): string {
  return process.env.SKIFF_E2E_TMP || os.tmpdir();
}

/**
 * A fresh, empty store. Paths stay short: unix socket paths are limited to 108 bytes.
 * `owner` (uid) chowns it, for stores used through `skiffAs` as another user.
 */
export function newStore(owner?: { uid: number; gid: number }): Store {
  const dir = fs.mkdtempSync(path.join(tmpBase(), 'skf-'));
  fs.chmodSync(dir, 0o700);
  const root = path.join(dir, 'root');
  const runroot = path.join(dir, 'run');
  const data = path.join(dir, 'data');
  const config = path.join(dir, 'config');
  for (const d of [root, runroot, data, config]) fs.mkdirSync(d, { mode: 0o700 });
  if (owner) {
    for (const d of [dir, root, runroot, data, config]) fs.chownSync(d, owner.uid, owner.gid);
  }
  return {
    dir,
    root,
    runroot,
    configDir: path.join(config, 'skiff'),
    // SKIFF_CONFIG: the rootful default would be /etc/skiff, shared by every test.
    env: { SKIFF_ROOT: root, SKIFF_RUNROOT: runroot, XDG_DATA_HOME: data, XDG_CONFIG_HOME: config, SKIFF_CONFIG: path.join(config, 'skiff') },
  };
}

let fileStore: Store | undefined;

/** The current test file's store (created on first use). */
export function store(): Store {
  fileStore ??= newStore();
  return fileStore;
}

/**
 * Best-effort teardown: remove every container (stops running ones, so nothing outlives the
 * test file), then the directory. Files owned by sub-IDs cannot be removed by the test user;
 * run.sh removes what is left when it runs as root.
 */
export async function destroyStore(s: Store): Promise<void> {
  try {
    const ps = await skiff(['ps', '-aq', '--no-trunc'], { store: s, timeoutMs: 30_000 });
    const ids = ps.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    if (ids.length) await skiff(['rm', '-f', ...ids], { store: s, timeoutMs: 60_000 });
  } catch {
    /* engine missing or broken: nothing more we can do */
  }
  try {
    fs.rmSync(s.dir, { recursive: true, force: true });
  } catch {
    /* sub-ID owned leftovers */
  }
}

/**
 * Register beforeAll/afterAll for this file: load the given fixtures (default: the busybox
 * docker archive) into the file's store, and tear it down at the end.
 */
export function useStore(opts: { load?: string[] } = {}): () => Store {
  const loads = opts.load ?? ['busybox.docker.tar'];
  beforeAll(async () => {
    const s = store();
    for (const f of loads) {
      const r = await skiff(['load', '-i', fixture(f)], { timeoutMs: 110_000 });
      if (r.code !== 0) {
        throw new Error(`setup: skiff load -i ${f} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
      }
    }
    return undefined;
  });
  afterAll(async () => {
    if (fileStore) await destroyStore(fileStore);
    fileStore = undefined;
  });
  return store;
}

// ---------------------------------------------------------------------------------------------
// running commands
// ---------------------------------------------------------------------------------------------

function buildEnv(opts: RunOptions): NodeJS.ProcessEnv {
  const s = opts.store ?? store();
  const base: NodeJS.ProcessEnv = opts.cleanEnv ? {} : { ...process.env };
  // vitest sets these for its workers; they must not change skiff's behaviour.
  delete base.NODE_OPTIONS;
  delete base.VITEST;
  delete base.VITEST_POOL_ID;
  delete base.VITEST_WORKER_ID;
  const env: NodeJS.ProcessEnv = { ...base, ...s.env };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/**
 * Run a command and collect its output. The command runs in its own process group, which is
 * killed on timeout. Resolves when the process has exited AND its stdout/stderr are closed: if
 * something it started (a monitor, a pause process) kept them open, that is a leaked fd (it
 * would hang `x=$(skiff run -d ...)` in a shell script), and the call fails.
 */
export function runCommand(
  file: string,
  args: string[],
  opts: RunOptions & { envOverride?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 45_000;
  const env = opts.envOverride ?? buildEnv(opts);
  const what = [file, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let exitCode: number | null = null;
    let settled = false;
    let leakTimer: NodeJS.Timeout | undefined;
    const finish = (e: Error | null, r?: RunResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (leakTimer) clearTimeout(leakTimer);
      if (e) reject(e);
      else resolve(r!);
    };
    const text = () => ({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      const t = text();
      finish(new Error(`timed out after ${timeoutMs} ms: ${what}\n--- stdout\n${t.stdout}\n--- stderr\n${t.stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => finish(new Error(`cannot run ${file}: ${e.message}`)));
    child.on('exit', (code, signal) => {
      exitCode = code ?? 128 + (signal ? os.constants.signals[signal] : 0);
      leakTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        const t = text();
        finish(
          new Error(
            `${what} exited (${exitCode}) but its stdout/stderr stayed open for 5 s: a process it started ` +
              `holds them (leaked fd)\n--- stdout\n${t.stdout}\n--- stderr\n${t.stderr}`,
          ),
        );
      }, 5_000);
    });
    child.on('close', (code, signal) => {
      const c = exitCode ?? code ?? 128 + (signal ? os.constants.signals[signal] : 0);
      finish(null, { code: c, ...text() });
    });
    child.stdin.on('error', () => {
      /* EPIPE: the command did not read its input */
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** Run dist/skiff with the file's store. */
export function skiff(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runCommand(skiffBin(), args, opts);
}

/** Run a shell command line with the store environment (for pipes and redirections). */
export function sh(script: string, opts: RunOptions = {}): Promise<RunResult> {
  return runCommand('/bin/sh', ['-c', script], { ...opts, env: { SKIFF: skiffBin(), ...opts.env } });
}

/** Quote for /bin/sh. */
export function shq(s: string): string {
  return /^[A-Za-z0-9_\/.:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Run skiff under a pseudo-terminal, via util-linux script(1). The pty merges stdout and
 * stderr into `stdout`; carriage returns are removed. `code` is skiff's exit code (script -e).
 */
export async function skiffPty(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const cmd = [skiffBin(), ...args].map(shq).join(' ');
  const r = await runCommand('script', ['-qec', cmd, '/dev/null'], opts);
  return { code: r.code, stdout: r.stdout.replace(/\r/g, ''), stderr: r.stderr };
}

// ---------------------------------------------------------------------------------------------
// another user (root only)
// ---------------------------------------------------------------------------------------------

export interface UserInfo {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export function userInfo(name: string): UserInfo | undefined {
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const f = r.stdout.trim().split(':');
  return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
}

/** A store owned by `user`, for skiffAs. */
export function newStoreFor(user: UserInfo): Store {
  return newStore({ uid: user.uid, gid: user.gid });
}

/**
 * Run dist/skiff as another user (requires root), with a clean login-like environment and the
 * given store (which that user must own: see newStoreFor).
 */
export function skiffAs(user: UserInfo, s: Store, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const env: Record<string, string> = {
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    XDG_RUNTIME_DIR: `/run/user/${user.uid}`,
    ...s.env,
  };
  for (const [k, v] of Object.entries(opts.env ?? {})) if (v !== undefined) env[k] = v;
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return runCommand('runuser', ['-u', user.name, '--', 'env', '-i', ...envArgs, skiffBin(), ...args], {
    ...opts,
    envOverride: process.env,
  });
}

// ---------------------------------------------------------------------------------------------
// output helpers
// ---------------------------------------------------------------------------------------------

/** Non-empty lines. */
export function lines(s: string): string[] {
  return s.split('\n').map((l) => l.replace(/\s+$/, '')).filter((l) => l.length > 0);
}

/** stderr lines that are the error itself: Docker's "See 'docker run --help'." hint excluded. */
export function errorLines(stderr: string): string[] {
  return lines(stderr).filter((l) => !/^See '.*--help'\.?$/.test(l));
}

/** A stack trace or an internal error leaking to the user. */
export function looksLikeStackTrace(s: string): boolean {
  return /^\s+at .+\(.*:\d+:\d+\)$/m.test(s) || /^\s+at .+:\d+:\d+$/m.test(s) || /node:internal/.test(s);
}

/**
 * Parse Docker-style table output (tabwriter, columns separated by >= 2 spaces; column titles
 * may contain single spaces, cells may be empty). Cells are sliced at the header's column
 * starts, so empty cells (PORTS) and cells with single spaces (STATUS) parse correctly.
 */
export function parseTable(stdout: string): { header: string[]; rows: Record<string, string>[] } {
  const ls = stdout.split('\n').filter((l) => l.trim().length > 0);
  if (ls.length === 0) return { header: [], rows: [] };
  const head = ls[0];
  const starts: number[] = [];
  const header: string[] = [];
  const re = /\S+(?: \S+)*/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(head))) {
    starts.push(m.index);
    header.push(m[0]);
  }
  const rows = ls.slice(1).map((l) => {
    const row: Record<string, string> = {};
    header.forEach((h, i) => {
      row[h] = l.slice(starts[i], i + 1 < starts.length ? starts[i + 1] : undefined).trim();
    });
    return row;
  });
  return { header, rows };
}

/** `skiff ps -a` as rows. */
export async function psAll(opts: RunOptions = {}): Promise<Record<string, string>[]> {
  const r = await skiff(['ps', '-a', '--no-trunc'], opts);
  if (r.code !== 0) throw new Error(`skiff ps -a failed (${r.code}): ${r.stderr}`);
  return parseTable(r.stdout).rows;
}

/** Wait until `fn` returns a truthy value (polling), or throw after `timeoutMs`. */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every path below `dir` (lstat, no symlink following), tolerant of unreadable directories. */
export function walk(dir: string, maxDepth = 64): { path: string; st: fs.Stats }[] {
  const out: { path: string; st: fs.Stats }[] = [];
  const rec = (d: string, depth: number) => {
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(d, n);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch {
        continue;
      }
      out.push({ path: p, st });
      if (st.isDirectory() && depth < maxDepth) rec(p, depth + 1);
    }
  };
  rec(dir, 1);
  return out;
}

/**
 * Host processes whose command line (arguments joined by spaces) contains `needle`, or with
 * `exact`, is exactly `needle` (so `sleep 99` matches the container's process but not the
 * `skiff run ... sleep 99` that started it). Reads /proc directly.
 */
export function hostProcessesMatching(needle: string, opts: { exact?: boolean } = {}): number[] {
  const pids: number[] = [];
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${n}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
      if (opts.exact ? cmd === needle : cmd.includes(needle)) pids.push(Number(n));
    } catch {
      /* exited */
    }
  }
  return pids;
}

/** Whether host process PID was started by skiff for store S (it inherits SKIFF_ROOT). */
export function startedForStore(s: Store, pid: number): boolean {
  try { return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`SKIFF_ROOT=${s.root}`); } catch { return false; }
}

/** Store S's port forwarders (native/helper/port_forward.c: a fork of a monitor, named skiff-portfwd). */
export function forwardersOf(s: Store): number[] {
  return hostProcessesMatching('monitor').filter((pid) => {
    try { return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'skiff-portfwd' && startedForStore(s, pid); } catch { return false; }
  });
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** GET http://HOST:PORT/FILE from the host, retried while the server in the container comes up. */
export async function fetchFromHost(port: number, file = 'index.html', host = '127.0.0.1'): Promise<string> {
  let body = '';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/${file}`;
  await waitFor(async () => {
    try {
      const r = await fetch(url);
      body = await r.text();
      return r.ok;
    } catch { return false; }
  }, 20_000, `${url} to answer`);
  return body;
}

/** This user's subordinate range from /etc/subuid or /etc/subgid, if any. */
export function subRange(
  file: '/etc/subuid' | '/etc/subgid',
  user: { username: string; uid: number } = os.userInfo(),
): { start: number; count: number } | undefined {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const l of text.split('\n')) {
    const [who, start, count] = l.trim().split(':');
    if (who === user.username || who === String(user.uid)) return { start: Number(start), count: Number(count) };
  }
  return undefined;
}

/** A unique, lowercase, Docker-valid name. */
let nameSeq = 0;
export function uniqueName(prefix = 'c'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${nameSeq++}`;
}

/**
 * Compile test/fixtures/NAME.c static and put it into the running CONTAINER as /NAME (atomically:
 * a container that waits for it with `while [ ! -x /NAME ]` runs it only once it is whole).
 */
export async function putFixtureProgram(container: string, name: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-fixture-'));
  try {
    const bin = path.join(dir, name);
    execFileSync('gcc', ['-static', '-O2', '-o', bin, path.join(REPO, `test/fixtures/${name}.c`)]);
    const put = await skiff(['exec', '-i', container, 'sh', '-c', `cat > /${name}.new && chmod +x /${name}.new && mv /${name}.new /${name}`], { input: fs.readFileSync(bin) });
    if (put.code !== 0) throw new Error(`cannot put ${name} into ${container}: ${put.stderr}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Put a static UDP echo server (test/fixtures/udp-echo.c: answers "echo:" + each datagram) into
 * a running container at /udp-echo, for a container that waits for it (`while [ ! -x /udp-echo ]`),
 * then ask it through 127.0.0.1:HOSTPORT/udp from the host until it answers; returns the answer.
 */
export async function udpEchoThroughPort(container: string, hostPort: number, message: string): Promise<string> {
  await putFixtureProgram(container, 'udp-echo');
  let answer = '';
  await waitFor(async () => {
    const r = await runCommand('socat', ['-t', '1', '-', `UDP:127.0.0.1:${hostPort}`], { input: message });
    answer = r.stdout;
    return answer.includes(`echo:${message}`);
  }, 20_000, 'the UDP echo through the published port');
  return answer;
}
