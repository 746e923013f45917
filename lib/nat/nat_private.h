/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat_private.h - what lib/nat's files share and nobody else sees: the per-worker context,
 * the shared port table, the mapping records and their hash index, the per-host records,
 * the forward table layout and the internal functions between nat_config.c, nat_fwd.c,
 * nat_ports.c, nat_host.c and nat_mapping.c.
 */
#ifndef NATGW_NAT_PRIVATE_H
#define NATGW_NAT_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "nat.h"

#define NAT_NIL		UINT32_MAX
#define NAT_PORT_WORDS	(65536 / 64)

/* port classes: each protocol that has ports (or an ICMP query identifier) has its own
 * number space per outside address */
enum nat_pclass {
	NAT_PC_TCP = 0,
	NAT_PC_UDP,
	NAT_PC_ICMP,
	NAT_PC_MAX
};

/* ranges of a port space: RFC 4787 REQ-3 keeps well-known source ports well-known */
#define NAT_RANGE_LOW	0	/* 0..1023 */
#define NAT_RANGE_HIGH	1	/* 1024..65535 */
#define NAT_RANGE_ANY	2	/* ICMP identifiers: no class */

/** Port class of an IP protocol, or -1 when it has no translatable port. */
static inline int
nat_pclass_of(uint8_t proto)
{
	switch (proto) {
	case 6:		/* IPPROTO_TCP */
		return NAT_PC_TCP;
	case 17:	/* IPPROTO_UDP */
		return NAT_PC_UDP;
	case 1:		/* IPPROTO_ICMP */
		return NAT_PC_ICMP;
	default:
		return -1;
	}
}

/** Forward table: entries sorted by (proto, ext_addr host order, ext_lo). */
struct nat_fwd_table {
	unsigned int n;
	uint32_t *by_int;	/* indexes into fwd[] sorted by (proto, int_addr, int_port) */
	struct nat_fwd fwd[];
};

/* the forward whose inside range holds proto/int_addr/int_port (host order), or NULL */
const struct nat_fwd *nat_fwd_lookup_inside(const struct nat_fwd_table *ft, uint8_t proto,
					    uint32_t int_addr, uint16_t int_port);
/* bit i set: port base + i (base a multiple of 64, host order) is forwarded in ft */
uint64_t nat_fwd_mask64(const struct nat_fwd_table *ft, uint8_t proto, uint32_t ext_addr,
			uint32_t base);

/** One outside address' ports of one class, shared by all workers (nat_ports.c). */
struct nat_pt_space {
	uint64_t used[NAT_PORT_WORDS];	/* set: held; claimed with an atomic fetch-or */
	uint8_t owner[65536];		/* worker + 1 holding the port, 0: free (workers
					 * <= 254: nat_config_check) */
	uint32_t free[2];		/* ports left per [NAT_RANGE_LOW/HIGH] (atomic) */
	uint32_t total[2];		/* ports in [port_lo, port_hi] per range */
	/* RSS steering (nat_rss.c): this address' row of the table's wop[] (NULL: none), and
	 * per worker the free ports steered to it (atomic): a worker with none left skips the
	 * steered search instead of scanning every word for nothing */
	const uint16_t *wop;
	uint32_t steer_free[NAT_RSS_MAX_WORKERS];
};

struct nat_port_table {
	unsigned int n_addrs;
	bool use_heap;
	uint32_t addrs[NAT_MAX_ADDRS];
	uint16_t port_lo[NAT_MAX_ADDRS];
	uint16_t port_hi[NAT_MAX_ADDRS];
	uint64_t key[2];		/* secret of the search start (RFC 6056 algorithm 3) */
	struct nat_pt_space *sp;	/* [addr * NAT_PC_MAX + pclass] */
	/* RSS steering on the outside (nat_rss.c), NULL: none. wop[ai * 65536 + port]: the
	 * worker whose queue the NIC gives TCP/UDP to address ai, port (any remote) */
	const struct nat_rss_port *rss;
	uint16_t *wop;
	/* port triggering (nat_trigger.c): NAT_TRIG_SLOTS open ranges per worker, [worker *
	 * NAT_TRIG_SLOTS + i], written by that worker only, read by any (nat_inbound_owner);
	 * NULL without triggers */
	struct nat_trig_slot *trig;
};

#define NAT_TRIG_SLOTS 64

