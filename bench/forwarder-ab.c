/*
 * forwarder-ab.sh's driver: one version of native/helper/port_forward.c (FORWARDER_SOURCE, a path
 * given with -D) run alone, as the monitor runs it: bind the host port, fork the forwarder into
 * the container's network namespace, then wait (the forwarder dies with this process).
 *
 * Usage (root): forwarder-ab HOST_PORT CTR_IP CTR_PORT NETNS_PATH
 */
#include FORWARDER_SOURCE

#include <stdarg.h>

/* What the helper's other files give port_forward.c in the real executable. */
void die(const char *fmt, ...) {
  va_list a;
  va_start(a, fmt);
  vfprintf(stderr, fmt, a);
  va_end(a);
  fputc('\n', stderr);
  exit(125);
}

int die_with_monitor_child(pid_t monitor) {
  (void)monitor;
  return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

int main(int argc, char **argv) {
  if (argc != 5) die("usage: forwarder-ab HOST_PORT CTR_IP CTR_PORT NETNS_PATH");
  static struct port_forward f;
  char *fields[5] = {"tcp", "127.0.0.1", argv[1], argv[2], argv[3]};
  port_forward_parse_key(&f, "port-forward", 5, fields);
  char msg[256];
  if (port_forward_bind(&f, msg, sizeof msg) < 0) die("%s", msg);
  int netns = open(argv[4], O_RDONLY | O_CLOEXEC);
  if (netns < 0) die("cannot open %s", argv[4]);
  struct port_forward_proc p;
  if (port_forward_start(&f, netns, getpid(), &p, msg, sizeof msg) < 0) die("%s", msg);
  close(netns);
  printf("%d\n", (int)p.pid); /* the forwarder, whose schedstat the script reads */
  fflush(stdout);
  for (;;) pause();
}
