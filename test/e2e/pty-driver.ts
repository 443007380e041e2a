/**
 * Drive `skiff ARGS` in a pseudo-terminal, as a user at a terminal would (python3's pty module:
 * util-linux script(1), which skiffPty uses, cannot wait for a prompt before typing). The one pty
 * driver of the e2e tests: attach, detach keys, exec -it, build's live progress.
 */
import { runCommand, skiffBin, type RunOptions } from './harness';

export interface PtyStep {
  /** wait (up to 30 s) until the screen shows this before typing; '' or absent: type at once */
  want?: string;
  /** what to type */
  type: string;
  /** how long to keep reading after typing, before the next step (ms; default 0) */
  pauseMs?: number;
}

export interface PtyOptions extends Pick<RunOptions, 'env' | 'store'> {
  /** read the screen this long before the first step (ms; default 0) */
  settleMs?: number;
  /** the terminal's size, rows and columns, as skiff sees it */
  size?: [number, number];
}

const DRIVER = `
import fcntl, json, os, pty, select, struct, sys, termios, time
cfg = json.loads(os.environ['SKIFF_PTY_SCRIPT'])
pid, fd = pty.fork()
if pid == 0:
    if cfg['size']:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', cfg['size'][0], cfg['size'][1], 0, 0))
    os.execv(sys.argv[1], sys.argv[1:])
out = b''
def pump(t, want=None):
    global out
    end = time.time() + t
    while time.time() < end:
        if want is not None and want.encode() in out:  # '' is in every screen: no wait
            return
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return
pump(cfg['settle'])
for want, text, pause in cfg['steps']:
    pump(30, want)
    os.write(fd, text.encode())
    pump(pause)
deadline = time.time() + 20
while time.time() < deadline:
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        pump(0.2)
        sys.stdout.write(out.decode('utf8', 'replace'))
        sys.exit(os.waitstatus_to_exitcode(st))
    pump(0.1)
os.kill(pid, 9)
sys.stdout.write(out.decode('utf8', 'replace'))
sys.exit(99)
`;

/**
 * Type each step into skiff's terminal; returns what the terminal showed (carriage returns
 * removed) and skiff's exit code once it has exited (99: it did not exit within 20 s of the last
 * step, and was killed).
 */
export async function typeInPty(args: string[], steps: (PtyStep | [want: string, type: string])[], opts: PtyOptions = {}): Promise<{ code: number; screen: string }> {
  const script = {
    settle: (opts.settleMs ?? 0) / 1000,
    size: opts.size ?? null,
    steps: steps.map((s) => (Array.isArray(s) ? [s[0], s[1], 0] : [s.want ?? '', s.type, (s.pauseMs ?? 0) / 1000])),
  };
  const r = await runCommand('python3', ['-c', DRIVER, skiffBin(), ...args], {
    store: opts.store,
    env: { ...opts.env, SKIFF_PTY_SCRIPT: JSON.stringify(script) },
    timeoutMs: 90_000,
  });
  return { code: r.code, screen: r.stdout.replace(/\r/g, '') };
}
