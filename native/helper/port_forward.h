/* Published ports through skiff's own forwarder (port_forward.c), the rootlessport model: the
 * monitor binds every host port once, in the host's network namespace; at each run of the
 * container a forwarder process enters the container's network namespace and relays each
 * connection (TCP, by splice through pipes) or datagram (UDP) to the container's address. */
#ifndef SKIFF_PORT_FORWARD_H
#define SKIFF_PORT_FORWARD_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define MAX_PORT_FORWARDS 1024

/* One `port-forward` record: PROTO HOST_IP HOST_PORT CTR_IP CTR_PORT. */
struct port_rule {
  int udp;
  const char *host_ip; /* "" = every address (dual-stack [::], else 0.0.0.0) */
  int host_port;
  const char *ctr_ip;  /* the container's address inside its network namespace */
  int ctr_port;
  int fd;              /* the bound host socket, -1 until port_forward_bind */
};

struct port_forward {
  struct port_rule r[MAX_PORT_FORWARDS];
  int n;
  int handoff; /* spec key port-handoff: TCP ports may be handed to the container's socket (port_handoff.c) */
};

/* A running forwarder: its pid and a pidfd (signals never hit a reused PID). */
struct port_forward_proc {
  pid_t pid;
  int pidfd;
};

/* ADDR:PORT as a socket address; an empty ADDR is the IPv6 wildcard (a rule's host side binds
 * it dual-stack). 0, or -1 for an address of neither family. */
int port_forward_address(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len);

/* The spec keys port-forward and port-handoff; 1 when KEY was one. */
int port_forward_parse_key(struct port_forward *f, const char *key, int nf, char **fields);

/* In the monitor, in the host's network namespace, once for its whole life: bind (and listen on)
 * every host port. 0, or -1 with "publish PROTO HOST_PORT CTR_PORT ERRNO HOST_IP" in msg for the
 * first that failed (every socket closed again), which Node turns into its one line. */
int port_forward_bind(struct port_forward *f, char *msg, size_t len);

/* Fork the forwarder for one run: it dies with the monitor, enters NETNS (the container's network
 * namespace, opened right after the clone; the caller keeps and closes its fd) and relays until
 * it is stopped. HANDOFF_SOCK (-1 for none): where the init sends its bind notifications'
 * listener (port_handoff.c); the caller closes its own copy. 0, or -1 with one line in msg. */
int port_forward_start(const struct port_forward *f, int netns, int handoff_sock, pid_t monitor,
                       struct port_forward_proc *p, char *msg, size_t len);

/* Stop the run's forwarder (SIGKILL: its connections end with the container) and reap it. */
void port_forward_stop(struct port_forward_proc *p);

#endif
