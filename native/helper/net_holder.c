/*
 * User-defined networks, the Podman rootless-netns model (native/PROTOCOL.md "user networks"):
 * one network namespace per user, kept by a small holder process, holds a Linux bridge per
 * network; each container gets a veth pair from that bridge into its own namespace. The way
 * out of the holder's namespace is ONE slirp4netns on its tap0 plus NAT (nftables rules Node
 * wrote) inside it, so all of this works without root. Rootful, the same code runs as root.
 *
 * Everything here is netlink (rtnetlink) on sockets opened in the namespace concerned: a
 * socket stays in the network namespace it was created in, so we setns in, open it, and setns
 * back. Node computes every name and address; this file only carries them out.
 */
#include "helper.h"
#include "net_holder.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NL_BUF 8192
/* Host-side veth names start with this, bridges with "sk" (Node names them skn… or ski…). */
#define VETH_PREFIX "vsk"
#define BRIDGE_PREFIX "sk"

static char err_msg[512];

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err_msg, sizeof err_msg, fmt, ap);
  va_end(ap);
  return -1;
}

/* ---------- rtnetlink messages ---------- */

struct nlmsg {
  struct nlmsghdr *h;
  char buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static void nl_start(struct nlmsg *m, int type, int flags, const void *hdr, size_t hdrlen) {
  memset(m->buf, 0, sizeof m->buf);
  m->h = (struct nlmsghdr *)m->buf;
  m->h->nlmsg_len = NLMSG_LENGTH(hdrlen);
  m->h->nlmsg_type = type;
  m->h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  memcpy(NLMSG_DATA(m->h), hdr, hdrlen);
}

static struct rtattr *rta_put(struct nlmsg *m, int type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)(m->buf + NLMSG_ALIGN(m->h->nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  m->h->nlmsg_len = NLMSG_ALIGN(m->h->nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}

static void rta_put_str(struct nlmsg *m, int type, const char *s) { rta_put(m, type, s, strlen(s) + 1); }
static void rta_put_u32(struct nlmsg *m, int type, uint32_t v) { rta_put(m, type, &v, sizeof v); }
static void rta_end(struct nlmsg *m, struct rtattr *nest) { nest->rta_len = m->buf + m->h->nlmsg_len - (char *)nest; }

/* Raw bytes (a nested struct ifinfomsg) inside a nest. */
static void nl_put_raw(struct nlmsg *m, const void *data, size_t len) {
  memcpy(m->buf + NLMSG_ALIGN(m->h->nlmsg_len), data, len);
  m->h->nlmsg_len = NLMSG_ALIGN(m->h->nlmsg_len) + NLMSG_ALIGN(len);
}

static int nl_open(int groups) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -1;
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = groups};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Send and wait for the kernel's acknowledgement: 0 or -errno. */
static int nl_talk(int fd, struct nlmsg *m) {
  static uint32_t seq;
  m->h->nlmsg_seq = ++seq;
  if (send(fd, m->h, m->h->nlmsg_len, 0) < 0) return -errno;
  char buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR) continue;
      return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
    }
  }
}

static int link_set_up(int fd, int index) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  struct nlmsg m;
  nl_start(&m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  return nl_talk(fd, &m);
}

static int link_delete(int fd, int index) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index};
  struct nlmsg m;
  nl_start(&m, RTM_DELLINK, 0, &ifi, sizeof ifi);
  return nl_talk(fd, &m);
}

/* "A.B.C.D/N" into address and prefix length. */
static int parse_cidr(const char *cidr, struct in_addr *addr, int *prefix) {
  char ip[64];
  const char *slash = strchr(cidr, '/');
  if (!slash || (size_t)(slash - cidr) >= sizeof ip) return -1;
  memcpy(ip, cidr, slash - cidr);
  ip[slash - cidr] = 0;
  *prefix = atoi(slash + 1);
  return inet_pton(AF_INET, ip, addr) == 1 && *prefix >= 0 && *prefix <= 32 ? 0 : -1;
}

static int addr_add(int fd, int index, const char *cidr) {
  struct in_addr a;
  int prefix;
  if (parse_cidr(cidr, &a, &prefix) < 0) return -EINVAL;
  struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = prefix, .ifa_index = index};
  struct nlmsg m;
  nl_start(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
  rta_put(&m, IFA_LOCAL, &a, sizeof a);
  rta_put(&m, IFA_ADDRESS, &a, sizeof a);
  return nl_talk(fd, &m);
}

