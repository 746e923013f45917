/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * helper_expect.c - the per-worker expectation table. An expectation names the original
 * tuple of a connection a helper saw announced (source address and/or port may be
 * wildcards), how to translate it, its master connection and an expiry time. It is
 * removed when used (the connection it expected is created, RELATED to the master), when
 * it expires, or when its master dies (conntrack destroy callback).
 *
 * Every expectation has an exact destination (the address:port the payload announced, or
 * the outside port reserved for it), so the index is a chained hash on (proto, dst, dport)
 * over a fixed array of records, keyed with a per-context secret; nothing is allocated on
 * the data path. A global limit (the array size, refused and counted when full) and a
 * per-master limit (the master's oldest goes, as netfilter's max_expected does) bound it.
 * All expectations share one timeout, so creation order is expiry order: one FIFO list
 * gives O(1) expiry, bounded per call.
 *
 * An expected connection keeps the outside endpoint it arrives on for as long as it lives:
 * a reserved port (FTP, DCC) moves from the expectation to the connection's helper record;
 * an expectation of the master's own outside endpoint (TFTP: the server answers from a new
 * port to the client's mapped port) makes the connection hold a reference on the master's
 * NAT mapping (nat_mapping_hold), so that the master's expiry during a long transfer
 * neither frees that port for another host nor breaks the client's endpoint-independent
 * mapping (in netfilter the child, NATed by nf_nat_follow_master, keeps the port taken
 * through its own NAT tuple).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "helper_private.h"

static inline uint64_t
mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint32_t
bucket_of(const struct helper_ctx *hc, uint8_t proto, uint32_t dst, uint16_t dport)
{
	uint64_t a = (uint64_t)dst << 32 | (uint64_t)dport << 16 | proto;

	return (uint32_t)mum(a ^ hc->key[0], hc->key[1] | 1) & hc->emask;
}

int
helper_expect_init(struct helper_ctx *hc)
{
	uint32_t cap = hc->cfg.max_expect, nb, i;

	for (nb = 2; nb < cap; nb <<= 1)
		;
	hc->exp_cap = cap;
	hc->emask = nb - 1;
	hc->exps = hc->use_heap ? calloc(cap, sizeof(*hc->exps)) : NULL;
	hc->ehead = hc->use_heap ? calloc(nb, sizeof(uint32_t)) : NULL;
	if (!hc->use_heap) {
		hc->exps = rte_zmalloc("helper_exps", (size_t)cap * sizeof(*hc->exps), 0);
		hc->ehead = rte_zmalloc("helper_ehead", (size_t)nb * sizeof(uint32_t), 0);
	}
	if (hc->exps == NULL || hc->ehead == NULL)
		return -ENOMEM;
	for (i = 0; i < nb; i++)
		hc->ehead[i] = HELPER_NIL;
	for (i = 0; i < cap; i++)
		hc->exps[i].hnext = i + 1 < cap ? i + 1 : HELPER_NIL;
	hc->exp_free = 0;
	hc->fifo_head = hc->fifo_tail = HELPER_NIL;
	hc->key[0] = rte_rand();
	hc->key[1] = rte_rand();
	return 0;
}

void
helper_expect_fini(struct helper_ctx *hc)
{
	if (hc->use_heap) {
		free(hc->exps);
		free(hc->ehead);
	} else {
		rte_free(hc->exps);
		rte_free(hc->ehead);
	}
	hc->exps = NULL;
	hc->ehead = NULL;
}

static inline bool
exp_matches(const struct helper_exp *e, const struct ct_tuple *t)
{
	const struct ct_tuple *x = &e->s.tuple;

	return x->dst == t->dst && x->dport == t->dport && x->proto == t->proto &&
	       ((e->s.wild & HELPER_EXP_ANY_SADDR) || x->src == t->src) &&
	       ((e->s.wild & HELPER_EXP_ANY_SPORT) || x->sport == t->sport);
}

