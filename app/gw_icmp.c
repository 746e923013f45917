/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_icmp.c - ICMP the gateway itself originates (RFC 792, RFC 1812 4.3): echo replies for
 * its own addresses, time exceeded (TTL expired in transit) and destination unreachable /
 * fragmentation needed with the next-hop MTU (RFC 1191). Errors quote the offending
 * datagram as it arrived (IP header + up to 548 bytes, so the error fits 576 bytes,
 * RFC 1812 4.3.2.3), come from our address on the interface the packet arrived on, and
 * go back to the L2 neighbour that sent it. No error about an ICMP error, a non-first
 * fragment or a broadcast/multicast (RFC 1812 4.3.2.7), nor to a martian source.
 *
 * Everything made here passes gw_local_ok() last (DESIGN.md: what natgw generates passes the
 * same wrong-side and martian checks as forwarded traffic): nothing leaves the uplink with an
 * inside address, outer or quoted, and nothing exceeds the port's MTU.
 */
#include <string.h>

#include <rte_icmp.h>

#include "gw_private.h"
#include "gw_nat64.h"

#define GW_ICMP_QUOTE_MAX 548
/* RFC 1812 4.3.2.8: errors are rate-limited; a token bucket per worker */
#define GW_ICMP_RATE	1000	/* per second */
#define GW_ICMP_BURST	50
/* ... and first one per destination (a bucket of GW_ICMP_PEER_BUCKETS), as Linux's
 * icmp_ratelimit per peer: one error per interval, a burst of 6 (XRLIM_BURST_FACTOR).
 * Linux's interval is 1 s; 100 ms lets a traceroute or mtr from each host through. */
#define GW_ICMP_PEER_INTERVAL_US	(CT_USEC_PER_SEC / 10)	/* 10 per second */
#define GW_ICMP_PEER_BURST		6

/*
 * Per destination first, then the worker's bucket, as Linux does since "icmp: change the
 * order of rate limits" (icmpv4_xrlim_allow before icmpv4_global_allow): a destination
 * that is refused takes nothing from the shared bucket, so one source of TTL-1 datagrams
 * (inside, or the Internet through a forward) cannot starve the errors everybody else is
 * owed. The destinations are hashed with a random seed into a fixed table (bounded memory,
 * no allocation): an outsider cannot choose whose bucket it shares.
 */
static bool
gw_icmp_peer_allowed(struct gw_worker *w, uint32_t dst, ct_time_t now)
{
	uint32_t h = dst ^ w->icmp_seed;	/* every input bit into the low bits (fmix32) */
	struct gw_icmp_peer *b;
	uint64_t credit;

	h = (h ^ (h >> 16)) * 0x85ebca6bu;
	h = (h ^ (h >> 13)) * 0xc2b2ae35u;
	h ^= h >> 16;
	b = &w->icmp_peer[h & (GW_ICMP_PEER_BUCKETS - 1)];
	credit = b->credit;
	if (now > b->last)
		credit = RTE_MIN(credit + (now - b->last),
				 (uint64_t)GW_ICMP_PEER_BURST * GW_ICMP_PEER_INTERVAL_US);
	b->last = RTE_MAX(b->last, now);
	if (credit < GW_ICMP_PEER_INTERVAL_US) {
		b->credit = (uint32_t)credit;
		w->st.icmp_ratelimited++;
		return false;
	}
	b->credit = (uint32_t)(credit - GW_ICMP_PEER_INTERVAL_US);
	return true;
}

static bool
gw_icmp_allowed(struct gw_worker *w, ct_time_t now)
{
	uint64_t add = (now - w->icmp_last) * GW_ICMP_RATE / CT_USEC_PER_SEC;

	if (now < w->icmp_last)
		add = 0;
	if (add != 0) {
		w->icmp_tokens = RTE_MIN(w->icmp_tokens + add, (uint64_t)GW_ICMP_BURST);
		w->icmp_last = now;
	}
	if (w->icmp_tokens == 0) {
		w->st.icmp_ratelimited++;
		return false;
	}
	w->icmp_tokens--;
	return true;
}

bool
gw_local_ok(const struct gw *g, unsigned int port, uint32_t src, uint32_t dst, uint16_t ip_len)
{
	if (ip_len > g->cfg.ifc[port].mtu || gw_is_martian_src(g, dst) || gw_is_our_addr(g, dst))
		return false;	/* never to ourselves either (a hairpinned packet's error) */
	if (port == GW_PORT_OUTSIDE)
		return gw_is_outside_addr(g, src) && !gw_is_inside(g, dst);
	return gw_is_inside(g, dst);
}

