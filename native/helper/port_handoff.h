/* Published TCP ports handed to the container's own listening socket (port_handoff.c): the
 * container's bind() of a published port is stopped by a seccomp user notification and its
 * socket replaced by one bound to the host port in the host's network namespace, so clients
 * reach the server with no relay in the data path (the bypass4netns model). The forwarder
 * (port_forward.c) receives the notifications and keeps every other path working. */
#ifndef SKIFF_PORT_HANDOFF_H
#define SKIFF_PORT_HANDOFF_H

#include <sys/socket.h>

#include "port_forward.h"

/* In the container's init, before its other seccomp filter and before exec: install the filter
 * that notifies each bind(2), and send its listener fd over SOCK (fd_send). 0, or -1 with errno. */
int port_handoff_install(int sock);

/* What the handoff needs of the forwarder, whose main thread is in the container's network
 * namespace. */
struct handoff_ops {
  /* a TCP socket (close-on-exec, blocking) made in the host's network namespace; -1 with errno */
  int (*host_socket)(int family);
  /* rule I's host socket stops listening: the container's own socket serves every family it did */
  void (*unlisten)(int i);
  /* listen in the container's namespace where the container asked to (CTR, with V6ONLY) and
   * relay each connection to HOST, where its socket now is: the container's own processes
   * (health checks, `exec ... wget localhost`) still reach the server at the address it chose */
  void (*relay)(const struct sockaddr_storage *ctr, socklen_t ctr_len, int v6only, const struct sockaddr_storage *host,
                socklen_t host_len);
};

/* One notification on LISTENER: a handoff when the bind is of a published TCP port at an
 * address the forwarder would relay to (the wildcard or the container's address); otherwise the
 * bind goes on in the container's namespace, as without skiff. */
void port_handoff_notified(int listener, const struct port_forward *f, const struct handoff_ops *ops);

#endif
