/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nat_flow.c - inbound behaviour on real packets: the three filtering behaviours
 * (RFC 4787 section 5: APDF, ADF, EIF), the mapping's lifetime with inbound connections
 * on it, and hairpinning (RFC 4787 REQ-9, RFC 5382 REQ-8) through a port forward and
 * through another inside host's mapping.
 */
#include "nat_test.h"

static void
start(struct nt_env *e, enum nat_filtering f, const struct nat_fwd *fw, unsigned int nf)
{
	struct nat_config cfg;

	nt_config(&cfg, 1);
	cfg.filtering = f;
	nt_start(e, &cfg, 0, 256, fw, nf);
}

/* an unsolicited (to the NAT) UDP packet from src:sport to N_1:dport */
static void
inbound(struct nt_env *e, uint32_t src, uint16_t sport, uint16_t dport, struct nt_res *r)
{
	struct pb_spec s = nt_udp(src, sport, N_1, dport);

	nt_spec(e, &s, false, r);
}

static void
assert_to_host(const struct nt_res *r, uint32_t src, uint16_t sport, uint32_t host,
	       uint16_t port)
{
	nt_assert_ok(r);
	assert_int_equal(pb_ip_src(r->out), src);
	assert_int_equal(pb_sport(r->out), sport);
	assert_int_equal(pb_ip_dst(r->out), host);
	assert_int_equal(pb_dport(r->out), port);
}

/* Table of inbound probes after H_A:5000 sent to R_1:53, per filtering behaviour. */
static void
test_filtering(void **state)
{
	enum { DROP_NOMAP, DROP_FILTER, ACCEPT };
	static const struct {
		enum nat_filtering f;
		uint32_t src;
		uint16_t sport;
		int want;
	} cases[] = {
		/* APDF: only the exact remote endpoint (the established flow itself) */
		{ NAT_FILTER_APDF, R_1, 54, DROP_NOMAP },
		{ NAT_FILTER_APDF, R_2, 53, DROP_NOMAP },
		/* ADF: any port of a remote address the mapping has sent to */
		{ NAT_FILTER_ADF, R_1, 54, ACCEPT },
		{ NAT_FILTER_ADF, R_1, 9999, ACCEPT },
		{ NAT_FILTER_ADF, R_2, 53, DROP_FILTER },
		/* EIF: anyone */
		{ NAT_FILTER_EIF, R_1, 54, ACCEPT },
		{ NAT_FILTER_EIF, R_2, 53, ACCEPT },
		{ NAT_FILTER_EIF, RTR, 1, ACCEPT },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < NT_DIM(cases); i++) {
		struct nt_env e;
		struct nt_res r;
		struct pb_spec s;
		uint16_t op;

		start(&e, cases[i].f, NULL, 0);
		op = nt_udp_out(&e, H_A, 5000, R_1, 53, NULL);
		/* the established flow itself always passes */
		inbound(&e, R_1, 53, op, &r);
		assert_to_host(&r, R_1, 53, H_A, 5000);
		assert_false(r.created);
		/* the probe */
		inbound(&e, cases[i].src, cases[i].sport, op, &r);
		switch (cases[i].want) {
		case ACCEPT:
			assert_to_host(&r, cases[i].src, cases[i].sport, H_A, 5000);
			assert_true(r.created);
			/* the inside host's answer leaves through the same mapping */
			s = nt_udp(H_A, 5000, cases[i].src, cases[i].sport);
			nt_spec(&e, &s, true, &r);
			nt_assert_ok(&r);
			assert_false(r.created);
			assert_int_equal(pb_ip_src(r.out), N_1);
			assert_int_equal(pb_sport(r.out), op);
			break;
		case DROP_NOMAP:
			assert_null(r.conn);
			assert_int_equal(r.nat_why, NAT_R_NO_MAPPING);
			assert_int_equal(nt_reason(&e, NAT_R_NO_MAPPING), 1);
			break;
		default:
			assert_null(r.conn);
			assert_int_equal(r.nat_why, NAT_R_FILTERED);
			assert_int_equal(nt_reason(&e, NAT_R_FILTERED), 1);
			break;
		}
		/* whatever the behaviour: no mapping on that port, nothing gets in */
		inbound(&e, R_1, 53, (uint16_t)(op + 1), &r);
		assert_null(r.conn);
		assert_int_equal(r.nat_why, NAT_R_NO_MAPPING);
		/* and unsolicited ICMP echo is never let in */
		s = (struct pb_spec){ .src = R_2, .dst = N_1, .proto = IPPROTO_ICMP,
				      .icmp_type = 8, .sport = op };
		nt_spec(&e, &s, false, &r);
		assert_null(r.conn);
		nt_stop(&e);
	}
}

