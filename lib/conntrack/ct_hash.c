/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_hash.c - the connection index: a keyed 64-bit hash of the 16-byte tuple and an own
 * bucketised table (not rte_hash). A bucket is one cache line holding 8 signatures and 8
 * values (entry index << 1 | direction). Each key has two candidate buckets taken from
 * different bits of the hash and goes into the less loaded one (the "power of two choices":
 * with 8 slots and <= 50% load an overflow is vanishingly rare, so no cuckoo displacement is
 * needed; if both are full the new connection is refused with CT_R_HASH_FULL).
 *
 * The hash is keyed with a per-table secret (DESIGN.md: "nobody outside can aim
 * collisions"). CRC32 is linear in its input, so a seed does not stop crafted collisions;
 * two rounds of a 64x64->128 bit multiply folded ("mum", as wyhash) mixed with secret words
 * does, at a few cycles per tuple.
 *
 * The lookup path (ct_lookup_burst) is staged like DPDK's bulk hash lookup: hash and
 * prefetch both buckets for the whole burst, then scan signatures and prefetch the candidate
 * entries, then compare full tuples.
 */
#include <string.h>

#include <rte_random.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "ct_private.h"

#define CT_BURST_CHUNK 32

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
	/* 2 keys per connection, at most half of the slots used (two choices of 8 slots keep
	 * the fullest bucket below 8 at that load). Exactly that many: the buckets are indexed by
	 * ct_hash_range(), so the count need not be a power of 2 (rounding it up cost up to 32
	 * bytes per connection). */
	uint64_t n = ((uint64_t)capacity * 2 * 2 + CT_BUCKET_SLOTS - 1) / CT_BUCKET_SLOTS;

	return (uint32_t)RTE_MAX(n, (uint64_t)2);
}

uint64_t
ct_hash(const struct ct_table *t, const struct ct_tuple *k)
{
	return ct_hash_inline(t->key, k);
}

static unsigned int
bucket_used(const struct ct_bucket *b)
{
	unsigned int i, n = 0;

	for (i = 0; i < CT_BUCKET_SLOTS; i++)
		n += b->sig[i] != 0;
	return n;
}

int
ct_hash_add(struct ct_table *t, const struct ct_tuple *k, uint32_t val)
{
	uint64_t h = ct_hash_inline(t->key, k);
	struct ct_bucket *b1 = &t->buckets[ct_hash_b1(t, h)];
	struct ct_bucket *b2 = &t->buckets[ct_hash_b2(t, h)];
	struct ct_bucket *b = bucket_used(b2) < bucket_used(b1) ? b2 : b1;
	unsigned int i;

	for (i = 0; i < CT_BUCKET_SLOTS; i++) {
		if (b->sig[i] == 0) {
			b->val[i] = val;
			b->sig[i] = ct_hash_sig(h);
			return 0;
		}
	}
	return -1;	/* the less loaded one is full: both are */
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
ct_hash_del(struct ct_table *t, const struct ct_tuple *k, uint32_t val)
{
	uint64_t h = ct_hash_inline(t->key, k);
	uint32_t sig = ct_hash_sig(h);

	if (!bucket_del(&t->buckets[ct_hash_b1(t, h)], sig, val))
		bucket_del(&t->buckets[ct_hash_b2(t, h)], sig, val);
}

/* Bit i set when slot i holds signature sig: one vector compare of the 8 signatures. */
static inline uint32_t
bucket_match(const struct ct_bucket *b, uint32_t sig)
{
#if defined(__AVX2__)
	__m256i v = _mm256_load_si256((const __m256i *)b->sig);

	return (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(
		_mm256_cmpeq_epi32(v, _mm256_set1_epi32((int)sig))));
#elif defined(__SSE2__)
	__m128i s = _mm_set1_epi32((int)sig);
	__m128i lo = _mm_load_si128((const __m128i *)b->sig);
	__m128i hi = _mm_load_si128((const __m128i *)(b->sig + 4));

	return (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(lo, s))) |
	       (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(hi, s))) << 4;
#else
	uint32_t m = 0;
	unsigned int i;

	for (i = 0; i < CT_BUCKET_SLOTS; i++)
		m |= (uint32_t)(b->sig[i] == sig) << i;
	return m;
