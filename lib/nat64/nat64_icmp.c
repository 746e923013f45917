/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat64_icmp.c - ICMPv6 <-> ICMPv4 translation (RFC 7915 sections 4.2 and 5.2): echo both
 * ways; the errors with their type/code tables, the MTU of Packet Too Big / fragmentation
 * needed adjusted for the 20 bytes between the headers, the parameter problem pointer
 * mapped (figures 3 and 6), and the quoted packet translated like a packet (4.3, 5.3),
 * its transport checksum adjusted as far as it is quoted. The ICMP checksum of what comes
 * in is verified first: it is recomputed on the way out, and a corrupted error must not
 * come out valid.
 */
#include "nat64_private.h"

/* RFC 1191 section 7 plateau table, for an IPv4 router that reports MTU 0 (4.2) */
static const uint16_t x_plateau[] = {
	65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68,
};

static uint32_t
x_mtu(uint16_t v)
{
	return v == 0 ? 65535 : v;
}

static uint32_t
x_min3(uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t r = a < b ? a : b;

	return r < c ? r : c;
}

/* Figure 6: IPv6 header offset -> IPv4 header offset; -1: no counterpart (dropped) */
static int
x_ptr6to4(uint32_t p)
{
	if (p <= 1)
		return (int)p;		/* version, traffic class */
	if (p == 4 || p == 5)
		return 2;		/* payload length -> total length */
	if (p == 6)
		return 9;		/* next header -> protocol */
	if (p == 7)
		return 8;		/* hop limit -> TTL */
	if (p >= 8 && p <= 23)
		return 12;		/* source */
	if (p >= 24 && p <= 39)
		return 16;		/* destination */
	return -1;
}

/* Figure 3: IPv4 header offset -> IPv6 header offset; -1: none */
static int
x_ptr4to6(uint32_t p)
{
	if (p <= 1)
		return (int)p;
	if (p == 2 || p == 3)
		return 4;
	if (p == 8)
		return 7;
	if (p == 9)
		return 6;
	if (p >= 12 && p <= 15)
		return 8;
	if (p >= 16 && p <= 19)
		return 24;
	return -1;
}

static inline uint32_t
x_sum4(uint32_t a, uint32_t b)
{
	return x_sum((const uint8_t *)&a, 4, x_sum((const uint8_t *)&b, 4, 0));
}

/* The quoted IPv6 packet (qlen bytes at q) as IPv4 at out: the host received it (source in
 * the prefix, destination the host). Returns the length written, -1 with *why. */
static int
x_quote6to4(const struct xlat_map *m, const uint8_t *q, uint32_t qlen, uint8_t *out,
	    uint32_t cap, enum xlat_reason *why)
{
	struct x_v6 v;
	uint32_t src4, have;
	uint8_t proto;

	if (x_v6_walk(q, qlen, true, &v) != XLAT_R_NONE || v.l4_off > qlen ||
	    memcmp(q + 24, m->host6, 16) != 0 || !nat64_extract(&m->pfx, q + 8, &src4)) {
		*why = XLAT_R_ICMP_INNER;
		return -1;
	}
	have = qlen - v.l4_off;
	if (have > v.l4_len)
		have = v.l4_len;
	if (20 + have > cap) {
		*why = XLAT_R_TOO_BIG;
		return -1;
	}
	proto = v.proto == X_PROTO_ICMPV6 ? X_PROTO_ICMP : v.proto;
	/* the quoted packet came from IPv4 and its Identification is lost: 0 (a fragment's
	 * is kept in its fragment header) */
	{
		struct xlat_map qm = *m;

		qm.ip_id = 0;
		x_hdr6to4(&qm, q, &v, src4, m->host4, v.l4_len, proto, out);
	}
	memcpy(out + 20, q + v.l4_off, have);
	if (v.frag && v.frag_off != 0)
		return (int)(20 + have);
	if (proto == X_PROTO_TCP || proto == X_PROTO_UDP) {
		x_l4_adjust(proto, out + 20, have, x_sum(q + 8, 32, 0), x_sum4(src4, m->host4));
	} else if (proto == X_PROTO_ICMP && have >= 4 && (q[v.l4_off] == 128 ||
							  q[v.l4_off] == 129)) {
		/* quoted echo: type and the pseudo header leave the checksum */
		uint8_t *e = out + 20;
		uint32_t old = x_pseudo6(q + 8, q + 24, v.l4_len, X_PROTO_ICMPV6) +
			       x_get16(e);

		e[0] = e[0] == 128 ? 8 : 0;
		x_put16(e + 2, x_csum_adjust(x_get16(e + 2), old, x_get16(e)));
	}
	return (int)(20 + have);
}

