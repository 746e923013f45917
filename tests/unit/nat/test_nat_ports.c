/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nat_ports.c - outside port allocation and mappings, on real packets: exhaustion,
 * EIM reuse and APDM, port preservation and port ranges (RFC 4787 REQ-3), paired pooling
 * (REQ-2), one port table shared by N workers, and release of mappings and ports when
 * connections go.
 */
#include <rte_random.h>

#include "nat_test.h"

/* inside endpoint i: host 10.1.x.y, port 5000 + i */
static inline uint32_t
host_i(unsigned int i)
{
	return PB_IP(10, 1, (i >> 8) & 0xff, i & 0xff);
}

/* A tiny range: the (N+1)-th mapping fails cleanly, the first N keep working, freeing one
 * makes exactly one available again. */
static void
test_exhaustion(void **state)
{
	static const struct {
		unsigned int n_addrs;
		bool paired;
		uint16_t lo, hi;
		unsigned int ports;	/* total mappings possible */
	} cases[] = {
		{ .n_addrs = 1, .paired = true, .lo = 40000, .hi = 40003, .ports = 4 },
		{ .n_addrs = 1, .paired = true, .lo = 40000, .hi = 40000, .ports = 1 },
		{ .n_addrs = 2, .paired = false, .lo = 40000, .hi = 40002, .ports = 6 },
		{ .n_addrs = 3, .paired = false, .lo = 61000, .hi = 61001, .ports = 6 },
	};
	unsigned int k;

	(void)state;
	for (k = 0; k < NT_DIM(cases); k++) {
		struct nat_config cfg;
		struct nt_env e;
		struct nt_res r, first;
		struct pb_spec s;
		uint32_t oa[8];
		uint16_t op[8];
		unsigned int i, j, n = cases[k].ports;

		nt_config(&cfg, cases[k].n_addrs);
		cfg.paired = cases[k].paired;
		for (i = 0; i < cfg.n_addrs; i++) {
			cfg.port_lo[i] = cases[k].lo;
			cfg.port_hi[i] = cases[k].hi;
		}
		nt_start(&e, &cfg, 0, 64, NULL, 0);
		for (i = 0; i < n; i++) {
			/* replied: not evictable (ct_evict_unreplied), so the pool stays full */
			op[i] = nt_udp_out_replied(&e, host_i(i), (uint16_t)(5000 + i), R_1, 53,
						   &oa[i]);
			assert_true(op[i] >= cases[k].lo && op[i] <= cases[k].hi);
			for (j = 0; j < i; j++)	/* never shared */
				assert_false(oa[j] == oa[i] && op[j] == op[i]);
			if (i == 0) {
				s = nt_udp(host_i(0), 5000, R_1, 53);
				nt_spec(&e, &s, true, &first);
			}
		}
		/* the (N+1)-th fails cleanly, counted */
		s = nt_udp(host_i(n), (uint16_t)(5000 + n), R_1, 53);
		nt_spec(&e, &s, true, &r);
		assert_null(r.conn);
		assert_int_equal(r.nat_why, NAT_R_PORTS_EXHAUSTED);
		assert_int_equal(nt_reason(&e, NAT_R_PORTS_EXHAUSTED), 1);
		assert_int_equal(nt_stats(&e).mappings_active, n);
		assert_int_equal(nt_stats(&e).ports_in_use, n);
		/* the first N still translate both ways, unchanged */
		for (i = 0; i < n; i++) {
			s = nt_udp(host_i(i), (uint16_t)(5000 + i), R_1, 53);
			nt_spec(&e, &s, true, &r);
			nt_assert_ok(&r);
			assert_int_equal(pb_ip_src(r.out), oa[i]);
			assert_int_equal(pb_sport(r.out), op[i]);
			s = nt_udp(R_1, 53, oa[i], op[i]);
			nt_spec(&e, &s, false, &r);
			nt_assert_ok(&r);
			assert_int_equal(r.dir, CT_DIR_REPLY);
			assert_int_equal(pb_ip_dst(r.out), host_i(i));
			assert_int_equal(pb_dport(r.out), 5000 + i);
		}
		/* an existing EIM mapping still serves a new destination while exhausted */
		s = nt_udp(host_i(0), 5000, R_2, 123);
		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		assert_true(r.created);
		assert_int_equal(pb_sport(r.out), op[0]);
		ct_delete(e.ct, r.conn);
		/* free one mapping: exactly one becomes available, with its port */
		ct_delete(e.ct, first.conn);
		assert_int_equal(nt_stats(&e).mappings_active, n - 1);
		assert_int_equal(nt_udp_out_replied(&e, host_i(n), (uint16_t)(5000 + n), R_1, 53,
						    &oa[n]), op[0]);
		assert_int_equal(oa[n], oa[0]);
		s = nt_udp(host_i(n + 1), (uint16_t)(5001 + n), R_1, 53);
		nt_spec(&e, &s, true, &r);
		assert_null(r.conn);
		assert_int_equal(nt_reason(&e, NAT_R_PORTS_EXHAUSTED), 2);
		nt_stop(&e);
	}
}

