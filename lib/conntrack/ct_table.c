/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_table.c - the connection table: entry storage (a flat array, free entries linked through
 * their list link), creation
 * and removal, the per-timeout-class expiry lists, eviction when full, the per-packet update
 * dispatch, accessors, and the lock-free readers (snapshot, counters).
 *
 * Expiry (DESIGN.md "O(1) per packet, bounded per poll"): one FIFO list per timeout class.
 * Every entry of a class has the same timeout, so appending with check_at = expire keeps
 * each list sorted by check_at. A packet only writes `expire`; the entry does not move. The
 * reaper looks at list heads whose check_at passed: dead ones go, refreshed ones move to
 * the tail with their new expire (lazy re-check, as DPDK ip_frag's death row is lazy).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/mman.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "ct_private.h"

/* the layout the design is built on: 96 bytes at 32-byte alignment span exactly two lines */
_Static_assert(sizeof(struct ct_conn) == 96, "ct_conn is 96 bytes");
_Static_assert(sizeof(struct ct_acct) == 32, "ct_acct is 32 bytes");
_Static_assert(sizeof(struct ct_bucket) == RTE_CACHE_LINE_SIZE, "bucket is 1 line");

/* ---- timeout-class lists ---- */

static void
list_unlink(struct ct_table *t, struct ct_conn *c)
{
	struct ct_list *l;

	if (c->tclass >= CT_TC_MAX)
		return;
	l = &t->lists[c->tclass];
	if (c->prev != CT_NIL)
		t->conns[c->prev].next = c->next;
	else
		l->head = c->next;
	if (c->next != CT_NIL)
		t->conns[c->next].prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = CT_NIL;
}

static void
list_append(struct ct_table *t, struct ct_conn *c, enum ct_tclass cls, ct_ms_t check_at)
{
	struct ct_list *l = &t->lists[cls];
	uint32_t idx = ct_conn_idx(t, c);

	c->tclass = (uint8_t)cls;
	c->next = CT_NIL;
	c->prev = l->tail;
	c->check_at = check_at;
	if (l->tail != CT_NIL) {
		struct ct_conn *tail = &t->conns[l->tail];

		/* keep the list sorted by check_at whatever the caller's clock did */
		if (!ct_ms_le(tail->check_at, c->check_at))
			c->check_at = tail->check_at;
		tail->next = idx;
	} else {
		l->head = idx;
	}
	l->tail = idx;
}

/* ct_set_class (ct_private.h) when the class changes: to the new class's list */
void
ct_set_class_move(struct ct_table *t, struct ct_conn *c, enum ct_tclass cls)
{
	list_unlink(t, c);
	list_append(t, c, cls, c->expire);
}

/* ct_snapshot.c: put c in class cls with an absolute expiry (re-appended, so the list's
 * order key is that expiry; appending in increasing expiry keeps the list exact) */
void
ct_set_class_expire(struct ct_table *t, struct ct_conn *c, enum ct_tclass cls, ct_time_t expire)
{
	list_unlink(t, c);
	c->expire = ct_ms_up(expire);
	list_append(t, c, cls, c->expire);
}

/* ---- memory ---- */

#define CT_HUGE_SZ ((size_t)2 << 20)

static void *
ct_mem(const struct ct_table *t, const char *name, size_t size, int socket)
{
	void *p;

	if (t == NULL || t->use_heap) {
		/* big arrays on 2 MB boundaries, and ask for transparent huge pages: a 1M table
		 * spans 160 MB and 4 KB pages would make every lookup a TLB miss */
		size_t align = size >= CT_HUGE_SZ ? CT_HUGE_SZ : RTE_CACHE_LINE_SIZE;

		p = aligned_alloc(align, RTE_ALIGN_CEIL(size, align));
		if (p == NULL)
			return NULL;
		if (align == CT_HUGE_SZ)
			(void)madvise(p, RTE_ALIGN_CEIL(size, align), MADV_HUGEPAGE);
		memset(p, 0, size);
		return p;
	}
	return rte_zmalloc_socket(name, size, RTE_CACHE_LINE_SIZE, socket);
}

static void
ct_mem_free(bool heap, void *p)
{
	if (heap)
		free(p);
	else
		rte_free(p);
}

struct ct_table *
ct_table_create(const struct ct_params *prm)
{
	struct ct_table *t;
	struct ct_timeouts def;
	const struct ct_timeouts *to;
	uint32_t nb, i;
	int socket;

	if (prm == NULL || prm->capacity == 0 || prm->capacity > (UINT32_MAX >> 2)) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (prm->timeouts != NULL)
		for (i = 0; i < CT_TC_MAX; i++)
			if (prm->timeouts->t[i] == 0 || prm->timeouts->t[i] > CT_TIMEOUT_MAX) {
				rte_errno = EINVAL;
				return NULL;
			}
	socket = prm->socket_id;
	if (prm->use_heap) {
		t = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sizeof(*t),
								      RTE_CACHE_LINE_SIZE));
		if (t != NULL)
			memset(t, 0, sizeof(*t));
	} else {
		t = rte_zmalloc_socket(prm->name, sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	}
	if (t == NULL)
		goto fail_nomem;
	t->use_heap = prm->use_heap;
	t->capacity = prm->capacity;
	nb = ct_buckets_for(prm->capacity);
	t->n_buckets = nb;
	t->conns = ct_mem(t, prm->name, (size_t)prm->capacity * sizeof(struct ct_conn), socket);
	t->buckets = ct_mem(t, prm->name, (size_t)nb * sizeof(struct ct_bucket), socket);
	if (t->conns == NULL || t->buckets == NULL)
		goto fail;
	if (prm->accounting) {
		t->acct = ct_mem(t, prm->name, (size_t)prm->capacity * sizeof(struct ct_acct),
				 socket);
		if (t->acct == NULL)
			goto fail;
	}
	t->memory = sizeof(*t) + (size_t)prm->capacity * sizeof(struct ct_conn) +
		    (size_t)nb * sizeof(struct ct_bucket) +
		    (prm->accounting ? (size_t)prm->capacity * sizeof(struct ct_acct) : 0);

	ct_keys_init(t, prm->seed);
	ct_timeouts_default(&def);
	to = prm->timeouts != NULL ? prm->timeouts : &def;
	for (i = 0; i < CT_TC_MAX; i++) {
		t->timeout[i] = to->t[i];
		t->timeout_ms[i] = ct_ms_up(to->t[i]);
	}
	t->tcp_liberal = prm->tcp_liberal;
	t->tcp_loose = prm->tcp_loose;
	t->evict_search = prm->evict_search != 0 ? prm->evict_search : 8;
	for (i = 0; i < nb; i++)
		memset(t->buckets[i].val, 0xff, sizeof(t->buckets[i].val));
	for (i = 0; i < CT_TC_MAX; i++)
		t->lists[i].head = t->lists[i].tail = CT_NIL;
	/* the free list: index 0 first, so ids are handed out in order */
	for (i = 0; i < prm->capacity; i++) {
		struct ct_conn *c = &t->conns[i];

		c->status = CT_ST_DYING;
		c->tclass = CT_TC_MAX;
		c->prev = CT_NIL;
		c->next = i + 1 < prm->capacity ? i + 1 : CT_NIL;
	}
	t->free_head = 0;
	t->free_top = prm->capacity;
	return t;

fail:
	ct_mem_free(t->use_heap, t->conns);
	ct_mem_free(t->use_heap, t->buckets);
	ct_mem_free(t->use_heap, t->acct);
	ct_mem_free(t->use_heap, t);
fail_nomem:
	rte_errno = ENOMEM;
	return NULL;
}

