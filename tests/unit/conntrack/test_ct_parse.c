/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ct_parse.c - ct_parse_ipv4 over real frames: every malformed-header case (table
 * driven: a valid frame, one mutation, the expected reason), every ct_pkt field of good
 * TCP/UDP/ICMP/other packets, Ethernet padding, fragments and ICMP errors (inner parsing,
 * inverted tuple, malformed embedded headers). Frames are parsed from exact-size heap copies
 * so that ASan reports any read past `len`.
 */
#include "ct_test.h"

#define IP (PB_ETH_LEN)		/* offset of the IPv4 header in pb frames */
#define L4 (PB_ETH_LEN + 20)

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* recompute the IPv4 header checksum after a mutation (ihl bytes, capped to the frame) */
static void
fix_ip_csum(uint8_t *f, unsigned int len)
{
	unsigned int ihl = (f[IP] & 0xf) * 4u;

	if (ihl < 20 || IP + ihl > len)
		return;
	put16(f + IP + 10, 0);
	put16(f + IP + 10, pb_csum(f + IP, ihl, 0));
}

enum base { B_TCP, B_UDP, B_ICMP_ECHO, B_GRE };

struct parse_case {
	const char *name;
	enum base base;
	/* mutation: set byte at off (if set_byte), set totlen, cut the frame */
	int set_off;		/* -1: none */
	uint8_t set_val;
	int totlen;		/* -1: keep */
	int cut;		/* bytes removed from the end of the frame (0: none) */
	int pad;		/* bytes of padding appended */
	bool bad_csum;
	enum ct_reason want;
};

static unsigned int
build_base(uint8_t *f, enum base b)
{
	static const uint8_t data[16] = "0123456789abcdef";
	struct pb_spec s = {
		.src = A_IN, .dst = A_OUT, .sport = 1234, .dport = 80,
		.payload = data, .payload_len = sizeof(data),
	};

	switch (b) {
	case B_TCP:
		s.proto = IPPROTO_TCP;
		s.tcp_flags = PB_SYN;
		break;
	case B_UDP:
		s.proto = IPPROTO_UDP;
		break;
	case B_ICMP_ECHO:
		s.proto = IPPROTO_ICMP;
		s.icmp_type = 8;
		break;
	case B_GRE:
		s.proto = 47;
		break;
	}
	return pb_build(f, &s);
}

