/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_private.h - the internals of the natgw_gw library shared by its files: struct gw,
 * struct gw_worker, the ARP cache, the reassembly state and the functions one file of the
 * pipeline calls in another. Not for natgw-replay or the benchmark (they use gw.h).
 */
#ifndef NATGW_GW_PRIVATE_H
#define NATGW_GW_PRIVATE_H

#include <string.h>

#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_ring.h>

#include "gw.h"

#define GW_ARP_SLOTS		1024	/* per worker; power of two */
#define GW_ARP_PROBE		8	/* linear probe length */
#define GW_ARP_HOLD_MAX		8
#define GW_ARP_TRIES		3
#define GW_ARP_SCAN_US		10000	/* housekeeping pass over the cache */
#define GW_TX_BUF		(GW_BURST_MAX * 4)
#define GW_EXPIRE_BUDGET	64
/* m->port of an ARP frame copied to the other workers only so they learn the sender */
#define GW_PORT_LEARN_FLAG	0x80
#define GW_PORT_FRAG_FLAG	0x40	/* fragment handed to the worker that reassembles it */

enum gw_arp_state {
	GW_ARP_FREE = 0,
	GW_ARP_PENDING,
	GW_ARP_RESOLVED,
	GW_ARP_STATIC,
};

struct gw_arp_entry {
	uint32_t ip;			/* network order */
	uint8_t state;			/* enum gw_arp_state */
	uint8_t port;			/* GW_PORT_* it lives on */
	uint8_t tries;
	uint8_t n_hold;
	struct rte_ether_addr mac;
	ct_time_t expire;		/* RESOLVED: valid until */
	ct_time_t last_req;		/* PENDING: last request sent */
	struct rte_mbuf *hold[GW_ARP_HOLD_MAX];
};

struct gw_txbuf {
	uint16_t n;
	struct rte_mbuf *m[GW_TX_BUF];
};

struct gw_worker {
	struct gw *g;
	unsigned int idx;
	struct ct_table *ct;
	struct nat_ctx *nat;
	struct helper_ctx *hc;
	struct gw_io io;
	struct gw_txbuf tx[GW_PORT_MAX];
	struct gw_txbuf ho[GW_MAX_WORKERS];	/* handoff, flushed per burst */
	struct gw_arp_entry *arp;		/* GW_ARP_SLOTS */
	struct gw_arp_entry *arp_last;		/* last entry found: most packets share a next hop */
	ct_time_t arp_scan;
	ct_time_t icmp_last;			/* ICMP error token bucket */
	uint64_t icmp_tokens;
	struct rte_ip_frag_tbl *frag_tbl;
	struct rte_ip_frag_death_row dr;
	struct gw_worker_stats st;
} __rte_cache_aligned;

struct gw {
	struct gw_config cfg;
	unsigned int n_workers;
	struct rte_ether_addr mac[GW_PORT_MAX];
	uint32_t if_mask[GW_PORT_MAX];		/* network order */
	struct rte_mempool *pool, *big_pool, *indirect_pool;
	struct nat_fwd_table *fwd;
	struct rte_ring *ring[GW_MAX_WORKERS][GW_MAX_WORKERS];	/* [from][to] */
	void *ring_mem[GW_MAX_WORKERS][GW_MAX_WORKERS];
	bool use_heap;
	struct gw_worker *w[GW_MAX_WORKERS];
};

static inline void
gw_count_drop(struct gw_worker *w, struct rte_mbuf *m, enum gw_drop why)
{
	w->st.reason[why]++;
	w->st.drop[m->port & 1]++;
	w->io.drop(w->io.arg, m, why);
}

static inline bool
gw_on_link(const struct gw *g, unsigned int port, uint32_t addr)
{
	return ((addr ^ g->cfg.ifc[port].addr) & g->if_mask[port]) == 0;
}

/* gw_pipeline.c */
void gw_tx_enqueue(struct gw_worker *w, unsigned int port, struct rte_mbuf *m);
void gw_tx_flush(struct gw_worker *w);
/* Route an IPv4 frame (data at L2, L3 ready) out of `port` to next hop: ARP + L2. */
void gw_l2_send(struct gw_worker *w, unsigned int port, uint32_t nexthop, struct rte_mbuf *m,
		ct_time_t now);
uint32_t gw_nexthop(const struct gw *g, unsigned int port, uint32_t dst);

/* gw_arp.c */
int gw_arp_init(struct gw_worker *w);
void gw_arp_free(struct gw_worker *w);
/* Handle an ARP frame (reply to requests for our addresses, learn). Consumes m. */
void gw_arp_input(struct gw_worker *w, unsigned int port, struct rte_mbuf *m, ct_time_t now,
		  bool learn_only);
/* Resolve nexthop for m (L2 header present, to be filled); sends or holds or drops. */
void gw_arp_resolve_send(struct gw_worker *w, unsigned int port, uint32_t nexthop,
			 struct rte_mbuf *m, ct_time_t now);
unsigned int gw_arp_timer(struct gw_worker *w, ct_time_t now);
void gw_arp_flush(struct gw_worker *w);
int gw_arp_add_static(struct gw *g, unsigned int port, uint32_t ip,
		      const struct rte_ether_addr *mac);

/* gw_icmp.c */
/* Answer an echo request to one of our addresses in place (consumes m). */
void gw_icmp_echo_reply(struct gw_worker *w, unsigned int port, struct rte_mbuf *m,
			const struct ct_pkt *p);
/* Send an ICMP error (type/code, mtu for frag needed) about m back to where it came from,
 * from our address on `port`. Does not consume m. */
void gw_icmp_error(struct gw_worker *w, unsigned int port, const struct rte_mbuf *m,
		   const struct ct_pkt *p, uint8_t type, uint8_t code, uint16_t mtu,
		   ct_time_t now);

/* gw_frag.c */
int gw_frag_init(struct gw_worker *w);
void gw_frag_free(struct gw_worker *w);
/* Feed a fragment; returns the reassembled contiguous frame, or NULL (held or dropped). */
struct rte_mbuf *gw_frag_reassemble(struct gw_worker *w, struct rte_mbuf *m, ct_time_t now);
/* Fragment frame m (L2 + IPv4, DF clear) to `mtu` and send each on port to nexthop. */
void gw_frag_send(struct gw_worker *w, unsigned int port, uint32_t nexthop,
		  struct rte_mbuf *m, uint16_t mtu, ct_time_t now);
unsigned int gw_frag_timer(struct gw_worker *w, ct_time_t now);
void gw_frag_drain(struct gw_worker *w);

#endif /* NATGW_GW_PRIVATE_H */
