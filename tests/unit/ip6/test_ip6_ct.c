/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ip6_ct.c - IPv6 in lib/conntrack (ct_ip6.c) over real packet bytes (pb6_build):
 * the parser (fields, extension header walk and its bound, hop-by-hop placement, routing
 * headers with segments left, truncations, fragments), ICMPv6 errors (the quoted flow
 * inverted, checksum, sent to the quoted source, errors about errors), the pseudo-header
 * checksums, and the table: folded keys with exact addresses (a fold collision is no match),
 * TCP state and window tracking, UDP, ICMPv6 echo by identifier and RELATED errors. Frames
 * are parsed from exact-size heap copies so that ASan catches reads past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "ct_private.h"
#include "pkt_build.h"

#define L3 PB_ETH_LEN

static uint8_t HOST[16], SRV[16], RTR[16], OTHER[16];

static int
setup(void **st)
{
	(void)st;
	inet_pton(AF_INET6, "2001:db8:1::10", HOST);
	inet_pton(AF_INET6, "2001:db8:3::10", SRV);
	inet_pton(AF_INET6, "2001:db8:2::1", RTR);
	inet_pton(AF_INET6, "2001:db8:1::99", OTHER);
	return 0;
}

static enum ct_reason
parse(const uint8_t *f, unsigned int len, struct ct_pkt *p, struct ct_addr6 *a)
{
	uint8_t *b = malloc(len);
	enum ct_reason r;

	assert_non_null(b);
	memcpy(b, f, len);
	r = ct_parse_ipv6(b, len, L3, p, a);
	free(b);
	return r;
}

static unsigned int
tcp(uint8_t *f, const uint8_t *src, const uint8_t *dst, uint16_t sp, uint16_t dp, uint8_t fl,
    uint32_t seq, uint32_t ack, const uint8_t *ext, uint16_t ext_len, uint8_t ext_nh)
{
	struct pb6_spec s = { .proto = IPPROTO_TCP, .sport = sp, .dport = dp, .tcp_flags = fl,
			      .seq = seq, .ack = ack, .ext = ext, .ext_len = ext_len,
			      .ext_nh = ext_nh };

	memcpy(s.src, src, 16);
	memcpy(s.dst, dst, 16);
	return pb6_build(f, &s);
}

static unsigned int
udp(uint8_t *f, const uint8_t *src, const uint8_t *dst, uint16_t sp, uint16_t dp)
{
	static const char data[] = "hello";
	struct pb6_spec s = { .proto = IPPROTO_UDP, .sport = sp, .dport = dp,
			      .payload = data, .payload_len = 5 };

	memcpy(s.src, src, 16);
	memcpy(s.dst, dst, 16);
	return pb6_build(f, &s);
}

static unsigned int
echo(uint8_t *f, const uint8_t *src, const uint8_t *dst, uint8_t type, uint16_t id)
{
	struct pb6_spec s = { .proto = IPPROTO_ICMPV6, .icmp_type = type, .sport = id,
			      .icmp_seq = 1 };

	memcpy(s.src, src, 16);
	memcpy(s.dst, dst, 16);
	return pb6_build(f, &s);
}

/* ---- parser ---- */

static void
test_parse_tcp(void **st)
{
	uint8_t f[PB_MAX];
	unsigned int n = tcp(f, HOST, SRV, 40000, 80, PB_SYN, 1000, 0, NULL, 0, 0);
	struct ct_addr6 a;
	struct ct_pkt p;

	(void)st;
	assert_true(pb6_csum_ok(f, n));
	assert_int_equal(parse(f, n, &p, &a), CT_R_NONE);
	assert_int_equal(p.tuple.family, CT_FAMILY_IPV6);
	assert_int_equal(p.tuple.proto, IPPROTO_TCP);
	assert_int_equal(ntohs(p.tuple.sport), 40000);
	assert_int_equal(ntohs(p.tuple.dport), 80);
	assert_int_equal(p.l4_off, L3 + 40);
	assert_int_equal(p.ip_len, 40 + 20);
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.tcp_flags, PB_SYN);
	assert_false(p.is_fragment);
	assert_memory_equal(a.src, HOST, 16);
	assert_memory_equal(a.dst, SRV, 16);
	assert_true(ct_l4_csum_valid(&p, f));
	f[n - 1] ^= 0x40;	/* the checksum field's low byte */
	assert_false(ct_l4_csum_valid(&p, f));
}