/* RFC 4787 REQ-1 / RFC 5382 REQ-1: one mapping for all destinations under EIM; APDM gives
 * a new port per destination. */
static void
test_eim_apdm(void **state)
{
	struct nat_config cfg;
	struct nt_env e;
	uint32_t a1, a2, a3;
	uint16_t p1, p2, p3, t1, t2;

	(void)state;
	nt_config(&cfg, 1);
	nt_start(&e, &cfg, 0, 64, NULL, 0);
	p1 = nt_udp_out(&e, H_A, 5000, R_1, 53, &a1);
	p2 = nt_udp_out(&e, H_A, 5000, R_2, 53, &a2);
	p3 = nt_udp_out(&e, H_A, 5000, R_2, 443, &a3);
	assert_int_equal(p1, 5000);
	assert_int_equal(p2, p1);
	assert_int_equal(p3, p1);
	assert_int_equal(a1, a2);
	assert_int_equal(a1, a3);
	assert_int_equal(nt_stats(&e).mappings_active, 1);
	assert_int_equal(nt_stats(&e).mappings_created, 1);
	/* TCP and UDP are separate port spaces: TCP 5000 is preserved too */
	{
		struct pb_spec s = nt_tcp(H_A, 5000, R_1, 80, PB_SYN);
		struct nt_res r;

		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		t1 = pb_sport(r.out);
		s = nt_tcp(H_A, 5000, R_2, 80, PB_SYN);
		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		t2 = pb_sport(r.out);
		assert_int_equal(t1, 5000);
		assert_int_equal(t2, 5000);
	}
	nt_stop(&e);

	cfg.mapping = NAT_MAP_APDM;
	nt_start(&e, &cfg, 0, 64, NULL, 0);
	p1 = nt_udp_out(&e, H_A, 5000, R_1, 53, &a1);
	p2 = nt_udp_out(&e, H_A, 5000, R_2, 53, &a2);
	p3 = nt_udp_out(&e, H_A, 5000, R_2, 443, &a3);
	assert_int_equal(p1, 5000);
	assert_int_not_equal(p2, p1);
	assert_int_not_equal(p3, p1);
	assert_int_not_equal(p3, p2);
	/* the same destination again reuses its mapping */
	assert_int_equal(nt_udp_out(&e, H_A, 5000, R_2, 53, NULL), p2);
	assert_int_equal(nt_stats(&e).mappings_active, 3);
	nt_stop(&e);
}

