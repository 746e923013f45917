/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat_test.h - shared drivers for the NAT unit tests: a worker's conntrack table + NAT
 * context over a test configuration, and one frame through the app's sequence (parse from
 * an exact-size heap copy so ASan sees any overrun, lookup, create through nat_out_new /
 * nat_in_new on a miss, ct_update, nat_rewrite), with the rewritten bytes handed back and
 * their checksums verified from scratch.
 */
#ifndef NATGW_NAT_TEST_H
#define NATGW_NAT_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "nat.h"
#include "pkt_build.h"

#define NT_DIM(a) (sizeof(a) / sizeof((a)[0]))

/* inside hosts, pool addresses, remote hosts, a router on the path */
#define H_A	PB_IP(192, 168, 1, 10)
#define H_B	PB_IP(192, 168, 1, 20)
#define H_C	PB_IP(192, 168, 1, 30)
#define N_1	PB_IP(203, 0, 113, 1)
#define N_2	PB_IP(203, 0, 113, 2)
#define N_3	PB_IP(203, 0, 113, 3)
#define R_1	PB_IP(198, 51, 100, 7)
#define R_2	PB_IP(198, 51, 100, 8)
#define RTR	PB_IP(198, 51, 100, 254)
#define RTR_IN	PB_IP(192, 168, 1, 254)

#define NT_SEC CT_USEC_PER_SEC

struct nt_env {
	struct nat_config cfg;
	struct ct_table *ct;
	struct nat_ctx *nc;
	struct nat_fwd_table *ft;
	struct nat_port_table *pt;	/* shared with other workers' envs; NULL: the ctx's own */
	unsigned int worker;
	ct_time_t now;
};

/* configuration for the tests: one or more pool addresses, deterministic host seed */
static inline void
nt_config(struct nat_config *cfg, unsigned int n_addrs)
{
	static const uint32_t pool[] = { N_1, N_2, N_3 };
	unsigned int i;

	nat_config_default(cfg);
	cfg->host_seed = 12345;
	cfg->n_addrs = n_addrs;
	for (i = 0; i < n_addrs && i < NT_DIM(pool); i++)
		cfg->addrs[i] = pool[i];
}

/* create the worker over cfg (and forwards), capacity cap, over the shared port table pt
 * (NULL: a table of its own; the caller frees pt after nt_stop) */
static inline void
nt_start_pt(struct nt_env *e, const struct nat_config *cfg, unsigned int worker, uint32_t cap,
	    const struct nat_fwd *fwds, unsigned int n_fwds, struct nat_port_table *pt)
{
	struct ct_params prm = {
		.capacity = cap, .use_heap = true, .tcp_liberal = true, .name = "nt",
	};
	char msg[128];

	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	e->worker = worker;
	e->now = 1000 * NT_SEC;
	e->ct = ct_table_create(&prm);
	assert_non_null(e->ct);
	e->ft = nat_fwd_table_create(fwds, n_fwds, msg, sizeof(msg));
	assert_non_null(e->ft);
	e->pt = pt;
	e->nc = nat_ctx_create_shared(&e->cfg, worker, e->ct, e->ft, pt, true);
	assert_non_null(e->nc);
}

static inline void
nt_start(struct nt_env *e, const struct nat_config *cfg, unsigned int worker, uint32_t cap,
	 const struct nat_fwd *fwds, unsigned int n_fwds)
{
	nt_start_pt(e, cfg, worker, cap, fwds, n_fwds, NULL);
}

static inline void
nt_stop(struct nt_env *e)
{
	/* the context first: it unregisters its destroy callback from the table */
	nat_ctx_free(e->nc);
	ct_table_free(e->ct);
	nat_fwd_table_free(e->ft);
}

/* the result of one frame through the worker */
struct nt_res {
	enum ct_reason parse;
	enum ct_state state;
	enum nat_reason nat_why;
	enum ct_reason ct_why;
	struct ct_conn *conn;
	uint8_t dir;
	bool created;
	int rewrite;		/* nat_rewrite's return */
	unsigned int len;
	uint8_t out[PB_MAX];	/* the frame as it leaves */
};

/* One frame through parse, lookup, NAT creation on a miss, update and rewrite. */
static inline void
nt_frame(struct nt_env *e, const uint8_t *frame, unsigned int len, bool from_inside,
	 struct nt_res *r)
{
	struct ct_pkt p, *pp = &p;
	uint8_t *b = malloc(len);

