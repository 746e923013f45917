/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_nat64.c - stateful NAT64 (RFC 6146) over the NAT44 path: the shadow table (one IPv4
 * address per inside IPv6 host, allocated per worker, reclaimed when no connection uses it),
 * the stage-1 hook that translates IPv6 packets to the [nat64] prefix into IPv4 (RFC 7915,
 * lib/nat64), the egress hook that translates what goes to a shadow back into IPv6, and the
 * /natgw/nat64 listing. gw_nat64.h says why the design reuses NAT44 whole.
 *
 * RFC 6146 behaviours and where they come from: the mapping (3.5: endpoint-independent,
 * port preservation, pool) is NAT44's on the shadow; filtering (3.5.2, 3.5.3, 3.5.1.2:
 * unsolicited inbound dropped unless the filtering behaviour admits it) is NAT44's too;
 * ICMP query identifiers (3.5.3) and ICMP errors (3.5.4, RELATED) come from conntrack on the
 * translated packets; hairpinning (3.8) is NAT44's. Only TCP, UDP and ICMP are translated
 * (3.5: "other protocols" are out of scope); so every connection of a shadow has a port,
 * and nat_host_owner(shadow) names the one worker that holds the host's state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_random.h>
#include <rte_tcp.h>
#include <rte_telemetry.h>

#include "gw_nat64.h"
#include "gw_ip6.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)
#define GW_NAT64_SCAN	16	/* shadows looked at per housekeeping call */
#define GW_NAT64_EVICT	8	/* ... and when the free list is empty */

/* ---------------------------------------------------------------------------------------
 * Memory (at start only)
 */

static void *
gw_nat64_zalloc(const struct gw *g, size_t sz)
{
	void *p;

	if (g->use_heap) {
		if (posix_memalign(&p, RTE_CACHE_LINE_SIZE, sz) != 0)
			return NULL;
		memset(p, 0, sz);
		return p;
	}
	return rte_zmalloc("natgw-nat64", sz, RTE_CACHE_LINE_SIZE);
}

static void
gw_nat64_mfree(const struct gw *g, void *p)
{
	if (g->use_heap)
		free(p);
	else
		rte_free(p);
}

/* ---------------------------------------------------------------------------------------
 * The shadow table
 */

static inline uint32_t
gw_nat64_hash6(const uint8_t a[16], uint32_t seed)
{
	uint64_t x, y, h;

	memcpy(&x, a, 8);
	memcpy(&y, a + 8, 8);
	h = (x ^ seed) * UINT64_C(0x9e3779b97f4a7c15);
	h = (h ^ (h >> 29) ^ y) * UINT64_C(0xbf58476d1ce4e5b9);
	h ^= h >> 32;
	return (uint32_t)h;
}

static inline uint32_t
gw_nat64_addr(const struct gw *g, uint32_t i)
{
	return rte_cpu_to_be_32(rte_be_to_cpu_32(g->shadow_net) + i + 1);
}

/* The entry of shadow address a (network order), or UINT32_MAX. */
static inline uint32_t
gw_nat64_index(const struct gw *g, uint32_t a)
{
	uint32_t i = rte_be_to_cpu_32(a) - rte_be_to_cpu_32(g->shadow_net) - 1;

	return gw_is_shadow(g, a) && i < g->nat64->n ? i : UINT32_MAX;
}

static uint32_t
gw_nat64_find(const struct gw *g, const struct gw_nat64_worker *nw, const uint8_t a[16])
{
	uint32_t s = gw_nat64_hash6(a, nw->seed) & nw->mask, v;

	while ((v = nw->tab[s]) != 0) {
		if (memcmp(g->nat64->sh[v - 1].addr6, a, 16) == 0)
			return v - 1;
		s = (s + 1) & nw->mask;
	}
	return UINT32_MAX;
}

/* Take entry i out of the index: linear probing's backward shift deletion. */
static void
gw_nat64_unindex(const struct gw *g, struct gw_nat64_worker *nw, uint32_t i)
{
	uint32_t s = gw_nat64_hash6(g->nat64->sh[i].addr6, nw->seed) & nw->mask, j, k;

	while (nw->tab[s] != i + 1)
		s = (s + 1) & nw->mask;
	for (j = s;;) {
		j = (j + 1) & nw->mask;
		if (nw->tab[j] == 0)
			break;
		k = gw_nat64_hash6(g->nat64->sh[nw->tab[j] - 1].addr6, nw->seed) & nw->mask;
		/* move it back when its home is not cyclically in (s, j] */
		if (((j - k) & nw->mask) >= ((j - s) & nw->mask)) {
			nw->tab[s] = nw->tab[j];
			s = j;
		}
	}
	nw->tab[s] = 0;
}

