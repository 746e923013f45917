/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_hash.c - the connection index: a keyed 64-bit hash of the 16-byte tuple and an own
 * bucketised table (not rte_hash). A bucket is one cache line holding 8 signatures and 8
 * values (entry index << 1 | direction). Each key has two candidate buckets taken from
 * different bits of the hash and goes into the less loaded one (the "power of two choices").
 * The index is sized for <= 87.5% of its slots (ct_buckets_for). At that load greedy choice
 * alone overflows a bucket now and then (the fullest of n buckets holds about
 * mean + ln ln n / ln 2 keys: 7 + ~4 > 8 at 4M connections), so when both candidates are
 * full a short breadth-first cuckoo search moves keys to their other bucket (as DPDK
 * rte_hash's make_space_bucket and "Cuckoo hashing" by Pagh and Rodler; 2-choice 8-slot
 * buckets hold up to ~98% this way). Only if that search fails too is the new connection
 * refused (CT_R_HASH_FULL, counted).
 *
 * The hash is keyed with a per-table secret (DESIGN.md: "nobody outside can aim
 * collisions"). CRC32 is linear in its input, so a seed does not stop crafted collisions;
 * two rounds of a 64x64->128 bit multiply folded ("mum", as wyhash) mixed with secret words
 * does, at a few cycles per tuple.
 *
 * The lookup path (ct_lookup_burst) is staged like DPDK's bulk hash lookup: hash and
 * prefetch the first bucket for the whole burst, then scan signatures and prefetch the
 * candidate entries (or the second bucket, then its candidates), then compare full tuples.
 */
#include <string.h>

#include <rte_random.h>

#include "ct_private.h"

#ifndef CT_BURST_CHUNK
#define CT_BURST_CHUNK 32	/* packets hashed and prefetched together (ct_lookup_burst) */
#endif

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void
ct_keys_init(struct ct_table *t, const uint64_t seed[2])
{
	uint64_t s0 = seed[0], s1 = seed[1];
	unsigned int i;

	if (s0 == 0 && s1 == 0) {
		s0 = rte_rand();
		s1 = rte_rand();
	}
	for (i = 0; i < 4; i++) {
		uint64_t x = s0 ^ (i & 1 ? s1 : 0) ^ (i * UINT64_C(0x632be59bd9b4e019));

		t->key[i] = splitmix64(&x) ^ (i & 1 ? 0 : s1);
	}
	/* an even multiplier would drop the top bit of every product */
	t->key[3] |= 1;
}

uint32_t
ct_buckets_for(uint32_t capacity)
{
	/* 2 keys per connection, at most 7/8 of the slots used: capacity * 2 / (8 * 7 / 8) =
	 * capacity * 2 / 7 buckets, 128 / 7 ~ 18.3 bytes per connection (at 75% it was 21.3,
	 * at 50% 32; the cuckoo search of ct_hash_add keeps inserts from failing at 87.5%, and
	 * a lookup reads the same one or two buckets at any load). Exactly that many: the
	 * buckets are indexed by ct_hash_range(), so the count need not be a power of 2. */
	uint64_t n = ((uint64_t)capacity * 2 + 6) / 7;

	return (uint32_t)RTE_MAX(n, (uint64_t)2);
}

uint64_t
ct_hash(const struct ct_table *t, const struct ct_tuple *k)
{
	return ct_hash_inline(t->key, k);
}

/* The other candidate bucket of the key in slot value v, which sits in bucket b (its tuple
 * is rehashed: the entry holds the exact key that was inserted). */
static uint32_t
alt_bucket(const struct ct_table *t, uint32_t v, uint32_t b)
{
	uint64_t h = ct_hash_inline(t->key, &t->conns[v >> 1].tuple[v & 1]);
	uint32_t b1 = ct_hash_b1(t, h);

	return b1 != b ? b1 : ct_hash_b2(t, h);
}

#define CT_CUCKOO_NODES 64	/* buckets a cuckoo search looks at, at most */

struct cuckoo_node {
	uint32_t bucket;
	uint8_t parent;		/* node whose key moves here; CT_CUCKOO_ROOT: a candidate */
	uint8_t slot;		/* that key's slot in the parent bucket */
};

#define CT_CUCKOO_ROOT UINT8_MAX

static bool
cuckoo_queued(const struct cuckoo_node *q, unsigned int n, uint32_t bucket)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (q[i].bucket == bucket)
			return true;
	return false;
}

