/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_pipeline.c - the per-worker packet path: L2 checks, classification (ARP, to-me,
 * untracked, transit), steering to the owner worker through SP/SC rings, the bulk conntrack
 * lookup, the short hit path (ct_update, policy, NAT rewrite, TTL, MTU, L2, TX) and the
 * separate miss path (new connections), plus gw_create/gw_free.
 *
 * Ownership follows shared/DESIGN.md: a packet is processed by the worker that owns its
 * connection; the receiving worker only does what needs no connection state (ARP,
 * reassembly, echo to our addresses, TTL expiry, untracked forwarding).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_random.h>

#include "gw_private.h"
#include "gw_ip6.h"
#include "gw_nat64.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

unsigned int gw_n_workers(const struct gw *g) { return g->n_workers; }
const struct gw_config *gw_get_config(const struct gw *g) { return &g->cfg; }
struct gw_worker *gw_get_worker(struct gw *g, unsigned int i)
{
	return i < g->n_workers ? g->w[i] : NULL;
}
void gw_worker_set_io(struct gw_worker *w, const struct gw_io *io) { w->io = *io; }
struct ct_table *gw_worker_ct(const struct gw_worker *w) { return w->ct; }
struct nat_ctx *gw_worker_nat(const struct gw_worker *w) { return w->nat; }
unsigned int gw_worker_index(const struct gw_worker *w) { return w->idx; }

static void
gw_default_drop(void *arg, struct rte_mbuf *m, enum gw_drop reason)
{
	RTE_SET_USED(arg);
	RTE_SET_USED(reason);
	rte_pktmbuf_free(m);
}

static uint16_t
gw_default_tx(void *arg, unsigned int port, struct rte_mbuf **m, uint16_t n)
{
	RTE_SET_USED(arg);
	RTE_SET_USED(port);
	RTE_SET_USED(m);
	RTE_SET_USED(n);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * TX and L2
 */

void
gw_tx_flush(struct gw_worker *w)
{
	unsigned int port;
	uint16_t sent, i;

	for (port = 0; port < GW_PORT_MAX; port++) {
		struct gw_txbuf *b = &w->tx[port];

		if (b->n == 0)
			continue;
		if (unlikely(w->g->cfg.ifc[port].vlan != 0)) {
			gw_vlan_tx(w, port, b);
			if (b->n == 0)
				continue;
		}
		sent = w->io.tx(w->io.arg, port, b->m, b->n);
		w->st.tx[port] += sent;
		for (i = sent; i < b->n; i++)
			gw_count_drop(w, b->m[i], GW_DROP_TX_FULL);
		b->n = 0;
	}
}

void
gw_l2_send(struct gw_worker *w, unsigned int port, uint32_t nexthop, struct rte_mbuf *m,
	   ct_time_t now)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	if (nexthop == 0) {
		gw_count_drop(w, m, GW_DROP_NO_ROUTE);
		return;
	}
	if (port == GW_PORT_INSIDE && gw_is_shadow(w->g, nexthop)) {
		gw_nat64_output(w, m, now);	/* NAT64: to its IPv6 host, translated */
		return;
	}
	rte_ether_addr_copy(&w->g->mac[port], &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	gw_arp_resolve_send(w, port, nexthop, m, now);
}

/* ---------------------------------------------------------------------------------------
 * Classification
 */

static inline bool
gw_is_if_addr(const struct gw *g, uint32_t a)
{
	return a == g->cfg.ifc[GW_PORT_INSIDE].addr || a == g->cfg.ifc[GW_PORT_OUTSIDE].addr;
}

/* Never routed on the Internet: RFC 1918, RFC 6598 shared space, RFC 3927 link local. */
static inline bool
gw_is_private(uint32_t a)
{
	uint32_t h = rte_be_to_cpu_32(a);

	return (h >> 24) == 10 || (h >> 20) == 0xac1 || (h >> 16) == 0xc0a8 ||
	       (h >> 22) == (0x64400000u >> 22) || (h >> 16) == 0xa9fe;
}

/*
 * Checks that need the IPv4 header only, so they run before a fragment may hold a
 * reassembly slot (DESIGN.md "cheap checks first, state second, memory last"):
 *  - martian sources and destinations (RFC 1812 5.3.7), our own addresses as source;
 *  - from the inside only the inside network and [inside] routes as source: strict uRPF
 *    (RFC 3704 2.2, what rp_filter=1 does); nothing from the inside to the inside;
 *  - from the uplink: no inside source, our inside address never (not even echo), and only
 *    our outside addresses as destination, or an inside one where an [untracked] rule may
 *    let it in (the rule itself, which needs L4, is matched after reassembly);
 *  - to one of our interface addresses that is no pool address: ICMP only (echo).
 * Returns GW_DROP_NONE or the reason.
 */
static enum gw_drop
gw_check_addrs(const struct gw *g, unsigned int port, const struct rte_ipv4_hdr *ip,
	       bool *dst_pool)
{
	uint32_t src = ip->src_addr, dst = ip->dst_addr;
	uint32_t in_addr = g->cfg.ifc[GW_PORT_INSIDE].addr;
	/* the destination is a pool address: asked once per packet, stage 1 uses it again */
	bool pool = nat_is_outside_addr(&g->cfg.nat, dst);

	*dst_pool = pool;

	if (unlikely(gw_is_martian_src(g, src)))
		return GW_DROP_MARTIAN_SRC;
	if (unlikely(gw_is_our_addr(g, src)))
		return GW_DROP_WRONG_SIDE;
	if (unlikely(gw_is_martian_dst(g, dst)))
		return GW_DROP_NO_ROUTE;
	if (port == GW_PORT_INSIDE) {
		if (unlikely(!gw_is_inside(g, src)))
			return GW_DROP_SRC_NOT_INSIDE;
		if (unlikely(dst != in_addr && gw_is_inside(g, dst)))
			return GW_DROP_NO_ROUTE;
	} else {
		if (unlikely(gw_is_inside(g, src)))
			return GW_DROP_WRONG_SIDE;
		if (unlikely(dst == in_addr))
			return GW_DROP_TO_ME_WRONG_SIDE;
		if (unlikely(gw_is_inside(g, dst)))
			return g->ut_inbound ? GW_DROP_NONE : GW_DROP_TO_INSIDE_DIRECT;
		if (unlikely(!pool && dst != g->cfg.ifc[GW_PORT_OUTSIDE].addr))
			return GW_DROP_NOT_OURS;	/* not one of our outside addresses */
	}
	/* with a ruleset, whole datagrams go on to its input chain (reject, log, counters) */
	if (unlikely(!pool && gw_is_if_addr(g, dst) && ip->next_proto_id != IPPROTO_ICMP) &&
	    (__atomic_load_n(&g->rs_pub, __ATOMIC_RELAXED) == NULL ||
	     (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG |
						     RTE_IPV4_HDR_OFFSET_MASK)) != 0))
		return GW_DROP_TO_ME_UNHANDLED;
	return GW_DROP_NONE;
}

/*
 * A frame not sent to our MAC: a group (broadcast/multicast) destination is taken for ARP
 * (requests are broadcast) and for an IPv4 datagram to a multicast or broadcast address
 * (the address checks then decide: natgw forwards neither, RFC 1812 5.3.5, 5.3.7). A unicast
 * datagram in a link-layer broadcast is never forwarded (RFC 1812 5.3.4; Linux ip_forward
 * drops pkt_type != PACKET_HOST): with two routers on a segment both would. Frames too
 * short for an IPv4 header fail the parse that follows.
 */