/* ADF learns every address the mapping sends to, beyond the exact slots too. */
static void
test_adf_learns(void **state)
{
	struct nt_env e;
	struct nt_res r;
	uint16_t op;
	unsigned int i;

	(void)state;
	start(&e, NAT_FILTER_ADF, NULL, 0);
	op = nt_udp_out(&e, H_A, 5000, R_1, 53, NULL);
	inbound(&e, R_2, 1000, op, &r);
	assert_int_equal(r.nat_why, NAT_R_FILTERED);
	assert_int_equal(nt_udp_out(&e, H_A, 5000, R_2, 53, NULL), op);
	inbound(&e, R_2, 1000, op, &r);
	assert_to_host(&r, R_2, 1000, H_A, 5000);
	for (i = 0; i < 10; i++)
		assert_int_equal(nt_udp_out(&e, H_A, 5000, PB_IP(100, 64, 0, i + 1), 53, NULL),
				 op);
	for (i = 0; i < 10; i++) {
		inbound(&e, PB_IP(100, 64, 0, i + 1), 2000, op, &r);
		assert_to_host(&r, PB_IP(100, 64, 0, i + 1), 2000, H_A, 5000);
	}
	nt_stop(&e);
}

/*
 * ADF's learnt remotes live beside the mappings only under ADF (nat_private.h struct
 * nat_adf): exported with the mapping there and restored into a fresh worker, whose
 * filtering then admits exactly them; under APDF (and EIF) nothing is kept or saved (the
 * old 64-byte record carried them for every mapping: n_remote 2 here).
 */
static void
test_adf_remotes_saved(void **state)
{
	static const enum nat_filtering fs[] = { NAT_FILTER_ADF, NAT_FILTER_APDF,
						 NAT_FILTER_EIF };
	unsigned int k;

	(void)state;
	for (k = 0; k < NT_DIM(fs); k++) {
		struct nat_map_rec rec;
		struct nt_env e, e2;
		struct nt_res r;
		struct pb_spec s;
		uint32_t h;
		uint8_t fl;
		uint16_t op;

		start(&e, fs[k], NULL, 0);
		op = nt_udp_out(&e, H_A, 5000, R_1, 53, NULL);
		assert_int_equal(nt_udp_out(&e, H_A, 5000, R_2, 53, NULL), op);
		s = nt_udp(H_A, 5000, R_2, 53);
		nt_spec(&e, &s, true, &r);
		nat_conn_export(r.conn, &h, &fl);
		assert_int_not_equal(h, 0);
		assert_int_equal(nat_map_export(e.nc, h, &rec), 0);
		assert_int_equal(rec.out_addr, N_1);
		assert_int_equal(ntohs(rec.out_port), op);
		if (fs[k] != NAT_FILTER_ADF) {
			assert_int_equal(rec.n_remote, 0);
			nt_stop(&e);
			continue;
		}
		assert_int_equal(rec.n_remote, 2);
		assert_int_equal(rec.remote[0], R_1);
		assert_int_equal(rec.remote[1], R_2);
		nt_stop(&e);

		start(&e2, NAT_FILTER_ADF, NULL, 0);
		assert_int_not_equal(nat_map_import(e2.nc, &rec), 0);
		inbound(&e2, R_2, 7000, op, &r);
		assert_to_host(&r, R_2, 7000, H_A, 5000);
		inbound(&e2, RTR, 7000, op, &r);
		assert_null(r.conn);
		assert_int_equal(r.nat_why, NAT_R_FILTERED);
		nt_stop(&e2);
	}
}

