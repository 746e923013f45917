/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_helper_expect.c - the expectation table: wildcard matching, the global and the
 * per-master limits (counted), expiry on the virtual clock, removal with the master
 * (deleted or expired in conntrack), removal when used, reserved outside ports going back
 * to NAT on every path, and the direction an expectation waits for.
 */
#include <errno.h>

#include "helper_test.h"

/* an FTP control connection from H_A:sport to R_1:21 (SYN from the inside) */
static struct ct_conn *
master(struct ht_env *e, uint16_t sport)
{
	struct pb_spec s = ht_tcp(H_A, sport, R_1, 21, PB_SYN, 1000, 0, NULL);
	struct ht_res r;

	ht_spec(e, &s, true, &r);
	assert_non_null(r.conn);
	assert_true(ct_conn_status(r.conn) & CT_ST_HELPER);
	assert_int_equal(helper_conn_helper(e->hc, r.conn), HELPER_FTP);
	return r.conn;
}

/* expected: from src (any port) to N_2:dport, DNAT to H_A:to_port */
static struct helper_expect_spec
spec(uint32_t src, uint16_t dport, uint8_t wild, uint16_t resv)
{
	struct helper_expect_spec s = {
		.tuple = { .src = src, .dst = N_2, .dport = htons(dport), .proto = IPPROTO_TCP,
			   .family = CT_FAMILY_IPV4 },
		.wild = wild, .nat = HELPER_EXP_DNAT, .helper = HELPER_FTP,
		.to_addr = H_A, .to_port = htons(1025), .resv_port = resv,
	};
	return s;
}

static struct ct_tuple
tup(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t proto)
{
	struct ct_tuple t = { .src = src, .dst = dst, .sport = htons(sport),
			      .dport = htons(dport), .proto = proto,
			      .family = CT_FAMILY_IPV4 };
	return t;
}

struct wild_case {
	const char *name;
	uint8_t wild;
	struct ct_tuple probe;
	bool match;
};

static void
test_wildcards(void **state)
{
	const struct wild_case cases[] = {
		{ "exact src, any port", HELPER_EXP_ANY_SPORT,
		  tup(R_1, 20, N_2, 40000, IPPROTO_TCP), true },
		{ "exact src, any port, other port", HELPER_EXP_ANY_SPORT,
		  tup(R_1, 33333, N_2, 40000, IPPROTO_TCP), true },
		{ "exact src, other address", HELPER_EXP_ANY_SPORT,
		  tup(R_2, 20, N_2, 40000, IPPROTO_TCP), false },
		{ "exact src and port", 0, tup(R_1, 20, N_2, 40000, IPPROTO_TCP), true },
		{ "exact src and port, other port", 0, tup(R_1, 21, N_2, 40000, IPPROTO_TCP),
		  false },
		{ "any address", HELPER_EXP_ANY_SADDR | HELPER_EXP_ANY_SPORT,
		  tup(R_2, 1234, N_2, 40000, IPPROTO_TCP), true },
		{ "other destination port", HELPER_EXP_ANY_SADDR | HELPER_EXP_ANY_SPORT,
		  tup(R_1, 20, N_2, 40001, IPPROTO_TCP), false },
		{ "other protocol", HELPER_EXP_ANY_SADDR | HELPER_EXP_ANY_SPORT,
		  tup(R_1, 20, N_2, 40000, IPPROTO_UDP), false },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < HT_DIM(cases); i++) {
		struct ht_env e;
		struct helper_expect_spec s = spec(R_1, 40000, cases[i].wild, 0), got;
		struct ct_conn *m;
		uint32_t mid = 0;

		ht_start(&e, NULL, 1024, 65535);
		m = master(&e, 40001);
		s.tuple.sport = htons(20);
		assert_int_equal(helper_expect_add(e.hc, m, &s, e.now), 0);
		if (helper_expect_find(e.hc, &cases[i].probe, e.now, &got, &mid) != cases[i].match)
			fail_msg("%s", cases[i].name);
		if (cases[i].match)
			assert_int_equal(mid, ct_conn_id(e.ct, m));
		ht_stop(&e);
	}
}