/* every registered layer's destroy callback, in slot order (NAT, then helpers) */
static void
run_destroy_cbs(struct ct_table *t, struct ct_conn *c)
{
	unsigned int s;

	for (s = 0; s < CT_CB_MAX; s++)
		if (t->destroy_cb[s] != NULL)
			t->destroy_cb[s](t, c, t->destroy_arg[s]);
}

void
ct_table_free(struct ct_table *t)
{
	uint32_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->capacity; i++)
		if (!(t->conns[i].status & CT_ST_DYING))
			run_destroy_cbs(t, &t->conns[i]);
	ct_mem_free(t->use_heap, t->conns);
	ct_mem_free(t->use_heap, t->buckets);
	ct_mem_free(t->use_heap, t->acct);
	ct_mem_free(t->use_heap, t->addr6);
	ct_mem_free(t->use_heap, t);
}

void
ct_set_destroy_cb_slot(struct ct_table *t, unsigned int slot, ct_destroy_cb cb, void *arg)
{
	if (slot >= CT_CB_MAX)
		return;
	t->destroy_cb[slot] = cb;
	t->destroy_arg[slot] = arg;
}

void
ct_set_destroy_cb(struct ct_table *t, ct_destroy_cb cb, void *arg)
{
	ct_set_destroy_cb_slot(t, CT_CB_NAT, cb, arg);
}