static void
test_parse_ext_headers(void **st)
{
	/* hop-by-hop (8, PadN) then destination options (8) then TCP */
	uint8_t ext[16] = { 60, 0, 1, 4, 0, 0, 0, 0, IPPROTO_TCP, 0, 1, 4, 0, 0, 0, 0 };
	uint8_t f[PB_MAX];
	unsigned int n = tcp(f, HOST, SRV, 40000, 443, PB_SYN, 1, 0, ext, 16, 0);
	struct ct_addr6 a;
	struct ct_pkt p;

	(void)st;
	assert_true(pb6_csum_ok(f, n));
	assert_int_equal(parse(f, n, &p, &a), CT_R_NONE);
	assert_int_equal(p.tuple.proto, IPPROTO_TCP);
	assert_int_equal(p.l4_off, L3 + 40 + 16);
	assert_int_equal(ntohs(p.tuple.dport), 443);
	assert_true(ct_l4_csum_valid(&p, f));
	/* hop-by-hop anywhere but first is malformed (RFC 8200 4.1) */
	ext[0] = 0;
	n = tcp(f, HOST, SRV, 40000, 443, PB_SYN, 1, 0, ext, 16, 60);
	assert_int_equal(parse(f, n, &p, &a), CT_R_IP6_EXT_BAD);
}

static void
test_parse_ext_bound(void **st)
{
	uint8_t ext[8 * 9], f[PB_MAX];
	struct ct_addr6 a;
	struct ct_pkt p;
	unsigned int i, n;

	(void)st;
	for (i = 0; i < 9; i++) {
		memset(ext + 8 * i, 0, 8);
		ext[8 * i] = 60;	/* another destination options header */
		ext[8 * i + 2] = 1;
		ext[8 * i + 3] = 4;
	}
	/* CT_IP6_EXT_MAX (8) headers: walked */
	ext[8 * (CT_IP6_EXT_MAX - 1)] = IPPROTO_UDP;
	{
		struct pb6_spec s = { .proto = IPPROTO_UDP, .sport = 1, .dport = 2, .ext = ext,
				      .ext_len = 8 * CT_IP6_EXT_MAX, .ext_nh = 60 };

		memcpy(s.src, HOST, 16);
		memcpy(s.dst, SRV, 16);
		n = pb6_build(f, &s);
		assert_int_equal(parse(f, n, &p, &a), CT_R_NONE);
		assert_int_equal(p.tuple.proto, IPPROTO_UDP);
		/* one more: past the bound */
		ext[8 * (CT_IP6_EXT_MAX - 1)] = 60;
		ext[8 * CT_IP6_EXT_MAX] = IPPROTO_UDP;
		s.ext_len = 8 * (CT_IP6_EXT_MAX + 1);
		n = pb6_build(f, &s);
		assert_int_equal(parse(f, n, &p, &a), CT_R_IP6_EXT_LIMIT);
	}
}

static void
test_parse_routing_and_truncation(void **st)
{
	/* routing header type 4 (SRH-like), segments left 1, then TCP */
	uint8_t ext[8] = { IPPROTO_TCP, 0, 4, 1, 0, 0, 0, 0 };
	uint8_t f[PB_MAX];
	unsigned int n = tcp(f, HOST, SRV, 1, 2, PB_SYN, 1, 0, ext, 8, 43);
	struct ct_addr6 a;
	struct ct_pkt p;

	(void)st;
	assert_int_equal(parse(f, n, &p, &a), CT_R_IP6_SRCROUTE);
	ext[3] = 0;	/* segments left 0: just a header to skip */
	n = tcp(f, HOST, SRV, 1, 2, PB_SYN, 1, 0, ext, 8, 43);
	assert_int_equal(parse(f, n, &p, &a), CT_R_NONE);
	/* an extension header longer than the payload */
	ext[1] = 3;
	n = tcp(f, HOST, SRV, 1, 2, PB_SYN, 1, 0, ext, 8, 43);
	assert_int_equal(parse(f, n, &p, &a), CT_R_IP6_EXT_BAD);
	/* fixed header cut, payload length past the frame, IPv4 version */
	n = tcp(f, HOST, SRV, 1, 2, PB_SYN, 1, 0, NULL, 0, 0);
	assert_int_equal(parse(f, L3 + 39, &p, &a), CT_R_IP6_TRUNCATED);
	assert_int_equal(parse(f, n - 1, &p, &a), CT_R_IP6_TRUNCATED);
	f[L3] = 0x45;
	assert_int_equal(parse(f, n, &p, &a), CT_R_L3_BAD_VERSION);
	/* TCP data offset past the segment */
	n = tcp(f, HOST, SRV, 1, 2, PB_SYN, 1, 0, NULL, 0, 0);
	f[L3 + 40 + 12] = 0xf0;
	assert_int_equal(parse(f, n, &p, &a), CT_R_TCP_BAD_DOFF);
	/* Ethernet padding after the datagram is not part of it */
	n = tcp(f, HOST, SRV, 1, 2, PB_SYN, 1, 0, NULL, 0, 0);
	assert_int_equal(parse(f, n + 6, &p, &a), CT_R_NONE);
	assert_int_equal(p.ip_len, 60);
}

