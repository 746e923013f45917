/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_frag6.c - IPv6 fragments (RFC 8200 4.5): reassembled before conntrack, as gw_frag.c
 * does for IPv4 and netfilter's nf_defrag_ipv6 does, with the same tables, bounds and
 * counters (the per-worker, per-ingress-port DPDK librte_ip_frag table; [fragments]
 * max_flows, timeout, max_mbufs per port and max_per_source per source bucket; a held
 * fragment is a copy in the reassembly pool, never the received mbuf: REASM_LIMIT,
 * REASM_SRC_LIMIT, REASM_FAILED). Overlapping fragments never make a datagram (RFC 5722:
 * the table refuses a set whose pieces do not tile it exactly; the whole datagram is
 * dropped at the timeout). Only a fragment header right after the fixed header is taken
 * (what RFC 8200 4.1's order gives without hop-by-hop options); others: REASM_FAILED.
 *
 * IPv6 routers never fragment what they forward (RFC 8200 5), but a datagram that natgw
 * reassembled leaves in fragments again when it is larger than the egress MTU, at most that
 * MTU each (rte_ipv6_fragment_packet), as Linux refragments what conntrack's defrag
 * gathered; the sender's own fragmentation is what made it that large.
 */
#include <string.h>

#include <rte_ip_frag.h>
#include <rte_jhash.h>

#include "gw_ip6.h"

#define IP6_HLEN 40

static inline uint32_t
gw_frag6_bucket(const struct gw_worker *w, const uint8_t src[16])
{
	return gw_ip6_hash(src, w->frag_seed) & (GW_FRAG_SRC_BUCKETS - 1);
}

static inline void
gw_frag6_unhold(struct gw_worker *w, const struct rte_mbuf *s)
{
	uint32_t b = s->hash.usr & (GW_FRAG_SRC_BUCKETS - 1);
	unsigned int port = (s->hash.usr >> 16) & 1;

	if (w->frag_src[b] != 0)
		w->frag_src[b]--;
	if (w->frag_held[port] != 0)
		w->frag_held[port]--;
}

/* A contiguous copy of m (chained or not) from pool or big_pool; NULL when none fits. */
static struct rte_mbuf *
gw_frag6_copy(struct gw_worker *w, const struct rte_mbuf *m, struct rte_mempool *mp)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const void *src;
	struct rte_mbuf *c;
	void *dst;

	if (mp == NULL) {
		mp = w->g->pool;
		if (len + RTE_PKTMBUF_HEADROOM > rte_pktmbuf_data_room_size(mp) &&
		    w->g->big_pool != NULL)
			mp = w->g->big_pool;
	}
	c = rte_pktmbuf_alloc(mp);
	if (c == NULL)
		return NULL;
	dst = rte_pktmbuf_append(c, (uint16_t)len);
	if (dst == NULL || len > UINT16_MAX) {
		rte_pktmbuf_free(c);
		return NULL;
	}
	src = rte_pktmbuf_read(m, 0, len, dst);
	if (src == NULL) {
		rte_pktmbuf_free(c);
		return NULL;
	}
	if (src != dst)
		memcpy(dst, src, len);
	c->port = m->port;
	return c;
}