static const struct parse_case cases[] = {
	{ .name = "good tcp", .base = B_TCP, .set_off = -1, .totlen = -1, .want = CT_R_NONE },
	{ .name = "good udp", .base = B_UDP, .set_off = -1, .totlen = -1, .want = CT_R_NONE },
	{ .name = "good icmp", .base = B_ICMP_ECHO, .set_off = -1, .totlen = -1,
	  .want = CT_R_NONE },
	{ .name = "good other", .base = B_GRE, .set_off = -1, .totlen = -1, .want = CT_R_NONE },
	{ .name = "ethernet padding", .base = B_UDP, .set_off = -1, .totlen = -1, .pad = 20,
	  .want = CT_R_NONE },
	{ .name = "only ethernet", .base = B_UDP, .set_off = -1, .totlen = -1,
	  .cut = 20 + 8 + 16, .want = CT_R_L3_TRUNCATED },
	{ .name = "19 bytes of ip", .base = B_UDP, .set_off = -1, .totlen = -1,
	  .cut = 1 + 8 + 16, .want = CT_R_L3_TRUNCATED },
	{ .name = "version 6", .base = B_TCP, .set_off = IP, .set_val = 0x65, .totlen = -1,
	  .want = CT_R_L3_BAD_VERSION },
	{ .name = "version 0", .base = B_UDP, .set_off = IP, .set_val = 0x05, .totlen = -1,
	  .want = CT_R_L3_BAD_VERSION },
	{ .name = "ihl 4", .base = B_TCP, .set_off = IP, .set_val = 0x44, .totlen = -1,
	  .want = CT_R_L3_BAD_IHL },
	{ .name = "ihl 0", .base = B_UDP, .set_off = IP, .set_val = 0x40, .totlen = -1,
	  .want = CT_R_L3_BAD_IHL },
	{ .name = "ihl past packet", .base = B_UDP, .set_off = IP, .set_val = 0x4f,
	  .totlen = -1, .cut = 16 + 8 - 4, .want = CT_R_L3_BAD_IHL },
	{ .name = "totlen > len", .base = B_UDP, .set_off = -1, .totlen = 20 + 8 + 16 + 1,
	  .want = CT_R_L3_BAD_TOTLEN },
	{ .name = "totlen < ihl", .base = B_UDP, .set_off = -1, .totlen = 19,
	  .want = CT_R_L3_BAD_TOTLEN },
	{ .name = "totlen 0", .base = B_TCP, .set_off = -1, .totlen = 0,
	  .want = CT_R_L3_BAD_TOTLEN },
	{ .name = "bad ip csum", .base = B_TCP, .set_off = -1, .totlen = -1, .bad_csum = true,
	  .want = CT_R_L3_BAD_CSUM },
	{ .name = "tcp 19 bytes", .base = B_TCP, .set_off = -1, .totlen = 20 + 19,
	  .want = CT_R_L4_TRUNCATED },
	{ .name = "tcp 0 bytes", .base = B_TCP, .set_off = -1, .totlen = 20,
	  .want = CT_R_L4_TRUNCATED },
	{ .name = "tcp doff 4", .base = B_TCP, .set_off = L4 + 12, .set_val = 4 << 4,
	  .totlen = -1, .want = CT_R_TCP_BAD_DOFF },
	{ .name = "tcp doff 0", .base = B_TCP, .set_off = L4 + 12, .set_val = 0,
	  .totlen = -1, .want = CT_R_TCP_BAD_DOFF },
	{ .name = "tcp doff past packet", .base = B_TCP, .set_off = L4 + 12, .set_val = 15 << 4,
	  .totlen = -1, .want = CT_R_TCP_BAD_DOFF },
	{ .name = "tcp doff = all of l4", .base = B_TCP, .set_off = L4 + 12, .set_val = 9 << 4,
	  .totlen = -1, .want = CT_R_NONE },
	{ .name = "tcp doff one word past l4", .base = B_TCP, .set_off = L4 + 12,
	  .set_val = 10 << 4, .totlen = -1, .want = CT_R_TCP_BAD_DOFF },
	{ .name = "udp 7 bytes", .base = B_UDP, .set_off = -1, .totlen = 20 + 7,
	  .want = CT_R_L4_TRUNCATED },
	{ .name = "udp 8 bytes", .base = B_UDP, .set_off = -1, .totlen = 20 + 8,
	  .want = CT_R_NONE },
	{ .name = "icmp 7 bytes", .base = B_ICMP_ECHO, .set_off = -1, .totlen = 20 + 7,
	  .want = CT_R_L4_TRUNCATED },
	{ .name = "l4 beyond totlen is not read", .base = B_TCP, .set_off = -1,
	  .totlen = 20 + 10, .want = CT_R_L4_TRUNCATED },
};

static void
test_malformed(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < CT_DIM(cases); i++) {
		const struct parse_case *c = &cases[i];
		uint8_t f[PB_MAX];
		unsigned int len = build_base(f, c->base);
		struct ct_pkt p;
		enum ct_reason r;

		if (c->set_off >= 0)
			f[c->set_off] = c->set_val;
		if (c->totlen >= 0)
			put16(f + IP + 2, (uint16_t)c->totlen);
		len = len - (unsigned int)c->cut + (unsigned int)c->pad;
		fix_ip_csum(f, len);
		if (c->bad_csum)
			f[IP + 10] ^= 0x40;
		r = ct_test_parse(f, len, &p);
		if (r != c->want)
			fail_msg("case '%s': got %s, want %s", c->name, ct_reason_id(r),
				 ct_reason_id(c->want));
		/* the checksum is only looked at when asked */
		if (c->bad_csum) {
			assert_int_equal(ct_parse_ipv4(f, len, IP, false, &p), CT_R_NONE);
		}
	}
}