#endif
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
	uint64_t h = ct_hash_inline(t->key, k);
	uint32_t sig = ct_hash_sig(h);
	const struct ct_bucket *b1 = &t->buckets[ct_hash_b1(t, h)];
	const struct ct_bucket *b2 = &t->buckets[ct_hash_b2(t, h)];
	uint32_t v = bucket_find(t, b1, bucket_match(b1, sig), k);

	if (v == CT_SLOT_EMPTY)
		v = bucket_find(t, b2, bucket_match(b2, sig), k);
	return v;
}

/* A found value: the connection, unless it is dead (expired entries are reclaimed here so
 * that the semantics are exact at the boundary even when the reaper runs late). */
static inline struct ct_conn *
hit_conn(struct ct_table *t, uint32_t v, ct_time_t now)
{
	struct ct_conn *c = &t->conns[v >> 1];

	if (unlikely(c->expire <= now)) {
		ct_reclaim_expired(t, c);
		return NULL;
	}
	return c;
}

struct ct_conn *
ct_lookup(struct ct_table *t, const struct ct_tuple *k, uint8_t *dir, ct_time_t now)
{
	uint32_t v = ct_hash_find(t, k);
	struct ct_conn *c = NULL;

	CT_STAT_INC(t, lookups);
	if (v != CT_SLOT_EMPTY)
		c = hit_conn(t, v, now);
	if (c != NULL) {
		ct_pin(t, v >> 1);
		CT_STAT_INC(t, hits);
		if (dir != NULL)
			*dir = v & 1;
	}
	return c;
}

static void
lookup_chunk(struct ct_table *t, struct ct_pkt *pkts[], unsigned int n, ct_time_t now,
	     unsigned int *nhits)
{
	const struct ct_bucket *b1[CT_BURST_CHUNK], *b2[CT_BURST_CHUNK];
	uint32_t m1[CT_BURST_CHUNK], m2[CT_BURST_CHUNK];
	unsigned int i;

	/* stage 1: hash everything, prefetch both candidate buckets */
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
		rte_prefetch0(b2[i]);
	}
	/* stage 2: signature scan, prefetch the first candidate entry: both of its lines, as
	 * ct_update() writes the counters (and TCP the window) on line 1 right after */
	for (i = 0; i < n; i++) {
		const struct ct_conn *c = NULL;
		uint32_t sig;

		if (unlikely(b1[i] == NULL))
			continue;
		sig = ct_hash_sig(pkts[i]->hash);
		m1[i] = bucket_match(b1[i], sig);
		m2[i] = bucket_match(b2[i], sig);
		if (m1[i] != 0)
			c = &t->conns[b1[i]->val[__builtin_ctz(m1[i])] >> 1];
		else if (m2[i] != 0)
			c = &t->conns[b2[i]->val[__builtin_ctz(m2[i])] >> 1];
		if (c != NULL) {
			rte_prefetch0(c);
			rte_prefetch0((const uint8_t *)c + RTE_CACHE_LINE_SIZE);
		}
	}
	/* stage 3: full tuple compare */
	for (i = 0; i < n; i++) {
		struct ct_pkt *p = pkts[i];
		uint32_t v;

		if (unlikely(b1[i] == NULL) || (m1[i] | m2[i]) == 0)
			continue;
		v = bucket_find(t, b1[i], m1[i], &p->tuple);
		if (v == CT_SLOT_EMPTY)
			v = bucket_find(t, b2[i], m2[i], &p->tuple);
		if (v == CT_SLOT_EMPTY)
			continue;
		/* an earlier packet of this burst may have reclaimed it */
		if (unlikely(t->conns[v >> 1].status & CT_ST_DYING))
			continue;
		p->conn = hit_conn(t, v, now);
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
	while (done < n) {
		unsigned int k = RTE_MIN(n - done, (unsigned int)CT_BURST_CHUNK);

		lookup_chunk(t, pkts + done, k, now, &hits);
		done += k;
	}
	CT_STAT_ADD(t, lookups, n);
	CT_STAT_ADD(t, hits, hits);
}