/* The default route through GATEWAY on INDEX, replacing the one there is: `network connect` of the
 * network that now comes first moves it there, as Docker's sandbox moves its gateway. */
static int route_set_default(int fd, int index, const char *gateway) {
  struct in_addr gw;
  if (inet_pton(AF_INET, gateway, &gw) != 1) return -EINVAL;
  struct rtmsg rt = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT,
                     .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
  struct nlmsg m;
  nl_start(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rt, sizeof rt);
  rta_put(&m, RTA_GATEWAY, &gw, sizeof gw);
  rta_put_u32(&m, RTA_OIF, index);
  return nl_talk(fd, &m);
}

/*
 * A bridge of a removed network lingers while other containers keep the holder busy (it prunes
 * port-less bridges only when nobody holds the users lock). Networks never overlap, so another
 * skiff bridge with an address in CIDR's subnet is such a leftover: it would take the subnet's
 * route from the new bridge. Remove it.
 */
static void remove_conflicting_bridges(int fd, const char *name, const char *cidr) {
  struct in_addr want;
  int prefix;
  if (parse_cidr(cidr, &want, &prefix) < 0) return;
  uint32_t mask = prefix ? htonl(0xffffffffu << (32 - prefix)) : 0;
  struct ifaddrmsg ifa = {.ifa_family = AF_INET};
  struct nlmsg m;
  nl_start(&m, RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof ifa);
  m.h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  if (send(fd, m.h, m.h->nlmsg_len, 0) < 0) return;
  int stale[64], nstale = 0;
  char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
  for (int done = 0; !done;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) { done = 1; break; }
      if (h->nlmsg_type != RTM_NEWADDR) continue;
      struct ifaddrmsg *a = NLMSG_DATA(h);
      int alen = IFA_PAYLOAD(h);
      for (struct rtattr *r = IFA_RTA(a); RTA_OK(r, alen); r = RTA_NEXT(r, alen)) {
        if (r->rta_type != IFA_LOCAL) continue;
        struct in_addr *ip = RTA_DATA(r);
        if ((ip->s_addr & mask) == (want.s_addr & mask) && nstale < 64) stale[nstale++] = a->ifa_index;
      }
    }
  }
  for (int i = 0; i < nstale; i++) {
    char other[IF_NAMESIZE];
    if (if_indextoname(stale[i], other) && !strncmp(other, BRIDGE_PREFIX, strlen(BRIDGE_PREFIX)) && strcmp(other, name) != 0)
      link_delete(fd, stale[i]);
  }
}

