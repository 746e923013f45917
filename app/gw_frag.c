/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_frag.c - IPv4 fragments. Arriving fragments are reassembled (DPDK librte_ip_frag, one
 * table per worker, [fragments] max_flows datagrams at most, each given [fragments] timeout
 * to complete) before steering and conntrack, so out-of-order fragments work and every
 * datagram is tracked and translated whole (as netfilter's defrag does). What the table
 * gives up on (timeout, overflow, bad fragments) is dropped with REASM_FAILED. The
 * reassembled datagram is made contiguous (copied into a big mbuf if needed) and, when it
 * exceeds the egress MTU without DF, fragmented again (rte_ipv4_fragment_packet, RFC 791).
 */
#define ALLOW_EXPERIMENTAL_API 1 /* rte_ip_frag_table_del_expired_entries */
#include <string.h>

#include "gw_private.h"

#define GW_FRAG_OUT_MAX 64

int
gw_frag_init(struct gw_worker *w)
{
	const struct gw_config *c = &w->g->cfg;
	uint32_t flows = RTE_MAX(c->frag_max_flows, 16u);
	uint32_t buckets = rte_align32pow2(flows / 4);

	memset(&w->dr, 0, sizeof(w->dr));
	/* the table's "cycles" are our microseconds: we pass `now` as its timestamp */
	w->frag_tbl = rte_ip_frag_table_create(buckets, 4, flows,
					       (uint64_t)c->frag_timeout_ms * 1000, SOCKET_ID_ANY);
	return w->frag_tbl == NULL ? -1 : 0;
}

void
gw_frag_free(struct gw_worker *w)
{
	if (w->frag_tbl != NULL) {
		rte_ip_frag_table_destroy(w->frag_tbl);
		w->frag_tbl = NULL;
	}
	gw_frag_drain(w);
}

void
gw_frag_drain(struct gw_worker *w)
{
	uint32_t i;

	for (i = 0; i < w->dr.cnt; i++)
		gw_count_drop(w, w->dr.row[i], GW_DROP_REASM_FAILED);
	w->dr.cnt = 0;
}

/* A contiguous copy of a chained frame, from the pool whose data room fits it. */
static struct rte_mbuf *
gw_frag_linear(struct gw_worker *w, struct rte_mbuf *m)
{
	struct gw *g = w->g;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct rte_mempool *mp = g->pool;
	struct rte_mbuf *c;
	void *dst;

	if (rte_pktmbuf_is_contiguous(m))
		return m;
	if (len + RTE_PKTMBUF_HEADROOM > rte_pktmbuf_data_room_size(mp) && g->big_pool != NULL)
		mp = g->big_pool;
	c = rte_pktmbuf_alloc(mp);
	if (c == NULL)
		return NULL;
	dst = rte_pktmbuf_append(c, len);
	if (dst == NULL || rte_pktmbuf_read(m, 0, len, dst) == NULL) {
		rte_pktmbuf_free(c);
		return NULL;
	}
	c->port = m->port;
	rte_pktmbuf_free(m);
	return c;
}

struct rte_mbuf *
gw_frag_reassemble(struct gw_worker *w, struct rte_mbuf *m, ct_time_t now)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
							  RTE_ETHER_HDR_LEN);
	uint16_t port = m->port;
	struct rte_mbuf *r, *c;

	if (w->frag_tbl == NULL) {
		gw_count_drop(w, m, GW_DROP_REASM_FAILED);
		return NULL;
	}
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = rte_ipv4_hdr_len(ip);
	/* keep the death row from overflowing: it takes at most one table's worth per call */
	if (w->dr.cnt > RTE_IP_FRAG_DEATH_ROW_MBUF_LEN / 2)
		gw_frag_drain(w);
	r = rte_ipv4_frag_reassemble_packet(w->frag_tbl, &w->dr, m, now, ip);
	if (r == NULL)
		return NULL;
	r->port = port;
	c = gw_frag_linear(w, r);
	if (c == NULL) {
		gw_count_drop(w, r, GW_DROP_REASM_FAILED);
		return NULL;
	}
	ip = rte_pktmbuf_mtod_offset(c, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	c->ol_flags = 0;
	w->st.reassembled++;
	return c;
}

void
gw_frag_send(struct gw_worker *w, unsigned int port, uint32_t nexthop, struct rte_mbuf *m,
	     uint16_t mtu, ct_time_t now)
{
	struct rte_mbuf *out[GW_FRAG_OUT_MAX];
	int32_t n, i;

	rte_pktmbuf_adj(m, RTE_ETHER_HDR_LEN);
	n = rte_ipv4_fragment_packet(m, out, GW_FRAG_OUT_MAX, mtu, w->g->pool,
				     w->g->indirect_pool);
	if (n < 0) {
		rte_pktmbuf_prepend(m, RTE_ETHER_HDR_LEN);
		gw_count_drop(w, m, GW_DROP_FRAG_FAILED);
		return;
	}
	w->st.fragmented++;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *f = out[i];
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(f, struct rte_ipv4_hdr *);

		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		f->port = m->port;
		if (rte_pktmbuf_prepend(f, RTE_ETHER_HDR_LEN) == NULL) {
			gw_count_drop(w, f, GW_DROP_FRAG_FAILED);
			continue;
		}
		gw_l2_send(w, port, nexthop, f, now);
	}
	rte_pktmbuf_free(m);
}

unsigned int
gw_frag_timer(struct gw_worker *w, ct_time_t now)
{
	uint32_t before = w->dr.cnt;

	if (w->frag_tbl == NULL)
		return 0;
	rte_ip_frag_table_del_expired_entries(w->frag_tbl, &w->dr, now);
	before = w->dr.cnt - before;
	gw_frag_drain(w);
	return before;
}
