/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_arp.c - ARP (RFC 826) for the gateway: answers requests for the inside address and
 * every outside/pool address, resolves next hops with a per-worker cache, holds a bounded
 * few packets per unresolved next hop, sends requests rate-limited ([arp] retry) and gives
 * up after GW_ARP_TRIES, dropping what it held (ARP_UNRESOLVED).
 *
 * What may enter the cache. RFC 826's merge rule adds the sender of any ARP "for us"; that
 * lets anyone on a link fill the cache or plant a MAC with a reply nobody asked for. natgw
 * does what Linux does with arp_accept = 0 (net/ipv4/arp.c arp_process): a new entry is made
 * only for the sender of a request for one of our addresses (we are about to talk to it)
 * and for the answer to a request of ours (the entry is PENDING: an outstanding request for
 * that address). Gratuitous ARP and unsolicited replies only update an entry that exists,
 * and, as Linux's locktime (neigh.locktime, 1 s), a non-gratuitous frame does not replace a
 * MAC learned less than GW_ARP_LOCKTIME_US ago. Only requests and replies count; the sender
 * must be a unicast host address of the port's network (not ours, not its network or
 * broadcast address) with a unicast MAC that is not ours.
 *
 * Bounds. Entries are bound to the port they live on ((port, ip) is the key) and each port
 * holds at most [arp] entries dynamic ones per worker, on its own least-recently-used list:
 * when a port is full its least recently used entry is reclaimed (an unresolved one drops
 * what it held, ARP_EVICTED) - O(1), and one side can never push the other's entries out.
 * An entry that carried no packet for [arp] timeout is reclaimed by the timer (aging, as
 * Linux's neighbour GC reclaims stale unreferenced entries), a bounded number per pass.
 * Static entries are on no list and never reclaimed. Hold queues are bounded per entry
 * ([arp] hold, ARP_HOLD_FULL) and in total per worker ([arp] hold_total, ARP_HOLD_TOTAL),
 * so unresolved next hops can never pin more than that many mbufs.
 *
 * The hash is keyed (jhash of port and address with a random seed per start, like Linux's
 * neigh hash_rnd), with chaining: nobody outside can aim collisions at one chain. A CRC would
 * not do: it is linear, so two colliding keys collide under every seed.
 *
 * Workers. Each worker keeps its own cache (no locks). An ARP frame that may teach something
 * is copied to the other workers (GW_PORT_LEARN_FLAG), flagged GW_PORT_ARP_VOUCHED when the
 * receiving worker may add the sender (a request for us, or the answer to its own request):
 * then every worker adds it. An unvouched copy updates existing entries and resolves the
 * receiver's own PENDING entry - the answer to worker 1's request arriving at worker 0 - and
 * the worker it resolved passes it on, vouched, so the others learn it too.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "gw_private.h"

#define GW_ARP_NIL		UINT32_MAX
#define GW_ARP_TOUCH_US		100000	/* move a used entry to its LRU head at most this often */
#define GW_ARP_LOCKTIME_US	1000000	/* Linux neigh locktime: no MAC flip-flop within 1 s */
#define GW_ARP_TIMER_BUDGET	64	/* retries + reclaims per timer pass */
#define GW_ARP_MEMO_BITS	12
#define GW_ARP_MEMO		(1u << GW_ARP_MEMO_BITS)	/* next-hop memo slots per worker */

enum gw_arp_state {
	GW_ARP_FREE = 0,
	GW_ARP_PENDING,		/* request sent, no answer yet: may hold packets */
	GW_ARP_RESOLVED,
	GW_ARP_STATIC,
};

enum { GW_ARP_L_LRU, GW_ARP_L_PEND, GW_ARP_L_MAX };

struct gw_arp_link {
	uint32_t prev, next;
};

struct gw_arp_list {
	uint32_t head, tail;	/* LRU: head most recently used; pending: tail last asked */
	uint32_t n;
};

struct gw_arp_entry {
	uint32_t ip;			/* network order */
	uint8_t state;			/* enum gw_arp_state */
	uint8_t port;			/* GW_PORT_* it lives on (part of the key) */
	uint8_t tries;
	uint8_t n_hold;
	struct rte_ether_addr mac;
	uint32_t hnext;			/* hash chain */
	struct gw_arp_link l[GW_ARP_L_MAX];	/* LRU (or free list), pending list */
	ct_time_t expire;		/* RESOLVED: reachable until, then re-probed while used */
	ct_time_t last_req;		/* last request sent */
	ct_time_t used;			/* last moved to its LRU head */
	ct_time_t updated;		/* MAC last set (locktime) */
	struct rte_mbuf *hold[GW_ARP_HOLD_MAX];
};

struct gw_arp_cache {
	uint32_t seed;
	uint32_t bucket_mask;
	uint32_t n_entries;		/* 2 * port_max + GW_MAX_ARP_STATIC */
	uint32_t port_max;		/* dynamic entries per port */
	uint32_t n_held;		/* packets in all hold queues */
	uint32_t free_head;		/* free entries, linked by l[GW_ARP_L_LRU].next */
	struct gw_arp_entry *last;	/* last entry found: most packets share a next hop */
	/* the hit path's next-hop memo, direct-mapped by (port, ip): an entry found for it
	 * before. Checked on use, never invalidated: a released entry is zeroed (ip 0 is no
	 * next hop) and a reused one holds another key, so a slot whose entry's key matches
	 * holds what gw_arp_find would return */
	struct gw_arp_entry *memo[GW_ARP_MEMO];
	ct_time_t scan;			/* last timer pass */
	struct gw_arp_list lru[GW_PORT_MAX];
	struct gw_arp_list pend;	/* PENDING entries, oldest request first */
	uint32_t *bucket;		/* heads of the hash chains */
	struct gw_arp_entry *e;
};

/* ---------------------------------------------------------------------------------------
 * Lists by index: an entry is on at most one list of each kind
 */

static inline uint32_t
gw_arp_idx(const struct gw_arp_cache *c, const struct gw_arp_entry *e)
{
	return (uint32_t)(e - c->e);
}

static void
gw_arp_list_del(struct gw_arp_cache *c, struct gw_arp_list *l, int k, uint32_t i)
{
	struct gw_arp_link *lk = &c->e[i].l[k];

	if (lk->prev != GW_ARP_NIL)
		c->e[lk->prev].l[k].next = lk->next;
	else
		l->head = lk->next;
	if (lk->next != GW_ARP_NIL)
		c->e[lk->next].l[k].prev = lk->prev;
	else
		l->tail = lk->prev;
	lk->prev = lk->next = GW_ARP_NIL;
	l->n--;
}

static void
gw_arp_list_push_head(struct gw_arp_cache *c, struct gw_arp_list *l, int k, uint32_t i)
{
	struct gw_arp_link *lk = &c->e[i].l[k];

	lk->prev = GW_ARP_NIL;
	lk->next = l->head;
	if (l->head != GW_ARP_NIL)
		c->e[l->head].l[k].prev = i;
	else
		l->tail = i;
	l->head = i;
	l->n++;
}

static void
gw_arp_list_push_tail(struct gw_arp_cache *c, struct gw_arp_list *l, int k, uint32_t i)
{
	struct gw_arp_link *lk = &c->e[i].l[k];

	lk->next = GW_ARP_NIL;
	lk->prev = l->tail;
	if (l->tail != GW_ARP_NIL)
		c->e[l->tail].l[k].next = i;
	else
		l->head = i;
	l->tail = i;
	l->n++;
}

/* ---------------------------------------------------------------------------------------
 * The table
 */

static inline uint32_t
gw_arp_bucket(const struct gw_arp_cache *c, unsigned int port, uint32_t ip)
{
	return rte_jhash_2words(ip, port, c->seed) & c->bucket_mask;
}

static struct gw_arp_entry *
gw_arp_find(struct gw_arp_cache *c, unsigned int port, uint32_t ip)
{
	struct gw_arp_entry *e = c->last;
	uint32_t i;

	/* outbound traffic all goes to the one uplink gateway: check the last hit first */
	if (likely(e != NULL) && e->ip == ip && e->port == port)
		return e;
	for (i = c->bucket[gw_arp_bucket(c, port, ip)]; i != GW_ARP_NIL; i = c->e[i].hnext) {
		e = &c->e[i];
		if (e->ip == ip && e->port == port) {
			c->last = e;
			return e;
		}
	}
	return NULL;
}

/* Move a dynamic entry that carried a packet (or was learned) to the head of its LRU list;
 * at most every GW_ARP_TOUCH_US so that a busy next hop costs one compare per packet. */
static inline void
gw_arp_touch(struct gw_arp_cache *c, struct gw_arp_entry *e, ct_time_t now)
{
	uint32_t i;

	if (e->state == GW_ARP_STATIC || now - e->used < GW_ARP_TOUCH_US)
		return;
	e->used = now;
	i = gw_arp_idx(c, e);
	if (c->lru[e->port].head == i)
		return;
	gw_arp_list_del(c, &c->lru[e->port], GW_ARP_L_LRU, i);
	gw_arp_list_push_head(c, &c->lru[e->port], GW_ARP_L_LRU, i);
}

static void
gw_arp_drop_held(struct gw_worker *w, struct gw_arp_entry *e, enum gw_drop why)
{
	unsigned int k;

	for (k = 0; k < e->n_hold; k++)
		gw_count_drop(w, e->hold[k], why);
	w->arp->n_held -= e->n_hold;
	e->n_hold = 0;
}

/* Take e out of the table and every list, dropping what it held (counted `why`). */
static void
gw_arp_release(struct gw_worker *w, struct gw_arp_entry *e, enum gw_drop why)
{
	struct gw_arp_cache *c = w->arp;
	uint32_t i = gw_arp_idx(c, e);
	uint32_t *pp = &c->bucket[gw_arp_bucket(c, e->port, e->ip)];

	gw_arp_drop_held(w, e, why);
	while (*pp != i)
		pp = &c->e[*pp].hnext;
	*pp = e->hnext;
	if (e->state == GW_ARP_PENDING)
		gw_arp_list_del(c, &c->pend, GW_ARP_L_PEND, i);
	if (e->state != GW_ARP_STATIC)
		gw_arp_list_del(c, &c->lru[e->port], GW_ARP_L_LRU, i);
	if (c->last == e)
		c->last = NULL;
	memset(e, 0, sizeof(*e));
	e->l[GW_ARP_L_PEND].prev = e->l[GW_ARP_L_PEND].next = GW_ARP_NIL;
	e->l[GW_ARP_L_LRU].prev = GW_ARP_NIL;
	e->l[GW_ARP_L_LRU].next = c->free_head;
	c->free_head = i;
}

/*
 * A new entry for (port, ip), state FREE, in the table and (dynamic) at the head of its
 * port's LRU list. A port that has [arp] entries dynamic ones first gives up its least
 * recently used one: bounded work, and the other port is never touched. NULL only when
 * the static entries are all taken.
 */
static struct gw_arp_entry *
gw_arp_alloc(struct gw_worker *w, unsigned int port, uint32_t ip, ct_time_t now,
	     bool is_static)
{
	struct gw_arp_cache *c = w->arp;
	struct gw_arp_entry *e;
	uint32_t i, b;

	if (!is_static && c->lru[port].n >= c->port_max) {
		e = &c->e[c->lru[port].tail];
		w->st.arp_evicted++;
		gw_arp_release(w, e, GW_DROP_ARP_EVICTED);
	}
	i = c->free_head;
	if (i == GW_ARP_NIL)
		return NULL;
	e = &c->e[i];
	c->free_head = e->l[GW_ARP_L_LRU].next;
	e->ip = ip;
	e->port = (uint8_t)port;
	e->used = now;
	b = gw_arp_bucket(c, port, ip);
	e->hnext = c->bucket[b];
	c->bucket[b] = i;
	if (!is_static)
		gw_arp_list_push_head(c, &c->lru[port], GW_ARP_L_LRU, i);
	else
		e->l[GW_ARP_L_LRU].next = GW_ARP_NIL;
	return e;
}

int
gw_arp_init(struct gw_worker *w)
{
	const struct gw_config *cfg = &w->g->cfg;
	struct gw_arp_cache *c = calloc(1, sizeof(*c));
	uint32_t i, nb;

	if (c == NULL)
		return -1;
	w->arp = c;
	c->port_max = RTE_MAX(cfg->arp_entries, (uint32_t)GW_ARP_ENTRIES_MIN);
	c->n_entries = GW_PORT_MAX * c->port_max + GW_MAX_ARP_STATIC;
	nb = rte_align32pow2(c->n_entries) * 2;	/* load factor <= 1/2 */
	c->bucket_mask = nb - 1;
	c->bucket = malloc(nb * sizeof(*c->bucket));
	c->e = calloc(c->n_entries, sizeof(*c->e));
	if (c->bucket == NULL || c->e == NULL)
		return -1;
	memset(c->bucket, 0xff, nb * sizeof(*c->bucket));	/* GW_ARP_NIL */
	c->seed = (uint32_t)rte_rand();
	for (i = 0; i < c->n_entries; i++) {
		c->e[i].l[GW_ARP_L_LRU].prev = GW_ARP_NIL;
		c->e[i].l[GW_ARP_L_LRU].next = i + 1 < c->n_entries ? i + 1 : GW_ARP_NIL;
		c->e[i].l[GW_ARP_L_PEND].prev = c->e[i].l[GW_ARP_L_PEND].next = GW_ARP_NIL;
	}
	c->free_head = 0;
	for (i = 0; i < GW_PORT_MAX; i++)
		c->lru[i].head = c->lru[i].tail = GW_ARP_NIL;
	c->pend.head = c->pend.tail = GW_ARP_NIL;
	c->scan = 0;
	return 0;
}

void
gw_arp_flush(struct gw_worker *w)
{
	struct gw_arp_cache *c = w->arp;
	uint32_t i;

	if (c == NULL || c->e == NULL)
		return;
	for (i = 0; i < c->n_entries; i++)
		gw_arp_drop_held(w, &c->e[i], GW_DROP_ARP_UNRESOLVED);
}

void
gw_arp_free(struct gw_worker *w)
{
	struct gw_arp_cache *c = w->arp;

	if (c == NULL)
		return;
	gw_arp_flush(w);
	free(c->e);
	free(c->bucket);
	free(c);
	w->arp = NULL;
}

int
gw_arp_add_static(struct gw *g, unsigned int port, uint32_t ip,
		  const struct rte_ether_addr *mac)
{
	unsigned int i;

	for (i = 0; i < g->n_workers; i++) {
		struct gw_worker *w = g->w[i];
		struct gw_arp_entry *e = gw_arp_find(w->arp, port, ip);

		if (e != NULL && e->state != GW_ARP_STATIC)
			gw_arp_release(w, e, GW_DROP_ARP_UNRESOLVED);
		if (e == NULL || e->state != GW_ARP_STATIC)
			e = gw_arp_alloc(w, port, ip, 0, true);
		if (e == NULL)
			return -1;
		e->state = GW_ARP_STATIC;
		e->mac = *mac;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Resolving next hops
 */

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

/* e (new, or resolved but no longer answering) becomes PENDING: ask, and queue for retry. */
static void
gw_arp_start_pending(struct gw_worker *w, struct gw_arp_entry *e, ct_time_t now)
{
	struct gw_arp_cache *c = w->arp;

	e->state = GW_ARP_PENDING;
	e->tries = 1;
	e->last_req = now;
	gw_arp_list_push_tail(c, &c->pend, GW_ARP_L_PEND, gw_arp_idx(c, e));
	gw_arp_request(w, e->port, e->ip);
}

/* The cold part of gw_arp_resolve_send: stale, pending or unknown next hop. */
static void
gw_arp_resolve_slow(struct gw_worker *w, unsigned int port, uint32_t nexthop,
		    struct rte_mbuf *m, struct gw_arp_entry *e, ct_time_t now)
{
	struct gw_arp_cache *c = w->arp;
	const struct gw_config *cfg = &w->g->cfg;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	/* A stale entry keeps being used while it is re-probed (like Linux's STALE/PROBE
	 * states), so traffic does not stall every [arp] timeout. */
	if (e != NULL && e->state == GW_ARP_RESOLVED) {
		ct_time_t retry = (ct_time_t)cfg->arp_retry_ms * 1000;

		if (now < e->expire + GW_ARP_TRIES * retry) {
			if (now - e->last_req >= retry || e->last_req < e->expire) {
				e->last_req = now;
				gw_arp_request(w, port, nexthop);
			}
			gw_arp_touch(c, e, now);
			eth->dst_addr = e->mac;
			gw_tx_enqueue(w, port, m);
			return;
		}
	}
	if (e == NULL) {
		e = gw_arp_alloc(w, port, nexthop, now, false);
		if (e == NULL) {
			gw_count_drop(w, m, GW_DROP_ARP_UNRESOLVED);
			return;
		}
	}
	if (e->state != GW_ARP_PENDING)
		gw_arp_start_pending(w, e, now);
	gw_arp_touch(c, e, now);
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

static inline unsigned int
gw_arp_memo_slot(unsigned int port, uint32_t ip)
{
	return ((ip ^ port) * UINT32_C(0x9e3779b1)) >> (32 - GW_ARP_MEMO_BITS);
}

/* gw_arp_resolve_send past its common case: the memo missed, the entry needs its LRU
 * touch, it is not reachable, or the TX buffer is full. */
static __rte_noinline void
gw_arp_resolve_send_rest(struct gw_worker *w, unsigned int port, uint32_t nexthop,
			 struct rte_mbuf *m, ct_time_t now)
{
	struct gw_arp_entry **slot = &w->arp->memo[gw_arp_memo_slot(port, nexthop)];
	struct gw_arp_entry *e = *slot;
	struct rte_ether_hdr *eth;

	if (unlikely(e == NULL || e->ip != nexthop || e->port != port)) {
		e = gw_arp_find(w->arp, port, nexthop);
		if (e != NULL)
			*slot = e;
	}
	if (likely(e != NULL) && (e->state == GW_ARP_STATIC ||
				  (e->state == GW_ARP_RESOLVED && e->expire > now))) {
		gw_arp_touch(w->arp, e, now);
		eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		eth->dst_addr = e->mac;
		gw_tx_enqueue(w, port, m);
		return;
	}
	gw_arp_resolve_slow(w, port, nexthop, m, e, now);
}

void
gw_arp_resolve_send(struct gw_worker *w, unsigned int port, uint32_t nexthop,
		    struct rte_mbuf *m, ct_time_t now)
{
	const struct gw_arp_entry *e = w->arp->memo[gw_arp_memo_slot(port, nexthop)];
	struct gw_txbuf *b = &w->tx[port];

	/* one multiply and a compare per packet instead of the hash chain (most next hops
	 * are a handful of inside hosts and the uplink gateway); no call on this path, so
	 * the common case saves no registers: a reachable entry touched within
	 * GW_ARP_TOUCH_US, room in the TX buffer */
	if (likely(e != NULL && e->ip == nexthop && e->port == port && b->n < GW_TX_BUF &&
		   (e->state == GW_ARP_STATIC ||
		    (e->state == GW_ARP_RESOLVED && e->expire > now &&
		     now - e->used < GW_ARP_TOUCH_US)))) {
		rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr = e->mac;
		b->m[b->n++] = m;
		return;
	}
	gw_arp_resolve_send_rest(w, port, nexthop, m, now);
}

/* ---------------------------------------------------------------------------------------
 * Learning
 */

/*
 * Merge the sender (port, ip, mac) into the cache. e: its entry or NULL. create: the
 * sender may get a new entry. ours: the frame was for one of our addresses (it refreshes
 * reachability; anything else updates the MAC but leaves the entry to be re-probed, as
 * Linux marks it STALE). override: the MAC may change within the locktime (Linux: a
 * gratuitous ARP, or a request for us - neigh_event_ns overrides).
 */
static void
gw_arp_learn(struct gw_worker *w, unsigned int port, struct gw_arp_entry *e, uint32_t ip,
	     const struct rte_ether_addr *mac, ct_time_t now, bool create, bool ours,
	     bool override)
{
	struct gw_arp_cache *c = w->arp;
	bool fresh = false, was_pending;
	unsigned int k;

	if (e == NULL) {
		if (!create) {
			w->st.arp_ignored++;
			return;
		}
		e = gw_arp_alloc(w, port, ip, now, false);
		if (e == NULL)
			return;
		fresh = true;
		w->st.arp_learned++;
	} else if (e->state == GW_ARP_STATIC) {
		return;
	} else if (e->state == GW_ARP_RESOLVED && !rte_is_same_ether_addr(&e->mac, mac) &&
		   !override && now - e->updated < GW_ARP_LOCKTIME_US) {
		return;		/* locktime: the first answer stands a while */
	}
	was_pending = e->state == GW_ARP_PENDING;
	if (fresh || was_pending || !rte_is_same_ether_addr(&e->mac, mac))
		e->updated = now;
	e->mac = *mac;
	if (fresh || was_pending || ours)
		e->expire = now + (ct_time_t)w->g->cfg.arp_timeout_s * CT_USEC_PER_SEC;
	e->state = GW_ARP_RESOLVED;
	gw_arp_touch(c, e, now);
	if (!was_pending)
		return;
	if (!fresh)
		w->st.arp_learned++;
	gw_arp_list_del(c, &c->pend, GW_ARP_L_PEND, gw_arp_idx(c, e));
	for (k = 0; k < e->n_hold; k++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(e->hold[k], struct rte_ether_hdr *);

		eth->dst_addr = *mac;
		gw_tx_enqueue(w, port, e->hold[k]);
	}
	c->n_held -= e->n_hold;
	e->n_hold = 0;
}

/* One of our addresses on that port (outside: the pool's too). */
static bool
gw_arp_is_ours(const struct gw *g, unsigned int port, uint32_t ip)
{
	return port == GW_PORT_OUTSIDE ? gw_is_outside_addr(g, ip) :
					 ip == g->cfg.ifc[GW_PORT_INSIDE].addr;
}

/* A sender that may be in the cache: a unicast host of the port's network, not us. */
static bool
gw_arp_sender_ok(const struct gw *g, unsigned int port, uint32_t sip,
		 const struct rte_ether_addr *sha)
{
	uint32_t host = sip & ~g->if_mask[port];

	if (sip == 0 || !gw_on_link(g, port, sip) || gw_arp_is_ours(g, port, sip))
		return false;
	/* the network and broadcast addresses of a /30 or larger */
	if (gw_mask_has_bcast(g->if_mask[port]) && (host == 0 || host == ~g->if_mask[port]))
		return false;
	return rte_is_unicast_ether_addr(sha) && !rte_is_zero_ether_addr(sha) &&
	       !rte_is_same_ether_addr(sha, &g->mac[port]);
}

/* Copy an ARP frame to the other workers' handoff buffers so that their caches learn. */
static void
gw_arp_share(struct gw_worker *w, unsigned int port, const struct rte_mbuf *m, bool vouched)
{
	unsigned int j;

	for (j = 0; j < w->g->n_workers; j++) {
		struct rte_mbuf *c;

		if (j == w->idx || w->ho[j].n == GW_TX_BUF)
			continue;
		c = rte_pktmbuf_copy(m, w->g->pool, 0, UINT32_MAX);
		if (c == NULL)
			continue;
		c->port = (uint16_t)(port | GW_PORT_LEARN_FLAG |
				     (vouched ? GW_PORT_ARP_VOUCHED : 0));
		w->ho[j].m[w->ho[j].n++] = c;
	}
}

void
gw_arp_input(struct gw_worker *w, unsigned int port, struct rte_mbuf *m, ct_time_t now,
	     bool learn_only)
{
	struct gw *g = w->g;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
	bool vouched_in = learn_only && (m->port & GW_PORT_ARP_VOUCHED);
	uint32_t sip, tip;
	bool ours, req;

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
	/* Linux arp_process: only requests and replies (RARP, InARP... are not ours) */
	req = a->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	if (!req && a->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REPLY)) {
		rte_pktmbuf_free(m);
		return;
	}
	sip = a->arp_data.arp_sip;
	tip = a->arp_data.arp_tip;
	ours = gw_arp_is_ours(g, port, tip);
	if (gw_arp_sender_ok(g, port, sip, &a->arp_data.arp_sha)) {
		struct gw_arp_entry *e = gw_arp_find(w->arp, port, sip);
		/* we asked: an outstanding request of this worker for that address */
		bool solicited = e != NULL && e->state == GW_ARP_PENDING;
		bool vouch = (req && ours) || solicited;

		if (g->n_workers > 1 && (!learn_only || (solicited && !vouched_in)))
			gw_arp_share(w, port, m, vouch);
		gw_arp_learn(w, port, e, sip, &a->arp_data.arp_sha, now, vouch || vouched_in,
			     ours, sip == tip || (req && ours));
	}
	if (learn_only || !ours || !req) {
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

/* ---------------------------------------------------------------------------------------
 * Timer: retries of outstanding requests, aging of unused entries (bounded per pass)
 */

unsigned int
gw_arp_timer(struct gw_worker *w, ct_time_t now)
{
	struct gw_arp_cache *c = w->arp;
	ct_time_t retry = (ct_time_t)w->g->cfg.arp_retry_ms * 1000;
	ct_time_t idle = (ct_time_t)w->g->cfg.arp_timeout_s * CT_USEC_PER_SEC;
	unsigned int port, work = 0;

	if (now < c->scan + GW_ARP_SCAN_US && now >= c->scan)
		return 0;
	c->scan = now;
	/* the pending list is in request order: stop at the first not yet due */
	while (c->pend.head != GW_ARP_NIL && work < GW_ARP_TIMER_BUDGET) {
		struct gw_arp_entry *e = &c->e[c->pend.head];

		if (now - e->last_req < retry)
			break;
		work++;
		if (e->tries >= GW_ARP_TRIES) {
			gw_arp_release(w, e, GW_DROP_ARP_UNRESOLVED);
			continue;
		}
		e->tries++;
		e->last_req = now;
		gw_arp_list_del(c, &c->pend, GW_ARP_L_PEND, c->pend.head);
		gw_arp_list_push_tail(c, &c->pend, GW_ARP_L_PEND, gw_arp_idx(c, e));
		gw_arp_request(w, e->port, e->ip);
	}
	/* the LRU tail is the entry unused the longest */
	for (port = 0; port < GW_PORT_MAX; port++) {
		while (c->lru[port].tail != GW_ARP_NIL && work < GW_ARP_TIMER_BUDGET) {
			struct gw_arp_entry *e = &c->e[c->lru[port].tail];

			if (now - e->used < idle || e->used > now)
				break;
			work++;
			if (e->state == GW_ARP_PENDING) {	/* the retries decide its fate */
				gw_arp_touch(c, e, now);
				continue;
			}
			w->st.arp_aged++;
			gw_arp_release(w, e, GW_DROP_ARP_UNRESOLVED);
		}
	}
	return work;
}