static void
test_fields_tcp(void **state)
{
	static const uint8_t opts[] = { 2, 4, 0x05, 0xb4 };	/* MSS 1460 */
	static const uint8_t data[10] = "abcdefghij";
	struct pb_spec s = {
		.src = A_IN, .dst = A_OUT, .sport = 40000, .dport = 443, .proto = IPPROTO_TCP,
		.tcp_flags = PB_SYN | PB_ACK, .ttl = 33, .tcp_opts = opts,
		.tcp_opts_len = sizeof(opts), .payload = data, .payload_len = sizeof(data),
	};
	uint8_t f[PB_MAX];
	unsigned int len = pb_build(f, &s);
	struct ct_pkt p;

	(void)state;
	assert_int_equal(ct_test_parse(f, len, &p), CT_R_NONE);
	assert_int_equal(p.tuple.src, A_IN);
	assert_int_equal(p.tuple.dst, A_OUT);
	assert_int_equal(p.tuple.sport, htons(40000));
	assert_int_equal(p.tuple.dport, htons(443));
	assert_int_equal(p.tuple.proto, IPPROTO_TCP);
	assert_int_equal(p.tuple.family, CT_FAMILY_IPV4);
	assert_int_equal(p.tuple.zero, 0);
	assert_int_equal(p.l3_off, PB_ETH_LEN);
	assert_int_equal(p.l4_off, PB_ETH_LEN + 20);
	assert_int_equal(p.l4_len, 24 + 10);
	assert_int_equal(p.payload_off, PB_ETH_LEN + 20 + 24);
	assert_int_equal(p.payload_len, 10);
	assert_int_equal(p.ip_len, 20 + 24 + 10);
	assert_int_equal(p.tcp_flags, PB_SYN | PB_ACK);
	assert_int_equal(p.ttl, 33);
	assert_int_equal(p.is_icmp_error, 0);
	assert_int_equal(p.is_fragment, 0);
	assert_null(p.conn);
}

static void
test_fields_udp_padding(void **state)
{
	struct pb_spec s = ct_test_udp(CT_DIR_ORIG);
	uint8_t f[PB_MAX];
	unsigned int len = pb_build(f, &s);
	struct ct_pkt p;

	(void)state;
	/* a 42-byte frame padded to 60 by the NIC */
	assert_int_equal(len, 42);
	assert_int_equal(ct_test_parse(f, 60, &p), CT_R_NONE);
	assert_int_equal(p.ip_len, 28);
	assert_int_equal(p.l4_len, 8);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.payload_off, PB_ETH_LEN + 28);
	assert_int_equal(p.tuple.sport, htons(1000));
	assert_int_equal(p.tuple.dport, htons(53));
	/* a different l3 offset (e.g. a VLAN tag) */
	{
		uint8_t g[PB_MAX + 4];

		memset(g, 0, sizeof(g));
		memcpy(g + 4, f, len);
		assert_int_equal(ct_parse_ipv4(g, len + 4, PB_ETH_LEN + 4, true, &p), CT_R_NONE);
		assert_int_equal(p.l3_off, PB_ETH_LEN + 4);
		assert_int_equal(p.l4_off, PB_ETH_LEN + 24);
		assert_int_equal(p.tuple.src, A_IN);
	}
}

static void
test_fields_icmp_other(void **state)
{
	struct pb_spec s = {
		.src = A_IN, .dst = A_OUT, .sport = 0x1234, .proto = IPPROTO_ICMP, .icmp_type = 8,
		.icmp_seq = 7,
	};
	uint8_t f[PB_MAX];
	unsigned int len = pb_build(f, &s);
	struct ct_pkt p;

	(void)state;
	assert_int_equal(ct_test_parse(f, len, &p), CT_R_NONE);
	assert_int_equal(p.tuple.sport, htons(0x1234));
	assert_int_equal(p.tuple.dport, htons(0x1234));
	assert_int_equal(p.icmp_type, 8);
	assert_int_equal(p.icmp_code, 0);
	assert_int_equal(p.is_icmp_error, 0);
	/* echo reply: the inverted tuple of the request */
	s.src = A_OUT;
	s.dst = A_IN;
	s.icmp_type = 0;
	len = pb_build(f, &s);
	{
		struct ct_pkt q;
		struct ct_tuple inv = ct_tuple_invert(&p.tuple);

		assert_int_equal(ct_test_parse(f, len, &q), CT_R_NONE);
		assert_true(ct_tuple_equal(&q.tuple, &inv));
	}
	/* router advertisement: not a query, no identifier */
	s.icmp_type = 9;
	len = pb_build(f, &s);
	assert_int_equal(ct_test_parse(f, len, &p), CT_R_NONE);
	assert_int_equal(p.tuple.sport, 0);
	assert_int_equal(p.tuple.dport, 0);
	/* other protocol: addresses and protocol */
	s.proto = 47;
	len = pb_build(f, &s);
	assert_int_equal(ct_test_parse(f, len, &p), CT_R_NONE);
	assert_int_equal(p.tuple.proto, 47);
	assert_int_equal(p.tuple.sport, 0);
	assert_int_equal(p.l4_off, PB_ETH_LEN + 20);
	assert_int_equal(p.payload_off, p.l4_off);
}