/* Under EIF, TCP too (RFC 5382 allows it); the inbound connection holds the mapping. */
static void
test_eif_tcp_refcount(void **state)
{
	struct nt_env e;
	struct nt_res out, in;
	struct pb_spec s;
	uint16_t op;

	(void)state;
	start(&e, NAT_FILTER_EIF, NULL, 0);
	s = nt_tcp(H_A, 6000, R_1, 443, PB_SYN);
	nt_spec(&e, &s, true, &out);
	nt_assert_ok(&out);
	op = pb_sport(out.out);
	s = nt_tcp(R_2, 7000, N_1, op, PB_SYN);
	nt_spec(&e, &s, false, &in);
	assert_to_host(&in, R_2, 7000, H_A, 6000);
	/* the outbound connection goes; the mapping stays for the inbound one */
	ct_delete(e.ct, out.conn);
	assert_int_equal(nt_stats(&e).mappings_active, 1);
	s = nt_tcp(H_A, 6000, R_2, 7000, PB_SYN | PB_ACK);
	s.ack = 1001;
	nt_spec(&e, &s, true, &out);
	nt_assert_ok(&out);
	assert_int_equal(pb_ip_src(out.out), N_1);
	assert_int_equal(pb_sport(out.out), op);
	ct_delete(e.ct, in.conn);
	assert_int_equal(nt_stats(&e).mappings_active, 0);
	assert_int_equal(nt_stats(&e).ports_in_use, 0);
	/* gone: now unsolicited */
	s = nt_tcp(R_2, 7001, N_1, op, PB_SYN);
	nt_spec(&e, &s, false, &in);
	assert_null(in.conn);
	assert_int_equal(in.nat_why, NAT_R_NO_MAPPING);
	nt_stop(&e);
}

/*
 * Hairpin through a port forward, with 1, 2 and 4 workers (the app's steering and loop,
 * nt_gw_frame): A -> N_1:8080 reaches B:80 from A's own EIM mapping (the port A uses to the
 * Internet), and B's answer reaches A from N_1:8080, with the same ports whatever the worker
 * count. (With 2 workers this used to give A a fresh mapping in B's worker.)
 */
static void
test_hairpin_forward(void **state)
{
	static const struct nat_fwd fw[] = {
		{ .proto = IPPROTO_TCP, .ext_addr = N_1, .ext_lo = 8080, .ext_hi = 8080,
		  .int_addr = H_B, .int_port = 80 },
	};
	static const unsigned int workers[] = { 1, 2, 4 };
	struct nat_config cfg;
	unsigned int k, a;

	(void)state;
	nt_config(&cfg, 1);
	for (k = 0; k < NT_DIM(workers); k++) {
		for (a = 0; a < 8; a++) {
			uint32_t ha = PB_IP(10, 3, 0, a + 1);
			struct nt_gw g;
			struct nt_res r;
			struct pb_spec s;
			bool looped;
			uint16_t ap;

			nt_gw_start(&g, &cfg, workers[k], 256, fw, NT_DIM(fw));
			/* A's mapping, made by a flow to the outside first (port kept) */
			s = nt_tcp(ha, 40000, R_1, 80, PB_SYN);
			nt_gw_spec(&g, &s, true, &r, &looped);
			nt_assert_ok(&r);
			assert_false(looped);
			ap = pb_sport(r.out);
			assert_int_equal(ap, 40000);
			/* hairpinned SYN: A's mapping, then the forward */
			s = nt_tcp(ha, 40000, N_1, 8080, PB_SYN);
			nt_gw_spec(&g, &s, true, &r, &looped);
			assert_true(looped);
			assert_to_host(&r, N_1, ap, H_B, 80);
			assert_int_equal(nt_gw_stat_hairpinned(&g), 1);
			/* B answers the address it saw */
			s = nt_tcp(H_B, 80, N_1, ap, PB_SYN | PB_ACK);
			s.ack = 1001;
			nt_gw_spec(&g, &s, true, &r, &looped);
			assert_true(looped);
			assert_to_host(&r, N_1, 8080, ha, 40000);
			assert_int_equal(r.dir, CT_DIR_REPLY);
			/* A's ack */
			s = nt_tcp(ha, 40000, N_1, 8080, PB_ACK);
			s.seq = 1001;
			s.ack = 5001;
			nt_gw_spec(&g, &s, true, &r, NULL);
			assert_to_host(&r, N_1, ap, H_B, 80);
			assert_false(r.created);
			nt_gw_stop(&g);
		}
	}

	/* hairpin off: the packet is only source-translated, the destination stays (the app
	 * drops it as TO_ME_UNHANDLED before it gets here) */
	{
		struct nt_env e;
		struct nt_res r;
		struct pb_spec s;

		nt_config(&cfg, 1);
		cfg.hairpin = false;
		nt_start(&e, &cfg, 0, 64, fw, NT_DIM(fw));
		s = nt_tcp(H_A, 40000, N_1, 8080, PB_SYN);
		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		assert_int_equal(pb_ip_dst(r.out), N_1);
		assert_int_equal(pb_dport(r.out), 8080);
		nt_stop(&e);
	}
}

