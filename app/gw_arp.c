/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_arp.c - ARP (RFC 826) for the gateway: answers requests for the inside address and
 * every outside/pool address, resolves next hops with a per-worker cache (entries time out,
 * [arp] timeout), holds a bounded few packets per unresolved next hop ([arp] hold), sends
 * requests rate-limited ([arp] retry) and gives up after GW_ARP_TRIES, dropping what it held
 * (counted ARP_UNRESOLVED). Each worker keeps its own cache (no locks); ARP frames a worker
 * receives are copied to the others so all caches learn.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_malloc.h>

#include "gw_private.h"

static inline uint32_t
gw_arp_slot(uint32_t ip)
{
	return (rte_be_to_cpu_32(ip) * 2654435761u) >> (32 - 10);	/* GW_ARP_SLOTS = 2^10 */
}

static struct gw_arp_entry *
gw_arp_find(struct gw_worker *w, uint32_t ip)
{
	struct gw_arp_entry *e = w->arp_last;
	uint32_t s;
	unsigned int i;

	/* outbound traffic all goes to the one uplink gateway: check the last hit first */
	if (likely(e != NULL) && e->ip == ip && e->state != GW_ARP_FREE)
		return e;
	s = gw_arp_slot(ip);
	for (i = 0; i < GW_ARP_PROBE; i++) {
		e = &w->arp[(s + i) & (GW_ARP_SLOTS - 1)];
		if (e->state != GW_ARP_FREE && e->ip == ip) {
			w->arp_last = e;
			return e;
		}
	}
	return NULL;
}

/* A free slot, or a resolved entry that expired and holds nothing. */
static struct gw_arp_entry *
gw_arp_alloc(struct gw_worker *w, uint32_t ip, ct_time_t now)
{
	uint32_t s = gw_arp_slot(ip);
	unsigned int i;

	for (i = 0; i < GW_ARP_PROBE; i++) {
		struct gw_arp_entry *e = &w->arp[(s + i) & (GW_ARP_SLOTS - 1)];

		if (e->state == GW_ARP_FREE ||
		    (e->state == GW_ARP_RESOLVED && e->expire <= now)) {
			memset(e, 0, sizeof(*e));
			e->ip = ip;
			return e;
		}
	}
	return NULL;
}

int
gw_arp_init(struct gw_worker *w)
{
	w->arp = calloc(GW_ARP_SLOTS, sizeof(*w->arp));
	return w->arp == NULL ? -1 : 0;
}

void
gw_arp_flush(struct gw_worker *w)
{
	unsigned int i, k;

	if (w->arp == NULL)
		return;
	for (i = 0; i < GW_ARP_SLOTS; i++) {
		struct gw_arp_entry *e = &w->arp[i];

		for (k = 0; k < e->n_hold; k++)
			gw_count_drop(w, e->hold[k], GW_DROP_ARP_UNRESOLVED);
		e->n_hold = 0;
	}
}

void
gw_arp_free(struct gw_worker *w)
{
	gw_arp_flush(w);
	free(w->arp);
	w->arp = NULL;
}

int
gw_arp_add_static(struct gw *g, unsigned int port, uint32_t ip,
		  const struct rte_ether_addr *mac)
{
	unsigned int i;

	for (i = 0; i < g->n_workers; i++) {
		struct gw_worker *w = g->w[i];
		struct gw_arp_entry *e = gw_arp_find(w, ip);

		if (e == NULL)
			e = gw_arp_alloc(w, ip, 0);
		if (e == NULL)
			return -1;
		e->state = GW_ARP_STATIC;
		e->port = port;
		e->mac = *mac;
	}
	return 0;
}

static void
gw_arp_request(struct gw_worker *w, unsigned int port, uint32_t ip)
{
	struct gw *g = w->g;
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->pool);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *a;

	if (m == NULL) {
		w->st.reason[GW_DROP_NO_MBUF]++;
		return;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*a));
	if (eth == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	eth->src_addr = g->mac[port];
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	a = (struct rte_arp_hdr *)(eth + 1);
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	a->arp_data.arp_sha = g->mac[port];
	a->arp_data.arp_sip = g->cfg.ifc[port].addr;
	memset(&a->arp_data.arp_tha, 0, sizeof(a->arp_data.arp_tha));
	a->arp_data.arp_tip = ip;
	m->port = port;
	w->st.arp_requests++;
	gw_tx_enqueue(w, port, m);
}