static void
test_fragments(void **state)
{
	struct pb_spec s = ct_test_udp(CT_DIR_ORIG);
	uint8_t f[PB_MAX];
	unsigned int len;
	struct ct_pkt p;

	(void)state;
	/* first fragment (MF, offset 0): a full tuple */
	s.frag_off = 0x2000;
	len = pb_build(f, &s);
	assert_int_equal(ct_test_parse(f, len, &p), CT_R_NONE);
	assert_int_equal(p.is_fragment, 1);
	assert_int_equal(p.tuple.sport, htons(1000));
	/* middle fragment (MF, offset 185*8) and last (offset only): no ports */
	s.frag_off = 0x2000 | 185;
	len = pb_build(f, &s);
	assert_int_equal(ct_test_parse(f, len, &p), CT_R_FRAGMENT);
	assert_int_equal(p.is_fragment, 1);
	assert_int_equal(p.tuple.sport, 0);
	assert_int_equal(p.tuple.dport, 0);
	assert_int_equal(p.tuple.src, A_IN);
	assert_int_equal(p.tuple.proto, IPPROTO_UDP);
	s.frag_off = 1;
	len = pb_build(f, &s);
	assert_int_equal(ct_test_parse(f, len, &p), CT_R_FRAGMENT);
	/* DF alone is not a fragment */
	s.frag_off = 0x4000;
	len = pb_build(f, &s);
	assert_int_equal(ct_test_parse(f, len, &p), CT_R_NONE);
	assert_int_equal(p.is_fragment, 0);
}

/* ---- ICMP errors ---- */

struct icmp_err_case {
	const char *name;
	uint8_t inner_proto;	/* of the quoted datagram */
	uint8_t type, code;
	unsigned int quote;	/* bytes quoted (0: ip + 8) */
	int inner_off;		/* byte of the embedded IP header to overwrite, -1 none */
	uint8_t inner_val;
	uint16_t inner_frag;
	enum ct_reason want;
};

static const struct icmp_err_case err_cases[] = {
	{ "port unreachable about udp", IPPROTO_UDP, 3, 3, 0, -1, 0, 0, CT_R_NONE },
	{ "time exceeded about tcp", IPPROTO_TCP, 11, 0, 0, -1, 0, 0, CT_R_NONE },
	{ "tcp quoted whole (40 bytes)", IPPROTO_TCP, 3, 1, 40, -1, 0, 0, CT_R_NONE },
	{ "param problem about echo", IPPROTO_ICMP, 12, 0, 0, -1, 0, 0, CT_R_NONE },
	{ "source quench", IPPROTO_UDP, 4, 0, 0, -1, 0, 0, CT_R_NONE },
	{ "redirect", IPPROTO_UDP, 5, 1, 0, -1, 0, 0, CT_R_NONE },
	{ "quote 27 bytes", IPPROTO_UDP, 3, 3, 27, -1, 0, 0, CT_R_ICMP_INNER_BAD },
	{ "quote 20 bytes", IPPROTO_UDP, 3, 3, 20, -1, 0, 0, CT_R_ICMP_INNER_BAD },
	{ "quote 1 byte", IPPROTO_UDP, 3, 3, 1, -1, 0, 0, CT_R_ICMP_INNER_BAD },
	{ "inner version 6", IPPROTO_UDP, 3, 3, 0, 0, 0x65, 0, CT_R_ICMP_INNER_BAD },
	{ "inner ihl 4", IPPROTO_UDP, 3, 3, 0, 0, 0x44, 0, CT_R_ICMP_INNER_BAD },
	{ "inner ihl 6 past quote", IPPROTO_UDP, 3, 3, 0, 0, 0x46, 0, CT_R_ICMP_INNER_BAD },
	{ "inner totlen < ihl + 8", IPPROTO_UDP, 3, 3, 0, 3, 27, 0, CT_R_ICMP_INNER_BAD },
	{ "inner non-first fragment", IPPROTO_UDP, 3, 3, 0, -1, 0, 0x2001,
	  CT_R_ICMP_ERROR_UNSUPPORTED },
	{ "error about an error", IPPROTO_ICMP, 3, 3, 0, -1, 0, 0xffff,
	  CT_R_ICMP_ERROR_UNSUPPORTED },
};

