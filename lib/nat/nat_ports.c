/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat_ports.c - outside port allocation of one worker. Per outside address and per port
 * class (TCP, UDP, ICMP query identifier) a 65536-bit bitmap of ports in use plus free
 * counts. A worker owns the ports p with p % n_workers == worker (DESIGN.md "Ownership":
 * the outside port says which lcore a reply belongs to), within the address' configured
 * [port_lo, port_hi]. Forwarded ports are reserved: marked used and never handed out.
 *
 * Allocation (the cold path of a new mapping):
 *  - the inside port is kept when this worker owns it and it is free (port preservation,
 *    RFC 4787 section 4.2.1), see nat_port_take();
 *  - otherwise the bitmap is searched from a random word (RFC 6056: unpredictable ports),
 *    one word at a time, masking in this worker's lane, the address' range and the port's
 *    range (RFC 4787 REQ-3: 0-1023 stays 0-1023, 1024-65535 stays 1024-65535). The search
 *    makes at most one pass over the words and is exact: when the free count says a port
 *    exists, it is found (VPP nat44-ed gives up after a fixed number of random tries).
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_common.h>
#include <rte_random.h>

#include "nat_private.h"

static unsigned int
gcd(unsigned int a, unsigned int b)
{
	while (b != 0) {
		unsigned int t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static uint64_t
rng_next(struct nat_ctx *nc)
{
	/* xorshift64* (Vigna): the start point only has to be unpredictable per worker */
	uint64_t x = nc->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	nc->rng = x;
	return x * UINT64_C(0x2545f4914f6cdd1d);
}

static inline struct nat_portmap *
pmap(const struct nat_ctx *nc, unsigned int ai, unsigned int pc)
{
	return &nc->pm[ai * NAT_PC_MAX + pc];
}

static inline uint64_t
lane_mask(const struct nat_ctx *nc, unsigned int word)
{
	return nc->lane[word % nc->lane_period];
}

/* bits of word `w` that lie within [from, to] */
static inline uint64_t
span_mask(unsigned int w, unsigned int from, unsigned int to)
{
	unsigned int lo = w == from / 64 ? from % 64 : 0;
	unsigned int hi = w == to / 64 ? to % 64 : 63;

	return (~UINT64_C(0) << lo) & (~UINT64_C(0) >> (63 - hi));
}

/* the ports of range `rng` of address ai: [*from, *to]; false if empty */
static bool
range_bounds(const struct nat_ctx *nc, unsigned int ai, unsigned int rng, unsigned int *from,
	     unsigned int *to)
{
	unsigned int lo = nc->cfg.port_lo[ai], hi = nc->cfg.port_hi[ai];

	if (rng == NAT_RANGE_LOW)
		hi = RTE_MIN(hi, 1023u);
	else if (rng == NAT_RANGE_HIGH)
		lo = RTE_MAX(lo, 1024u);
	*from = lo;
	*to = hi;
	return lo <= hi;
}

static inline unsigned int
range_of(uint16_t port)
{
	return port < 1024 ? NAT_RANGE_LOW : NAT_RANGE_HIGH;
}

static unsigned int
count_owned(const struct nat_ctx *nc, unsigned int from, unsigned int to)
{
	unsigned int w, n = 0;

	for (w = from / 64; w <= to / 64; w++)
		n += (unsigned int)__builtin_popcountll(lane_mask(nc, w) & span_mask(w, from, to));
	return n;
}

int
nat_ports_init(struct nat_ctx *nc)
{
	unsigned int n = nc->cfg.n_workers, ai, pc, r, k, i;

	nc->lane_period = n / gcd(n, 64);
	nc->lane = nat_zalloc(nc->use_heap, nc->lane_period * sizeof(uint64_t));
	nc->pm = nat_zalloc(nc->use_heap, (size_t)nc->cfg.n_addrs * NAT_PC_MAX *
				       sizeof(struct nat_portmap));
	if (nc->lane == NULL || nc->pm == NULL)
		return -ENOMEM;
	for (k = 0; k < nc->lane_period; k++)
		for (i = 0; i < 64; i++)
			if ((64 * k + i) % n == nc->worker)
				nc->lane[k] |= UINT64_C(1) << i;
	for (ai = 0; ai < nc->cfg.n_addrs; ai++) {
		for (r = NAT_RANGE_LOW; r <= NAT_RANGE_HIGH; r++) {
			unsigned int from, to, cnt = 0;

			if (range_bounds(nc, ai, r, &from, &to))
				cnt = count_owned(nc, from, to);
			for (pc = 0; pc < NAT_PC_MAX; pc++)
				pmap(nc, ai, pc)->free[r] = pmap(nc, ai, pc)->total[r] = cnt;
		}
	}
	nc->rng = rte_rand() | 1;
	return 0;
}

void
nat_ports_fini(struct nat_ctx *nc)
{
	nat_free(nc->use_heap, nc->lane);
	nat_free(nc->use_heap, nc->pm);
	nc->lane = NULL;
	nc->pm = NULL;
}

bool
nat_port_allowed(const struct nat_ctx *nc, unsigned int ai, uint16_t port)
{
	return port % nc->cfg.n_workers == nc->worker && port >= nc->cfg.port_lo[ai] &&
	       port <= nc->cfg.port_hi[ai];
}

static inline bool
bit_test(const struct nat_portmap *m, uint16_t port)
{
	return (m->used[port / 64] >> (port % 64)) & 1;
}

static inline void
bit_set(struct nat_portmap *m, uint16_t port)
{
	m->used[port / 64] |= UINT64_C(1) << (port % 64);
	m->free[range_of(port)]--;
}

static inline void
bit_clear(struct nat_portmap *m, uint16_t port)
{
	m->used[port / 64] &= ~(UINT64_C(1) << (port % 64));
	m->free[range_of(port)]++;
}

int
nat_port_take(struct nat_ctx *nc, unsigned int ai, unsigned int pc, uint16_t port)
{
	struct nat_portmap *m = pmap(nc, ai, pc);

	if (!nat_port_allowed(nc, ai, port) || bit_test(m, port))
		return -1;
	bit_set(m, port);
	NAT_STAT_INC(nc, ports_in_use);
	return 0;
}

unsigned int
nat_port_range_for(const struct nat_ctx *nc, unsigned int ai, unsigned int pc, uint16_t port)
{
	const struct nat_portmap *m = pmap(nc, ai, pc);
	unsigned int r = range_of(port);

	if (pc == NAT_PC_ICMP)
		return NAT_RANGE_ANY;	/* identifiers have no privileged range */
	/* REQ-3 is a RECOMMENDED: when the pool has no port of that range at all (the
	 * default range 1024-65535 and an inside port below 1024), any port will do */
	if (m->total[r] == 0)
		return NAT_RANGE_ANY;
	return r;
}

int
nat_port_alloc(struct nat_ctx *nc, unsigned int ai, unsigned int pc, unsigned int rng)
{
	struct nat_portmap *m = pmap(nc, ai, pc);
	unsigned int from, to, wf, nw, start, rot, i;
	uint32_t avail;

	avail = rng == NAT_RANGE_ANY ? m->free[0] + m->free[1] : m->free[rng];
	if (avail == 0 || !range_bounds(nc, ai, rng, &from, &to))
		return -1;
	wf = from / 64;
	nw = to / 64 - wf + 1;
	{
		uint64_t r = rng_next(nc);

		start = (unsigned int)((r >> 8) % nw);
		rot = (unsigned int)(r & 63);
	}
	for (i = 0; i < nw; i++) {
		unsigned int w = wf + (start + i) % nw;
		uint64_t cand = ~m->used[w] & lane_mask(nc, w) & span_mask(w, from, to);
		uint64_t upper;
		uint16_t port;

		if (cand == 0)
			continue;
		/* inside the word, start at a random bit too */
		upper = cand & (~UINT64_C(0) << rot);
		port = (uint16_t)(w * 64 + (unsigned int)__builtin_ctzll(upper ? upper : cand));
		bit_set(m, port);
		NAT_STAT_INC(nc, ports_in_use);
		return port;
	}
	return -1;	/* not reached while the free counts are right */
}

static bool
forwarded_in(const struct nat_ctx *nc, const struct nat_fwd_table *ft, unsigned int ai,
	     unsigned int pc, uint16_t port)
{
	uint8_t proto = pc == NAT_PC_TCP ? IPPROTO_TCP : pc == NAT_PC_UDP ? IPPROTO_UDP : 0;

	return proto != 0 && nat_fwd_lookup(ft, proto, nc->cfg.addrs[ai], port) != NULL;
}

void
nat_port_release(struct nat_ctx *nc, unsigned int ai, unsigned int pc, uint16_t port)
{
	struct nat_portmap *m = pmap(nc, ai, pc);

	if (!bit_test(m, port))
		return;
	NAT_STAT_ADD(nc, ports_in_use, -1);
	/* a port that became a forward while a mapping held it stays reserved */
	if (!forwarded_in(nc, nc->fwd, ai, pc, port))
		bit_clear(m, port);
}

void
nat_port_unreserve(struct nat_ctx *nc, unsigned int ai, unsigned int pc, uint16_t port)
{
	struct nat_portmap *m = pmap(nc, ai, pc);

	if (nat_port_allowed(nc, ai, port) && bit_test(m, port) &&
	    !forwarded_in(nc, nc->fwd, ai, pc, port))
		bit_clear(m, port);
}

/* Walk the ports of forward f that this worker owns on its outside address. */
#define FOREACH_OWNED_FWD_PORT(nc, f, ai, port)					\
	for (uint32_t port = (f)->ext_lo +						\
		((nc)->worker + (nc)->cfg.n_workers - (f)->ext_lo % (nc)->cfg.n_workers) % \
		(nc)->cfg.n_workers;							\
	     port <= (f)->ext_hi; port += (nc)->cfg.n_workers)			\
		if (nat_port_allowed(nc, ai, (uint16_t)port))

void
nat_ports_set_fwd(struct nat_ctx *nc, const struct nat_fwd_table *ft)
{
	const struct nat_fwd_table *old = nc->fwd;
	unsigned int i;

	if (old == ft)
		return;
	/* release the ports of the old forwards that neither the new table nor a mapping
	 * holds */
	for (i = 0; i < nat_fwd_count(old); i++) {
		const struct nat_fwd *f = nat_fwd_get(old, i);
		int ai = nat_addr_index(&nc->cfg, f->ext_addr);
		unsigned int pc = (unsigned int)nat_pclass_of(f->proto);

		if (ai < 0)
			continue;
		FOREACH_OWNED_FWD_PORT(nc, f, (unsigned int)ai, port) {
			struct nat_portmap *m = pmap(nc, (unsigned int)ai, pc);

			if (bit_test(m, (uint16_t)port) &&
			    !forwarded_in(nc, ft, (unsigned int)ai, pc, (uint16_t)port) &&
			    nat_map_find_rev(nc, f->proto, f->ext_addr,
					     htons((uint16_t)port)) == NULL)
				bit_clear(m, (uint16_t)port);
		}
	}
	for (i = 0; i < nat_fwd_count(ft); i++) {
		const struct nat_fwd *f = nat_fwd_get(ft, i);
		int ai = nat_addr_index(&nc->cfg, f->ext_addr);
		unsigned int pc = (unsigned int)nat_pclass_of(f->proto);

		if (ai < 0)
			continue;	/* not a pool address: nothing of ours to reserve */
		FOREACH_OWNED_FWD_PORT(nc, f, (unsigned int)ai, port) {
			struct nat_portmap *m = pmap(nc, (unsigned int)ai, pc);

			if (!bit_test(m, (uint16_t)port))
				bit_set(m, (uint16_t)port);
		}
	}
	/* published last: the control plane frees `old` once it sees `ft` here */
	__atomic_store_n(&nc->fwd, ft, __ATOMIC_RELEASE);
}

/* ---- reservations for lib/helpers' expectations (nat.h) ---- */

int
nat_port_reserve(struct nat_ctx *nc, uint8_t proto, uint32_t addr, uint16_t want)
{
	int ai = nat_addr_index(&nc->cfg, addr);
	int pc = nat_pclass_of(proto);

	if (ai < 0 || (pc != NAT_PC_TCP && pc != NAT_PC_UDP))
		return -1;
	if (nat_port_take(nc, (unsigned int)ai, (unsigned int)pc, want) == 0)
		return want;
	return nat_port_alloc(nc, (unsigned int)ai, (unsigned int)pc,
			      nat_port_range_for(nc, (unsigned int)ai, (unsigned int)pc, want));
}

void
nat_port_reserved_put(struct nat_ctx *nc, uint8_t proto, uint32_t addr, uint16_t port)
{
	int ai = nat_addr_index(&nc->cfg, addr);
	int pc = nat_pclass_of(proto);

	if (ai < 0 || (pc != NAT_PC_TCP && pc != NAT_PC_UDP))
		return;
	nat_port_release(nc, (unsigned int)ai, (unsigned int)pc, port);
}
