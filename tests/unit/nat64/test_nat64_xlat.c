/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nat64_xlat.c - RFC 7915 translation on real packet bytes, both ways: TCP, UDP (and
 * its zero checksum), ICMP echo, ICMP errors with the quoted packet (unreachable codes,
 * Packet Too Big <-> fragmentation needed with the MTU adjusted, time exceeded, parameter
 * problem pointers), the fragment header <-> IPv4 fragment fields, the DF rule around 1260
 * bytes, traffic class / TOS and hop limit / TTL, and what is refused. The test builds
 * its packets and checks every checksum of every result itself, from scratch (its own
 * one's complement code, not the library's).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "nat64.h"

#define DIM(a) (sizeof(a) / sizeof((a)[0]))

static uint8_t H6[16], R6[16], RTR6[16];	/* host, 64:ff9b::198.51.100.5, ::203.0.113.99 */
static uint32_t H4, R4, RTR4;			/* shadow 100.64.0.7, remote, an IPv4 router */

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t g32(const uint8_t *p) { return (uint32_t)g16(p) << 16 | g16(p + 2); }
static void p16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* RFC 1071, plainly */
static uint16_t
sum16(const uint8_t *d, unsigned int n, unsigned long s)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		s += (i & 1) ? d[i] : (unsigned long)d[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static unsigned long
ps6(const uint8_t *ip6, unsigned int len, uint8_t nh)
{
	return (unsigned long)sum16(ip6 + 8, 32, 0) + len + nh;
}

static unsigned long
ps4(const uint8_t *ip4, unsigned int len, uint8_t proto)
{
	return (unsigned long)sum16(ip4 + 12, 8, 0) + len + proto;
}

static struct xlat_map
map(void)
{
	struct xlat_map m = { .host4 = 0 };
	uint8_t wkp[16] = { 0, 0x64, 0xff, 0x9b };

	assert_int_equal(nat64_prefix_set(&m.pfx, wkp, 96), 0);
	memcpy(m.host6, H6, 16);
	m.host4 = H4;
	m.mtu4 = 1500;
	m.mtu6 = 1500;
	m.ip_id = 0x4242;
	return m;
}

/* ---- builders: checksum fields filled by the test's own code ---- */

/* IPv6 header + l4 (l4len bytes, checksum at csum_at or -1; ICMPv6/TCP/UDP) */
static unsigned int
v6(uint8_t *b, const uint8_t *src, const uint8_t *dst, uint8_t nh, uint8_t hop, uint8_t tc,
   const uint8_t *l4, unsigned int l4len)
{
	int at = nh == 6 ? 16 : nh == 17 ? 6 : nh == 58 ? 2 : -1;

	memset(b, 0, 40);
	b[0] = (uint8_t)(0x60 | tc >> 4);
	b[1] = (uint8_t)(tc << 4);
	p16(b + 4, l4len);
	b[6] = nh;
	b[7] = hop;
	memcpy(b + 8, src, 16);
	memcpy(b + 24, dst, 16);
	memcpy(b + 40, l4, l4len);
	if (at >= 0) {
		p16(b + 40 + at, 0);
		p16(b + 40 + at, (uint16_t)~sum16(b + 40, l4len, ps6(b, l4len, nh)));
	}
	return 40 + l4len;
}

static unsigned int
v4(uint8_t *b, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos,
   uint16_t id, uint16_t frag, const uint8_t *l4, unsigned int l4len, bool l4csum)
{
	int at = proto == 6 ? 16 : proto == 17 ? 6 : proto == 1 ? 2 : -1;

	memset(b, 0, 20);
	b[0] = 0x45;
	b[1] = tos;
	p16(b + 2, 20 + l4len);
	p16(b + 4, id);
	p16(b + 6, frag);
	b[8] = ttl;
	b[9] = proto;
	memcpy(b + 12, &src, 4);
	memcpy(b + 16, &dst, 4);
	p16(b + 10, (uint16_t)~sum16(b, 20, 0));
	memcpy(b + 20, l4, l4len);
	if (at >= 0 && l4csum) {
		p16(b + 20 + at, 0);
		p16(b + 20 + at, (uint16_t)~sum16(b + 20, l4len,
						  proto == 1 ? 0 : ps4(b, l4len, proto)));
	}
	return 20 + l4len;
}

static unsigned int
tcp(uint8_t *l4, uint16_t sp, uint16_t dp, uint8_t flags, unsigned int payload)
{
	unsigned int i;

	memset(l4, 0, 20);
	p16(l4, sp);
	p16(l4 + 2, dp);
	p16(l4 + 4, 0x1234);
	l4[12] = 0x50;
	l4[13] = flags;
	p16(l4 + 14, 65535);
	for (i = 0; i < payload; i++)
		l4[20 + i] = (uint8_t)(i * 7 + 3);
	return 20 + payload;
}

static unsigned int
udp(uint8_t *l4, uint16_t sp, uint16_t dp, unsigned int payload)
{
	unsigned int i;

	p16(l4, sp);
	p16(l4 + 2, dp);
	p16(l4 + 4, 8 + payload);
	p16(l4 + 6, 0);
	for (i = 0; i < payload; i++)
		l4[8 + i] = (uint8_t)(i ^ 0x5a);
	return 8 + payload;
}

static unsigned int
echo(uint8_t *l4, uint8_t type, uint16_t id, uint16_t seq, unsigned int payload)
{
	unsigned int i;

	l4[0] = type;
	l4[1] = 0;
	p16(l4 + 2, 0);
	p16(l4 + 4, id);
	p16(l4 + 6, seq);
	for (i = 0; i < payload; i++)
		l4[8 + i] = (uint8_t)i;
	return 8 + payload;
}

/* ---- from-scratch checks ---- */

/* every checksum of an IPv4 packet (and of a fully quoted packet in an ICMP error) */
static void
check4(const uint8_t *b, unsigned int len)
{
	unsigned int l4len = g16(b + 2) - 20u;
	const uint8_t *l4 = b + 20;

	assert_int_equal(g16(b + 2), len);
	assert_int_equal(b[0], 0x45);
	assert_int_equal(sum16(b, 20, 0), 0xffff);
	if (g16(b + 6) & 0x3fff)
		return;		/* a fragment */
	if (b[9] == 6 || b[9] == 17) {
		if (!(b[9] == 17 && g16(l4 + 6) == 0))
			assert_int_equal(sum16(l4, l4len, ps4(b, l4len, b[9])), 0xffff);
	} else if (b[9] == 1) {
		assert_int_equal(sum16(l4, l4len, 0), 0xffff);
		if ((l4[0] == 3 || l4[0] == 11 || l4[0] == 12) &&
		    g16(l4 + 8 + 2) == l4len - 8)
			check4(l4 + 8, l4len - 8);	/* whole quote: all its checksums */
		else if (l4[0] == 3 || l4[0] == 11 || l4[0] == 12)
			assert_int_equal(sum16(l4 + 8, 20, 0), 0xffff);
	}
}

/* every checksum of an IPv6 packet (no extension headers but a fragment header) */
static void
check6(const uint8_t *b, unsigned int len)
{
	unsigned int off = 40, l4len;
	uint8_t nh = b[6];
	const uint8_t *l4;

	assert_int_equal(b[0] >> 4, 6);
	assert_int_equal(40u + g16(b + 4), len);
	if (nh == 44) {
		nh = b[40];
		off = 48;
		if (g16(b + 42) & 0xfff9)
			return;		/* a fragment past the first, or more to come */
	}
	l4 = b + off;
	l4len = len - off;
	if (nh == 6 || nh == 17 || nh == 58)
		assert_int_equal(sum16(l4, l4len, ps6(b, l4len, nh)), 0xffff);
	if (nh == 58 && l4[0] < 128 && 40u + g16(l4 + 8 + 4) == l4len - 8)
		check6(l4 + 8, l4len - 8);
}

static int
to4(const uint8_t *in, unsigned int len, uint8_t *out, struct xlat_info *inf,
    enum xlat_reason *why)
{
	struct xlat_map m = map();

	return xlat_6to4(&m, in, len, out, 9000, inf, why);
}

static int
to6(const uint8_t *in, unsigned int len, uint8_t *out, struct xlat_info *inf,
    enum xlat_reason *why)
{
	struct xlat_map m = map();

	return xlat_4to6(&m, in, len, out, 9000, inf, why);
}

/* ---- TCP, UDP, echo both ways ---- */

static void
test_tcp_udp_both_ways(void **state)
{
	uint8_t l4[2000], in[2100], out[9000], back[9000];
	struct xlat_info inf;
	enum xlat_reason why = XLAT_R_NONE;
	unsigned int n, pl[] = { 0, 1, 33, 1000 }, i, k;
	int r;

	(void)state;
	for (k = 0; k < 2; k++) {
		for (i = 0; i < DIM(pl); i++) {
			uint8_t proto = k == 0 ? 6 : 17;

			n = proto == 6 ? tcp(l4, 40000 + i, 80, 0x02, pl[i]) :
					 udp(l4, 40000 + i, 53, pl[i]);
			n = v6(in, H6, R6, proto, 64, 0xb8, l4, n);
			r = to4(in, n, out, &inf, &why);
			assert_int_equal(r, (int)n - 20);
			check4(out, (unsigned int)r);
			assert_int_equal(out[1], 0xb8);		/* TOS = traffic class */
			assert_int_equal(out[8], 64);		/* TTL = hop limit */
			assert_int_equal(out[9], proto);
			assert_memory_equal(out + 12, &H4, 4);
			assert_memory_equal(out + 16, &R4, 4);
			assert_memory_equal(out + 20, in + 40, 4);	/* ports */
			assert_int_equal(inf.proto, proto);
			assert_false(inf.icmp_error);
			/* <= 1260 bytes: DF 0 with our identification (RFC 7915 5.1) */
			assert_int_equal(g16(out + 6), 0);
			assert_int_equal(g16(out + 4), 0x4242);

			/* the reply, IPv4 -> IPv6 */
			n = proto == 6 ? tcp(l4, 80, 40000 + i, 0x12, pl[i]) :
					 udp(l4, 53, 40000 + i, pl[i]);
			n = v4(in, R4, H4, proto, 50, 0x28, 7, 0x4000, l4, n, true);
			r = to6(in, n, back, &inf, &why);
			assert_int_equal(r, (int)n + 20);
			check6(back, (unsigned int)r);
			assert_int_equal(back[0] & 0x0f, 0x2);	/* traffic class 0x28 */
			assert_int_equal(back[1] >> 4, 0x8);
			assert_int_equal(back[6], proto);
			assert_int_equal(back[7], 50);
			assert_memory_equal(back + 8, R6, 16);
			assert_memory_equal(back + 24, H6, 16);
		}
	}
}

static void
test_udp_zero_csum(void **state)
{
	uint8_t l4[100], in[200], out[9000];
	struct xlat_info inf;
	enum xlat_reason why = XLAT_R_NONE;
	unsigned int n;
	int r;

	(void)state;
	/* IPv4 without checksum: IPv6 needs one, computed over the datagram (4.5) */
	n = udp(l4, 53, 40000, 21);
	n = v4(in, R4, H4, 17, 50, 0, 7, 0, l4, n, false);
	assert_int_equal(g16(in + 26), 0);
	r = to6(in, n, out, &inf, &why);
	assert_int_equal(r, (int)n + 20);
	assert_int_not_equal(g16(out + 46), 0);
	check6(out, (unsigned int)r);
	/* a fragment of such a datagram cannot get one: refused */
	n = v4(in, R4, H4, 17, 50, 0, 7, 0x2000, l4, 16, false);
	assert_int_equal(to6(in, n, out, &inf, &why), -1);
	assert_int_equal(why, XLAT_R_UDP_ZERO_CSUM);
	/* IPv6 UDP with checksum 0 is invalid (RFC 8200 8.1): refused */
	n = udp(l4, 40000, 53, 10);
	n = v6(in, H6, R6, 17, 64, 0, l4, n);
	p16(in + 46, 0);
	assert_int_equal(to4(in, n, out, &inf, &why), -1);
	assert_int_equal(why, XLAT_R_UDP_ZERO_CSUM);
}

static void
test_echo_both_ways(void **state)
{
	uint8_t l4[100], in[200], out[9000];
	struct xlat_info inf;
	enum xlat_reason why = XLAT_R_NONE;
	unsigned int n;
	int r;

	(void)state;
	n = echo(l4, 128, 0x77, 3, 56);
	n = v6(in, H6, R6, 58, 64, 0, l4, n);
	r = to4(in, n, out, &inf, &why);
	assert_int_equal(r, (int)n - 20);
	check4(out, (unsigned int)r);
	assert_int_equal(out[9], 1);
	assert_int_equal(out[20], 8);
	assert_int_equal(g16(out + 24), 0x77);
	assert_int_equal(g16(out + 26), 3);
	assert_memory_equal(out + 28, in + 48, 56);

	n = echo(l4, 0, 0x77, 3, 56);
	n = v4(in, R4, H4, 1, 55, 0, 9, 0, l4, n, true);
	r = to6(in, n, out, &inf, &why);
	assert_int_equal(r, (int)n + 20);
	check6(out, (unsigned int)r);
	assert_int_equal(out[6], 58);
	assert_int_equal(out[40], 129);
	assert_int_equal(g16(out + 44), 0x77);

	/* a wrong checksum is refused, not made right by the recomputation */
	in[30] ^= 1;
	assert_int_equal(to6(in, n, out, &inf, &why), -1);
	assert_int_equal(why, XLAT_R_CSUM);
	/* informational types with no counterpart: refused */
	n = echo(l4, 13, 1, 1, 12);	/* timestamp */
	n = v4(in, R4, H4, 1, 55, 0, 9, 0, l4, n, true);
	assert_int_equal(to6(in, n, out, &inf, &why), -1);
	assert_int_equal(why, XLAT_R_ICMP_TYPE);
}

/* ---- the DF rule and fragments ---- */

static void
test_df_rule_and_fragments(void **state)
{
	uint8_t l4[1600], in[1700], out[9000], fh[1600];
	struct xlat_info inf;
	enum xlat_reason why = XLAT_R_NONE;
	unsigned int n;
	int r;

	(void)state;
	/* 1261 bytes as IPv4: DF 1, identification 0 */
	n = udp(l4, 40000, 53, 1261 - 28);
	n = v6(in, H6, R6, 17, 64, 0, l4, n);
	r = to4(in, n, out, &inf, &why);
	assert_int_equal(r, 1261);
	assert_int_equal(g16(out + 6), 0x4000);
	assert_int_equal(g16(out + 4), 0);
	check4(out, (unsigned int)r);
	/* 1260: DF 0 */
	n = udp(l4, 40000, 53, 1260 - 28);
	n = v6(in, H6, R6, 17, 64, 0, l4, n);
	r = to4(in, n, out, &inf, &why);
	assert_int_equal(g16(out + 6), 0);

	/* an IPv6 first fragment (id 0x11223344, M) -> IPv4 id 0x3344, MF, offset 0 */
	n = udp(l4, 40000, 53, 100);
	memset(fh, 0, 8);
	fh[0] = 17;
	p16(fh + 2, 0 | 1);
	fh[4] = 0x11, fh[5] = 0x22, fh[6] = 0x33, fh[7] = 0x44;
	memcpy(fh + 8, l4, 48);	/* first 48 bytes of the datagram */
	/* the UDP checksum covers the whole datagram: computed on it, before cutting */
	{
		uint8_t whole[200];

		v6(whole, H6, R6, 17, 64, 0, l4, n);
		memcpy(fh + 8, whole + 40, 48);
	}
	n = v6(in, H6, R6, 44, 64, 0, fh, 8 + 48);
	r = to4(in, n, out, &inf, &why);
	assert_int_equal(r, 20 + 48);
	assert_true(inf.fragment);
	assert_int_equal(g16(out + 4), 0x3344);
	assert_int_equal(g16(out + 6), 0x2000);
	assert_int_equal(out[9], 17);
	assert_int_equal(sum16(out, 20, 0), 0xffff);
	{
		uint8_t dg[200], hdr[20];

		memcpy(dg, out + 20, 48);
		memcpy(hdr, out, 20);
		/* the second fragment (offset 48) */
		p16(fh + 2, 48);
		memcpy(fh + 8, l4 + 48, n = 108 - 48);
		n = v6(in, H6, R6, 44, 64, 0, fh, 8 + n);
		r = to4(in, n, out, &inf, &why);
		assert_int_equal(r, 20 + 60);
		assert_int_equal(g16(out + 6), 48 / 8);
		assert_int_equal(g16(out + 4), 0x3344);
		assert_int_equal(sum16(out, 20, 0), 0xffff);
		/* reassembled as IPv4, the adjusted UDP checksum is right */
		memcpy(dg + 48, out + 20, 60);
		assert_int_equal(sum16(dg, 108, ps4(hdr, 108, 17)), 0xffff);
	}

	/* IPv4 fragment (MF, offset 0, id 0xbeef) -> IPv6 with a fragment header; its UDP
	 * checksum (over the whole datagram, not here) is adjusted, not recomputed */
	p16(l4 + 6, 0x1357);
	n = v4(in, R4, H4, 17, 50, 0, 0xbeef, 0x2000, l4, 48, false);
	r = to6(in, n, out, &inf, &why);
	assert_int_equal(r, 48 + 48);
	assert_int_equal(out[6], 44);
	assert_int_equal(out[40], 17);
	assert_int_equal(g16(out + 42), 1);		/* offset 0, M */
	assert_int_equal(g32(out + 44), 0xbeef);
	n = v4(in, R4, H4, 17, 50, 0, 0xbeef, 6, l4, 60, false);	/* offset 48, last */
	r = to6(in, n, out, &inf, &why);
	assert_int_equal(g16(out + 42), 48);
	assert_memory_equal(out + 48, l4, 60);		/* payload untouched */
}

/* ---- ICMP errors, both ways, with their quote ---- */

/* an ICMPv4 error from `from` to the host quoting the host's UDP datagram (as translated
 * to IPv4: shadow -> R4), ttl of the quote `qttl` */
static unsigned int
err4(uint8_t *b, uint32_t from, uint8_t type, uint8_t code, uint32_t rest, unsigned int pl,
     uint8_t **q)
{
	uint8_t l4[1600], dg[1600], icmp[1700];
	unsigned int n;

	n = udp(l4, 40000, 53, pl);
	n = v4(dg, H4, R4, 17, 1, 0, 0, 0x4000, l4, n, true);
	icmp[0] = type;
	icmp[1] = code;
	p16(icmp + 2, 0);
	p16(icmp + 4, rest >> 16);
	p16(icmp + 6, rest);
	memcpy(icmp + 8, dg, n);
	n = v4(b, from, H4, 1, 60, 0, 1, 0, icmp, 8 + n, true);
	*q = b + 28;
	return n;
}

static void
test_icmp4_errors_to_6(void **state)
{
	static const struct {
		uint8_t type, code;
		uint32_t rest;
		uint8_t t6, c6;
		uint32_t rest6;
	} v[] = {
		{ 3, 0, 0, 1, 0, 0 },		/* net unreachable -> no route */
		{ 3, 1, 0, 1, 0, 0 },
		{ 3, 3, 0, 1, 4, 0 },		/* port unreachable */
		{ 3, 2, 0, 4, 1, 6 },		/* protocol unreachable -> pointer 6 */
		{ 3, 9, 0, 1, 1, 0 },		/* admin prohibited */
		{ 3, 13, 0, 1, 1, 0 },
		{ 3, 4, 1400, 2, 0, 1420 },	/* frag needed -> PTB, MTU + 20 */
		{ 3, 4, 1200, 2, 0, 1280 },	/* below 1280: 1280 (RFC 8200 5) */
		{ 3, 4, 1490, 2, 0, 1500 },	/* capped by the IPv6 next hop (1500) */
		{ 11, 0, 0, 3, 0, 0 },		/* time exceeded */
		{ 11, 1, 0, 3, 1, 0 },
		{ 12, 0, 8u << 24, 4, 0, 7 },	/* TTL -> hop limit */
		{ 12, 0, 9u << 24, 4, 0, 6 },	/* protocol -> next header */
		{ 12, 0, 16u << 24, 4, 0, 24 },	/* destination */
		{ 12, 0, 2u << 24, 4, 0, 4 },	/* total length -> payload length */
	};
	uint8_t in[1700], out[9000], *q;
	struct xlat_info inf;
	enum xlat_reason why = XLAT_R_NONE;
	unsigned int i, n;
	int r;

	(void)state;
	for (i = 0; i < DIM(v); i++) {
		n = err4(in, RTR4, v[i].type, v[i].code, v[i].rest, 20, &q);
		r = to6(in, n, out, &inf, &why);
		assert_true(r > 0);
		assert_true(inf.icmp_error);
		check6(out, (unsigned int)r);		/* outer and the quoted UDP */
		assert_memory_equal(out + 8, RTR6, 16);	/* the router, embedded */
		assert_memory_equal(out + 24, H6, 16);
		assert_int_equal(out[40], v[i].t6);
		assert_int_equal(out[41], v[i].c6);
		assert_int_equal(g32(out + 44), v[i].rest6);
		/* the quote: the host's own packet as it sent it */
		assert_int_equal(out[48] >> 4, 6);
		assert_memory_equal(out + 48 + 8, H6, 16);
		assert_memory_equal(out + 48 + 24, R6, 16);
		assert_int_equal(out[48 + 6], 17);
		assert_int_equal(r, n + 40);
	}
	/* MTU 0 (pre-RFC 1191 router): plateau below the 1400-byte quoted packet, 1006 ->
	 * at least 1280 */
	n = err4(in, RTR4, 3, 4, 0, 1400 - 28, &q);
	r = to6(in, n, out, &inf, &why);
	assert_true(r > 0);
	assert_int_equal(g32(out + 44), 1280);
	/* a long quote is cut so the error fits 1280 bytes (RFC 4443 2.4 (c)) */
	assert_int_equal(r, 1280);
	assert_int_equal(sum16(out + 40, (unsigned int)r - 40, ps6(out, (unsigned int)r - 40, 58)),
			 0xffff);
	/* unmappable or untranslatable */
	n = err4(in, RTR4, 5, 1, 0, 20, &q);		/* redirect */
	assert_int_equal(to6(in, n, out, &inf, &why), -1);
	assert_int_equal(why, XLAT_R_ICMP_TYPE);
	n = err4(in, RTR4, 3, 14, 0, 20, &q);		/* precedence cutoff: dropped */
	assert_int_equal(to6(in, n, out, &inf, &why), -1);
	n = err4(in, RTR4, 12, 0, 4u << 24, 20, &q);	/* pointer at identification */
	assert_int_equal(to6(in, n, out, &inf, &why), -1);
	n = err4(in, RTR4, 3, 3, 0, 20, &q);
	memcpy(q + 12, &R4, 4);				/* quote not from the host */
	p16(in + 22, 0);
	p16(in + 22, (uint16_t)~sum16(in + 20, n - 20, 0));
	assert_int_equal(to6(in, n, out, &inf, &why), -1);
	assert_int_equal(why, XLAT_R_ICMP_INNER);
}

/* an ICMPv6 error from the host to the remote quoting a packet the host received */
static unsigned int
err6(uint8_t *b, uint8_t type, uint8_t code, uint32_t rest, bool echo_quote)
{
	uint8_t l4[200], dg[300], icmp[400];
	unsigned int n;

	n = echo_quote ? echo(l4, 129, 9, 9, 16) : tcp(l4, 80, 40000, 0x12, 10);
	n = v6(dg, R6, H6, echo_quote ? 58 : 6, 3, 0, l4, n);
	icmp[0] = type;
	icmp[1] = code;
	p16(icmp + 4, rest >> 16);
	p16(icmp + 6, rest);
	memcpy(icmp + 8, dg, n);
	return v6(b, H6, R6, 58, 64, 0, icmp, 8 + n);
}

static void
test_icmp6_errors_to_4(void **state)
{
	static const struct {
		uint8_t type, code;
		uint32_t rest;
		uint8_t t4, c4;
		uint32_t rest4;
	} v[] = {
		{ 1, 0, 0, 3, 1, 0 },		/* no route -> host unreachable */
		{ 1, 1, 0, 3, 10, 0 },		/* prohibited */
		{ 1, 3, 0, 3, 1, 0 },
		{ 1, 4, 0, 3, 3, 0 },		/* port unreachable */
		{ 2, 0, 1400, 3, 4, 1380 },	/* PTB -> frag needed, MTU - 20 */
		{ 2, 0, 9000, 3, 4, 1480 },	/* capped by the next hops */
		{ 3, 0, 0, 11, 0, 0 },
		{ 4, 0, 7, 12, 0, 8u << 24 },	/* hop limit -> TTL */
		{ 4, 0, 24, 12, 0, 16u << 24 },	/* destination */
		{ 4, 0, 4, 12, 0, 2u << 24 },
		{ 4, 1, 40, 3, 2, 0 },		/* unknown next header -> protocol unreachable */
	};
	uint8_t in[600], out[9000];
	struct xlat_info inf;
	enum xlat_reason why = XLAT_R_NONE;
	unsigned int i, n, k;
	int r;

	(void)state;
	for (k = 0; k < 2; k++) {
		for (i = 0; i < DIM(v); i++) {
			n = err6(in, v[i].type, v[i].code, v[i].rest, k == 1);
			r = to4(in, n, out, &inf, &why);
			assert_int_equal(r, (int)n - 40);
			assert_true(inf.icmp_error);
			check4(out, (unsigned int)r);	/* outer and the whole quote */
			assert_int_equal(out[20], v[i].t4);
			assert_int_equal(out[21], v[i].c4);
			assert_int_equal(g32(out + 24), v[i].rest4);
			assert_memory_equal(out + 28 + 12, &R4, 4);
			assert_memory_equal(out + 28 + 16, &H4, 4);
			assert_int_equal(out[28 + 9], k == 1 ? 1 : 6);
			if (k == 1)
				assert_int_equal(out[48], 0);	/* quoted echo reply, as v4 */
		}
	}
	n = err6(in, 4, 0, 2, false);		/* pointer at the flow label: none */
	assert_int_equal(to4(in, n, out, &inf, &why), -1);
	assert_int_equal(why, XLAT_R_ICMP_TYPE);
	n = err6(in, 1, 5, 0, false);		/* source address failed policy: none */
	assert_int_equal(to4(in, n, out, &inf, &why), -1);
	n = err6(in, 137, 0, 0, false);		/* redirect (ND) */
	assert_int_equal(to4(in, n, out, &inf, &why), -1);
	n = err6(in, 1, 4, 0, false);
	in[60] ^= 0x40;				/* corrupted: refused (checksum) */
	assert_int_equal(to4(in, n, out, &inf, &why), -1);
	assert_int_equal(why, XLAT_R_CSUM);
}

/* ---- refused ---- */

static void
test_refused(void **state)
{
	uint8_t l4[100], in[300], out[9000], rh[200];
	struct xlat_info inf;
	enum xlat_reason why = XLAT_R_NONE;
	unsigned int n;

	(void)state;
	n = tcp(l4, 1, 2, 0x02, 0);
	n = v6(in, R6, R6, 6, 64, 0, l4, n);	/* source not the host */
	assert_int_equal(to4(in, n, out, &inf, &why), -1);
	assert_int_equal(why, XLAT_R_ADDR_UNMAPPED);
	n = v6(in, H6, H6, 6, 64, 0, l4, 20);	/* destination not in the prefix */
	assert_int_equal(to4(in, n, out, &inf, &why), -1);
	assert_int_equal(why, XLAT_R_ADDR_UNMAPPED);
	n = v6(in, H6, R6, 6, 64, 0, l4, 20);
	assert_int_equal(to4(in, n - 1, out, &inf, &why), -1);	/* shorter than plen */
	assert_int_equal(why, XLAT_R_TRUNCATED);
	/* a routing header with segments left */
	memset(rh, 0, 24);
	rh[0] = 6;
	rh[1] = 2;
	rh[3] = 1;
	memcpy(rh + 24, l4, 20);
	n = v6(in, H6, R6, 43, 64, 0, rh, 44);
	assert_int_equal(to4(in, n, out, &inf, &why), -1);
	assert_int_equal(why, XLAT_R_EXT_HEADERS);
	/* with segments left 0 it is skipped, and the TCP checksum still right */
	rh[3] = 0;
	{
		uint8_t whole[100];

		v6(whole, H6, R6, 6, 64, 0, l4, 20);
		memcpy(rh + 24, whole + 40, 20);
	}
	n = v6(in, H6, R6, 43, 64, 0, rh, 44);
	assert_int_equal(to4(in, n, out, &inf, &why), 40);
	check4(out, 40);
	/* IPv4 packet to someone else than the host */
	n = v4(in, R4, R4, 6, 64, 0, 1, 0, l4, 20, true);
	assert_int_equal(to6(in, n, out, &inf, &why), -1);
	assert_int_equal(why, XLAT_R_ADDR_UNMAPPED);
	assert_string_equal(xlat_reason_id(XLAT_R_ADDR_UNMAPPED), "ADDR_UNMAPPED");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_udp_both_ways),
		cmocka_unit_test(test_udp_zero_csum),
		cmocka_unit_test(test_echo_both_ways),
		cmocka_unit_test(test_df_rule_and_fragments),
		cmocka_unit_test(test_icmp4_errors_to_6),
		cmocka_unit_test(test_icmp6_errors_to_4),
		cmocka_unit_test(test_refused),
	};

	inet_pton(AF_INET6, "2001:db8:1::10", H6);
	inet_pton(AF_INET6, "64:ff9b::198.51.100.5", R6);
	inet_pton(AF_INET6, "64:ff9b::203.0.113.99", RTR6);
	inet_pton(AF_INET, "100.64.0.7", &H4);
	inet_pton(AF_INET, "198.51.100.5", &R4);
	inet_pton(AF_INET, "203.0.113.99", &RTR4);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
