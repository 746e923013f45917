/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nat_rewrite.c - header rewrite with incremental checksums, every result checked by
 * a from-scratch recomputation (pb_csum_ok): TCP, UDP, UDP without checksum, ICMP echo both
 * ways, fragments, address-only protocols, and ICMP errors (RFC 5508) both ways with the
 * embedded datagram translated back to exactly what the inside host (or the remote) sent.
 */
#include "nat_test.h"

#define L3 PB_ETH_LEN

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* worker with port preservation off, so ports really change */
static void
start(struct nt_env *e, const struct nat_fwd *f, unsigned int nf)
{
	struct nat_config cfg;

	nt_config(&cfg, 1);
	cfg.port_preserve = false;
	nt_start(e, &cfg, 0, 256, f, nf);
}

/* ---- TCP / UDP / ICMP echo through a connection, both ways ---- */

static void
test_flows_both_ways(void **state)
{
	static const char big[] = "0123456789abcdef0123456789abcdef0123456789abcdef012345678";
	static const struct {
		const char *name;
		struct pb_spec out;	/* from the inside host */
	} cases[] = {
		{ "tcp syn", { .src = H_A, .dst = R_1, .sport = 40001, .dport = 443,
			       .proto = IPPROTO_TCP, .tcp_flags = PB_SYN, .seq = 77 } },
		{ "tcp odd payload", { .src = H_A, .dst = R_1, .sport = 40002, .dport = 80,
				       .proto = IPPROTO_TCP, .tcp_flags = PB_SYN, .seq = 1,
				       .payload = big, .payload_len = 57 } },
		{ "udp", { .src = H_A, .dst = R_1, .sport = 40003, .dport = 53,
			   .proto = IPPROTO_UDP, .payload = big, .payload_len = 20 } },
		{ "udp odd", { .src = H_A, .dst = R_1, .sport = 40004, .dport = 53,
			       .proto = IPPROTO_UDP, .payload = big, .payload_len = 33 } },
		{ "udp zero csum", { .src = H_A, .dst = R_1, .sport = 40005, .dport = 69,
				     .proto = IPPROTO_UDP, .payload = big, .payload_len = 12,
				     .udp_zero_csum = true } },
		{ "icmp echo", { .src = H_A, .dst = R_1, .sport = 40006, .proto = IPPROTO_ICMP,
				 .icmp_type = 8, .icmp_seq = 9, .payload = big,
				 .payload_len = 31 } },
		/* identifier 0 (outside the pool's range, so it is mapped to another one):
		 * the reply's identifier must be put back to 0 */
		{ "icmp echo id 0", { .src = H_A, .dst = R_1, .sport = 0, .proto = IPPROTO_ICMP,
				      .icmp_type = 8, .icmp_seq = 1, .payload = big,
				      .payload_len = 8 } },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < NT_DIM(cases); i++) {
		const struct pb_spec *o = &cases[i].out;
		struct pb_spec in;
		struct nt_env e;
		struct nt_res r;
		uint32_t oa;
		uint16_t op;

		start(&e, NULL, 0);
		nt_spec(&e, o, true, &r);
		nt_assert_ok(&r);
		oa = pb_ip_src(r.out);
		op = pb_sport(r.out);
		assert_int_equal(oa, N_1);
		assert_int_not_equal(op, o->sport);
		assert_int_equal(pb_ip_dst(r.out), o->dst);
		if (o->proto != IPPROTO_ICMP)
			assert_int_equal(pb_dport(r.out), o->dport);
		if (o->udp_zero_csum)	/* "no checksum" stays so */
			assert_int_equal(get16(r.out + L3 + 20 + 6), 0);
		/* the payload is untouched */
		assert_memory_equal(r.out + r.len - o->payload_len, o->payload, o->payload_len);

		/* the answer from outside reaches the inside endpoint */
		in = *o;
		in.src = o->dst;
		in.dst = oa;
		in.sport = o->proto == IPPROTO_ICMP ? op : o->dport;
		in.dport = op;
		if (o->proto == IPPROTO_TCP) {
			in.tcp_flags = PB_SYN | PB_ACK;
			in.seq = 5000;
			in.ack = o->seq + 1 + o->payload_len;
		}
		if (o->proto == IPPROTO_ICMP)
			in.icmp_type = 0;
		nt_spec(&e, &in, false, &r);
		nt_assert_ok(&r);
		assert_int_equal(r.dir, CT_DIR_REPLY);
		assert_int_equal(pb_ip_src(r.out), o->dst);
		assert_int_equal(pb_ip_dst(r.out), o->src);
		assert_int_equal(pb_dport(r.out), o->sport);
		if (o->udp_zero_csum)
			assert_int_equal(get16(r.out + L3 + 20 + 6), 0);
		nt_stop(&e);
	}
}