static void
test_global_limit(void **state)
{
	struct helper_config hcfg;
	struct ht_env e;
	struct ct_conn *m[3];
	struct helper_expect_spec s;
	unsigned int i;

	(void)state;
	helper_config_default(&hcfg);
	hcfg.max_expect = 4;
	hcfg.max_expect_per_master = 2;
	hcfg.max_expect_per_host = HELPER_LIMIT_NONE;	/* the global limit alone */
	ht_start(&e, &hcfg, 1024, 65535);
	for (i = 0; i < 3; i++)
		m[i] = master(&e, (uint16_t)(40001 + i));
	for (i = 0; i < 4; i++) {
		s = spec(R_1, (uint16_t)(50000 + i), HELPER_EXP_ANY_SPORT, 0);
		assert_int_equal(helper_expect_add(e.hc, m[i / 2], &s, e.now), 0);
	}
	assert_int_equal(helper_expect_count(e.hc), 4);
	s = spec(R_1, 50010, HELPER_EXP_ANY_SPORT, 0);
	assert_int_equal(helper_expect_add(e.hc, m[2], &s, e.now), -ENOSPC);
	assert_int_equal(ht_count(&e, HELPER_C_EXPECT_FULL), 1);
	assert_int_equal(helper_expect_count(e.hc), 4);
	assert_int_equal(helper_expect_count_master(e.hc, m[2]), 0);
	ht_stop(&e);
}

static void
test_per_master_limit(void **state)
{
	struct helper_config hcfg;
	struct ht_env e;
	struct ct_conn *m;
	struct helper_expect_spec s;
	struct ct_tuple first = tup(R_1, 20, N_2, 50000, IPPROTO_TCP);
	uint64_t ports0;
	unsigned int i;
	int port;

	(void)state;
	helper_config_default(&hcfg);
	hcfg.max_expect_per_master = 2;
	ht_start(&e, &hcfg, 1024, 65535);
	m = master(&e, 40001);
	ports0 = ht_ports_in_use(&e);
	for (i = 0; i < 3; i++) {
		port = nat_port_reserve_host(e.nc, H_A, IPPROTO_TCP, N_2,
					     (uint16_t)(50000 + i));
		assert_int_equal(port, 50000 + i);
		s = spec(R_1, (uint16_t)port, HELPER_EXP_ANY_SPORT, (uint16_t)port);
		assert_int_equal(helper_expect_add(e.hc, m, &s, e.now), 0);
	}
	/* the oldest went, with its reserved port */
	assert_int_equal(helper_expect_count_master(e.hc, m), 2);
	assert_false(helper_expect_find(e.hc, &first, e.now, NULL, NULL));
	assert_int_equal(ht_count(&e, HELPER_C_EXPECT_REPLACED), 1);
	assert_int_equal(ht_ports_in_use(&e), ports0 + 2);
	assert_int_equal(nat_port_reserve(e.nc, IPPROTO_TCP, N_2, 50000), 50000);
	nat_port_reserved_put(e.nc, IPPROTO_TCP, N_2, 50000);
	/* the same announcement again replaces, it does not add */
	s = spec(R_1, 50002, HELPER_EXP_ANY_SPORT, 50002);
	assert_int_equal(helper_expect_add(e.hc, m, &s, e.now), 0);
	assert_int_equal(helper_expect_count_master(e.hc, m), 2);
	assert_int_equal(ht_ports_in_use(&e), ports0 + 2);
	ht_stop(&e);
}

static void
test_expiry(void **state)
{
	struct ht_env e;
	struct ct_conn *m;
	struct helper_expect_spec s = spec(R_1, 50000, HELPER_EXP_ANY_SPORT, 0);
	struct ct_tuple probe = tup(R_1, 20, N_2, 50000, IPPROTO_TCP);
	ct_time_t t0;

	(void)state;
	ht_start(&e, NULL, 1024, 65535);
	m = master(&e, 40001);
	t0 = e.now;
	assert_int_equal(helper_expect_add(e.hc, m, &s, t0), 0);
	s = spec(R_1, 50001, HELPER_EXP_ANY_SPORT, 0);
	assert_int_equal(helper_expect_add(e.hc, m, &s, t0 + 10 * HT_SEC), 0);
	/* not yet */
	assert_int_equal(helper_expect_expire(e.hc, t0 + e.hcfg.expect_timeout - 1, 16), 0);
	assert_true(helper_expect_find(e.hc, &probe, t0 + e.hcfg.expect_timeout - 1, NULL, NULL));
	/* a lookup past the time misses even before the reaper ran */
	assert_false(helper_expect_find(e.hc, &probe, t0 + e.hcfg.expect_timeout, NULL, NULL));
	/* the reaper takes the first only: the second has 10 s left; budget is respected */
	assert_int_equal(helper_expect_expire(e.hc, t0 + e.hcfg.expect_timeout, 0), 0);
	assert_int_equal(helper_expect_expire(e.hc, t0 + e.hcfg.expect_timeout, 16), 1);
	assert_int_equal(helper_expect_count(e.hc), 1);
	assert_int_equal(helper_expect_expire(e.hc, t0 + e.hcfg.expect_timeout + 10 * HT_SEC,
					      16), 1);
	assert_int_equal(helper_expect_count(e.hc), 0);
	assert_int_equal(ht_count(&e, HELPER_C_EXPECT_EXPIRED), 2);
	ht_stop(&e);
}