/* ---- removal ---- */

void
ct_conn_remove(struct ct_table *t, struct ct_conn *c)
{
	uint32_t idx = ct_conn_idx(t, c);
	uint64_t h0, h1;

	if (c->status & CT_ST_DYING)
		return;
	/* both keys' first buckets are fetched while the destroy callbacks run (NAT frees
	 * the mapping, its chains and its port): on expiry in a large table all are cold */
	h0 = ct_hash_inline(t->key, &c->tuple[CT_DIR_ORIG]);
	h1 = ct_hash_inline(t->key, &c->tuple[CT_DIR_REPLY]);
	rte_prefetch0(&t->buckets[ct_hash_b1(t, h0)]);
	rte_prefetch0(&t->buckets[ct_hash_b1(t, h1)]);
	run_destroy_cbs(t, c);
	ct_hash_del_h(t, h0, idx << 1 | CT_DIR_ORIG);
	ct_hash_del_h(t, h1, idx << 1 | CT_DIR_REPLY);
	ct_write_begin(c);
	list_unlink(t, c);
	c->status |= CT_ST_DYING;
	c->tclass = CT_TC_MAX;
	ct_write_end(c);
	c->next = t->free_head;		/* off its list: the link is the free list's now */
	t->free_head = idx;
	t->free_top++;
	CT_STAT_ADD(t, active, -1);
}

void
ct_reclaim_expired(struct ct_table *t, struct ct_conn *c)
{
	ct_conn_remove(t, c);
	CT_STAT_INC(t, expired);
}

void
ct_delete(struct ct_table *t, struct ct_conn *c)
{
	if (c == NULL || (c->status & CT_ST_DYING))
		return;
	ct_conn_remove(t, c);
	CT_STAT_INC(t, deleted);
}

void
ct_flush(struct ct_table *t)
{
	uint32_t i;

	for (i = 0; i < t->capacity; i++)
		ct_delete(t, &t->conns[i]);
}

unsigned int
ct_expire(struct ct_table *t, ct_time_t now, unsigned int budget)
{
	unsigned int removed = 0, k;
	ct_ms_t nm;

	/* called between bursts: no pointer from a lookup is held any more */
	ct_pins_reset(t);
	ct_clock(t, now);
	nm = ct_ms(now);

	for (k = 0; k < CT_TC_MAX && budget > 0; k++) {
		/* round robin so that one busy class cannot starve the others */
		unsigned int cls = (t->expire_class + k) % CT_TC_MAX;
		struct ct_list *l = &t->lists[cls];

		while (budget > 0 && l->head != CT_NIL) {
			struct ct_conn *c = &t->conns[l->head];

			if (!ct_ms_le(c->check_at, nm))
				break;
			budget--;
			if (ct_ms_le(c->expire, nm)) {
				ct_reclaim_expired(t, c);
				removed++;
			} else {
				/* refreshed since appended: re-check at its new expiry, or one
				 * class period from now if that is sooner (an entry of the UNACK
				 * list may carry the longer established expiry, ct_proto_tcp.c) */
				ct_ms_t at = ct_expiry(t, (enum ct_tclass)cls, now);

				if (ct_ms_le(c->expire, at))
					at = c->expire;

				list_unlink(t, c);
				list_append(t, c, (enum ct_tclass)cls, at);
			}
		}
	}
	t->expire_class = (t->expire_class + 1) % CT_TC_MAX;
	return removed;
}

/* is entry idx held by the caller (handed out since the pins were reset)? */
static bool
pinned(const struct ct_table *t, uint32_t idx)
{
	uint32_t i;

	for (i = 0; i < t->npinned; i++)
		if (t->pinned[i] == idx)
			return true;
	return false;
}

/*
 * The clock moved on by CT_JUMP_MS or more since the table last saw it (a worker stopped
 * for 12 days, a test's jump): every entry expired by then, as no timeout is longer
 * (CT_TIMEOUT_MAX), and they go now, while their times can still be read against the old
 * clock; after 24.8 days they would read as alive (ct_private.h). One the caller still
 * holds (pinned: ct_lookup, ct_lookup6 and ct_create run within a burst) is not reused
 * under it: its times become now, dead, and the reaper takes it. O(live entries).
 */