static __rte_noinline enum gw_drop
gw_check_l2_group(const struct gw *g, const struct rte_mbuf *m, const struct rte_ether_hdr *eth)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);

	if (!rte_is_multicast_ether_addr(&eth->dst_addr))
		return GW_DROP_L2_NOT_FOR_US;
	if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    m->data_len < RTE_ETHER_HDR_LEN + sizeof(*ip))
		return GW_DROP_NONE;
	if (rte_be_to_cpu_32(ip->dst_addr) >= 0xe0000000u || gw_is_net_bcast(g, ip->dst_addr))
		return GW_DROP_NONE;	/* multicast, class E, broadcast */
	return GW_DROP_L2_GROUP;
}

/*
 * IP options (RFC 791 3.1), looked at only when the header has any (one predictable branch
 * in stage 1), before reassembly (the source routes are copied into every fragment):
 *  - loose and strict source routes are dropped (RFC 7126 4.3, 4.4; Linux
 *    accept_source_route = 0): an inside host that honours them would forward the datagram
 *    on to whatever inside address the route names, past our filtering;
 *  - Record Route and Timestamp with addresses (flags 1, 3), from the inside, when a slot
 *    holds an inside address: the option is overwritten with NOPs (the checksum fixed). These
 *    options only record the path; through a NAT the inside part of it is what the NAT hides,
 *    and the recorded addresses would leave the uplink untranslated. Overwriting rather than
 *    dropping keeps the datagram (ping -R still gets its answer, without a route); RFC 7126
 *    4.5 and 4.12 allow a router to drop these options or to forward as if they were absent;
 *  - malformed options (a length that runs past the header, RR/TS pointers out of range):
 *    dropped, as Linux ip_options_compile refuses them.
 * Returns GW_DROP_NONE or the reason.
 */
static __rte_noinline enum gw_drop
gw_check_ip_options(const struct gw *g, unsigned int port, struct rte_ipv4_hdr *ip)
{
	uint8_t *o = (uint8_t *)(ip + 1);
	unsigned int len = rte_ipv4_hdr_len(ip) - sizeof(*ip);
	unsigned int i = 0, k, first, stride;
	bool nopped = false;
	uint32_t a;

	while (i < len) {
		uint8_t t = o[i], ol;

		if (t == RTE_IPV4_HDR_OPT_EOL)
			break;
		if (t == RTE_IPV4_HDR_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len)
			return GW_DROP_IP_OPTS_BAD;
		ol = o[i + 1];
		switch (t) {
		case 0x83:	/* LSRR */
		case 0x89:	/* SSRR */
			return GW_DROP_IP_SRCROUTE;
		case 0x07:	/* Record Route: pointer >= 4, addresses from octet 4 */
			if (ol < 3 || o[i + 2] < 4)
				return GW_DROP_IP_OPTS_BAD;
			first = 3, stride = 4;
			break;
		case 0x44:	/* Timestamp: pointer >= 5; flags 1, 3: (address, time) pairs */
			if (ol < 4 || o[i + 2] < 5)
				return GW_DROP_IP_OPTS_BAD;
			if ((o[i + 3] & 0xf) == 0) {
				first = 0, stride = 0;	/* times only */
				break;
			}
			if ((o[i + 3] & 0xf) != 1 && (o[i + 3] & 0xf) != 3)
				return GW_DROP_IP_OPTS_BAD;
			first = 4, stride = 8;
			break;
		default:
			first = 0, stride = 0;
			break;
		}
		if (port == GW_PORT_INSIDE && stride != 0) {
			for (k = first; k + 4 <= ol; k += stride) {
				memcpy(&a, o + i + k, sizeof(a));
				if (gw_is_inside(g, a))
					break;
			}
			if (k + 4 <= ol) {
				memset(o + i, RTE_IPV4_HDR_OPT_NOP, ol);
				nopped = true;
			}
		}
		i += ol;
	}
	if (nopped) {
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	return GW_DROP_NONE;
}

/*
 * The [untracked] rule that lets this (whole, parsed) packet through without state or NAT:
 * returns the egress port, or -1. Rules are one way (docs/config.md [untracked]): `out`
 * matches packets from the inside port to the uplink as written, `in` packets from the
 * uplink to an inside address as written, `both` adds to `out` its mirror image from the
 * uplink (the replies). `host` is the outside end, `inside` the inside end. Never an ICMP
 * error (it is about a connection: conntrack matches it, or nothing does), never a packet to
 * one of our addresses (hairpin goes through NAT), and never a private inside source out of
 * the uplink untranslated unless the rule says `private yes`.
 */
static int
gw_untracked_match(const struct gw *g, unsigned int port, const struct ct_pkt *p,
		   uint32_t src, uint32_t dst)
{
	bool has_ports = p->tuple.proto == IPPROTO_TCP || p->tuple.proto == IPPROTO_UDP;
	uint16_t sp = rte_be_to_cpu_16(p->tuple.sport), dp = rte_be_to_cpu_16(p->tuple.dport);
	unsigned int i;

	if (p->is_icmp_error)
		return -1;
	if (port == GW_PORT_INSIDE ? gw_is_outside_addr(g, dst) : !gw_is_inside(g, dst))
		return -1;
	for (i = 0; i < g->cfg.n_untracked; i++) {
		const struct gw_untracked *u = &g->cfg.untracked[i];
		uint32_t remote, local;
		uint16_t a, b;		/* the ports `dport` and `sport` look at */

		if (u->proto != 0 && u->proto != p->tuple.proto)
			continue;
		if (port == GW_PORT_INSIDE) {
			if ((u->dir & GW_UT_OUT) == 0 || (!u->private_ok && gw_is_private(src)))
				continue;
			remote = dst, local = src, a = dp, b = sp;
		} else if (u->dir == GW_UT_IN) {
			remote = src, local = dst, a = dp, b = sp;
		} else if (u->dir == GW_UT_BOTH) {
			/* mirror: the replies to what the outbound half sends, so none to a
			 * private host without `private yes`: its packets are NATed instead */
			if (!u->private_ok && gw_is_private(dst))
				continue;
			remote = src, local = dst, a = sp, b = dp;
		} else {
			continue;
		}
		if ((u->port_hi != 0 || u->sport_hi != 0) && !has_ports)
			continue;
		if (u->port_hi != 0 && (a < u->port_lo || a > u->port_hi))
			continue;
		if (u->sport_hi != 0 && (b < u->sport_lo || b > u->sport_hi))
			continue;
		if (((remote ^ u->addr) & u->mask) != 0 || ((local ^ u->in_addr) & u->in_mask) != 0)
			continue;
		return (int)(port ^ 1);
	}
	return -1;
}

/*
 * Is every inside host a rule may name private (gw_is_private)? Then a `both` rule without
 * `private yes` has no mirror (gw_untracked_match). The range is a prefix: the rule's
 * `inside`, else the inside network (and with [inside] routes: not known, so no). A prefix
 * whose first and last addresses are private lies in one private block: any prefix holding
 * two of them starts at a public address (0/0, 0/1, 128/1, 168/5).
 */
static bool
gw_untracked_all_private(const struct gw *g, const struct gw_untracked *u)
{
	uint32_t a = u->in_addr, m = u->in_mask;

	if (m == 0) {
		if (g->cfg.n_routes != 0)
			return false;
		a = g->cfg.ifc[GW_PORT_INSIDE].addr;
		m = g->if_mask[GW_PORT_INSIDE];
	}
	return gw_is_private(a & m) && gw_is_private(a | ~m);
}

/*
 * Once, at gw_create: a `host` inside the inside network is an old-style rule (host used to
 * match either end) meaning the inside end; and whether any rule may let packets in from the
 * uplink (else those are dropped from the IPv4 header alone, before reassembly).
 */
static void
gw_untracked_prepare(struct gw *g)
{
	unsigned int i;

	g->ut_inbound = false;
	for (i = 0; i < g->cfg.n_untracked; i++) {
		struct gw_untracked *u = &g->cfg.untracked[i];

		if (u->dir == 0)
			u->dir = GW_UT_OUT;
		if (u->mask != 0 && u->in_mask == 0 && gw_is_inside(g, u->addr) &&
		    gw_is_inside(g, u->addr | ~u->mask)) {
			u->in_addr = u->addr;
			u->in_mask = u->mask;
			u->addr = 0;
			u->mask = 0;
		}
		if (u->dir == GW_UT_IN ||
		    (u->dir == GW_UT_BOTH && (u->private_ok || !gw_untracked_all_private(g, u))))
			g->ut_inbound = true;
	}
}

int
gw_set_untracked(struct gw *g, const struct gw_untracked *u, unsigned int n)
{
	if (n > GW_MAX_UNTRACKED)
		return -EINVAL;
	memcpy(g->cfg.untracked, u, n * sizeof(*u));
	g->cfg.n_untracked = n;
	gw_untracked_prepare(g);
	gw_fast_relearn(g);	/* [untracked] decides before the fast path's bits */
	return 0;
}

/* TTL-1 with RFC 1624 checksum update, then size check and L2. Consumes m. */
static void
gw_forward(struct gw_worker *w, unsigned int egress, struct rte_mbuf *m,
	   const struct ct_pkt *p, uint32_t dst, ct_time_t now)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, p->l3_off);
	uint16_t mtu = w->g->cfg.ifc[egress].mtu;
	uint16_t old = *(uint16_t *)&ip->time_to_live;
	uint32_t nh = gw_nexthop(w->g, egress, dst);

	if (unlikely(egress == GW_PORT_INSIDE && gw_is_shadow(w->g, dst)))
		mtu = gw_nat64_mtu(mtu, (ip->fragment_offset &
					 rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) != 0,
				   rte_be_to_cpu_16(ip->total_length));

	ip->time_to_live--;
	ip->hdr_checksum = nat_csum_update16(ip->hdr_checksum, old,
					     *(uint16_t *)&ip->time_to_live);
	if (unlikely(rte_be_to_cpu_16(ip->total_length) > mtu)) {
		if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) {
			gw_count_drop(w, m, GW_DROP_FRAG_NEEDED);
			return;
		}
		gw_frag_send(w, egress, nh, m, mtu, now);
		return;
	}
	gw_l2_send(w, egress, nh, m, now);
}

