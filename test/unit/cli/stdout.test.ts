// src/cli/output/stdout.ts writes commands' output with write(2) on fd 1 instead of building
// process.stdout. Run in a child process with a real fd 1: every byte arrives, in order with
// writes through process.stdout, also on a non-blocking pipe, and a reader that has gone ends
// the command quietly.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..', '..');
let tmp: string;
let script: string;

// The child writes `count` lines of 100 bytes, alternating writeStdout and process.stdout.write
// every `switchEvery` lines, then says on stderr whether process.stdout was ever created by it.
beforeAll(async () => {
  const esbuild = await import('esbuild');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-stdout-'));
  script = path.join(tmp, 'child.cjs');
  await esbuild.build({
    stdin: {
      contents: `import { writeStdout } from ${JSON.stringify(path.join(root, 'src', 'cli', 'output', 'stdout.ts'))};
        const [count, switchEvery] = process.argv.slice(2).map(Number);
        for (let i = 0; i < count; i++) {
          const line = String(i).padStart(99, '.') + '\\n';
          if (switchEvery && Math.floor(i / switchEvery) % 2 === 1) process.stdout.write(line); else writeStdout(line);
        }
        process.stderr.write('done\\n');`,
      resolveDir: root, loader: 'ts',
    },
    outfile: script, bundle: true, format: 'cjs', platform: 'node', target: 'node20', logLevel: 'error',
  });
}, 30_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// python sets O_NONBLOCK on the child's stdout pipe (its file description), then runs the child.
const SET_NONBLOCKING = 'import fcntl,os,sys; fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) | os.O_NONBLOCK); os.execv(sys.argv[1], sys.argv[1:])';
const expected = (count: number) => Array.from({ length: count }, (_, i) => String(i).padStart(99, '.') + '\n').join('');

describe('writeStdout', () => {
  it('writes everything to a file', () => {
    const out = path.join(tmp, 'out.txt');
    const fd = fs.openSync(out, 'w');
    const r = spawnSync(process.execPath, [script, '500', '0'], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    fs.closeSync(fd);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe(expected(500));
  });

  it('keeps the order of its writes and process.stdout\'s on a pipe', () => {
    const r = spawnSync(process.execPath, [script, '3000', '7'], { encoding: 'utf8', maxBuffer: 1 << 24 });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(expected(3000));
  });

  it('writes everything to a non-blocking pipe that fills up (EAGAIN), in order', () => {
    // 2 MB cannot fit a pipe's 64 KiB, so writes meet a full pipe.
    const r = spawnSync('python3', ['-c', SET_NONBLOCKING, process.execPath, script, '20000', '0'], { encoding: 'utf8', maxBuffer: 1 << 25 });
    expect(r.stderr).toBe('done\n');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(expected(20000));
  });

  it('keeps the order of its writes and process.stdout\'s on a full non-blocking pipe, where the stream queues', () => {
    const r = spawnSync('python3', ['-c', SET_NONBLOCKING, process.execPath, script, '20000', '7'], { encoding: 'utf8', maxBuffer: 1 << 25 });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(expected(20000));
  });

  it('ends the command quietly, exit 0, once the reader has gone (EPIPE), as util/reader-gone.ts does', () => {
    // the reader closes its end before the child writes all of its 200 KB
    const r = spawnSync('sh', ['-c', '{ "$0" "$1" 2000 0; echo "exit $?" >&2; } | true', process.execPath, script], { encoding: 'utf8' });
    expect(r.stderr).toBe('exit 0\n');
  });
});
