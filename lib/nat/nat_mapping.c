/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat_mapping.c - the per-worker NAT context: mappings (inside endpoint -> outside
 * endpoint, RFC 4787 section 4.1) with their two indexes, the creation of translated
 * conntrack entries for new outbound and inbound connections, filtering (RFC 4787
 * section 5), port forwards, per-host limits (RFC 6888 REQ-4/5) and hairpinning (RFC 4787
 * REQ-9, RFC 5382 REQ-8).
 *
 * Hairpinning, and why it is done in two halves (so that N workers behave as one): a packet
 * from inside host A to one of our outside addresses N:bp is translated here, by A's worker,
 * exactly like a packet to the Internet: A's own (EIM) mapping N:ap is used or created, and
 * the connection A:a -> N:bp (reply N:bp -> N:ap) records that A's mapping talked to N:bp.
 * The app then loops the translated packet N:ap -> N:bp back in as if it had arrived on the
 * outside port, steered to the worker holding port bp (nat_inbound_owner), where
 * nat_in_new() applies B's mapping's filtering and translation (or a forward) to it, as to
 * any inbound packet from N:ap. Each half is a connection owned by one worker, each mapping
 * is only ever touched by its own worker, nothing is shared but the port table, and the
 * result is the same with 1 or N workers: RFC 4787 REQ-9 hairpinning with the external
 * source address and port (REQ-9 b), and the target's filtering (section 5) applied to the
 * hairpinned packet as to any other.
 *
 * A mapping is shared by every connection that uses it (refcount). Each connection keeps
 * the mapping's index + 1 in its CT_USER_NAT word; the conntrack destroy callback drops the
 * reference, and the last one frees the mapping and its outside port, so a mapping lives
 * exactly as long as its connections (RFC 4787 REQ-5 timers are conntrack's).
 *
 * The indexes are chained hash tables over a fixed array of records: capacity is fixed at
 * create, nothing is allocated on the data path, and the hash is keyed with a per-context
 * secret so that no remote peer can aim chains. Each index has half as many heads as there
 * are records (chains of 2 when all are in use), free records are linked through fnext
 * (no stack beside them), and a new connection hashes each key once: the inside key's
 * bucket and the host's bucket are computed in nat_out_new() and handed down.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_random.h>

#include "nat_private.h"

/* ---- indexes ---- */

static inline uint32_t
fkey_bucket(const struct nat_ctx *nc, uint8_t proto, uint32_t in_addr, uint16_t in_port,
	    uint32_t dst_addr, uint16_t dst_port)
{
	uint64_t a = (uint64_t)in_addr << 32 | (uint64_t)in_port << 16 | proto;
	uint64_t b = (uint64_t)dst_addr << 32 | dst_port;

	return nat_bucket(nat_hash2(nc->key, a, b), nc->map_nb);
}

static inline uint32_t
rkey_bucket(const struct nat_ctx *nc, uint8_t proto, uint32_t out_addr, uint16_t out_port)
{
	uint64_t a = (uint64_t)out_addr << 32 | (uint64_t)out_port << 16 | proto;

	return nat_bucket(nat_hash2(nc->key, a, UINT64_C(0x7265766572736521)), nc->map_nb);
}

/* the mapping of an inside key whose bucket fb (fkey_bucket) is known, or NULL */
static struct nat_map *
map_find_fwd(const struct nat_ctx *nc, uint32_t fb, uint8_t proto, uint32_t in_addr,
	     uint16_t in_port, uint32_t dst_addr, uint16_t dst_port)
{
	uint32_t i = nc->fhead[fb];

	while (i != NAT_NIL) {
		struct nat_map *m = &nc->maps[i];

		if (m->in_addr == in_addr && m->in_port == in_port && m->proto == proto &&
		    m->dst_addr == dst_addr && m->dst_port == dst_port)
			return m;
		i = m->fnext;
	}
	return NULL;
}

struct nat_map *
nat_map_find_rev(const struct nat_ctx *nc, uint8_t proto, uint32_t out_addr, uint16_t out_port)
{
	uint32_t i = nc->rhead[rkey_bucket(nc, proto, out_addr, out_port)];

	while (i != NAT_NIL) {
		struct nat_map *m = &nc->maps[i];

		if (m->out_addr == out_addr && m->out_port == out_port && m->proto == proto)
			return m;
		i = m->rnext;
	}
	return NULL;
}

static void
chain_unlink(struct nat_ctx *nc, uint32_t *head, uint32_t idx, bool rev)
{
	uint32_t *pp = head;

	while (*pp != NAT_NIL && *pp != idx)
		pp = rev ? &nc->maps[*pp].rnext : &nc->maps[*pp].fnext;
	if (*pp == idx)
		*pp = rev ? nc->maps[idx].rnext : nc->maps[idx].fnext;
}

static inline uint32_t
map_idx(const struct nat_ctx *nc, const struct nat_map *m)
{
	return (uint32_t)(m - nc->maps);
}

/* ---- ADF remote record ---- */

static inline uint64_t
bloom_bits(const struct nat_ctx *nc, uint32_t addr)
{
	uint64_t h = nat_hash2(nc->key, addr, UINT64_C(0x626c6f6f6d));

	return UINT64_C(1) << (h & 63) | UINT64_C(1) << ((h >> 6) & 63);
}

/* only under ADF (nc->adf): nobody else reads them */
static inline void
remote_add(struct nat_ctx *nc, const struct nat_map *m, uint32_t addr)
{
	struct nat_adf *a;
	unsigned int i;

	if (nc->adf == NULL)
		return;
	a = &nc->adf[map_idx(nc, m)];
	for (i = 0; i < a->n_remote; i++)
		if (a->remote[i] == addr)
			return;
	if (a->n_remote < NAT_ADF_SLOTS) {
		a->remote[a->n_remote++] = addr;
		return;
	}
	a->bloom |= bloom_bits(nc, addr);
}

static bool
remote_seen(const struct nat_ctx *nc, const struct nat_map *m, uint32_t addr)
{
	const struct nat_adf *a = &nc->adf[map_idx(nc, m)];
	unsigned int i;
	uint64_t b;

	for (i = 0; i < a->n_remote; i++)
		if (a->remote[i] == addr)
			return true;
	if (a->bloom == 0)
		return false;
	b = bloom_bits(nc, addr);
	return (a->bloom & b) == b;
}

/* ---- mapping life ---- */

/* Free mapping m. `held`: the record of m's inside host when the caller has it and will
 * nat_host_release() it itself afterwards (one lookup and one release instead of two),
 * else NULL. */
static void
map_free(struct nat_ctx *nc, struct nat_map *m, struct nat_host *held)
{
	uint32_t idx = map_idx(nc, m);
	int pc = nat_pclass_of(m->proto);

	chain_unlink(nc, &nc->fhead[fkey_bucket(nc, m->proto, m->in_addr, m->in_port,
						 m->dst_addr, m->dst_port)], idx, false);
	chain_unlink(nc, &nc->rhead[rkey_bucket(nc, m->proto, m->out_addr, m->out_port)], idx,
		     true);
	if ((m->flags & NAT_MF_STATIC) && pc >= 0) {
		/* a forward's port: not counted for the host (nat_host.c) */
		if (nat_is_outside_addr(&nc->cfg, m->out_addr))
			nat_port_release(nc, nat_map_ai(m), (unsigned int)pc, ntohs(m->out_port));
	} else if (pc >= 0) {
		struct nat_host *h = held != NULL && held->addr == m->in_addr ? held :
				     nat_host_get(nc, m->in_addr, false);

		nat_port_release(nc, nat_map_ai(m), (unsigned int)pc, ntohs(m->out_port));
		if (h != NULL && h->ports[pc] > 0) {
			h->ports[pc]--;
			if (h != held)
				nat_host_release(nc, h);
		}
	}
	/* a free record: refcnt 0 (it is), fnext links the free ones; map_insert writes the
	 * rest */
	m->fnext = nc->map_free;
	nc->map_free = idx;
	nc->map_free_top++;
	NAT_STAT_ADD(nc, mappings_active, -1);
}

static inline void
map_get(struct nat_map *m)
{
	m->refcnt++;
}

static void
map_put(struct nat_ctx *nc, struct nat_map *m)
{
	if (m->refcnt > 0 && --m->refcnt == 0)
		map_free(nc, m, NULL);
}

/* Choose the outside endpoint of a new mapping of (pc, in_addr, in_port): the paired
 * address (or, unpaired, every address from that one on), the inside port when free, else
 * a searched port of the same range from a hash of the inside endpoint. With RSS steering
 * (nat_rss.c) the inside port is kept only when its replies reach this worker's queue,
 * unless rss_preserve: under EIM, preservation winning would hand off the replies of all
 * but 1 / n_queues of the mappings whose inside port is free, which is most of them. */
static int
map_alloc_port(struct nat_ctx *nc, unsigned int pc, uint32_t in_addr, uint16_t in_port,
	       unsigned int *ai_out)
{
	const struct nat_config *cfg = &nc->cfg;
	unsigned int first = nat_paired_addr(cfg, in_addr);
	unsigned int n = cfg->paired ? 1 : cfg->n_addrs, k;
	uint16_t want = ntohs(in_port);
	uint64_t seed = (uint64_t)in_addr << 32 | (uint64_t)in_port << 8 | pc;
	int port;

	if (cfg->port_preserve) {
		for (k = 0; k < n; k++) {
			unsigned int ai = (first + k) % cfg->n_addrs;

			if ((cfg->rss_preserve || nat_port_steered(nc, ai, pc, want)) &&
			    nat_port_take(nc, ai, pc, want) == 0) {
				*ai_out = ai;
				return want;
			}
		}
	}
	for (k = 0; k < n; k++) {
		unsigned int ai = (first + k) % cfg->n_addrs;

		port = nat_port_alloc(nc, ai, pc, nat_port_range_for(nc, ai, pc, want), seed,
				      pc == NAT_PC_ICMP ? -1 : want & 1);
		if (port >= 0) {
			*ai_out = ai;
			return port;
		}
	}
	return -1;
}

/* Insert a record for inside key (of bucket fb) -> outside endpoint (indexes, counters);
 * a free record must exist. flags: NAT_MF_STATIC or 0. */
static struct nat_map *
map_insert(struct nat_ctx *nc, uint32_t fb, uint8_t proto, uint32_t in_addr, uint16_t in_port,
	   uint32_t dst_addr, uint16_t dst_port, unsigned int ai, uint32_t out_addr,
	   uint16_t out_port, uint8_t flags)
{
	uint32_t idx = nc->map_free;
	struct nat_map *m = &nc->maps[idx];
	uint32_t *fh = &nc->fhead[fb];
	uint32_t *rh = &nc->rhead[rkey_bucket(nc, proto, out_addr, out_port)];

	/* To the end of its inside key's chain, which the caller has just walked without a
	 * match (a key has one record at most): the chain runs oldest first, so the one freed
	 * next (most often the oldest) is unlinked from near its head instead of after a walk
	 * over the newer, cold, records. */
	while (*fh != NAT_NIL)
		fh = &nc->maps[*fh].fnext;
	nc->map_free = m->fnext;
	nc->map_free_top--;
	/* every field written: no memset first */
	*m = (struct nat_map){
		.in_addr = in_addr,
		.dst_addr = dst_addr,
		.out_addr = out_addr,
		.in_port = in_port,
		.dst_port = dst_port,
		.out_port = out_port,
		.proto = proto,
		.flags = (uint8_t)(flags | (ai & NAT_MF_AI_MASK)),
		.refcnt = 0,
		.fnext = *fh,
		.rnext = *rh,
	};
	*fh = idx;
	*rh = idx;
	if (nc->adf != NULL)
		nc->adf[idx] = (struct nat_adf){ .bloom = 0 };
	NAT_STAT_INC(nc, mappings_active);
	NAT_STAT_INC(nc, mappings_created);
	return m;
}

/* A forwarded server talking first (EIM only): its packets leave from the forward's
 * outside port, as the forward's clients know it (a port forward is a static mapping,
 * RFC 4787 section 4.1 / RFC 6888 static port mapping). NULL when src is no forward's
 * inside endpoint or that outside port is held by a dynamic mapping. */
static struct nat_map *
map_static(struct nat_ctx *nc, uint32_t fb, uint8_t proto, uint32_t in_addr, uint16_t in_port)
{
	const struct nat_fwd *f;
	uint16_t port;
	int ai;

	/* no forward at all (most gateways): not even the call */
	if (nc->cfg.mapping != NAT_MAP_EIM || (proto != IPPROTO_TCP && proto != IPPROTO_UDP) ||
	    nc->fwd == NULL || nc->fwd->n == 0)
		return NULL;
	f = nat_fwd_lookup_inside(nc->fwd, proto, in_addr, ntohs(in_port));
	if (f == NULL)
		return NULL;
	port = htons((uint16_t)(f->ext_lo + (ntohs(in_port) - f->int_port)));
	ai = nat_addr_index(&nc->cfg, f->ext_addr);
	/* held: by a dynamic mapping from before the forward, or another static one */
	if (nat_map_find_rev(nc, proto, f->ext_addr, port) != NULL ||
	    (ai >= 0 && nat_port_claim_static(nc, (unsigned int)ai,
					      (unsigned int)nat_pclass_of(proto), ntohs(port)) < 0))
		return NULL;
	/* under EIM the inside key's dst is 0:0, as fb was hashed */
	return map_insert(nc, fb, proto, in_addr, in_port, 0, 0, ai < 0 ? 0 : (unsigned int)ai,
			  f->ext_addr, port, NAT_MF_STATIC);
}

/* a new mapping for the inside key of bucket fb, of the inside host of bucket hb */
static struct nat_map *
map_create(struct nat_ctx *nc, uint32_t fb, uint32_t hb, uint8_t proto, uint32_t in_addr,
	   uint16_t in_port, uint32_t dst_addr, uint16_t dst_port, enum nat_reason *why)
{
	unsigned int pc = (unsigned int)nat_pclass_of(proto), ai = 0;
	struct nat_host *h;
	struct nat_map *m;
	int port;

	if (nc->map_free_top == 0) {
		*why = NAT_R_MAPPINGS_FULL;
		return NULL;
	}
	m = map_static(nc, fb, proto, in_addr, in_port);
	if (m != NULL)
		return m;
	/* RFC 6888 REQ-4: a host's dynamic outside ports are limited */
	h = nat_host_get_b(nc, in_addr, hb, true);
	if (h == NULL) {
		*why = NAT_R_HOSTS_FULL;
		return NULL;
	}
	if (h->ports[pc] >= nc->lim_ports) {
		*why = NAT_R_HOST_PORTS_LIMIT;
		return NULL;
	}
	port = map_alloc_port(nc, pc, in_addr, in_port, &ai);
	if (port < 0) {
		nat_host_release_b(nc, h, hb);
		*why = NAT_R_PORTS_EXHAUSTED;
		return NULL;
	}
	h->ports[pc]++;
	return map_insert(nc, fb, proto, in_addr, in_port, dst_addr, dst_port, ai,
			  nc->cfg.addrs[ai], htons((uint16_t)port), 0);
}

/* Connections not ASSURED evicted to free a mapping record or a port, at most this many
 * per new mapping (each a bounded search, ct_evict_unreplied). */
#define NAT_EVICT_TRIES 4

/*
 * map_create(), making room when the worker ran out of mapping records, host records or
 * outside ports: an inside SYN flood from spoofed sources (one mapping and one host each)
 * must not lock everybody out until its entries time out. As netfilter's early_drop does
 * for a full table, push out connections that are not ASSURED (ct_evict_unreplied; their
 * mapping, port and host record go with their last connection), then try again. A host at
 * its own port limit evicts nothing.
 */
static struct nat_map *
map_create_evicting(struct nat_ctx *nc, uint32_t fb, uint32_t hb, uint8_t proto,
		    uint32_t in_addr, uint16_t in_port, uint32_t dst_addr, uint16_t dst_port,
		    ct_time_t now, enum nat_reason *why)
{
	unsigned int k;
	struct nat_map *m;

	for (k = 0;; k++) {
		m = map_create(nc, fb, hb, proto, in_addr, in_port, dst_addr, dst_port, why);
		if (m != NULL || k == NAT_EVICT_TRIES ||
		    (*why != NAT_R_MAPPINGS_FULL && *why != NAT_R_PORTS_EXHAUSTED &&
		     *why != NAT_R_HOSTS_FULL) ||
		    !ct_evict_unreplied(nc->ct, now))
			return m;
	}
}

/* conntrack destroy callback: the connection's reference goes */
static void
nat_conn_destroyed(struct ct_table *t, struct ct_conn *c, void *arg)
{
	struct nat_ctx *nc = arg;
	uint32_t uw = ct_conn_user(c, CT_USER_NAT), id = uw & NAT_UW_MAP_MASK;
	struct nat_host *h = NULL;

	if (uw == 0)
		return;
	ct_conn_set_user(c, CT_USER_NAT, 0);
	if (uw & NAT_UW_COUNTED) {
		const struct ct_tuple *ht = ct_conn_tuple(c, (uw & NAT_UW_HOST_REPLY) ?
						       CT_DIR_REPLY : CT_DIR_ORIG);
		unsigned int d = (uw & NAT_UW_HOST_REPLY) ? NAT_HD_IN : NAT_HD_OUT;

		h = nat_host_get(nc, ht->src, false);
		if (h != NULL && h->conns[d] > 0) {
			nat_host_unlink(nc, h, d, ct_conn_id(t, c));
			h->conns[d]--;
		} else {
			h = NULL;
		}
	}
	/* the mapping's inside host is the connection's counted one (either direction): the
	 * mapping's port comes off that record, released once below */
	if (id != 0 && id <= nc->map_cap) {
		struct nat_map *m = &nc->maps[id - 1];

		if (m->refcnt > 0 && --m->refcnt == 0)
			map_free(nc, m, h);
	}
	if (h != NULL)
		nat_host_release(nc, h);	/* hashes only when it frees the record */
}

/* ---- context ---- */

struct nat_ctx *
nat_ctx_create_shared(const struct nat_config *cfg, unsigned int worker, struct ct_table *ct,
		      const struct nat_fwd_table *fwd, struct nat_port_table *pt, bool use_heap)
{
	struct nat_ctx *nc;
	uint32_t cap, nb, i;

	if (cfg == NULL || ct == NULL || nat_config_check(cfg, NULL, 0) != 0 ||
	    worker >= cfg->n_workers || (pt != NULL && pt->n_addrs != cfg->n_addrs)) {
		rte_errno = EINVAL;
		return NULL;
	}
	nc = nat_zalloc(use_heap, sizeof(*nc));
	if (nc == NULL)
		goto nomem;
	nc->cfg = *cfg;
	nat_config_index(&nc->cfg);
	nc->worker = worker;
	nc->ct = ct;
	nc->use_heap = use_heap;
	nc->pt = pt;
	if (pt == NULL) {
		nc->pt = nat_port_table_create(cfg, use_heap);
		nc->pt_own = true;
		if (nc->pt == NULL)
			goto fail;
	}
	cap = cfg->max_mappings != 0 ? cfg->max_mappings : ct_table_capacity(ct);
	cap = RTE_MIN(cap, NAT_UW_MAP_MASK - 1);	/* index + 1 fits the user word */
	/* chains of 2 on average with every record in use (any count: nat_bucket) */
	nb = RTE_MAX(cap / 2, 1u);
	nc->map_cap = cap;
	nc->map_nb = nb;
	nc->maps = nat_zalloc(use_heap, (size_t)cap * sizeof(*nc->maps));
	nc->fhead = nat_zalloc(use_heap, (size_t)nb * sizeof(uint32_t));
	nc->rhead = nat_zalloc(use_heap, (size_t)nb * sizeof(uint32_t));
	if (nc->maps == NULL || nc->fhead == NULL || nc->rhead == NULL)
		goto fail;
	/* RFC 4787 section 5 ADF's remote addresses, only where they are read */
	if (cfg->filtering == NAT_FILTER_ADF) {
		nc->adf = nat_zalloc(use_heap, (size_t)cap * sizeof(*nc->adf));
		if (nc->adf == NULL)
			goto fail;
	}
	/* free records linked through fnext, record 0 first (as the stack it replaces) */
	for (i = 0; i < cap; i++)
		nc->maps[i].fnext = i + 1 < cap ? i + 1 : NAT_NIL;
	nc->map_free = 0;
	nc->map_free_top = cap;
	memset(nc->fhead, 0xff, (size_t)nb * sizeof(uint32_t));
	memset(nc->rhead, 0xff, (size_t)nb * sizeof(uint32_t));
	nc->key[0] = rte_rand();
	nc->key[1] = rte_rand();
	if (nat_hosts_init(nc) != 0)
		goto fail;
	nat_ports_set_fwd(nc, fwd);
	nc->fwd_pending = fwd;
	ct_set_destroy_cb(ct, nat_conn_destroyed, nc);
	nc->cb_set = true;
	return nc;

fail:
	nat_ctx_free(nc);
nomem:
	rte_errno = ENOMEM;
	return NULL;
}

struct nat_ctx *
nat_ctx_create(const struct nat_config *cfg, unsigned int worker, struct ct_table *ct,
	       const struct nat_fwd_table *fwd, bool use_heap)
{
	return nat_ctx_create_shared(cfg, worker, ct, fwd, NULL, use_heap);
}

void
nat_ctx_free(struct nat_ctx *nc)
{
	if (nc == NULL)
		return;
	/* connections still in the table must not call back into freed memory */
	if (nc->cb_set)
		ct_set_destroy_cb(nc->ct, NULL, NULL);
	if (nc->pt_own) {
		nat_port_table_free(nc->pt);
	} else if (nc->pt != NULL && nc->maps != NULL) {
		/* a shared table outlives us: give back the ports our mappings still hold */
		uint32_t i;

		for (i = 0; i < nc->map_cap; i++) {
			const struct nat_map *m = &nc->maps[i];
			int pc = nat_pclass_of(m->proto);

			if (m->refcnt != 0 && pc >= 0 && nat_is_outside_addr(&nc->cfg, m->out_addr))
				nat_port_release(nc, nat_map_ai(m), (unsigned int)pc,
						 ntohs(m->out_port));
		}
	}
	nat_hosts_fini(nc);
	nat_free(nc->use_heap, nc->maps);
	nat_free(nc->use_heap, nc->adf);
	nat_free(nc->use_heap, nc->fhead);
	nat_free(nc->use_heap, nc->rhead);
	nat_free(nc->use_heap, nc);
}

void
nat_ctx_set_fwd(struct nat_ctx *nc, const struct nat_fwd_table *fwd)
{
	__atomic_store_n(&nc->fwd_pending, fwd, __ATOMIC_RELEASE);
}

const struct nat_fwd_table *
nat_ctx_fwd_active(const struct nat_ctx *nc)
{
	return __atomic_load_n(&nc->fwd, __ATOMIC_ACQUIRE);
}

void
nat_ctx_sync(struct nat_ctx *nc)
{
	const struct nat_fwd_table *ft = __atomic_load_n(&nc->fwd_pending, __ATOMIC_ACQUIRE);

	if (ft != nc->fwd)
		nat_ports_set_fwd(nc, ft);
}

void
nat_stats_get(const struct nat_ctx *nc, struct nat_stats *out)
{
	const uint64_t *src = (const uint64_t *)&nc->stats;
	uint64_t *dst = (uint64_t *)out;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* ---- new connections ---- */

static struct ct_conn *
fail(struct nat_ctx *nc, enum nat_reason r, enum nat_reason *why)
{
	nat_reason_inc(nc, r);
	if (why != NULL)
		*why = r;
	return NULL;
}

/* Has inside host `addr` (of host bucket hb) room in budget d (RFC 6888 REQ-5), once its
 * own oldest unassured connection of that budget is evicted if it is at the limit
 * (nat_host.c)? Call it before holding a pointer to a mapping the eviction could free. */
static bool
host_conn_ok(struct nat_ctx *nc, uint32_t addr, uint32_t hb, unsigned int d, ct_time_t now)
{
	return nat_host_room_b(nc, addr, hb, d, now);
}

/* ct_create for a connection using mapping m (may be NULL), counted for inside host `host`
 * (the reply source when host_is_reply) of host bucket hb. The mapping is pinned across
 * ct_create, which may reclaim expired entries or evict one, and so run the destroy
 * callback on the very mapping being reused. With every host record taken and none for
 * the host, the connection is refused before ct_create (NAT_R_HOSTS_FULL): an uncounted
 * one would escape every per-host limit. ct_create only ever frees host records, so one
 * that can be had before it can be had after. */
static struct ct_conn *
create_conn(struct nat_ctx *nc, const struct ct_tuple *orig, const struct ct_tuple *reply,
	    struct nat_map *m, bool host_is_reply, uint32_t hb, ct_time_t now,
	    enum nat_reason *why, enum ct_reason *ct_why)
{
	uint32_t host = host_is_reply ? reply->src : orig->src;
	enum ct_reason r = CT_R_NONE;
	struct nat_host *h;
	struct ct_conn *c;
	uint32_t uw;

	if (m != NULL)
		map_get(m);
	if (unlikely(!nat_host_avail_b(nc, host, hb))) {
		if (m != NULL)
			map_put(nc, m);		/* a new mapping nobody uses goes */
		return fail(nc, NAT_R_HOSTS_FULL, why);
	}
	c = ct_create(nc->ct, orig, reply, now, &r);
	if (c == NULL) {
		if (m != NULL)
			map_put(nc, m);
		if (ct_why != NULL)
			*ct_why = r;
		return fail(nc, NAT_R_CT_REFUSED, why);
	}
	uw = m != NULL ? map_idx(nc, m) + 1 : 0;
	h = nat_host_get_b(nc, host, hb, true);
	if (h != NULL) {
		unsigned int d = host_is_reply ? NAT_HD_IN : NAT_HD_OUT;

		h->conns[d]++;
		nat_host_link(nc, h, d, ct_conn_id(nc->ct, c));
		uw |= NAT_UW_COUNTED | (host_is_reply ? NAT_UW_HOST_REPLY : 0);
	}
	ct_conn_set_user(c, CT_USER_NAT, uw);
	if (why != NULL)
		*why = NAT_R_NONE;
	return c;
}

struct ct_conn *
nat_out_new(struct nat_ctx *nc, const struct ct_pkt *p, ct_time_t now, enum nat_reason *why,
	    enum ct_reason *ct_why)
{
	const struct ct_tuple *t = &p->tuple;
	struct ct_tuple reply = ct_tuple_invert(t);
	struct nat_map *m;
	struct ct_conn *c;
	uint32_t dst_addr = 0;
	uint16_t dst_port = 0;
	int pc = nat_pclass_of(t->proto);
	uint32_t hb = nat_host_bucket(nc, t->src), fb;

	nat_ctx_sync(nc);
	if (!host_conn_ok(nc, t->src, hb, NAT_HD_OUT, now))
		return fail(nc, NAT_R_HOST_CONNS_LIMIT, why);
	if (pc < 0) {
		/* no ports: translate the address only (the paired one) */
		reply.dst = nc->cfg.addrs[nat_paired_addr(&nc->cfg, t->src)];
		return create_conn(nc, t, &reply, NULL, false, hb, now, why, ct_why);
	}
	if (nc->cfg.mapping == NAT_MAP_APDM) {
		dst_addr = t->dst;
		dst_port = t->dport;
	}
	fb = fkey_bucket(nc, t->proto, t->src, t->sport, dst_addr, dst_port);
	m = map_find_fwd(nc, fb, t->proto, t->src, t->sport, dst_addr, dst_port);
	if (m == NULL) {
		enum nat_reason r = NAT_R_PORTS_EXHAUSTED;

		m = map_create_evicting(nc, fb, hb, t->proto, t->src, t->sport, dst_addr,
					dst_port, now, &r);
		if (m == NULL)
			return fail(nc, r, why);
	}
	reply.dst = m->out_addr;
	reply.dport = m->out_port;
	if (pc == NAT_PC_ICMP)
		reply.sport = m->out_port;	/* query identifier: sport = dport = id */
	/* a new mapping nobody uses is freed by create_conn's map_put on failure */
	c = create_conn(nc, t, &reply, m, false, hb, now, why, ct_why);
	if (c == NULL)
		return NULL;
	if (nc->cfg.n_triggers != 0)
		nat_trigger_fire(nc, t, m->out_addr, now);
	/* ADF: remember whom this mapping talked to (RFC 4787 section 5) */
	remote_add(nc, m, t->dst);
	/* the first half of a hairpin (file comment): the caller loops the packet back in */
	if (nat_is_outside_addr(&nc->cfg, t->dst))
		NAT_STAT_INC(nc, hairpinned);
	return c;
}

struct ct_conn *
nat_in_new(struct nat_ctx *nc, const struct ct_pkt *p, ct_time_t now, enum nat_reason *why,
	   enum ct_reason *ct_why)
{
	const struct ct_tuple *t = &p->tuple;
	struct ct_tuple reply = ct_tuple_invert(t);
	const struct nat_fwd *f;
	struct nat_map *m;
	struct ct_conn *c;
	uint32_t hb;

	nat_ctx_sync(nc);
	if (t->proto != IPPROTO_TCP && t->proto != IPPROTO_UDP)
		return fail(nc, NAT_R_NO_MAPPING, why);
	f = nat_fwd_lookup(nc->fwd, t->proto, t->dst, ntohs(t->dport));
	if (f != NULL) {
		/* port forward: any remote, whatever the filtering behaviour */
		reply.src = f->int_addr;
		reply.sport = htons((uint16_t)(f->int_port + (ntohs(t->dport) - f->ext_lo)));
		hb = nat_host_bucket(nc, reply.src);
		if (!host_conn_ok(nc, reply.src, hb, NAT_HD_IN, now))
			return fail(nc, NAT_R_HOST_CONNS_LIMIT, why);
		c = create_conn(nc, t, &reply, NULL, true, hb, now, why, ct_why);
		if (c != NULL)
			NAT_STAT_INC(nc, forwarded_in);
		return c;
	}
	/* a range a port trigger opened to one host (nat_trigger.c), unless a mapping holds
	 * the port: then the mapping's filtering decides, below */
	if (nc->cfg.n_triggers != 0 &&
	    nat_port_table_owner(nc->pt, t->proto, t->dst, ntohs(t->dport)) >=
	    nc->cfg.n_workers) {
		uint32_t to = nat_trigger_find(nc, t, now);

		if (to != 0) {
			reply.src = to;
			reply.sport = t->dport;
			hb = nat_host_bucket(nc, to);
			if (!host_conn_ok(nc, to, hb, NAT_HD_IN, now))
				return fail(nc, NAT_R_HOST_CONNS_LIMIT, why);
			c = create_conn(nc, t, &reply, NULL, true, hb, now, why, ct_why);
			if (c != NULL)
				NAT_STAT_INC(nc, triggered_in);
			return c;
		}
	}
	if (nc->cfg.filtering == NAT_FILTER_APDF)
		return fail(nc, NAT_R_NO_MAPPING, why);
	m = nat_map_find_rev(nc, t->proto, t->dst, t->dport);
	if (m == NULL)
		return fail(nc, NAT_R_NO_MAPPING, why);
	if (nc->cfg.filtering == NAT_FILTER_ADF && !remote_seen(nc, m, t->src))
		return fail(nc, NAT_R_FILTERED, why);
	reply.src = m->in_addr;
	reply.sport = m->in_port;
	hb = nat_host_bucket(nc, reply.src);
	/* the eviction may take the mapping's last connection: hold it across */
	map_get(m);
	if (!host_conn_ok(nc, reply.src, hb, NAT_HD_IN, now)) {
		map_put(nc, m);
		return fail(nc, NAT_R_HOST_CONNS_LIMIT, why);
	}
	c = create_conn(nc, t, &reply, m, true, hb, now, why, ct_why);
	map_put(nc, m);
	return c;
}

struct ct_conn *
nat_in_expected(struct nat_ctx *nc, const struct ct_pkt *p, uint32_t to_addr,
		uint16_t to_port, ct_time_t now, enum nat_reason *why, enum ct_reason *ct_why)
{
	struct ct_tuple reply = ct_tuple_invert(&p->tuple);
	uint32_t hb = nat_host_bucket(nc, to_addr);

	reply.src = to_addr;
	reply.sport = to_port;
	if (!host_conn_ok(nc, to_addr, hb, NAT_HD_IN, now))
		return fail(nc, NAT_R_HOST_CONNS_LIMIT, why);
	return create_conn(nc, &p->tuple, &reply, NULL, true, hb, now, why, ct_why);
}

/* ---- mapping references of related connections (added for lib/helpers, nat.h) ---- */

uint32_t
nat_mapping_hold(struct nat_ctx *nc, const struct ct_conn *c)
{
	uint32_t id = ct_conn_user(c, CT_USER_NAT) & NAT_UW_MAP_MASK;

	if (id == 0 || id > nc->map_cap || nc->maps[id - 1].refcnt == 0)
		return 0;
	map_get(&nc->maps[id - 1]);
	return id;
}

void
nat_mapping_release(struct nat_ctx *nc, uint32_t h)
{
	if (h != 0 && h <= nc->map_cap)
		map_put(nc, &nc->maps[h - 1]);
}

int
nat_conn_adopt_mapping(struct nat_ctx *nc, struct ct_conn *c, uint32_t h)
{
	uint32_t uw = ct_conn_user(c, CT_USER_NAT);

	if (h == 0 || h > nc->map_cap || nc->maps[h - 1].refcnt == 0 ||
	    (uw & NAT_UW_MAP_MASK) != 0)
		return -EINVAL;
	/* the reference moves to c (not counted as a host connection: NAT_UW_COUNTED stays
	 * as it was); nat_conn_destroyed() drops it */
	ct_conn_set_user(c, CT_USER_NAT, uw | h);
	return 0;
}

/* ---- for nat_snapshot.c (restore) ---- */

struct nat_map *
nat_map_find_key(const struct nat_ctx *nc, uint8_t proto, uint32_t in_addr, uint16_t in_port,
		 uint32_t dst_addr, uint16_t dst_port)
{
	return map_find_fwd(nc, fkey_bucket(nc, proto, in_addr, in_port, dst_addr, dst_port),
			    proto, in_addr, in_port, dst_addr, dst_port);
}

struct nat_map *
nat_map_insert(struct nat_ctx *nc, uint8_t proto, uint32_t in_addr, uint16_t in_port,
	       uint32_t dst_addr, uint16_t dst_port, unsigned int ai, uint32_t out_addr,
	       uint16_t out_port, uint8_t flags)
{
	return map_insert(nc, fkey_bucket(nc, proto, in_addr, in_port, dst_addr, dst_port), proto,
			  in_addr, in_port, dst_addr, dst_port, ai, out_addr, out_port, flags);
}

void
nat_map_remote_add(struct nat_ctx *nc, struct nat_map *m, uint32_t addr)
{
	remote_add(nc, m, addr);
}