/* The bridge of a network, made on first use: concurrent starts may race, so EEXIST is fine. */
static int ensure_bridge(int fd, const char *name, const char *cidr) {
  if (!if_nametoindex(name)) remove_conflicting_bridges(fd, name, cidr);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  struct nlmsg m;
  nl_start(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  rta_put_str(&m, IFLA_IFNAME, name);
  struct rtattr *info = rta_put(&m, IFLA_LINKINFO, NULL, 0);
  rta_put_str(&m, IFLA_INFO_KIND, "bridge");
  rta_end(&m, info);
  int rc = nl_talk(fd, &m);
  if (rc < 0 && rc != -EEXIST) return fail("cannot create bridge %s: %s", name, strerror(-rc));
  int index = if_nametoindex(name);
  if (!index) return fail("bridge %s: %s", name, strerror(errno));
  rc = addr_add(fd, index, cidr);
  if (rc < 0 && rc != -EEXIST) return fail("cannot give bridge %s the address %s: %s", name, cidr, strerror(-rc));
  rc = link_set_up(fd, index);
  if (rc < 0) return fail("cannot bring bridge %s up: %s", name, strerror(-rc));
  return index;
}

static int parse_mac(const char *text, unsigned char mac[6]) {
  unsigned v[6];
  if (sscanf(text, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return -1;
  for (int i = 0; i < 6; i++) {
    if (v[i] > 255) return -1;
    mac[i] = v[i];
  }
  return 0;
}

/* A veth pair: VETH_PREFIX+random on BRIDGE here, IFNAME (with MAC) created in CTR_NS. */
static int create_veth(int fd, int bridge, const char *ifname, const char *mac_text, int ctr_ns) {
  unsigned char rnd[5], mac[6];
  if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd) return fail("getrandom: %s", strerror(errno));
  char host_if[IFNAMSIZ];
  snprintf(host_if, sizeof host_if, VETH_PREFIX "%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4]);
  if (parse_mac(mac_text, mac) < 0) return fail("bad MAC address %s", mac_text);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  struct nlmsg m;
  nl_start(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  rta_put_str(&m, IFLA_IFNAME, host_if);
  rta_put_u32(&m, IFLA_MASTER, bridge);
  struct rtattr *info = rta_put(&m, IFLA_LINKINFO, NULL, 0);
  rta_put_str(&m, IFLA_INFO_KIND, "veth");
  struct rtattr *data = rta_put(&m, IFLA_INFO_DATA, NULL, 0);
  struct rtattr *peer = rta_put(&m, VETH_INFO_PEER, NULL, 0);
  struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC};
  nl_put_raw(&m, &peer_ifi, sizeof peer_ifi);
  rta_put_str(&m, IFLA_IFNAME, ifname);
  rta_put(&m, IFLA_ADDRESS, mac, sizeof mac);
  rta_put_u32(&m, IFLA_NET_NS_FD, ctr_ns);
  rta_end(&m, peer);
  rta_end(&m, data);
  rta_end(&m, info);
  int rc = nl_talk(fd, &m);
  if (rc < 0) return fail("cannot create the veth pair for %s: %s", ifname, strerror(-rc));
  int index = if_nametoindex(host_if);
  if (!index || (rc = link_set_up(fd, index)) < 0) return fail("cannot bring %s up: %s", host_if, strerror(index ? -rc : errno));
  return 0;
}

/* ---------- namespaces ---------- */

/* The network namespace of PID, once its start time is still START (no reused PID is entered). */
int net_open_netns_of(const char *pid, const char *start, const char *what) {
  char now[64], path[64];
  pid_t p = (pid_t)strtol(pid, NULL, 10);
  if (p <= 0 || process_start_time(p, now, sizeof now) < 0 || strcmp(now, start) != 0)
    return fail("the %s (pid %s) is gone", what, pid);
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)p);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("cannot open the %s's network namespace: %s", what, strerror(errno));
  return fd;
}

/*
 * Attach the container whose network namespace is CTR_NS (we are in HOME) as A says: bridge and
 * veth in the holder's namespace, address, link and route in the container's. if_nametoindex
 * asks the namespace we are in, so each half runs inside its namespace.
 */
static int attach_one(const struct net_attach *a, int ctr_ns, int home) {
  int holder_ns = net_open_netns_of(a->holder_pid, a->holder_start, "network namespace holder");
  if (holder_ns < 0) return -1;
  int rc = -1, nl = -1;
  if (setns(holder_ns, CLONE_NEWNET) < 0) {
    fail("cannot enter the networks' namespace: %s", strerror(errno));
    goto out;
  }
  if ((nl = nl_open(0)) < 0) {
    fail("netlink: %s", strerror(errno));
    goto back;
  }
  int bridge = ensure_bridge(nl, a->bridge, a->bridge_cidr);
  if (bridge < 0 || create_veth(nl, bridge, a->ifname, a->mac, ctr_ns) < 0) goto back;
  close(nl);
  if (setns(ctr_ns, CLONE_NEWNET) < 0) {
    fail("cannot enter the container's network namespace: %s", strerror(errno));
    goto back;
  }
  if ((nl = nl_open(0)) < 0) {
    fail("netlink: %s", strerror(errno));
    goto back;
  }
  int index = if_nametoindex(a->ifname), e;
  if (!index) {
    fail("%s: %s", a->ifname, strerror(errno));
    goto back;
  }
  if ((e = addr_add(nl, index, a->cidr)) < 0) fail("cannot give %s the address %s: %s", a->ifname, a->cidr, strerror(-e));
  else if ((e = link_set_up(nl, index)) < 0) fail("cannot bring %s up: %s", a->ifname, strerror(-e));
  else if (a->gateway[0] && (e = route_set_default(nl, index, a->gateway)) < 0)
    fail("cannot add the default route through %s: %s", a->gateway, strerror(-e));
  else rc = 0;
back:
  /* HOME -1: a helper that exits next; a rootless one could not enter the host's namespace again. */
  if (home >= 0 && setns(home, CLONE_NEWNET) < 0 && rc == 0) rc = fail("cannot return to our network namespace: %s", strerror(errno));
out:
  if (nl >= 0) close(nl);
  close(holder_ns);
  return rc;
}

const char *net_error(void) { return err_msg; }

int net_attach_parse_key(struct net_attachments *n, const char *key, int nf, char **f) {
  if (!strcmp(key, "net-users-lock")) {
    if (nf != 1) die("monitor: spec key net-users-lock wants 1 field, got %d", nf);
    n->users_lock = f[0];
    return 1;
  }
  if (strcmp(key, "net-attach") != 0) return 0;
  if (nf != 8) die("monitor: spec key net-attach wants 8 fields, got %d", nf);
  if (n->n >= MAX_NET_ATTACH) die("monitor: too many net-attach records");
  struct net_attach *a = &n->a[n->n++];
  a->holder_pid = f[0]; a->holder_start = f[1]; a->bridge = f[2]; a->bridge_cidr = f[3];
  a->ifname = f[4]; a->cidr = f[5]; a->mac = f[6]; a->gateway = f[7];
  return 1;
}

/* The users lock, shared: while the monitor has attachments for its runs, so the holder they
 * name (by PID and start time) stays between two runs; released when the last one goes. */
static int lock_users(struct net_attachments *n, const char *path, int wait) {
  if (n->users_lock_fd) return 0;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || flock(fd, LOCK_SH | (wait ? 0 : LOCK_NB)) < 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    return fail("cannot lock %s: %s", path, strerror(e));
  }
  n->users_lock_fd = fd + 1; /* kept open (close-on-exec) */
  return 0;
}

