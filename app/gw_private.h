/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_private.h - the internals of the natgw_gw library shared by its files: struct gw,
 * struct gw_worker, the ARP cache, the reassembly state and the functions one file of the
 * pipeline calls in another. Not for natgw-replay or the benchmark (they use gw.h).
 */
#ifndef NATGW_GW_PRIVATE_H
#define NATGW_GW_PRIVATE_H

#include <string.h>

#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_ring.h>

#include "gw.h"

/* ARP cache (gw_arp.c): per worker, [arp] entries dynamic entries per port */
#define GW_ARP_ENTRIES_MIN	16
#define GW_ARP_ENTRIES_MAX	65536
#define GW_ARP_HOLD_MAX		8	/* packets held per unresolved next hop */
#define GW_ARP_HOLD_TOTAL_MAX	4096	/* packets held, all next hops of a worker */
#define GW_ARP_TRIES		3
#define GW_ARP_SCAN_US		10000	/* housekeeping pass over the cache */
#define GW_TX_BUF		(GW_BURST_MAX * 4)
#define GW_EXPIRE_BUDGET	64
/* m->port of an ARP frame copied to the other workers only so they learn the sender */
#define GW_PORT_LEARN_FLAG	0x80
#define GW_PORT_FRAG_FLAG	0x40	/* fragment handed to the worker that reassembles it */
#define GW_FRAG_SRC_BUCKETS	4096	/* per-source fragment counts (power of two) */
/* a hairpinned packet, translated by its sender's worker and looped back in as if it had
 * arrived on the outside port (lib/nat/nat_mapping.c "Hairpinning"): already checked */
#define GW_PORT_HAIRPIN_FLAG	0x0100
/* an IPv4 packet translated from IPv6 by NAT64 (gw_nat64.c): its source is a shadow address,
 * which no packet received as IPv4 on the inside may carry */
#define GW_PORT_NAT64_FLAG	0x0400
/* ... and with this one the worker that copied it vouches for the sender (a request for one
 * of our addresses, or the answer to its own request), so every worker may add it */
#define GW_PORT_ARP_VOUCHED	0x20

struct gw_arp_cache;		/* gw_arp.c */
struct gw_ip6;			/* gw_ip6.h */
struct gw_ip6_worker;

/* ICMP errors to one destination (a bucket of destinations hashed together): a token
 * bucket in microseconds of credit (gw_icmp.c gw_icmp_peer_allowed) */
#define GW_ICMP_PEER_BUCKETS	256	/* power of two */
struct gw_icmp_peer {
	ct_time_t last;
	uint32_t credit;
};

struct gw_txbuf {
	uint16_t n;
	struct rte_mbuf *m[GW_TX_BUF];
};