/* Frame too big for the egress with DF set: RFC 1191 frag needed, quoting it as sent. */
static bool
gw_df_too_big(struct gw_worker *w, unsigned int port, unsigned int egress, struct rte_mbuf *m,
	      const struct ct_pkt *p, ct_time_t now)
{
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, p->l3_off);
	uint16_t mtu = w->g->cfg.ifc[egress].mtu;

	/* NAT64: to a shadow the packet grows by 20 bytes on the way out (gw_nat64_mtu) */
	if (unlikely(egress == GW_PORT_INSIDE && w->g->shadow_mask != 0) && p->conn != NULL &&
	    gw_is_shadow(w->g, ct_conn_tuple(p->conn, !p->dir)->src))
		mtu = gw_nat64_mtu(mtu, true, p->ip_len);
	if (likely(p->ip_len <= mtu) ||
	    (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) == 0)
		return false;
	gw_icmp_error(w, port, m, p, 3, 4, mtu, now);
	gw_count_drop(w, m, GW_DROP_FRAG_NEEDED);
	return true;
}

static unsigned int
gw_owner_parsed(const struct gw *g, unsigned int port, const struct ct_pkt *p)
{
	uint32_t o;

	if (g->n_workers == 1)
		return 0;
	if (port == GW_PORT_INSIDE)
		o = nat_inside_owner(&g->cfg.nat, g->fwd, p);
	else
		o = nat_inbound_owner(&g->cfg.nat, g->fwd, g->ports, p);	/* port's holder */
	return o < g->n_workers ? o : 0;
}

/* A hairpinned packet looped back in (gw_hairpin_loop): parse the translated bytes again.
 * Returns this worker (process it here) or -1 when dropped. */
static int
gw_hairpin_parse(struct gw_worker *w, struct rte_mbuf *m, struct ct_pkt *p)
{
	if (ct_parse_ipv4(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, RTE_ETHER_HDR_LEN,
			  false, p) != CT_R_NONE) {
		gw_count_drop(w, m, GW_DROP_REWRITE_FAILED);
		return -1;
	}
	return (int)w->idx;
}

/*
 * Fragments of one datagram may arrive on different workers (RSS sees ports only in the
 * first). They meet on the worker chosen by the datagram's identity (RFC 791: source,
 * destination, protocol, identification), which reassembles; the whole packet is then
 * steered to its connection's owner like any other.
 */
static unsigned int
gw_frag_owner(const struct gw *g, const struct rte_mbuf *m, uint16_t l3_off)
{
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, l3_off);
	uint32_t h = ip->src_addr * 0x9e3779b1u;

	h = (h ^ ip->dst_addr) * 0x85ebca77u;
	h = (h ^ ((uint32_t)ip->packet_id << 8 | ip->next_proto_id)) * 0xc2b2ae3du;
	return (h >> 16) % g->n_workers;
}

/*
 * An ICMP error no honest sender makes (p->tuple is the quoted datagram's, inverted):
 *  - from the inside: an error about a datagram an inside host received comes from that
 *    host (the quoted destination); anything else is another host forging errors about
 *    someone else's connection;
 *  - from the uplink: quoting a datagram from one of our outside addresses to one of our
 *    outside addresses, i.e. a hairpinned one, which never left natgw (gw_hairpin_loop):
 *    nobody on the Internet saw it, so nobody there can have an error about it.
 */
static bool
gw_icmp_error_forged(const struct gw *g, unsigned int port, uint32_t src,
		     const struct ct_pkt *p)
{
	if (port == GW_PORT_INSIDE)
		return src != p->tuple.src;
	return gw_is_outside_addr(g, p->tuple.src) && gw_is_outside_addr(g, p->tuple.dst);
}

/*
 * Stage 1, no connection state needed. Returns the owner worker of the (possibly
 * reassembled, *mp replaced) packet with p filled, or -1 when the packet was consumed.
 * `parsed`: the fast path's parse took the frame (gw_fast.c gw_fast_parse: a plain frame
 * for our MAC, IPv4 that ct_parse_ipv4 accepts, TCP or UDP, no options, not a fragment)
 * and filled p as ct_parse_ipv4 does: the frame checks and the parse are skipped.
 */