/*
 * Both candidate buckets r1, r2 full: search breadth first for a key that can move to a
 * bucket with room, through a chain of distinct full buckets, then shift the chain one step
 * from its end so that a slot of r1 or r2 comes free. Each key stays in one of its own two
 * buckets, so lookups and ct_hash_del_h find it as before. Cold: only when both are full.
 * Returns the freed slot's bucket (and *slot), or NULL when no chain was found.
 */
static __rte_noinline struct ct_bucket *
cuckoo_make_room(struct ct_table *t, uint32_t r1, uint32_t r2, unsigned int *slot)
{
	struct cuckoo_node q[CT_CUCKOO_NODES];
	unsigned int head, n = 2, i;

	q[0] = (struct cuckoo_node){ .bucket = r1, .parent = CT_CUCKOO_ROOT };
	q[1] = (struct cuckoo_node){ .bucket = r2, .parent = CT_CUCKOO_ROOT };
	for (head = 0; head < n; head++) {
		const struct ct_bucket *b = &t->buckets[q[head].bucket];

		for (i = 0; i < CT_BUCKET_SLOTS; i++) {
			uint32_t a = alt_bucket(t, b->val[i], q[head].bucket);
			struct ct_bucket *dst = &t->buckets[a];
			uint32_t room = ct_bucket_match(dst, 0);
			unsigned int node = head, s = i, d;

			if (room == 0) {
				if (n < CT_CUCKOO_NODES && !cuckoo_queued(q, n, a))
					q[n++] = (struct cuckoo_node){
						.bucket = a, .parent = (uint8_t)head,
						.slot = (uint8_t)i };
				continue;
			}
			/* shift: the key of node's slot s into dst's slot d, then the key of the
			 * parent's slot that leads to node into the slot just vacated, ... */
			d = (unsigned int)__builtin_ctz(room);
			for (;;) {
				struct ct_bucket *src = &t->buckets[q[node].bucket];

				dst->val[d] = src->val[s];
				dst->sig[d] = src->sig[s];
				dst = src;
				d = s;
				if (q[node].parent == CT_CUCKOO_ROOT)
					break;
				s = q[node].slot;
				node = q[node].parent;
			}
			*slot = d;
			return dst;
		}
	}
	return NULL;
}

int
ct_hash_add_h(struct ct_table *t, uint64_t h, uint32_t val)
{
	uint32_t i1 = ct_hash_b1(t, h), i2 = ct_hash_b2(t, h);
	struct ct_bucket *b1 = &t->buckets[i1], *b2 = &t->buckets[i2], *b;
	uint32_t e1 = ct_bucket_match(b1, 0), e2 = ct_bucket_match(b2, 0);	/* empty slots */
	unsigned int slot;

	if (__builtin_popcount(e2) > __builtin_popcount(e1)) {
		b = b2;
		slot = (unsigned int)__builtin_ctz(e2);
	} else if (e1 != 0) {
		b = b1;
		slot = (unsigned int)__builtin_ctz(e1);
	} else {
		b = cuckoo_make_room(t, i1, i2, &slot);
		if (b == NULL)
			return -1;
		CT_STAT_INC(t, hash_moves);
	}
	b->val[slot] = val;
	b->sig[slot] = ct_hash_sig(h);
	return 0;
}

int
ct_hash_add(struct ct_table *t, const struct ct_tuple *k, uint32_t val)
{
	return ct_hash_add_h(t, ct_hash_inline(t->key, k), val);
}

static bool
bucket_del(struct ct_bucket *b, uint32_t sig, uint32_t val)
{
	unsigned int i;

	for (i = 0; i < CT_BUCKET_SLOTS; i++) {
		if (b->sig[i] == sig && b->val[i] == val) {
			b->sig[i] = 0;
			b->val[i] = CT_SLOT_EMPTY;
			return true;
		}
	}
	return false;
}

