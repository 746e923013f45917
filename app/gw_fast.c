/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_fast.c - the established fast path: what most packets are (a TCP segment or UDP
 * datagram of a connection that saw both directions) forwarded with the work that depends
 * on the packet itself, and the work that depends only on its tuple and ingress port done
 * once per connection and direction.
 *
 * The full path (gw_pipeline.c: gw_stage1, gw_hit) runs ~25 checks on every packet. Most
 * of them (martian and side checks on the addresses, uRPF, our own addresses, NAT64
 * shadows, which worker owns it, where it leaves, hairpin) look only at the tuple and the
 * ingress port, under a configuration: for a given connection direction arriving on a
 * given port their verdict cannot change until the configuration does. So when a packet
 * of direction d passed all of them and is forwarded by gw_hit, gw_fast_learn() records
 * it in the connection (CT_ST_FAST<d>, and CT_ST_FAST_OUT<d> for the port it came in on).
 * The next packets of that direction on that port take gw_fast_hit(), which does what
 * depends on the packet: the frame and header checks ct_parse_ipv4 and stage 1 make (our
 * MAC, one segment, IPv4 without options, not a fragment, lengths, header checksum unless
 * the NIC checked it, TTL > 1, a TCP data offset that fits), the size against the egress
 * MTU, the ruleset's cached verdict, conntrack's update (ct_update_fast: UDP after the
 * reply, or TCP's in-window shortcut in ESTABLISHED), the rewrite, TTL - 1, ARP and TX.
 * Anything it cannot decide that way (a SYN, FIN or RST, a segment out of the window or
 * with SACK blocks, an ICMP error, a packet too big, TTL 1, no cached verdict...) it
 * leaves untouched to the full path, in the packet's turn: packets are handled in arrival
 * order whichever path takes them.
 *
 * When the configuration a learnt direction depends on changes ([forward], [untracked],
 * the ruleset's notrack rules), the worker stops using the bits, clears them all in slices
 * (gw_fast_sweep) and learns again. `[workers] fast_path = no` sends everything through
 * the full path (replay_fast_same compares both on every base scenario).
 */
#include <string.h>
#include <netinet/in.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "gw_private.h"

#define GW_FAST_SWEEP_BUDGET 4096	/* entries cleared per housekeeping call */

/*
 * nat_rewrite() and gw_forward()'s header work for a whole TCP/UDP datagram of direction d:
 * it leaves with the inverse of the other direction's tuple (`other`). The L4 checksum
 * takes the direction's delta, learnt once (ct_conn_learn_fast: RFC 1624 eqn. 3, the same
 * sum nat_rewrite folds per packet); a UDP checksum 0 stays 0, a computed 0 goes as
 * 0xffff (RFC 768). TTL - 1, and the header checksum is computed over the new header,
 * which gives the value the full path's incremental updates give (both are the one's
 * complement sum's canonical form, in [0, 0xfffe]).
 */
static inline void
gw_fast_rewrite(uint8_t *ip, uint8_t *l4, uint8_t proto, const struct ct_tuple *other,
		uint16_t dl4)
{
	uint8_t *l4ck = l4 + (proto == IPPROTO_TCP ? 16 : 6);
	uint16_t ports[2] = { other->dport, other->sport }, ck;
	uint32_t s;

	memcpy(ip + 12, &other->dst, 4);
	memcpy(ip + 16, &other->src, 4);
	memcpy(l4, ports, 4);
	memcpy(&ck, l4ck, 2);
	if (proto == IPPROTO_TCP || ck != 0) {
		s = (uint32_t)(uint16_t)~ck + dl4;
		s = (s & 0xffff) + (s >> 16);
		s = (s & 0xffff) + (s >> 16);
		ck = (uint16_t)~s;
		if (ck == 0 && proto == IPPROTO_UDP)
			ck = 0xffff;
		memcpy(l4ck, &ck, 2);
	}
	ip[8]--;
	ip[10] = 0;
	ip[11] = 0;
	ck = ct_ipv4_hdr_csum(ip);
	memcpy(ip + 10, &ck, 2);
}

/*
 * Parse for the lookup, and only the packets the fast path may take: a plain frame on a
 * side (no flag in m->port), one segment, for our MAC, IPv4 with a 20-byte header that
 * ct_parse_ipv4 accepts, not a fragment, TTL above 1, TCP with a data offset that fits or
 * UDP. p then has what the lookup and the fast path read, as ct_parse_ipv4 would give
 * it; gw_slow_one sets the rest when the packet goes the full path after all. Anything
 * else keeps family 0, which the lookup skips, and goes the full path.
 */
static inline bool
gw_fast_parse(const struct gw *g, const struct rte_mbuf *m, struct ct_pkt *p)
{
	const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)b;
	const uint8_t *ip = b + RTE_ETHER_HDR_LEN, *l4 = ip + 20;
	unsigned int port = m->port, tot, hdr;
	uint32_t len = m->data_len;

	p->tuple.family = 0;
	if (unlikely(port > GW_PORT_OUTSIDE || m->nb_segs != 1 ||
		     len < RTE_ETHER_HDR_LEN + 20 ||
		     len > (uint32_t)g->cfg.ifc[port].mtu + RTE_ETHER_HDR_LEN))
		return false;
	if (unlikely(!rte_is_same_ether_addr(&eth->dst_addr, &g->mac[port]) ||
		     eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)))
		return false;
	/* version 4, no options; no MF, offset 0 (DF may be set); TTL > 1 */
	if (unlikely(ip[0] != 0x45 || (ip[6] & 0x3f) != 0 || ip[7] != 0 || ip[8] <= 1))
		return false;
	tot = (unsigned int)ip[2] << 8 | ip[3];
	if (unlikely(tot < 28 || tot + RTE_ETHER_HDR_LEN > len))
		return false;
	if (ip[9] == IPPROTO_TCP) {
		if (unlikely(tot < 40))
			return false;
		hdr = (unsigned int)(l4[12] >> 4) * 4u;
		if (unlikely(hdr < 20 || hdr > tot - 20))
			return false;
		p->tcp_flags = l4[13];
	} else if (likely(ip[9] == IPPROTO_UDP)) {
		hdr = 8;
		p->tcp_flags = 0;
	} else {
		return false;
	}
	if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	    unlikely(ct_ipv4_hdr_csum(ip) != 0))
		return false;	/* the full path counts it */
	memcpy(&p->tuple.src, ip + 12, 8);	/* src, dst */
	memcpy(&p->tuple.sport, l4, 4);		/* sport, dport */
	p->tuple.proto = ip[9];
	p->tuple.family = CT_FAMILY_IPV4;
	p->tuple.zero = 0;
	p->l3_off = RTE_ETHER_HDR_LEN;
	p->l4_off = RTE_ETHER_HDR_LEN + 20;
	p->ip_len = (uint16_t)tot;
	p->l4_len = (uint16_t)(tot - 20);
	p->payload_off = (uint16_t)(p->l4_off + hdr);
	p->payload_len = (uint16_t)(tot - 20 - hdr);
	p->ttl = ip[8];
	return true;
}