void
gw_arp_resolve_send(struct gw_worker *w, unsigned int port, uint32_t nexthop,
		    struct rte_mbuf *m, ct_time_t now)
{
	struct gw_arp_entry *e = gw_arp_find(w, nexthop);
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	if (likely(e != NULL) && (e->state == GW_ARP_STATIC ||
				  (e->state == GW_ARP_RESOLVED && e->expire > now))) {
		eth->dst_addr = e->mac;
		gw_tx_enqueue(w, port, m);
		return;
	}
	/* cold: unresolved or stale. A stale entry keeps being used while it is re-probed
	 * (like Linux's STALE/PROBE states), so traffic does not stall every [arp] timeout. */
	if (e != NULL && e->state == GW_ARP_RESOLVED) {
		ct_time_t retry = (ct_time_t)w->g->cfg.arp_retry_ms * 1000;

		if (now < e->expire + GW_ARP_TRIES * retry) {
			if (now - e->last_req >= retry || e->last_req < e->expire) {
				e->last_req = now;
				gw_arp_request(w, port, nexthop);
			}
			eth->dst_addr = e->mac;
			gw_tx_enqueue(w, port, m);
			return;
		}
	}
	if (e == NULL) {
		e = gw_arp_alloc(w, nexthop, now);
		if (e == NULL) {
			gw_count_drop(w, m, GW_DROP_ARP_UNRESOLVED);
			return;
		}
	}
	if (e->state != GW_ARP_PENDING) {
		e->state = GW_ARP_PENDING;
		e->port = port;
		e->tries = 1;
		e->last_req = now;
		gw_arp_request(w, port, nexthop);
	}
	if (e->n_hold >= RTE_MIN(w->g->cfg.arp_hold, GW_ARP_HOLD_MAX)) {
		gw_count_drop(w, m, GW_DROP_ARP_HOLD_FULL);
		return;
	}
	e->hold[e->n_hold++] = m;
}

static void
gw_arp_learn(struct gw_worker *w, unsigned int port, uint32_t ip,
	     const struct rte_ether_addr *mac, ct_time_t now, bool create)
{
	struct gw_arp_entry *e = gw_arp_find(w, ip);
	unsigned int k;

	if (e == NULL) {
		if (!create)
			return;
		e = gw_arp_alloc(w, ip, now);
		if (e == NULL)
			return;
	}
	if (e->state == GW_ARP_STATIC)
		return;
	e->state = GW_ARP_RESOLVED;
	e->port = port;
	e->mac = *mac;
	e->expire = now + (ct_time_t)w->g->cfg.arp_timeout_s * CT_USEC_PER_SEC;
	for (k = 0; k < e->n_hold; k++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(e->hold[k], struct rte_ether_hdr *);

		eth->dst_addr = *mac;
		gw_tx_enqueue(w, port, e->hold[k]);
	}
	e->n_hold = 0;
}

static bool
gw_arp_is_ours(const struct gw *g, unsigned int port, uint32_t ip)
{
	if (ip == g->cfg.ifc[port].addr)
		return true;
	return port == GW_PORT_OUTSIDE && nat_is_outside_addr(&g->cfg.nat, ip);
}

void
gw_arp_input(struct gw_worker *w, unsigned int port, struct rte_mbuf *m, ct_time_t now,
	     bool learn_only)
{
	struct gw *g = w->g;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
	uint32_t sip, tip;
	bool ours;

	if (m->data_len < sizeof(*eth) + sizeof(*a) ||
	    a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != 4) {
		if (learn_only)
			rte_pktmbuf_free(m);
		else
			gw_count_drop(w, m, GW_DROP_ARP_BAD);
		return;
	}
	sip = a->arp_data.arp_sip;
	tip = a->arp_data.arp_tip;
	ours = gw_arp_is_ours(g, port, tip);
	/* RFC 826 "merge": update a known sender; add it when the frame is for us */
	if (sip != 0 && gw_on_link(g, port, sip) && !gw_arp_is_ours(g, port, sip) &&
	    rte_is_unicast_ether_addr(&a->arp_data.arp_sha))
		gw_arp_learn(w, port, sip, &a->arp_data.arp_sha, now, ours);
	if (learn_only || !ours ||
	    a->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST)) {
		rte_pktmbuf_free(m);
		return;
	}
	/* turn the request into the reply, in place */
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	a->arp_data.arp_tha = a->arp_data.arp_sha;
	a->arp_data.arp_tip = sip;
	a->arp_data.arp_sha = g->mac[port];
	a->arp_data.arp_sip = tip;
	eth->dst_addr = eth->src_addr;
	eth->src_addr = g->mac[port];
	w->st.arp_replies++;
	gw_tx_enqueue(w, port, m);
}

unsigned int
gw_arp_timer(struct gw_worker *w, ct_time_t now)
{
	ct_time_t retry = (ct_time_t)w->g->cfg.arp_retry_ms * 1000;
	unsigned int i, k, work = 0;

	if (now < w->arp_scan + GW_ARP_SCAN_US && now >= w->arp_scan)
		return 0;
	w->arp_scan = now;
	for (i = 0; i < GW_ARP_SLOTS; i++) {
		struct gw_arp_entry *e = &w->arp[i];

		if (e->state != GW_ARP_PENDING || now - e->last_req < retry)
			continue;
		work++;
		if (e->tries >= GW_ARP_TRIES) {
			for (k = 0; k < e->n_hold; k++)
				gw_count_drop(w, e->hold[k], GW_DROP_ARP_UNRESOLVED);
			memset(e, 0, sizeof(*e));
			continue;
		}
		e->tries++;
		e->last_req = now;
		gw_arp_request(w, e->port, e->ip);
	}
	return work;
}