/* One open range: `seq` is odd while the owner writes it (readers retry or skip). */
struct nat_trig_slot {
	uint32_t seq;
	uint32_t in_addr;		/* the host it is open to; 0: free */
	uint32_t out_addr;		/* its outside address */
	uint16_t rule;			/* index in nat_config.triggers */
	ct_time_t expire;
};

/* nat_trigger.c */
void nat_trigger_fire(struct nat_ctx *nc, const struct ct_tuple *t, uint32_t out_addr,
		      ct_time_t now);
uint32_t nat_trigger_find(const struct nat_ctx *nc, const struct ct_tuple *t, ct_time_t now);
unsigned int nat_trigger_owner(const struct nat_config *cfg, const struct nat_port_table *pt,
			       const struct ct_tuple *t);

/* the two connection budgets of a host (nat_host.c): its own outbound connections, and
 * those made to it from outside (port forwards, EIF/ADF mappings, helpers' expected ones) */
#define NAT_HD_OUT	0
#define NAT_HD_IN	1

/** Per-host accounting (RFC 6888 REQ-4/5), per worker: all of a host's connections live on
 * its owner worker (nat_host_owner), so counting needs no shared state. */
struct nat_host {
	uint32_t addr;			/* network order; 0: free record */
	uint32_t conns[2];		/* connections counted for it, per NAT_HD_* */
	uint32_t ports[NAT_PC_MAX];	/* dynamic outside ports its mappings and its helper
					 * reservations hold */
	uint32_t res[NAT_HR_MAX];	/* what other layers count for it (nat.h) */
	/* per NAT_HD_*: its connections not yet seen ASSURED, oldest first (conntrack ids,
	 * linked through nat_ctx.hlink): the candidates nat_host_make_room() evicts */
	uint32_t lhead[2], ltail[2];
	uint32_t next;			/* hash chain */
};

/* a connection's links in its host's candidate list (index: conntrack id) */
struct nat_hlink {
	uint32_t prev, next;		/* NAT_NIL: end; prev NAT_HL_OFF: not linked */
};
#define NAT_HL_OFF	(UINT32_MAX - 1)

/* CT_USER_NAT word of a connection: mapping index + 1 in the low bits, and whether the
 * connection is counted for an inside host (and which end that host is) */
#define NAT_UW_COUNTED	UINT32_C(0x80000000)	/* counted in a host's conns */
#define NAT_UW_HOST_REPLY UINT32_C(0x40000000)	/* the host is the reply source (inbound) */
#define NAT_UW_MAP_MASK	UINT32_C(0x3fffffff)

/* ADF (RFC 4787 section 5 "address-dependent filtering"): remote addresses the mapping
 * has sent to. The first NAT_ADF_SLOTS are kept exactly; beyond that a 64-bit keyed Bloom
 * filter (2 bits per address) records the rest, which can only err towards accepting. Only
 * ADF reads them, so they live in an array of their own (nat_ctx.adf, parallel to maps[])
 * allocated only under filtering = address-dependent: the 24 bytes per mapping are not
 * paid under the default APDF (nor EIF), and nothing of it is read per packet. */
#define NAT_ADF_SLOTS	4

struct nat_adf {
	uint64_t bloom;		/* 0: no address beyond the slots */
	uint32_t remote[NAT_ADF_SLOTS];
	uint8_t n_remote;
};

/* nat_map.flags: the pool index of out_addr in the low bits, and what kind of mapping */
#define NAT_MF_AI_MASK	0x3f	/* index of out_addr in the pool (NAT_MAX_ADDRS <= 64) */
#define NAT_MF_STATIC	0x80	/* a forward's outside port: never allocated, not the host's */

/* One mapping: 32 bytes, two to a cache line (was 64 with the ADF state inline). Only new
 * connections, their ends and inbound misses touch it, never an established packet. */
struct nat_map {
	uint32_t in_addr;	/* inside endpoint, network order */
	uint32_t dst_addr;	/* APDM: destination endpoint (0 under EIM) */
	uint32_t out_addr;	/* outside endpoint */
	uint16_t in_port;	/* network order (ICMP: query identifier) */
	uint16_t dst_port;
	uint16_t out_port;
	uint8_t proto;
	uint8_t flags;		/* NAT_MF_*: pool index and kind */
	uint32_t refcnt;	/* connections using it; 0: free record */
	uint32_t fnext;		/* chain in the forward (inside key) index; free: next free */
	uint32_t rnext;		/* chain in the reverse (outside key) index */
};