/*
 * RFC 4787 REQ-9 through another host's endpoint-independent mapping, with 1, 2 and 4
 * workers, per filtering behaviour: the hairpinned packet leaves A's worker from A's own
 * mapping (EIM) and is filtered by B's mapping as any inbound packet from N_1:ap would be
 * (RFC 4787 section 5; with 2 workers this used to skip APDF). EIF: delivered. ADF: B never
 * sent to N_1: filtered. APDF: refused, until B sends to A's mapping: then both ways pass,
 * as hole punching between two NATs does.
 */
static void
test_hairpin_mapping(void **state)
{
	static const unsigned int workers[] = { 1, 2, 4 };
	static const enum nat_filtering modes[] = {
		NAT_FILTER_APDF, NAT_FILTER_ADF, NAT_FILTER_EIF,
	};
	unsigned int k, m, a;

	(void)state;
	for (m = 0; m < NT_DIM(modes); m++) {
		for (k = 0; k < NT_DIM(workers); k++) {
			for (a = 0; a < 6; a++) {
				uint32_t ha = PB_IP(10, 3, 0, a + 1), hb = PB_IP(10, 4, 0, a + 1);
				struct nat_config cfg;
				struct nt_gw g;
				struct nt_res r;
				struct pb_spec s;
				uint16_t ap, bp;

				nt_config(&cfg, 1);
				cfg.filtering = modes[m];
				nt_gw_start(&g, &cfg, workers[k], 256, NULL, 0);
				s = nt_udp(hb, 5000, R_1, 3478);
				nt_gw_spec(&g, &s, true, &r, NULL);
				nt_assert_ok(&r);
				bp = pb_sport(r.out);
				s = nt_udp(ha, 6000, R_1, 3478);
				nt_gw_spec(&g, &s, true, &r, NULL);
				nt_assert_ok(&r);
				ap = pb_sport(r.out);
				assert_int_equal(bp, 5000);	/* preserved, any worker */
				assert_int_equal(ap, 6000);
				/* A -> B's mapping */
				s = nt_udp(ha, 6000, N_1, bp);
				nt_gw_spec(&g, &s, true, &r, NULL);
				assert_int_equal(nt_gw_stat_hairpinned(&g), 1);
				if (modes[m] == NAT_FILTER_EIF) {
					assert_to_host(&r, N_1, ap, hb, 5000);
				} else {
					assert_null(r.conn);
					assert_int_equal(r.nat_why, modes[m] == NAT_FILTER_ADF ?
							 NAT_R_FILTERED : NAT_R_NO_MAPPING);
				}
				/* B -> A's mapping: A has sent to N_1:bp, so APDF lets it in */
				s = nt_udp(hb, 5000, N_1, ap);
				nt_gw_spec(&g, &s, true, &r, NULL);
				assert_to_host(&r, N_1, bp, ha, 6000);
				if (modes[m] == NAT_FILTER_EIF)
					assert_int_equal(r.dir, CT_DIR_REPLY);
				/* and now A -> B passes in every mode (B has sent to N_1:ap) */
				s = nt_udp(ha, 6000, N_1, bp);
				nt_gw_spec(&g, &s, true, &r, NULL);
				assert_to_host(&r, N_1, ap, hb, 5000);
				nt_gw_stop(&g);
			}
		}
	}
}