/* Port preservation (RFC 4787 4.2.1) and ranges (REQ-3). */
static void
test_preserve_and_class(void **state)
{
	struct nat_config cfg;
	struct nt_env e;
	struct nt_res r;
	struct pb_spec s;
	uint16_t p;
	unsigned int i;

	(void)state;
	nt_config(&cfg, 1);
	cfg.port_lo[0] = 100;
	nt_start(&e, &cfg, 0, 512, NULL, 0);
	/* preserved when free */
	assert_int_equal(nt_udp_out(&e, H_A, 5555, R_1, 53, NULL), 5555);
	assert_int_equal(nt_udp_out(&e, H_A, 700, R_1, 53, NULL), 700);
	/* taken: another port of the same range */
	for (i = 0; i < 50; i++) {
		p = nt_udp_out(&e, host_i(i), 5555, R_1, 53, NULL);
		assert_true(p >= 1024 && p != 5555);
		p = nt_udp_out(&e, host_i(i), 700, R_1, 53, NULL);
		assert_true(p >= 100 && p < 1024 && p != 700);
	}
	nt_stop(&e);

	/* without preservation the port is searched even when the inside one is free */
	cfg.port_preserve = false;
	nt_start(&e, &cfg, 0, 512, NULL, 0);
	for (i = 0, p = 0; i < 20; i++)
		p |= nt_udp_out(&e, host_i(i), (uint16_t)(30000 + i), R_1, 53, NULL) !=
		     30000 + i;
	assert_true(p);
	nt_stop(&e);

	/* a range with 24 low and 7 high ports: low inside ports stay low until the low range
	 * is exhausted, even with high ports free */
	nt_config(&cfg, 1);
	cfg.port_lo[0] = 1000;
	cfg.port_hi[0] = 1030;
	nt_start(&e, &cfg, 0, 512, NULL, 0);
	for (i = 0; i < 24; i++) {
		p = nt_udp_out_replied(&e, host_i(i), 1000, R_1, 53, NULL);
		assert_true(p >= 1000 && p <= 1023);
	}
	s = nt_udp(host_i(24), 1000, R_1, 53);
	nt_spec(&e, &s, true, &r);
	assert_null(r.conn);
	assert_int_equal(r.nat_why, NAT_R_PORTS_EXHAUSTED);
	for (i = 0; i < 7; i++) {
		p = nt_udp_out(&e, host_i(i), 2000, R_1, 53, NULL);
		assert_true(p >= 1024 && p <= 1030);
	}
	nt_stop(&e);

	/* the default range has no low ports: a low inside port gets a high one */
	nt_config(&cfg, 1);
	nt_start(&e, &cfg, 0, 64, NULL, 0);
	p = nt_udp_out(&e, H_A, 123, R_1, 123, NULL);
	assert_true(p >= 1024);
	nt_stop(&e);
}

/* RFC 4787 REQ-2: paired pooling with several addresses. */
static void
test_paired_pool(void **state)
{
	struct nat_config cfg;
	struct nt_env e;
	unsigned int h, i, used[3] = { 0 };

	(void)state;
	nt_config(&cfg, 3);
	nt_start(&e, &cfg, 0, 1024, NULL, 0);
	for (h = 0; h < 60; h++) {
		uint32_t first = 0, a;
		struct pb_spec s;
		struct nt_res r;

		for (i = 0; i < 4; i++) {
			nt_udp_out(&e, host_i(h), (uint16_t)(6000 + i), i & 1 ? R_1 : R_2, 53, &a);
			if (i == 0)
				first = a;
			assert_int_equal(a, first);
		}
		/* TCP and ICMP of the same host too */
		s = nt_tcp(host_i(h), 7000, R_1, 80, PB_SYN);
		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		assert_int_equal(pb_ip_src(r.out), first);
		s = (struct pb_spec){ .src = host_i(h), .dst = R_1, .proto = IPPROTO_ICMP,
				      .icmp_type = 8, .sport = 77, .icmp_seq = 1 };
		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		assert_int_equal(pb_ip_src(r.out), first);
		used[first == N_1 ? 0 : first == N_2 ? 1 : 2]++;
	}
	/* the keyed hash spreads hosts over all addresses */
	for (i = 0; i < 3; i++)
		assert_true(used[i] > 0);
	nt_stop(&e);

	/* unpaired: when one address' ports are gone, the next is used */
	nt_config(&cfg, 2);
	cfg.paired = false;
	cfg.port_lo[0] = cfg.port_lo[1] = 50000;
	cfg.port_hi[0] = cfg.port_hi[1] = 50001;
	cfg.max_ports_per_host = NAT_LIMIT_NONE;	/* one host takes the whole tiny pool */
	nt_start(&e, &cfg, 0, 64, NULL, 0);
	{
		unsigned int n1 = 0, n2 = 0;
		uint32_t a;

		for (i = 0; i < 4; i++) {
			nt_udp_out(&e, H_A, (uint16_t)(6000 + i), R_1, 53, &a);
			n1 += a == N_1;
			n2 += a == N_2;
		}
		assert_int_equal(n1, 2);
		assert_int_equal(n2, 2);
	}
	nt_stop(&e);
}

