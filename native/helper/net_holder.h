/* User-defined networks (net_holder.c): the holder of the per-user network namespace with the
 * networks' bridges, and the veth pairs that attach containers to them. */
#ifndef SKIFF_NET_HOLDER_H
#define SKIFF_NET_HOLDER_H

#include <stddef.h>

#define MAX_NET_ATTACH 16

/* One `net-attach` record: the container gets IFNAME (CIDR, MAC) on BRIDGE (BRIDGE_CIDR) in the
 * namespace of the holder HOLDER_PID (started at HOLDER_START), and a default route through
 * GATEWAY unless it is empty. */
struct net_attach {
  const char *holder_pid, *holder_start, *bridge, *bridge_cidr, *ifname, *cidr, *mac, *gateway;
  char *mem; /* the fields' memory when a net frame added the record (freed with it); NULL: the spec's */
};

struct net_attachments {
  struct net_attach a[MAX_NET_ATTACH];
  int n;
  const char *users_lock; /* `net-users-lock FILE`: shared flock held while there are attachments */
  int users_lock_fd;      /* + 1: 0 = not held (the spec struct starts zeroed) */
};

/* The monitor spec keys net-attach and net-users-lock; 1 when KEY was one of them. */
int net_attach_parse_key(struct net_attachments *n, const char *key, int nf, char **f);

/* In the monitor, before the clone: hold the users lock, so the holder stays while we live. */
void net_attach_hold_users_lock(struct net_attachments *n);

/*
 * A net frame on the attach socket (attach.c), sent by skiff at `network connect`/`disconnect` of
 * the running container, whose current run it has just (dis)connected: DATA is NUL-terminated
 * fields, `attach` + a net-attach record's 8 + the users lock, or `detach IFNAME`. The change is
 * for every later --restart run (the record replaces one with the same IFNAME). 0, or -1 with MSG.
 */
int net_attach_message(struct net_attachments *n, const char *data, size_t len, char *msg, size_t mlen);

/* In the container init, in its new network namespace: every attachment. -1 with MSG. */
int net_attach_apply(const struct net_attachments *n, char *msg, size_t len);

/* The network namespace of process PID (checked against its START time), WHAT naming it in the
 * message: an fd, or -1 with the reason in net_error(). */
int net_open_netns_of(const char *pid, const char *start, const char *what);
const char *net_error(void);

int mode_net_holder(int argc, char **argv);     /* the holder process */
int mode_net_connect(int argc, char **argv);    /* attach a running container */
int mode_net_disconnect(int argc, char **argv); /* remove an interface from a running container */

#endif
