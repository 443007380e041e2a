#!/usr/bin/env python3
# Start-up of any commands, interleaved run by run (the order rotates each round), as a plain user
# in a clean environment: median and quartiles of wall time and of user+sys CPU (wait4's rusage),
# and the median of minor page faults. On this shared, loaded 2-core machine the CPU medians
# compare builds far better than wall time. Used for the SEA variants in docs/PERFORMANCE.md.
#
#   python3 bench/compare-commands.py ROUNDS 'NAME=COMMAND ARGS' ...     (as root)
#
# BENCH_USER (default bench) runs every command, with HOME, PATH, LANG and XDG_RUNTIME_DIR only;
# CMP_ENV='K=V ...' adds variables. The binaries must be readable by that user, and a command
# such as `run --rm skiff-test/busybox true` needs the image loaded in that user's store.
import os, pwd, statistics, sys, time, shlex
rounds = int(sys.argv[1])
user = pwd.getpwnam(os.environ.get('BENCH_USER', 'bench'))
env = {'HOME': user.pw_dir, 'PATH': '/usr/bin:/bin', 'XDG_RUNTIME_DIR': f'/run/user/{user.pw_uid}', 'LANG': 'C.UTF-8'}
for kv in os.environ.get('CMP_ENV', '').split():
  k, v = kv.split('=', 1); env[k] = v
cmds = []
for a in sys.argv[2:]:
  n, c = a.split('=', 1); cmds.append((n, shlex.split(c)))
res = {n: ([], [], []) for n, _ in cmds}
devnull = os.open('/dev/null', os.O_RDWR)
for r in range(-2, rounds):
  for i in range(len(cmds)):
    name, argv = cmds[(i + r) % len(cmds)]
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
      if os.getuid() == 0:
        os.setgroups([]); os.setgid(user.pw_gid); os.setuid(user.pw_uid)
      os.chdir('/')
      os.dup2(devnull, 0); os.dup2(devnull, 1)
      os.execvpe(argv[0], argv, env)  # found on the clean PATH
    _, status, ru = os.wait4(pid, 0)
    wall = (time.monotonic() - t0) * 1000
    if status != 0: sys.exit(f'{name} failed (wait status {status})')
    if r >= 0:
      res[name][0].append(wall); res[name][1].append((ru.ru_utime + ru.ru_stime) * 1000); res[name][2].append(ru.ru_minflt)
print(f'{rounds} rounds, load {" ".join(open("/proc/loadavg").read().split()[:3])}')
q = lambda xs: statistics.quantiles(xs, n=4) if len(xs) > 1 else [xs[0]]*3
for name, (wall, cpu, flt) in res.items():
  w, c = q(wall), q(cpu)
  print(f'{name:22} wall {w[1]:6.1f} ({w[0]:5.1f}-{w[2]:5.1f})  cpu {c[1]:6.1f} ({c[0]:5.1f}-{c[2]:5.1f})  minflt {statistics.median(flt):6.0f}')
