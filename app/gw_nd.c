/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_nd.c - IPv6 neighbour discovery (RFC 4861) for the gateway: answers neighbour
 * solicitations for its addresses on each side (global address6 and the EUI-64 link-local
 * one, sent to the address or its solicited-node group), resolves next hops with
 * solicitations to the solicited-node group, holding a bounded few packets per unresolved
 * neighbour and giving up after GW_ARP_TRIES with [arp] retry between tries - the same
 * hold/retry behaviour, bounds and counters as ARP (gw_arp.c) - and, on the inside with
 * ra = yes, sends router advertisements (RFC 4861 6.2: the address6 prefix, on-link and
 * autonomous when it is a /64, the link MTU, our link-layer address) periodically and in
 * answer to router solicitations.
 *
 * Validation is RFC 4861 7.1 / 6.1: hop limit 255 (the message was not forwarded), ICMPv6
 * checksum, code 0, lengths, no multicast target, no option of length 0. What may enter the
 * cache follows gw_arp.c (Linux arp_accept = 0 / ndisc's behaviour): a solicitation for one
 * of our addresses creates an entry for its sender (we are about to answer it); an
 * advertisement only completes or updates an entry that exists (a PENDING one: our
 * question), never creates one, and without the override flag leaves a resolved MAC alone
 * (RFC 4861 7.2.5). Senders must be unicast link-locals or hosts of the side's prefix.
 *
 * The cache is per worker: 4-way sets indexed by a keyed hash (jhash, random seed) of the
 * port and address, so nobody outside can aim entries at one set; a full set gives up its
 * least recently used entry (dropping what it held, ARP_EVICTED). The timer looks at a
 * bounded number of entries per pass (retries, aging). With several workers an NA or an NS
 * for us is copied to the others (GW_PORT_LEARN_FLAG) so that the worker that asked, or any
 * that will need the neighbour, learns it.
 */
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_jhash.h>
#include <rte_random.h>

#include "gw_ip6.h"

#define IP6_HLEN		40
#define GW_ND_WAYS		4
#define GW_ND_TIMER_BUDGET	64	/* entries looked at per timer pass */
#define GW_ND_RA_INTERVAL_US	(200 * CT_USEC_PER_SEC)	/* RFC 4861 6.2.1: 200 s, in
							 * MinRtrAdvInterval..Max */
#define GW_ND_RA_MIN_GAP_US	(3 * CT_USEC_PER_SEC)	/* MIN_DELAY_BETWEEN_RAS */
#define GW_ND_ROUTER_LIFETIME	1800	/* seconds, RFC 4861 6.2.1 default (3 x 600) */

enum { GW_ND_FREE = 0, GW_ND_PENDING, GW_ND_RESOLVED };

struct gw_nd_entry {
	uint8_t ip[16];
	uint8_t state;
	uint8_t port;
	uint8_t tries;
	uint8_t n_hold;
	struct rte_ether_addr mac;
	ct_time_t expire;	/* RESOLVED: reachable until */
	ct_time_t last_req;
	ct_time_t used;
	struct rte_mbuf *hold[GW_ARP_HOLD_MAX];
};

struct gw_nd_cache {
	uint32_t seed;
	uint32_t set_mask;
	uint32_t n_entries;
	uint32_t n_held;
	uint32_t scan_pos;
	ct_time_t scan;
	ct_time_t ra_last;
	struct gw_nd_entry *e;
};

int
gw_nd_init(struct gw_worker *w)
{
	struct gw_nd_cache *c = calloc(1, sizeof(*c));
	uint32_t n = rte_align32pow2(RTE_MAX(w->g->cfg.arp_entries, 16u) * 2);

	if (c == NULL)
		return -1;
	w->ip6->nd = c;
	c->n_entries = n;
	c->set_mask = n / GW_ND_WAYS - 1;
	c->seed = (uint32_t)rte_rand();
	c->e = calloc(n, sizeof(*c->e));
	return c->e == NULL ? -1 : 0;
}

static void
gw_nd_drop_held(struct gw_worker *w, struct gw_nd_entry *e, enum gw_drop why)
{
	unsigned int k;

	for (k = 0; k < e->n_hold; k++)
		gw_count_drop(w, e->hold[k], why);
	w->ip6->nd->n_held -= e->n_hold;
	e->n_hold = 0;
}

void
gw_nd_flush(struct gw_worker *w)
{
	struct gw_nd_cache *c;
	uint32_t i;

	if (w->ip6 == NULL || w->ip6->nd == NULL || w->ip6->nd->e == NULL)
		return;
	c = w->ip6->nd;
	for (i = 0; i < c->n_entries; i++)
		gw_nd_drop_held(w, &c->e[i], GW_DROP_ND_UNRESOLVED);
}

void
gw_nd_free(struct gw_worker *w)
{
	struct gw_nd_cache *c = w->ip6 != NULL ? w->ip6->nd : NULL;

	if (c == NULL)
		return;
	gw_nd_flush(w);
	free(c->e);
	free(c);
	w->ip6->nd = NULL;
}

static inline struct gw_nd_entry *
gw_nd_set(struct gw_nd_cache *c, unsigned int port, const uint8_t ip[16])
{
	return &c->e[(gw_ip6_hash(ip, c->seed ^ port) & c->set_mask) * GW_ND_WAYS];
}

static struct gw_nd_entry *
gw_nd_find(struct gw_nd_cache *c, unsigned int port, const uint8_t ip[16])
{
	struct gw_nd_entry *s = gw_nd_set(c, port, ip);
	unsigned int i;

	for (i = 0; i < GW_ND_WAYS; i++)
		if (s[i].state != GW_ND_FREE && s[i].port == port && memcmp(s[i].ip, ip, 16) == 0)
			return &s[i];
	return NULL;
}

static void
gw_nd_release(struct gw_worker *w, struct gw_nd_entry *e, enum gw_drop why)
{
	gw_nd_drop_held(w, e, why);
	memset(e, 0, sizeof(*e));
}

/* A FREE entry for (port, ip): a free way of its set, else the least recently used one. */
static struct gw_nd_entry *
gw_nd_alloc(struct gw_worker *w, unsigned int port, const uint8_t ip[16], ct_time_t now)
{
	struct gw_nd_entry *s = gw_nd_set(w->ip6->nd, port, ip), *v = &s[0];
	unsigned int i;

	for (i = 0; i < GW_ND_WAYS; i++) {
		if (s[i].state == GW_ND_FREE) {
			v = &s[i];
			goto take;
		}
		if (s[i].used < v->used)
			v = &s[i];
	}
	w->st.arp_evicted++;
	gw_nd_release(w, v, GW_DROP_ARP_EVICTED);
take:
	memcpy(v->ip, ip, 16);
	v->port = (uint8_t)port;
	v->used = now;
	return v;
}

/* ---------------------------------------------------------------------------------------
 * Sending
 */

static const uint8_t gw_all_nodes[16] = { 0xff, 0x02, [15] = 1 };

/* A new frame for an ND message of len bytes of ICMPv6; the IPv6 header is filled, the
 * message is left to the caller. NULL: no mbuf (counted). */
static uint8_t *
gw_nd_frame(struct gw_worker *w, unsigned int port, const uint8_t src[16],
	    const uint8_t dst[16], const struct rte_ether_addr *dmac, unsigned int len,
	    struct rte_mbuf **mp)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->g->pool);
	struct rte_ether_hdr *eth;
	uint8_t *ip6;

	if (m == NULL) {
		w->st.reason[GW_DROP_NO_MBUF]++;
		return NULL;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(RTE_ETHER_HDR_LEN +
							 IP6_HLEN + len));
	if (eth == NULL) {
		rte_pktmbuf_free(m);
		w->st.reason[GW_DROP_NO_MBUF]++;
		return NULL;
	}
	eth->dst_addr = *dmac;
	eth->src_addr = w->g->mac[port];
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	ip6 = (uint8_t *)(eth + 1);
	/* RFC 4861: hop limit 255 on every ND message */
	gw_ip6_fill_hdr(ip6, (uint16_t)len, IPPROTO_ICMPV6, 255, src, dst);
	memset(ip6 + IP6_HLEN, 0, len);
	m->port = (uint16_t)port;
	*mp = m;
	return ip6;
}

