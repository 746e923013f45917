/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat64_xlat.c - the IP header translation of RFC 7915: IPv6 -> IPv4 (section 5.1,
 * fragment header 5.1.1, transport checksums 5.5) and IPv4 -> IPv6 (section 4.1, 4.5), the
 * extension header walk (bounded), and the reason names. ICMP is in nat64_icmp.c.
 */
#include "nat64_private.h"

static const char *const xlat_reason_s[] = {
#define XLAT_REASON_STR(n, s) s,
	XLAT_FOREACH_REASON(XLAT_REASON_STR)
#undef XLAT_REASON_STR
};

static const char *const xlat_reason_i[] = {
#define XLAT_REASON_ID(n, s) #n,
	XLAT_FOREACH_REASON(XLAT_REASON_ID)
#undef XLAT_REASON_ID
};

const char *
xlat_reason_str(enum xlat_reason r)
{
	return (unsigned int)r < XLAT_R_MAX ? xlat_reason_s[r] : "unknown";
}

const char *
xlat_reason_id(enum xlat_reason r)
{
	return (unsigned int)r < XLAT_R_MAX ? xlat_reason_i[r] : "UNKNOWN";
}

/*
 * RFC 7915 5.1: hop-by-hop, destination options and routing headers are skipped (a routing
 * header with segments left is not ours to skip: the packet is not for the prefix yet, and
 * RFC 7915 5.1 says to drop it); a fragment header gives the IPv4 fragment fields. A quoted
 * packet (ICMPv6 error) may end in the middle of its headers: what is present is walked.
 */
enum xlat_reason
x_v6_walk(const uint8_t *in, uint32_t have, bool quoted, struct x_v6 *v)
{
	uint32_t plen, off = 40, hl;
	unsigned int n;
	uint8_t nh;

	if (have < 40)
		return XLAT_R_TRUNCATED;
	if ((in[0] >> 4) != 6)
		return XLAT_R_BAD_HEADER;
	plen = x_get16(in + 4);
	if (!quoted && 40 + plen > have)
		return XLAT_R_TRUNCATED;
	memset(v, 0, sizeof(*v));
	nh = in[6];
	for (n = 0; n <= X_EXT_MAX; n++) {
		if (nh != X_PROTO_HOPOPT && nh != X_PROTO_DSTOPTS && nh != X_PROTO_ROUTING &&
		    nh != X_PROTO_FRAG)
			break;
		if (n == X_EXT_MAX || (nh == X_PROTO_HOPOPT && off != 40) ||
		    (nh == X_PROTO_FRAG && v->frag))
			return XLAT_R_EXT_HEADERS;
		if (off + 8 > have || off + 8 > 40 + plen)
			return XLAT_R_TRUNCATED;
		if (nh == X_PROTO_FRAG) {
			v->frag = true;
			v->frag_off = x_get16(in + off + 2) & 0xfff8;
			v->mf = in[off + 3] & 1;
			v->frag_id = x_get32(in + off + 4);
			nh = in[off];
			off += 8;
			continue;
		}
		if (nh == X_PROTO_ROUTING && in[off + 3] != 0)
			return XLAT_R_EXT_HEADERS;
		hl = ((uint32_t)in[off + 1] + 1) * 8;
		if (off + hl > 40 + plen)
			return XLAT_R_BAD_HEADER;
		if (off + hl > have)
			return XLAT_R_TRUNCATED;
		nh = in[off];
		off += hl;
	}
	v->l4_off = (uint16_t)off;
	v->l4_len = 40 + plen - off;
	v->proto = nh;
	return XLAT_R_NONE;
}

void
x_hdr6to4(const struct xlat_map *m, const uint8_t *in, const struct x_v6 *v, uint32_t src4,
	  uint32_t dst4, uint32_t l4_len, uint8_t proto, uint8_t *out)
{
	uint32_t tot = 20 + l4_len;
	uint16_t id, fl;

	if (v->frag) {
		/* 5.1.1: the fragment header's fields, DF 0 */
		id = (uint16_t)v->frag_id;
		fl = (uint16_t)((v->mf ? X_MF : 0) | v->frag_off >> 3);
	} else if (tot > XLAT_IPV6_MIN_MTU - 20) {
		/* 5.1: DF set when over 1260 bytes: the host sized it by its path MTU, so an
		 * IPv4 router that cannot take it says so (PTB after translation) */
		id = 0;
		fl = X_DF;
	} else {
		/* at most 1280 bytes as IPv6: the host may not do PMTUD below that (RFC 8200
		 * 5), so IPv4 routers may fragment it: DF 0, an Identification of ours */
		id = m->ip_id;
		fl = 0;
	}
	out[0] = 0x45;
	out[1] = (uint8_t)((in[0] & 0x0f) << 4 | in[1] >> 4);	/* traffic class */
	x_put16(out + 2, (uint16_t)tot);
	x_put16(out + 4, id);
	x_put16(out + 6, fl);
	out[8] = in[7];		/* hop limit; the forwarding path decrements it */
	out[9] = proto;
	out[10] = out[11] = 0;
	memcpy(out + 12, &src4, 4);
	memcpy(out + 16, &dst4, 4);
	x_put16(out + 10, x_csum(x_sum(out, 20, 0)));
}

