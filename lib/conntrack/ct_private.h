/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_private.h - what lib/conntrack's files share and nobody else sees: the connection entry
 * (96 bytes), the table, the bucketised hash index, the keyed hash and the internal
 * functions between the table, the hash and the protocol trackers.
 */
#ifndef NATGW_CT_PRIVATE_H
#define NATGW_CT_PRIVATE_H

#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "ct.h"

#define CT_NIL		UINT32_MAX	/* "no entry" in list links and the free list */
#define CT_SLOT_EMPTY	UINT32_MAX	/* hash slot value of an empty slot (its sig is 0) */
#define CT_BUCKET_SLOTS	8

/* per-direction TCP flags (struct ct_conn.td_flags[]) */
#define CT_TD_WSCALE	0x01	/* window scale option seen in this side's SYN */
#define CT_TD_SACK_PERM	0x02	/* SACK permitted option seen in this side's SYN */
#define CT_TD_UNACKED	0x04	/* this side sent data the other has not acknowledged */
#define CT_TD_PEND	0x08	/* td_flags[CT_DIR_ORIG] only: the connection may have a
				 * struct ct_tcp_pend (owned by ct_proto_tcp.c's pend_*) */

/* per-direction flag of every protocol: a packet of this direction passed ct_update (its
 * first one had its L4 checksum verified there) */
#define CT_TD_SEEN	0x10

/*
 * Entry times (expire, check_at) are 32-bit milliseconds of the caller's clock, compared as
 * serial numbers, as netfilter's 32-bit jiffies timeout is: right while every time kept is
 * within 2^31 ms (24.8 days) of now. Timeouts are at most CT_TIMEOUT_MAX (2^30 ms) and a
 * clock that jumps by more than that since the table last saw it sweeps the table
 * (ct_clock_jump), so a dead entry never reads as alive. An expiry rounds up to the next
 * millisecond: a connection lives its timeout, at most 1 ms more.
 */
typedef uint32_t ct_ms_t;

#define CT_JUMP_MS	(UINT32_C(1) << 30)

static inline ct_ms_t
ct_ms(ct_time_t now)
{
	return (ct_ms_t)(now / 1000);
}

static inline ct_ms_t
ct_ms_up(ct_time_t now)
{
	return (ct_ms_t)((now + 999) / 1000);
}

/* a at or before b */
static inline bool
ct_ms_le(ct_ms_t a, ct_ms_t b)
{
	return (int32_t)(a - b) <= 0;
}

/* the microsecond time of entry time v, read near now (not before 0) */
static inline ct_time_t
ct_ms_abs(ct_ms_t v, ct_time_t now)
{
	int64_t ms = (int64_t)(now / 1000) + (int32_t)(v - ct_ms(now));

	return ms > 0 ? (ct_time_t)ms * 1000 : 0;
}

/**
 * One connection: 96 bytes, 32-byte aligned, so it spans exactly two cache lines (the
 * lookup prefetches both): the tuples, the timer and the state first, then the layered
 * libraries' words and TCP's window data. Counters live in a separate array, only under
 * [conntrack] accounting (struct ct_acct).
 */
struct ct_conn {
	struct ct_tuple tuple[2];	/* [CT_DIR_ORIG], [CT_DIR_REPLY] */
	ct_ms_t expire;			/* <= now means dead (serial, ms) */
	ct_ms_t check_at;		/* when the reaper looks again (list order key) */
	uint32_t prev, next;		/* timeout-class list links (CT_NIL: none); a free
					 * entry's next: the next free one */
	uint32_t seq;			/* seqcount: odd while the owner writes */
	uint16_t status;		/* CT_ST_* */
	uint8_t tcp_state;		/* enum ct_tcp_state */
	uint8_t tclass;			/* enum ct_tclass; CT_TC_MAX when free */
	union {
		uint32_t master;	/* CT_ST_RELATED: master id + 1, 0: none */
		uint16_t fast_ck[2];	/* others: the fast path's L4 checksum delta per
					 * direction (ct_conn_set_fast_ck; RELATED ones
					 * never take it) */
	};
	uint8_t td_flags[2];		/* CT_TD_* */
	uint8_t td_wscale[2];		/* window scale shift (0 unless both sides sent it) */
	uint32_t user[2];		/* CT_USER_NAT, CT_USER_HELPER */
	/* TCP window tracking (as netfilter's ip_ct_tcp_state), per direction */
	uint32_t td_end[2];		/* highest seq + len sent */
	uint32_t td_maxend[2];		/* highest ack + window seen from the peer */
	uint32_t td_maxwin[2];		/* largest (scaled) window advertised */
} __attribute__((aligned(32)));

/* [conntrack] accounting: per connection and direction (as nf_conntrack_acct) */
struct ct_acct {
	uint64_t packets[2];
	uint64_t bytes[2];		/* IP total length */
};

/** Hash bucket: one cache line, 8 signatures then 8 values (entry index << 1 | dir). */
struct ct_bucket {
	uint32_t sig[CT_BUCKET_SLOTS];	/* 0: empty (stored signatures have bit 0 set) */
	uint32_t val[CT_BUCKET_SLOTS];
} __rte_cache_aligned;

#define CT_PIN_MAX	64	/* pinned connections tracked per burst */

/*
 * A TCP connection waiting for the answer to a segment passed without a state change: a SYN
 * in a live connection, a RST in window but not at rcv.nxt, an ACK to SYN_SENT (RFC 5961
 * challenge ACKs; netfilter keeps the same in ip_ct_tcp's last_* fields). It is needed on a
 * handful of segments per such event, so it lives beside the table, not in the 96-byte
 * entry: one slot per (connection index mod CT_TCP_PEND_SLOTS), taken by the last to need
 * it. A connection whose slot was taken just loses the shortcut (see ct_proto_tcp.c).
 */
#define CT_TCP_PEND_SLOTS 256	/* power of 2 */

struct ct_tcp_pend {
	uint32_t conn;		/* index + 1 of the connection it belongs to; 0: free */
	uint32_t syn_seq;	/* PEND_SYN: the SYN passed, its seq and seq + len */
	uint32_t syn_end;
	uint32_t ack[2];	/* PEND_ACK0/1: last ack the side sent since (its rcv.nxt) */
	uint16_t syn_win;	/* PEND_SYN: its window (never scaled) */
	uint8_t syn_opt;	/* PEND_SYN: CT_TD_WSCALE | CT_TD_SACK_PERM, scale << 4 */
	uint8_t flags;		/* PEND_* (ct_proto_tcp.c) */
};

struct ct_list {
	uint32_t head, tail;
};

struct ct_table {
	/* hot, read-only after create */
	struct ct_conn *conns;
	struct ct_bucket *buckets;
	uint32_t n_buckets;		/* any count >= 2 (not a power of 2: ct_buckets_for) */
	uint32_t capacity;
	uint64_t key[4];		/* hash secret */
	ct_time_t timeout[CT_TC_MAX];
	ct_ms_t timeout_ms[CT_TC_MAX];	/* the same, rounded up to ms */
	bool tcp_liberal;
	bool tcp_loose;
	uint32_t evict_search;
	ct_destroy_cb destroy_cb[CT_CB_MAX];	/* per slot, CT_CB_* */
	void *destroy_arg[CT_CB_MAX];
	/* owner state */
	uint32_t free_head;		/* last freed entry, linked by next (CT_NIL: none) */
	uint32_t free_top;		/* free entries */
	uint32_t expire_class;		/* class ct_expire starts at (round robin) */
	struct ct_list lists[CT_TC_MAX];
	ct_time_t clock;		/* the latest now ct_expire or a lookup saw */
	struct ct_acct *acct;		/* [conntrack] accounting, else NULL */
	/* connections handed out since the last ct_lookup_burst()/ct_expire(): the caller may
	 * still hold pointers to them, so eviction must not reuse them (see ct_pin) */
	uint32_t npinned;
	bool pin_overflow;
	uint32_t pinned[CT_PIN_MAX];
	struct ct_tcp_pend tcp_pend[CT_TCP_PEND_SLOTS];	/* see struct ct_tcp_pend */
	bool use_heap;
	size_t memory;
	struct ct_addr6 *addr6;		/* ct_ip6.c: exact orig-direction addresses per entry,
					 * NULL until ct_table_enable_ipv6 */
	uint64_t fold6_key[2];		/* ct_ip6.c: keys of the 128 -> 32 bit address folds */
	/* written by the owner only; read by anyone with relaxed atomic loads */
	struct ct_stats stats __rte_cache_aligned;
};

/*
 * The transport header both families' parsers check (ct_parse.c, ct_ip6.c): TCP (data offset
 * within the segment, flags), UDP, ICMP or ICMPv6 (icmp_proto: the family's; type and code)
 * at l4, l4len bytes to the end of the datagram. *hdr: the header's length, 0 for another
 * protocol (addresses and protocol are all there is to parse).
 */
static inline enum ct_reason
ct_l4_header(const uint8_t *l4, uint32_t l4len, uint8_t proto, uint8_t icmp_proto,
	     struct ct_pkt *p, uint32_t *hdr)
{
	*hdr = 0;
	if (proto == IPPROTO_TCP) {
		if (l4len < 20)
			return CT_R_L4_TRUNCATED;
		*hdr = (l4[12] >> 4) * 4u;
		if (*hdr < 20 || *hdr > l4len)
			return CT_R_TCP_BAD_DOFF;
		p->tcp_flags = l4[13];
	} else if (proto == IPPROTO_UDP || proto == icmp_proto) {
		*hdr = 8;
		if (l4len < 8)
			return CT_R_L4_TRUNCATED;
		if (proto == icmp_proto) {
			p->icmp_type = l4[0];
			p->icmp_code = l4[1];
		}
	}
	return CT_R_NONE;
}

/* Counters: the owner is the only writer, so a load + relaxed store is exact; the store is
 * atomic so that ct_stats_get() on another thread never sees a torn word. */
#define CT_STAT_ADD(t, field, v)						\
	__atomic_store_n(&(t)->stats.field, (t)->stats.field + (v), __ATOMIC_RELAXED)
#define CT_STAT_INC(t, field) CT_STAT_ADD(t, field, 1)

static inline void
ct_reason_inc(struct ct_table *t, enum ct_reason r)
{
	if ((unsigned int)r < CT_R_MAX)
		CT_STAT_INC(t, reason[r]);
}

static inline void
ct_pin(struct ct_table *t, uint32_t idx)
{
	if (likely(t->npinned < CT_PIN_MAX))
		t->pinned[t->npinned++] = idx;
	else
		t->pin_overflow = true;
}

static inline void
ct_pins_reset(struct ct_table *t)
{
	t->npinned = 0;
	t->pin_overflow = false;
}

/* ---- seqcount around owner writes of an entry (readers: ct_snapshot) ---- */
static inline void
ct_write_begin(struct ct_conn *c)
{
	__atomic_store_n(&c->seq, c->seq + 1, __ATOMIC_RELAXED);
	/* the odd count must be visible before any field changes */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void
ct_write_end(struct ct_conn *c)
{
	/* every field change must be visible before the even count */
	__atomic_store_n(&c->seq, c->seq + 1, __ATOMIC_RELEASE);
}

/* ---- keyed hash: two rounds of 64x64->128 multiply folded ("mum"), keys secret ---- */
static inline uint64_t
ct_mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t
ct_hash_inline(const uint64_t key[4], const struct ct_tuple *k)
{
	const uint64_t *w = (const uint64_t *)k;
	uint64_t h = ct_mum(w[0] ^ key[0], w[1] ^ key[1]);

	return ct_mum(h ^ key[2], key[3]);
}

static inline uint32_t
ct_hash_sig(uint64_t h)
{
	return (uint32_t)(h >> 32) | 1;
}

/* Bit i set when slot i holds signature sig: one vector compare of the 8 signatures. */
static inline uint32_t
ct_bucket_match(const struct ct_bucket *b, uint32_t sig)
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

/* A 32-bit hash word onto [0, n) by multiply and shift (Lemire's "fastrange"): no power-of-2
 * rounding of the bucket count, which left the index up to half empty (ct_buckets_for). */
static inline uint32_t
ct_hash_range(uint32_t x, uint32_t n)
{
	return (uint32_t)(((uint64_t)x * n) >> 32);
}

static inline uint32_t
ct_hash_b1(const struct ct_table *t, uint64_t h)
{
	return ct_hash_range((uint32_t)h, t->n_buckets);
}

static inline uint32_t
ct_hash_b2(const struct ct_table *t, uint64_t h)
{
	/* from the other 32-bit half of the hash than b1's, so that two keys sharing a first
	 * bucket get independent second choices */
	uint32_t b1 = ct_hash_range((uint32_t)h, t->n_buckets);
	uint32_t b2 = ct_hash_range((uint32_t)(h >> 32), t->n_buckets);

	return b2 != b1 ? b2 : (b1 + 1 == t->n_buckets ? 0 : b1 + 1);
}

static inline uint32_t
ct_conn_idx(const struct ct_table *t, const struct ct_conn *c)
{
	return (uint32_t)(c - t->conns);
}

static inline uint8_t
ct_conn_proto(const struct ct_conn *c)
{
	return c->tuple[CT_DIR_ORIG].proto;
}

/* is c dead at now? */
static inline bool
ct_conn_dead(const struct ct_conn *c, ct_time_t now)
{
	return ct_ms_le(c->expire, ct_ms(now));
}

/* the expiry of a timer of class cls set at now */
static inline ct_ms_t
ct_expiry(const struct ct_table *t, enum ct_tclass cls, ct_time_t now)
{
	return ct_ms_up(now) + t->timeout_ms[cls];
}

/* a packet of direction d passed: counted under [conntrack] accounting */
static inline void
ct_acct_count(struct ct_table *t, const struct ct_conn *c, unsigned int d, uint32_t ip_len)
{
	if (t->acct != NULL) {
		struct ct_acct *a = &t->acct[ct_conn_idx(t, c)];

		a->packets[d]++;
		a->bytes[d] += ip_len;
	}
}

/* the table's clock: every entry point that compares entry times calls it first */
void ct_clock_jump(struct ct_table *t, ct_time_t now);
static inline void
ct_clock(struct ct_table *t, ct_time_t now)
{
	if (unlikely(now > t->clock && now - t->clock >= (ct_time_t)CT_JUMP_MS * 1000))
		ct_clock_jump(t, now);
	t->clock = now;
}

/* ct_hash.c. The _h variants take the key's ct_hash_inline() value, computed once by the
 * caller. ct_hash_add may move other keys to their other bucket (cuckoo), rehashing the
 * tuples their entries hold: an entry's tuples must be written before its keys are added. */
void ct_keys_init(struct ct_table *t, const uint64_t seed[2]);
uint32_t ct_buckets_for(uint32_t capacity);
int ct_hash_add(struct ct_table *t, const struct ct_tuple *k, uint32_t val);
int ct_hash_add_h(struct ct_table *t, uint64_t h, uint32_t val);	/* h: ct_hash of the key */
void ct_hash_del_h(struct ct_table *t, uint64_t h, uint32_t val);
/* find a key; returns slot value or CT_SLOT_EMPTY. No expiry handling. */
uint32_t ct_hash_find(const struct ct_table *t, const struct ct_tuple *k);
uint32_t ct_hash_find_h(const struct ct_table *t, const struct ct_tuple *k, uint64_t h);

/* ct_table.c */
void ct_conn_remove(struct ct_table *t, struct ct_conn *c);	/* no counting */
void ct_reclaim_expired(struct ct_table *t, struct ct_conn *c);	/* counts expired */
void ct_set_class_move(struct ct_table *t, struct ct_conn *c, enum ct_tclass cls);
void ct_set_class_expire(struct ct_table *t, struct ct_conn *c, enum ct_tclass cls,
			 ct_time_t expire);	/* ct_snapshot.c */

/* A connection's timer from its class's timeout: refreshed (the packet counts), or only
 * ever shortened (RST, ...); moved to the class's list when the class changes (out of line,
 * ct_table.c: rare next to the packets that stay in their class). */
static inline void
ct_set_class(struct ct_table *t, struct ct_conn *c, enum ct_tclass cls, ct_time_t now,
	     bool refresh)
{
	ct_ms_t exp = ct_expiry(t, cls, now);

	if (refresh)
		c->expire = exp;
	else if (!ct_ms_le(c->expire, exp))
		c->expire = exp;	/* never extends */
	if (unlikely(c->tclass != cls))
		ct_set_class_move(t, c, cls);
}

/* protocol trackers: run inside ct_write_begin/end; return CT_R_NONE or why invalid.
 * They set the class/timer through ct_set_class and status bits. */
enum ct_reason ct_tcp_update(struct ct_table *t, struct ct_conn *c, const struct ct_pkt *p,
			     const uint8_t *buf, ct_time_t now);
enum ct_reason ct_tcp_new_ok(const struct ct_table *t, const struct ct_pkt *p);
/* ct_set_class(t, c, cls, now, true) without the call when the class stays (the per-packet
 * case: only the timer moves) */
static inline void
ct_set_class_refresh(struct ct_table *t, struct ct_conn *c, enum ct_tclass cls, ct_time_t now)
{
	if (likely(c->tclass == cls))
		c->expire = ct_expiry(t, cls, now);
	else
		ct_set_class(t, c, cls, now, true);
}
bool ct_tcp_flags_valid(uint8_t flags);
enum ct_reason ct_udp_update(struct ct_table *t, struct ct_conn *c, const struct ct_pkt *p,
			     ct_time_t now);
enum ct_reason ct_icmp_update(struct ct_table *t, struct ct_conn *c, const struct ct_pkt *p,
			      ct_time_t now);
enum ct_reason ct_icmp_new_ok(const struct ct_pkt *p);
bool ct_icmp_is_query_request(uint8_t type);
bool ct_icmp_is_query_reply(uint8_t type);
bool ct_icmp_is_error(uint8_t type);
enum ct_tclass ct_tcp_state_class(enum ct_tcp_state s);

/* ct_ip6.c */
bool ct_l4_csum_valid6(const struct ct_pkt *p, const uint8_t *buf);
enum ct_reason ct_icmp6_update(struct ct_table *t, struct ct_conn *c, const struct ct_pkt *p,
			       ct_time_t now);
enum ct_reason ct_icmp6_new_ok(const struct ct_pkt *p);

#endif /* NATGW_CT_PRIVATE_H */