static inline void
gw_nat64_write_begin(struct gw_nat64_shadow *e)
{
	__atomic_store_n(&e->seq, e->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void
gw_nat64_write_end(struct gw_nat64_shadow *e)
{
	__atomic_store_n(&e->seq, e->seq + 1, __ATOMIC_RELEASE);
}

static void
gw_nat64_release(struct gw_worker *w, uint32_t i)
{
	struct gw_nat64_worker *nw = w->nat64;
	struct gw_nat64_shadow *e = &w->g->nat64->sh[i];

	gw_nat64_unindex(w->g, nw, i);
	gw_nat64_write_begin(e);
	e->used = 0;
	gw_nat64_write_end(e);
	nw->free[nw->n_free++] = i;
	nw->st.reclaimed++;
	nw->st.active--;
}

/* Entry i may go back: idle past the timeout and no connection of its address left (the
 * NAT44 per-host count: conntrack's connections of the shadow, both directions). */
static bool
gw_nat64_reclaimable(struct gw_worker *w, uint32_t i, ct_time_t now)
{
	const struct gw_nat64_shadow *e = &w->g->nat64->sh[i];

	return e->used && now - e->last >= w->g->nat64->timeout &&
	       nat_host_conns(w->nat, gw_nat64_addr(w->g, i)) == 0;
}

static unsigned int
gw_nat64_scan(struct gw_worker *w, ct_time_t now, unsigned int budget)
{
	struct gw_nat64_worker *nw = w->nat64;
	unsigned int done = 0;

	if (nw->n_own == 0 || nw->n_free == nw->n_own)
		return 0;
	while (budget-- > 0) {
		uint32_t i = nw->own[nw->cursor];

		nw->cursor = nw->cursor + 1 == nw->n_own ? 0 : nw->cursor + 1;
		if (gw_nat64_reclaimable(w, i, now)) {
			gw_nat64_release(w, i);
			done++;
		}
	}
	return done;
}

unsigned int
gw_nat64_timer(struct gw_worker *w, ct_time_t now)
{
	return w->nat64 != NULL ? gw_nat64_scan(w, now, GW_NAT64_SCAN) : 0;
}

/* A new shadow for host a (MAC mac), or UINT32_MAX when none is free. */
static uint32_t
gw_nat64_alloc(struct gw_worker *w, const uint8_t a[16], ct_time_t now)
{
	struct gw_nat64_worker *nw = w->nat64;
	struct gw_nat64_shadow *e;
	uint32_t i, s;

	if (nw->n_free == 0 && gw_nat64_scan(w, now, GW_NAT64_EVICT) == 0)
		return UINT32_MAX;
	if (nw->n_free == 0)
		return UINT32_MAX;
	i = nw->free[--nw->n_free];
	e = &w->g->nat64->sh[i];
	gw_nat64_write_begin(e);
	memcpy(e->addr6, a, 16);
	e->used = 1;
	e->created = now;
	e->pkts[0] = e->pkts[1] = 0;
	gw_nat64_write_end(e);
	for (s = gw_nat64_hash6(a, nw->seed) & nw->mask; nw->tab[s] != 0;
	     s = (s + 1) & nw->mask)
		;
	nw->tab[s] = i + 1;
	nw->st.created++;
	nw->st.active++;
	return i;
}

/* ---------------------------------------------------------------------------------------
 * Inside -> IPv4
 */

static inline uint32_t
gw_nat64_owner_addr(const struct gw *g, const uint8_t a[16])
{
	if (g->n_workers == 1)
		return 0;
	return gw_nat64_hash6(a, g->nat64->owner_seed) % g->n_workers;
}

uint32_t
gw_nat64_owner(const struct gw *g, const struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);

	if (g->nat64 == NULL || m->data_len < RTE_ETHER_HDR_LEN + 40 ||
	    ((const struct rte_ether_hdr *)f)->ether_type !=
	    rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6) ||
	    !nat64_prefix_match(&g->nat64->pfx, f + RTE_ETHER_HDR_LEN + 24))
		return UINT32_MAX;
	return gw_nat64_owner_addr(g, f + RTE_ETHER_HDR_LEN + 8);
}