static void
gw_nd_opt_lla(uint8_t *o, uint8_t type, const struct rte_ether_addr *mac)
{
	o[0] = type;	/* 1 source, 2 target link-layer address */
	o[1] = 1;	/* 8 bytes */
	memcpy(o + 2, mac->addr_bytes, 6);
}

/* Neighbour solicitation for target out of port, to its solicited-node group (RFC 4861
 * 7.2.2), from our address of the target's scope. */
static void
gw_nd_solicit(struct gw_worker *w, unsigned int port, const uint8_t target[16])
{
	const uint8_t *src = target[0] == 0xfe && (target[1] & 0xc0) == 0x80 ?
			     w->g->ip6->ll[port] : w->g->cfg.ifc[port].addr6;
	uint8_t snm[16] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };
	struct rte_ether_addr dmac = {{ 0x33, 0x33, 0xff, target[13], target[14], target[15] }};
	struct rte_mbuf *m;
	uint8_t *ip6, *icmp;

	memcpy(snm + 13, target + 13, 3);
	ip6 = gw_nd_frame(w, port, src, snm, &dmac, 32, &m);
	if (ip6 == NULL)
		return;
	icmp = ip6 + IP6_HLEN;
	icmp[0] = 135;
	memcpy(icmp + 8, target, 16);
	gw_nd_opt_lla(icmp + 24, 1, &w->g->mac[port]);
	gw_icmp6_csum(ip6, icmp, 32);
	w->st.arp_requests++;
	gw_tx_enqueue(w, port, m);
}

