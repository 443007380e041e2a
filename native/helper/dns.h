/* The embedded DNS server of a container on user-defined networks, Docker's 127.0.0.11
 * (dns_message.c: the messages, dns_server.c: the sockets). The container init binds
 * 127.0.0.11:53 in the container's network namespace and hands the socket to the monitor, which
 * answers in its poll loop from the names file skiff keeps current (the peers' names, aliases
 * and short IDs on the container's networks) and forwards everything else to the upstream
 * resolvers: the host's from the host's network namespace (the monitor's), --dns ones from the
 * container's (a second socket the init made there), as Docker's resolver does. */
#ifndef SKIFF_DNS_H
#define SKIFF_DNS_H

#include <stddef.h>
#include <sys/socket.h>

struct pollfd;

#define DNS_MAX_UPSTREAMS 3 /* Docker's maxExtDNS */
#define DNS_POLLFDS 3

struct dns_upstream {
  struct sockaddr_storage addr; /* port 53 */
  socklen_t len;
  int hostns; /* 1: asked from the host's network namespace (the host's resolv.conf); 0: the container's (--dns) */
};

struct dns_config {
  const char *names; /* the names file; NULL: no DNS server */
  int ndots_set;     /* the container's resolv.conf sets ndots itself: unknown single labels are not forwarded */
  struct dns_upstream up[DNS_MAX_UPSTREAMS];
  int nup;
};

/* The spec keys dns and dns-upstream; 1 when KEY was one of them. */
int dns_parse_key(struct dns_config *c, const char *key, int nf, char **f);

/* In the container init, its loopback up: the socket bound to 127.0.0.11:53 (fds[0]) and, when
 * an upstream is asked from the container's namespace, an unbound one for that (fds[1], else
 * -1). 0, or -1 with one line in MSG. */
int dns_container_sockets(const struct dns_config *c, int fds[2], char *msg, size_t len);
/* In the container's network namespace: send 127.0.0.11:53/udp to 127.0.0.11:PORT (dns_nat.c,
 * an nf_tables NAT rule); 0 or -errno. */
int dns_nat_redirect(unsigned short port);
/* Whether dns_container_sockets makes fds[1]. */
int dns_wants_container_upstream(const struct dns_config *c);

/* The monitor, for one run: serve on LISTEN_FD (taken over; -1: no server this run) with
 * CTR_UP (or -1) for the container's upstreams. */
void dns_server_start(const struct dns_config *c, int listen_fd, int ctr_up);
/* Its sockets for poll (at most DNS_POLLFDS), the poll timeout it needs (ms, -1: none), and
 * the work after poll (P: what dns_pollfds filled). */
int dns_pollfds(struct pollfd *p);
int dns_poll_timeout(void);
void dns_handle(const struct pollfd *p, int n);
/* The run ended: close everything, drop the queries still waiting. */
void dns_server_stop(void);

/* dns-answer NAMES_FILE NDOTS_SET: the answer to the query on stdin, on stdout (exit 0), or exit 3
 * when it would be forwarded, 4 when it would be dropped. The tests' way to the parser. */
int mode_dns_answer(int argc, char **argv);

/* ---- the messages (dns_message.c), pure functions of their input ---- */

/* Whether the peer whose monitor is PID (started at START; "0" = ourselves) still runs. */
typedef int (*dns_alive_fn)(const char *pid, size_t pid_len, const char *start, size_t start_len);

enum { DNS_DROP = -1, DNS_FORWARD = 0, DNS_REPLY = 1 };

/* The answer to the datagram Q (QLEN bytes, from a client) from NAMES (the names file's text,
 * NUL-terminated, or NULL): DNS_REPLY with the reply in OUT (CAP >= 512 bytes) and *OUTLEN,
 * DNS_FORWARD when the upstream resolvers are to answer it, DNS_DROP when it is no query. */
int dns_local_reply(const char *names, int ndots_set, dns_alive_fn alive, const unsigned char *q, size_t qlen,
                    unsigned char *out, size_t cap, size_t *outlen);
/* A reply to Q with RCODE (2 SERVFAIL, 5 REFUSED) and no answer: DNS_REPLY or DNS_DROP. */
int dns_error_reply(const unsigned char *q, size_t qlen, int rcode, unsigned char *out, size_t cap, size_t *outlen);
/* Whether NAMES says the container has a way out (a network that is not --internal): only then
 * are the host's resolvers asked (Docker's proxyDNS). */
int dns_names_external(const char *names);

#endif