void net_attach_hold_users_lock(struct net_attachments *n) {
  if (n->users_lock && lock_users(n, n->users_lock, 1) < 0) die("monitor: %s", err_msg);
}

static void drop_attachment(struct net_attachments *n, int i) {
  free(n->a[i].mem);
  memmove(&n->a[i], &n->a[i + 1], sizeof n->a[0] * (size_t)(n->n - i - 1));
  n->n--;
}

static int find_attachment(const struct net_attachments *n, const char *ifname) {
  for (int i = 0; i < n->n; i++)
    if (!strcmp(n->a[i].ifname, ifname)) return i;
  return -1;
}

int net_attach_message(struct net_attachments *n, const char *data, size_t len, char *msg, size_t mlen) {
  enum { ATTACH_FIELDS = 10 };
  const char *f[ATTACH_FIELDS];
  int nf = 0;
  size_t off = 0;
  while (off < len && nf < ATTACH_FIELDS) {
    const char *end = memchr(data + off, 0, len - off);
    if (!end) break;
    f[nf++] = data + off;
    off = (size_t)(end - data) + 1;
  }
  if (off != len || nf == 0) {
    snprintf(msg, mlen, "net: malformed message");
    return -1;
  }
  if (nf == 2 && !strcmp(f[0], "detach")) {
    int i = find_attachment(n, f[1]);
    if (i >= 0) drop_attachment(n, i);
    if (n->n == 0 && n->users_lock_fd) {
      close(n->users_lock_fd - 1);
      n->users_lock_fd = 0;
    }
    return 0;
  }
  if (nf != ATTACH_FIELDS || strcmp(f[0], "attach") != 0) {
    snprintf(msg, mlen, "net: want attach and 9 fields or detach IFNAME");
    return -1;
  }
  if (!*f[5] || strlen(f[5]) >= IFNAMSIZ) {
    snprintf(msg, mlen, "net: bad interface name");
    return -1;
  }
  int i = find_attachment(n, f[5]);
  if (i < 0 && n->n >= MAX_NET_ATTACH) {
    snprintf(msg, mlen, "net: more than %d networks", MAX_NET_ATTACH);
    return -1;
  }
  /* not waiting: skiff holds the lock shared while it connects, so the holder cannot have it */
  if (lock_users(n, f[9], 0) < 0) {
    snprintf(msg, mlen, "%s", err_msg);
    return -1;
  }
  char *mem = xmalloc(len);
  memcpy(mem, data, len);
  const char *g[ATTACH_FIELDS];
  for (int k = 0; k < ATTACH_FIELDS; k++) g[k] = mem + (f[k] - data);
  if (i >= 0) drop_attachment(n, i);
  n->a[n->n++] = (struct net_attach){g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], mem};
  return 0;
}