static void
test_icmp_errors(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < CT_DIM(err_cases); i++) {
		const struct icmp_err_case *c = &err_cases[i];
		static const uint8_t data[32];
		struct pb_spec s = {
			.src = A_IN, .dst = A_OUT, .sport = 5000, .dport = 6000,
			.proto = c->inner_proto, .tcp_flags = PB_ACK, .icmp_type = 8,
			.payload = data, .payload_len = c->inner_proto == IPPROTO_TCP ? 0 : 12,
		};
		uint8_t o[PB_MAX], f[PB_MAX];
		unsigned int olen, len;
		struct ct_pkt p, q;
		enum ct_reason r;

		if (c->inner_frag == 0xffff) {
			/* the quoted datagram is itself an ICMP error */
			uint8_t e[PB_MAX];
			unsigned int elen;

			s.proto = IPPROTO_UDP;
			elen = pb_build(e, &s);
			olen = pb_build_icmp_error(o, A_IN, A_OUT, 3, 1, e, elen, 0);
		} else {
			s.frag_off = c->inner_frag;
			olen = pb_build(o, &s);
		}
		len = pb_build_icmp_error(f, A_RTR, A_IN, c->type, c->code, o, olen, c->quote);
		if (c->inner_off >= 0) {
			f[L4 + 8 + c->inner_off] = c->inner_val;
			if (c->inner_off == 3)
				f[L4 + 8 + 2] = 0;
			/* a well-formed message with a malformed quote: right ICMP checksum */
			put16(f + L4 + 2, 0);
			put16(f + L4 + 2, pb_csum(f + L4, len - L4, 0));
		}
		r = ct_test_parse(f, len, &p);
		if (r != c->want)
			fail_msg("case '%s': got %s, want %s", c->name, ct_reason_id(r),
				 ct_reason_id(c->want));
		assert_int_equal(p.is_icmp_error, 1);
		assert_int_equal(p.icmp_type, c->type);
		assert_int_equal(p.icmp_code, c->code);
		assert_int_equal(p.inner_l3_off, L4 + 8);
		assert_int_equal(p.inner_len, len - L4 - 8);
		if (r != CT_R_NONE)
			continue;
		/* the tuple is the quoted datagram's, inverted: what a reply would carry */
		assert_int_equal(ct_test_parse(o, olen, &q), CT_R_NONE);
		{
			struct ct_tuple inv = ct_tuple_invert(&q.tuple);

			if (!ct_tuple_equal(&p.tuple, &inv))
				fail_msg("case '%s': tuple is not the inverted inner one", c->name);
		}
		assert_int_equal(p.inner_l4_off, L4 + 8 + 20);
		assert_int_equal(pb_inner_off(f), p.inner_l3_off);
	}
}

/*
 * An ICMP error must carry a right checksum over the whole message (RFC 792), and go to the
 * source of the datagram it quotes (RFC 1812 4.3.2.3). The lab case: an on-link host sent a port
 * unreachable with outer 6.6.6.6 -> 10.99.99.99 quoting a live flow of natgw's outside
 * address 10.99.99.1; it was translated to the inside host. (Both parsed as good before.)
 */