/* Never a source of a translated packet (RFC 4291 2.5, 2.7): unspecified, loopback,
 * multicast, link-local (its scope ends at the link: RFC 4007), or an address of the prefix
 * itself (it would come out as an IPv4 source nobody owns). */
static bool
gw_nat64_bad_src(const struct gw_nat64 *n, const uint8_t a[16])
{
	static const uint8_t zero[16], one[16] = { [15] = 1 };

	return a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
	       memcmp(a, zero, 16) == 0 || memcmp(a, one, 16) == 0 ||
	       nat64_prefix_match(&n->pfx, a);
}

/* May this packet create a shadow? What may create a connection: a TCP SYN without ACK, UDP,
 * an ICMPv6 echo request (conntrack decides the rest). The upper layer right after the
 * header; anything else waits for a shadow made by one of those (cheap checks first). */
static bool
gw_nat64_may_create(const uint8_t *ip6, uint32_t len)
{
	const uint8_t *l4 = ip6 + 40;
	uint8_t nh = ip6[6];

	/* a first fragment: what follows its fragment header */
	if (nh == IPPROTO_FRAGMENT && len >= 48 && (rte_be_to_cpu_16(*(const uint16_t *)
							     (ip6 + 42)) & 0xfff8) == 0) {
		nh = ip6[40];
		l4 += 8;
		len -= 8;
	}
	switch (nh) {
	case IPPROTO_TCP:
		return len >= 40 + 20 && (l4[13] & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG |
						    RTE_TCP_RST_FLAG)) == RTE_TCP_SYN_FLAG;
	case IPPROTO_UDP:
		return true;
	case IPPROTO_ICMPV6:
		return len >= 40 + 8 && l4[0] == 128;
	default:
		return false;
	}
}

/* Write frame bytes (Ethernet header + L3 of l3len) into m, replacing what it holds: in its
 * own buffer when it is direct and one segment, else in a new mbuf. Returns the mbuf to
 * send (m or its replacement), NULL when dropped (m consumed then too). */
static struct rte_mbuf *
gw_nat64_rewrite(struct gw_worker *w, struct rte_mbuf *m, const struct rte_ether_hdr *eth,
		 const uint8_t *l3, uint32_t l3len)
{
	uint32_t need = RTE_ETHER_HDR_LEN + l3len;
	struct rte_mbuf *n = m;

	if (m->nb_segs != 1 || !RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) != 1 ||
	    m->buf_len < need) {
		n = rte_pktmbuf_alloc(w->g->pool);
		if (n == NULL || (uint32_t)(n->buf_len - rte_pktmbuf_headroom(n)) < need) {
			if (n != NULL)
				rte_pktmbuf_free(n);
			gw_count_drop(w, m, GW_DROP_NO_MBUF);
			return NULL;
		}
		n->port = m->port;
	}
	if (n == m) {
		/* room in front for the longer IPv6 header, the rest behind */
		m->data_off = (uint16_t)RTE_MIN((uint32_t)RTE_PKTMBUF_HEADROOM,
						(uint32_t)m->buf_len - need);
	}
	memmove(rte_pktmbuf_mtod(n, uint8_t *), eth, RTE_ETHER_HDR_LEN);
	memcpy(rte_pktmbuf_mtod(n, uint8_t *) + RTE_ETHER_HDR_LEN, l3, l3len);
	n->data_len = (uint16_t)need;
	n->pkt_len = need;
	n->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
	if (n != m)
		rte_pktmbuf_free(m);
	return n;
}