/* Parse a frame in place and rewrite it to `want`. */
static void
rewrite_to(uint8_t *f, unsigned int len, const struct ct_tuple *want, enum ct_reason parse)
{
	struct ct_pkt p;

	assert_int_equal(ct_parse_ipv4(f, len, L3, true, &p), parse);
	assert_int_equal(nat_rewrite_tuple(&p, want, f), 0);
}

/* A UDP checksum that becomes 0 after the rewrite must be sent as 0xffff (RFC 768). */
static void
test_udp_csum_becomes_zero(void **state)
{
	struct pb_spec s = nt_udp(H_A, 1111, R_1, 53);
	struct ct_tuple want = {
		.src = N_1, .dst = R_1, .sport = htons(2222), .dport = htons(53),
		.proto = IPPROTO_UDP, .family = CT_FAMILY_IPV4,
	};
	uint8_t f[PB_MAX], pl[2];
	unsigned int x, len;

	(void)state;
	s.payload = pl;
	s.payload_len = 2;
	/* find a payload for which the translated packet's checksum computes to 0 */
	for (x = 0; x < 65536; x++) {
		struct pb_spec t = s;

		pl[0] = (uint8_t)(x >> 8);
		pl[1] = (uint8_t)x;
		t.src = N_1;
		t.sport = 2222;
		pb_build(f, &t);
		if (get16(f + L3 + 20 + 6) == 0xffff)
			break;
	}
	assert_true(x < 65536);
	len = pb_build(f, &s);
	rewrite_to(f, len, &want, CT_R_NONE);
	assert_int_equal(get16(f + L3 + 20 + 6), 0xffff);
	assert_true(pb_csum_ok(f, len));
}

/* Fragments: the first carries the L4 header (ports and checksum translated exactly as in
 * the whole datagram), later ones get addresses only. */
static void
test_fragments(void **state)
{
	static const char pl[] = "fragmented datagram payload.....";
	struct pb_spec s = nt_udp(H_A, 1111, R_1, 53);
	struct ct_tuple want = {
		.src = N_1, .dst = R_1, .sport = htons(4242), .dport = htons(53),
		.proto = IPPROTO_UDP, .family = CT_FAMILY_IPV4,
	};
	uint8_t whole[PB_MAX], frag[PB_MAX], before[PB_MAX];
	unsigned int lw, lf;

	(void)state;
	s.payload = pl;
	s.payload_len = sizeof(pl) - 1;
	lw = pb_build(whole, &s);
	rewrite_to(whole, lw, &want, CT_R_NONE);
	assert_true(pb_csum_ok(whole, lw));
	/* first fragment (MF): same L4 result */
	s.frag_off = 0x2000;
	lf = pb_build(frag, &s);
	rewrite_to(frag, lf, &want, CT_R_NONE);
	assert_true(pb_csum_ok(frag, lf));
	assert_memory_equal(frag + L3 + 20, whole + L3 + 20, 8);
	/* a later fragment: addresses only, "L4" bytes untouched */
	s.frag_off = 0x0003;
	lf = pb_build(frag, &s);
	memcpy(before, frag, lf);
	rewrite_to(frag, lf, &want, CT_R_FRAGMENT);
	assert_true(pb_csum_ok(frag, lf));
	assert_int_equal(pb_ip_src(frag), N_1);
	assert_memory_equal(frag + L3 + 20, before + L3 + 20, lf - L3 - 20);
}