/* N workers over one shared port table behave as one: for n = 1..4, each
 * host on its owner worker, every free inside port is preserved (with per-worker slices
 * only 1/n were), a taken one is searched from the same keyed hash whatever the worker, so
 * the outside ports are exactly those of one worker, with the inside port's parity; and the
 * search is exact across
 * workers: a range of 5 ports yields 5, then none. (This test used to check the slices.) */
static void
test_shared_workers(void **state)
{
	uint16_t ref[300 + 300 + 50];
	unsigned int n, w, i;

	(void)state;
	for (n = 1; n <= 4; n++) {
		struct nat_port_table *pt;
		struct nat_config cfg;
		struct nt_env e[4];
		struct nt_res r;
		struct pb_spec s;
		unsigned int k = 0;

		nt_config(&cfg, 1);
		cfg.n_workers = n;
		rte_srand(42);		/* the same table secret for every n */
		pt = nat_port_table_create(&cfg, true);
		assert_non_null(pt);
		for (w = 0; w < n; w++)
			nt_start_pt(&e[w], &cfg, w, 1024, NULL, 0, pt);
		/* first every inside port once: all kept, whichever worker the host has */
		for (i = 0; i < 300; i++) {
			uint16_t p = nt_udp_out(&e[nat_host_owner(&cfg, host_i(i))], host_i(i),
						(uint16_t)(20000 + i), R_1, 53, NULL);

			assert_int_equal(p, 20000 + i);
			assert_int_equal(nat_port_table_owner(pt, IPPROTO_UDP, N_1, p),
					 nat_host_owner(&cfg, host_i(i)));
			ref[k++] = p;
		}
		/* then the same ports from other hosts: searched, distinct, as with one worker */
		for (i = 0; i < 300; i++) {
			uint32_t h = host_i(1000 + i);
			uint16_t p = nt_udp_out(&e[nat_host_owner(&cfg, h)], h,
						(uint16_t)(20000 + i), R_1, 53, NULL);

			assert_true(p >= 1024 && (p < 20000 || p >= 20300));
			assert_int_equal(p % 2, i % 2);	/* parity kept (RFC 4787 4.2.2) */
			if (n == 1)
				ref[k] = p;
			assert_int_equal(p, ref[k]);
			k++;
		}
		for (i = 0; i < 50; i++) {	/* ICMP identifiers too */
			unsigned int o = nat_host_owner(&cfg, host_i(i));

			s = (struct pb_spec){ .src = host_i(i), .dst = R_1,
					      .proto = IPPROTO_ICMP, .icmp_type = 8,
					      .sport = (uint16_t)(3000 + i) };
			nt_spec(&e[o], &s, true, &r);
			nt_assert_ok(&r);
			assert_int_equal(pb_sport(r.out), 3000 + i);
			assert_int_equal(nat_port_table_owner(pt, IPPROTO_ICMP, N_1, 3000 + i), o);
		}
		for (w = 0; w < n; w++)
			nt_stop(&e[w]);
		nat_port_table_free(pt);

		/* exactly 5 ports in the range: all found by whichever workers, then none */
		cfg.port_lo[0] = 60000;
		cfg.port_hi[0] = 60004;
		cfg.max_ports_per_host = NAT_LIMIT_NONE;
		pt = nat_port_table_create(&cfg, true);
		assert_non_null(pt);
		for (w = 0; w < n; w++)
			nt_start_pt(&e[w], &cfg, w, 64, NULL, 0, pt);
		for (i = 0; i < 5; i++) {
			uint16_t p = nt_udp_out_replied(&e[i % n], host_i(i), 7, R_1, 53, NULL);

			assert_true(p >= 60000 && p <= 60004);
			assert_int_equal(nat_port_table_owner(pt, IPPROTO_UDP, N_1, p), i % n);
		}
		for (w = 0; w < n; w++) {
			s = nt_udp(host_i(5 + w), 7, R_1, 53);
			nt_spec(&e[w], &s, true, &r);
			assert_int_equal(r.nat_why, NAT_R_PORTS_EXHAUSTED);
		}
		for (w = 0; w < n; w++)
			nt_stop(&e[w]);
		nat_port_table_free(pt);
	}
}

