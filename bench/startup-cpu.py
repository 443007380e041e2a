#!/usr/bin/env python3
# Start-up of two skiff builds, interleaved run by run (the order rotates each round), as a plain
# user in a clean environment; prints the median wall time and the median user+sys CPU of each
# command (wait4's rusage, microseconds). On a shared, loaded machine the CPU medians compare
# builds far better than wall time.
#
#   python3 bench/startup-cpu.py ROUNDS OLD_SKIFF NEW_SKIFF NODE    (as root)
#
# The binaries and NODE (the pinned runtime, for `node -e 0`) must be readable by the user
# (BENCH_USER, default skifftest), who must have skiff-test/busybox loaded
# (node test/fixtures/build-images.mjs; skiff load -i test/fixtures/out/busybox.docker.tar).
import os, pwd, statistics, sys, time

rounds, old, new, node = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
user = pwd.getpwnam(os.environ.get('BENCH_USER', 'skifftest'))
env = {'HOME': user.pw_dir, 'PATH': '/usr/bin:/bin', 'XDG_RUNTIME_DIR': f'/run/user/{user.pw_uid}'}
cmds = [('node -e 0', [node, '-e', '0'])]
for args in (['--version'], ['ps', '-a'], ['run', '--rm', 'skiff-test/busybox', 'true']):
  cmds += [(f'old {" ".join(args[:2])}', [old, *args]), (f'new {" ".join(args[:2])}', [new, *args])]
res = {name: ([], []) for name, _ in cmds}
devnull = os.open('/dev/null', os.O_RDWR)
for r in range(-2, rounds):  # two warm-up rounds
  for i in range(len(cmds)):
    name, argv = cmds[(i + r) % len(cmds)]
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
      os.setgroups([]); os.setgid(user.pw_gid); os.setuid(user.pw_uid); os.chdir('/')
      os.dup2(devnull, 0); os.dup2(devnull, 1)
      os.execve(argv[0], argv, env)
    _, status, ru = os.wait4(pid, 0)
    wall = (time.monotonic() - t0) * 1000
    if status != 0: sys.exit(f'{name} failed (wait status {status})')
    if r >= 0:
      res[name][0].append(wall); res[name][1].append((ru.ru_utime + ru.ru_stime) * 1000)
print(f'{rounds} rounds, load average at the end {" ".join(open("/proc/loadavg").read().split()[:3])}')
for name, (wall, cpu) in res.items():
  print(f'{name:18} wall {statistics.median(wall):6.1f} ms   cpu (user+sys) {statistics.median(cpu):6.1f} ms')
