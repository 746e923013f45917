/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_nat64.h - stateful NAT64 (RFC 6146) in the natgw_gw library, between its files.
 *
 * Every inside IPv6 host that talks to the [nat64] prefix gets a shadow IPv4 address from
 * an internal range ([nat64] shadow, default 100.64.0.0/10; it never leaves natgw: NAT44
 * translates it like any inside address). Its IPv6 packets are translated (lib/nat64,
 * RFC 7915) into IPv4 packets from the shadow in stage 1 and then take the IPv4 inside path:
 * conntrack, filtering, the NAT44 pool, port allocation and EIM, helpers. What leaves
 * towards a shadow address is translated back (source: the remote embedded in the prefix)
 * and sent to the MAC address the host last sent from. So NAT64 and NAT44 share one pool,
 * one port table and the same mapping and filtering behaviour.
 *
 * Ownership (shared/DESIGN.md): a host's IPv6 packets go to the worker chosen by a hash of
 * its IPv6 address; that worker allocates its shadow among the shadow addresses whose NAT44
 * owner (nat_host_owner) it is, so the translated packets, their connections and the
 * replies all stay on it. Each worker writes only its own shadow entries; the control
 * plane reads them with a sequence count (listing).
 */
#ifndef NATGW_GW_NAT64_H
#define NATGW_GW_NAT64_H

#include "gw_private.h"
#include "nat64.h"

#define GW_NAT64_PASS	(-2)	/* gw_nat64_input: not NAT64 traffic, as if not called */
#define GW_NAT64_IPV4	(-3)	/* gw_nat64_input: translated in place, go on as IPv4 */
#define GW_NAT64_MAX_HOSTS	(1u << 20)
#define GW_NAT64_SCRATCH	(9216 + 128)

/* One shadow: entry i is address shadow_net + i + 1. */
struct gw_nat64_shadow {
	uint32_t seq;			/* odd while its worker writes it */
	uint8_t used;
	uint8_t worker;			/* the owner: nat_host_owner of the address */
	struct rte_ether_addr mac;	/* where the host sent from last */
	uint8_t addr6[16];
	ct_time_t created, last;
	uint64_t pkts[2];		/* [0] translated to IPv4, [1] to IPv6 */
};

/* Per gateway (read-only after gw_nat64_init, but the entries: see above) */
struct gw_nat64 {
	struct nat64_prefix pfx;
	bool wkp;			/* Well-Known Prefix and wkp_strict: RFC 6052 3.1 */
	uint32_t n;			/* shadow entries */
	uint32_t owner_seed;		/* the worker of an IPv6 host */
	ct_time_t timeout;		/* a shadow without connections is kept so long idle */
	struct gw_nat64_shadow *sh;
};

struct gw_nat64_stats {
	uint64_t to4, to6;		/* packets translated */
	uint64_t created, reclaimed;	/* shadow entries */
	uint64_t active;		/* gauge */
	uint64_t xlat[XLAT_R_MAX];	/* why translations failed (GW_DROP_NAT64_XLAT) */
};

/* Per worker */
struct gw_nat64_worker {
	uint32_t *own;			/* indices of the entries this worker may use */
	uint32_t n_own;
	uint32_t *free;			/* stack of free ones among them */
	uint32_t n_free;
	uint32_t *tab;			/* IPv6 address -> index + 1, linear probing */
	uint32_t mask;
	uint32_t seed;
	uint32_t cursor;		/* reclaim scan position in own[] */
	uint16_t ip_id;
	uint8_t *out;			/* GW_NAT64_SCRATCH bytes: the translation */
	uint8_t *in;			/* GW_NAT64_SCRATCH bytes: a chained frame read flat */
	struct gw_nat64_stats st;
};

/*
 * The IPv4 MTU towards a shadow whose host is on an IPv6 link of MTU mtu6, for a packet of
 * len bytes: with DF set what fits once 20 bytes longer (RFC 7915 4: the sender learns it
 * from our fragmentation needed); with DF clear the packet itself when it is at most 1280
 * bytes as IPv6, else fragments that are at most 1280 bytes with their fragment header
 * (RFC 7915 4: such a sender does no PMTUD, and 1280 crosses every IPv6 link).
 */
static inline uint16_t
gw_nat64_mtu(uint16_t mtu6, bool df, uint16_t len)
{
	uint16_t lim = RTE_MIN(mtu6, (uint16_t)XLAT_IPV6_MIN_MTU);

	if (df)
		return (uint16_t)(mtu6 - 20);
	return len + 20 <= lim ? len : (uint16_t)(lim - 28);
}

/* [nat64] configuration (docs/config.md): defaults; one key (0, or -1 with why); the
 * checks against the rest of the configuration (0, or -1 with the key and why). */
void gw_nat64_config_default(struct gw_config *c);
int gw_nat64_config_set(struct gw_config *c, const char *key, const char *val, char *why,
			size_t whylen);
int gw_nat64_config_check(const struct gw_config *c, const char **key, char *why,
			  size_t whylen);

int gw_nat64_init(struct gw *g, char *err, size_t errlen);
void gw_nat64_free(struct gw *g);
/* Stage 1, an IPv6 frame from the inside: GW_NAT64_PASS (not to the prefix), -1 consumed
 * (dropped), GW_NAT64_IPV4 (m now holds the IPv4 packet, GW_PORT_NAT64_FLAG set), or the
 * worker to hand it to. */
int gw_nat64_input(struct gw_worker *w, struct rte_mbuf *m, ct_time_t now, bool handed);
/* The worker for a frame received on the inside, or UINT32_MAX when it is not NAT64's. */
uint32_t gw_nat64_owner(const struct gw *g, const struct rte_mbuf *m);
/* An IPv4 frame (L2 header present) routed to a shadow address: translated to IPv6 and
 * queued on the inside port, or dropped. Consumes m. */
void gw_nat64_output(struct gw_worker *w, struct rte_mbuf *m, ct_time_t now);
/* Shadows no connection uses and idle past [nat64] timeout go back (bounded). */
unsigned int gw_nat64_timer(struct gw_worker *w, ct_time_t now);
/* Counters summed over workers. [any] */
void gw_nat64_stats_get(const struct gw *g, struct gw_nat64_stats *out);
/* One shadow as the control plane sees it. */
struct gw_nat64_host {
	uint8_t addr6[16];
	uint32_t addr4;			/* the shadow, network order */
	struct rte_ether_addr mac;
	unsigned int worker;
	ct_time_t idle;
	uint64_t pkts[2];
};
/* Copy up to n live shadows from entry *cursor on (0 to start); returns how many, 0 when
 * done. Lock-free against the workers. [any] */
unsigned int gw_nat64_list(const struct gw *g, uint32_t *cursor, struct gw_nat64_host *out,
			   unsigned int n, ct_time_t now);
/* The IPv6 host behind shadow address a (network order); false if a is none. [any] */
bool gw_nat64_host_of(const struct gw *g, uint32_t a, uint8_t addr6[16]);
/* /natgw/nat64 (telemetry): counters and the shadows. */
int gw_nat64_telemetry_register(struct gw *g, ct_time_t (*clock)(void));

#endif /* NATGW_GW_NAT64_H */