static int
gw_stage1(struct gw_worker *w, struct rte_mbuf **mp, struct ct_pkt *p, ct_time_t now,
	  bool handed, bool *reassembled, bool parsed)
{
	struct gw *g = w->g;
	struct rte_mbuf *m = *mp;
	unsigned int port = m->port & 1;
	const struct rte_ether_hdr *eth;
	const struct rte_ipv4_hdr *ip;
	enum gw_drop why;
	enum ct_reason r;
	uint32_t src, dst;
	bool dst_pool;

	if (parsed) {
		r = CT_R_NONE;
		goto l3;
	}
	if (unlikely(m->port & GW_PORT_LEARN_FLAG)) {
		if (rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type ==
		    rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6))
			gw_ip6_learn(w, m, now);	/* an ND copy (gw_nd.c) */
		else
			gw_arp_input(w, port, m, now, true);
		return -1;
	}
	if (unlikely(m->port & GW_PORT_HAIRPIN_FLAG))
		return gw_hairpin_parse(w, m, p);	/* checked by its sender's worker */
	if (unlikely(m->nb_segs > 1)) {
		m = gw_frag_contig(w, m);	/* a chained frame: made one segment or dropped */
		if (m == NULL)
			return -1;
		*mp = m;
	}
	if (unlikely(m->data_len < RTE_ETHER_HDR_LEN)) {
		gw_count_drop(w, m, GW_DROP_L2_TRUNCATED);
		return -1;
	}
	/* bigger than the MTU: only a whole datagram the kernel reassembled for us (af_packet
	 * fanout defrag) is taken; it is fragmented again on the way out (or frag-needed) */
	if (unlikely(m->data_len > g->cfg.ifc[port].mtu + RTE_ETHER_HDR_LEN) && !handed &&
	    !gw_frag_rx_whole(w, m)) {
		gw_count_drop(w, m, GW_DROP_L2_TOO_BIG);
		return -1;
	}
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (unlikely(!rte_is_same_ether_addr(&eth->dst_addr, &g->mac[port]))) {
		why = gw_check_l2_group(g, m, eth);
		if (why != GW_DROP_NONE) {
			gw_count_drop(w, m, why);
			return -1;
		}
	}
	if (unlikely(g->nat64 != NULL) && port == GW_PORT_INSIDE &&
	    eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) {
		/* NAT64 (gw_nat64.c): to the prefix, translated here and on as IPv4 */
		int o = gw_nat64_input(w, m, now, handed);

		if (o != GW_NAT64_PASS && o != GW_NAT64_IPV4)
			return o;
	}
	if (unlikely(eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))) {
		if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
			/* also copies it to the other workers (gw_arp.c: who learns what) */
			gw_arp_input(w, port, m, now, false);
		} else if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6) &&
			   gw_ip6_on(g)) {
			return gw_ip6_input(w, m, now, handed);	/* gw_ip6.c */
		} else if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
			/* still tagged: a VLAN this side does not carry (gw_vlan_rx took ours) */
			gw_count_drop(w, m, GW_DROP_VLAN_OTHER);
		} else {
			gw_count_drop(w, m, GW_DROP_NOT_IPV4);
		}
		return -1;
	}
	/* the header checksum is verified unless the NIC already did */
	r = ct_parse_ipv4(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
			  RTE_ETHER_HDR_LEN,
			  (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_GOOD,
			  p);
l3:
	/* conntrack verifies L4 checksums of state-changing packets unless the NIC did (a
	 * reassembled datagram is parsed again below, which leaves this false) */
	p->l4_csum_ok = (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	if (unlikely(r != CT_R_NONE && r != CT_R_FRAGMENT)) {
		ct_count_reason(w->ct, r);
		gw_count_drop(w, m, GW_DROP_CT_BASE + r);
		return -1;
	}
	/* Ethernet padding (a short frame's, or anything after the datagram) is not part of
	 * it: never forwarded, so it cannot carry the sender's bytes out or the frame past the
	 * egress MTU (as Linux's ip_rcv trims to tot_len) */
	if (unlikely(m->data_len > p->l3_off + p->ip_len))
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - (p->l3_off + p->ip_len)));
	/* a shadow address (NAT64) as the source of a packet that came in as IPv4: forged */
	if (unlikely(g->shadow_mask != 0) && port == GW_PORT_INSIDE &&
	    !(m->port & GW_PORT_NAT64_FLAG) &&
	    gw_is_shadow(g, rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
						    p->l3_off)->src_addr)) {
		gw_count_drop(w, m, GW_DROP_NAT64_SPOOFED);
		return -1;
	}
	/* the header is sound (fragments too): address and side checks before anything may
	 * hold memory or the packet may reach the to-me handling */
	why = gw_check_addrs(g, port, rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
							      p->l3_off), &dst_pool);
	if (unlikely(why != GW_DROP_NONE)) {
		gw_count_drop(w, m, why);
		return -1;
	}
	/* IP options: source routes dropped, inside addresses recorded in them removed */
	if (unlikely(p->l4_off != p->l3_off + sizeof(struct rte_ipv4_hdr))) {
		why = gw_check_ip_options(g, port, rte_pktmbuf_mtod_offset(m,
						struct rte_ipv4_hdr *, p->l3_off));
		if (why != GW_DROP_NONE) {
			gw_count_drop(w, m, why);
			return -1;
		}
	}
	if (unlikely(p->is_fragment)) {
		if (g->n_workers > 1 && !(m->port & GW_PORT_FRAG_FLAG)) {
			unsigned int fo = gw_frag_owner(g, m, p->l3_off);

			if (fo != w->idx) {
				m->port |= GW_PORT_FRAG_FLAG;
				*reassembled = true;	/* hand it on even if handed */
				return (int)fo;
			}
		}
		m = gw_frag_reassemble(w, m, now);
		if (m == NULL)
			return -1;
		m->port &= (uint16_t)~GW_PORT_FRAG_FLAG;
		*reassembled = true;
		*mp = m;
		r = ct_parse_ipv4(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
				  RTE_ETHER_HDR_LEN, true, p);
		if (unlikely(r != CT_R_NONE)) {
			ct_count_reason(w->ct, r);
			gw_count_drop(w, m, GW_DROP_CT_BASE + r);
			return -1;
		}
	}
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, p->l3_off);
	src = ip->src_addr;
	dst = ip->dst_addr;
	if (unlikely(dst_pool || gw_is_if_addr(g, dst))) {
		/* echo to our inside address from the uplink never gets here (above); the reply
		 * passes gw_local_ok like everything natgw makes */
		bool echo = ip->next_proto_id == IPPROTO_ICMP && !p->is_icmp_error &&
			    p->icmp_type == 8;

		/* the input chain (gw_rules.c): what natgw itself answers, or refuses */
		if (unlikely(w->rs != NULL) && (echo || !dst_pool)) {
			why = gw_rules_input(w, m, p, port, now);
			if (why != GW_DROP_NONE) {
				gw_count_drop(w, m, why);
				return -1;
			}
		}
		if (echo) {
			gw_icmp_echo_reply(w, port, m, p, now);
			return -1;
		}
		if (!dst_pool) {
			gw_count_drop(w, m, GW_DROP_TO_ME_UNHANDLED);
			return -1;
		}
	}
	if (unlikely(p->is_icmp_error) && gw_icmp_error_forged(g, port, src, p)) {
		gw_count_drop(w, m, GW_DROP_ICMP_ERROR_FORGED);
		return -1;
	}
	if (unlikely(g->cfg.n_untracked != 0 || w->rs_notrack)) {
		int eg = g->cfg.n_untracked != 0 ? gw_untracked_match(g, port, p, src, dst) : -1;

		/* the ruleset's notrack rules (gw_rules.c), where [untracked] rules apply */
		if (eg < 0 && w->rs_notrack)
			eg = gw_rules_notrack(w, m, p, port, src, dst, now);
		if (eg == -2)
			return -1;
		if (eg >= 0) {
			if (p->ttl <= 1) {
				gw_icmp_error(w, port, m, p, 11, 0, 0, now);
				gw_count_drop(w, m, GW_DROP_TTL_EXCEEDED);
			} else if (!gw_df_too_big(w, port, (unsigned int)eg, m, p, now)) {
				gw_forward(w, (unsigned int)eg, m, p, dst, now);
			}
			return -1;
		}
	}
	if (unlikely(port == GW_PORT_OUTSIDE && gw_is_inside(g, dst))) {
		/* let through by no [untracked] rule: no mapping can match it either, and no
		 * time exceeded may tell the uplink about it */
		gw_count_drop(w, m, GW_DROP_TO_INSIDE_DIRECT);
		return -1;
	}
	if (unlikely(p->ttl <= 1) && !dst_pool && dst != g->cfg.ifc[GW_PORT_OUTSIDE].addr) {
		/* RFC 1812 5.3.1: time exceeded from the interface the packet came in on. To one
		 * of our outside addresses it is only forwarded if a connection says where:
		 * gw_hit checks it then (a datagram to us with no mapping is ours, not expired). */
		gw_icmp_error(w, port, m, p, 11, 0, 0, now);
		gw_count_drop(w, m, GW_DROP_TTL_EXCEEDED);
		return -1;
	}
	return (int)gw_owner_parsed(g, port, p);
}