/* The fast path for a packet of a connection found by the lookup: true when it forwarded
 * the packet, false (the packet untouched, the connection unchanged) for the full path. */
static inline bool
gw_fast_hit(struct gw_worker *w, struct rte_mbuf *m, struct ct_pkt *p, ct_time_t now)
{
	const struct gw *g = w->g;
	struct ct_conn *c = p->conn;
	unsigned int port = m->port, egress = port ^ 1;
	uint8_t *buf = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t st = ct_conn_status(c);
	const struct ct_tuple *other;
	uint16_t dl4;
	uint32_t nh;

	/* learnt for this direction on this port; leaves by the other (gw_fast_learn) */
	if ((st & ct_st_fast_mask(p->dir)) != ct_st_fast_bits(p->dir, port == GW_PORT_OUTSIDE))
		return false;
	/* gw_hit's DF test, the NAT64 case excluded by gw_fast_learn: never too big here */
	if (unlikely(p->ip_len + 20u > g->cfg.ifc[egress].mtu))
		return false;
	if (unlikely(w->rs != NULL)) {
		/* the forward chain's cached verdict (gw_rules_forward) must be accept */
		uint16_t va = p->dir == CT_DIR_ORIG ? CT_ST_RS_VALID0 | CT_ST_RS_ACCEPT0 :
						      CT_ST_RS_VALID1 | CT_ST_RS_ACCEPT1;

		if (w->rs_slow || (st & va) != va)
			return false;
	}
	other = ct_update_fast(w->ct, p, buf, now, &dl4);
	if (other == NULL)
		return false;
	/* taken: as stage 1 and gw_hit would do it from here on */
	if (unlikely(m->data_len > p->l3_off + p->ip_len))
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - (p->l3_off + p->ip_len)));
	gw_fast_rewrite(buf + RTE_ETHER_HDR_LEN, buf + p->l4_off, p->tuple.proto, other, dl4);
	w->st.fast_path++;
	nh = gw_nexthop(g, egress, other->src);
	if (unlikely(nh == 0 || (egress == GW_PORT_INSIDE && gw_is_shadow(g, nh)))) {
		gw_l2_send(w, egress, nh, m, now);	/* no route (counted), NAT64 */
		return true;
	}
	/* gw_l2_send's common case (the frame is IPv4 already) */
	rte_ether_addr_copy(&g->mac[egress], &((struct rte_ether_hdr *)buf)->src_addr);
	gw_arp_resolve_send(w, egress, nh, m, now);
	return true;
}