int
gw_nat64_input(struct gw_worker *w, struct rte_mbuf *m, ct_time_t now, bool handed)
{
	struct gw *g = w->g;
	struct gw_nat64 *n = g->nat64;
	struct gw_nat64_worker *nw = w->nat64;
	struct rte_ether_hdr eth;
	const uint8_t *ip6 = rte_pktmbuf_mtod_offset(m, const uint8_t *, RTE_ETHER_HDR_LEN);
	uint32_t len = m->data_len - RTE_ETHER_HDR_LEN, dst4, i, o;
	struct xlat_info info;
	enum xlat_reason why = XLAT_R_NONE;
	struct gw_nat64_shadow *e;
	struct xlat_map map;
	int r;

	if (m->data_len < RTE_ETHER_HDR_LEN + 40 || (ip6[0] >> 4) != 6 ||
	    !nat64_prefix_match(&n->pfx, ip6 + 24))
		return GW_NAT64_PASS;
	o = gw_nat64_owner_addr(g, ip6 + 8);
	if (o != w->idx && !handed)
		return (int)o;
	if (gw_nat64_bad_src(n, ip6 + 8)) {
		gw_count_drop(w, m, GW_DROP_MARTIAN_SRC);
		return -1;
	}
	/* strict uRPF as for IPv4 (RFC 3704 2.2), where the inside has an IPv6 prefix */
	if (gw_ip6_on(g) && !gw_ip6_is_inside(g, ip6 + 8)) {
		gw_count_drop(w, m, GW_DROP_SRC_NOT_INSIDE);
		return -1;
	}
	nat64_extract(&n->pfx, ip6 + 24, &dst4);
	if (n->wkp && !nat64_v4_global(dst4)) {
		gw_count_drop(w, m, GW_DROP_NAT64_NON_GLOBAL);
		return -1;
	}
	i = gw_nat64_find(g, nw, ip6 + 8);
	if (i == UINT32_MAX) {
		/* a header that holds together before it may take a shadow */
		if (40u + rte_be_to_cpu_16(*(const uint16_t *)(ip6 + 4)) > len ||
		    !gw_nat64_may_create(ip6, len)) {
			gw_count_drop(w, m, GW_DROP_NAT64_NO_SHADOW);
			return -1;
		}
		i = gw_nat64_alloc(w, ip6 + 8, now);
		if (i == UINT32_MAX) {
			gw_count_drop(w, m, GW_DROP_NAT64_SHADOW_FULL);
			return -1;
		}
	}
	e = &n->sh[i];
	memset(&map, 0, sizeof(map));
	map.pfx = n->pfx;
	memcpy(map.host6, ip6 + 8, 16);
	map.host4 = gw_nat64_addr(g, i);
	map.mtu4 = g->cfg.ifc[GW_PORT_OUTSIDE].mtu;
	map.mtu6 = g->cfg.ifc[GW_PORT_INSIDE].mtu;
	map.ip_id = nw->ip_id++;
	r = xlat_6to4(&map, ip6, len, nw->out, GW_NAT64_SCRATCH, &info, &why);
	if (r >= 0 && info.proto != IPPROTO_TCP && info.proto != IPPROTO_UDP &&
	    info.proto != IPPROTO_ICMP) {
		r = -1;		/* RFC 6146 covers these three (and their ICMP errors) */
		why = XLAT_R_PROTO;
	}
	if (r < 0) {
		nw->st.xlat[why]++;
		gw_count_drop(w, m, GW_DROP_NAT64_XLAT);
		return -1;
	}
	memcpy(&eth, rte_pktmbuf_mtod(m, const void *), sizeof(eth));
	eth.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	/* shorter than it was: in place (the IPv4 packet is at most as long as the IPv6 one) */
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), &eth, sizeof(eth));
	memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, RTE_ETHER_HDR_LEN), nw->out, (size_t)r);
	m->data_len = (uint16_t)(RTE_ETHER_HDR_LEN + r);
	m->pkt_len = m->data_len;
	m->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
	m->port |= GW_PORT_NAT64_FLAG;
	if (!rte_is_same_ether_addr(&e->mac, &eth.src_addr)) {
		gw_nat64_write_begin(e);
		rte_ether_addr_copy(&eth.src_addr, &e->mac);
		gw_nat64_write_end(e);
	}
	e->last = now;
	e->pkts[0]++;
	nw->st.to4++;
	return GW_NAT64_IPV4;
}

/* ---------------------------------------------------------------------------------------
 * IPv4 -> inside
 */