void
ct_clock_jump(struct ct_table *t, ct_time_t now)
{
	ct_time_t old = t->clock;
	unsigned int k;

	for (k = 0; k < CT_TC_MAX; k++) {
		uint32_t i = t->lists[k].head;

		while (i != CT_NIL) {
			struct ct_conn *c = &t->conns[i];
			uint32_t idx = i;

			i = c->next;
			if (ct_ms_abs(c->expire, old) > now)
				continue;
			if (!t->pin_overflow && !pinned(t, idx)) {
				ct_reclaim_expired(t, c);
				continue;
			}
			ct_write_begin(c);
			c->expire = c->check_at = ct_ms(now);
			ct_write_end(c);
		}
	}
	t->clock = now;
}

/* ---- creation ---- */

/*
 * Full table: make room, as netfilter's early_drop does: any connection not ASSURED may go
 * (SYN_RECV and replied-but-unassured UDP included: a spoofed SYN flood on a forward whose
 * server answers must not pin the table), and so may TCP connections already closing
 * (netfilter's tcp_can_early_drop: FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT, CLOSE).
 * A dead entry at the head of any class is the cheapest victim. Otherwise the classes are
 * searched least valuable first (never answered, then closed, then answered but not
 * assured, then closing), each from its head (the entry that expires first: the oldest or
 * least recently refreshed), at most evict_search entries per class, so the work is
 * bounded by evict_search * CT_TC_MAX. Connections handed out in the current burst (lookup
 * hits, creations) are never chosen: their caller still holds the pointer. Cold path:
 * runs only when the table (or a layer's resource) is full.
 */
static const uint8_t evict_classes[] = {
	CT_TC_TCP_SYN_SENT, CT_TC_UDP_UNREPLIED, CT_TC_ICMP, CT_TC_OTHER,	/* unreplied */
	CT_TC_TCP_CLOSE, CT_TC_TCP_TIME_WAIT,					/* closed */
	CT_TC_TCP_SYN_RECV, CT_TC_UDP_REPLIED,				/* unassured */
	CT_TC_TCP_LAST_ACK, CT_TC_TCP_FIN_WAIT, CT_TC_TCP_CLOSE_WAIT,		/* closing */
};

/* may c be pushed out for a new connection? (class cls, see evict_classes) */
static bool
evictable(const struct ct_conn *c, unsigned int cls)
{
	switch (cls) {
	case CT_TC_TCP_CLOSE:
	case CT_TC_TCP_TIME_WAIT:
	case CT_TC_TCP_LAST_ACK:
	case CT_TC_TCP_FIN_WAIT:
	case CT_TC_TCP_CLOSE_WAIT:
		return true;
	default:
		return !(c->status & CT_ST_ASSURED);
	}
}

static bool
evict_one(struct ct_table *t, ct_time_t now)
{
	unsigned int k;

	if (t->pin_overflow)
		return false;	/* cannot tell which ones are held */
	for (k = 0; k < CT_TC_MAX; k++) {
		uint32_t i = t->lists[k].head;

		if (i != CT_NIL && ct_conn_dead(&t->conns[i], now) && !pinned(t, i)) {
			ct_reclaim_expired(t, &t->conns[i]);
			return true;
		}
	}
	for (k = 0; k < RTE_DIM(evict_classes); k++) {
		uint32_t i = t->lists[evict_classes[k]].head, left = t->evict_search;

		while (i != CT_NIL && left > 0) {
			struct ct_conn *c = &t->conns[i];

			left--;
			if (evictable(c, evict_classes[k]) && !pinned(t, i)) {
				ct_conn_remove(t, c);
				CT_STAT_INC(t, evicted);
				return true;
			}
			i = c->next;
		}
	}
	return false;
}

bool
ct_evict_conn(struct ct_table *t, struct ct_conn *c, ct_time_t now)
{
	uint32_t idx = ct_conn_idx(t, c);

	if ((c->status & CT_ST_DYING) || t->pin_overflow || pinned(t, idx))
		return false;
	if (ct_conn_dead(c, now)) {
		ct_reclaim_expired(t, c);
		return true;
	}
	if (!evictable(c, c->tclass))
		return false;
	ct_conn_remove(t, c);
	CT_STAT_INC(t, evicted);
	return true;
}