int
x_icmp6to4(const struct xlat_map *m, const uint8_t *ip6, const uint8_t *in, uint32_t len,
	   uint8_t *out, uint32_t cap, struct xlat_info *info, enum xlat_reason *why)
{
	uint8_t type, code;
	uint32_t mtu;
	int ptr, n;

	if (len < 8) {
		*why = XLAT_R_TRUNCATED;
		return -1;
	}
	if (x_fold(x_sum(in, len, x_pseudo6(ip6 + 8, ip6 + 24, len, X_PROTO_ICMPV6))) !=
	    0xffff) {
		*why = XLAT_R_CSUM;
		return -1;
	}
	if (len > cap) {
		*why = XLAT_R_TOO_BIG;
		return -1;
	}
	memset(out, 0, 8);
	switch (in[0]) {
	case 128:	/* echo request / reply: identifier, sequence, data as they are */
	case 129:
		out[0] = in[0] == 128 ? 8 : 0;
		memcpy(out + 4, in + 4, len - 4);
		x_put16(out + 2, x_csum(x_sum(out, len, 0)));
		return (int)len;
	case 1: {	/* destination unreachable: no route, prohibited, scope, address, port */
		static const uint8_t unreach[] = { 1, 10, 1, 1, 3 };

		if (in[1] >= sizeof(unreach)) {
			*why = XLAT_R_ICMP_TYPE;
			return -1;
		}
		type = 3, code = unreach[in[1]];
		break;
	}
	case 2:		/* packet too big -> fragmentation needed, MTU - 20 */
		type = 3, code = 4;
		mtu = x_get32(in + 4);
		mtu = x_min3(mtu > 20 ? mtu - 20 : 0, x_mtu(m->mtu4), x_mtu(m->mtu6) - 20);
		if (mtu < 68)
			mtu = 68;	/* RFC 791: every IPv4 link takes 68 */
		x_put16(out + 6, (uint16_t)mtu);
		break;
	case 3:		/* time exceeded, code as is */
		if (in[1] > 1) {
			*why = XLAT_R_ICMP_TYPE;
			return -1;
		}
		type = 11, code = in[1];
		break;
	case 4:		/* parameter problem */
		if (in[1] == 1) {
			type = 3, code = 2;	/* unrecognised next header: protocol unreachable */
			break;
		}
		ptr = in[1] == 0 ? x_ptr6to4(x_get32(in + 4)) : -1;
		if (ptr < 0) {
			*why = XLAT_R_ICMP_TYPE;
			return -1;
		}
		type = 12, code = 0;
		out[4] = (uint8_t)ptr;
		break;
	default:	/* MLD, ND, the rest: single hop or no IPv4 meaning (5.2) */
		*why = XLAT_R_ICMP_TYPE;
		return -1;
	}
	out[0] = type;
	out[1] = code;
	n = x_quote6to4(m, in + 8, len - 8, out + 8, cap - 8, why);
	if (n < 0)
		return -1;
	info->icmp_error = true;
	x_put16(out + 2, x_csum(x_sum(out, 8 + (uint32_t)n, 0)));
	return 8 + n;
}

/* The quoted IPv4 packet as IPv6 at out: the host sent it (source the host's address).
 * At most `room` bytes. Returns the length written, -1 with *why. */
static int
x_quote4to6(const struct xlat_map *m, const uint8_t *q, uint32_t qlen, uint8_t *out,
	    uint32_t room, uint32_t *tot_out, enum xlat_reason *why)
{
	uint32_t ihl, tot, dst4, have, l4len;
	uint8_t dst6[16], proto;
	unsigned int hl;

	if (qlen < 20 || (q[0] >> 4) != 4)
		goto bad;
	ihl = (q[0] & 0x0fu) * 4;
	tot = x_get16(q + 2);
	if (ihl < 20 || qlen < ihl || tot < ihl || memcmp(q + 12, &m->host4, 4) != 0)
		goto bad;
	memcpy(&dst4, q + 16, 4);
	nat64_embed(&m->pfx, dst4, dst6);
	l4len = tot - ihl;
	have = qlen - ihl;
	if (have > l4len)
		have = l4len;
	proto = q[9] == X_PROTO_ICMP ? X_PROTO_ICMPV6 : q[9];
	hl = x_hdr4to6(q, m->host6, dst6, l4len, proto, out);
	if (hl + have > room)
		have = room > hl ? room - hl : 0;	/* RFC 4443 2.4 (c): cut */
	memcpy(out + hl, q + ihl, have);
	*tot_out = tot;
	if ((x_get16(q + 6) & 0x1fff) != 0)
		return (int)(hl + have);
	if (proto == X_PROTO_TCP || proto == X_PROTO_UDP) {
		x_l4_adjust(proto, out + hl, have, x_sum4(m->host4, dst4),
			    x_sum(m->host6, 16, x_sum(dst6, 16, 0)));
	} else if (proto == X_PROTO_ICMPV6 && have >= 4 && (q[ihl] == 8 || q[ihl] == 0)) {
		uint8_t *e = out + hl;
		uint32_t old = x_get16(e);

		e[0] = e[0] == 8 ? 128 : 129;
		x_put16(e + 2, x_csum_adjust(x_get16(e + 2), old, x_get16(e) +
					     x_pseudo6(m->host6, dst6, l4len, X_PROTO_ICMPV6)));
	}
	return (int)(hl + have);
bad:
	*why = XLAT_R_ICMP_INNER;
	return -1;
}