struct gw_worker {
	struct gw *g;
	unsigned int idx;
	struct ct_table *ct;
	struct nat_ctx *nat;
	struct helper_ctx *hc;
	struct gw_io io;
	struct gw_txbuf tx[GW_PORT_MAX];
	struct gw_txbuf ho[GW_MAX_WORKERS];	/* handoff, flushed per burst */
	struct gw_arp_cache *arp;		/* gw_arp.c */
	struct gw_ip6_worker *ip6;		/* gw_ip6.h (NULL: IPv6 off) */
	struct gw_nat64_worker *nat64;		/* gw_nat64.h (NULL: NAT64 off) */
	ct_time_t icmp_last;			/* ICMP error token bucket */
	uint64_t icmp_tokens;
	/* per destination ICMP error buckets (gw_icmp.c), hashed with icmp_seed */
	struct gw_icmp_peer icmp_peer[GW_ICMP_PEER_BUCKETS];
	uint32_t icmp_seed;
	/* reassembly (gw_frag.c): a table per ingress port, so the port is part of the key;
	 * the fragments held are copies in frag_pool, counted per ingress port (frag_held)
	 * and per source address bucket (frag_src, hashed with frag_seed) */
	struct rte_ip_frag_tbl *frag_tbl[GW_PORT_MAX];
	struct rte_ip_frag_death_row dr;
	struct rte_mempool *frag_pool;
	bool frag_pool_own;
	uint32_t frag_seed;
	uint32_t frag_held[GW_PORT_MAX];
	uint16_t *frag_src;			/* GW_FRAG_SRC_BUCKETS */
	/* connection events (gw_event.c): produced only while ev_on (set by the main lcore) */
	uint8_t ev_on;
	uint8_t ev_why;				/* enum gw_ev_reason of a destroy now */
	ct_time_t ev_now;			/* `now` of the call being served */
	const struct ct_conn *ev_fresh;		/* created for the packet in hand: no NEW yet */
	struct rte_ring *ev_ring;		/* to the main lcore, SP/SC, gw_event records */
	/* ruleset (gw_rules.c): the one this worker uses, the serial it acknowledged */
	struct rs_ruleset *rs;
	uint32_t rs_serial;
	uint32_t rs_ack;			/* written by the worker, read by the main lcore */
	bool rs_sweeping;			/* cache bits may be stale: do not trust them */
	bool rs_slow;				/* rs_sweeping, or no cache: every packet walks */
	bool rs_assured;			/* the ruleset matches ct status assured */
	bool rs_notrack;
	bool rsw_heap;
	struct gw_rs_worker *rsw;
	/* fast path (gw_fast.c): on for this burst; the serial of what it learnt under */
	bool fast_on;
	bool fast_sweeping;			/* clearing the learnt bits: path off */
	uint32_t fast_serial;
	uint32_t fast_sweep_pos;
	struct gw_worker_stats st;
} __rte_cache_aligned;

struct gw {
	struct gw_config cfg;
	unsigned int n_workers;
	struct rte_ether_addr mac[GW_PORT_MAX];
	uint32_t if_mask[GW_PORT_MAX];		/* network order */
	uint32_t if_bcast[GW_PORT_MAX];		/* directed broadcast, network order; 0: none */
	struct rte_mempool *pool, *big_pool, *indirect_pool;
	struct rte_mempool *frag_pool;		/* gw_params.frag_pool (may be NULL) */
	bool tx_multi_seg[GW_PORT_MAX];
	bool tx_vlan_offload[GW_PORT_MAX];	/* gw_params.tx_vlan_offload */
	bool vlan_any;				/* a side is tagged: gw_vlan_rx (gw_vlan.c) */
	bool trunk;				/* both sides on one port, told by VLAN id */
	struct nat_fwd_table *fwd;
	struct nat_port_table *ports;		/* outside ports, shared by the workers */
	struct rte_ring *ring[GW_MAX_WORKERS][GW_MAX_WORKERS];	/* [from][to] */
	void *ring_mem[GW_MAX_WORKERS][GW_MAX_WORKERS];
	bool use_heap;
	bool ut_inbound;			/* an [untracked] rule may let packets in */
	struct gw_ip6 *ip6;			/* gw_ip6.h (NULL: IPv6 off) */
	struct gw_nat64 *nat64;			/* gw_nat64.h (NULL: NAT64 off) */
	uint32_t shadow_net, shadow_mask;	/* NAT64 shadow range, network order (mask 0:
						 * off); an inside address (gw_is_inside) */
	/* ruleset (gw_rules.c): published pointer and serial, the control side */
	struct rs_ruleset *rs_pub;
	uint32_t rs_serial;
	uint32_t fast_serial;			/* bumped when the fast path must relearn */
	struct gw_rs_ctl *rsc;
	struct gw_worker *w[GW_MAX_WORKERS];
};

static inline void
gw_count_drop(struct gw_worker *w, struct rte_mbuf *m, enum gw_drop why)
{
	w->st.reason[why]++;
	w->st.drop[m->port & 1]++;
	w->io.drop(w->io.arg, m, why);
}