static void
test_icmp_error_checks(void **state)
{
	static const uint8_t data[13] = "odd quote len";
	const uint32_t gw_out = PB_IP(10, 99, 99, 1), server = PB_IP(10, 99, 99, 50);
	struct pb_spec s = {
		.src = gw_out, .dst = server, .sport = 40000, .dport = 53, .proto = IPPROTO_UDP,
		.payload = data, .payload_len = sizeof(data),
	};
	uint8_t o[PB_MAX], f[PB_MAX];
	unsigned int olen, len, q;
	struct ct_pkt p;

	(void)state;
	olen = pb_build(o, &s);
	/* from the server and from a router on the path, quoting 28 bytes or all (odd) */
	for (q = 0; q <= 1; q++) {
		len = pb_build_icmp_error(f, server, gw_out, 3, 3, o, olen, q ? 20 + 8 + 13 : 0);
		assert_true(pb_csum_ok(f, len));
		assert_int_equal(ct_test_parse(f, len, &p), CT_R_NONE);
		len = pb_build_icmp_error(f, A_RTR, gw_out, 11, 0, o, olen, q ? 41 : 0);
		assert_int_equal(ct_test_parse(f, len, &p), CT_R_NONE);
		assert_int_equal(p.tuple.dst, gw_out);
		/* a wrong checksum (the message is otherwise good), header check on or off */
		f[L4 + 2] ^= 0x01;
		assert_int_equal(ct_test_parse(f, len, &p), CT_R_ICMP_BAD_CSUM);
		assert_int_equal(ct_parse_ipv4(f, len, PB_ETH_LEN, false, &p), CT_R_ICMP_BAD_CSUM);
		f[L4 + 2] ^= 0x01;
		f[len - 1] ^= 0x80;	/* last quoted byte */
		assert_int_equal(ct_test_parse(f, len, &p), CT_R_ICMP_BAD_CSUM);
	}
	/* the lab's forgery: right checksums, sent to another address than the quoted source */
	len = pb_build_icmp_error(f, PB_IP(6, 6, 6, 6), PB_IP(10, 99, 99, 99), 3, 3, o, olen, 0);
	assert_true(pb_csum_ok(f, len));
	assert_int_equal(ct_test_parse(f, len, &p), CT_R_ICMP_ERROR_BAD_DST);
	/* to the quoted destination (the wrong end of the flow) */
	len = pb_build_icmp_error(f, A_RTR, server, 3, 1, o, olen, 0);
	assert_int_equal(ct_test_parse(f, len, &p), CT_R_ICMP_ERROR_BAD_DST);
	/* an echo request with a wrong checksum is no error: parsed (ct_update checks it) */
	s = (struct pb_spec){ .src = A_IN, .dst = A_OUT, .sport = 7, .proto = IPPROTO_ICMP,
			      .icmp_type = 8 };
	len = pb_build(f, &s);
	f[L4 + 2] ^= 0x01;
	assert_int_equal(ct_test_parse(f, len, &p), CT_R_NONE);
}