/* unlink record i from every list; release its reserved port when release_port */
static void
exp_remove(struct helper_ctx *hc, uint32_t i, bool release_port)
{
	struct helper_exp *e = &hc->exps[i];
	uint32_t *pp = &hc->ehead[bucket_of(hc, e->s.tuple.proto, e->s.tuple.dst,
					     e->s.tuple.dport)];
	struct helper_conn *m = e->mrec < hc->conn_cap ? &hc->conns[e->mrec] : NULL;

	while (*pp != HELPER_NIL && *pp != i)
		pp = &hc->exps[*pp].hnext;
	if (*pp == i)
		*pp = e->hnext;
	/* the master's list */
	if (m != NULL) {
		if (e->mprev != HELPER_NIL)
			hc->exps[e->mprev].mnext = e->mnext;
		else
			m->exp_head = e->mnext;
		if (e->mnext != HELPER_NIL)
			hc->exps[e->mnext].mprev = e->mprev;
		else
			m->exp_tail = e->mprev;
		m->n_expect--;
	}
	/* the FIFO */
	if (e->fprev != HELPER_NIL)
		hc->exps[e->fprev].fnext = e->fnext;
	else
		hc->fifo_head = e->fnext;
	if (e->fnext != HELPER_NIL)
		hc->exps[e->fnext].fprev = e->fprev;
	else
		hc->fifo_tail = e->fprev;
	if (release_port && e->s.resv_port != 0)
		nat_port_reserved_put_host(hc->nc, e->s.to_addr, e->s.tuple.proto,
					   e->s.tuple.dst, e->s.resv_port);
	nat_host_put(hc->nc, e->host, NAT_HR_EXPECT);
	memset(e, 0, sizeof(*e));
	e->hnext = hc->exp_free;
	hc->exp_free = i;
	hc->n_exp--;
	HELPER_STAT_ADD(hc, expect_active, -1);
}

static uint32_t
exp_find(const struct helper_ctx *hc, const struct ct_tuple *t)
{
	uint32_t i = hc->ehead[bucket_of(hc, t->proto, t->dst, t->dport)];

	while (i != HELPER_NIL && !exp_matches(&hc->exps[i], t))
		i = hc->exps[i].hnext;
	return i;
}