/* Protocols without ports (GRE): the address only, both ways. */
static void
test_other_proto(void **state)
{
	static const uint8_t gre[] = { 0, 0, 0x08, 0, 1, 2, 3, 4 };
	struct pb_spec s = { .src = H_A, .dst = R_1, .proto = 47, .payload = gre,
			     .payload_len = sizeof(gre) };
	struct nt_env e;
	struct nt_res r;

	(void)state;
	start(&e, NULL, 0);
	nt_spec(&e, &s, true, &r);
	nt_assert_ok(&r);
	assert_int_equal(pb_ip_src(r.out), N_1);
	assert_memory_equal(r.out + L3 + 20, gre, sizeof(gre));
	s.src = R_1;
	s.dst = N_1;
	nt_spec(&e, &s, false, &r);
	nt_assert_ok(&r);
	assert_int_equal(r.dir, CT_DIR_REPLY);
	assert_int_equal(pb_ip_dst(r.out), H_A);
	/* unsolicited from another remote: no mapping */
	s.src = R_2;
	nt_spec(&e, &s, false, &r);
	assert_null(r.conn);
	assert_int_equal(r.nat_why, NAT_R_NO_MAPPING);
	nt_stop(&e);
}

/* ---- ICMP errors (RFC 5508) ---- */

/* Set the next-hop MTU of a "fragmentation needed" error and fix its ICMP checksum. */
static void
set_mtu(uint8_t *f, unsigned int len, uint16_t mtu)
{
	uint8_t *icmp = f + L3 + 20;
	uint16_t c;

	icmp[6] = (uint8_t)(mtu >> 8);
	icmp[7] = (uint8_t)mtu;
	icmp[2] = icmp[3] = 0;
	c = pb_csum(icmp, len - L3 - 20, 0);
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
}

/* An error about an outbound flow, sent by a router (or the remote) to the outside
 * address: the inside host must receive it with its own original header quoted. */
static void
test_icmp_error_inbound(void **state)
{
	static const char pl[] = "some payload of the flow, long enough";
	static const struct {
		const char *name;
		uint8_t proto, type, code;
		bool from_remote;	/* sent by the remote endpoint itself */
		unsigned int quote;	/* 0: header + 8; 1: the whole datagram */
	} cases[] = {
		{ "udp port unreachable", IPPROTO_UDP, 3, 3, true, 0 },
		{ "udp port unreachable, whole quote", IPPROTO_UDP, 3, 3, true, 1 },
		{ "udp frag needed", IPPROTO_UDP, 3, 4, false, 0 },
		{ "udp ttl exceeded, whole", IPPROTO_UDP, 11, 0, false, 1 },
		{ "udp zero csum, whole", IPPROTO_UDP, 3, 3, true, 2 },
		{ "tcp frag needed", IPPROTO_TCP, 3, 4, false, 0 },
		{ "tcp frag needed, whole", IPPROTO_TCP, 3, 4, false, 1 },
		{ "tcp host unreachable", IPPROTO_TCP, 3, 1, false, 0 },
		{ "icmp echo ttl exceeded", IPPROTO_ICMP, 11, 0, false, 0 },
		{ "icmp echo ttl exceeded, whole", IPPROTO_ICMP, 11, 0, false, 1 },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < NT_DIM(cases); i++) {
		struct pb_spec s = {
			.src = H_A, .dst = R_1, .sport = 33333, .dport = 4500,
			.proto = cases[i].proto, .payload = pl, .payload_len = sizeof(pl) - 1,
			.tcp_flags = PB_SYN, .seq = 100, .icmp_type = 8, .icmp_seq = 3,
			.udp_zero_csum = cases[i].quote == 2,
		};
		uint8_t orig[PB_MAX], err[PB_MAX];
		unsigned int lo, le, q;
		struct nt_env e;
		struct nt_res r;

		start(&e, NULL, 0);
		lo = pb_build(orig, &s);
		nt_frame(&e, orig, lo, true, &r);
		nt_assert_ok(&r);
		assert_int_not_equal(pb_sport(r.out), 33333);
		q = cases[i].quote ? r.len - L3 : 0;
		le = pb_build_icmp_error(err, cases[i].from_remote ? R_1 : RTR, N_1,
					 cases[i].type, cases[i].code, r.out, r.len, q);
		if (cases[i].code == 4)
			set_mtu(err, le, 1400);
		assert_true(pb_csum_ok(err, le));
		nt_frame(&e, err, le, false, &r);
		if (r.state != CT_RELATED || r.rewrite != 0 || !pb_csum_ok(r.out, r.len))
			fail_msg("%s: state %d rewrite %d csum %d", cases[i].name, r.state,
				 r.rewrite, pb_csum_ok(r.out, r.len));
		assert_int_equal(r.dir, CT_DIR_REPLY);
		/* outer: to the inside host, from whoever sent it */
		assert_int_equal(pb_ip_dst(r.out), H_A);
		assert_int_equal(pb_ip_src(r.out), cases[i].from_remote ? R_1 : RTR);
		assert_int_equal(r.out[L3 + 20], cases[i].type);
		assert_int_equal(r.out[L3 + 21], cases[i].code);
		if (cases[i].code == 4)
			assert_int_equal(get16(r.out + L3 + 20 + 6), 1400);
		/* embedded: exactly the bytes the host sent */
		if (memcmp(r.out + pb_inner_off(r.out), orig + L3, le - L3 - 28) != 0)
			fail_msg("%s: quoted datagram differs from the original", cases[i].name);
		nt_stop(&e);
	}
}