	memset(r, 0, sizeof(*r));
	r->state = CT_INVALID;
	r->rewrite = -2;
	assert_non_null(b);
	memcpy(b, frame, len);
	r->parse = ct_parse_ipv4(b, len, PB_ETH_LEN, true, &p);
	if (r->parse != CT_R_NONE)
		goto out;
	ct_lookup_burst(e->ct, &pp, 1, e->now);
	if (p.conn == NULL) {
		r->ct_why = ct_new_ok(e->ct, &p);
		if (r->ct_why != CT_R_NONE)
			goto out;
		p.conn = from_inside ? nat_out_new(e->nc, &p, e->now, &r->nat_why, &r->ct_why) :
				       nat_in_new(e->nc, &p, e->now, &r->nat_why, &r->ct_why);
		if (p.conn == NULL)
			goto out;
		p.dir = CT_DIR_ORIG;
		r->created = true;
	}
	r->conn = p.conn;
	r->dir = p.dir;
	r->state = ct_update(e->ct, &p, b, e->now, &r->ct_why);
	if (r->state == CT_INVALID)
		goto out;
	r->rewrite = nat_rewrite(p.conn, &p, b);
out:
	memcpy(r->out, b, len);
	r->len = len;
	free(b);
}

/* Build a frame from a spec and pass it; asserts that it was translated with valid sums. */
static inline void
nt_spec(struct nt_env *e, const struct pb_spec *s, bool from_inside, struct nt_res *r)
{
	uint8_t f[PB_MAX];
	unsigned int len = pb_build(f, s);

	assert_true(pb_csum_ok(f, len));
	nt_frame(e, f, len, from_inside, r);
}

static inline void
nt_assert_ok(const struct nt_res *r)
{
	assert_int_equal(r->parse, CT_R_NONE);
	assert_non_null(r->conn);
	assert_int_not_equal(r->state, CT_INVALID);
	assert_int_equal(r->rewrite, 0);
	assert_true(pb_csum_ok(r->out, r->len));
}

static inline struct pb_spec
nt_udp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	static const char pl[] = "natgw unit test payload";
	struct pb_spec s = {
		.src = src, .dst = dst, .sport = sport, .dport = dport, .proto = IPPROTO_UDP,
		.payload = pl, .payload_len = sizeof(pl) - 1,
	};
	return s;
}

static inline struct pb_spec
nt_tcp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags)
{
	struct pb_spec s = {
		.src = src, .dst = dst, .sport = sport, .dport = dport, .proto = IPPROTO_TCP,
		.tcp_flags = flags, .seq = 1000, .ack = flags & PB_ACK ? 5000 : 0,
	};
	return s;
}

/* Outbound UDP from src:sport to dst:dport that must be translated; returns the outside
 * port (host order) and checks the outside address is one of the pool. */
static inline uint16_t
nt_udp_out(struct nt_env *e, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
	   uint32_t *out_addr)
{
	struct pb_spec s = nt_udp(src, sport, dst, dport);
	struct nt_res r;

	nt_spec(e, &s, true, &r);
	nt_assert_ok(&r);
	assert_true(nat_is_outside_addr(&e->cfg, pb_ip_src(r.out)));
	assert_int_equal(pb_ip_dst(r.out), dst);
	assert_int_equal(pb_dport(r.out), dport);
	if (out_addr != NULL)
		*out_addr = pb_ip_src(r.out);
	return pb_sport(r.out);
}

/* nt_udp_out(), then the remote's answer (checked translated back), then one more packet
 * out: a UDP stream, ASSURED (as netfilter's), so it is not evictable to make room for
 * others (ct_evict_unreplied; a replied but unassured one would be) */