static void
test_parse_fragments(void **st)
{
	uint8_t ext[8] = { IPPROTO_UDP, 0, 0, 1, 0, 0, 0x12, 0x34 };	/* offset 0, M */
	uint8_t f[PB_MAX];
	struct pb6_spec s = { .proto = IPPROTO_UDP, .sport = 5000, .dport = 53, .ext = ext,
			      .ext_len = 8, .ext_nh = 44 };
	struct ct_addr6 a;
	struct ct_pkt p;
	unsigned int n;

	(void)st;
	memcpy(s.src, HOST, 16);
	memcpy(s.dst, SRV, 16);
	n = pb6_build(f, &s);
	assert_int_equal(parse(f, n, &p, &a), CT_R_NONE);
	assert_true(p.is_fragment);
	assert_int_equal(p.frag6_off, L3 + 40);
	assert_int_equal(ntohs(p.tuple.dport), 53);
	assert_true(ct_l4_csum_valid(&p, f));	/* spans fragments not here */
	ext[2] = 0;
	ext[3] = 0x10;	/* offset 2 (16 bytes), no M: a non-first fragment */
	n = pb6_build(f, &s);
	assert_int_equal(parse(f, n, &p, &a), CT_R_FRAGMENT);
	assert_true(p.is_fragment);
	assert_int_equal(p.tuple.sport, 0);
	ext[3] = 0;	/* atomic fragment (RFC 6946): an ordinary packet */
	n = pb6_build(f, &s);
	assert_int_equal(parse(f, n, &p, &a), CT_R_NONE);
	assert_false(p.is_fragment);
}

static void
test_parse_icmp6_error(void **st)
{
	uint8_t o[PB_MAX], f[PB_MAX];
	unsigned int on = udp(o, HOST, SRV, 5000, 9999), n;
	struct ct_addr6 a;
	struct ct_pkt p;

	(void)st;
	/* port unreachable from the server back to the host */
	n = pb6_build_icmp_error(f, SRV, HOST, 1, 4, 0, o, on, 0);
	assert_true(pb6_csum_ok(f, n));
	assert_int_equal(parse(f, n, &p, &a), CT_R_NONE);
	assert_true(p.is_icmp_error);
	assert_int_equal(p.tuple.proto, IPPROTO_UDP);
	assert_int_equal(ntohs(p.tuple.sport), 9999);	/* inverted */
	assert_int_equal(ntohs(p.tuple.dport), 5000);
	assert_memory_equal(a.src, SRV, 16);
	assert_memory_equal(a.dst, HOST, 16);
	assert_int_equal(p.inner_l3_off, L3 + 48);
	/* packet too big from a router on the way: same tuple */
	n = pb6_build_icmp_error(f, RTR, HOST, 2, 0, 1280, o, on, 0);
	assert_int_equal(parse(f, n, &p, &a), CT_R_NONE);
	assert_int_equal(p.icmp_type, 2);
	/* bad checksum */
	f[L3 + 40 + 2] ^= 1;
	assert_int_equal(parse(f, n, &p, &a), CT_R_ICMP_BAD_CSUM);
	/* sent to someone else than the quoted source */
	n = pb6_build_icmp_error(f, SRV, OTHER, 1, 4, 0, o, on, 0);
	assert_int_equal(parse(f, n, &p, &a), CT_R_ICMP_ERROR_BAD_DST);
	/* quote too short for the upper-layer ports */
	n = pb6_build_icmp_error(f, SRV, HOST, 1, 4, 0, o, on, 44);
	assert_int_equal(parse(f, n, &p, &a), CT_R_ICMP_INNER_BAD);
	/* an error about an error */
	on = pb6_build_icmp_error(o, HOST, SRV, 1, 4, 0, f, n, 0);
	n = pb6_build_icmp_error(f, SRV, HOST, 1, 4, 0, o, on, 0);
	assert_int_equal(parse(f, n, &p, &a), CT_R_ICMP_ERROR_UNSUPPORTED);
	/* an echo request quoted: identifier as ports */
	on = echo(o, HOST, SRV, 128, 0x77);
	n = pb6_build_icmp_error(f, RTR, HOST, 3, 0, 0, o, on, 0);
	assert_int_equal(parse(f, n, &p, &a), CT_R_NONE);
	assert_int_equal(p.tuple.proto, IPPROTO_ICMPV6);
	assert_int_equal(ntohs(p.tuple.sport), 0x77);
}