/* The network-order mask of a prefix length (0..32). */
static inline uint32_t
gw_prefix_mask(unsigned int prefix)
{
	return prefix == 0 ? 0 : rte_cpu_to_be_32(~UINT32_C(0) << (32 - prefix));
}

static inline bool
gw_on_link(const struct gw *g, unsigned int port, uint32_t addr)
{
	return ((addr ^ g->cfg.ifc[port].addr) & g->if_mask[port]) == 0;
}

/* One of our outside addresses: the uplink interface's or a NAT pool address. */
static inline bool
gw_is_outside_addr(const struct gw *g, uint32_t a)
{
	return a == g->cfg.ifc[GW_PORT_OUTSIDE].addr || nat_is_outside_addr(&g->cfg.nat, a);
}

/* Any address of ours: an interface's or a NAT pool address. */
static inline bool
gw_is_our_addr(const struct gw *g, uint32_t a)
{
	return a == g->cfg.ifc[GW_PORT_INSIDE].addr || gw_is_outside_addr(g, a);
}

/* [inside] routes entry covering addr, or NULL (a handful of prefixes: a linear scan). */
static inline const struct gw_route *
gw_route_find(const struct gw *g, uint32_t addr)
{
	unsigned int i;

	for (i = 0; i < g->cfg.n_routes; i++)
		if (((addr ^ g->cfg.routes[i].addr) & g->cfg.routes[i].mask) == 0)
			return &g->cfg.routes[i];
	return NULL;
}

/* A NAT64 shadow address (gw_nat64.c): the IPv4 face of an inside IPv6 host. */
static inline bool
gw_is_shadow(const struct gw *g, uint32_t addr)
{
	return unlikely(g->shadow_mask != 0) && ((addr ^ g->shadow_net) & g->shadow_mask) == 0;
}

/* The next hop towards dst out of port: inside, on-link or behind an [inside] routes
 * router; outside, on-link or the gateway (0: none configured). Inline: every forwarded
 * packet asks. */
static inline uint32_t
gw_nexthop(const struct gw *g, unsigned int port, uint32_t dst)
{
	const struct gw_route *r;

	if (port == GW_PORT_INSIDE) {
		if (likely(g->cfg.n_routes == 0) || gw_on_link(g, port, dst))
			return dst;
		r = gw_route_find(g, dst);
		return r != NULL ? r->via : dst;
	}
	if (gw_on_link(g, port, dst))
		return dst;
	return g->cfg.ifc[GW_PORT_OUTSIDE].gateway;
}

/* An address of the inside: the inside network, an [inside] routes prefix, or a NAT64
 * shadow address (its packets come from and go to the inside, translated). */
static inline bool
gw_is_inside(const struct gw *g, uint32_t addr)
{
	return gw_on_link(g, GW_PORT_INSIDE, addr) ||
	       (unlikely(g->cfg.n_routes != 0) && gw_route_find(g, addr) != NULL) ||
	       gw_is_shadow(g, addr);
}

/* Does a network of this mask have network and broadcast addresses? Not a /31 (RFC 3021:
 * both addresses are hosts of a point-to-point link) nor a /32. */
static inline bool
gw_mask_has_bcast(uint32_t mask)
{
	return mask != UINT32_MAX && mask != rte_cpu_to_be_32(~UINT32_C(1));
}

/* The directed broadcast address of one of our networks (RFC 919, RFC 1812 5.3.5). */
static inline bool
gw_is_net_bcast(const struct gw *g, uint32_t addr)
{
	/* gw_create: on the network with every host bit set, where the mask has a broadcast
	 * (asked twice per packet: two compares instead of the per-port mask tests) */
	RTE_BUILD_BUG_ON(GW_PORT_MAX != 2);
	return addr != 0 && (addr == g->if_bcast[0] || addr == g->if_bcast[1]);
}