unsigned int
gw_owner(const struct gw *g, unsigned int port, const struct rte_mbuf *m)
{
	struct ct_pkt p;
	uint32_t o;

	if (unlikely(g->nat64 != NULL) && port == GW_PORT_INSIDE &&
	    (o = gw_nat64_owner(g, m)) != UINT32_MAX)
		return o;
	if (m->data_len >= RTE_ETHER_HDR_LEN &&
	    rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type ==
	    rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6))
		return gw_ip6_owner(g, port, m);
	if (m->data_len < RTE_ETHER_HDR_LEN ||
	    rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type !=
	    rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return 0;
	if (ct_parse_ipv4(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
			  RTE_ETHER_HDR_LEN, false, &p) != CT_R_NONE || p.is_fragment)
		return 0;
	return gw_owner_parsed(g, port, &p);
}

/* ---------------------------------------------------------------------------------------
 * Hit path and miss path
 */

static void gw_miss(struct gw_worker *w, struct rte_mbuf *m, struct ct_pkt *p, ct_time_t now);
static void gw_ho_flush(struct gw_worker *w);

/* Queue m for worker o's handoff ring (flushed per burst, or when the buffer is full). */
static inline void
gw_ho_push(struct gw_worker *w, unsigned int o, struct rte_mbuf *m)
{
	struct gw_txbuf *b = &w->ho[o];

	if (b->n == GW_TX_BUF)
		gw_ho_flush(w);
	b->m[b->n++] = m;
}

/* Is there something to hairpin to behind p's outside destination: hairpinning on, TCP or
 * UDP, and a forward or a port some worker holds (a mapping or a helper's reservation)? */
static bool
gw_hairpin_target(const struct gw *g, const struct ct_pkt *p)
{
	const struct ct_tuple *t = &p->tuple;

	if (!g->cfg.nat.hairpin || (t->proto != IPPROTO_TCP && t->proto != IPPROTO_UDP))
		return false;
	return nat_fwd_lookup(g->fwd, t->proto, t->dst, rte_be_to_cpu_16(t->dport)) != NULL ||
	       nat_port_table_owner(g->ports, t->proto, t->dst, rte_be_to_cpu_16(t->dport)) !=
	       NAT_OWNER_UNKNOWN;
}

/*
 * Hairpinning in two halves (lib/nat/nat_mapping.c "Hairpinning", RFC 4787 REQ-9): the
 * sender's worker has translated the packet with the sender's own mapping (first half,
 * N:ap -> N:bp). It now comes back in as if it had arrived on the outside port: to the
 * worker holding port bp (the shared port table; a forward's: the forward's host owner),
 * through the handoff ring when that is another worker, where the target's mapping (or
 * forward) translates and filters it like any inbound packet (second half), and only that
 * half forwards it (TTL - 1 once, inside MTU). So 1 and N workers give the same mappings,
 * filtering and results, and each half's connection is owned by one worker.
 */
static void
gw_hairpin_loop(struct gw_worker *w, struct rte_mbuf *m, ct_time_t now)
{
	struct ct_pkt p;
	unsigned int o;

	m->port = GW_PORT_OUTSIDE | GW_PORT_HAIRPIN_FLAG;
	if (gw_hairpin_parse(w, m, &p) < 0)
		return;
	o = gw_owner_parsed(w->g, GW_PORT_OUTSIDE, &p);
	if (o != w->idx) {
		gw_ho_push(w, o, m);
		return;
	}
	gw_miss(w, m, &p, now);		/* looks the connection up first */
}

/* Returns false when the packet was dropped. A connection created for it (fresh) is then
 * removed, as netfilter never confirms a connection whose first packet died. */
static bool
gw_hit(struct gw_worker *w, struct rte_mbuf *m, struct ct_pkt *p, ct_time_t now, bool fresh)
{
	unsigned int port = m->port & 1;
	struct ct_conn *c = p->conn;
	uint8_t *buf = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t status = ct_conn_status(c);
	enum ct_reason why = CT_R_NONE;
	enum ct_state st;
	unsigned int egress;
	bool hairpin;
	uint32_t dst;
	/* connection events (gw_event.c): an UPDATE when the state moves; a fresh one gets
	 * its NEW from gw_miss once this packet passed */
	bool ev = unlikely(__atomic_load_n(&w->ev_on, __ATOMIC_RELAXED)) && !fresh;
	uint8_t tcp0 = ev ? (uint8_t)ct_conn_tcp_state(c) : 0;

	if (unlikely(status & CT_ST_HELPER) && w->hc != NULL)
		helper_pre_ct(w->hc, p, buf);
	st = ct_update(w->ct, p, buf, now, &why);
	if (unlikely(st == CT_INVALID)) {
		if (unlikely(w->rs != NULL))
			gw_rules_invalid(w, m, p, port, now);	/* log, count, reject */
		if (fresh)
			ct_delete(w->ct, c);
		gw_count_drop(w, m, GW_DROP_CT_BASE + why);
		return false;
	}
	if (unlikely(ev))
		gw_event_conn_check(w, c, status, tcp0);
	/* a packet of direction d leaves with tuple invert(tuple[!d]) */
	dst = ct_conn_tuple(c, !p->dir)->src;
	egress = gw_is_inside(w->g, dst) ? GW_PORT_INSIDE : GW_PORT_OUTSIDE;
	/* from inside to one of our outside addresses: the first half of a hairpin */
	hairpin = port == GW_PORT_INSIDE && unlikely(nat_is_outside_addr(&w->g->cfg.nat, dst));
	if (unlikely(port == GW_PORT_OUTSIDE && egress == GW_PORT_OUTSIDE)) {
		/* Nothing legitimate comes in from the uplink to leave by it again: an ICMP
		 * error quoting a packet *to* an inside host is forged, would reveal the
		 * connection and could bounce between us and the upstream router. */
		gw_count_drop(w, m, GW_DROP_BOUNCE);
		goto dropped;
	}
	if (unlikely(p->ttl <= 1)) {
		/* to our outside address, forwarded by this connection (stage 1 checks the rest);
		 * the error quotes the datagram as it arrived, before NAT */
		gw_icmp_error(w, port, m, p, 11, 0, 0, now);
		gw_count_drop(w, m, GW_DROP_TTL_EXCEEDED);
		goto dropped;
	}
	/* the common case without the call: gw_df_too_big's limit is the egress MTU, or 20
	 * bytes less towards a NAT64 shadow (gw_nat64_mtu with DF), never lower */
	if (!hairpin && unlikely(p->ip_len + 20 > w->g->cfg.ifc[egress].mtu) &&
	    gw_df_too_big(w, port, egress, m, p, now))
		goto dropped;
	/* the forward chain (gw_rules.c): after the TTL and DF checks, before NAT */
	if (unlikely(w->rs != NULL)) {
		enum gw_drop rd = gw_rules_forward(w, m, p, port, egress, st, status, now);

		if (rd != GW_DROP_NONE) {
			gw_count_drop(w, m, rd);
			goto dropped;
		}
	}
	if (unlikely(nat_rewrite(c, p, buf) < 0)) {
		gw_count_drop(w, m, GW_DROP_REWRITE_FAILED);
		goto dropped;
	}
	if (unlikely(status & CT_ST_HELPER) && w->hc != NULL) {
		uint32_t len = m->data_len;
		uint32_t cap = m->data_len + rte_pktmbuf_tailroom(m);

		if (helper_post_ct(w->hc, p, buf, &len, cap, now) == HELPER_DROP) {
			gw_count_drop(w, m, GW_DROP_HELPER);
			goto dropped;
		}
		if (len > m->data_len)
			rte_pktmbuf_append(m, len - m->data_len);
		else if (len < m->data_len)
			rte_pktmbuf_trim(m, m->data_len - len);
	}
	if (unlikely(hairpin)) {
		gw_hairpin_loop(w, m, now);	/* the second half forwards it */
		return true;
	}
	if (w->fast_on)
		gw_fast_learn(w, m, p, egress, dst);	/* its next ones may go the fast path */
	gw_forward(w, egress, m, p, dst, now);
	return true;
dropped:
	if (fresh)
		ct_delete(w->ct, c);
	return false;
}