/* Neighbour advertisement for our address target, to dst (RFC 4861 7.2.4). */
static void
gw_nd_advertise(struct gw_worker *w, unsigned int port, const uint8_t target[16],
		const uint8_t dst[16], const struct rte_ether_addr *dmac, bool solicited)
{
	struct rte_mbuf *m;
	uint8_t *ip6, *icmp;

	ip6 = gw_nd_frame(w, port, target, dst, dmac, 32, &m);
	if (ip6 == NULL)
		return;
	icmp = ip6 + IP6_HLEN;
	icmp[0] = 136;
	/* router, solicited (not to a DAD probe), override */
	icmp[4] = (uint8_t)(0x80 | (solicited ? 0x40 : 0) | 0x20);
	memcpy(icmp + 8, target, 16);
	gw_nd_opt_lla(icmp + 24, 2, &w->g->mac[port]);
	gw_icmp6_csum(ip6, icmp, 32);
	w->st.arp_replies++;
	gw_tx_enqueue(w, port, m);
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
gw_nd_send_ra(struct gw_worker *w, ct_time_t now)
{
	const struct gw_if_config *in = &w->g->cfg.ifc[GW_PORT_INSIDE];
	struct rte_ether_addr dmac = {{ 0x33, 0x33, 0, 0, 0, 1 }};
	unsigned int i, plen = in->prefix6;
	struct rte_mbuf *m;
	uint8_t *ip6, *icmp, *o;

	/* RFC 4861 6.1.2: from our link-local address, to all nodes */
	ip6 = gw_nd_frame(w, GW_PORT_INSIDE, w->g->ip6->ll[GW_PORT_INSIDE], gw_all_nodes, &dmac,
			  64, &m);
	if (ip6 == NULL)
		return;
	w->ip6->nd->ra_last = now;
	icmp = ip6 + IP6_HLEN;
	icmp[0] = 134;
	icmp[4] = 64;				/* cur hop limit */
	icmp[6] = GW_ND_ROUTER_LIFETIME >> 8;	/* router lifetime */
	icmp[7] = GW_ND_ROUTER_LIFETIME & 0xff;
	o = icmp + 16;
	gw_nd_opt_lla(o, 1, &w->g->mac[GW_PORT_INSIDE]);
	o += 8;
	o[0] = 5;				/* MTU (RFC 4861 4.6.4) */
	o[1] = 1;
	put32(o + 4, in->mtu);
	o += 8;
	o[0] = 3;				/* prefix information (4.6.2) */
	o[1] = 4;
	o[2] = (uint8_t)plen;
	o[3] = (uint8_t)(0x80 | (plen == 64 ? 0x40 : 0));	/* on-link, SLAAC if /64 */
	put32(o + 4, 86400);			/* valid lifetime (AdvValidLifetime) */
	put32(o + 8, 14400);			/* preferred lifetime (AdvPreferredLifetime) */
	for (i = 0; i < 16; i++)		/* the prefix, host bits clear */
		o[16 + i] = i * 8 >= plen ? 0 : i * 8 + 8 <= plen ? in->addr6[i] :
			    (uint8_t)(in->addr6[i] & (0xff << (8 - plen % 8)));
	gw_icmp6_csum(ip6, icmp, 64);
	gw_tx_enqueue(w, GW_PORT_INSIDE, m);
}

/* ---------------------------------------------------------------------------------------
 * Resolving
 */

static void
gw_nd_start_pending(struct gw_worker *w, struct gw_nd_entry *e, ct_time_t now)
{
	e->state = GW_ND_PENDING;
	e->tries = 1;
	e->last_req = now;
	gw_nd_solicit(w, e->port, e->ip);
}

void
gw_nd_resolve_send(struct gw_worker *w, unsigned int port, const uint8_t nexthop[16],
		   struct rte_mbuf *m, ct_time_t now)
{
	struct gw_nd_cache *c = w->ip6 != NULL ? w->ip6->nd : NULL;
	const struct gw_config *cfg = &w->g->cfg;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ct_time_t retry = (ct_time_t)cfg->arp_retry_ms * 1000;
	struct gw_nd_entry *e;

	if (unlikely(c == NULL)) {	/* IPv6 off (no address6): no neighbour cache */
		gw_count_drop(w, m, GW_DROP_ND_UNRESOLVED);
		return;
	}
	e = gw_nd_find(c, port, nexthop);

	if (likely(e != NULL) && e->state == GW_ND_RESOLVED &&
	    now < e->expire + GW_ARP_TRIES * retry) {
		/* past expire: still used while re-probed (Linux's STALE/PROBE), as ARP */
		if (now >= e->expire && now - e->last_req >= retry) {
			e->last_req = now;
			gw_nd_solicit(w, port, nexthop);
		}
		e->used = now;
		eth->dst_addr = e->mac;
		gw_tx_enqueue(w, port, m);
		return;
	}
	if (e == NULL)
		e = gw_nd_alloc(w, port, nexthop, now);
	if (e->state != GW_ND_PENDING)
		gw_nd_start_pending(w, e, now);
	e->used = now;
	if (e->n_hold >= RTE_MIN(cfg->arp_hold, GW_ARP_HOLD_MAX)) {
		gw_count_drop(w, m, GW_DROP_ARP_HOLD_FULL);
		return;
	}
	if (c->n_held >= cfg->arp_hold_total) {
		gw_count_drop(w, m, GW_DROP_ARP_HOLD_TOTAL);
		return;
	}
	e->hold[e->n_hold++] = m;
	c->n_held++;
}

unsigned int
gw_nd_timer(struct gw_worker *w, ct_time_t now)
{
	struct gw_nd_cache *c = w->ip6->nd;
	const struct gw_config *cfg = &w->g->cfg;
	ct_time_t retry = (ct_time_t)cfg->arp_retry_ms * 1000;
	ct_time_t idle = (ct_time_t)cfg->arp_timeout_s * CT_USEC_PER_SEC;
	unsigned int i, work = 0;

	if (w->idx == 0 && cfg->ifc[GW_PORT_INSIDE].ra && now >= w->ip6->ra_next) {
		gw_nd_send_ra(w, now);
		w->ip6->ra_next = now + GW_ND_RA_INTERVAL_US;
		work++;
	}
	if (now < c->scan + GW_ARP_SCAN_US && now >= c->scan)
		return work;
	c->scan = now;
	for (i = 0; i < GW_ND_TIMER_BUDGET && i < c->n_entries; i++) {
		struct gw_nd_entry *e = &c->e[c->scan_pos];

		c->scan_pos = (c->scan_pos + 1) & (c->n_entries - 1);
		if (e->state == GW_ND_PENDING && now - e->last_req >= retry) {
			work++;
			if (e->tries >= GW_ARP_TRIES) {
				gw_nd_release(w, e, GW_DROP_ND_UNRESOLVED);
				continue;
			}
			e->tries++;
			e->last_req = now;
			gw_nd_solicit(w, e->port, e->ip);
		} else if (e->state == GW_ND_RESOLVED && now - e->used >= idle && e->used <= now) {
			work++;
			w->st.arp_aged++;
			gw_nd_release(w, e, GW_DROP_ND_UNRESOLVED);
		}
	}
	return work;
}

/* ---------------------------------------------------------------------------------------
 * Receiving
 */

/* The link-layer address option of type `type` in options o..o+len, or NULL; false when an
 * option is malformed (RFC 4861 7.1.1: length 0). */
static bool
gw_nd_opts(const uint8_t *o, unsigned int len, uint8_t type, const uint8_t **lla)
{
	*lla = NULL;
	while (len >= 2) {
		unsigned int ol = o[1] * 8u;

		if (ol == 0 || ol > len)
			return false;
		if (o[0] == type && ol >= 8)
			*lla = o + 2;
		o += ol;
		len -= ol;
	}
	return len == 0;
}

/* A neighbour that may be in the cache: a unicast link-local or a host of the side's prefix,
 * with a unicast MAC not ours. */
static bool
gw_nd_sender_ok(const struct gw *g, unsigned int port, const uint8_t ip[16],
		const struct rte_ether_addr *mac)
{
	const struct gw_if_config *i = &g->cfg.ifc[port];
	bool ll = ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80;

	if (!ll && !gw_ip6_prefix_eq(ip, i->addr6, i->prefix6))
		return false;
	if (gw_ip6_is_ours(g, port, ip))
		return false;
	return rte_is_unicast_ether_addr(mac) && !rte_is_zero_ether_addr(mac) &&
	       !rte_is_same_ether_addr(mac, &g->mac[port]);
}

static void
gw_nd_learn(struct gw_worker *w, unsigned int port, const uint8_t ip[16],
	    const struct rte_ether_addr *mac, ct_time_t now, bool create, bool override)
{
	struct gw_nd_cache *c = w->ip6->nd;
	struct gw_nd_entry *e = gw_nd_find(c, port, ip);
	unsigned int k;
	bool was_pending;

	if (e == NULL) {
		if (!create) {
			w->st.arp_ignored++;
			return;
		}
		e = gw_nd_alloc(w, port, ip, now);
		w->st.arp_learned++;
	} else if (e->state == GW_ND_RESOLVED && !override &&
		   !rte_is_same_ether_addr(&e->mac, mac)) {
		return;		/* RFC 4861 7.2.5: no override, the cached address stands */
	}
	was_pending = e->state == GW_ND_PENDING;
	e->mac = *mac;
	e->state = GW_ND_RESOLVED;
	e->expire = now + (ct_time_t)w->g->cfg.arp_timeout_s * CT_USEC_PER_SEC;
	e->used = now;
	if (!was_pending)
		return;
	w->st.arp_learned++;
	for (k = 0; k < e->n_hold; k++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(e->hold[k], struct rte_ether_hdr *);

		eth->dst_addr = *mac;
		gw_tx_enqueue(w, port, e->hold[k]);
	}
	c->n_held -= e->n_hold;
	e->n_hold = 0;
}

static void
gw_nd_share(struct gw_worker *w, unsigned int port, const struct rte_mbuf *m)
{
	unsigned int j;

	for (j = 0; j < w->g->n_workers; j++) {
		struct rte_mbuf *c;

		if (j == w->idx || w->ho[j].n == GW_TX_BUF)
			continue;
		c = rte_pktmbuf_copy(m, w->g->pool, 0, UINT32_MAX);
		if (c == NULL)
			continue;
		c->port = (uint16_t)(port | GW_PORT_LEARN_FLAG);
		w->ho[j].m[w->ho[j].n++] = c;
	}
}

void
gw_nd_input(struct gw_worker *w, unsigned int port, struct rte_mbuf *m, const struct ct_pkt *p,
	    ct_time_t now, bool learn_only)
{
	const struct gw *g = w->g;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *ip6 = f + p->l3_off, *icmp = f + p->l4_off;
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)f;
	const uint8_t *src = ip6 + 8, *dst = ip6 + 24, *target = icmp + 8, *lla;
	unsigned int len = p->l4_len;
	struct rte_ether_addr mac;
	uint8_t type = icmp[0];
	bool dad = gw_ip6_is_zero(src);

	/* RFC 4861 7.1.1, 7.1.2, 6.1.1 */
	if (ip6[7] != 255 || icmp[1] != 0 || len < (type == 133 ? 8u : 24u) ||
	    !ct_l4_csum_valid(p, f) ||
	    !gw_nd_opts(icmp + (type == 133 ? 8 : 24), len - (type == 133 ? 8 : 24),
			type == 136 ? 2 : 1, &lla) ||
	    (type != 133 && target[0] == 0xff) || (dad && lla != NULL) ||
	    (type == 136 && dst[0] == 0xff && (icmp[4] & 0x40))) {
		if (learn_only)
			rte_pktmbuf_free(m);
		else
			gw_count_drop(w, m, GW_DROP_ND_BAD);
		return;
	}
	if (lla != NULL)
		memcpy(mac.addr_bytes, lla, 6);
	else
		mac = eth->src_addr;
	switch (type) {
	case 133:	/* router solicitation: answered on the inside when we advertise */
		if (!learn_only && port == GW_PORT_INSIDE && g->cfg.ifc[port].ra &&
		    now - w->ip6->nd->ra_last >= GW_ND_RA_MIN_GAP_US)
			gw_nd_send_ra(w, now);
		break;
	case 135:	/* neighbour solicitation */
		if (!gw_ip6_is_ours(g, port, target))
			break;
		if (!dad && lla != NULL && gw_nd_sender_ok(g, port, src, &mac)) {
			if (g->n_workers > 1 && !learn_only)
				gw_nd_share(w, port, m);
			gw_nd_learn(w, port, src, &mac, now, true, true);
		}
		if (learn_only)
			break;
		if (dad) {
			/* someone probes our address (RFC 4862 5.4.3): defend it, to all nodes */
			struct rte_ether_addr an = {{ 0x33, 0x33, 0, 0, 0, 1 }};

			gw_nd_advertise(w, port, target, gw_all_nodes, &an, false);
		} else {
			gw_nd_advertise(w, port, target, src, &mac, true);
		}
		break;
	case 136:	/* neighbour advertisement: completes or updates, never creates */
		if (lla == NULL || !gw_nd_sender_ok(g, port, target, &mac))
			break;
		if (g->n_workers > 1 && !learn_only)
			gw_nd_share(w, port, m);
		gw_nd_learn(w, port, target, &mac, now, false, (icmp[4] & 0x20) != 0);
		break;
	default:	/* 134: other routers' advertisements are not for us */
		break;
	}
	rte_pktmbuf_free(m);
}