int
x_icmp4to6(const struct xlat_map *m, const uint8_t *ip4, const uint8_t *in, uint32_t len,
	   uint8_t *out, uint32_t cap, const uint8_t src6[16], struct xlat_info *info,
	   enum xlat_reason *why)
{
	uint32_t mtu, room, qtot = 0, total;
	uint8_t type, code;
	unsigned int i;
	int ptr, n;

	(void)ip4;
	if (len < 8) {
		*why = XLAT_R_TRUNCATED;
		return -1;
	}
	if (x_fold(x_sum(in, len, 0)) != 0xffff) {
		*why = XLAT_R_CSUM;
		return -1;
	}
	if (len > cap) {
		*why = XLAT_R_TOO_BIG;
		return -1;
	}
	memset(out, 0, 8);
	switch (in[0]) {
	case 8:		/* echo */
	case 0:
		out[0] = in[0] == 8 ? 128 : 129;
		memcpy(out + 4, in + 4, len - 4);
		total = len;
		goto csum;
	case 3: {	/* destination unreachable (4.2 table) */
		static const int8_t unreach[16] = {
			[0] = 0, [1] = 0, [2] = -2, [3] = 4, [4] = -4, [5] = 0, [6] = 0, [7] = 0,
			[8] = 0, [9] = 1, [10] = 1, [11] = 0, [12] = 0, [13] = 1, [14] = -1,
			[15] = 1,
		};
		int c = in[1] < 16 ? unreach[in[1]] : -1;

		if (c == -1) {
			*why = XLAT_R_ICMP_TYPE;
			return -1;
		}
		if (c == -2) {		/* protocol unreachable: next header unrecognised */
			type = 4, code = 1;
			x_put32(out + 4, 6);
		} else if (c == -4) {
			type = 2, code = 0;	/* MTU filled below, when the quote is read */
		} else {
			type = 1, code = (uint8_t)c;
		}
		break;
	}
	case 11:
		if (in[1] > 1) {
			*why = XLAT_R_ICMP_TYPE;
			return -1;
		}
		type = 3, code = in[1];
		break;
	case 12:
		ptr = in[1] == 0 || in[1] == 2 ? x_ptr4to6(in[4]) : -1;
		if (ptr < 0) {
			*why = XLAT_R_ICMP_TYPE;
			return -1;
		}
		type = 4, code = 0;
		x_put32(out + 4, (uint32_t)ptr);
		break;
	default:	/* source quench, redirect, timestamp, info...: dropped (4.2) */
		*why = XLAT_R_ICMP_TYPE;
		return -1;
	}
	out[0] = type;
	out[1] = code;
	room = XLAT_IPV6_MIN_MTU - 40 - 8;
	if (room > cap - 8)
		room = cap - 8;
	n = x_quote4to6(m, in + 8, len - 8, out + 8, room, &qtot, why);
	if (n < 0)
		return -1;
	if (type == 2) {
		mtu = x_get16(in + 6);
		if (mtu == 0) {		/* pre-RFC 1191 router: the plateau below the packet */
			for (i = 0; i + 1 < sizeof(x_plateau) / sizeof(x_plateau[0]) &&
			     x_plateau[i] >= qtot; i++)
				;
			mtu = x_plateau[i];
		}
		mtu = x_min3(mtu + 20, x_mtu(m->mtu6), x_mtu(m->mtu4) + 20);
		if (mtu < XLAT_IPV6_MIN_MTU)
			mtu = XLAT_IPV6_MIN_MTU;	/* RFC 8200 5: no IPv6 link is smaller */
		x_put32(out + 4, mtu);
	}
	info->icmp_error = true;
	total = 8 + (uint32_t)n;
csum:
	x_put16(out + 2, x_csum(x_sum(out, total, x_pseudo6(src6, m->host6, total,
							      X_PROTO_ICMPV6))));
	return (int)total;
}
