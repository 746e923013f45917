/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * helper_test.h - shared drivers for the helper unit tests: a worker's conntrack table,
 * NAT context and helper context over a test configuration, and one frame through the
 * app's sequence with helpers (helper.h "Pipeline"): parse from a heap copy with a given
 * tailroom (so ASan sees any write past it), lookup, on a miss ct_new_ok then
 * helper_expect_new before nat_out_new/nat_in_new and helper_conn_attach, helper_pre_ct,
 * ct_update, nat_rewrite, helper_post_ct.
 */
#ifndef NATGW_HELPER_TEST_H
#define NATGW_HELPER_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "helper.h"
#include "pkt_build.h"

#define HT_DIM(a) (sizeof(a) / sizeof((a)[0]))

#define H_A	PB_IP(192, 168, 1, 10)	/* inside client */
#define H_B	PB_IP(192, 168, 1, 20)	/* inside server (behind a forward) */
#define N_2	PB_IP(203, 0, 113, 2)	/* pool address */
#define R_1	PB_IP(198, 51, 100, 7)	/* outside server */
#define R_2	PB_IP(198, 51, 100, 8)	/* another outside host */

#define HT_SEC CT_USEC_PER_SEC

struct ht_env {
	struct nat_config cfg;
	struct helper_config hcfg;
	struct ct_table *ct;
	struct nat_ctx *nc;
	struct helper_ctx *hc;
	struct nat_fwd_table *ft;
	ct_time_t now;
};

/* one pool address N_2 (ports lo..hi), conntrack with window tracking on */
static inline void
ht_start_lim(struct ht_env *e, const struct helper_config *hcfg, uint16_t lo, uint16_t hi,
	     const struct nat_fwd *fwds, unsigned int n_fwds, uint32_t max_ports_per_host,
	     uint32_t max_inbound_conns_per_host)
{
	struct ct_params prm = {
		.capacity = 1024, .use_heap = true, .tcp_liberal = false, .name = "ht",
		.accounting = true,	/* test_snapshot checks the counters restored */
	};
	char msg[128];

	memset(e, 0, sizeof(*e));
	nat_config_default(&e->cfg);
	e->cfg.host_seed = 12345;
	e->cfg.n_addrs = 1;
	e->cfg.addrs[0] = N_2;
	e->cfg.port_lo[0] = lo;
	e->cfg.port_hi[0] = hi;
	e->cfg.max_ports_per_host = max_ports_per_host;
	e->cfg.max_inbound_conns_per_host = max_inbound_conns_per_host;
	if (hcfg != NULL)
		e->hcfg = *hcfg;
	else
		helper_config_default(&e->hcfg);
	e->now = 1000 * HT_SEC;
	e->ct = ct_table_create(&prm);
	assert_non_null(e->ct);
	e->ft = nat_fwd_table_create(fwds, n_fwds, msg, sizeof(msg));
	assert_non_null(e->ft);
	e->nc = nat_ctx_create(&e->cfg, 0, e->ct, e->ft, true);
	assert_non_null(e->nc);
	e->hc = helper_ctx_create(&e->hcfg, e->ct, e->nc, true);
	assert_non_null(e->hc);
}

/* no per-host port limit: most tests use a 2-port pool (the control connection's mapping
 * and one reserved port), where the default (a quarter) would leave a host one port */
static inline void
ht_start_fwd(struct ht_env *e, const struct helper_config *hcfg, uint16_t lo, uint16_t hi,
	     const struct nat_fwd *fwds, unsigned int n_fwds)
{
	ht_start_lim(e, hcfg, lo, hi, fwds, n_fwds, NAT_LIMIT_NONE, NAT_LIMIT_AUTO);
}

static inline void
ht_start(struct ht_env *e, const struct helper_config *hcfg, uint16_t lo, uint16_t hi)
{
	ht_start_fwd(e, hcfg, lo, hi, NULL, 0);
}

static inline void
ht_stop(struct ht_env *e)
{
	helper_ctx_free(e->hc);
	nat_ctx_free(e->nc);
	ct_table_free(e->ct);
	nat_fwd_table_free(e->ft);
}

struct ht_res {
	enum ct_state state;
	enum helper_verdict verdict;
	struct ct_conn *conn;
	uint8_t dir;
	bool created;
	bool related_hit;	/* created by helper_expect_new */
	unsigned int len;
	uint8_t out[PB_MAX];
};