unsigned int
gw_fast_burst(struct gw_worker *w, struct rte_mbuf **pkts, uint16_t n, ct_time_t now,
	      bool handed)
{
	struct ct_pkt pk[GW_BURST_MAX];
	struct ct_pkt *pp[GW_BURST_MAX];
	unsigned int i, handoff = 0;

	for (i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		gw_fast_parse(w->g, pkts[i], &pk[i]);
		pp[i] = &pk[i];
	}
	ct_lookup_burst(w->ct, pp, n, now);
	for (i = 0; i < n; i++) {
		if (pk[i].conn != NULL && gw_fast_hit(w, pkts[i], &pk[i], now))
			continue;
		handoff += gw_slow_one(w, pkts[i], now, handed, &pk[i]);
	}
	return handoff;
}

void
gw_fast_learn(struct gw_worker *w, const struct rte_mbuf *m, const struct ct_pkt *p,
	      unsigned int egress, uint32_t dst)
{
	const struct gw *g = w->g;
	unsigned int port = m->port;
	uint16_t st = ct_conn_status(p->conn);

	/* learnt already; or not ASSURED yet, when ct_update_fast takes no packet of it:
	 * learning then would be wasted on the short ones (a DNS query and its answer) */
	if ((st & ct_st_fast_mask(p->dir)) == ct_st_fast_bits(p->dir, port == GW_PORT_OUTSIDE) ||
	    !(st & CT_ST_ASSURED))
		return;
	/* m->port with a flag: hairpinned, from NAT64, a fragment handed on; stage 1 did not
	 * run all of its checks on it as a plain frame of that side */
	if (!w->fast_on || port > GW_PORT_OUTSIDE || egress != (port ^ 1) ||
	    p->is_icmp_error || (p->tuple.proto != IPPROTO_TCP && p->tuple.proto != IPPROTO_UDP) ||
	    (st & (CT_ST_HELPER | CT_ST_RELATED)) || gw_is_shadow(g, dst))
		return;
	/* with several workers the full path would hand it to the tuple's owner: learnt
	 * only where that is this worker */
	if (g->n_workers > 1 && gw_owner_of(g, port, p) != w->idx)
		return;
	ct_conn_learn_fast(p->conn, (enum ct_dir)p->dir, port == GW_PORT_OUTSIDE);
}

void
gw_fast_poll(struct gw_worker *w)
{
	const struct gw *g = w->g;
	uint32_t serial = __atomic_load_n(&g->fast_serial, __ATOMIC_ACQUIRE);

	if (unlikely(serial != w->fast_serial)) {
		/* the configuration the learnt bits stand on changed: forget them all */
		w->fast_serial = serial;
		w->fast_sweeping = true;
		w->fast_sweep_pos = 0;
	}
	w->fast_on = g->cfg.fast_path && !w->fast_sweeping && g->cfg.n_untracked == 0 &&
		     !w->rs_notrack;
}

unsigned int
gw_fast_sweep(struct gw_worker *w)
{
	uint32_t cap = ct_table_capacity(w->ct), end, id;
	unsigned int n = 0;

	if (!w->fast_sweeping)
		return 0;
	end = RTE_MIN(w->fast_sweep_pos + GW_FAST_SWEEP_BUDGET, cap);
	for (id = w->fast_sweep_pos; id < end; id++) {
		struct ct_conn *c = ct_conn_by_id(w->ct, id);

		if (c != NULL && (ct_conn_status(c) & CT_ST_FAST_MASK) != 0) {
			ct_conn_clear_status(c, CT_ST_FAST_MASK);
			n++;
		}
	}
	w->fast_sweep_pos = end;
	if (end == cap)
		w->fast_sweeping = false;	/* gw_fast_poll turns the path on again */
	return n + 1;
}

void
gw_fast_relearn(struct gw *g)
{
	__atomic_fetch_add(&g->fast_serial, 1, __ATOMIC_RELEASE);
}

bool
gw_fast_relearning(const struct gw_worker *w)
{
	return w->fast_sweeping ||
	       __atomic_load_n(&w->g->fast_serial, __ATOMIC_ACQUIRE) != w->fast_serial;
}