/* Errors travelling out: the outer source becomes the outside address (REQ-4 c), the
 * embedded datagram what the remote sent. */
static void
test_icmp_error_outbound(void **state)
{
	static const struct nat_fwd fw[] = {
		{ .proto = IPPROTO_UDP, .ext_addr = N_1, .ext_lo = 8053, .ext_hi = 8053,
		  .int_addr = H_B, .int_port = 53 },
	};
	static const char pl[] = "query";
	uint8_t sent[PB_MAX], err[PB_MAX];
	unsigned int ls, le, k;
	struct nt_env e;
	struct nt_res r;

	(void)state;
	for (k = 0; k < 2; k++) {
		/* (a) forwarded inbound UDP; the inside server answers port unreachable */
		struct pb_spec s = nt_udp(R_1, 7777, N_1, 8053);

		start(&e, fw, NT_DIM(fw));
		s.payload = pl;
		s.payload_len = sizeof(pl) - 1;
		ls = pb_build(sent, &s);
		nt_frame(&e, sent, ls, false, &r);
		nt_assert_ok(&r);
		assert_int_equal(pb_ip_dst(r.out), H_B);
		le = pb_build_icmp_error(err, k ? RTR_IN : H_B, R_1, 3, 3, r.out, r.len,
					 r.len - L3);
		nt_frame(&e, err, le, true, &r);
		assert_int_equal(r.state, CT_RELATED);
		assert_int_equal(r.rewrite, 0);
		assert_true(pb_csum_ok(r.out, r.len));
		assert_int_equal(pb_ip_src(r.out), N_1);
		assert_int_equal(pb_ip_dst(r.out), R_1);
		assert_memory_equal(r.out + pb_inner_off(r.out), sent + L3, ls - L3);
		nt_stop(&e);
	}

	/* (b) the reply of an outbound TCP flow cannot be delivered inside; an inside router
	 * tells the remote: it must see our outside address and its own packet quoted */
	{
		struct pb_spec s = nt_tcp(H_A, 33000, R_1, 80, PB_SYN);
		uint16_t op;

		start(&e, NULL, 0);
		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		op = pb_sport(r.out);
		s = nt_tcp(R_1, 80, N_1, op, PB_SYN | PB_ACK);
		s.ack = 1001;
		ls = pb_build(sent, &s);
		nt_frame(&e, sent, ls, false, &r);
		nt_assert_ok(&r);
		le = pb_build_icmp_error(err, RTR_IN, R_1, 3, 1, r.out, r.len, 0);
		nt_frame(&e, err, le, true, &r);
		assert_int_equal(r.state, CT_RELATED);
		assert_int_equal(r.rewrite, 0);
		assert_true(pb_csum_ok(r.out, r.len));
		assert_int_equal(pb_ip_src(r.out), N_1);
		assert_int_equal(pb_ip_dst(r.out), R_1);
		assert_memory_equal(r.out + pb_inner_off(r.out), sent + L3, 28);
		nt_stop(&e);
	}
}