/* Never a valid source of a packet, nor a destination for an ICMP error (RFC 1812 5.3.7,
 * 4.3.2.7; RFC 1122 3.2.1.3): 0/8 ("this network"), 127/8, 224/4 multicast, 240/4 class E
 * and 255.255.255.255, a directed broadcast of our networks. */
static inline bool
gw_is_martian_src(const struct gw *g, uint32_t a)
{
	uint32_t h = rte_be_to_cpu_32(a);

	return (h >> 24) == 0 || (h >> 24) == 127 || h >= 0xe0000000u || gw_is_net_bcast(g, a);
}

/* Never forwarded to (RFC 1812 5.3.7, 5.3.5.1: directed broadcasts are not forwarded by
 * default): the same set as gw_is_martian_src. */
static inline bool
gw_is_martian_dst(const struct gw *g, uint32_t a)
{
	return gw_is_martian_src(g, a);
}

/* gw_pipeline.c */
void gw_tx_flush(struct gw_worker *w);

/* Queue m for TX on port (flushed per burst, or when the buffer is full). Every forwarded
 * packet passes here: inline. */
static inline void
gw_tx_enqueue(struct gw_worker *w, unsigned int port, struct rte_mbuf *m)
{
	struct gw_txbuf *b = &w->tx[port];

	if (unlikely(b->n == GW_TX_BUF))
		gw_tx_flush(w);
	b->m[b->n++] = m;
}

/* Route an IPv4 frame (data at L2, L3 ready) out of `port` to next hop: ARP + L2. */
void gw_l2_send(struct gw_worker *w, unsigned int port, uint32_t nexthop, struct rte_mbuf *m,
		ct_time_t now);
/* The worker that owns p's connection, as stage 1 steers it. */
unsigned int gw_owner_of(const struct gw *g, unsigned int port, const struct ct_pkt *p);
/* The full path for one packet in its turn: stage 1, hand-off, then its hit or lookup and
 * miss. `pre`: what the fast path's parse and the burst's lookup found (tuple.family 0:
 * the fast parse did not take it), or NULL. Returns 1 when it was handed to another
 * worker. */
unsigned int gw_slow_one(struct gw_worker *w, struct rte_mbuf *m, ct_time_t now, bool handed,
			 struct ct_pkt *pre);

/* gw_fast.c: the established fast path */
/* A burst: what the fast path takes, forwarded; the rest through gw_slow_one, in order.
 * Returns the packets handed to other workers. */
unsigned int gw_fast_burst(struct gw_worker *w, struct rte_mbuf **pkts, uint16_t n,
			   ct_time_t now, bool handed);
/* gw_hit, about to forward p (m as it arrived) out of egress to dst: record what the
 * fast path may take from now on for p's direction. */
void gw_fast_learn(struct gw_worker *w, const struct rte_mbuf *m, const struct ct_pkt *p,
		   unsigned int egress, uint32_t dst);
/* Between bursts: relearn after gw_fast_relearn (gw.h), and whether the path is on. */
void gw_fast_poll(struct gw_worker *w);
/* Housekeeping: clear a slice of the learnt bits while relearning. */
unsigned int gw_fast_sweep(struct gw_worker *w);

/* gw_arp.c */
int gw_arp_init(struct gw_worker *w);
void gw_arp_free(struct gw_worker *w);
/* Handle an ARP frame (reply to requests for our addresses, learn; with several workers,
 * copy what may teach them to the others' handoff rings). Consumes m. */
void gw_arp_input(struct gw_worker *w, unsigned int port, struct rte_mbuf *m, ct_time_t now,
		  bool learn_only);
/* Resolve nexthop for m (L2 header present, to be filled); sends or holds or drops. */
void gw_arp_resolve_send(struct gw_worker *w, unsigned int port, uint32_t nexthop,
			 struct rte_mbuf *m, ct_time_t now);
