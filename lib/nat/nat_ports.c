/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat_ports.c - outside port allocation, one table for all the workers of a gateway: per
 * outside address and per port class (TCP, UDP, ICMP query identifier) a 65536-bit bitmap
 * of ports held, the worker holding each port, and free counts.
 *
 * Why one shared table, claimed lock-free (DESIGN.md "N workers behave
 * exactly as one"). Slicing the ports per worker (p % n_workers) made port preservation
 * work for 1/N of the ports, and made the port a flow gets depend on the number of workers.
 * Instead:
 *  - used[]: a worker claims port p with an atomic fetch-or of p's bit. The one whose
 *    fetch-or saw the bit clear holds p; a loser just tries its next candidate. No lock,
 *    no retry loop, nothing allocated; any worker can take any free port, so the inside
 *    port is preserved whatever the worker count (RFC 4787 section 4.2.1).
 *  - owner[]: worker + 1 holding p, stored (release) right after the claim, cleared
 *    before the bit on release. Inbound steering (nat_inbound_owner) reads it (acquire) to
 *    send a reply, or an ICMP error quoting p, to the worker that holds the mapping. A reply
 *    cannot exist before the first packet left, which is after the store.
 *  - free[]: atomic counts per range, a cheap "none left" test.
 * Only the port's holder is shared: the mapping, its filter state and its connections stay
 * in the holder's own tables (per lcore, no locks), and each connection is still owned by
 * exactly one worker, the owner of its inside host.
 *
 * Port choice (the cold path of a new mapping):
 *  - the inside port when free and in the address' range (port preservation), see
 *    nat_port_take();
 *  - otherwise a search starting at a keyed hash of the inside endpoint (RFC 6056 section
 *    3.3.3, algorithm 3 "simple hash-based": unpredictable without the table's secret, and
 *    the same whichever worker runs it, so N workers choose what one would), one word at a
 *    time, masking the address' range, the port's range (RFC 4787 REQ-3: 0-1023 stays
 *    0-1023, 1024-65535 stays 1024-65535) and forwarded ports, first among the ports of the
 *    inside port's parity (RFC 4787 section 4.2.2), then among all. Each pass is exact while
 *    nobody else allocates: when the free count says a port exists, it is found.
 *  - with RSS steering on the outside (nat_rss.c), both passes look first among the ports
 *    whose replies the NIC delivers to the allocating worker's queue (wop[], built at create
 *    from the key and RETA natgw gave the NIC), then, when none of those is free, among all
 *    (the reply is then handed off, as without RSS). Preservation keeps the inside port
 *    only when it steers to this worker, unless cfg->rss_preserve says preservation wins.
 *    ICMP identifiers are not steered: RSS does not hash them.
 * Forwarded ports are never allocated: the ports of this worker's adopted forward table and
 * of the one being published are masked out of every take and search, so nothing has to be
 * kept in step with the tables when the control plane swaps them. A forward's port is
 * claimed only by its static mapping (the forwarded server talking first), for as long as
 * that mapping lives, so that it is not handed out if the forward goes meanwhile.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_random.h>

#include "nat_private.h"

/* ---- the shared table ---- */