void
gw_nat64_output(struct gw_worker *w, struct rte_mbuf *m, ct_time_t now)
{
	struct gw *g = w->g;
	struct gw_nat64_worker *nw = w->nat64;
	struct rte_ether_hdr eth;
	struct xlat_info info;
	enum xlat_reason why = XLAT_R_NONE;
	struct gw_nat64_shadow *e;
	struct xlat_map map;
	const uint8_t *ip4;
	uint32_t len, dst4, i;
	int r;

	if (nw == NULL || m->pkt_len < RTE_ETHER_HDR_LEN + 20) {
		gw_count_drop(w, m, GW_DROP_NAT64_NO_SHADOW);
		return;
	}
	len = m->pkt_len - RTE_ETHER_HDR_LEN;
	ip4 = len <= GW_NAT64_SCRATCH ?		/* flat (a fragment may be a chain) */
	      rte_pktmbuf_read(m, RTE_ETHER_HDR_LEN, len, nw->in) : NULL;
	if (ip4 == NULL) {
		gw_count_drop(w, m, GW_DROP_NAT64_XLAT);
		return;
	}
	memcpy(&dst4, ip4 + 16, 4);
	i = gw_nat64_index(g, dst4);
	e = i != UINT32_MAX ? &g->nat64->sh[i] : NULL;
	if (e == NULL || !e->used || e->worker != w->idx) {
		gw_count_drop(w, m, GW_DROP_NAT64_NO_SHADOW);
		return;
	}
	memset(&map, 0, sizeof(map));
	map.pfx = g->nat64->pfx;
	memcpy(map.host6, e->addr6, 16);
	map.host4 = dst4;
	map.mtu4 = g->cfg.ifc[GW_PORT_OUTSIDE].mtu;
	map.mtu6 = g->cfg.ifc[GW_PORT_INSIDE].mtu;
	r = xlat_4to6(&map, ip4, len, nw->out, GW_NAT64_SCRATCH, &info, &why);
	if (r < 0) {
		nw->st.xlat[why]++;
		gw_count_drop(w, m, GW_DROP_NAT64_XLAT);
		return;
	}
	if ((uint32_t)r > g->cfg.ifc[GW_PORT_INSIDE].mtu) {
		gw_count_drop(w, m, GW_DROP_FRAG_NEEDED);	/* gw_nat64_mtu() prevents it */
		return;
	}
	rte_ether_addr_copy(&e->mac, &eth.dst_addr);
	rte_ether_addr_copy(&g->mac[GW_PORT_INSIDE], &eth.src_addr);
	eth.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	m = gw_nat64_rewrite(w, m, &eth, nw->out, (uint32_t)r);
	if (m == NULL)
		return;
	e->last = now;
	e->pkts[1]++;
	nw->st.to6++;
	gw_tx_enqueue(w, GW_PORT_INSIDE, m);
}

/* ---------------------------------------------------------------------------------------
 * Start and stop
 */

static int
gw_nat64_worker_init(struct gw *g, struct gw_worker *w, const uint32_t *count)
{
	struct gw_nat64_worker *nw = gw_nat64_zalloc(g, sizeof(*nw));
	uint32_t slots = 2;

	if (nw == NULL)
		return -1;
	w->nat64 = nw;
	while (slots < 2 * count[w->idx])
		slots <<= 1;
	nw->own = gw_nat64_zalloc(g, sizeof(uint32_t) * (count[w->idx] + 1));
	nw->free = gw_nat64_zalloc(g, sizeof(uint32_t) * (count[w->idx] + 1));
	nw->tab = gw_nat64_zalloc(g, sizeof(uint32_t) * slots);
	nw->out = gw_nat64_zalloc(g, GW_NAT64_SCRATCH);
	nw->in = gw_nat64_zalloc(g, GW_NAT64_SCRATCH);
	if (nw->own == NULL || nw->free == NULL || nw->tab == NULL || nw->out == NULL ||
	    nw->in == NULL)
		return -1;
	nw->mask = slots - 1;
	nw->seed = (uint32_t)rte_rand();
	nw->ip_id = (uint16_t)rte_rand();
	return 0;
}