/* The mapping lives as long as its connections: ct_delete and expiry release it and its
 * port, which is then reusable. */
static void
test_release(void **state)
{
	struct nat_config cfg;
	struct nt_env e;
	struct nt_res r1, r2, r;
	struct pb_spec s;

	(void)state;
	nt_config(&cfg, 1);
	nt_start(&e, &cfg, 0, 64, NULL, 0);
	s = nt_udp(H_A, 5000, R_1, 53);
	nt_spec(&e, &s, true, &r1);
	nt_assert_ok(&r1);
	s = nt_udp(H_A, 5000, R_2, 53);
	nt_spec(&e, &s, true, &r2);
	nt_assert_ok(&r2);
	assert_int_equal(pb_sport(r1.out), 5000);
	assert_int_equal(nt_stats(&e).mappings_active, 1);
	/* another host wanting 5000 gets another port */
	assert_int_not_equal(nt_udp_out(&e, H_B, 5000, R_1, 53, NULL), 5000);
	/* one connection gone: the mapping stays, the other flow is untouched */
	ct_delete(e.ct, r1.conn);
	assert_int_equal(nt_stats(&e).mappings_active, 2);
	s = nt_udp(R_2, 53, N_1, 5000);
	nt_spec(&e, &s, false, &r);
	nt_assert_ok(&r);
	assert_int_equal(pb_ip_dst(r.out), H_A);
	/* both gone: mapping and port released; a third host now gets 5000 preserved */
	ct_delete(e.ct, r2.conn);
	assert_int_equal(nt_stats(&e).mappings_active, 1);
	assert_int_equal(nt_stats(&e).ports_in_use, 1);
	assert_int_equal(nt_udp_out(&e, H_C, 5000, R_1, 53, NULL), 5000);
	/* expiry releases too */
	e.now += 3600 * NT_SEC;
	ct_expire(e.ct, e.now, 1000);
	assert_int_equal(nt_stats(&e).mappings_active, 0);
	assert_int_equal(nt_stats(&e).ports_in_use, 0);
	assert_int_equal(nt_udp_out(&e, H_B, 5000, R_1, 53, NULL), 5000);
	nt_stop(&e);
}

/* The mapping table has a fixed capacity: when full of replied connections, new mappings
 * fail with a reason and nothing leaks; unreplied ones are evicted to make room (as
 * netfilter's early_drop; this test used to assert the refusal with unreplied flows). */
