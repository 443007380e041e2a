/*
 * Docker's NAT rules for the embedded DNS server (dns.h): the server's sockets are bound to
 * 127.0.0.11 on ports the kernel picks, and rules in the container's network namespace
 * send what the container's processes send to 127.0.0.11:53 there (UDP and TCP, each to its
 * own socket's port):
 *
 *   table ip skiff_dns { chain output { type nat hook output priority -100;
 *     ip daddr 127.0.0.11 udp dport 53 dnat to 127.0.0.11:UDP_PORT
 *     ip daddr 127.0.0.11 tcp dport 53 dnat to 127.0.0.11:TCP_PORT } }
 *
 * so a DNS server of the container's own may bind 0.0.0.0:53 (conntrack turns the replies'
 * source back into :53). Loaded in one nf_tables netlink batch, not by running nft (60+ ms a
 * start). -errno when the kernel refuses it (no nf_tables, no NAT): the caller binds :53 itself.
 */
#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct batch {
  char buf[2048] __attribute__((aligned(NLMSG_ALIGNTO)));
  size_t len;
  struct nlmsghdr *msg; /* the message being built */
  uint32_t seq;
};

static void *room(struct batch *b, size_t n) {
  void *p = b->buf + b->len;
  memset(p, 0, NLMSG_ALIGN(n));
  b->len += NLMSG_ALIGN(n);
  return p;
}

static void begin(struct batch *b, uint16_t type, uint16_t flags, uint8_t family) {
  b->msg = room(b, NLMSG_HDRLEN);
  b->msg->nlmsg_type = type;
  b->msg->nlmsg_flags = NLM_F_REQUEST | flags;
  b->msg->nlmsg_seq = ++b->seq;
  struct nfgenmsg *g = room(b, sizeof *g);
  g->nfgen_family = family;
  g->version = NFNETLINK_V0;
  g->res_id = htons(family == AF_UNSPEC ? NFNL_SUBSYS_NFTABLES : 0);
}

static void end(struct batch *b) { b->msg->nlmsg_len = (uint32_t)(b->buf + b->len - (char *)b->msg); }

static void put(struct batch *b, uint16_t type, const void *data, size_t n) {
  struct nlattr *a = room(b, NLA_HDRLEN + n);
  a->nla_type = type;
  a->nla_len = (uint16_t)(NLA_HDRLEN + n);
  memcpy((char *)a + NLA_HDRLEN, data, n);
}

static void put_str(struct batch *b, uint16_t type, const char *s) { put(b, type, s, strlen(s) + 1); }
static void put_be32(struct batch *b, uint16_t type, uint32_t v) {
  v = htonl(v);
  put(b, type, &v, sizeof v);
}

static struct nlattr *nest(struct batch *b, uint16_t type) {
  struct nlattr *a = room(b, NLA_HDRLEN);
  a->nla_type = NLA_F_NESTED | type;
  return a;
}
static void nest_end(struct batch *b, struct nlattr *a) { a->nla_len = (uint16_t)(b->buf + b->len - (char *)a); }

/* One expression of the rule: NAME and its attributes, filled by the caller between the two. */
static struct nlattr *expr(struct batch *b, const char *name, struct nlattr **data) {
  struct nlattr *elem = nest(b, NFTA_LIST_ELEM);
  put_str(b, NFTA_EXPR_NAME, name);
  *data = nest(b, NFTA_EXPR_DATA);
  return elem;
}
static void expr_end(struct batch *b, struct nlattr *elem, struct nlattr *data) {
  nest_end(b, data);
  nest_end(b, elem);
}

static void payload(struct batch *b, uint32_t base, uint32_t offset, uint32_t len) {
  struct nlattr *d, *e = expr(b, "payload", &d);
  put_be32(b, NFTA_PAYLOAD_DREG, NFT_REG_1);
  put_be32(b, NFTA_PAYLOAD_BASE, base);
  put_be32(b, NFTA_PAYLOAD_OFFSET, offset);
  put_be32(b, NFTA_PAYLOAD_LEN, len);
  expr_end(b, e, d);
}

static void cmp_eq(struct batch *b, const void *value, size_t n) {
  struct nlattr *d, *e = expr(b, "cmp", &d);
  put_be32(b, NFTA_CMP_SREG, NFT_REG_1);
  put_be32(b, NFTA_CMP_OP, NFT_CMP_EQ);
  struct nlattr *v = nest(b, NFTA_CMP_DATA);
  put(b, NFTA_DATA_VALUE, value, n);
  nest_end(b, v);
  expr_end(b, e, d);
}