int
helper_expect_add(struct helper_ctx *hc, struct ct_conn *master,
		  const struct helper_expect_spec *spec, ct_time_t now)
{
	struct helper_conn *m = helper_conn_rec(hc, master);
	uint32_t mid = ct_conn_id(hc->ct, master), i;
	struct helper_exp *e;
	uint32_t *head;

	if (m == NULL) {
		if (spec->resv_port != 0)
			nat_port_reserved_put_host(hc->nc, spec->to_addr, spec->tuple.proto,
						   spec->tuple.dst, spec->resv_port);
		return -EINVAL;
	}
	/* the same announcement again (a retried command): the new one replaces it */
	for (i = m->exp_head; i != HELPER_NIL; i = hc->exps[i].mnext) {
		e = &hc->exps[i];
		if (ct_tuple_equal(&e->s.tuple, &spec->tuple) && e->s.wild == spec->wild) {
			exp_remove(hc, i, e->s.resv_port != spec->resv_port);
			HELPER_COUNT(hc, EXPECT_REPLACED);
			break;
		}
	}
	if (m->n_expect >= hc->cfg.max_expect_per_master && m->exp_head != HELPER_NIL) {
		exp_remove(hc, m->exp_head, true);
		HELPER_COUNT(hc, EXPECT_REPLACED);
	}
	/* one host must not take every expectation of the worker */
	if (hc->exp_free != HELPER_NIL &&
	    nat_host_take(hc->nc, helper_spec_host(spec), NAT_HR_EXPECT,
			  hc->lim_expect_host) != 0) {
		HELPER_COUNT(hc, EXPECT_HOST_LIMIT);
		if (spec->resv_port != 0)
			nat_port_reserved_put_host(hc->nc, spec->to_addr, spec->tuple.proto,
						   spec->tuple.dst, spec->resv_port);
		return -ENOSPC;
	}
	if (hc->exp_free == HELPER_NIL) {
		HELPER_COUNT(hc, EXPECT_FULL);
		if (spec->resv_port != 0)
			nat_port_reserved_put_host(hc->nc, spec->to_addr, spec->tuple.proto,
						   spec->tuple.dst, spec->resv_port);
		return -ENOSPC;
	}
	i = hc->exp_free;
	e = &hc->exps[i];
	hc->exp_free = e->hnext;
	memset(e, 0, sizeof(*e));
	e->s = *spec;
	e->s.tuple.family = CT_FAMILY_IPV4;
	e->s.tuple.zero = 0;
	if (spec->wild & HELPER_EXP_ANY_SADDR)
		e->s.tuple.src = 0;
	if (spec->wild & HELPER_EXP_ANY_SPORT)
		e->s.tuple.sport = 0;
	e->master = mid;
	e->mrec = (uint32_t)(m - hc->conns);
	e->host = helper_spec_host(spec);
	e->expire = now + hc->cfg.expect_timeout;
	head = &hc->ehead[bucket_of(hc, spec->tuple.proto, spec->tuple.dst, spec->tuple.dport)];
	e->hnext = *head;
	*head = i;
	e->mnext = HELPER_NIL;
	e->mprev = m->exp_tail;
	if (m->exp_tail != HELPER_NIL)
		hc->exps[m->exp_tail].mnext = i;
	else
		m->exp_head = i;
	m->exp_tail = i;
	m->n_expect++;
	e->fnext = HELPER_NIL;
	e->fprev = hc->fifo_tail;
	if (hc->fifo_tail != HELPER_NIL)
		hc->exps[hc->fifo_tail].fnext = i;
	else
		hc->fifo_head = i;
	hc->fifo_tail = i;
	hc->n_exp++;
	HELPER_STAT_ADD(hc, expect_active, 1);
	HELPER_COUNT(hc, EXPECT_CREATED);
	return 0;
}

bool
helper_expect_find(const struct helper_ctx *hc, const struct ct_tuple *t, ct_time_t now,
		   struct helper_expect_spec *out, uint32_t *master_id)
{
	uint32_t i;

	if (hc->n_exp == 0)
		return false;
	i = exp_find(hc, t);
	if (i == HELPER_NIL || hc->exps[i].expire <= now)
		return false;
	if (out != NULL)
		*out = hc->exps[i].s;
	if (master_id != NULL)
		*master_id = hc->exps[i].master;
	return true;
}

unsigned int
helper_expect_count(const struct helper_ctx *hc)
{
	return hc->n_exp;
}

unsigned int
helper_expect_count_master(const struct helper_ctx *hc, const struct ct_conn *c)
{
	const struct helper_conn *m = helper_conn_rec(hc, c);

	return m != NULL ? m->n_expect : 0;
}

void
helper_expect_master_gone(struct helper_ctx *hc, struct helper_conn *hr)
{
	while (hr->exp_head != HELPER_NIL) {
		exp_remove(hc, hr->exp_head, true);
		HELPER_COUNT(hc, EXPECT_MASTER_GONE);
	}
}

unsigned int
helper_expect_expire(struct helper_ctx *hc, ct_time_t now, unsigned int budget)
{
	unsigned int n = 0;

	hc->now = now;
	while (budget-- > 0 && hc->fifo_head != HELPER_NIL &&
	       hc->exps[hc->fifo_head].expire <= now) {
		exp_remove(hc, hc->fifo_head, true);
		HELPER_COUNT(hc, EXPECT_EXPIRED);
		n++;
	}
	return n;
}

/* create the expected connection: explicit DNAT to the inside endpoint, counted in that
 * host's inbound connection budget (nat_in_expected) like any connection made to it */