static void
test_udp_csum(void **st)
{
	uint8_t f[PB_MAX];
	unsigned int n = udp(f, HOST, SRV, 1, 2);
	struct ct_addr6 a;
	struct ct_pkt p;

	(void)st;
	assert_int_equal(parse(f, n, &p, &a), CT_R_NONE);
	assert_true(ct_l4_csum_valid(&p, f));
	f[n - 1] ^= 1;
	assert_false(ct_l4_csum_valid(&p, f));
	f[L3 + 40 + 6] = f[L3 + 40 + 7] = 0;	/* RFC 8200 8.1: zero is not allowed */
	assert_false(ct_l4_csum_valid(&p, f));
}

/* ---- table ---- */

static struct ct_table *
table(void)
{
	struct ct_params prm = { .capacity = 64, .use_heap = true, .name = "t6" };
	struct ct_table *t = ct_table_create(&prm);

	assert_non_null(t);
	assert_int_equal(ct_table_enable_ipv6(t), 0);
	return t;
}

/* parse + lookup6 + (create6 when asked) + update */
static enum ct_state
run(struct ct_table *t, const uint8_t *f, unsigned int n, bool create, ct_time_t now,
    enum ct_reason *why)
{
	struct ct_addr6 a;
	struct ct_pkt p;

	*why = CT_R_NONE;
	assert_int_equal(parse(f, n, &p, &a), CT_R_NONE);
	if (ct_lookup6(t, &p, &a, now) == NULL) {
		if (!create)
			return CT_UNTRACKED;
		*why = ct_new_ok(t, &p);
		if (*why != CT_R_NONE)
			return CT_INVALID;
		if (ct_create6(t, &p, &a, now, why) == NULL)
			return CT_INVALID;
		p.dir = CT_DIR_ORIG;
	}
	return ct_update(t, &p, f, now, why);
}

static void
test_table_tcp(void **st)
{
	struct ct_table *t = table();
	uint8_t f[PB_MAX];
	enum ct_reason why;
	unsigned int n;

	(void)st;
	n = tcp(f, HOST, SRV, 40000, 80, PB_SYN, 1000, 0, NULL, 0, 0);
	assert_int_equal(run(t, f, n, true, 1, &why), CT_NEW);
	n = tcp(f, SRV, HOST, 80, 40000, PB_SYN | PB_ACK, 5000, 1001, NULL, 0, 0);
	assert_int_equal(run(t, f, n, false, 2, &why), CT_ESTABLISHED);
	n = tcp(f, HOST, SRV, 40000, 80, PB_ACK, 1001, 5001, NULL, 0, 0);
	assert_int_equal(run(t, f, n, false, 3, &why), CT_ESTABLISHED);
	/* window tracking: far outside the window */
	n = tcp(f, SRV, HOST, 80, 40000, PB_ACK, 5001 + 0x40000000u, 1001, NULL, 0, 0);
	assert_int_equal(run(t, f, n, false, 4, &why), CT_INVALID);
	assert_int_equal(why, CT_R_TCP_OUT_OF_WINDOW);
	/* another host of the inside, same ports: another flow */
	n = tcp(f, SRV, OTHER, 80, 40000, PB_ACK, 5001, 1001, NULL, 0, 0);
	assert_int_equal(run(t, f, n, false, 5, &why), CT_UNTRACKED);
	/* inbound SYN: no connection (the gateway drops it) */
	n = tcp(f, SRV, HOST, 80, 40001, PB_SYN, 1, 0, NULL, 0, 0);
	assert_int_equal(run(t, f, n, false, 6, &why), CT_UNTRACKED);
	ct_table_free(t);
}