static void
test_master_death(void **state)
{
	struct ht_env e;
	struct ct_conn *m, *m2;
	struct helper_expect_spec s;
	uint64_t ports0;
	int port;

	(void)state;
	ht_start(&e, NULL, 1024, 65535);
	m = master(&e, 40001);
	m2 = master(&e, 40002);
	ports0 = ht_ports_in_use(&e);
	port = nat_port_reserve_host(e.nc, H_A, IPPROTO_TCP, N_2, 50000);
	s = spec(R_1, (uint16_t)port, HELPER_EXP_ANY_SPORT, (uint16_t)port);
	assert_int_equal(helper_expect_add(e.hc, m, &s, e.now), 0);
	s = spec(R_1, 50001, HELPER_EXP_ANY_SPORT, 0);
	assert_int_equal(helper_expect_add(e.hc, m, &s, e.now), 0);
	s = spec(R_1, 50002, HELPER_EXP_ANY_SPORT, 0);
	assert_int_equal(helper_expect_add(e.hc, m2, &s, e.now), 0);
	assert_int_equal(ht_ports_in_use(&e), ports0 + 1);
	/* deleted: its expectations and their reserved port go, the other master's stay */
	ct_delete(e.ct, m);
	assert_int_equal(helper_expect_count(e.hc), 1);
	assert_int_equal(helper_expect_count_master(e.hc, m2), 1);
	assert_int_equal(ht_count(&e, HELPER_C_EXPECT_MASTER_GONE), 2);
	/* the reserved port and the master's own mapping port */
	assert_int_equal(ht_ports_in_use(&e), ports0 - 1);
	/* expired in conntrack (SYN_SENT timeout on the virtual clock) */
	assert_true(ct_expire(e.ct, e.now + 3600 * HT_SEC, 1000) >= 1);
	assert_int_equal(helper_expect_count(e.hc), 0);
	assert_int_equal(ht_count(&e, HELPER_C_EXPECT_MASTER_GONE), 3);
	ht_stop(&e);
}

/* used: the connection is created RELATED with its master, the expectation goes; a
 * DNAT expectation only answers a packet from the outside */
static void
test_used_once(void **state)
{
	struct ht_env e;
	struct ct_conn *m;
	struct helper_expect_spec s;
	struct pb_spec syn = ht_tcp(R_1, 20, N_2, 50000, PB_SYN, 7000, 0, NULL);
	struct ht_res r;
	uint64_t ports0;
	int port;

	(void)state;
	ht_start(&e, NULL, 1024, 65535);
	m = master(&e, 40001);
	ports0 = ht_ports_in_use(&e);
	port = nat_port_reserve_host(e.nc, H_A, IPPROTO_TCP, N_2, 50000);
	assert_int_equal(port, 50000);
	s = spec(R_1, 50000, HELPER_EXP_ANY_SPORT, 50000);
	assert_int_equal(helper_expect_add(e.hc, m, &s, e.now), 0);
	/* from the inside: not this expectation (and no NAT mapping either) */
	syn.src = R_1;
	ht_spec(&e, &syn, true, &r);
	assert_false(r.related_hit);
	if (r.conn != NULL)
		ct_delete(e.ct, r.conn);
	assert_int_equal(helper_expect_count(e.hc), 1);
	/* from the outside */
	ht_spec(&e, &syn, false, &r);
	assert_true(r.related_hit);
	assert_int_equal(r.state, CT_RELATED);
	assert_true(ct_conn_status(r.conn) & CT_ST_RELATED);
	assert_int_equal(ct_conn_master(r.conn), ct_conn_id(e.ct, m) + 1);
	assert_int_equal(pb_ip_dst(r.out), H_A);
	assert_int_equal(pb_dport(r.out), 1025);
	assert_true(pb_csum_ok(r.out, r.len));
	assert_int_equal(helper_expect_count(e.hc), 0);
	assert_int_equal(ht_count(&e, HELPER_C_EXPECT_HIT), 1);
	/* the data connection holds the port until it ends */
	assert_int_equal(ht_ports_in_use(&e), ports0 + 1);
	ct_delete(e.ct, r.conn);
	assert_int_equal(ht_ports_in_use(&e), ports0);
	/* a second connection to the same port is not expected any more */
	syn.sport = 21;
	ht_spec(&e, &syn, false, &r);
	assert_false(r.related_hit);
	assert_null(r.conn);
	ht_stop(&e);
}

