/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_icmp.c - ICMP the gateway itself originates (RFC 792, RFC 1812 4.3): echo replies for
 * its own addresses, time exceeded (TTL expired in transit) and destination unreachable /
 * fragmentation needed with the next-hop MTU (RFC 1191). Errors quote the offending
 * datagram as it arrived (IP header + up to 548 bytes, so the error fits 576 bytes,
 * RFC 1812 4.3.2.3), come from our address on the interface the packet arrived on, and
 * go back to the L2 neighbour that sent it. No error about an ICMP error, a non-first
 * fragment or a broadcast/multicast (RFC 1812 4.3.2.7).
 */
#include <string.h>

#include <rte_icmp.h>

#include "gw_private.h"

#define GW_ICMP_QUOTE_MAX 548
/* RFC 1812 4.3.2.8: errors are rate-limited; a token bucket per worker */
#define GW_ICMP_RATE	1000	/* per second */
#define GW_ICMP_BURST	50

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

void
gw_icmp_echo_reply(struct gw_worker *w, unsigned int port, struct rte_mbuf *m,
		   const struct ct_pkt *p)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, p->l3_off);
	struct rte_icmp_hdr *ic = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, p->l4_off);
	uint16_t old = *(uint16_t *)ic;
	uint32_t a = ip->src_addr;

	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->time_to_live = 64;
	ip->fragment_offset = 0;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = nat_csum_update16(ic->icmp_cksum, old, *(uint16_t *)ic);
	eth->dst_addr = eth->src_addr;
	eth->src_addr = w->g->mac[port];
	w->st.icmp_sent++;
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

	if (p->is_icmp_error || (frag & RTE_IPV4_HDR_OFFSET_MASK) != 0 ||
	    oip->src_addr == 0 || (rte_be_to_cpu_32(oip->src_addr) >> 28) >= 14 ||
	    rte_is_multicast_ether_addr(&oeth->dst_addr) ||
	    (uint32_t)p->l3_off + q > m->data_len || !gw_icmp_allowed(w, now))
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
	gw_tx_enqueue(w, port, e);
}