unsigned int
x_hdr4to6(const uint8_t *in, const uint8_t src6[16], const uint8_t dst6[16], uint32_t l4_len,
	  uint8_t proto, uint8_t *out)
{
	uint16_t fo = x_get16(in + 6);
	bool frag = (fo & (X_MF | 0x1fff)) != 0;
	unsigned int hl = frag ? 48 : 40;

	out[0] = (uint8_t)(0x60 | in[1] >> 4);		/* traffic class = TOS (4.1) */
	out[1] = (uint8_t)(in[1] << 4);
	out[2] = out[3] = 0;				/* flow label 0 */
	x_put16(out + 4, (uint16_t)(hl - 40 + l4_len));
	out[6] = frag ? X_PROTO_FRAG : proto;
	out[7] = in[8];					/* hop limit = TTL */
	memcpy(out + 8, src6, 16);
	memcpy(out + 24, dst6, 16);
	if (frag) {
		/* 4.1: fragment header with the IPv4 fragment's fields */
		out[40] = proto;
		out[41] = 0;
		x_put16(out + 42, (uint16_t)((fo & 0x1fff) << 3 | ((fo & X_MF) ? 1 : 0)));
		x_put32(out + 44, x_get16(in + 4));
	}
	return hl;
}

bool
x_l4_adjust(uint8_t proto, uint8_t *l4, uint32_t have, uint32_t old, uint32_t new_)
{
	unsigned int at = proto == X_PROTO_TCP ? 16 : 6;
	uint16_t c;

	if (have < at + 2u)
		return true;		/* not quoted: nothing to adjust */
	c = x_get16(l4 + at);
	if (proto == X_PROTO_UDP && c == 0)
		return false;
	c = x_csum_adjust(c, old, new_);
	if (proto == X_PROTO_UDP && c == 0)
		c = 0xffff;		/* RFC 768: 0 means none */
	x_put16(l4 + at, c);
	return true;
}

static inline uint32_t
x_sum4(uint32_t a, uint32_t b)
{
	return x_sum((const uint8_t *)&a, 4, x_sum((const uint8_t *)&b, 4, 0));
}

int
xlat_6to4(const struct xlat_map *m, const uint8_t *in, uint32_t len, uint8_t *out,
	  uint32_t cap, struct xlat_info *info, enum xlat_reason *why)
{
	struct xlat_info inf = { 0 };
	enum xlat_reason r;
	struct x_v6 v;
	uint32_t dst4, l4len;
	bool first;
	int n;

	r = x_v6_walk(in, len, false, &v);
	if (r != XLAT_R_NONE)
		goto fail;
	if (memcmp(in + 8, m->host6, 16) != 0 || !nat64_extract(&m->pfx, in + 24, &dst4)) {
		r = XLAT_R_ADDR_UNMAPPED;
		goto fail;
	}
	first = !v.frag || v.frag_off == 0;
	inf.fragment = v.frag && (v.frag_off != 0 || v.mf);
	l4len = v.l4_len;
	if (20 + l4len > cap) {
		r = XLAT_R_TOO_BIG;
		goto fail;
	}
	switch (v.proto) {
	case X_PROTO_ICMPV6:
		if (inf.fragment) {
			r = XLAT_R_ICMP_FRAGMENT;	/* 5.2: its checksum spans all fragments */
			goto fail;
		}
		n = x_icmp6to4(m, in, in + v.l4_off, l4len, out + 20, cap - 20, &inf, &r);
		if (n < 0)
			goto fail;
		l4len = (uint32_t)n;
		inf.proto = X_PROTO_ICMP;
		break;
	case X_PROTO_TCP:
	case X_PROTO_UDP:
		memcpy(out + 20, in + v.l4_off, l4len);
		if (first && l4len < (v.proto == X_PROTO_TCP ? 20u : 8u) && !inf.fragment) {
			r = XLAT_R_TRUNCATED;
			goto fail;
		}
		/* 5.5: only the addresses of the pseudo header differ (length and protocol
		 * sum the same in both) */
		if (first && !x_l4_adjust(v.proto, out + 20, l4len,
					  x_sum(in + 8, 32, 0), x_sum4(m->host4, dst4))) {
			r = XLAT_R_UDP_ZERO_CSUM;	/* RFC 8200 8.1: not valid in IPv6 */
			goto fail;
		}
		inf.proto = v.proto;
		break;
	default:
		memcpy(out + 20, in + v.l4_off, l4len);
		inf.proto = v.proto;
		break;
	}
	x_hdr6to4(m, in, &v, m->host4, dst4, l4len, inf.proto, out);
	*info = inf;
	return (int)(20 + l4len);
fail:
	*why = r;
	return -1;
}