bool
ct_evict_unreplied(struct ct_table *t, ct_time_t now)
{
	return evict_one(t, now);
}

static struct ct_conn *
refuse(struct ct_table *t, enum ct_reason r, enum ct_reason *why)
{
	CT_STAT_INC(t, refused);
	ct_reason_inc(t, r);
	if (why != NULL)
		*why = r;
	return NULL;
}

/* A key already present: dead ones are reclaimed, live ones are a clash. h: its hash. */
static bool
key_in_use(struct ct_table *t, const struct ct_tuple *k, uint64_t h, ct_time_t now)
{
	uint32_t v = ct_hash_find_h(t, k, h);
	struct ct_conn *c;

	if (v == CT_SLOT_EMPTY)
		return false;
	c = &t->conns[v >> 1];
	if (ct_conn_dead(c, now) && !pinned(t, v >> 1)) {
		ct_reclaim_expired(t, c);
		return false;
	}
	return true;
}

static enum ct_tclass
initial_class(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return CT_TC_TCP_SYN_SENT;
	case IPPROTO_UDP:
		return CT_TC_UDP_UNREPLIED;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return CT_TC_ICMP;
	default:
		return CT_TC_OTHER;
	}
}

struct ct_conn *
ct_create(struct ct_table *t, const struct ct_tuple *orig, const struct ct_tuple *reply,
	  ct_time_t now, enum ct_reason *why)
{
	enum ct_tclass cls = initial_class(orig->proto);
	uint64_t ho, hr;	/* each key hashed once: the clash checks and the inserts */
	struct ct_conn *c;
	uint32_t idx;
	uint16_t st = 0;

	if (ct_tuple_equal(orig, reply))
		return refuse(t, CT_R_HASH_FULL, why);
	ct_clock(t, now);
	ho = ct_hash_inline(t->key, orig);
	hr = ct_hash_inline(t->key, reply);
	if (key_in_use(t, orig, ho, now) || key_in_use(t, reply, hr, now))
		return refuse(t, CT_R_HASH_FULL, why);
	if (t->free_top == 0 && !evict_one(t, now))
		return refuse(t, CT_R_TABLE_FULL, why);
	idx = t->free_head;
	c = &t->conns[idx];
	ct_write_begin(c);
	/* the tuples first: an insert's cuckoo moves rehash the tuples of the entries they
	 * move, this one's orig key included when the reply key's insert moves it (the entry
	 * stays DYING, so free to readers, until the end) */
	c->tuple[CT_DIR_ORIG] = *orig;
	c->tuple[CT_DIR_REPLY] = *reply;
	if (ct_hash_add_h(t, ho, idx << 1 | CT_DIR_ORIG) != 0) {
		ct_write_end(c);
		return refuse(t, CT_R_HASH_FULL, why);
	}
	if (ct_hash_add_h(t, hr, idx << 1 | CT_DIR_REPLY) != 0) {
		ct_hash_del_h(t, ho, idx << 1 | CT_DIR_ORIG);
		ct_write_end(c);
		return refuse(t, CT_R_HASH_FULL, why);
	}
	t->free_head = c->next;
	t->free_top--;
	if (reply->dst != orig->src || reply->dport != orig->sport)
		st |= CT_ST_SNAT;
	if (reply->src != orig->dst || reply->sport != orig->dport)
		st |= CT_ST_DNAT;
	c->status = st;
	c->tcp_state = CT_TCP_NONE;
	/* master, TCP's flags and scales, the user words, the window data; the counters */
	memset(&c->master, 0, sizeof(*c) - offsetof(struct ct_conn, master));
	if (t->acct != NULL)
		memset(&t->acct[idx], 0, sizeof(t->acct[idx]));
	c->tclass = CT_TC_MAX;
	c->expire = ct_expiry(t, cls, now);
	list_append(t, c, cls, c->expire);
	ct_write_end(c);
	ct_pin(t, idx);
	CT_STAT_INC(t, created);
	CT_STAT_INC(t, active);
	return c;
}

void
ct_set_related(struct ct_table *t, struct ct_conn *c, struct ct_conn *master)
{
	ct_write_begin(c);
	c->status |= CT_ST_RELATED;
	c->master = master != NULL ? ct_conn_idx(t, master) + 1 : 0;
	ct_write_end(c);
}

/* ---- per packet ---- */