unsigned int gw_arp_timer(struct gw_worker *w, ct_time_t now);
void gw_arp_flush(struct gw_worker *w);
int gw_arp_add_static(struct gw *g, unsigned int port, uint32_t ip,
		      const struct rte_ether_addr *mac);

/* gw_vlan.c */
/* Take the 802.1Q tags off a burst received on `port` and set each frame's side (m->port);
 * frames for no side of ours are dropped. Compacts pkts; returns how many are left. */
uint16_t gw_vlan_rx(struct gw_worker *w, unsigned int port, struct rte_mbuf **pkts,
		    uint16_t n);
/* Tag what is about to leave `port` (the side's VLAN; offload or pushed in the frame);
 * frames that cannot take the tag are dropped. Compacts b. */
void gw_vlan_tx(struct gw_worker *w, unsigned int port, struct gw_txbuf *b);

/* gw_rules.c */
struct gw_rs_worker;
struct gw_rs_ctl;
int gw_rules_init(struct gw *g, char *err, size_t errlen);
void gw_rules_free(struct gw *g);
unsigned int gw_rules_reclaim_locked(struct gw *g);
void gw_rules_adopt(struct gw_worker *w);
unsigned int gw_rules_sweep(struct gw_worker *w);
enum gw_drop gw_rules_forward_slow(struct gw_worker *w, const struct rte_mbuf *m,
				   const struct ct_pkt *p, unsigned int port, unsigned int egress,
				   enum ct_state st, uint16_t before, ct_time_t now);
/* The INVALID packet p runs the forward chain (log, counter, reject); dropped by the caller. */
void gw_rules_invalid(struct gw_worker *w, const struct rte_mbuf *m, const struct ct_pkt *p,
		      unsigned int port, ct_time_t now);
/* A packet to one of our addresses through the input chain: GW_DROP_NONE or the reason. */
enum gw_drop gw_rules_input(struct gw_worker *w, const struct rte_mbuf *m,
			    const struct ct_pkt *p, unsigned int port, ct_time_t now);
/* notrack rules: -1 not untracked, -2 consumed (dropped), else the egress port. */
int gw_rules_notrack(struct gw_worker *w, struct rte_mbuf *m, const struct ct_pkt *p,
		     unsigned int port, uint32_t src, uint32_t dst, ct_time_t now);

/* Between bursts: adopt a newly published ruleset. */
static inline void
gw_rules_poll(struct gw_worker *w)
{
	if (unlikely(__atomic_load_n(&w->g->rs_serial, __ATOMIC_ACQUIRE) != w->rs_serial))
		gw_rules_adopt(w);
}

/* The forward chain's verdict for a tracked packet (p->conn) after ct_update said st;
 * `before` is the connection's status before ct_update. A cached verdict is used when
 * nothing the rules see changed. GW_DROP_NONE: pass. */
static inline enum gw_drop
gw_rules_forward(struct gw_worker *w, const struct rte_mbuf *m, const struct ct_pkt *p,
		 unsigned int port, unsigned int egress, enum ct_state st, uint16_t before,
		 ct_time_t now)
{
	uint16_t v = p->dir == CT_DIR_ORIG ? CT_ST_RS_VALID0 : CT_ST_RS_VALID1;

	/* The cache bits are the status read before ct_update (ct_update never touches
	 * them). What the rules see can change only (a) at the first reply, which always
	 * evaluates (no VALID bit of its direction yet) and then clears both directions,
	 * (b) on a TCP SYN (a new connection on the entry: evaluated), (c) when ASSURED is
	 * set, which matters only to a ruleset that matches it (rs_assured: re-read). */
	if (likely((before & v) != 0 && !w->rs_slow && !p->is_icmp_error &&
		   (p->tcp_flags & 0x02) == 0) &&
	    (likely(!w->rs_assured) ||
	     ((ct_conn_status(p->conn) ^ before) & CT_ST_ASSURED) == 0))
		return (before & (v << 1)) != 0 ? GW_DROP_NONE : GW_DROP_RULE_DROP;
	return gw_rules_forward_slow(w, m, p, port, egress, st, before, now);
}

