/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_ip6.h - the IPv6 side of the natgw_gw library, between its files: the routed IPv6 path
 * with conntrack (gw_ip6.c: RFC 6092 simple security, hop limit, ICMPv6 errors, echo),
 * neighbour discovery (gw_nd.c: NS/NA, next-hop resolution with hold and retry as ARP, router
 * advertisements) and the IPv6 configuration keys ([inside]/[outside] address6, gateway6,
 * routes6, ra; docs/config.md). IPv6 is on when both sides have address6; otherwise IPv6
 * frames are dropped as NOT_IPV4, as before.
 *
 * Hook for NAT64 (issue 12): gw_ip6_input() parses and checks a frame, then hands it to
 * gw_ip6_forward(); a translator hooks in between (a destination in its prefix) and may use
 * gw_nd_resolve_send() on the inside.
 */
#ifndef NATGW_GW_IP6_H
#define NATGW_GW_IP6_H

#include <string.h>

#include <rte_jhash.h>

#include "gw_private.h"

/* Per gateway (read-only after gw_ip6_init) */
struct gw_ip6 {
	uint8_t ll[GW_PORT_MAX][16];	/* our link-local address per side (EUI-64, RFC 4291) */
	uint32_t owner_seed;		/* owner worker hash of the inside host's address */
};

struct gw_nd_cache;			/* gw_nd.c */

/* Per worker */
struct gw_ip6_worker {
	struct gw_nd_cache *nd;
	ct_time_t icmp_last;		/* ICMPv6 error token bucket (RFC 4443 2.4 f) */
	uint64_t icmp_tokens;
	ct_time_t ra_next;		/* worker 0: next unsolicited RA */
};

static inline bool
gw_ip6_on(const struct gw *g)
{
	return g->ip6 != NULL;
}

/* Keyed hash of an IPv6 address read from a packet (2-byte aligned at best): copied to
 * words first, rte_jhash() would load misaligned 32-bit words. */
static inline uint32_t
gw_ip6_hash(const uint8_t a[16], uint32_t seed)
{
	uint32_t w[4];

	memcpy(w, a, sizeof(w));
	return rte_jhash_32b(w, 4, seed);
}

static inline bool
gw_ip6_is_zero(const uint8_t a[16])
{
	static const uint8_t z[16];

	return memcmp(a, z, 16) == 0;
}

/* Do a and b share the first len bits? */
static inline bool
gw_ip6_prefix_eq(const uint8_t a[16], const uint8_t b[16], unsigned int len)
{
	unsigned int n = len / 8, r = len % 8;

	if (memcmp(a, b, n) != 0)
		return false;
	return r == 0 || ((a[n] ^ b[n]) & (uint8_t)(0xff << (8 - r))) == 0;
}

/* gw_ip6.c: configuration */
bool gw_ip6_config_key(const char *key);
int gw_ip6_config_set(struct gw_config *c, unsigned int port, const char *key,
		      const char *val, char *why, size_t whylen);
/* 0, or -1 with the key (in *key) and a message */
int gw_ip6_config_check(const struct gw_config *c, const char **sec, const char **key,
			char *why, size_t whylen);

/* gw_ip6.c: the gateway */
int gw_ip6_init(struct gw *g);
void gw_ip6_free(struct gw *g);
int gw_ip6_worker_init(struct gw_worker *w);
void gw_ip6_worker_free(struct gw_worker *w);
/* An IPv6 frame (ether type 0x86dd) in stage 1: -1 consumed, else the owner worker to hand
 * it to (never w->idx: processed here then). */
int gw_ip6_input(struct gw_worker *w, struct rte_mbuf *m, ct_time_t now, bool handed);
/* The worker owning an IPv6 frame received on port (gw_owner) */
unsigned int gw_ip6_owner(const struct gw *g, unsigned int port, const struct rte_mbuf *m);
/* One of our addresses on port (global or link-local) */
bool gw_ip6_is_ours(const struct gw *g, unsigned int port, const uint8_t a[16]);
/* An address of the inside: the inside prefix or a routes6 prefix */
bool gw_ip6_is_inside(const struct gw *g, const uint8_t a[16]);
unsigned int gw_ip6_timer(struct gw_worker *w, ct_time_t now);
/* An ND copy from another worker (GW_PORT_LEARN_FLAG, ether type IPv6). Consumes m. */
void gw_ip6_learn(struct gw_worker *w, struct rte_mbuf *m, ct_time_t now);
/* Write a fixed IPv6 header (no flow label) */
void gw_ip6_fill_hdr(uint8_t *ip6, uint16_t plen, uint8_t nh, uint8_t hops,
		     const uint8_t src[16], const uint8_t dst[16]);
/* gw_rules.c: an IPv6 packet from the uplink with no connection through the forward chain
 * (ct state new): GW_DROP_NONE when a rule (not the policy) accepts it, else the reason
 * (IP6_INBOUND_NEW when the policy decided, RULE_DROP / RULE_REJECT for a rule's). */
enum gw_drop gw_rules_inbound_new6(struct gw_worker *w, const struct rte_mbuf *m,
				   const struct ct_pkt *p, unsigned int port, ct_time_t now);
/* ICMPv6 destination unreachable with code (RFC 4443 3.1) about frame m received on port,
 * back to its source (the ruleset's reject); rate-limited; does not consume m. */
void gw_ip6_unreach(struct gw_worker *w, unsigned int port, const struct rte_mbuf *m,
		    const struct ct_pkt *p, uint8_t code, ct_time_t now);
/* ICMPv6 checksum of the message at icmp (len bytes) under the header at ip6, written */
void gw_icmp6_csum(uint8_t *ip6, uint8_t *icmp, unsigned int len);

/* gw_frag6.c */
/* Feed an IPv6 fragment (p parsed from it): the reassembled contiguous frame, or NULL (held
 * or dropped; m is always consumed). */
struct rte_mbuf *gw_frag6_reassemble(struct gw_worker *w, struct rte_mbuf *m,
				     const struct ct_pkt *p, ct_time_t now);
/* Fragment a reassembled frame m to mtu out of egress to nexthop (consumes m). */
void gw_frag6_send(struct gw_worker *w, unsigned int egress, const uint8_t nexthop[16],
		   struct rte_mbuf *m, uint16_t mtu, ct_time_t now);

/* gw_nd.c */
int gw_nd_init(struct gw_worker *w);
void gw_nd_free(struct gw_worker *w);
void gw_nd_flush(struct gw_worker *w);
/* An ICMPv6 ND message (RS, NS, NA; the caller checked it is ICMPv6 to us or to a multicast
 * group of ours). learn_only: a copy from another worker (GW_PORT_LEARN_FLAG). Consumes m. */
void gw_nd_input(struct gw_worker *w, unsigned int port, struct rte_mbuf *m,
		 const struct ct_pkt *p, ct_time_t now, bool learn_only);
/* Resolve nexthop for m (Ethernet header present, source MAC and type set); sends, holds
 * (bounded, as ARP) or drops (ND_UNRESOLVED at once when IPv6 is off: no address6). */
void gw_nd_resolve_send(struct gw_worker *w, unsigned int port, const uint8_t nexthop[16],
			struct rte_mbuf *m, ct_time_t now);
/* Retries, expiry and (worker 0, ra = yes) periodic router advertisements. */
unsigned int gw_nd_timer(struct gw_worker *w, ct_time_t now);
/* Send a router advertisement on the inside (to all nodes). */
void gw_nd_send_ra(struct gw_worker *w, ct_time_t now);

#endif /* NATGW_GW_IP6_H */