static void
gw_miss(struct gw_worker *w, struct rte_mbuf *m, struct ct_pkt *p, ct_time_t now)
{
	bool from_inside = (m->port & 1) == GW_PORT_INSIDE;
	enum nat_reason nw = NAT_R_NONE;
	enum ct_reason cw = CT_R_NONE;
	struct ct_conn *c;
	const struct ct_conn *fresh;
	bool expected = false, ok;
	uint8_t dir;

	/* an earlier packet of the burst may have created it */
	c = ct_lookup(w->ct, &p->tuple, &dir, now);
	if (c != NULL) {
		p->conn = c;
		p->dir = dir;
		gw_hit(w, m, p, now, false);
		return;
	}
	if (p->is_icmp_error) {
		cw = CT_R_ICMP_ERROR_NO_CONN;
		if (unlikely(w->rs != NULL))
			gw_rules_invalid(w, m, p, m->port & 1, now);
		ct_count_reason(w->ct, cw);
		gw_count_drop(w, m, GW_DROP_CT_BASE + cw);
		return;
	}
	cw = ct_new_ok(w->ct, p);
	/* cheap checks before memory: a first packet with a bad L4 checksum takes no
	 * connection, mapping or outside port (ct_update would refuse it only after those) */
	if (cw == CT_R_NONE && !p->l4_csum_ok) {
		if (!ct_l4_csum_valid(p, rte_pktmbuf_mtod(m, const uint8_t *)))
			cw = CT_R_L4_BAD_CSUM;
		p->l4_csum_ok = true;
	}
	if (cw != CT_R_NONE) {
		if (unlikely(w->rs != NULL))
			gw_rules_invalid(w, m, p, m->port & 1, now);
		ct_count_reason(w->ct, cw);
		gw_count_drop(w, m, GW_DROP_CT_BASE + cw);
		return;
	}
	if (from_inside && unlikely(nat_is_outside_addr(&w->g->cfg.nat, p->tuple.dst)) &&
	    !gw_hairpin_target(w->g, p)) {
		/* To one of our outside addresses with no forward and no mapping behind the
		 * port (or hairpinning off): nothing to hairpin to (RFC 4787 REQ-9 covers mapped
		 * endpoints only). Translating it would only make a mapping for nothing. */
		gw_count_drop(w, m, GW_DROP_TO_ME_UNHANDLED);
		return;
	}
	w->ev_why = GW_EV_R_EVICTED;	/* what creating a connection removes (events) */
	if (w->hc != NULL) {
		c = helper_expect_new(w->hc, p, from_inside, now);
		expected = c != NULL;
	}
	if (c == NULL)
		c = from_inside ? nat_out_new(w->nat, p, now, &nw, &cw) :
				  nat_in_new(w->nat, p, now, &nw, &cw);
	w->ev_why = GW_EV_R_DELETED;	/* set to EVICTED before helper_expect_new above */
	if (c == NULL) {
		if (nw == NAT_R_CT_REFUSED && cw != CT_R_NONE)
			gw_count_drop(w, m, GW_DROP_CT_BASE + cw);
		else
			gw_count_drop(w, m, GW_DROP_NAT_BASE + nw);
		return;
	}
	if (!expected && w->hc != NULL)
		helper_conn_attach(w->hc, c);
	p->conn = c;
	p->dir = CT_DIR_ORIG;
	fresh = w->ev_fresh;		/* a hairpin's second half may nest here */
	w->ev_fresh = c;		/* its removal, should this packet die, is no event */
	ok = gw_hit(w, m, p, now, true);
	w->ev_fresh = fresh;
	if (ok) {
		w->st.conns_created++;
		if (unlikely(__atomic_load_n(&w->ev_on, __ATOMIC_RELAXED)))
			gw_event_conn_new(w, c);
	}
}

static void
gw_ho_flush(struct gw_worker *w)
{
	unsigned int j;

	for (j = 0; j < w->g->n_workers; j++) {
		struct gw_txbuf *b = &w->ho[j];
		unsigned int k, n;

		if (b->n == 0)
			continue;
		n = rte_ring_sp_enqueue_burst(w->g->ring[w->idx][j], (void **)b->m, b->n, NULL);
		w->st.handoff_out += n;
		for (k = n; k < b->n; k++)
			gw_count_drop(w, b->m[k], GW_DROP_HANDOFF_FULL);
		b->n = 0;
	}
}

unsigned int
gw_owner_of(const struct gw *g, unsigned int port, const struct ct_pkt *p)
{
	return gw_owner_parsed(g, port, p);
}

unsigned int
gw_slow_one(struct gw_worker *w, struct rte_mbuf *m, ct_time_t now, bool handed,
	    struct ct_pkt *pre)
{
	struct ct_conn *c = pre != NULL && pre->tuple.family != 0 ? pre->conn : NULL;
	uint8_t dir = c != NULL ? pre->dir : 0;
	bool parsed = pre != NULL && pre->tuple.family != 0;
	struct ct_pkt p;
	bool rehand = false;
	int owner;

	if (parsed) {
		/* the fast path's parse (gw_fast_parse), and the fields it leaves as
		 * ct_parse_ipv4 leaves them for such a packet (TCP or UDP, whole, IPv4) */
		p = *pre;
		p.hash = 0;
		p.conn = NULL;
		p.dir = 0;
		p.icmp_type = 0;
		p.icmp_code = 0;
		p.is_icmp_error = 0;
		p.is_fragment = 0;
		p.inner_l3_off = 0;
		p.inner_l4_off = 0;
		p.inner_len = 0;
		p.l4_csum_ok = false;
		p.frag6_off = 0;
	}
	owner = gw_stage1(w, &m, &p, now, handed, &rehand, parsed);

	if (owner < 0)
		return 0;
	if ((unsigned int)owner != w->idx && (!handed || rehand)) {
		gw_ho_push(w, (unsigned int)owner, m);
		return 1;
	}
	if (c != NULL && !(ct_conn_status(c) & CT_ST_DYING)) {
		/* the burst's lookup found it for this tuple */
		p.conn = c;
		p.dir = dir;
		gw_hit(w, m, &p, now, false);
		return 0;
	}
	gw_miss(w, m, &p, now);		/* looks the connection up first */
	return 0;
}

/* The full path for a whole burst (fast path off): stage 1 for every packet, one lookup
 * for the burst, then each packet's hit or miss in order. */