/* A truncated quote cannot be rewritten: -1, nothing written past the packet. */
static void
test_rewrite_short(void **state)
{
	struct pb_spec s = nt_tcp(H_A, 1, R_1, 2, PB_SYN);
	struct ct_tuple want;
	struct ct_pkt p;
	uint8_t f[PB_MAX];
	unsigned int len;

	(void)state;
	len = pb_build(f, &s);
	assert_int_equal(ct_parse_ipv4(f, len, L3, true, &p), CT_R_NONE);
	want = p.tuple;
	want.src = N_1;
	p.l4_len = 10;	/* as if the TCP header were cut */
	assert_int_equal(nat_rewrite_tuple(&p, &want, f), -1);
}

/* ---- property: random packets rewritten to random tuples ---- */

static uint64_t rnd_state = UINT64_C(0x9e3779b97f4a7c15);

static uint32_t
rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state >> 16);
}

static struct pb_spec
rnd_spec(uint8_t *pl)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDP, IPPROTO_ICMP };
	struct pb_spec s = {
		.src = rnd() | 1, .dst = rnd() | 2, .sport = (uint16_t)(rnd() | 1),
		.dport = (uint16_t)(rnd() | 1), .proto = protos[rnd() % 4],
		.tcp_flags = PB_SYN, .seq = rnd(), .icmp_type = 8,
		.icmp_seq = (uint16_t)rnd(), .payload = pl, .payload_len = (uint16_t)(rnd() % 61),
		.ttl = (uint8_t)(rnd() | 1), .ip_id = (uint16_t)rnd(),
	};
	unsigned int i;

	for (i = 0; i < s.payload_len; i++)
		pl[i] = (uint8_t)rnd();
	s.udp_zero_csum = s.proto == IPPROTO_UDP && (rnd() & 3) == 0;
	return s;
}

/* a random target for tuple t: each field kept or changed */
static struct ct_tuple
rnd_want(const struct ct_tuple *t)
{
	struct ct_tuple w = *t;

	if (rnd() & 1)
		w.src = rnd();
	if (rnd() & 1)
		w.dst = rnd();
	if (rnd() & 1)
		w.sport = (uint16_t)rnd();
	if (rnd() & 1)
		w.dport = (uint16_t)rnd();
	if (t->proto == IPPROTO_ICMP)
		w.dport = w.sport;	/* query: sport = dport = identifier */
	return w;
}

static void
test_random_rewrites(void **state)
{
	uint8_t pl[64], f[PB_MAX], err[PB_MAX];
	unsigned int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		struct pb_spec s = rnd_spec(pl);
		unsigned int len = pb_build(f, &s), elen, q;
		struct ct_tuple want;
		struct ct_pkt p;
		bool zero = s.udp_zero_csum;

		assert_int_equal(ct_parse_ipv4(f, len, L3, true, &p), CT_R_NONE);
		if (i & 1) {
			/* plain packet */
			want = rnd_want(&p.tuple);
			assert_int_equal(nat_rewrite_tuple(&p, &want, f), 0);
			assert_true(pb_csum_ok(f, len));
			assert_int_equal(ct_parse_ipv4(f, len, L3, true, &p), CT_R_NONE);
			assert_true(ct_tuple_equal(&p.tuple, &want));
			if (zero)
				assert_int_equal(get16(f + L3 + 20 + 6), 0);
			continue;
		}
		/* an ICMP error quoting it, whole or header + 8 */
		q = rnd() & 1 ? len - L3 : 0;
		elen = pb_build_icmp_error(err, rnd() | 4, s.src, (rnd() & 1) ? 3 : 11,
					   (uint8_t)(rnd() % 5), f, len, q);
		assert_int_equal(ct_parse_ipv4(err, elen, L3, true, &p), CT_R_NONE);
		assert_true(p.is_icmp_error);
		want = rnd_want(&p.tuple);
		assert_int_equal(nat_rewrite_tuple(&p, &want, err), 0);
		assert_true(pb_csum_ok(err, elen));
		assert_int_equal(ct_parse_ipv4(err, elen, L3, true, &p), CT_R_NONE);
		assert_true(ct_tuple_equal(&p.tuple, &want));
		if (zero)
			assert_int_equal(get16(err + pb_inner_off(err) + 20 + 6), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flows_both_ways),
		cmocka_unit_test(test_udp_csum_becomes_zero),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_other_proto),
		cmocka_unit_test(test_icmp_error_inbound),
		cmocka_unit_test(test_icmp_error_outbound),
		cmocka_unit_test(test_rewrite_short),
		cmocka_unit_test(test_random_rewrites),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