int net_attach_apply(const struct net_attachments *n, char *msg, size_t len) {
  if (n->n == 0) return 0;
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) {
    snprintf(msg, len, "network: cannot open our network namespace: %s", strerror(errno));
    return -1;
  }
  for (int i = 0; i < n->n; i++) {
    if (attach_one(&n->a[i], self, self) < 0) {
      snprintf(msg, len, "network %s: %s", n->a[i].bridge, err_msg);
      close(self);
      return -1;
    }
  }
  close(self);
  return 0;
}

/* net-connect CTR_PID CTR_START HOLDER_PID HOLDER_START BRIDGE BRIDGE_CIDR IFNAME CIDR MAC GATEWAY */
int mode_net_connect(int argc, char **argv) {
  if (argc != 11) die("usage: net-connect CTR_PID CTR_START HOLDER_PID HOLDER_START BRIDGE BRIDGE_CIDR IFNAME CIDR MAC GATEWAY");
  struct net_attach a = {argv[3], argv[4], argv[5], argv[6], argv[7], argv[8], argv[9], argv[10], NULL};
  int ctr = net_open_netns_of(argv[1], argv[2], "container");
  if (ctr < 0 || attach_one(&a, ctr, -1) < 0) die("%s", err_msg);
  return 0;
}

/*
 * net-disconnect CTR_PID CTR_START IFNAME [ROUTE_IFNAME GATEWAY]: its veth peer in the holder goes
 * with it, and so does the default route through it; with ROUTE_IFNAME the default route goes
 * through GATEWAY there next (Docker moves it to the container's next network with a gateway).
 */
int mode_net_disconnect(int argc, char **argv) {
  if (argc != 4 && argc != 6) die("usage: net-disconnect CTR_PID CTR_START IFNAME [ROUTE_IFNAME GATEWAY]");
  int ctr = net_open_netns_of(argv[1], argv[2], "container");
  if (ctr < 0) die("%s", err_msg);
  if (setns(ctr, CLONE_NEWNET) < 0) die("cannot enter the container's network namespace: %s", strerror(errno));
  int nl = nl_open(0), index = if_nametoindex(argv[3]), rc;
  if (nl < 0) die("netlink: %s", strerror(errno));
  if (index && (rc = link_delete(nl, index)) < 0) die("cannot remove %s: %s", argv[3], strerror(-rc));
  if (argc == 6) {
    int to = if_nametoindex(argv[4]);
    if (!to) die("%s: %s", argv[4], strerror(errno));
    if ((rc = route_set_default(nl, to, argv[5])) < 0) die("cannot add the default route through %s: %s", argv[5], strerror(-rc));
  }
  return 0;
}

/* ---------- the holder ---------- */

/* A failure before the holder is ready: `err 125 MESSAGE` on the report fd for skiff to show,
 * and the usual line on stderr (the holder's log). */