static void
test_table_udp_icmp(void **st)
{
	struct ct_table *t = table();
	uint8_t o[PB_MAX], f[PB_MAX];
	enum ct_reason why;
	unsigned int on, n;
	struct ct_conn_info ci;
	uint32_t cur = 0;
	struct ct_addr6 a;

	(void)st;
	on = udp(o, HOST, SRV, 5000, 53);
	assert_int_equal(run(t, o, on, true, 1, &why), CT_NEW);
	n = udp(f, SRV, HOST, 53, 5000);
	assert_int_equal(run(t, f, n, false, 2, &why), CT_ESTABLISHED);
	/* an ICMPv6 error quoting the flow is RELATED */
	n = pb6_build_icmp_error(f, RTR, HOST, 1, 0, 0, o, on, 0);
	assert_int_equal(run(t, f, n, false, 3, &why), CT_RELATED);
	/* ... one quoting another port is about nothing we know */
	on = udp(o, HOST, SRV, 5001, 53);
	n = pb6_build_icmp_error(f, RTR, HOST, 1, 0, 0, o, on, 0);
	assert_int_equal(run(t, f, n, false, 3, &why), CT_UNTRACKED);
	/* echo by identifier; an unsolicited reply may not create */
	n = echo(f, HOST, SRV, 128, 7);
	assert_int_equal(run(t, f, n, true, 4, &why), CT_NEW);
	n = echo(f, SRV, HOST, 129, 7);
	assert_int_equal(run(t, f, n, false, 5, &why), CT_ESTABLISHED);
	n = echo(f, SRV, HOST, 129, 8);
	assert_int_equal(run(t, f, n, true, 6, &why), CT_INVALID);
	assert_int_equal(why, CT_R_ICMP_BAD_TYPE);
	/* the control plane sees the exact addresses */
	assert_int_equal(ct_snapshot(t, &cur, &ci, 1, 7), 1);
	assert_int_equal(ci.tuple[0].family, CT_FAMILY_IPV6);
	assert_true(ct_conn_addr6(t, ct_conn_by_id(t, ci.id), CT_DIR_REPLY, &a));
	assert_memory_equal(a.src, SRV, 16);
	assert_memory_equal(a.dst, HOST, 16);
	ct_table_free(t);
}

/*
 * Two flows whose folded keys are equal but whose addresses differ: with the fold keys set
 * to 0 the fold of an address is the 64x64 product of its halves folded, so swapping the
 * halves gives a second address with the same fold. The second flow must not find the
 * first one's connection (the exact compare), and is refused rather than aliased.
 */
static void
test_fold_collision(void **st)
{
	struct ct_table *t = table();
	uint8_t a1[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
	uint8_t a2[16];
	uint8_t f[PB_MAX];
	struct ct_addr6 a;
	struct ct_pkt p, q;
	enum ct_reason why;
	unsigned int n;

	(void)st;
	t->fold6_key[0] = t->fold6_key[1] = 0;
	memcpy(a2, a1 + 8, 8);
	memcpy(a2 + 8, a1, 8);
	n = udp(f, a1, SRV, 5000, 53);
	assert_int_equal(parse(f, n, &p, &a), CT_R_NONE);
	assert_null(ct_lookup6(t, &p, &a, 1));
	assert_non_null(ct_create6(t, &p, &a, 1, &why));
	n = udp(f, a2, SRV, 5000, 53);
	assert_int_equal(parse(f, n, &q, &a), CT_R_NONE);
	assert_null(ct_lookup6(t, &q, &a, 2));
	assert_int_equal(q.tuple.src, p.tuple.src);	/* the folds did collide */
	assert_null(ct_create6(t, &q, &a, 2, &why));
	assert_int_equal(why, CT_R_HASH_FULL);
	/* and the first flow is still found */
	n = udp(f, a1, SRV, 5000, 53);
	assert_int_equal(parse(f, n, &p, &a), CT_R_NONE);
	assert_non_null(ct_lookup6(t, &p, &a, 3));
	ct_table_free(t);
}

/* IPv6 keys never meet IPv4 ones and a table without IPv6 refuses them */
static void
test_no_ipv6_table(void **st)
{
	struct ct_params prm = { .capacity = 8, .use_heap = true, .name = "t4" };
	struct ct_table *t = ct_table_create(&prm);
	uint8_t f[PB_MAX];
	unsigned int n = udp(f, HOST, SRV, 1, 2);
	struct ct_addr6 a;
	struct ct_pkt p;
	enum ct_reason why;

	(void)st;
	assert_non_null(t);
	assert_int_equal(parse(f, n, &p, &a), CT_R_NONE);
	assert_null(ct_lookup6(t, &p, &a, 1));
	assert_null(ct_create6(t, &p, &a, 1, &why));
	assert_int_equal(why, CT_R_HASH_FULL);
	ct_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_tcp),
		cmocka_unit_test(test_parse_ext_headers),
		cmocka_unit_test(test_parse_ext_bound),
		cmocka_unit_test(test_parse_routing_and_truncation),
		cmocka_unit_test(test_parse_fragments),
		cmocka_unit_test(test_parse_icmp6_error),
		cmocka_unit_test(test_udp_csum),
		cmocka_unit_test(test_table_tcp),
		cmocka_unit_test(test_table_udp_icmp),
		cmocka_unit_test(test_fold_collision),
		cmocka_unit_test(test_no_ipv6_table),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
