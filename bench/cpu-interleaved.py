#!/usr/bin/env python3
# CPU (user+sys) of commands run interleaved round by round, medians: a start-up check that load
# on the machine disturbs less than wall time. Usage: cpu-interleaved.py NAME=COMMAND... (run as the user to measure).
import os, sys, subprocess, resource, statistics
def cpu(cmd):
    r0=resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={'PATH':'/usr/bin:/bin','HOME':'/tmp'})
    r1=resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r1.ru_utime-r0.ru_utime+r1.ru_stime-r0.ru_stime)*1000
cmds={k:v.split() for k,v in [a.split('=',1) for a in sys.argv[1:]]}
res={k:[] for k in cmds}
for i in range(15):
    for k,c in cmds.items(): res[k].append(cpu(c))
for k,v in res.items(): print(k, round(statistics.median(v),1))