static inline struct nat_pt_space *
space(const struct nat_port_table *pt, unsigned int ai, unsigned int pc)
{
	return &pt->sp[ai * NAT_PC_MAX + pc];
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
range_bounds(const struct nat_port_table *pt, unsigned int ai, unsigned int rng,
	     unsigned int *from, unsigned int *to)
{
	unsigned int lo = pt->port_lo[ai], hi = pt->port_hi[ai];

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

struct nat_port_table *
nat_port_table_create(const struct nat_config *cfg, bool use_heap)
{
	struct nat_port_table *pt;
	unsigned int ai, pc, r;

	if (cfg == NULL || nat_config_check(cfg, NULL, 0) != 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	pt = nat_zalloc(use_heap, sizeof(*pt));
	if (pt == NULL)
		goto nomem;
	pt->use_heap = use_heap;
	pt->n_addrs = cfg->n_addrs;
	pt->sp = nat_zalloc(use_heap, (size_t)cfg->n_addrs * NAT_PC_MAX * sizeof(*pt->sp));
	if (pt->sp == NULL) {
		nat_free(use_heap, pt);
		goto nomem;
	}
	for (ai = 0; ai < cfg->n_addrs; ai++) {
		pt->addrs[ai] = cfg->addrs[ai];
		pt->port_lo[ai] = cfg->port_lo[ai];
		pt->port_hi[ai] = cfg->port_hi[ai];
		for (r = NAT_RANGE_LOW; r <= NAT_RANGE_HIGH; r++) {
			unsigned int from, to, cnt = 0;

			if (range_bounds(pt, ai, r, &from, &to))
				cnt = to - from + 1;
			for (pc = 0; pc < NAT_PC_MAX; pc++)
				space(pt, ai, pc)->free[r] = space(pt, ai, pc)->total[r] = cnt;
		}
	}
	pt->key[0] = rte_rand();
	pt->key[1] = rte_rand();
	if (cfg->n_triggers != 0) {
		pt->trig = nat_zalloc(use_heap, (size_t)cfg->n_workers * NAT_TRIG_SLOTS *
				      sizeof(*pt->trig));
		if (pt->trig == NULL) {
			nat_port_table_free(pt);
			goto nomem;
		}
	}
	if (cfg->rss != NULL && cfg->rss->port[NAT_RSS_OUTSIDE].reta_size != 0) {
		const struct nat_rss_port *rp = &cfg->rss->port[NAT_RSS_OUTSIDE];
		unsigned int p;

		if (nat_rss_check(cfg->rss, cfg->n_workers, NULL, 0) != 0) {
			nat_port_table_free(pt);
			rte_errno = EINVAL;
			return NULL;
		}
		pt->wop = nat_zalloc(use_heap, (size_t)cfg->n_addrs * 65536 * sizeof(*pt->wop));
		if (pt->wop == NULL) {
			nat_port_table_free(pt);
			goto nomem;
		}
		pt->rss = rp;
		for (ai = 0; ai < cfg->n_addrs; ai++) {
			const uint16_t *row = &pt->wop[(size_t)ai * 65536];

			for (p = 0; p < 65536; p++)
				pt->wop[(size_t)ai * 65536 + p] = (uint16_t)nat_rss_outside_worker(
					rp, cfg->addrs[ai], rte_cpu_to_be_16((uint16_t)p));
			for (pc = 0; pc < NAT_PC_MAX; pc++) {
				struct nat_pt_space *s = space(pt, ai, pc);

				s->wop = row;
				for (p = pt->port_lo[ai]; p <= pt->port_hi[ai]; p++)
					s->steer_free[row[p]]++;
			}
		}
	}
	return pt;
nomem:
	rte_errno = ENOMEM;
	return NULL;
}

void
nat_port_table_free(struct nat_port_table *pt)
{
	if (pt == NULL)
		return;
	nat_free(pt->use_heap, pt->trig);
	nat_free(pt->use_heap, pt->wop);
	nat_free(pt->use_heap, pt->sp);
	nat_free(pt->use_heap, pt);
}

static int
pt_addr_index(const struct nat_port_table *pt, uint32_t addr)
{
	unsigned int i;

	for (i = 0; i < pt->n_addrs; i++)
		if (pt->addrs[i] == addr)
			return (int)i;
	return -1;
}

uint32_t
nat_port_table_owner(const struct nat_port_table *pt, uint8_t proto, uint32_t addr,
		     uint16_t port)
{
	int ai = pt != NULL ? pt_addr_index(pt, addr) : -1;
	int pc = nat_pclass_of(proto);
	uint8_t o;

	if (ai < 0 || pc < 0)
		return NAT_OWNER_UNKNOWN;
	o = __atomic_load_n(&space(pt, (unsigned int)ai, (unsigned int)pc)->owner[port],
			    __ATOMIC_ACQUIRE);
	return o == 0 ? NAT_OWNER_UNKNOWN : (uint32_t)o - 1;
}

uint32_t
nat_port_table_rss_worker(const struct nat_port_table *pt, uint32_t addr, uint16_t port)
{
	int ai = pt != NULL && pt->wop != NULL ? pt_addr_index(pt, addr) : -1;

	return ai < 0 ? NAT_OWNER_UNKNOWN : pt->wop[(size_t)ai * 65536 + port];
}

/* Claim port p for worker w: true when this call took it. */
static bool
pt_claim(struct nat_pt_space *s, uint16_t port, unsigned int w)
{
	uint64_t bit = UINT64_C(1) << (port % 64);

	if (__atomic_fetch_or(&s->used[port / 64], bit, __ATOMIC_ACQ_REL) & bit)
		return false;	/* someone else holds it */
	__atomic_store_n(&s->owner[port], (uint8_t)(w + 1), __ATOMIC_RELEASE);
	__atomic_fetch_sub(&s->free[range_of(port)], 1, __ATOMIC_RELAXED);
	if (s->wop != NULL)
		__atomic_fetch_sub(&s->steer_free[s->wop[port]], 1, __ATOMIC_RELAXED);
	return true;
}

static void
pt_unclaim(struct nat_pt_space *s, uint16_t port)
{
	__atomic_store_n(&s->owner[port], 0, __ATOMIC_RELEASE);
	__atomic_fetch_and(&s->used[port / 64], ~(UINT64_C(1) << (port % 64)), __ATOMIC_RELEASE);
	__atomic_fetch_add(&s->free[range_of(port)], 1, __ATOMIC_RELAXED);
	if (s->wop != NULL)
		__atomic_fetch_add(&s->steer_free[s->wop[port]], 1, __ATOMIC_RELAXED);
}

/* ---- a worker's view ---- */

static inline uint8_t
pclass_proto(unsigned int pc)
{
	return pc == NAT_PC_TCP ? IPPROTO_TCP : pc == NAT_PC_UDP ? IPPROTO_UDP : 0;
}

static inline bool
fwd_empty(const struct nat_fwd_table *ft)
{
	return ft == NULL || ft->n == 0;
}

/* forwarded ports of word `w` (ports 64w .. 64w + 63) in the adopted or published table
 * (no call at all when neither has a forward: every new mapping asks) */
static inline uint64_t
fwd_mask(const struct nat_ctx *nc, unsigned int ai, unsigned int pc, unsigned int w)
{
	const struct nat_fwd_table *pend = __atomic_load_n(&nc->fwd_pending, __ATOMIC_ACQUIRE);
	uint8_t proto = pclass_proto(pc);
	uint64_t m;

	if (proto == 0 || (fwd_empty(nc->fwd) && fwd_empty(pend)))
		return 0;
	m = nat_fwd_mask64(nc->fwd, proto, nc->cfg.addrs[ai], w * 64);
	if (pend != nc->fwd)
		m |= nat_fwd_mask64(pend, proto, nc->cfg.addrs[ai], w * 64);
	return m;
}

static inline bool
port_allowed(const struct nat_ctx *nc, unsigned int ai, unsigned int pc, uint16_t port)
{
	if (port < nc->cfg.port_lo[ai] || port > nc->cfg.port_hi[ai])
		return false;
	return !((fwd_mask(nc, ai, pc, port / 64) >> (port % 64)) & 1);
}

bool
nat_port_allowed(const struct nat_ctx *nc, unsigned int ai, unsigned int pc, uint16_t port)
{
	return port_allowed(nc, ai, pc, port);
}

int
nat_port_take(struct nat_ctx *nc, unsigned int ai, unsigned int pc, uint16_t port)
{
	if (!port_allowed(nc, ai, pc, port) ||
	    !pt_claim(space(nc->pt, ai, pc), port, nc->worker))
		return -1;
	NAT_STAT_INC(nc, ports_in_use);
	return 0;
}

int
nat_port_claim_static(struct nat_ctx *nc, unsigned int ai, unsigned int pc, uint16_t port)
{
	if (!pt_claim(space(nc->pt, ai, pc), port, nc->worker))
		return -1;
	NAT_STAT_INC(nc, ports_in_use);
	return 0;
}

unsigned int
nat_port_range_for(const struct nat_ctx *nc, unsigned int ai, unsigned int pc, uint16_t port)
{
	const struct nat_pt_space *s = space(nc->pt, ai, pc);
	unsigned int r = range_of(port);

	if (pc == NAT_PC_ICMP)
		return NAT_RANGE_ANY;	/* identifiers have no privileged range */
	/* REQ-3 is a RECOMMENDED: when the pool has no port of that range at all (the
	 * default range 1024-65535 and an inside port below 1024), any port will do */
	if (s->total[r] == 0)
		return NAT_RANGE_ANY;
	return r;
}

/* Does the table steer class pc of address ai to this worker, and has it a free port that
 * steers here (file comment)? */
static inline bool
steering(const struct nat_ctx *nc, unsigned int ai, unsigned int pc)
{
	return nc->pt->wop != NULL && pc != NAT_PC_ICMP && nc->worker < NAT_RSS_MAX_WORKERS &&
	       ((nc->pt->rss->workers >> nc->worker) & 1) &&
	       __atomic_load_n(&space(nc->pt, ai, pc)->steer_free[nc->worker],
			       __ATOMIC_RELAXED) != 0;
}

bool
nat_port_steered(const struct nat_ctx *nc, unsigned int ai, unsigned int pc, uint16_t port)
{
	return !steering(nc, ai, pc) || nc->pt->wop[(size_t)ai * 65536 + port] == nc->worker;
}

/* ports of word w of address ai whose replies the NIC gives this worker */
static uint64_t
steer_mask(const struct nat_ctx *nc, unsigned int ai, unsigned int w)
{
	const uint16_t *q = &nc->pt->wop[(size_t)ai * 65536 + (size_t)w * 64];
	uint64_t m = 0;
	unsigned int b;

	for (b = 0; b < 64; b++)
		m |= (uint64_t)(q[b] == nc->worker) << b;
	return m;
}

/* One pass of the search over the words of [from, to], candidates also within `mask` (and
 * with steer, among the ports steered to this worker). */
static int
search(struct nat_ctx *nc, unsigned int ai, unsigned int pc, unsigned int from,
       unsigned int to, uint64_t h, uint64_t mask, bool steer)
{
	struct nat_pt_space *s = space(nc->pt, ai, pc);
	unsigned int wf = from / 64, nw = to / 64 - wf + 1, i;
	unsigned int start = (unsigned int)((h >> 8) % nw), rot = (unsigned int)(h & 63);

	for (i = 0; i < nw; i++) {
		unsigned int w = wf + (start + i) % nw;
		uint64_t cand = ~__atomic_load_n(&s->used[w], __ATOMIC_ACQUIRE) &
				span_mask(w, from, to) & mask;

		if (cand != 0 && steer)
			cand &= steer_mask(nc, ai, w);
		if (cand != 0)
			cand &= ~fwd_mask(nc, ai, pc, w);
		while (cand != 0) {
			/* inside the word, start at the hashed bit too */
			uint64_t upper = cand & (~UINT64_C(0) << rot);
			unsigned int b = (unsigned int)__builtin_ctzll(upper ? upper : cand);
			uint16_t port = (uint16_t)(w * 64 + b);

			if (pt_claim(s, port, nc->worker)) {
				NAT_STAT_INC(nc, ports_in_use);
				return port;
			}
			cand &= ~(UINT64_C(1) << b);	/* another worker took it first */
		}
	}
	return -1;
}

int
nat_port_alloc(struct nat_ctx *nc, unsigned int ai, unsigned int pc, unsigned int rng,
	       uint64_t seed, int parity)
{
	struct nat_pt_space *s = space(nc->pt, ai, pc);
	unsigned int from, to;
	uint32_t avail;
	uint64_t h;
	int port, k;

	if (rng == NAT_RANGE_ANY)
		avail = __atomic_load_n(&s->free[0], __ATOMIC_RELAXED) +
			__atomic_load_n(&s->free[1], __ATOMIC_RELAXED);
	else
		avail = __atomic_load_n(&s->free[rng], __ATOMIC_RELAXED);
	if (avail == 0 || !range_bounds(nc->pt, ai, rng, &from, &to))
		return -1;
	/* RFC 6056 algorithm 3: the start is a keyed hash of the inside endpoint */
	h = nat_hash2(nc->pt->key, seed, (uint64_t)ai << 8 | pc);
	/* RFC 4787 section 4.2.2: keep the port's parity when a port of it is free (RTP on an
	 * even port, RTCP on the odd one above), else any; with RSS steering, first among the
	 * ports whose replies reach this worker's queue, then among all (handed off) */
	for (k = steering(nc, ai, pc) ? 0 : 1; k < 2; k++) {
		if (parity >= 0) {
			port = search(nc, ai, pc, from, to, h,
				      parity ? UINT64_C(0xaaaaaaaaaaaaaaaa) :
					       UINT64_C(0x5555555555555555), k == 0);
			if (port >= 0)
				return port;
		}
		port = search(nc, ai, pc, from, to, h, ~UINT64_C(0), k == 0);
		if (port >= 0)
			return port;
	}
	return -1;
}

void
nat_port_release(struct nat_ctx *nc, unsigned int ai, unsigned int pc, uint16_t port)
{
	struct nat_pt_space *s = space(nc->pt, ai, pc);

	/* only the holder gives a port back */
	if (__atomic_load_n(&s->owner[port], __ATOMIC_RELAXED) != nc->worker + 1)
		return;
	pt_unclaim(s, port);
	NAT_STAT_ADD(nc, ports_in_use, -1);
}

void
nat_ports_set_fwd(struct nat_ctx *nc, const struct nat_fwd_table *ft)
{
	/* nothing to reserve: forwarded ports are masked at allocation (file comment).
	 * Published last: the control plane frees the old table once it sees ft here. */
	__atomic_store_n(&nc->fwd, ft, __ATOMIC_RELEASE);
}

/* ---- reservations for lib/helpers' expectations (nat.h) ---- */

int
nat_port_reserve(struct nat_ctx *nc, uint8_t proto, uint32_t addr, uint16_t want)
{
	int ai = nat_addr_index(&nc->cfg, addr);
	int pc = nat_pclass_of(proto);
	uint64_t seed;

	if (ai < 0 || (pc != NAT_PC_TCP && pc != NAT_PC_UDP))
		return -1;
	/* the remote connects to this port: preserved when it steers here (file comment) */
	if ((nc->cfg.rss_preserve || nat_port_steered(nc, (unsigned int)ai, (unsigned int)pc,
						       want)) &&
	    nat_port_take(nc, (unsigned int)ai, (unsigned int)pc, want) == 0)
		return want;
	/* from the wanted port, not a counter: the same choice whatever the worker count */
	seed = (uint64_t)want << 40 | (uint64_t)proto << 32 | UINT32_C(0x72657376);
	return nat_port_alloc(nc, (unsigned int)ai, (unsigned int)pc,
			      nat_port_range_for(nc, (unsigned int)ai, (unsigned int)pc, want),
			      seed, want & 1);
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