int
gw_nat64_init(struct gw *g, char *err, size_t errlen)
{
	const struct gw_config *c = &g->cfg;
	uint32_t count[GW_MAX_WORKERS] = { 0 }, i, size;
	struct gw_nat64 *n;
	unsigned int k;

	if (c->nat64_prefix_len == 0)
		return 0;
	n = gw_nat64_zalloc(g, sizeof(*n));
	if (n == NULL)
		goto nomem;
	g->nat64 = n;
	if (nat64_prefix_set(&n->pfx, c->nat64_prefix, c->nat64_prefix_len) < 0) {
		ERR("nat64: prefix: not an RFC 6052 prefix");
		return -1;
	}
	n->wkp = nat64_prefix_is_wkp(&n->pfx) && c->nat64_wkp_strict;
	size = c->nat64_shadow_len >= 32 ? 1 : UINT32_C(1) << (32 - c->nat64_shadow_len);
	n->n = RTE_MIN(c->nat64_max_hosts, size > 2 ? size - 2 : 0);	/* not .0, not last */
	if (n->n == 0) {
		ERR("nat64: shadow range too small");
		return -1;
	}
	n->timeout = (ct_time_t)c->nat64_timeout_s * CT_USEC_PER_SEC;
	n->owner_seed = (uint32_t)rte_rand();
	n->sh = gw_nat64_zalloc(g, sizeof(*n->sh) * n->n);
	if (n->sh == NULL)
		goto nomem;
	g->shadow_net = c->nat64_shadow & gw_prefix_mask(c->nat64_shadow_len);
	g->shadow_mask = gw_prefix_mask(c->nat64_shadow_len);
	/* each address goes to the worker NAT44 steers it to */
	for (i = 0; i < n->n; i++) {
		n->sh[i].worker = (uint8_t)(nat_host_owner(&c->nat, gw_nat64_addr(g, i)) %
					   g->n_workers);
		count[n->sh[i].worker]++;
	}
	for (k = 0; k < g->n_workers; k++)
		if (gw_nat64_worker_init(g, g->w[k], count) < 0)
			goto nomem;
	for (i = n->n; i-- > 0;) {
		struct gw_nat64_worker *nw = g->w[n->sh[i].worker]->nat64;

		nw->own[nw->n_own++] = i;
		nw->free[nw->n_free++] = i;
	}
	return 0;
nomem:
	ERR("nat64: out of memory");
	return -1;
}

void
gw_nat64_free(struct gw *g)
{
	unsigned int k;

	if (g->nat64 == NULL)
		return;
	for (k = 0; k < g->n_workers; k++) {
		struct gw_nat64_worker *nw = g->w[k] != NULL ? g->w[k]->nat64 : NULL;

		if (nw == NULL)
			continue;
		gw_nat64_mfree(g, nw->own);
		gw_nat64_mfree(g, nw->free);
		gw_nat64_mfree(g, nw->tab);
		gw_nat64_mfree(g, nw->out);
		gw_nat64_mfree(g, nw->in);
		gw_nat64_mfree(g, nw);
		g->w[k]->nat64 = NULL;
	}
	if (g->nat64->sh != NULL)
		gw_nat64_mfree(g, g->nat64->sh);
	gw_nat64_mfree(g, g->nat64);
	g->nat64 = NULL;
	g->shadow_mask = 0;
}

/* ---------------------------------------------------------------------------------------
 * Control plane
 */

void
gw_nat64_stats_get(const struct gw *g, struct gw_nat64_stats *out)
{
	unsigned int k, r;

	memset(out, 0, sizeof(*out));
	if (g->nat64 == NULL)
		return;
	for (k = 0; k < g->n_workers; k++) {
		const struct gw_nat64_stats *s = &g->w[k]->nat64->st;

		out->to4 += __atomic_load_n(&s->to4, __ATOMIC_RELAXED);
		out->to6 += __atomic_load_n(&s->to6, __ATOMIC_RELAXED);
		out->created += __atomic_load_n(&s->created, __ATOMIC_RELAXED);
		out->reclaimed += __atomic_load_n(&s->reclaimed, __ATOMIC_RELAXED);
		out->active += __atomic_load_n(&s->active, __ATOMIC_RELAXED);
		for (r = 0; r < XLAT_R_MAX; r++)
			out->xlat[r] += __atomic_load_n(&s->xlat[r], __ATOMIC_RELAXED);
	}
}

/* A consistent copy of entry i; false when it is free. */
static bool
gw_nat64_read(const struct gw *g, uint32_t i, struct gw_nat64_host *h, ct_time_t now)
{
	const struct gw_nat64_shadow *e = &g->nat64->sh[i];
	uint32_t s0, tries;
	bool used = false;

	for (tries = 0; tries < 16; tries++) {
		s0 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		if (s0 & 1)
			continue;
		used = e->used;
		memcpy(h->addr6, e->addr6, 16);
		h->mac = e->mac;
		h->worker = e->worker;
		h->idle = now > e->last ? now - e->last : 0;
		h->pkts[0] = e->pkts[0];
		h->pkts[1] = e->pkts[1];
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) == s0)
			break;
	}
	h->addr4 = gw_nat64_addr(g, i);
	return used && tries < 16;
}

unsigned int
gw_nat64_list(const struct gw *g, uint32_t *cursor, struct gw_nat64_host *out, unsigned int n,
	      ct_time_t now)
{
	unsigned int k = 0;

	if (g->nat64 == NULL)
		return 0;
	while (*cursor < g->nat64->n && k < n) {
		if (gw_nat64_read(g, (*cursor)++, &out[k], now))
			k++;
	}
	return k;
}