/* helper_ctx_free gives back every reserved port */
static void
test_free_returns_ports(void **state)
{
	struct ht_env e;
	struct ct_conn *m;
	struct helper_expect_spec s;
	uint64_t ports0;
	int port;

	(void)state;
	ht_start(&e, NULL, 1024, 65535);
	m = master(&e, 40001);
	ports0 = ht_ports_in_use(&e);
	port = nat_port_reserve_host(e.nc, H_A, IPPROTO_TCP, N_2, 50000);
	s = spec(R_1, (uint16_t)port, HELPER_EXP_ANY_SPORT, (uint16_t)port);
	assert_int_equal(helper_expect_add(e.hc, m, &s, e.now), 0);
	helper_ctx_free(e.hc);
	e.hc = NULL;
	assert_int_equal(ht_ports_in_use(&e), ports0);
	ht_stop(&e);
}

/* nat_port_reserve: the wanted port when free, whichever worker reserves it (the port table
 * is shared, lib/nat/nat_ports.c), else another; the table names the reserving worker as
 * the holder, so the expected connection is steered to the master's lcore. */
static void
test_reserve_slice(void **state)
{
	struct ct_params prm = { .capacity = 64, .use_heap = true, .name = "rs" };
	struct nat_config cfg;
	struct ct_table *ct;
	struct nat_ctx *nc;
	struct nat_port_table *pt;
	char msg[64];
	struct nat_fwd_table *ft = nat_fwd_table_create(NULL, 0, msg, sizeof(msg));
	unsigned int i;
	int p;

	(void)state;
	nat_config_default(&cfg);
	cfg.n_addrs = 1;
	cfg.addrs[0] = N_2;
	cfg.n_workers = 2;
	ct = ct_table_create(&prm);
	assert_non_null(ct);
	pt = nat_port_table_create(&cfg, true);
	assert_non_null(pt);
	nc = nat_ctx_create_shared(&cfg, 1, ct, ft, pt, true);
	assert_non_null(nc);
	assert_int_equal(nat_port_reserve(nc, IPPROTO_TCP, N_2, 40001), 40001);
	assert_int_equal(nat_port_reserve(nc, IPPROTO_TCP, N_2, 40000), 40000);	/* even */
	for (i = 0; i < 50; i++) {
		p = nat_port_reserve(nc, IPPROTO_TCP, N_2, 40000);	/* taken: another */
		assert_true(p >= 1024 && p != 40000 && p != 40001);
		assert_int_equal(nat_port_table_owner(pt, IPPROTO_TCP, N_2, (uint16_t)p), 1);
	}
	assert_int_equal(nat_port_table_owner(pt, IPPROTO_TCP, N_2, 40000), 1);
	/* taken already: another one */
	p = nat_port_reserve(nc, IPPROTO_TCP, N_2, 40001);
	assert_int_not_equal(p, 40001);
	assert_int_equal(nat_port_reserve(nc, IPPROTO_UDP, N_2, 40001), 40001);
	/* not a pool address; a protocol without ports */
	assert_int_equal(nat_port_reserve(nc, IPPROTO_TCP, R_1, 40001), -1);
	assert_int_equal(nat_port_reserve(nc, IPPROTO_ICMP, N_2, 40001), -1);
	nat_port_reserved_put(nc, IPPROTO_TCP, N_2, 40001);
	assert_int_equal(nat_port_table_owner(pt, IPPROTO_TCP, N_2, 40001), NAT_OWNER_UNKNOWN);
	assert_int_equal(nat_port_reserve(nc, IPPROTO_TCP, N_2, 40001), 40001);
	nat_ctx_free(nc);
	ct_table_free(ct);
	nat_port_table_free(pt);
	nat_fwd_table_free(ft);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_global_limit),
		cmocka_unit_test(test_per_master_limit),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_master_death),
		cmocka_unit_test(test_used_once),
		cmocka_unit_test(test_free_returns_ports),
		cmocka_unit_test(test_reserve_slice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