int
xlat_4to6(const struct xlat_map *m, const uint8_t *in, uint32_t len, uint8_t *out,
	  uint32_t cap, struct xlat_info *info, enum xlat_reason *why)
{
	struct xlat_info inf = { 0 };
	enum xlat_reason r;
	uint32_t ihl, tot, l4len, src4, dst4, old;
	uint8_t src6[16], *l4o;
	uint16_t fo;
	bool first;
	unsigned int hl;
	int n;

	if (len < 20) {
		r = XLAT_R_TRUNCATED;
		goto fail;
	}
	ihl = (in[0] & 0x0fu) * 4;
	tot = x_get16(in + 2);
	if ((in[0] >> 4) != 4 || ihl < 20 || tot < ihl || tot > len) {
		r = XLAT_R_BAD_HEADER;
		goto fail;
	}
	memcpy(&src4, in + 12, 4);
	memcpy(&dst4, in + 16, 4);
	if (dst4 != m->host4) {
		r = XLAT_R_ADDR_UNMAPPED;
		goto fail;
	}
	nat64_embed(&m->pfx, src4, src6);
	fo = x_get16(in + 6);
	inf.fragment = (fo & (X_MF | 0x1fff)) != 0;
	first = (fo & 0x1fff) == 0;
	l4len = tot - ihl;
	hl = inf.fragment ? 48 : 40;
	if (hl + l4len > cap) {
		r = XLAT_R_TOO_BIG;
		goto fail;
	}
	l4o = out + hl;
	switch (in[9]) {
	case X_PROTO_ICMP:
		if (inf.fragment) {
			r = XLAT_R_ICMP_FRAGMENT;	/* 4.2: ICMPv6 checksum needs it whole */
			goto fail;
		}
		n = x_icmp4to6(m, in, in + ihl, l4len, l4o, cap - hl, src6, &inf, &r);
		if (n < 0)
			goto fail;
		l4len = (uint32_t)n;
		inf.proto = X_PROTO_ICMPV6;
		break;
	case X_PROTO_TCP:
	case X_PROTO_UDP:
		memcpy(l4o, in + ihl, l4len);
		inf.proto = in[9];
		if (!first)
			break;
		if (l4len < (in[9] == X_PROTO_TCP ? 20u : 8u) && !inf.fragment) {
			r = XLAT_R_TRUNCATED;
			goto fail;
		}
		old = x_sum4(src4, dst4);
		if (x_l4_adjust(in[9], l4o, l4len, old,
				x_sum(src6, 16, x_sum(m->host6, 16, 0))))
			break;
		/* 4.5: a UDP datagram without checksum gets one (IPv6 requires it), when it
		 * is all here; a fragment of one cannot */
		if (inf.fragment) {
			r = XLAT_R_UDP_ZERO_CSUM;
			goto fail;
		}
		x_put16(l4o + 6, x_csum(x_sum(l4o, l4len, x_pseudo6(src6, m->host6, l4len,
								      X_PROTO_UDP))));
		if (x_get16(l4o + 6) == 0)
			x_put16(l4o + 6, 0xffff);
		break;
	default:
		memcpy(l4o, in + ihl, l4len);
		inf.proto = in[9];
		break;
	}
	x_hdr4to6(in, src6, m->host6, l4len, inf.proto, out);
	*info = inf;
	return (int)(hl + l4len);
fail:
	*why = r;
	return -1;
}