void
ct_hash_del_h(struct ct_table *t, uint64_t h, uint32_t val)
{
	uint32_t sig = ct_hash_sig(h);

	if (!bucket_del(&t->buckets[ct_hash_b1(t, h)], sig, val))
		bucket_del(&t->buckets[ct_hash_b2(t, h)], sig, val);
}

static inline uint32_t
bucket_find(const struct ct_table *t, const struct ct_bucket *b, uint32_t hits,
	    const struct ct_tuple *k)
{
	while (hits != 0) {
		unsigned int i = (unsigned int)__builtin_ctz(hits);
		uint32_t v = b->val[i];

		hits &= hits - 1;
		/* the hit mask may be stale: an earlier packet of the burst may have reclaimed
		 * an expired entry and emptied its slots */
		if (unlikely(v == CT_SLOT_EMPTY))
			continue;
		if (ct_tuple_equal(&t->conns[v >> 1].tuple[v & 1], k))
			return v;
	}
	return CT_SLOT_EMPTY;
}

uint32_t
ct_hash_find(const struct ct_table *t, const struct ct_tuple *k)
{
	return ct_hash_find_h(t, k, ct_hash_inline(t->key, k));
}

/* the tuple compares of ct_hash_find_h, once a signature matched */
static __rte_noinline uint32_t
find_hits(const struct ct_table *t, const struct ct_bucket *b1, uint32_t m1,
	  const struct ct_bucket *b2, uint32_t m2, const struct ct_tuple *k)
{
	uint32_t v = bucket_find(t, b1, m1, k);

	if (v == CT_SLOT_EMPTY)
		v = bucket_find(t, b2, m2, k);
	return v;
}

uint32_t
ct_hash_find_h(const struct ct_table *t, const struct ct_tuple *k, uint64_t h)
{
	uint32_t sig = ct_hash_sig(h);
	const struct ct_bucket *b1 = &t->buckets[ct_hash_b1(t, h)];
	const struct ct_bucket *b2 = &t->buckets[ct_hash_b2(t, h)];
	uint32_t m1 = ct_bucket_match(b1, sig), m2 = ct_bucket_match(b2, sig);

	/* a key that is absent, as on each new connection's checks: no signature matches
	 * (a false match: 16 slots in 2^31 signatures) */
	if ((m1 | m2) == 0)
		return CT_SLOT_EMPTY;
	return find_hits(t, b1, m1, b2, m2, k);
}

/* A found value: the connection, unless it is dead (expired entries are reclaimed here so
 * that the semantics are exact at the boundary even when the reaper runs late). */
static inline struct ct_conn *
hit_conn(struct ct_table *t, uint32_t v, ct_ms_t now_ms)
{
	struct ct_conn *c = &t->conns[v >> 1];

	if (unlikely(ct_ms_le(c->expire, now_ms))) {
		ct_reclaim_expired(t, c);
		return NULL;
	}
	return c;
}

struct ct_conn *
ct_lookup(struct ct_table *t, const struct ct_tuple *k, uint8_t *dir, ct_time_t now)
{
	struct ct_conn *c = NULL;
	uint32_t v;

	CT_STAT_INC(t, lookups);
	ct_clock(t, now);	/* before the find: a jump's sweep may reclaim what it finds */
	v = ct_hash_find(t, k);
	if (v != CT_SLOT_EMPTY)
		c = hit_conn(t, v, ct_ms(now));
	if (c != NULL) {
		ct_pin(t, v >> 1);
		CT_STAT_INC(t, hits);
		if (dir != NULL)
			*dir = v & 1;
	}
	return c;
}

#ifndef CT_LOOKUP_LAZY_B2
#define CT_LOOKUP_LAZY_B2 1
#endif

/*
 * Stage 1 hashes the chunk and prefetches each key's first bucket (and, unless
 * CT_LOOKUP_LAZY_B2, its second); stage 2 scans the first bucket's signatures and
 * prefetches the candidate entry, or else the second bucket, which stage 2b scans (most
 * keys are in their first bucket: ct_hash_add prefers it on a tie, so the second bucket's
 * line is fetched only for the others); stage 3 compares full tuples.
 */
