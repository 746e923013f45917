/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_frag.c - IPv4 fragments. Arriving fragments are reassembled (DPDK librte_ip_frag, one
 * table per worker and ingress port, [fragments] max_flows datagrams at most, each given
 * [fragments] timeout to complete) before steering and conntrack, so out-of-order fragments
 * work and every datagram is tracked and translated whole (as netfilter's defrag does).
 *
 * Memory (shared/DESIGN.md "every pool that outside traffic can fill has a bound"): a held
 * fragment is a copy in the reassembly pool, never the received mbuf, so a flood of
 * fragments that never complete cannot take the mbufs RX refill needs. A worker holds at
 * most [fragments] max_mbufs fragments per ingress port (a flood from the uplink cannot
 * stop the inside's reassembly) and max_per_source for one source address (counted per
 * bucket of a keyed hash of the source, seeded per start); past either bound a fragment is
 * dropped at once, counted (REASM_LIMIT, REASM_SRC_LIMIT), before it costs a copy. Linux
 * does the same with ipfrag_high_thresh (new fragments are dropped while the queues hold
 * that much memory); the per-source bound is ours: one host must not take every slot.
 * What the table gives up on (timeout, overflow, bad fragments) is dropped with
 * REASM_FAILED. The reassembled datagram is copied out contiguous (pool or big pool).
 *
 * net_af_packet's socket is in a fanout group with the kernel's defragment flag: such a
 * port hands over datagrams the kernel reassembled, bigger than the MTU; gw_frag_rx_whole
 * accepts them when they are one valid datagram. Leaving, a datagram over the egress MTU
 * without DF is fragmented again (rte_ipv4_fragment_packet, RFC 791); the pieces are made
 * single-segment for ports that cannot send chained mbufs (net_af_xdp, vector TX paths).
 */
#define ALLOW_EXPERIMENTAL_API 1 /* rte_ip_frag_table_del_expired_entries */
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_random.h>

#include "gw_private.h"

static unsigned int
gw_frag_room(const struct gw_config *c)
{
	unsigned int mtu = RTE_MAX(c->ifc[GW_PORT_INSIDE].mtu, c->ifc[GW_PORT_OUTSIDE].mtu);

	return RTE_MAX(mtu + RTE_ETHER_HDR_LEN, 2048u) + RTE_PKTMBUF_HEADROOM;
}

int
gw_frag_init(struct gw_worker *w)
{
	const struct gw_config *c = &w->g->cfg;
	uint32_t flows = RTE_MAX(c->frag_max_flows, 16u);
	uint32_t buckets = rte_align32pow2(flows / 4);
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned int p;

	memset(&w->dr, 0, sizeof(w->dr));
	w->frag_seed = (uint32_t)rte_rand() | 1;
	w->frag_src = rte_zmalloc_socket("gwfrag", GW_FRAG_SRC_BUCKETS * sizeof(uint16_t), 0,
					 SOCKET_ID_ANY);
	if (w->frag_src == NULL)
		return -1;
	w->frag_pool = w->g->frag_pool;
	if (w->frag_pool == NULL) {
		snprintf(name, sizeof(name), "gwfr%u_%p", w->idx, (void *)w);
		w->frag_pool = rte_pktmbuf_pool_create(name, GW_PORT_MAX * c->frag_max_mbufs,
						       0, 0, gw_frag_room(c), SOCKET_ID_ANY);
		if (w->frag_pool == NULL)
			return -1;
		w->frag_pool_own = true;
	}
	/* the table's "cycles" are our microseconds: we pass `now` as its timestamp */
	for (p = 0; p < GW_PORT_MAX; p++) {
		w->frag_tbl[p] = rte_ip_frag_table_create(buckets, 4, flows,
							  (uint64_t)c->frag_timeout_ms * 1000,
							  SOCKET_ID_ANY);
		if (w->frag_tbl[p] == NULL)
			return -1;
	}
	return 0;
}

void
gw_frag_free(struct gw_worker *w)
{
	unsigned int p;

	gw_frag_drain(w);
	for (p = 0; p < GW_PORT_MAX; p++) {
		if (w->frag_tbl[p] != NULL) {
			rte_ip_frag_table_destroy(w->frag_tbl[p]);	/* frees what it holds */
			w->frag_tbl[p] = NULL;
		}
	}
	if (w->frag_pool_own)
		rte_mempool_free(w->frag_pool);
	w->frag_pool = NULL;
	w->frag_pool_own = false;
	rte_free(w->frag_src);
	w->frag_src = NULL;
	w->frag_held[GW_PORT_INSIDE] = w->frag_held[GW_PORT_OUTSIDE] = 0;
	w->st.frag_held = 0;
}

static inline uint32_t
gw_frag_bucket(const struct gw_worker *w, uint32_t src)
{
	return ((src ^ (w->frag_seed >> 7)) * w->frag_seed) >> 20 & (GW_FRAG_SRC_BUCKETS - 1);
}

/* A held fragment (one segment of ours: bucket and ingress port in hash.usr) leaves. */
static inline void
gw_frag_unhold(struct gw_worker *w, const struct rte_mbuf *s)
{
	uint32_t b = s->hash.usr & (GW_FRAG_SRC_BUCKETS - 1);
	unsigned int port = (s->hash.usr >> 16) & 1;

	if (w->frag_src[b] != 0)
		w->frag_src[b]--;
	if (w->frag_held[port] != 0)
		w->frag_held[port]--;
}

static inline void
gw_frag_gauge(struct gw_worker *w)
{
	w->st.frag_held = w->frag_held[GW_PORT_INSIDE] + w->frag_held[GW_PORT_OUTSIDE];
}

void
gw_frag_drain(struct gw_worker *w)
{
	uint32_t i;
	struct rte_mbuf *m, *s;

	for (i = 0; i < w->dr.cnt; i++) {
		m = w->dr.row[i];
		for (s = m; s != NULL; s = s->next)
			gw_frag_unhold(w, s);
		gw_count_drop(w, m, GW_DROP_REASM_FAILED);
	}
	w->dr.cnt = 0;
	gw_frag_gauge(w);
}

/* Copy len bytes of m (chained or not) to dst. rte_pktmbuf_read only copies what is not
 * contiguous: it returns a pointer into m otherwise. */
static inline int
gw_frag_bytes(const struct rte_mbuf *m, uint32_t len, void *dst)
{
	const void *p = rte_pktmbuf_read(m, 0, len, dst);

	if (p == NULL)
		return -1;
	if (p != dst)
		memcpy(dst, p, len);
	return 0;
}

/* A contiguous copy of m from the pool whose data room fits it; m is freed. */
static struct rte_mbuf *
gw_frag_copy(struct gw_worker *w, struct rte_mbuf *m)
{
	struct gw *g = w->g;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct rte_mempool *mp = g->pool;
	struct rte_mbuf *c;
	void *dst;

	if (len + RTE_PKTMBUF_HEADROOM > rte_pktmbuf_data_room_size(mp) && g->big_pool != NULL)
		mp = g->big_pool;
	c = rte_pktmbuf_alloc(mp);
	if (c == NULL)
		return NULL;
	dst = rte_pktmbuf_append(c, len);
	if (dst == NULL || gw_frag_bytes(m, len, dst) < 0) {
		rte_pktmbuf_free(c);
		return NULL;
	}
	c->port = m->port;
	rte_pktmbuf_free(m);
	return c;
}

struct rte_mbuf *
gw_frag_contig(struct gw_worker *w, struct rte_mbuf *m)
{
	struct rte_mbuf *c;

	if (rte_pktmbuf_is_contiguous(m) || rte_pktmbuf_linearize(m) == 0)
		return m;
	c = gw_frag_copy(w, m);
	if (c == NULL)
		gw_count_drop(w, m, GW_DROP_L2_TOO_BIG);
	return c;
}

bool
gw_frag_rx_whole(struct gw_worker *w, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip;
	uint32_t hl;

	if (m->data_len < RTE_ETHER_HDR_LEN + sizeof(*ip) ||
	    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return false;
	ip = (const struct rte_ipv4_hdr *)(eth + 1);
	hl = rte_ipv4_hdr_len(ip);
	if ((ip->version_ihl >> 4) != 4 || hl < sizeof(*ip) ||
	    m->data_len < RTE_ETHER_HDR_LEN + hl ||
	    rte_be_to_cpu_16(ip->total_length) != m->data_len - RTE_ETHER_HDR_LEN ||
	    (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG |
						    RTE_IPV4_HDR_OFFSET_MASK)) != 0 ||
	    rte_raw_cksum(ip, hl) != 0xffff)
		return false;
	w->st.reassembled++;
	return true;
}

struct rte_mbuf *
gw_frag_reassemble(struct gw_worker *w, struct rte_mbuf *m, ct_time_t now)
{
	const struct gw_config *cfg = &w->g->cfg;
	uint16_t mport = m->port;
	unsigned int port = mport & 1;
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
							  RTE_ETHER_HDR_LEN);
	uint32_t b, len = rte_pktmbuf_pkt_len(m);
	struct rte_mbuf *f, *r, *s, *c;
	void *dst;

	if (w->frag_tbl[port] == NULL) {
		gw_count_drop(w, m, GW_DROP_REASM_FAILED);
		return NULL;
	}
	/* the bounds first: a flood costs a compare per fragment, no copy, no table slot */
	if (unlikely(w->frag_held[port] >= cfg->frag_max_mbufs)) {
		gw_count_drop(w, m, GW_DROP_REASM_LIMIT);
		return NULL;
	}
	b = gw_frag_bucket(w, ip->src_addr);
	if (unlikely(w->frag_src[b] >= cfg->frag_max_per_src)) {
		gw_count_drop(w, m, GW_DROP_REASM_SRC_LIMIT);
		return NULL;
	}
	f = rte_pktmbuf_alloc(w->frag_pool);
	if (f == NULL || (dst = rte_pktmbuf_append(f, len)) == NULL ||
	    gw_frag_bytes(m, len, dst) < 0) {
		rte_pktmbuf_free(f);
		gw_count_drop(w, m, GW_DROP_REASM_FAILED);
		return NULL;
	}
	f->port = m->port;
	f->hash.usr = b | port << 16;
	rte_pktmbuf_free(m);	/* the received mbuf goes back to RX at once */
	w->frag_held[port]++;
	w->frag_src[b]++;
	ip = rte_pktmbuf_mtod_offset(f, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	f->l2_len = RTE_ETHER_HDR_LEN;
	f->l3_len = rte_ipv4_hdr_len(ip);
	/* keep the death row from overflowing: it takes at most one table's worth per call */
	if (w->dr.cnt > RTE_IP_FRAG_DEATH_ROW_MBUF_LEN / 2)
		gw_frag_drain(w);
	r = rte_ipv4_frag_reassemble_packet(w->frag_tbl[port], &w->dr, f, now, ip);
	if (r == NULL) {
		gw_frag_gauge(w);
		return NULL;
	}
	for (s = r; s != NULL; s = s->next)
		gw_frag_unhold(w, s);
	gw_frag_gauge(w);
	r->port = mport;
	c = gw_frag_copy(w, r);	/* out of the reassembly pool, contiguous */
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

/* One fragment made single-segment for a port that cannot send chains. */
static struct rte_mbuf *
gw_frag_flat(struct gw_worker *w, struct rte_mbuf *f)
{
	if (f->nb_segs == 1 || w->g->tx_multi_seg[f->port & 1] || rte_pktmbuf_linearize(f) == 0)
		return f;
	return gw_frag_copy(w, f);
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
		struct rte_mbuf *f = out[i], *l;
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(f, struct rte_ipv4_hdr *);

		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		/* the egress port: what gw_frag_flat asks about (the ingress bits of m->port
		 * only count drops, and a fragment that fails here is counted on the egress) */
		f->port = (uint16_t)port;
		l = gw_frag_flat(w, f);
		if (l == NULL) {
			gw_count_drop(w, f, GW_DROP_FRAG_FAILED);
			continue;
		}
		if (rte_pktmbuf_prepend(l, RTE_ETHER_HDR_LEN) == NULL) {
			gw_count_drop(w, l, GW_DROP_FRAG_FAILED);
			continue;
		}
		l->port = m->port;
		gw_l2_send(w, port, nexthop, l, now);
	}
	rte_pktmbuf_free(m);
}

unsigned int
gw_frag_timer(struct gw_worker *w, ct_time_t now)
{
	uint32_t before = w->dr.cnt;
	unsigned int p;

	for (p = 0; p < GW_PORT_MAX; p++)
		if (w->frag_tbl[p] != NULL)
			rte_ip_frag_table_del_expired_entries(w->frag_tbl[p], &w->dr, now);
	before = w->dr.cnt - before;
	gw_frag_drain(w);
	return before;
}