_Static_assert(sizeof(struct nat_map) == 32, "struct nat_map is 32 bytes");
_Static_assert(NAT_MAX_ADDRS <= NAT_MF_AI_MASK + 1, "pool index fits nat_map.flags");

static inline unsigned int
nat_map_ai(const struct nat_map *m)
{
	return m->flags & NAT_MF_AI_MASK;
}

/* bucket of 64-bit hash h in a table of n buckets (any n, not only powers of 2: Lemire's
 * multiply-shift range reduction of the hash's high half) */
static inline uint32_t
nat_bucket(uint64_t h, uint32_t n)
{
	return (uint32_t)(((h >> 32) * (uint64_t)n) >> 32);
}

struct nat_ctx {
	struct nat_config cfg;			/* own copy, immutable */
	unsigned int worker;
	struct ct_table *ct;
	const struct nat_fwd_table *fwd;	/* what this worker's bitmaps reserve */
	const struct nat_fwd_table *fwd_pending; /* published by the control plane */
	bool use_heap;
	bool cb_set;				/* our destroy callback is registered */
	uint64_t key[2];			/* hash secret of the mapping index */
	struct nat_port_table *pt;		/* shared by all workers */
	bool pt_own;				/* created with the context: free with it */
	/* per-host limits (resolved) and records */
	uint32_t lim_conns, lim_ports;
	uint32_t lim_conns_in;			/* inbound budget (NAT_HD_IN) */
	struct nat_hlink *hlink;		/* [conntrack capacity] */
	struct nat_host *hosts;
	uint32_t host_cap;
	uint32_t host_free;			/* first free record, linked by next */
	uint32_t host_free_top;			/* free records */
	uint32_t *host_head;
	uint32_t host_nb;			/* buckets of host_head */
	/* mappings */
	struct nat_map *maps;
	struct nat_adf *adf;			/* [map_cap] under ADF only, else NULL */
	uint32_t map_cap;
	uint32_t map_free;			/* first free record, linked by fnext */
	uint32_t map_free_top;			/* free records */
	uint32_t *fhead;			/* inside key -> first record */
	uint32_t *rhead;			/* outside key -> first record */
	uint32_t map_nb;			/* buckets of fhead and rhead */
	struct nat_stats stats;			/* owner writes, anyone reads */
};

/* owner is the only writer; the store is atomic so nat_stats_get never sees torn words */
#define NAT_STAT_ADD(nc, field, v)						\
	__atomic_store_n(&(nc)->stats.field, (nc)->stats.field + (v), __ATOMIC_RELAXED)
#define NAT_STAT_INC(nc, field) NAT_STAT_ADD(nc, field, 1)

static inline void
nat_reason_inc(struct nat_ctx *nc, enum nat_reason r)
{
	if ((unsigned int)r < NAT_R_MAX)
		NAT_STAT_INC(nc, reason[r]);
}

/* keyed 64-bit hash of two words ("mum" rounds, as ct_hash; the key is secret) */
static inline uint64_t
nat_mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t
nat_hash2(const uint64_t key[2], uint64_t a, uint64_t b)
{
	return nat_mum(nat_mum(a ^ key[0], b ^ key[1]) ^ UINT64_C(0x9e3779b97f4a7c15),
		       key[1] | 1);
}

/* nat_config.c */
unsigned int nat_paired_addr(const struct nat_config *cfg, uint32_t in_addr);
void *nat_zalloc(bool heap, size_t size);
void nat_free(bool heap, void *p);

/* nat_ports.c */
bool nat_port_allowed(const struct nat_ctx *nc, unsigned int ai, unsigned int pc,
		      uint16_t port);
/* take a given port (host order) if allowed and free: 0, else -1 */
int nat_port_take(struct nat_ctx *nc, unsigned int ai, unsigned int pc, uint16_t port);
/* claim a forward's port for its static mapping (no forward mask): 0, else -1 */
int nat_port_claim_static(struct nat_ctx *nc, unsigned int ai, unsigned int pc,
			  uint16_t port);
/* search a free port of range `rng` (NAT_RANGE_*), starting from a point derived from
 * `seed` with the table's secret, of parity `parity` (0, 1) when one is free (-1: any):
 * port (host order) or -1 */
int nat_port_alloc(struct nat_ctx *nc, unsigned int ai, unsigned int pc, unsigned int rng,
		   uint64_t seed, int parity);
