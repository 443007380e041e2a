/* The embedded DNS server of a container on user-defined networks, Docker's 127.0.0.11
 * (dns_message.c: the messages, dns_server.c: the sockets and UDP, dns_tcp.c: TCP). The container init binds
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
#define DNS_TCP_CLIENTS 16   /* TCP connections served at once (a new one past them closes the longest idle) */
#define DNS_POLLFDS (3 + 1 + 2 * DNS_TCP_CLIENTS)
/* The sockets the init (or dns-connect) makes in the container's network namespace: the UDP and
 * the TCP one on 127.0.0.11, and with --dns upstreams a UDP socket and the namespace itself
 * (TCP connections to those upstreams are made there as they are needed). */
#define DNS_SOCKETS 4

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
/* The same from `dns-connect`'s message (NUL-separated NAMES NDOTS_SET [IP HOSTNS]...), into an
 * empty C (its strings copied): 0, or -1 with one line in MSG. */
int dns_config_from_message(struct dns_config *c, const char *data, size_t n, char *msg, size_t len);

/* In the container's network namespace, its loopback up: the sockets the server needs there
 * (DNS_SOCKETS above: 2, or 4 when an upstream is asked from the container's namespace). Their
 * count, or -1 with one line in MSG. */
int dns_container_sockets(const struct dns_config *c, int fds[DNS_SOCKETS], char *msg, size_t len);
/* In the container's network namespace: send 127.0.0.11:53 (UDP and TCP) to 127.0.0.11:UDP_PORT
 * and :TCP_PORT (dns_nat.c, nf_tables NAT rules); 0 or -errno. */
int dns_nat_redirect(unsigned short udp_port, unsigned short tcp_port);
/* Whether dns_container_sockets makes the container-namespace upstream socket and namespace. */
int dns_wants_container_upstream(const struct dns_config *c);

/* The monitor, for one run: serve the N sockets FDS (dns_container_sockets's, taken over; too
 * few: no server this run, they are closed). */
void dns_server_start(const struct dns_config *c, int *fds, int n);
/* Whether a server runs (this run). */
int dns_server_running(void);
/* Its sockets for poll (at most DNS_POLLFDS), the poll timeout it needs (ms, -1: none), and
 * the work after poll (P: what dns_pollfds filled). */
int dns_pollfds(struct pollfd *p);
int dns_poll_timeout(void);
void dns_handle(const struct pollfd *p, int n);
/* The run ended: close everything, drop the queries still waiting. */
void dns_server_stop(void);

/* ---- DNS over TCP (dns_tcp.c), served from the same poll loop ---- */
void dns_tcp_start(int listen_fd);
int dns_tcp_pollfds(struct pollfd *p); /* 1 + 2 * DNS_TCP_CLIENTS, or 0 when not serving */
long long dns_tcp_deadline(void);      /* the earliest time (dns_now_ms) it has work, -1: none */
void dns_tcp_handle(const struct pollfd *p, int n);
void dns_tcp_stop(void);
/* What dns_tcp.c uses of dns_server.c: the local answer to query Q (with the names file as it is
 * now), the upstreams, a TCP socket connecting to upstream I (-1: it cannot be asked), the clock
 * and fresh query IDs. */
int dns_answer_local(const unsigned char *q, size_t n, int tcp, unsigned char *out, size_t cap, size_t *outlen);
int dns_upstream_count(void);
int dns_upstream_tcp(int i);
long long dns_now_ms(void);
unsigned short dns_random_id(void);

/* dns-answer NAMES_FILE NDOTS_SET [tcp]: the answer to the query on stdin (asked over TCP with
 * `tcp`), on stdout (exit 0), or exit 3 when it would be forwarded, 4 when it would be dropped.
 * The tests' way to the parser. */
int mode_dns_answer(int argc, char **argv);
/* dns-connect CTR_PID CTR_START ATTACH_SOCKET NAMES_FILE NDOTS_SET [IP HOSTNS]... (dns_connect.c) */
int mode_dns_connect(int argc, char **argv);

/* ---- the messages (dns_message.c), pure functions of their input ---- */

/* Whether the peer whose monitor is PID (started at START; "0" = ourselves) still runs. */
typedef int (*dns_alive_fn)(const char *pid, size_t pid_len, const char *start, size_t start_len);

enum { DNS_DROP = -1, DNS_FORWARD = 0, DNS_REPLY = 1 };

/* The answer to the datagram Q (QLEN bytes, from a client) from NAMES (the names file's text,
 * NUL-terminated, or NULL): DNS_REPLY with the reply in OUT (CAP >= 512 bytes) and *OUTLEN,
 * DNS_FORWARD when the upstream resolvers are to answer it, DNS_DROP when it is no query. */
int dns_local_reply(const char *names, int ndots_set, dns_alive_fn alive, const unsigned char *q, size_t qlen, int tcp,
                    unsigned char *out, size_t cap, size_t *outlen);
/* A forwarded response RESP (*RESPLEN bytes, in a buffer of CAP >= 512) longer than the client
 * of QUERY takes over UDP (512, or its EDNS size): cut to the header and question with TC set
 * (the client asks again over TCP); 1 when it was cut. */
int dns_udp_fit(const unsigned char *query, size_t qlen, unsigned char *resp, size_t *resplen, size_t cap);
/* The TCP framing: BUF (LEN bytes read so far) starts with a 2-byte length and the message. 1
 * with the message's length in *MSGLEN once it is all there, 0 while more is to come, -1 when
 * the length cannot be a query (under a header, over MAX). */
int dns_tcp_frame(const unsigned char *buf, size_t len, size_t max, size_t *msglen);
/* A reply to Q with RCODE (2 SERVFAIL, 5 REFUSED) and no answer: DNS_REPLY or DNS_DROP. */
int dns_error_reply(const unsigned char *q, size_t qlen, int rcode, unsigned char *out, size_t cap, size_t *outlen);
/* Whether NAMES says the container has a way out (a network that is not --internal): only then
 * are the host's resolvers asked (Docker's proxyDNS). */
int dns_names_external(const char *names);

#endif