struct rte_mbuf *
gw_frag6_reassemble(struct gw_worker *w, struct rte_mbuf *m, const struct ct_pkt *p,
		    ct_time_t now)
{
	const struct gw_config *cfg = &w->g->cfg;
	uint16_t mport = m->port;
	unsigned int port = mport & 1;
	struct rte_mbuf *f, *r, *s, *c;
	struct rte_ipv6_hdr *ip6;
	uint32_t b;

	if (w->frag_tbl[port] == NULL || p->frag6_off != p->l3_off + IP6_HLEN) {
		gw_count_drop(w, m, GW_DROP_REASM_FAILED);
		return NULL;
	}
	/* the bounds first: a flood costs a compare per fragment, no copy, no table slot */
	if (unlikely(w->frag_held[port] >= cfg->frag_max_mbufs)) {
		gw_count_drop(w, m, GW_DROP_REASM_LIMIT);
		return NULL;
	}
	b = gw_frag6_bucket(w, rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l3_off + 8));
	if (unlikely(w->frag_src[b] >= cfg->frag_max_per_src)) {
		gw_count_drop(w, m, GW_DROP_REASM_SRC_LIMIT);
		return NULL;
	}
	f = gw_frag6_copy(w, m, w->frag_pool);
	if (f == NULL) {
		gw_count_drop(w, m, GW_DROP_REASM_FAILED);
		return NULL;
	}
	f->hash.usr = b | port << 16;
	rte_pktmbuf_free(m);	/* the received mbuf goes back to RX at once */
	w->frag_held[port]++;
	w->frag_src[b]++;
	ip6 = rte_pktmbuf_mtod_offset(f, struct rte_ipv6_hdr *, RTE_ETHER_HDR_LEN);
	f->l2_len = RTE_ETHER_HDR_LEN;
	/* the fragment header counts: the table strips it */
	f->l3_len = IP6_HLEN + sizeof(struct rte_ipv6_fragment_ext);
	if (w->dr.cnt > RTE_IP_FRAG_DEATH_ROW_MBUF_LEN / 2)
		gw_frag_drain(w);
	r = rte_ipv6_frag_reassemble_packet(w->frag_tbl[port], &w->dr, f, now, ip6,
					    (struct rte_ipv6_fragment_ext *)(ip6 + 1));
	w->st.frag_held = w->frag_held[GW_PORT_INSIDE] + w->frag_held[GW_PORT_OUTSIDE];
	if (r == NULL)
		return NULL;
	for (s = r; s != NULL; s = s->next)
		gw_frag6_unhold(w, s);
	w->st.frag_held = w->frag_held[GW_PORT_INSIDE] + w->frag_held[GW_PORT_OUTSIDE];
	r->port = mport;
	c = gw_frag6_copy(w, r, NULL);	/* out of the reassembly pool, contiguous */
	if (c == NULL) {
		gw_count_drop(w, r, GW_DROP_REASM_FAILED);
		return NULL;
	}
	rte_pktmbuf_free(r);
	c->port = mport;
	c->ol_flags = 0;
	w->st.reassembled++;
	return c;
}

void
gw_frag6_send(struct gw_worker *w, unsigned int egress, const uint8_t nexthop[16],
	      struct rte_mbuf *m, uint16_t mtu, ct_time_t now)
{
	struct rte_mbuf *out[GW_FRAG_OUT_MAX];
	int32_t n, i;

	rte_pktmbuf_adj(m, RTE_ETHER_HDR_LEN);
	n = rte_ipv6_fragment_packet(m, out, GW_FRAG_OUT_MAX, mtu, w->g->pool,
				     w->g->indirect_pool);
	if (n < 0) {
		rte_pktmbuf_prepend(m, RTE_ETHER_HDR_LEN);
		gw_count_drop(w, m, GW_DROP_FRAG_FAILED);
		return;
	}
	w->st.fragmented++;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *fr = out[i], *l = fr;
		struct rte_ether_hdr *eth;

		fr->port = (uint16_t)egress;
		if (fr->nb_segs > 1 && !w->g->tx_multi_seg[egress]) {
			l = gw_frag6_copy(w, fr, NULL);
			rte_pktmbuf_free(fr);
			if (l == NULL) {
				w->st.reason[GW_DROP_FRAG_FAILED]++;
				continue;
			}
		}
		eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(l, RTE_ETHER_HDR_LEN);
		if (eth == NULL) {
			gw_count_drop(w, l, GW_DROP_FRAG_FAILED);
			continue;
		}
		eth->src_addr = w->g->mac[egress];
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
		l->port = (uint16_t)egress;
		gw_nd_resolve_send(w, egress, nexthop, l, now);
	}
	rte_pktmbuf_free(m);
}