static void hdie(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void hdie(const char *fmt, ...) {
  char msg[512], line[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  int n = snprintf(line, sizeof line, "err 125 %s\n", msg);
  if (write(3, line, n) < 0) { /* skiff is gone: the log has it */ }
  die("net-holder: %s", msg);
}

static int write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n < 0 ? -1 : 0;
}

static void loopback_up_here(void) {
  int nl = nl_open(0);
  int rc = nl < 0 ? -errno : link_set_up(nl, if_nametoindex("lo"));
  if (rc < 0) hdie("loopback up: %s", strerror(-rc));
  close(nl);
}

/* nft -f /dev/stdin with RULES on a pipe, in our (the holder's) namespace. */
static void load_rules(const char *nft, const char *rules) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) hdie("pipe: %s", strerror(errno));
  pid_t pid = fork();
  if (pid < 0) hdie("fork: %s", strerror(errno));
  if (pid == 0) {
    dup2(p[0], 0);
    execl(nft, "nft", "-f", "/dev/stdin", (char *)NULL);
    _exit(127);
  }
  close(p[0]);
  write_all(p[1], rules, strlen(rules), "nft");
  close(p[1]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    hdie("%s could not load the NAT rules (exit %d)", nft, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/*
 * slirp4netns on our namespace's tap0. It must run in the host's network namespace, which a
 * rootless holder cannot setns back into (that namespace belongs to the initial user
 * namespace), so the child is forked before we unshare and execs once GO says our namespace is
 * ready. It exits when the pipe we keep (its --exit-fd) reports our end closed, i.e. when we
 * exit however we die.
 */
struct slirp { pid_t pid; int go, ready, exit_w; };

static struct slirp fork_slirp(const char *slirp) {
  int exit_p[2], ready_p[2], go_p[2];
  if (pipe2(exit_p, O_CLOEXEC) < 0 || pipe2(ready_p, O_CLOEXEC) < 0 || pipe2(go_p, O_CLOEXEC) < 0)
    hdie("pipe: %s", strerror(errno));
  char self[32];
  snprintf(self, sizeof self, "%d", (int)getpid());
  pid_t pid = fork();
  if (pid < 0) hdie("fork: %s", strerror(errno));
  if (pid == 0) {
    char c;
    close(go_p[1]);
    if (read(go_p[0], &c, 1) != 1) _exit(0); /* the holder gave up */
    /* Only these two survive the exec: fds 3 and 4. */
    if (dup2(exit_p[0], 3) < 0 || dup2(ready_p[1], 4) < 0) _exit(126);
    execl(slirp, "slirp4netns", "--configure", "--mtu=65520", "--exit-fd=3", "--ready-fd=4", self, "tap0", (char *)NULL);
    fprintf(stderr, "skiff-helper: net-holder: cannot run %s: %s\n", slirp, strerror(errno));
    _exit(127);
  }
  close(exit_p[0]);
  close(ready_p[1]);
  close(go_p[0]);
  /* exit_p[1] stays open (close-on-exec) for our whole life. */
  return (struct slirp){pid, go_p[1], ready_p[0], exit_p[1]};
}

static void start_slirp(struct slirp *s, const char *slirp) {
  if (write(s->go, "g", 1) != 1) hdie("cannot start %s: %s", slirp, strerror(errno));
  close(s->go);
  struct pollfd pf = {s->ready, POLLIN, 0};
  char c;
  if (poll(&pf, 1, 10000) != 1 || read(s->ready, &c, 1) != 1) {
    kill(s->pid, SIGKILL);
    hdie("%s did not start", slirp);
  }
  close(s->ready);
}

/* The links of our namespace: how many container veths, and bridges no one is attached to
 * (of networks removed since, or whose last container left) removed. */
static int count_veths_and_prune_bridges(int nl, int prune) {
  struct { int index, master, bridge; char name[IFNAMSIZ]; } links[512];
  int nlinks = 0;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  struct nlmsg m;
  nl_start(&m, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof ifi);
  m.h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  if (send(nl, m.h, m.h->nlmsg_len, 0) < 0) return -1;
  char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
  for (int done = 0; !done;) {
    ssize_t n = recv(nl, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) { done = 1; break; }
      if (h->nlmsg_type != RTM_NEWLINK || nlinks >= 512) continue;
      struct ifinfomsg *i = NLMSG_DATA(h);
      links[nlinks].index = i->ifi_index;
      links[nlinks].master = 0;
      links[nlinks].bridge = 0;
      links[nlinks].name[0] = 0;
      int alen = IFLA_PAYLOAD(h);
      for (struct rtattr *a = IFLA_RTA(i); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
        if (a->rta_type == IFLA_IFNAME) snprintf(links[nlinks].name, IFNAMSIZ, "%s", (char *)RTA_DATA(a));
        else if (a->rta_type == IFLA_MASTER) links[nlinks].master = *(int *)RTA_DATA(a);
        else if (a->rta_type == IFLA_LINKINFO) {
          int ilen = RTA_PAYLOAD(a);
          for (struct rtattr *k = RTA_DATA(a); RTA_OK(k, ilen); k = RTA_NEXT(k, ilen))
            if (k->rta_type == IFLA_INFO_KIND && !strcmp(RTA_DATA(k), "bridge")) links[nlinks].bridge = 1;
        }
      }
      nlinks++;
    }
  }
  int veths = 0;
  for (int i = 0; i < nlinks; i++) {
    if (!strncmp(links[i].name, VETH_PREFIX, strlen(VETH_PREFIX))) veths++;
    if (!prune || !links[i].bridge || strncmp(links[i].name, BRIDGE_PREFIX, strlen(BRIDGE_PREFIX)) != 0) continue;
    int used = 0;
    for (int j = 0; j < nlinks; j++) used |= links[j].master == links[i].index;
    if (!used) link_delete(nl, links[i].index);
  }
  return veths;
}

/*
 * net-holder PIDFILE USERS_LOCK SLIRP4NETNS NFT RULES: hold the networks' namespace. Reports
 * `ok` (or `err 125 MESSAGE`) on fd 3 once the namespace, its NAT rules and its way out are
 * ready and PIDFILE names us ("PID START"); SLIRP4NETNS "" = no way out (NFT and RULES unused
 * then). Exits once no container is attached and nobody holds USERS_LOCK (every monitor of a
 * container on a user network holds it shared, skiff holds it while it starts one).
 */
int mode_net_holder(int argc, char **argv) {
  if (argc != 6) die("usage: net-holder PIDFILE USERS_LOCK SLIRP4NETNS NFT RULES");
  const char *pidfile = argv[1], *users_lock = argv[2], *slirp = argv[3], *nft = argv[4], *rules = argv[5];
  fcntl(3, F_SETFD, FD_CLOEXEC);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  struct slirp sl = {-1, -1, -1, -1};
  if (slirp[0]) sl = fork_slirp(slirp);
  if (unshare(CLONE_NEWNET) < 0) hdie("cannot create a network namespace: %s", strerror(errno));
  loopback_up_here();
  if (slirp[0]) {
    if (write_text("/proc/sys/net/ipv4/ip_forward", "1") < 0) hdie("cannot enable forwarding: %s", strerror(errno));
    /* Bridged frames must not go through the IP forward chain (which drops between networks). */
    write_text("/proc/sys/net/bridge/bridge-nf-call-iptables", "0");
    write_text("/proc/sys/net/bridge/bridge-nf-call-ip6tables", "0");
    load_rules(nft, rules);
    start_slirp(&sl, slirp);
  }
  char start[64], line[128], tmp[4096];
  if (process_start_time(getpid(), start, sizeof start) < 0) hdie("cannot read our start time");
  snprintf(line, sizeof line, "%d %s\n", (int)getpid(), start);
  snprintf(tmp, sizeof tmp, "%s.tmp", pidfile);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) hdie("%s: %s", tmp, strerror(errno));
  write_all(fd, line, strlen(line), tmp);
  close(fd);
  if (rename(tmp, pidfile) < 0) hdie("%s: %s", pidfile, strerror(errno));
  if (write(3, "ok\n", 3) < 0) { /* skiff gave up waiting: it cleans up after us */ }
  close(3);
  int lock = open(users_lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  int nl = nl_open(RTMGRP_LINK), query = nl_open(0);
  if (lock < 0 || nl < 0 || query < 0) hdie("%s", strerror(errno));
  for (;;) {
    /* A link event (a container's veth gone with its namespace) or every 2 s. */
    struct pollfd pf = {nl, POLLIN, 0};
    if (poll(&pf, 1, 2000) > 0) {
      char drain[8192];
      while (recv(nl, drain, sizeof drain, MSG_DONTWAIT) > 0) {
      }
    }
    if (sl.pid > 0 && waitpid(sl.pid, NULL, WNOHANG) == sl.pid) sl.pid = -1; /* died: the way out is gone (logged by it) */
    if (flock(lock, LOCK_EX | LOCK_NB) < 0) continue;
    int veths = count_veths_and_prune_bridges(query, 1);
    if (veths == 0) {
      unlink(pidfile);
      /* slirp4netns exits when its exit fd closes; reap it, so no zombie outlives us */
      if (sl.pid > 0) {
        close(sl.exit_w);
        waitpid(sl.pid, NULL, 0);
      }
      return 0; /* the lock goes with us */
    }
    flock(lock, LOCK_UN);
  }
}