static void
lookup_chunk(struct ct_table *t, struct ct_pkt *pkts[], unsigned int n, ct_time_t now,
	     unsigned int *nhits)
{
	const struct ct_bucket *b1[CT_BURST_CHUNK], *b2[CT_BURST_CHUNK];
	uint32_t m1[CT_BURST_CHUNK], m2[CT_BURST_CHUNK];
	const ct_ms_t now_ms = ct_ms(now);
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct ct_pkt *p = pkts[i];
		uint64_t h;

		p->conn = NULL;
		if (unlikely(p->tuple.family == 0)) {
			b1[i] = NULL;
			continue;
		}
		h = ct_hash_inline(t->key, &p->tuple);
		p->hash = h;
		b1[i] = &t->buckets[ct_hash_b1(t, h)];
		b2[i] = &t->buckets[ct_hash_b2(t, h)];
		rte_prefetch0(b1[i]);
		if (!CT_LOOKUP_LAZY_B2)
			rte_prefetch0(b2[i]);
	}
	/* prefetch both lines of the candidate entry (96 bytes at 32-byte alignment: c and
	 * c + 64 are in its two lines), as ct_update() writes the timer and TCP the window
	 * right after */
	for (i = 0; i < n; i++) {
		const struct ct_conn *c;

		if (unlikely(b1[i] == NULL))
			continue;
		m1[i] = ct_bucket_match(b1[i], ct_hash_sig(pkts[i]->hash));
		m2[i] = UINT32_MAX;	/* not scanned yet */
		if (m1[i] != 0) {
			c = &t->conns[b1[i]->val[__builtin_ctz(m1[i])] >> 1];
			rte_prefetch0(c);
			rte_prefetch0((const uint8_t *)c + RTE_CACHE_LINE_SIZE);
		} else {
			rte_prefetch0(b2[i]);
		}
	}
	for (i = 0; i < n; i++) {
		const struct ct_conn *c;

		if (unlikely(b1[i] == NULL) || m1[i] != 0)
			continue;
		m2[i] = ct_bucket_match(b2[i], ct_hash_sig(pkts[i]->hash));
		if (m2[i] != 0) {
			c = &t->conns[b2[i]->val[__builtin_ctz(m2[i])] >> 1];
			rte_prefetch0(c);
			rte_prefetch0((const uint8_t *)c + RTE_CACHE_LINE_SIZE);
		}
	}
	for (i = 0; i < n; i++) {
		struct ct_pkt *p = pkts[i];
		uint32_t v;

		if (unlikely(b1[i] == NULL))
			continue;
		v = m1[i] != 0 ? bucket_find(t, b1[i], m1[i], &p->tuple) : CT_SLOT_EMPTY;
		if (v == CT_SLOT_EMPTY) {
			/* a signature of the first bucket that was not the key's: the second */
			if (m2[i] == UINT32_MAX)
				m2[i] = ct_bucket_match(b2[i], ct_hash_sig(p->hash));
			if (m2[i] == 0)
				continue;
			v = bucket_find(t, b2[i], m2[i], &p->tuple);
		}
		if (v == CT_SLOT_EMPTY)
			continue;
		/* an earlier packet of this burst may have reclaimed it */
		if (unlikely(t->conns[v >> 1].status & CT_ST_DYING))
			continue;
		p->conn = hit_conn(t, v, now_ms);
		if (p->conn != NULL) {
			p->dir = v & 1;
			ct_pin(t, v >> 1);
			(*nhits)++;
		}
	}
}

void
ct_lookup_burst(struct ct_table *t, struct ct_pkt *pkts[], unsigned int n, ct_time_t now)
{
	unsigned int done = 0, hits = 0;

	ct_pins_reset(t);	/* a new burst: the previous one's pointers are dead */
	ct_clock(t, now);
	while (done < n) {
		unsigned int k = RTE_MIN(n - done, (unsigned int)CT_BURST_CHUNK);

		lookup_chunk(t, pkts + done, k, now, &hits);
		done += k;
	}
	CT_STAT_ADD(t, lookups, n);
	CT_STAT_ADD(t, hits, hits);
}