static inline uint16_t
nt_udp_out_replied(struct nt_env *e, uint32_t src, uint16_t sport, uint32_t dst,
		   uint16_t dport, uint32_t *out_addr)
{
	uint32_t oa;
	uint16_t op = nt_udp_out(e, src, sport, dst, dport, &oa);
	struct pb_spec s = nt_udp(dst, dport, oa, op);
	struct nt_res r;

	nt_spec(e, &s, false, &r);
	nt_assert_ok(&r);
	assert_int_equal(r.dir, CT_DIR_REPLY);
	assert_int_equal(pb_ip_dst(r.out), src);
	assert_int_equal(pb_dport(r.out), sport);
	s = nt_udp(src, sport, dst, dport);
	nt_spec(e, &s, true, &r);
	nt_assert_ok(&r);
	assert_false(r.created);
	assert_true(ct_conn_status(r.conn) & CT_ST_ASSURED);
	if (out_addr != NULL)
		*out_addr = oa;
	return op;
}

static inline struct nat_stats
nt_stats(const struct nt_env *e)
{
	struct nat_stats st;

	nat_stats_get(e->nc, &st);
	return st;
}

/* ---- a gateway of n workers over one port table, steered the app's way ---- */

struct nt_gw {
	unsigned int n;
	struct nat_config cfg;
	struct nat_port_table *pt;
	struct nt_env e[4];
};

static inline void
nt_gw_start(struct nt_gw *g, const struct nat_config *cfg, unsigned int n, uint32_t cap,
	    const struct nat_fwd *fwds, unsigned int n_fwds)
{
	unsigned int w;

	assert_true(n >= 1 && n <= NT_DIM(g->e));
	memset(g, 0, sizeof(*g));
	g->n = n;
	g->cfg = *cfg;
	g->cfg.n_workers = n;
	g->pt = nat_port_table_create(&g->cfg, true);
	assert_non_null(g->pt);
	for (w = 0; w < n; w++)
		nt_start_pt(&g->e[w], &g->cfg, w, cap, fwds, n_fwds, g->pt);
}

static inline void
nt_gw_stop(struct nt_gw *g)
{
	unsigned int w;

	for (w = 0; w < g->n; w++)
		nt_stop(&g->e[w]);
	nat_port_table_free(g->pt);
}

static inline unsigned int
nt_gw_owner(const struct nt_gw *g, const uint8_t *f, unsigned int len, bool from_inside)
{
	struct ct_pkt p;
	uint32_t o;

	if (ct_parse_ipv4(f, len, PB_ETH_LEN, false, &p) != CT_R_NONE)
		return 0;
	o = from_inside ? nat_inside_owner(&g->cfg, g->e[0].ft, &p) :
			  nat_inbound_owner(&g->cfg, g->e[0].ft, g->pt, &p);
	return o < g->n ? o : 0;	/* unknown: one fixed worker, as the app does */
}

/*
 * One frame through the gateway as app/gw_pipeline.c runs it: to its owner worker, and a
 * packet from inside translated to one of our outside addresses (the first half of a
 * hairpin) looped back in as from the outside, to the owner of its destination port, for
 * the second half. r is the last pass; *looped (may be NULL) tells whether it was looped.
 */
static inline void
nt_gw_frame(struct nt_gw *g, const uint8_t *f, unsigned int len, bool from_inside,
	    struct nt_res *r, bool *looped)
{
	unsigned int w = nt_gw_owner(g, f, len, from_inside);
	uint8_t half[PB_MAX];

	if (looped != NULL)
		*looped = false;
	nt_frame(&g->e[w], f, len, from_inside, r);
	if (!from_inside || r->rewrite != 0 || !nat_is_outside_addr(&g->cfg, pb_ip_dst(r->out)))
		return;
	if (looped != NULL)
		*looped = true;
	memcpy(half, r->out, r->len);
	w = nt_gw_owner(g, half, r->len, false);
	nt_frame(&g->e[w], half, r->len, false, r);
}

static inline void
nt_gw_spec(struct nt_gw *g, const struct pb_spec *s, bool from_inside, struct nt_res *r,
	   bool *looped)
{
	uint8_t f[PB_MAX];
	unsigned int len = pb_build(f, s);

	nt_gw_frame(g, f, len, from_inside, r, looped);
}

static inline uint64_t
nt_gw_stat_hairpinned(const struct nt_gw *g)
{
	uint64_t n = 0;
	unsigned int w;

	for (w = 0; w < g->n; w++)
		n += nt_stats(&g->e[w]).hairpinned;
	return n;
}

static inline uint64_t
nt_reason(const struct nt_env *e, enum nat_reason why)
{
	struct nat_stats st;

	nat_stats_get(e->nc, &st);
	return st.reason[why];
}


#endif