static enum ct_reason
other_update(struct ct_table *t, struct ct_conn *c, const struct ct_pkt *p, ct_time_t now)
{
	if (p->dir == CT_DIR_REPLY)
		c->status |= CT_ST_SEEN_REPLY;
	ct_set_class(t, c, CT_TC_OTHER, now, true);
	return CT_R_NONE;
}

enum ct_state
ct_update(struct ct_table *t, struct ct_pkt *p, const uint8_t *buf, ct_time_t now,
	  enum ct_reason *why)
{
	struct ct_conn *c = p->conn;
	enum ct_reason r;
	uint8_t dir = p->dir;

	if (unlikely(p->is_icmp_error))
		return CT_RELATED;	/* about c: no state change, no refresh */
	/* the first packet each way creates or changes state: its checksum first (TCP checks
	 * its own state-changing segments in ct_tcp_update) */
	if (ct_conn_proto(c) != IPPROTO_TCP && unlikely(!(c->td_flags[dir] & CT_TD_SEEN)) &&
	    !p->l4_csum_ok && !ct_l4_csum_valid(p, buf)) {
		r = CT_R_L4_BAD_CSUM;
		ct_reason_inc(t, r);
		if (why != NULL)
			*why = r;
		return CT_INVALID;
	}
	ct_write_begin(c);
	switch (ct_conn_proto(c)) {
	case IPPROTO_TCP:
		r = ct_tcp_update(t, c, p, buf, now);
		break;
	case IPPROTO_UDP:
		r = ct_udp_update(t, c, p, now);
		break;
	case IPPROTO_ICMP:
		r = ct_icmp_update(t, c, p, now);
		break;
	default:
		/* ICMPv6 (ct_ip6.c) here, not as a case: the IPv4 protocols' dispatch stays
		 * what it was (measured: one instruction per packet otherwise) */
		r = ct_conn_proto(c) == IPPROTO_ICMPV6 ? ct_icmp6_update(t, c, p, now) :
							  other_update(t, c, p, now);
		break;
	}
	if (likely(r == CT_R_NONE)) {
		c->td_flags[dir] |= CT_TD_SEEN;
		ct_acct_count(t, c, dir, p->ip_len);
	}
	ct_write_end(c);
	if (unlikely(r != CT_R_NONE)) {
		ct_reason_inc(t, r);
		if (why != NULL)
			*why = r;
		return CT_INVALID;
	}
	if (dir == CT_DIR_REPLY || (c->status & CT_ST_SEEN_REPLY))
		return CT_ESTABLISHED;
	return (c->status & CT_ST_RELATED) ? CT_RELATED : CT_NEW;
}

enum ct_reason
ct_new_ok(const struct ct_table *t, const struct ct_pkt *p)
{
	if (p->is_icmp_error)
		return CT_R_ICMP_ERROR_NO_CONN;
	switch (p->tuple.proto) {
	case IPPROTO_TCP:
		return ct_tcp_new_ok(t, p);
	case IPPROTO_ICMP:
		return ct_icmp_new_ok(p);
	case IPPROTO_ICMPV6:
		return ct_icmp6_new_ok(p);
	default:
		return CT_R_NONE;
	}
}

/* ---- accessors ---- */

const struct ct_tuple *
ct_conn_tuple(const struct ct_conn *c, enum ct_dir d)
{
	return &c->tuple[d & 1];
}

uint16_t
ct_conn_status(const struct ct_conn *c)
{
	return c->status;
}

void
ct_conn_set_status(struct ct_conn *c, uint16_t bits)
{
	ct_write_begin(c);
	c->status |= bits;
	ct_write_end(c);
}

void
ct_conn_clear_status(struct ct_conn *c, uint16_t bits)
{
	ct_write_begin(c);
	c->status &= (uint16_t)~bits;
	ct_write_end(c);
}

enum ct_tcp_state
ct_conn_tcp_state(const struct ct_conn *c)
{
	return (enum ct_tcp_state)c->tcp_state;
}

ct_time_t
ct_conn_expire(const struct ct_conn *c, ct_time_t now)
{
	return ct_ms_abs(c->expire, now);
}

uint32_t
ct_conn_id(const struct ct_table *t, const struct ct_conn *c)
{
	return ct_conn_idx(t, c);
}

struct ct_conn *
ct_conn_by_id(struct ct_table *t, uint32_t id)
{
	if (id >= t->capacity || (t->conns[id].status & CT_ST_DYING))
		return NULL;
	return &t->conns[id];
}