static struct ct_conn *
create_dnat(struct helper_ctx *hc, const struct ct_pkt *p, const struct helper_expect_spec *s,
	    ct_time_t now)
{
	enum nat_reason nw;
	enum ct_reason cw;

	return nat_in_expected(hc->nc, p, s->to_addr, s->to_port, now, &nw, &cw);
}

/* does the DNAT expectation s wait on its master's own outside endpoint (the master's
 * mapping, not a reserved port)? */
static bool
on_master_endpoint(const struct ct_conn *master, const struct helper_expect_spec *s)
{
	const struct ct_tuple *r = ct_conn_tuple(master, CT_DIR_REPLY);

	return s->nat == HELPER_EXP_DNAT && s->resv_port == 0 && r->dst == s->tuple.dst &&
	       r->dport == s->tuple.dport && r->proto == s->tuple.proto;
}

struct ct_conn *
helper_expect_new(struct helper_ctx *hc, const struct ct_pkt *p, bool from_inside,
		  ct_time_t now)
{
	struct helper_expect_spec s;
	struct ct_conn *c, *master;
	struct helper_conn *rec;
	const struct helper_ops *ops;
	uint32_t i, mid, map = 0;

	hc->now = now;
	if (hc->n_exp == 0)
		return NULL;
	i = exp_find(hc, &p->tuple);
	if (i == HELPER_NIL)
		return NULL;
	if (hc->exps[i].expire <= now) {
		exp_remove(hc, i, true);
		HELPER_COUNT(hc, EXPECT_EXPIRED);
		return NULL;
	}
	/* a DNAT expectation waits for the outside, an outbound one for the inside */
	if (from_inside != (hc->exps[i].s.nat == HELPER_EXP_NAT_OUT))
		return NULL;
	s = hc->exps[i].s;
	mid = hc->exps[i].master;
	master = ct_conn_by_id(hc->ct, mid);
	/* used: it goes now; its reserved port moves to the new connection below */
	exp_remove(hc, i, false);
	if (s.nat == HELPER_EXP_DNAT) {
		/* taken before ct_create, which may evict the (unreplied) master */
		if (master != NULL && on_master_endpoint(master, &s))
			map = nat_mapping_hold(hc->nc, master);
		c = create_dnat(hc, p, &s, now);
		if (c != NULL && map != 0 && nat_conn_adopt_mapping(hc->nc, c, map) == 0)
			map = 0;	/* c holds it now; dropped when c goes */
	} else {
		enum nat_reason nw;
		enum ct_reason cw;

		c = nat_out_new(hc->nc, p, now, &nw, &cw);
	}
	if (c == NULL)
		goto fail;
	if (s.resv_port != 0) {
		rec = helper_conn_new_rec(hc, c, HELPER_NONE);
		if (rec == NULL) {
			ct_delete(hc->ct, c);
			goto fail;
		}
		rec->flags |= HC_F_RESV;
		rec->resv_proto = s.tuple.proto;
		rec->resv_addr = s.tuple.dst;
		rec->resv_port = s.resv_port;
		rec->resv_host = s.to_addr;
	}
	nat_mapping_release(hc->nc, map);
	map = 0;
	if (master == c || (master != NULL && (ct_conn_status(master) & CT_ST_DYING)))
		master = NULL;	/* evicted to make room (its slot may be c's now) */
	ct_set_related(hc->ct, c, master);
	HELPER_COUNT(hc, EXPECT_HIT);
	ops = helper_ops_of((enum helper_id)s.helper);
	if (ops != NULL && ops->expect_hit != NULL && master != NULL)
		ops->expect_hit(hc, c, master);
	return c;

fail:
	nat_mapping_release(hc->nc, map);
	if (s.resv_port != 0)
		nat_port_reserved_put_host(hc->nc, s.to_addr, s.tuple.proto, s.tuple.dst,
					   s.resv_port);
	HELPER_COUNT(hc, EXPECT_HIT_FAILED);
	return NULL;
}