static void
test_mappings_full(void **state)
{
	struct nat_config cfg;
	struct nt_env e;
	struct nt_res r;
	struct pb_spec s;
	unsigned int i;

	(void)state;
	nt_config(&cfg, 1);
	cfg.max_mappings = 3;
	nt_start(&e, &cfg, 0, 64, NULL, 0);
	for (i = 0; i < 3; i++)
		nt_udp_out_replied(&e, host_i(i), 5000, R_1, 53, NULL);
	s = nt_udp(host_i(3), 5000, R_1, 53);
	nt_spec(&e, &s, true, &r);
	assert_null(r.conn);
	assert_int_equal(r.nat_why, NAT_R_MAPPINGS_FULL);
	assert_int_equal(nt_stats(&e).ports_in_use, 3);
	nt_stop(&e);

	/* unreplied: the oldest is evicted, its mapping and port go with it */
	nt_start(&e, &cfg, 0, 64, NULL, 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(nt_udp_out(&e, host_i(i), (uint16_t)(5000 + i), R_1, 53, NULL),
				 5000 + i);
	assert_int_equal(nt_udp_out(&e, host_i(3), 5000, R_1, 53, NULL), 5000);
	assert_int_equal(nt_stats(&e).mappings_active, 3);
	assert_int_equal(nt_stats(&e).ports_in_use, 3);
	{
		struct ct_stats cs;

		ct_stats_get(e.ct, &cs);
		assert_int_equal(cs.evicted, 1);
	}
	s = nt_udp(R_1, 53, N_1, 5000);		/* 5000 is host 3's now */
	nt_spec(&e, &s, false, &r);
	nt_assert_ok(&r);
	assert_int_equal(pb_ip_dst(r.out), host_i(3));
	nt_stop(&e);

	/* conntrack full: the refusal is propagated and the new mapping released */
	nt_config(&cfg, 1);
	cfg.max_mappings = 16;	/* more mappings than connections */
	nt_start(&e, &cfg, 0, 2, NULL, 0);
	for (i = 0; i < 2; i++) {
		s = nt_tcp(host_i(i), 5000, R_1, 80, PB_SYN);
		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		s = nt_tcp(R_1, 80, N_1, pb_sport(r.out), PB_SYN | PB_ACK);
		s.ack = 1001;
		nt_spec(&e, &s, false, &r);
		nt_assert_ok(&r);
		/* the handshake completes: ASSURED, not evictable (SYN_RECV would be) */
		s = nt_tcp(host_i(i), 5000, R_1, 80, PB_ACK);
		s.seq = 1001;
		s.ack = 1001;
		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		assert_true(ct_conn_status(r.conn) & CT_ST_ASSURED);
	}
	s = nt_tcp(host_i(2), 5000, R_1, 80, PB_SYN);
	nt_spec(&e, &s, true, &r);
	assert_null(r.conn);
	assert_int_equal(r.nat_why, NAT_R_CT_REFUSED);
	assert_int_equal(r.ct_why, CT_R_TABLE_FULL);
	assert_int_equal(nt_stats(&e).mappings_active, 2);
	assert_int_equal(nt_stats(&e).ports_in_use, 2);
	nt_stop(&e);
}

/* Mappings sharing their hash chains (max_mappings 6: 3 buckets of each index), freed in
 * an order that takes a chain's first, last and middle records: after each free every
 * other mapping is still found from the inside (EIM: a new connection of its inside
 * endpoint gets its port) and from the outside (EIF: a new remote reaches its host), and
 * the freed one is gone from both. */
static void
test_chain_unlink(void **state)
{
	static const unsigned int order[] = { 2, 5, 0, 4, 1, 3 };
	struct ct_conn *conn[6];
	uint16_t port[6];
	bool gone[6] = { false };
	struct nat_config cfg;
	struct nt_env e;
	struct nt_res r;
	struct pb_spec s;
	unsigned int i, j, k;

	(void)state;
	nt_config(&cfg, 1);
	cfg.max_mappings = 6;
	cfg.filtering = NAT_FILTER_EIF;
	nt_start(&e, &cfg, 0, 64, NULL, 0);
	for (i = 0; i < 6; i++) {
		s = nt_udp(host_i(i), 5000, R_1, 53);
		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		conn[i] = r.conn;
		port[i] = pb_sport(r.out);
	}
	for (k = 0; k < NT_DIM(order); k++) {
		ct_delete(e.ct, conn[order[k]]);
		gone[order[k]] = true;
		assert_int_equal(nt_stats(&e).mappings_active, 6 - (k + 1));
		for (j = 0; j < 6; j++) {
			if (gone[j])
				continue;
			/* from the inside: the same port, through the mapping's inside key */
			s = nt_udp(host_i(j), 5000, R_2, 53);
			nt_spec(&e, &s, true, &r);
			nt_assert_ok(&r);
			assert_true(r.created);
			assert_int_equal(pb_sport(r.out), port[j]);
			ct_delete(e.ct, r.conn);
			/* from the outside: a new remote reaches the host, through its outside key */
			s = nt_udp(R_2, 4000, N_1, port[j]);
			nt_spec(&e, &s, false, &r);
			nt_assert_ok(&r);
			assert_int_equal(pb_ip_dst(r.out), host_i(j));
			assert_int_equal(pb_dport(r.out), 5000);
			ct_delete(e.ct, r.conn);
		}
		/* the freed one: nothing behind its outside port any more */
		s = nt_udp(R_2, 4000, N_1, port[order[k]]);
		nt_spec(&e, &s, false, &r);
		assert_null(r.conn);
		assert_int_equal(nt_stats(&e).mappings_active, 6 - (k + 1));
	}
	assert_int_equal(nt_stats(&e).ports_in_use, 0);
	nt_stop(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_eim_apdm),
		cmocka_unit_test(test_preserve_and_class),
		cmocka_unit_test(test_paired_pool),
		cmocka_unit_test(test_shared_workers),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_mappings_full),
		cmocka_unit_test(test_chain_unlink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