static unsigned int
gw_full_burst(struct gw_worker *w, struct rte_mbuf **pkts, uint16_t n, ct_time_t now,
	      bool handed)
{
	struct ct_pkt pk[GW_BURST_MAX];
	struct ct_pkt *pp[GW_BURST_MAX];
	struct rte_mbuf *ms[GW_BURST_MAX];
	unsigned int i, k = 0, handoff = 0;
	int owner;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		bool rehand = false;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		owner = gw_stage1(w, &m, &pk[k], now, handed, &rehand, false);
		if (owner < 0)
			continue;
		if ((unsigned int)owner != w->idx && (!handed || rehand)) {
			gw_ho_push(w, (unsigned int)owner, m);
			handoff++;
			continue;
		}
		ms[k] = m;
		pp[k] = &pk[k];
		k++;
	}
	if (k != 0) {
		ct_lookup_burst(w->ct, pp, k, now);
		for (i = 0; i < k; i++) {
			if (likely(pk[i].conn != NULL))
				gw_hit(w, ms[i], &pk[i], now, false);
			else
				gw_miss(w, ms[i], &pk[i], now);
		}
	}
	return handoff;
}

/* Packets with m->port set to their ingress GW port. */
static unsigned int
gw_process(struct gw_worker *w, struct rte_mbuf **pkts, uint16_t n, ct_time_t now, bool handed)
{
	unsigned int handoff;

	w->ev_now = now;		/* for events from conntrack's destroy callback */
	gw_rules_poll(w);	/* between bursts: a newly published ruleset */
	gw_fast_poll(w);	/* ... and whether the fast path is on */
	if (likely(w->fast_on))
		handoff = gw_fast_burst(w, pkts, n, now, handed);
	else
		handoff = gw_full_burst(w, pkts, n, now, handed);
	gw_frag_drain(w);
	gw_ho_flush(w);
	gw_tx_flush(w);
	return handoff;
}

unsigned int
gw_worker_rx(struct gw_worker *w, unsigned int port, struct rte_mbuf **pkts, uint16_t n,
	     ct_time_t now)
{
	unsigned int handoff = 0;
	uint16_t i, chunk;

	if (unlikely(w->g->vlan_any)) {
		n = gw_vlan_rx(w, port, pkts, n);	/* sets each frame's side, counts rx */
	} else {
		for (i = 0; i < n; i++)
			pkts[i]->port = (uint16_t)port;
		w->st.rx[port] += n;
	}
	for (i = 0; i < n; i += chunk) {
		chunk = RTE_MIN(n - i, GW_BURST_MAX);
		handoff += gw_process(w, pkts + i, chunk, now, false);
	}
	return handoff;
}

unsigned int
gw_worker_poll_rings(struct gw_worker *w, ct_time_t now)
{
	struct rte_mbuf *ms[GW_BURST_MAX];
	unsigned int j, n, total = 0;

	for (j = 0; j < w->g->n_workers; j++) {
		if (j == w->idx)
			continue;
		n = rte_ring_sc_dequeue_burst(w->g->ring[j][w->idx], (void **)ms, GW_BURST_MAX,
					      NULL);
		if (n == 0)
			continue;
		w->st.handoff_in += n;
		total += n;
		gw_process(w, ms, (uint16_t)n, now, true);
	}
	return total;
}

unsigned int
gw_worker_housekeeping(struct gw_worker *w, ct_time_t now)
{
	unsigned int work;

	nat_ctx_sync(w->nat);	/* adopt a forward table the control plane published */
	gw_rules_poll(w);	/* ... and a ruleset */
	w->ev_now = now;
	work = ct_expire(w->ct, now, GW_EXPIRE_BUDGET);
	if (unlikely(w->rs_sweeping))
		work += gw_rules_sweep(w);
	gw_fast_poll(w);	/* an idle worker relearns too */
	if (unlikely(w->fast_sweeping))
		work += gw_fast_sweep(w);
	if (w->hc != NULL)
		work += helper_expect_expire(w->hc, now, GW_EXPIRE_BUDGET);
	work += gw_arp_timer(w, now);
	work += gw_frag_timer(w, now);
	work += gw_ip6_timer(w, now);
	work += gw_nat64_timer(w, now);
	gw_ho_flush(w);
	gw_tx_flush(w);
	return work;
}

void
gw_worker_flush(struct gw_worker *w)
{
	struct rte_mbuf *m;
	unsigned int j;

	gw_ho_flush(w);
	gw_tx_flush(w);
	for (j = 0; j < w->g->n_workers; j++) {
		if (j == w->idx)
			continue;
		while (rte_ring_sc_dequeue(w->g->ring[j][w->idx], (void **)&m) == 0)
			gw_count_drop(w, m, GW_DROP_HANDOFF_FULL);
	}
	gw_arp_flush(w);
	gw_nd_flush(w);
	gw_frag_drain(w);
}

void
gw_worker_count_idle(struct gw_worker *w, uint64_t n)
{
	w->st.idle_polls += n;
}

/* ---------------------------------------------------------------------------------------
 * Construction
 */

static void *
gw_zalloc(const struct gw *g, size_t sz, int socket)
{
	void *p;

	if (g->use_heap) {
		if (posix_memalign(&p, RTE_CACHE_LINE_SIZE, sz) != 0)
			return NULL;
		memset(p, 0, sz);
		return p;
	}
	return rte_zmalloc_socket("natgw", sz, RTE_CACHE_LINE_SIZE, socket);
}

static void
gw_mfree(const struct gw *g, void *p)
{
	if (g->use_heap)
		free(p);
	else
		rte_free(p);
}

static int
gw_worker_create(struct gw *g, unsigned int i, const struct gw_params *prm, char *err,
		 size_t errlen)
{
	struct gw_worker *w = gw_zalloc(g, sizeof(*w), prm->socket_id);
	struct ct_params cp = {
		.capacity = g->cfg.capacity,
		.seed = { prm->seed[0], prm->seed[1] },
		.socket_id = prm->socket_id,
		.timeouts = &g->cfg.timeouts,
		.tcp_liberal = g->cfg.tcp_liberal,
		.tcp_loose = g->cfg.tcp_loose,
		.accounting = g->cfg.ct_accounting,
		.use_heap = prm->use_heap,
	};
	char name[32];

	if (w == NULL) {
		ERR("worker %u: out of memory", i);
		return -1;
	}
	g->w[i] = w;
	w->g = g;
	w->idx = i;
	w->io.drop = gw_default_drop;
	w->io.tx = gw_default_tx;
	w->icmp_tokens = 50;
	w->icmp_seed = (uint32_t)rte_rand() | 1;	/* gw_icmp.c per destination buckets */
	snprintf(name, sizeof(name), "gwct%u", i);
	cp.name = name;
	w->ct = ct_table_create(&cp);
	if (w->ct == NULL) {
		ERR("worker %u: conntrack table: %s", i, rte_strerror(rte_errno));
		return -1;
	}
	/* one port table for all workers (lib/nat/nat_ports.c: N workers behave as one) */
	w->nat = nat_ctx_create_shared(&g->cfg.nat, i, w->ct, g->fwd, g->ports, prm->use_heap);
	if (w->nat == NULL) {
		ERR("worker %u: nat context: %s", i, rte_strerror(rte_errno));
		return -1;
	}
	if (g->cfg.helpers.n_ports != 0) {
		w->hc = helper_ctx_create(&g->cfg.helpers, w->ct, w->nat, prm->use_heap);
		if (w->hc == NULL) {
			ERR("worker %u: helpers: %s", i, rte_strerror(rte_errno));
			return -1;
		}
	}
	if (gw_arp_init(w) < 0) {
		ERR("worker %u: arp cache: out of memory", i);
		return -1;
	}
	if (gw_frag_init(w) < 0) {
		ERR("worker %u: reassembly tables/pool: %s", i, rte_strerror(rte_errno));
		return -1;
	}
	if (gw_ip6_worker_init(w) < 0) {
		ERR("worker %u: ipv6 (conntrack addresses, neighbour cache): out of memory", i);
		return -1;
	}
	if (gw_event_worker_init(w, g->cfg.log.ring_size, prm->use_heap, prm->socket_id) < 0) {
		ERR("worker %u: event ring of %u: out of memory", i, g->cfg.log.ring_size);
		return -1;
	}
	return 0;
}