uint32_t
ct_conn_user(const struct ct_conn *c, unsigned int slot)
{
	return slot < 2 ? c->user[slot] : 0;
}

void
ct_conn_set_user(struct ct_conn *c, unsigned int slot, uint32_t v)
{
	if (slot < 2)
		c->user[slot] = v;
}

uint32_t
ct_conn_master(const struct ct_conn *c)
{
	return (c->status & CT_ST_RELATED) ? c->master : 0;
}

uint32_t
ct_table_capacity(const struct ct_table *t)
{
	return t->capacity;
}

size_t
ct_table_memory(const struct ct_table *t)
{
	return t->memory;
}

/* A shortened class: every entry's check_at is lowered to at most now + the new timeout.
 * min(x, k) keeps the list sorted by check_at, so no entry moves. */
int64_t
ct_set_timeouts(struct ct_table *t, const struct ct_timeouts *to, ct_time_t now)
{
	int64_t n = 0;
	unsigned int i;
	uint32_t idx;

	for (i = 0; i < CT_TC_MAX; i++)
		if (to->t[i] == 0 || to->t[i] > CT_TIMEOUT_MAX)
			return -1;
	ct_clock(t, now);
	for (i = 0; i < CT_TC_MAX; i++) {
		ct_ms_t ms = ct_ms_up(to->t[i]), lim = ct_ms_up(now) + ms;

		if (to->t[i] < t->timeout[i])
			for (idx = t->lists[i].head; idx != CT_NIL; idx = t->conns[idx].next) {
				if (!ct_ms_le(t->conns[idx].check_at, lim))
					t->conns[idx].check_at = lim;
				n++;
			}
		t->timeout[i] = to->t[i];
		t->timeout_ms[i] = ms;
	}
	return n;
}

void
ct_count_reason(struct ct_table *t, enum ct_reason r)
{
	ct_reason_inc(t, r);
}

/* ---- lock-free readers ---- */

/* Copy one entry consistently; false if it is free or dying. */
static bool
read_conn(const struct ct_table *t, uint32_t idx, struct ct_conn_info *o, ct_time_t now)
{
	const struct ct_conn *c = &t->conns[idx];
	const struct ct_acct *a = t->acct != NULL ? &t->acct[idx] : NULL;
	uint32_t s1, s2;

	for (;;) {
		s1 = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1) {
			rte_pause();
			continue;
		}
		o->status = __atomic_load_n(&c->status, __ATOMIC_RELAXED);
		memcpy(o->tuple, c->tuple, sizeof(o->tuple));
		o->master = (o->status & CT_ST_RELATED) ?
			    __atomic_load_n(&c->master, __ATOMIC_RELAXED) : 0;
		o->tcp_state = __atomic_load_n(&c->tcp_state, __ATOMIC_RELAXED);
		o->tclass = __atomic_load_n(&c->tclass, __ATOMIC_RELAXED);
		o->expire = ct_ms_abs(__atomic_load_n(&c->expire, __ATOMIC_RELAXED), now);
		o->accounting = a != NULL;
		if (a != NULL) {
			o->packets[0] = __atomic_load_n(&a->packets[0], __ATOMIC_RELAXED);
			o->packets[1] = __atomic_load_n(&a->packets[1], __ATOMIC_RELAXED);
			o->bytes[0] = __atomic_load_n(&a->bytes[0], __ATOMIC_RELAXED);
			o->bytes[1] = __atomic_load_n(&a->bytes[1], __ATOMIC_RELAXED);
		} else {
			o->packets[0] = o->packets[1] = o->bytes[0] = o->bytes[1] = 0;
		}
		/* the copies must complete before the count is read again */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&c->seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			break;
	}
	return !(o->status & CT_ST_DYING);
}

unsigned int
ct_snapshot(const struct ct_table *t, uint32_t *cursor, struct ct_conn_info *out,
	    unsigned int n, ct_time_t now)
{
	unsigned int got = 0;
	uint32_t i = *cursor;

	while (got < n && i < t->capacity) {
		struct ct_conn_info *o = &out[got];

		if (read_conn(t, i, o, now) && o->expire > now) {
			o->id = i;
			got++;
		}
		i++;
	}
	*cursor = i;
	return got;
}

void
ct_stats_get(const struct ct_table *t, struct ct_stats *out)
{
	const uint64_t *src = (const uint64_t *)&t->stats;
	uint64_t *dst = (uint64_t *)out;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