static void immediate(struct batch *b, uint32_t reg, const void *value, size_t n) {
  struct nlattr *d, *e = expr(b, "immediate", &d);
  put_be32(b, NFTA_IMMEDIATE_DREG, reg);
  struct nlattr *v = nest(b, NFTA_IMMEDIATE_DATA);
  put(b, NFTA_DATA_VALUE, value, n);
  nest_end(b, v);
  expr_end(b, e, d);
}

/* ip daddr 127.0.0.11 PROTO dport 53 dnat to 127.0.0.11:PORT (network byte order) */
static void redirect_rule(struct batch *b, const char *table, const char *chain, uint8_t proto, uint16_t to) {
  uint32_t server = htonl(0x7f00000b); /* 127.0.0.11 */
  uint16_t dport = htons(53);
  begin(b, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, NFPROTO_IPV4);
  put_str(b, NFTA_RULE_TABLE, table);
  put_str(b, NFTA_RULE_CHAIN, chain);
  struct nlattr *exprs = nest(b, NFTA_RULE_EXPRESSIONS);
  payload(b, NFT_PAYLOAD_NETWORK_HEADER, 16, 4); /* ip daddr */
  cmp_eq(b, &server, 4);
  {
    struct nlattr *d, *e = expr(b, "meta", &d);
    put_be32(b, NFTA_META_DREG, NFT_REG_1);
    put_be32(b, NFTA_META_KEY, NFT_META_L4PROTO);
    expr_end(b, e, d);
  }
  cmp_eq(b, &proto, 1);
  payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2); /* udp/tcp dport: the same place in both */
  cmp_eq(b, &dport, 2);
  immediate(b, NFT_REG_1, &server, 4);
  immediate(b, NFT_REG_2, &to, 2);
  {
    struct nlattr *d, *e = expr(b, "nat", &d);
    put_be32(b, NFTA_NAT_TYPE, NFT_NAT_DNAT);
    put_be32(b, NFTA_NAT_FAMILY, NFPROTO_IPV4);
    put_be32(b, NFTA_NAT_REG_ADDR_MIN, NFT_REG_1);
    put_be32(b, NFTA_NAT_REG_PROTO_MIN, NFT_REG_2);
    expr_end(b, e, d);
  }
  nest_end(b, exprs);
  end(b);
}

int dns_nat_redirect(unsigned short udp_port, unsigned short tcp_port) {
  static struct batch b;
  memset(&b, 0, sizeof b);
  const char *table = "skiff_dns", *chain = "output";

  begin(&b, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC);
  end(&b);
  begin(&b, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK, NFPROTO_IPV4);
  put_str(&b, NFTA_TABLE_NAME, table);
  end(&b);
  begin(&b, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_ACK, NFPROTO_IPV4);
  put_str(&b, NFTA_CHAIN_TABLE, table);
  put_str(&b, NFTA_CHAIN_NAME, chain);
  struct nlattr *hook = nest(&b, NFTA_CHAIN_HOOK);
  put_be32(&b, NFTA_HOOK_HOOKNUM, NF_INET_LOCAL_OUT);
  put_be32(&b, NFTA_HOOK_PRIORITY, (uint32_t)-100);
  nest_end(&b, hook);
  put_str(&b, NFTA_CHAIN_TYPE, "nat");
  end(&b);
  redirect_rule(&b, table, chain, IPPROTO_UDP, htons(udp_port));
  redirect_rule(&b, table, chain, IPPROTO_TCP, htons(tcp_port));
  begin(&b, NFNL_MSG_BATCH_END, 0, AF_UNSPEC);
  end(&b);

  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) return -errno;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  int rc = 0;
  if (sendto(fd, b.buf, b.len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) rc = -errno;
  /* an ack per message that asked for one (4), or the first error */
  for (int acks = 0; rc == 0 && acks < 4;) {
    char in[1024] __attribute__((aligned(NLMSG_ALIGNTO)));
    ssize_t n = recv(fd, in, sizeof in, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      rc = -errno;
      break;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)in; rc == 0 && NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (err) rc = err;
      else acks++;
    }
  }
  close(fd);
  return rc;
}