/* What the pipeline itself may hold at once (the mbuf pool is sized from it): gw.h */
unsigned int
gw_mbufs_held_max(const struct gw_config *cfg, unsigned int n_workers, unsigned int ring_size)
{
	unsigned int ring = ring_size != 0 ? ring_size : GW_RING_SIZE_DEFAULT;
	unsigned int per_w = cfg->arp_hold_total +		/* ARP hold queues */
			     (cfg->ifc[GW_PORT_INSIDE].prefix6 != 0 ?
			      cfg->arp_hold_total : 0) +	/* ND hold queues */
			     GW_PORT_MAX * GW_TX_BUF +		/* TX buffers */
			     n_workers * GW_TX_BUF +		/* handoff buffers */
			     2 * GW_BURST_MAX +			/* bursts in hand */
			     GW_FRAG_OUT_MAX;			/* one datagram's fragments */

	return n_workers * per_w + n_workers * (n_workers - 1) * ring;
}

static int
gw_rings_create(struct gw *g, const struct gw_params *prm, char *err, size_t errlen)
{
	unsigned int size = prm->ring_size != 0 ? prm->ring_size : GW_RING_SIZE_DEFAULT;
	ssize_t sz = rte_ring_get_memsize(size);
	unsigned int i, j;
	char name[RTE_RING_NAMESIZE];

	if (sz < 0) {
		ERR("handoff ring size %u: not a power of two", size);
		return -1;
	}
	for (i = 0; i < g->n_workers; i++) {
		for (j = 0; j < g->n_workers; j++) {
			if (i == j)
				continue;
			g->ring_mem[i][j] = gw_zalloc(g, sz, prm->socket_id);
			if (g->ring_mem[i][j] == NULL) {
				ERR("handoff rings: out of memory");
				return -1;
			}
			snprintf(name, sizeof(name), "gwho%u_%u_%p", i, j, (void *)g);
			g->ring[i][j] = g->ring_mem[i][j];
			if (rte_ring_init(g->ring[i][j], name, size,
					  RING_F_SP_ENQ | RING_F_SC_DEQ) < 0) {
				ERR("handoff ring: %s", rte_strerror(rte_errno));
				return -1;
			}
		}
	}
	return 0;
}

struct gw *
gw_create(const struct gw_params *prm, char *err, size_t errlen)
{
	struct gw *g;
	char msg[256];
	unsigned int i, p;

	if (prm->cfg == NULL || prm->n_workers < 1 || prm->n_workers > GW_MAX_WORKERS ||
	    prm->pool == NULL) {
		ERR("gw_create: bad parameters (workers 1..%u, a mempool)", GW_MAX_WORKERS);
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		ERR("out of memory");
		return NULL;
	}
	g->cfg = *prm->cfg;
	g->n_workers = prm->n_workers;
	g->use_heap = prm->use_heap;
	g->pool = prm->pool;
	g->big_pool = prm->big_pool;
	g->indirect_pool = prm->indirect_pool != NULL ? prm->indirect_pool : prm->pool;
	g->frag_pool = prm->frag_pool;
	for (p = 0; p < GW_PORT_MAX; p++) {
		g->tx_multi_seg[p] = prm->tx_multi_seg[p];
		g->tx_vlan_offload[p] = prm->tx_vlan_offload[p];
		g->vlan_any |= g->cfg.ifc[p].vlan != 0;
		g->mac[p] = g->cfg.ifc[p].mac_set ? g->cfg.ifc[p].mac : prm->mac[p];
		g->if_mask[p] = gw_prefix_mask(g->cfg.ifc[p].prefix);
		g->if_bcast[p] = gw_mask_has_bcast(g->if_mask[p]) ?
				 (g->cfg.ifc[p].addr | ~g->if_mask[p]) : 0;
	}
	/* router on a stick: both sides name one port (gw_config_check: tagged, ids differ) */
	g->trunk = strcmp(g->cfg.ifc[GW_PORT_INSIDE].port, g->cfg.ifc[GW_PORT_OUTSIDE].port) == 0;
	gw_untracked_prepare(g);
	if (gw_ip6_init(g) < 0) {
		ERR("out of memory");
		goto fail;
	}
	g->cfg.nat.n_workers = prm->n_workers;
	/* helpers (lib/helpers): a payload rewrite may grow a packet up to the smaller of the
	 * two MTUs, never past it (it is refused and counted instead) */
	g->cfg.helpers.mtu = RTE_MIN(g->cfg.ifc[GW_PORT_INSIDE].mtu,
				     g->cfg.ifc[GW_PORT_OUTSIDE].mtu);
	if (prm->host_seed != 0)
		g->cfg.nat.host_seed = prm->host_seed;
	if (g->cfg.nat.max_mappings == 0)
		g->cfg.nat.max_mappings = g->cfg.capacity;
	if (nat_config_check(&g->cfg.nat, msg, sizeof(msg)) < 0) {
		ERR("nat: %s", msg);
		goto fail;
	}
	nat_config_index(&g->cfg.nat);	/* pool membership in O(1) on every packet */
	g->fwd = nat_fwd_table_create(g->cfg.fwds, g->cfg.n_fwds, msg, sizeof(msg));
	if (g->fwd == NULL) {
		ERR("forwards: %s", msg);
		goto fail;
	}
	g->ports = nat_port_table_create(&g->cfg.nat, g->use_heap);
	if (g->ports == NULL) {
		ERR("nat port table: %s", rte_strerror(rte_errno));
		goto fail;
	}
	if (gw_rings_create(g, prm, err, errlen) < 0)
		goto fail;
	for (i = 0; i < g->n_workers; i++)
		if (gw_worker_create(g, i, prm, err, errlen) < 0)
			goto fail;
	if (gw_nat64_init(g, err, errlen) < 0)	/* [nat64] (gw_nat64.c) */
		goto fail;
	if (gw_rules_init(g, err, errlen) < 0)	/* [filter] rules (gw_rules.c) */
		goto fail;
	for (i = 0; i < g->cfg.n_arp_static; i++) {
		uint32_t ip = g->cfg.arp_static[i].ip;

		p = gw_on_link(g, GW_PORT_INSIDE, ip) ? GW_PORT_INSIDE : GW_PORT_OUTSIDE;
		if (gw_arp_add_static(g, p, ip, &g->cfg.arp_static[i].mac) < 0) {
			ERR("arp static entry %u: cache full", i);
			goto fail;
		}
	}
	return g;
fail:
	gw_free(g);
	return NULL;
}

void
gw_free(struct gw *g)
{
	unsigned int i, j;

	if (g == NULL)
		return;
	gw_rules_free(g);
	gw_nat64_free(g);
	for (i = 0; i < g->n_workers; i++) {
		struct gw_worker *w = g->w[i];

		if (w == NULL)
			continue;
		if (w->io.drop == NULL)
			w->io.drop = gw_default_drop;
		gw_worker_flush(w);
		gw_event_worker_free(w, g->use_heap);
		gw_arp_free(w);
		gw_ip6_worker_free(w);
		gw_frag_free(w);
		helper_ctx_free(w->hc);
		nat_ctx_free(w->nat);
		ct_table_free(w->ct);
		gw_mfree(g, w);
	}
	for (i = 0; i < GW_MAX_WORKERS; i++)
		for (j = 0; j < GW_MAX_WORKERS; j++)
			if (g->ring_mem[i][j] != NULL)
				gw_mfree(g, g->ring_mem[i][j]);
	nat_port_table_free(g->ports);
	nat_fwd_table_free(g->fwd);
	gw_ip6_free(g);
	free(g);
}