void nat_port_release(struct nat_ctx *nc, unsigned int ai, unsigned int pc, uint16_t port);
/* RSS steering: the worker whose outside queue gets TCP/UDP to addr:port (host order),
 * NAT_OWNER_UNKNOWN when pt does not steer or addr is not in the pool */
uint32_t nat_port_table_rss_worker(const struct nat_port_table *pt, uint32_t addr,
				   uint16_t port);
/* RSS steering (nat_rss.c): does a reply to port of address ai land on this worker's queue?
 * true when the table does not steer class pc or this worker has no outside queue */
bool nat_port_steered(const struct nat_ctx *nc, unsigned int ai, unsigned int pc,
		      uint16_t port);
/* adopt forward table ft (its ports are never allocated while it is adopted or pending) */
void nat_ports_set_fwd(struct nat_ctx *nc, const struct nat_fwd_table *ft);
/* which range a new mapping of inside port `port` must come from (RFC 4787 REQ-3) */
unsigned int nat_port_range_for(const struct nat_ctx *nc, unsigned int ai, unsigned int pc,
				uint16_t port);

/* nat_host.c */
/* [nat] max_hosts auto: a sixteenth of the conntrack capacity, at least this many */
#define NAT_HOSTS_AUTO_DIV	16
#define NAT_HOSTS_AUTO_MIN	4096
int nat_hosts_init(struct nat_ctx *nc);
void nat_hosts_fini(struct nat_ctx *nc);

/* bucket of inside host addr in host_head (keyed with the context's secret) */
static inline uint32_t
nat_host_bucket(const struct nat_ctx *nc, uint32_t addr)
{
	return nat_bucket(nat_hash2(nc->key, addr, UINT64_C(0x686f7374)), nc->host_nb);
}

/* the record of inside host addr, NULL if none; with create, made when missing (NULL only
 * when the host table is full). _b: with its bucket b = nat_host_bucket(nc, addr) known */
struct nat_host *nat_host_get(struct nat_ctx *nc, uint32_t addr, bool create);
struct nat_host *nat_host_get_b(struct nat_ctx *nc, uint32_t addr, uint32_t b, bool create);
/* could a record for addr be had now (it exists or one is free)? */
static inline bool
nat_host_avail_b(struct nat_ctx *nc, uint32_t addr, uint32_t b)
{
	return nc->host_free_top != 0 || nat_host_get_b(nc, addr, b, false) != NULL;
}
/* free the record if it counts nothing any more (_b: b is its address' bucket) */
void nat_host_release(struct nat_ctx *nc, struct nat_host *h);
void nat_host_release_b(struct nat_ctx *nc, struct nat_host *h, uint32_t b);
/* connection `id` counted for h in budget d (NAT_HD_*): append to / remove from h's list of
 * eviction candidates (unlinking one not linked is a no-op) */
void nat_host_link(struct nat_ctx *nc, struct nat_host *h, unsigned int d, uint32_t id);
void nat_host_unlink(struct nat_ctx *nc, struct nat_host *h, unsigned int d, uint32_t id);
/* is inside host addr below its limit for budget d? If not, evict its own oldest
 * connection of that budget that is not ASSURED (bounded search); true when there is room
 * now. May free addr's record: look it up again afterwards. */
bool nat_host_room(struct nat_ctx *nc, uint32_t addr, unsigned int d, ct_time_t now);
bool nat_host_room_b(struct nat_ctx *nc, uint32_t addr, uint32_t b, unsigned int d,
		     ct_time_t now);

/* nat_mapping.c */
struct nat_map *nat_map_find_rev(const struct nat_ctx *nc, uint8_t proto,
				     uint32_t out_addr, uint16_t out_port);
/* (for nat_snapshot.c) the mapping of an inside key; a new record (a free one must exist);
 * an address the mapping sent to (ADF) */
struct nat_map *nat_map_find_key(const struct nat_ctx *nc, uint8_t proto, uint32_t in_addr,
				 uint16_t in_port, uint32_t dst_addr, uint16_t dst_port);
struct nat_map *nat_map_insert(struct nat_ctx *nc, uint8_t proto, uint32_t in_addr,
			       uint16_t in_port, uint32_t dst_addr, uint16_t dst_port,
			       unsigned int ai, uint32_t out_addr, uint16_t out_port,
			       uint8_t flags);
void nat_map_remote_add(struct nat_ctx *nc, struct nat_map *m, uint32_t addr);

#endif /* NATGW_NAT_PRIVATE_H */