/* Hairpinning steering with 4 workers: the first half is always on the sender's worker
 * (its mapping), the second on the worker holding the target port (or the forward's host
 * owner), which is the target's own worker. */
static void
test_hairpin_workers(void **state)
{
	static const struct nat_fwd fw[] = {
		{ .proto = IPPROTO_TCP, .ext_addr = N_1, .ext_lo = 8080, .ext_hi = 8080,
		  .int_addr = H_B, .int_port = 80 },
	};
	struct nat_config cfg;
	struct nt_gw g;
	unsigned int a, checked = 0;

	(void)state;
	nt_config(&cfg, 1);
	cfg.filtering = NAT_FILTER_EIF;
	nt_gw_start(&g, &cfg, 4, 256, fw, NT_DIM(fw));
	for (a = 0; a < 16; a++) {
		uint32_t ha = PB_IP(10, 3, 0, a + 1), hb = PB_IP(10, 4, 0, a + 1);
		unsigned int wa = nat_host_owner(&g.cfg, ha), wb = nat_host_owner(&g.cfg, hb);
		uint8_t f[PB_MAX];
		struct pb_spec s;
		struct nt_res r;
		unsigned int len;

		checked += wa != wb;
		s = nt_udp(hb, (uint16_t)(5000 + a), R_1, 3478);
		nt_gw_spec(&g, &s, true, &r, NULL);
		assert_int_equal(nat_port_table_owner(g.pt, IPPROTO_UDP, N_1, pb_sport(r.out)), wb);
		/* A -> B's mapping: first half on A's worker, from A's port */
		s = nt_udp(ha, (uint16_t)(6000 + a), N_1, pb_sport(r.out));
		len = pb_build(f, &s);
		assert_int_equal(nt_gw_owner(&g, f, len, true), wa);
		nt_frame(&g.e[wa], f, len, true, &r);
		nt_assert_ok(&r);
		assert_int_equal(pb_ip_src(r.out), N_1);
		assert_int_equal(pb_sport(r.out), 6000 + a);
		assert_int_equal(nat_port_table_owner(g.pt, IPPROTO_UDP, N_1,
						      (uint16_t)(6000 + a)), wa);
		/* second half: B's worker */
		assert_int_equal(nt_gw_owner(&g, r.out, r.len, false), wb);
		/* to the forward: second half on the forward's host owner */
		s = nt_tcp(ha, (uint16_t)(7000 + a), N_1, 8080, PB_SYN);
		len = pb_build(f, &s);
		assert_int_equal(nt_gw_owner(&g, f, len, true), wa);
		nt_frame(&g.e[wa], f, len, true, &r);
		nt_assert_ok(&r);
		assert_int_equal(nt_gw_owner(&g, r.out, r.len, false),
				 nat_host_owner(&g.cfg, H_B));
	}
	assert_true(checked > 0);	/* some pairs did cross workers */
	nt_gw_stop(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filtering),
		cmocka_unit_test(test_adf_learns),
		cmocka_unit_test(test_adf_remotes_saved),
		cmocka_unit_test(test_eif_tcp_refcount),
		cmocka_unit_test(test_hairpin_forward),
		cmocka_unit_test(test_hairpin_mapping),
		cmocka_unit_test(test_hairpin_workers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