/* One frame through the pipeline; `tailroom` bytes are writable past the frame. */
static inline void
ht_frame(struct ht_env *e, const uint8_t *frame, unsigned int len, bool from_inside,
	 unsigned int tailroom, struct ht_res *r)
{
	struct ct_pkt p, *pp = &p;
	uint32_t flen = len;
	uint8_t *b = malloc(len + tailroom);
	enum nat_reason nw;
	enum ct_reason cw;

	memset(r, 0, sizeof(*r));
	r->state = CT_INVALID;
	assert_non_null(b);
	memcpy(b, frame, len);
	assert_int_equal(ct_parse_ipv4(b, len, PB_ETH_LEN, true, &p), CT_R_NONE);
	ct_lookup_burst(e->ct, &pp, 1, e->now);
	if (p.conn == NULL) {
		if (ct_new_ok(e->ct, &p) != CT_R_NONE)
			goto out;
		p.conn = helper_expect_new(e->hc, &p, from_inside, e->now);
		r->related_hit = p.conn != NULL;
		if (p.conn == NULL)
			p.conn = from_inside ? nat_out_new(e->nc, &p, e->now, &nw, &cw) :
					       nat_in_new(e->nc, &p, e->now, &nw, &cw);
		if (p.conn == NULL)
			goto out;
		p.dir = CT_DIR_ORIG;
		r->created = true;
		if (!r->related_hit)
			helper_conn_attach(e->hc, p.conn);
	}
	r->conn = p.conn;
	r->dir = p.dir;
	if (ct_conn_status(p.conn) & CT_ST_HELPER)
		helper_pre_ct(e->hc, &p, b);
	r->state = ct_update(e->ct, &p, b, e->now, &cw);
	if (r->state == CT_INVALID)
		goto out;
	assert_int_equal(nat_rewrite(p.conn, &p, b), 0);
	if (ct_conn_status(p.conn) & CT_ST_HELPER)
		r->verdict = helper_post_ct(e->hc, &p, b, &flen, len + tailroom, e->now);
	/* what the parse now says must agree with the new length */
	assert_int_equal(p.l3_off + p.ip_len, flen);
out:
	assert_true(flen <= PB_MAX);
	memcpy(r->out, b, flen);
	r->len = flen;
	free(b);
}

static inline void
ht_spec(struct ht_env *e, const struct pb_spec *s, bool from_inside, struct ht_res *r)
{
	uint8_t f[PB_MAX];
	unsigned int len = pb_build(f, s);

	assert_true(pb_csum_ok(f, len));
	ht_frame(e, f, len, from_inside, 256, r);
}

static inline struct pb_spec
ht_tcp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags, uint32_t seq,
       uint32_t ack, const char *payload)
{
	struct pb_spec s = {
		.src = src, .dst = dst, .sport = sport, .dport = dport, .proto = IPPROTO_TCP,
		.tcp_flags = flags, .seq = seq, .ack = ack, .payload = payload,
		.payload_len = payload != NULL ? (uint16_t)strlen(payload) : 0,
	};
	return s;
}

/* the L4 payload of an output frame */
static inline const uint8_t *
ht_payload(const struct ht_res *r, unsigned int *plen)
{
	const uint8_t *ip = r->out + PB_ETH_LEN;
	unsigned int ihl = (ip[0] & 15) * 4, tot = (unsigned int)(ip[2] << 8 | ip[3]);
	const uint8_t *l4 = ip + ihl;
	unsigned int l4h = ip[9] == IPPROTO_TCP ? (unsigned int)(l4[12] >> 4) * 4 : 8;

	*plen = tot - ihl - l4h;
	return l4 + l4h;
}

static inline void
ht_assert_payload(const struct ht_res *r, const char *want)
{
	unsigned int n;
	const uint8_t *pl = ht_payload(r, &n);

	assert_int_equal(n, strlen(want));
	assert_memory_equal(pl, want, n);
}

static inline uint64_t
ht_count(const struct ht_env *e, enum helper_counter c)
{
	struct helper_stats st;

	helper_stats_get(e->hc, &st);
	return st.c[c];
}

static inline uint64_t
ht_ports_in_use(const struct ht_env *e)
{
	struct nat_stats st;

	nat_stats_get(e->nc, &st);
	return st.ports_in_use;
}

#endif
