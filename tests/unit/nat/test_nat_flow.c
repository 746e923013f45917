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

/* Hairpin through a port forward: A -> N_1:8080 reaches B:80 from A's outside endpoint,
 * and B's answer reaches A from N_1:8080. */
static void
test_hairpin_forward(void **state)
{
	static const struct nat_fwd fw[] = {
		{ .proto = IPPROTO_TCP, .ext_addr = N_1, .ext_lo = 8080, .ext_hi = 8080,
		  .int_addr = H_B, .int_port = 80 },
	};
	struct nt_env e;
	struct nt_res r;
	struct pb_spec s;
	uint16_t ap;

	(void)state;
	start(&e, NAT_FILTER_APDF, fw, NT_DIM(fw));
	/* A's mapping, made by a flow to the outside first */
	s = nt_tcp(H_A, 40000, R_1, 80, PB_SYN);
	nt_spec(&e, &s, true, &r);
	nt_assert_ok(&r);
	ap = pb_sport(r.out);
	/* hairpinned SYN */
	s = nt_tcp(H_A, 40000, N_1, 8080, PB_SYN);
	nt_spec(&e, &s, true, &r);
	assert_to_host(&r, N_1, ap, H_B, 80);
	assert_int_equal(nt_stats(&e).hairpinned, 1);
	/* B answers the address it saw */
	s = nt_tcp(H_B, 80, N_1, ap, PB_SYN | PB_ACK);
	s.ack = 1001;
	nt_spec(&e, &s, true, &r);
	assert_to_host(&r, N_1, 8080, H_A, 40000);
	assert_int_equal(r.dir, CT_DIR_REPLY);
	/* A's ack */
	s = nt_tcp(H_A, 40000, N_1, 8080, PB_ACK);
	s.seq = 1001;
	s.ack = 5001;
	nt_spec(&e, &s, true, &r);
	assert_to_host(&r, N_1, ap, H_B, 80);
	nt_stop(&e);

	/* hairpin off: the packet is only source-translated, the destination stays */
	{
		struct nat_config cfg;

		nt_config(&cfg, 1);
		cfg.hairpin = false;
		nt_start(&e, &cfg, 0, 64, fw, NT_DIM(fw));
		s = nt_tcp(H_A, 40000, N_1, 8080, PB_SYN);
		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		assert_int_equal(pb_ip_dst(r.out), N_1);
		assert_int_equal(pb_dport(r.out), 8080);
		assert_int_equal(nt_stats(&e).hairpinned, 0);
		nt_stop(&e);
	}
}

/* RFC 4787 REQ-9: A reaches B through B's endpoint-independent mapping, and sees B's
 * answers coming from that mapping, its own packets leaving from A's mapping. */
static void
test_hairpin_mapping(void **state)
{
	static const enum nat_filtering modes[] = { NAT_FILTER_APDF, NAT_FILTER_EIF };
	unsigned int k;

	(void)state;
	for (k = 0; k < NT_DIM(modes); k++) {
		struct nt_env e;
		struct nt_res r;
		struct pb_spec s;
		uint16_t ap, bp;

		start(&e, modes[k], NULL, 0);
		bp = nt_udp_out(&e, H_B, 5000, R_1, 3478, NULL);
		ap = nt_udp_out(&e, H_A, 5000, R_1, 3478, NULL);
		assert_int_not_equal(ap, bp);
		s = nt_udp(H_A, 5000, N_1, bp);
		nt_spec(&e, &s, true, &r);
		assert_to_host(&r, N_1, ap, H_B, 5000);
		assert_int_equal(nt_stats(&e).hairpinned, 1);
		s = nt_udp(H_B, 5000, N_1, ap);
		nt_spec(&e, &s, true, &r);
		assert_to_host(&r, N_1, bp, H_A, 5000);
		assert_int_equal(r.dir, CT_DIR_REPLY);
		nt_stop(&e);
	}
}