/* ct_l4_csum_valid against real frames and against pkt_build's own verifier. */
static void
test_l4_csum(void **state)
{
	static const uint8_t data[37] = "thirty-seven bytes of payload, odd..";
	static const uint8_t opts[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 };
	const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };
	uint8_t f[PB_MAX];
	unsigned int i, k, len, plen, pad;
	struct ct_pkt p;
	uint32_t rnd = 12345;

	(void)state;
	for (i = 0; i < CT_DIM(protos); i++) {
		for (plen = 0; plen <= sizeof(data); plen += 1) {
			struct pb_spec s = {
				.src = A_IN, .dst = A_OUT, .sport = 1234, .dport = 80,
				.proto = protos[i], .tcp_flags = PB_SYN, .icmp_type = 8,
				.payload = data, .payload_len = (uint16_t)plen,
				.tcp_opts = opts, .tcp_opts_len = plen & 1 ? sizeof(opts) : 0,
			};

			len = pb_build(f, &s);
			/* Ethernet padding after the datagram is not part of it */
			pad = len < 60 ? 60 - len : 0;
			memset(f + len, 0xa5, pad);
			assert_int_equal(ct_parse_ipv4(f, len + pad, PB_ETH_LEN, true, &p),
					 CT_R_NONE);
			assert_true(ct_l4_csum_valid(&p, f));
			/* flip bits anywhere in the datagram: both verifiers agree */
			for (k = 0; k < 20; k++) {
				unsigned int at;
				uint8_t bit;

				rnd = rnd * 1103515245u + 12345u;
				at = PB_ETH_LEN + 12 + (rnd >> 8) % (len - PB_ETH_LEN - 12);
				bit = (uint8_t)(1u << ((rnd >> 4) & 7));
				if (at >= PB_ETH_LEN + 12 && at < PB_ETH_LEN + 20 &&
				    protos[i] == IPPROTO_ICMP)
					continue;	/* ICMP has no pseudo header */
				f[at] ^= bit;
				/* (the IPv4 header checksum is the parser's business) */
				if (ct_parse_ipv4(f, len, PB_ETH_LEN, false, &p) == CT_R_NONE &&
				    !p.is_fragment)
					assert_int_equal(ct_l4_csum_valid(&p, f),
							 pb_csum_ok(f, len));
				f[at] ^= bit;
			}
		}
	}
	/* UDP: 0 means no checksum; the checksum covers the UDP length, not the IP payload */
	{
		struct pb_spec s = ct_test_udp(CT_DIR_ORIG);

		s.payload = data;
		s.payload_len = 10;
		len = pb_build(f, &s);
		assert_int_equal(ct_test_parse(f, len, &p), CT_R_NONE);
		assert_true(ct_l4_csum_valid(&p, f));
		f[L4 + 6] = f[L4 + 7] = 0;
		assert_true(ct_l4_csum_valid(&p, f));
		len = pb_build(f, &s);
		/* 4 more bytes in the IP payload than the UDP length says */
		put16(f + IP + 2, (uint16_t)(20 + 8 + 10 + 4));
		fix_ip_csum(f, len + 4);
		memset(f + len, 0x77, 4);
		assert_int_equal(ct_test_parse(f, len + 4, &p), CT_R_NONE);
		assert_true(ct_l4_csum_valid(&p, f));
		/* a UDP length beyond the IP payload, or below the header */
		put16(f + L4 + 4, 8 + 10 + 5);
		assert_false(ct_l4_csum_valid(&p, f));
		put16(f + L4 + 4, 7);
		assert_false(ct_l4_csum_valid(&p, f));
	}
	/* other protocols and fragments: nothing this packet can prove */
	{
		struct pb_spec s = { .src = A_IN, .dst = A_OUT, .proto = 47, .payload = data,
				     .payload_len = 8 };

		len = pb_build(f, &s);
		f[L4] ^= 0xff;
		assert_int_equal(ct_test_parse(f, len, &p), CT_R_NONE);
		assert_true(ct_l4_csum_valid(&p, f));
		s.proto = IPPROTO_TCP;
		s.tcp_flags = PB_SYN;
		s.frag_off = 0x2000;	/* MF: the first of several */
		len = pb_build(f, &s);
		f[L4 + 16] ^= 0xff;
		assert_int_equal(ct_test_parse(f, len, &p), CT_R_NONE);
		assert_true(ct_l4_csum_valid(&p, f));
	}
}

static void
test_names(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < CT_R_MAX; i++) {
		assert_non_null(ct_reason_str((enum ct_reason)i));
		assert_non_null(ct_reason_id((enum ct_reason)i));
	}
	assert_string_equal(ct_reason_id(CT_R_TCP_OUT_OF_WINDOW), "TCP_OUT_OF_WINDOW");
	assert_string_equal(ct_reason_str(CT_R_TCP_OUT_OF_WINDOW), "tcp segment outside window");
	assert_string_equal(ct_reason_str(CT_R_MAX), "unknown");
	assert_string_equal(ct_state_str(CT_RELATED), "RELATED");
	assert_string_equal(ct_state_str((enum ct_state)99), "UNKNOWN");
	assert_string_equal(ct_tcp_state_str(CT_TCP_SYN_SENT2), "SYN_SENT2");
	assert_string_equal(ct_tcp_state_str(CT_TCP_TIME_WAIT), "TIME_WAIT");
	assert_string_equal(ct_tcp_state_str(CT_TCP_MAX), "UNKNOWN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_fields_tcp),
		cmocka_unit_test(test_fields_udp_padding),
		cmocka_unit_test(test_fields_icmp_other),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_icmp_errors),
		cmocka_unit_test(test_icmp_error_checks),
		cmocka_unit_test(test_l4_csum),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