void
gw_icmp_echo_reply(struct gw_worker *w, unsigned int port, struct rte_mbuf *m,
		   const struct ct_pkt *p, ct_time_t now)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, p->l3_off);
	struct rte_icmp_hdr *ic = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, p->l4_off);
	uint16_t old = *(uint16_t *)ic;
	uint16_t mtu = w->g->cfg.ifc[port].mtu;
	uint32_t a = ip->src_addr;

	/* the reply goes where the request came from: never to a group or zero MAC, and only
	 * with addresses that may use that port (a reassembled request may exceed the MTU:
	 * fragmented below, so the size is not what is checked here) */
	if (!rte_is_valid_assigned_ether_addr(&eth->src_addr) ||
	    !gw_local_ok(w->g, port, ip->dst_addr, a, RTE_MIN(p->ip_len, mtu))) {
		gw_count_drop(w, m, GW_DROP_LOCAL_BAD);
		return;
	}
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->time_to_live = 64;
	ip->fragment_offset = 0;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = nat_csum_update16(ic->icmp_cksum, old, *(uint16_t *)ic);
	w->st.icmp_sent++;
	if (unlikely(p->ip_len > mtu)) {
		/* RFC 1122 3.2.2.6: the reply carries the request's data; DF is clear (above) */
		gw_frag_send(w, port, gw_nexthop(w->g, port, a), m, mtu, now);
		return;
	}
	if (unlikely(port == GW_PORT_INSIDE && gw_is_shadow(w->g, a))) {
		gw_nat64_output(w, m, now);	/* to an IPv6 host (NAT64): translated */
		return;
	}
	eth->dst_addr = eth->src_addr;
	eth->src_addr = w->g->mac[port];
	gw_tx_enqueue(w, port, m);
}

void
gw_icmp_error(struct gw_worker *w, unsigned int port, const struct rte_mbuf *m,
	      const struct ct_pkt *p, uint8_t type, uint8_t code, uint16_t mtu, ct_time_t now)
{
	const struct rte_ether_hdr *oeth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *oip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, p->l3_off);
	uint16_t q = RTE_MIN(p->ip_len, GW_ICMP_QUOTE_MAX);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *ic;
	struct rte_mbuf *e;
	uint16_t frag = rte_be_to_cpu_16(oip->fragment_offset);

	/* RFC 1812 4.3.2.7: none about an ICMP error, a non-first fragment, a datagram to a
	 * broadcast/multicast address (IP or link layer) or from a martian source. Out of the
	 * uplink, none quoting a datagram to an inside address: only the inside may know
	 * those (and the outer checks below are gw_local_ok's). */
	if (p->is_icmp_error || (frag & RTE_IPV4_HDR_OFFSET_MASK) != 0 ||
	    gw_is_martian_src(w->g, oip->src_addr) || gw_is_martian_dst(w->g, oip->dst_addr) ||
	    rte_is_multicast_ether_addr(&oeth->dst_addr) ||
	    (port == GW_PORT_OUTSIDE && gw_is_inside(w->g, oip->dst_addr)) ||
	    (uint32_t)p->l3_off + q > m->data_len)
		return;
	/* back to the neighbour that sent it: never to a group or zero MAC (a forged source
	 * would make it a broadcast to the whole segment), the echo reply's check */
	if (!rte_is_valid_assigned_ether_addr(&oeth->src_addr) ||
	    !gw_local_ok(w->g, port, w->g->cfg.ifc[port].addr, oip->src_addr,
			 (uint16_t)(sizeof(*ip) + sizeof(*ic) + q))) {
		w->st.reason[GW_DROP_LOCAL_BAD]++;
		return;
	}
	/* never fragmentation needed: rate-limiting it makes a PMTUD black hole (RFC 1191;
	 * Linux icmpv4_mask_allow: "Don't limit PMTU discovery") */
	if (!(type == 3 && code == 4) &&	/* destination unreachable, frag needed */
	    (!gw_icmp_peer_allowed(w, oip->src_addr, now) || !gw_icmp_allowed(w, now)))
		return;
	e = rte_pktmbuf_alloc(w->g->pool);
	if (e == NULL) {
		w->st.reason[GW_DROP_NO_MBUF]++;
		return;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(e, sizeof(*eth) + sizeof(*ip) +
							  sizeof(*ic) + q);
	if (eth == NULL) {
		rte_pktmbuf_free(e);
		return;
	}
	eth->dst_addr = oeth->src_addr;
	eth->src_addr = w->g->mac[port];
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0xc0;	/* internetwork control, RFC 1812 4.3.2.5 */
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*ic) + q);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = w->g->cfg.ifc[port].addr;
	ip->dst_addr = oip->src_addr;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ic = (struct rte_icmp_hdr *)(ip + 1);
	ic->icmp_type = type;
	ic->icmp_code = code;
	ic->icmp_cksum = 0;
	ic->icmp_ident = 0;
	ic->icmp_seq_nb = rte_cpu_to_be_16(mtu);	/* RFC 1191: next-hop MTU, else 0 */
	memcpy(ic + 1, oip, q);
	ic->icmp_cksum = ~rte_raw_cksum(ic, sizeof(*ic) + q);
	if (ic->icmp_cksum == 0)
		ic->icmp_cksum = 0xffff;
	e->port = port;
	w->st.icmp_sent++;
	if (unlikely(port == GW_PORT_INSIDE && gw_is_shadow(w->g, ip->dst_addr))) {
		gw_nat64_output(w, e, now);	/* to an IPv6 host (NAT64): translated */
		return;
	}
	gw_tx_enqueue(w, port, e);
}