static uint32_t
inside_owner(const struct nat_config *cfg, const struct nat_fwd_table *ft,
	     const struct pb_spec *s)
{
	uint8_t f[PB_MAX];
	unsigned int len = pb_build(f, s);
	struct ct_pkt p;

	assert_int_equal(ct_parse_ipv4(f, len, PB_ETH_LEN, true, &p), CT_R_NONE);
	return nat_inside_owner(cfg, ft, &p);
}

/* Hairpinning with 4 workers, each over its own table, packets steered the app's way:
 * through another host's mapping and through a forward, whichever workers the hosts
 * belong to. */
static void
test_hairpin_workers(void **state)
{
	static const struct nat_fwd fw[] = {
		{ .proto = IPPROTO_TCP, .ext_addr = N_1, .ext_lo = 8080, .ext_hi = 8080,
		  .int_addr = H_B, .int_port = 80 },
	};
	struct nat_config cfg;
	struct nt_env e[4];
	unsigned int w, a, checked = 0;

	(void)state;
	nt_config(&cfg, 1);
	cfg.n_workers = 4;
	for (w = 0; w < 4; w++)
		nt_start(&e[w], &cfg, w, 256, fw, NT_DIM(fw));
	for (a = 0; a < 16; a++) {
		uint32_t ha = PB_IP(10, 3, 0, a + 1), hb = PB_IP(10, 4, 0, a + 1);
		unsigned int wa = nat_host_owner(&cfg, ha), wb = nat_host_owner(&cfg, hb), w2;
		struct pb_spec s;
		struct nt_res r;
		uint16_t bp, ap;

		checked += wa != wb;
		bp = nt_udp_out(&e[wb], hb, 5000, R_1, 3478, NULL);
		/* A -> B's mapping: steered to B's worker */
		s = nt_udp(ha, 6000, N_1, bp);
		w2 = inside_owner(&cfg, e[0].ft, &s);
		assert_int_equal(w2, wb);
		nt_spec(&e[w2], &s, true, &r);
		assert_to_host(&r, N_1, pb_sport(r.out), hb, 5000);
		ap = pb_sport(r.out);
		assert_int_equal(ap % 4, wb);
		/* B answers: steered by its own address to the same worker */
		s = nt_udp(hb, 5000, N_1, ap);
		assert_int_equal(inside_owner(&cfg, e[0].ft, &s), wb);
		nt_spec(&e[wb], &s, true, &r);
		assert_to_host(&r, N_1, bp, ha, 6000);
		/* A -> the forward to H_B:80 */
		s = nt_tcp(ha, 7000, N_1, 8080, PB_SYN);
		w2 = inside_owner(&cfg, e[0].ft, &s);
		assert_int_equal(w2, nat_host_owner(&cfg, H_B));
		nt_spec(&e[w2], &s, true, &r);
		assert_to_host(&r, N_1, pb_sport(r.out), H_B, 80);
		ap = pb_sport(r.out);
		s = nt_tcp(H_B, 80, N_1, ap, PB_SYN | PB_ACK);
		s.ack = 1001;
		assert_int_equal(inside_owner(&cfg, e[0].ft, &s), w2);
		nt_spec(&e[w2], &s, true, &r);
		assert_to_host(&r, N_1, 8080, ha, 7000);
		/* plain outbound traffic of A stays with A's worker */
		s = nt_udp(ha, 6000, R_2, 53);
		assert_int_equal(inside_owner(&cfg, e[0].ft, &s), wa);
	}
	assert_true(checked > 0);	/* some pairs did cross workers */
	for (w = 0; w < 4; w++)
		nt_stop(&e[w]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filtering),
		cmocka_unit_test(test_adf_learns),
		cmocka_unit_test(test_eif_tcp_refcount),
		cmocka_unit_test(test_hairpin_forward),
		cmocka_unit_test(test_hairpin_mapping),
		cmocka_unit_test(test_hairpin_workers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