bool
gw_nat64_host_of(const struct gw *g, uint32_t a, uint8_t addr6[16])
{
	struct gw_nat64_host h;
	uint32_t i;

	if (g->nat64 == NULL || (i = gw_nat64_index(g, a)) == UINT32_MAX ||
	    !gw_nat64_read(g, i, &h, 0))
		return false;
	memcpy(addr6, h.addr6, 16);
	return true;
}

static struct gw *gw_nat64_tel;
static ct_time_t (*gw_nat64_tel_clock)(void);

/* /natgw/nat64: counters, then each shadow with its IPv6 host */
static int
gw_nat64_tel_cb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct gw *g = gw_nat64_tel;
	struct gw_nat64_stats st;
	struct gw_nat64_host h[16];
	struct rte_tel_data *hosts;
	ct_time_t now = gw_nat64_tel_clock != NULL ? gw_nat64_tel_clock() : 0;
	uint32_t cursor = 0;
	unsigned int k, n, shown = 0;
	char a6[INET6_ADDRSTRLEN], a4[INET_ADDRSTRLEN], line[256];

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_dict(d);
	if (g == NULL || g->nat64 == NULL) {
		rte_tel_data_add_dict_string(d, "nat64", "off");
		return 0;
	}
	gw_nat64_stats_get(g, &st);
	inet_ntop(AF_INET6, g->nat64->pfx.a, a6, sizeof(a6));
	snprintf(line, sizeof(line), "%s/%u", a6, g->nat64->pfx.len);
	rte_tel_data_add_dict_string(d, "prefix", line);
	rte_tel_data_add_dict_u64(d, "to_ipv4", st.to4);
	rte_tel_data_add_dict_u64(d, "to_ipv6", st.to6);
	rte_tel_data_add_dict_u64(d, "shadows_active", st.active);
	rte_tel_data_add_dict_u64(d, "shadows_created", st.created);
	rte_tel_data_add_dict_u64(d, "shadows_reclaimed", st.reclaimed);
	rte_tel_data_add_dict_u64(d, "shadows_max", g->nat64->n);
	for (k = 1; k < XLAT_R_MAX; k++)
		if (st.xlat[k] != 0)
			rte_tel_data_add_dict_u64(d, xlat_reason_id(k), st.xlat[k]);
	hosts = rte_tel_data_alloc();
	if (hosts == NULL)
		return 0;
	rte_tel_data_start_array(hosts, RTE_TEL_STRING_VAL);
	/* "IPV6 SHADOW MAC worker W idle S to4 N to6 N", at most 128 of them */
	while (shown < 128 && (n = gw_nat64_list(g, &cursor, h, RTE_DIM(h), now)) != 0) {
		for (k = 0; k < n && shown < 128; k++, shown++) {
			char mac[RTE_ETHER_ADDR_FMT_SIZE];

			inet_ntop(AF_INET6, h[k].addr6, a6, sizeof(a6));
			inet_ntop(AF_INET, &h[k].addr4, a4, sizeof(a4));
			rte_ether_format_addr(mac, sizeof(mac), &h[k].mac);
			snprintf(line, sizeof(line), "%s %s %s worker %u idle %lus to4 %lu to6 %lu",
				 a6, a4, mac, h[k].worker,
				 (unsigned long)(h[k].idle / CT_USEC_PER_SEC),
				 (unsigned long)h[k].pkts[0], (unsigned long)h[k].pkts[1]);
			rte_tel_data_add_array_string(hosts, line);
		}
	}
	rte_tel_data_add_dict_container(d, "hosts", hosts, 0);
	return 0;
}

int
gw_nat64_telemetry_register(struct gw *g, ct_time_t (*clock)(void))
{
	gw_nat64_tel = g;
	gw_nat64_tel_clock = clock;
	return rte_telemetry_register_cmd("/natgw/nat64", gw_nat64_tel_cb,
					  "NAT64: counters and shadow addresses (IPv6 host, shadow "
					  "IPv4, MAC, worker, idle, packets)");
}

/* ---------------------------------------------------------------------------------------
 * Configuration: [nat64] (docs/config.md)
 */