/* Never routed on the Internet: RFC 1918, RFC 6598 shared space, RFC 3927 link local. */
static inline bool
gw_is_private_addr(uint32_t a)
{
	uint32_t h = rte_be_to_cpu_32(a);

	return (h >> 24) == 10 || (h >> 20) == 0xac1 || (h >> 16) == 0xc0a8 ||
	       (h >> 22) == (0x64400000u >> 22) || (h >> 16) == 0xa9fe;
}

/* gw_icmp.c */
/* Answer an echo request to one of our addresses in place, out of `port` (fragmented to
 * its MTU when the request was reassembled and is bigger). Consumes m. */
void gw_icmp_echo_reply(struct gw_worker *w, unsigned int port, struct rte_mbuf *m,
			const struct ct_pkt *p, ct_time_t now);
/* The last check on every IPv4 packet natgw makes itself (echo replies, ICMP errors),
 * DESIGN.md "what natgw generates passes the same wrong-side and martian checks": out of
 * the uplink only from an outside address and never to an inside one, out of the inside
 * port only to an inside address, never to a martian/broadcast/multicast destination,
 * never over the port's MTU. */
bool gw_local_ok(const struct gw *g, unsigned int port, uint32_t src, uint32_t dst,
		 uint16_t ip_len);
/* Send an ICMP error (type/code, mtu for frag needed) about m back to where it came from,
 * from our address on `port`. Does not consume m. */
void gw_icmp_error(struct gw_worker *w, unsigned int port, const struct rte_mbuf *m,
		   const struct ct_pkt *p, uint8_t type, uint8_t code, uint16_t mtu,
		   ct_time_t now);

/* gw_event.c: rings of [log] ring_size records; the producers run on the owner */
int gw_event_worker_init(struct gw_worker *w, unsigned int size, bool use_heap, int socket);
void gw_event_worker_free(struct gw_worker *w, bool use_heap);
void gw_event_conn_new(struct gw_worker *w, const struct ct_conn *c);
/* an UPDATE if TCP state, SEEN_REPLY or ASSURED changed since (old_status, old_tcp) */
void gw_event_conn_check(struct gw_worker *w, const struct ct_conn *c, uint16_t old_status,
			 uint8_t old_tcp);

/* gw_frag.c */
int gw_frag_init(struct gw_worker *w);
void gw_frag_free(struct gw_worker *w);
/* Feed a fragment; returns the reassembled contiguous frame, or NULL (held or dropped).
 * The fragment is copied into frag_pool when held: m itself is always consumed. */
struct rte_mbuf *gw_frag_reassemble(struct gw_worker *w, struct rte_mbuf *m, ct_time_t now);
/* A frame larger than the ingress MTU: true when it is one whole, valid IPv4 datagram (not
 * a fragment, header checksum good, total length == frame), as the kernel hands over the
 * datagrams it reassembled for net_af_packet (fanout defrag); counted as reassembled. */
bool gw_frag_rx_whole(struct gw_worker *w, const struct rte_mbuf *m);
/* Make a chained frame one segment (in place, or copied into pool/big_pool). Returns the
 * frame or NULL (dropped, L2_TOO_BIG). */
struct rte_mbuf *gw_frag_contig(struct gw_worker *w, struct rte_mbuf *m);
/* Fragment frame m (L2 + IPv4, DF clear) to `mtu` and send each on port to nexthop. */
void gw_frag_send(struct gw_worker *w, unsigned int port, uint32_t nexthop,
		  struct rte_mbuf *m, uint16_t mtu, ct_time_t now);
unsigned int gw_frag_timer(struct gw_worker *w, ct_time_t now);
void gw_frag_drain(struct gw_worker *w);

#endif /* NATGW_GW_PRIVATE_H */