void
gw_nat64_config_default(struct gw_config *c)
{
	c->nat64_prefix_len = 0;			/* off */
	c->nat64_shadow = rte_cpu_to_be_32(0x64400000);	/* 100.64.0.0/10 (RFC 6598) */
	c->nat64_shadow_len = 10;
	c->nat64_max_hosts = 4096;
	c->nat64_timeout_s = 60;
	c->nat64_wkp_strict = true;
}

static int
gw_nat64_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || (*end != '\0' && strcmp(end, "s") != 0) || v < lo || v > hi)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int
gw_nat64_config_set(struct gw_config *c, const char *key, const char *val, char *why,
		    size_t whylen)
{
	char buf[80], *slash;
	uint32_t len = 0;

	snprintf(buf, sizeof(buf), "%s", val);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (strcmp(key, "prefix") == 0) {
		struct nat64_prefix p;
		uint8_t a[16];

		if (slash == NULL || gw_nat64_parse_u32(slash, 0, 128, &len) < 0 ||
		    inet_pton(AF_INET6, buf, a) != 1 || nat64_prefix_set(&p, a, len) < 0) {
			snprintf(why, whylen, "prefix: want an RFC 6052 prefix ADDR/LEN, LEN one "
				 "of 32 40 48 56 64 96, bits 64-71 and past LEN zero "
				 "(64:ff9b::/96), got '%s'", val);
			return -1;
		}
		memcpy(c->nat64_prefix, a, 16);
		c->nat64_prefix_len = (uint8_t)len;
	} else if (strcmp(key, "shadow") == 0) {
		struct in_addr a;

		if (slash == NULL || gw_nat64_parse_u32(slash, 8, 30, &len) < 0 ||
		    inet_pton(AF_INET, buf, &a) != 1) {
			snprintf(why, whylen, "shadow: want an IPv4 prefix ADDR/LEN, LEN 8..30 "
				 "(default 100.64.0.0/10), got '%s'", val);
			return -1;
		}
		c->nat64_shadow = a.s_addr & gw_prefix_mask(len);
		c->nat64_shadow_len = (uint8_t)len;
	} else if (strcmp(key, "max_hosts") == 0) {
		if (gw_nat64_parse_u32(val, 1, GW_NAT64_MAX_HOSTS, &c->nat64_max_hosts) < 0) {
			snprintf(why, whylen, "max_hosts: want 1..%u, got '%s'", GW_NAT64_MAX_HOSTS,
				 val);
			return -1;
		}
	} else if (strcmp(key, "wkp_strict") == 0) {
		/* as tayga's wkpf-strict: a lab or a private IPv4 network behind 64:ff9b::/96 */
		if (strcmp(val, "yes") == 0 || strcmp(val, "no") == 0) {
			c->nat64_wkp_strict = val[0] == 'y';
		} else {
			snprintf(why, whylen, "wkp_strict: want yes or no, got '%s'", val);
			return -1;
		}
	} else if (strcmp(key, "timeout") == 0) {
		if (gw_nat64_parse_u32(val, 1, 86400, &c->nat64_timeout_s) < 0) {
			snprintf(why, whylen, "timeout: want 1..86400 seconds, got '%s'", val);
			return -1;
		}
	} else {
		snprintf(why, whylen, "unknown key '%s' in [nat64]", key);
		return -1;
	}
	return 0;
}

int
gw_nat64_config_check(const struct gw_config *c, const char **key, char *why, size_t whylen)
{
	uint32_t m = gw_prefix_mask(c->nat64_shadow_len), im;
	unsigned int p, i;

	if (c->nat64_prefix_len == 0)
		return 0;
	*key = "shadow";
	/* the shadow range is internal: none of it may be an address anyone else has */
	for (p = 0; p < GW_PORT_MAX; p++) {
		im = gw_prefix_mask(c->ifc[p].prefix);
		if (((c->ifc[p].addr ^ c->nat64_shadow) & m & im) == 0) {
			snprintf(why, whylen, "shadow range overlaps the %s network",
				 gw_port_name(p));
			return -1;
		}
	}
	for (i = 0; i < c->n_routes; i++) {
		if (((c->routes[i].addr ^ c->nat64_shadow) & m & c->routes[i].mask) == 0) {
			snprintf(why, whylen, "shadow range overlaps [inside] routes entry %u", i);
			return -1;
		}
	}
	for (i = 0; i < c->nat.n_addrs; i++) {
		if (((c->nat.addrs[i] ^ c->nat64_shadow) & m) == 0) {
			snprintf(why, whylen, "shadow range holds a [nat] pool address");
			return -1;
		}
	}
	return 0;
}
