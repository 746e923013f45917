/* SPDX-License-Identifier: BSD-3-Clause */
/* pkt_build.c - packet bytes and full checksum recomputation for the unit tests. */
#include <string.h>
#include <netinet/in.h>

#include "pkt_build.h"

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

uint16_t
pb_csum(const void *data, unsigned int len, uint32_t sum)
{
	const uint8_t *p = data;

	while (len > 1) {
		sum += get16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t
pseudo_sum(const uint8_t *ip, uint8_t proto, unsigned int l4len)
{
	uint32_t s = 0;

	s += get16(ip + 12) + get16(ip + 14) + get16(ip + 16) + get16(ip + 18);
	s += proto + l4len;
	return s;
}

static void
eth_header(uint8_t *buf)
{
	static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x01};
	static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x02};

	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	put16(buf + 12, 0x0800);
}

static void
ip_header(uint8_t *ip, const struct pb_spec *s, unsigned int totlen)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, totlen);
	put16(ip + 4, s->ip_id);
	put16(ip + 6, s->frag_off);
	ip[8] = s->ttl ? s->ttl : 64;
	ip[9] = s->proto;
	memcpy(ip + 12, &s->src, 4);
	memcpy(ip + 16, &s->dst, 4);
	put16(ip + 10, pb_csum(ip, 20, 0));
}

unsigned int
pb_build(uint8_t *buf, const struct pb_spec *s)
{
	uint8_t *ip = buf + PB_ETH_LEN, *l4 = ip + 20;
	unsigned int l4hdr, optlen = (s->tcp_opts_len + 3u) & ~3u;
	unsigned int l4len;

	memset(buf, 0, PB_MAX);
	eth_header(buf);
	switch (s->proto) {
	case IPPROTO_TCP:
		l4hdr = 20 + optlen;
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put32(l4 + 4, s->seq);
		put32(l4 + 8, s->ack);
		l4[12] = (uint8_t)((l4hdr / 4) << 4);
		l4[13] = s->tcp_flags;
		put16(l4 + 14, s->win ? s->win : 65535);
		if (s->tcp_opts_len)
			memcpy(l4 + 20, s->tcp_opts, s->tcp_opts_len);
		break;
	case IPPROTO_UDP:
		l4hdr = 8;
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		break;
	case IPPROTO_ICMP:
		l4hdr = 8;
		l4[0] = s->icmp_type;
		l4[1] = s->icmp_code;
		put16(l4 + 4, s->sport);
		put16(l4 + 6, s->icmp_seq);
		break;
	default:
		l4hdr = 0;
		break;
	}
	if (s->payload_len)
		memcpy(l4 + l4hdr, s->payload, s->payload_len);
	l4len = l4hdr + s->payload_len;
	ip_header(ip, s, 20 + l4len);
	switch (s->proto) {
	case IPPROTO_TCP:
		put16(l4 + 16, pb_csum(l4, l4len, pseudo_sum(ip, IPPROTO_TCP, l4len)));
		break;
	case IPPROTO_UDP:
		put16(l4 + 4, l4len);
		if (!s->udp_zero_csum) {
			uint16_t c = pb_csum(l4, l4len, pseudo_sum(ip, IPPROTO_UDP, l4len));

			put16(l4 + 6, c ? c : 0xffff);
		}
		break;
	case IPPROTO_ICMP:
		put16(l4 + 2, pb_csum(l4, l4len, 0));
		break;
	}
	return PB_ETH_LEN + 20 + l4len;
}

unsigned int
pb_build_icmp_error(uint8_t *buf, uint32_t from, uint32_t to, uint8_t type, uint8_t code,
		    const uint8_t *orig, unsigned int orig_len, unsigned int quote)
{
	const uint8_t *oip = orig + PB_ETH_LEN;
	unsigned int avail = orig_len - PB_ETH_LEN;
	struct pb_spec s = {.src = from, .dst = to, .proto = IPPROTO_ICMP};
	uint8_t *ip = buf + PB_ETH_LEN, *icmp = ip + 20;

	if (quote == 0)
		quote = (oip[0] & 0xf) * 4u + 8;
	if (quote > avail)
		quote = avail;
	memset(buf, 0, PB_MAX);
	eth_header(buf);
	icmp[0] = type;
	icmp[1] = code;
	memcpy(icmp + 8, oip, quote);
	ip_header(ip, &s, 20 + 8 + quote);
	put16(icmp + 2, pb_csum(icmp, 8 + quote, 0));
	return PB_ETH_LEN + 20 + 8 + quote;
}

static bool
l4_csum_ok(const uint8_t *ip, const uint8_t *l4, unsigned int l4len, bool whole)
{
	switch (ip[9]) {
	case IPPROTO_TCP:
		if (!whole)
			return true;
		return l4len >= 20 && pb_csum(l4, l4len, pseudo_sum(ip, IPPROTO_TCP, l4len)) == 0;
	case IPPROTO_UDP:
		if (!whole || l4len < 8 || get16(l4 + 6) == 0)
			return l4len >= 8 || !whole;
		return pb_csum(l4, l4len, pseudo_sum(ip, IPPROTO_UDP, l4len)) == 0;
	case IPPROTO_ICMP:
		if (!whole)
			return true;
		return l4len >= 8 && pb_csum(l4, l4len, 0) == 0;
	default:
		return true;
	}
}

bool
pb_csum_ok(const uint8_t *frame, unsigned int len)
{
	const uint8_t *ip = frame + PB_ETH_LEN, *l4;
	unsigned int ihl, tot, l4len;

	if (len < PB_ETH_LEN + 20)
		return false;
	ihl = (ip[0] & 0xf) * 4u;
	tot = get16(ip + 2);
	if (tot > len - PB_ETH_LEN || pb_csum(ip, ihl, 0) != 0)
		return false;
	l4 = ip + ihl;
	l4len = tot - ihl;
	if (get16(ip + 6) & 0x3fff)	/* fragment: L4 checksum spans all fragments */
		return true;
	if (!l4_csum_ok(ip, l4, l4len, true))
		return false;
	if (ip[9] == IPPROTO_ICMP && l4len >= 8 + 20 &&
	    (l4[0] == 3 || l4[0] == 11 || l4[0] == 12 || l4[0] == 4 || l4[0] == 5)) {
		const uint8_t *iip = l4 + 8;
		unsigned int iihl = (iip[0] & 0xf) * 4u;

		if (iihl < 20 || iihl > l4len - 8 || pb_csum(iip, iihl, 0) != 0)
			return false;
		/* the embedded L4 checksum covers bytes that were not quoted: not checkable,
		 * unless the whole datagram is quoted */
		if (get16(iip + 2) == l4len - 8)
			return l4_csum_ok(iip, iip + iihl, l4len - 8 - iihl, true);
	}
	return true;
}

uint32_t
pb_ip_src(const uint8_t *f)
{
	uint32_t v;

	memcpy(&v, f + PB_ETH_LEN + 12, 4);
	return v;
}

uint32_t
pb_ip_dst(const uint8_t *f)
{
	uint32_t v;

	memcpy(&v, f + PB_ETH_LEN + 16, 4);
	return v;
}

static const uint8_t *
l4_of(const uint8_t *f)
{
	return f + PB_ETH_LEN + (f[PB_ETH_LEN] & 0xf) * 4;
}

uint16_t
pb_sport(const uint8_t *f)
{
	const uint8_t *l4 = l4_of(f);

	return f[PB_ETH_LEN + 9] == IPPROTO_ICMP ? get16(l4 + 4) : get16(l4);
}

uint16_t
pb_dport(const uint8_t *f)
{
	const uint8_t *l4 = l4_of(f);

	return f[PB_ETH_LEN + 9] == IPPROTO_ICMP ? get16(l4 + 4) : get16(l4 + 2);
}

uint8_t
pb_ttl(const uint8_t *f)
{
	return f[PB_ETH_LEN + 8];
}

uint32_t
pb_tcp_seq(const uint8_t *f)
{
	return get32(l4_of(f) + 4);
}

uint32_t
pb_tcp_ack(const uint8_t *f)
{
	return get32(l4_of(f) + 8);
}

unsigned int
pb_inner_off(const uint8_t *f)
{
	return (unsigned int)(l4_of(f) + 8 - f);
}

/* ---- IPv6 (pb6_*) ---- */

static uint32_t
pseudo_sum6(const uint8_t *ip6, uint8_t nh, unsigned int l4len)
{
	uint32_t s = 0;
	unsigned int i;

	for (i = 8; i < 40; i += 2)
		s += get16(ip6 + i);
	return s + (l4len >> 16) + (l4len & 0xffff) + nh;
}

unsigned int
pb6_build(uint8_t *buf, const struct pb6_spec *s)
{
	uint8_t *ip6 = buf + PB_ETH_LEN, *l4 = ip6 + 40 + s->ext_len;
	unsigned int l4hdr, l4len;

	memset(buf, 0, PB_MAX);
	eth_header(buf);
	put16(buf + 12, 0x86dd);
	switch (s->proto) {
	case IPPROTO_TCP:
		l4hdr = 20;
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put32(l4 + 4, s->seq);
		put32(l4 + 8, s->ack);
		l4[12] = 5 << 4;
		l4[13] = s->tcp_flags;
		put16(l4 + 14, s->win ? s->win : 65535);
		break;
	case IPPROTO_UDP:
		l4hdr = 8;
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		break;
	case IPPROTO_ICMPV6:
		l4hdr = 8;
		l4[0] = s->icmp_type;
		l4[1] = s->icmp_code;
		put16(l4 + 4, s->sport);
		put16(l4 + 6, s->icmp_seq);
		break;
	default:
		l4hdr = 0;
		break;
	}
	if (s->payload_len)
		memcpy(l4 + l4hdr, s->payload, s->payload_len);
	l4len = l4hdr + s->payload_len;
	ip6[0] = 0x60;
	put16(ip6 + 4, (uint16_t)(s->ext_len + l4len));
	ip6[6] = s->ext_len ? s->ext_nh : s->proto;
	ip6[7] = s->hops ? s->hops : 64;
	memcpy(ip6 + 8, s->src, 16);
	memcpy(ip6 + 24, s->dst, 16);
	if (s->ext_len)
		memcpy(ip6 + 40, s->ext, s->ext_len);
	switch (s->proto) {
	case IPPROTO_TCP:
		put16(l4 + 16, pb_csum(l4, l4len, pseudo_sum6(ip6, IPPROTO_TCP, l4len)));
		break;
	case IPPROTO_UDP: {
		uint16_t c;

		put16(l4 + 4, l4len);
		c = pb_csum(l4, l4len, pseudo_sum6(ip6, IPPROTO_UDP, l4len));
		put16(l4 + 6, c ? c : 0xffff);
		break;
	}
	case IPPROTO_ICMPV6:
		put16(l4 + 2, pb_csum(l4, l4len, pseudo_sum6(ip6, IPPROTO_ICMPV6, l4len)));
		break;
	}
	return PB_ETH_LEN + 40 + s->ext_len + l4len;
}

unsigned int
pb6_build_icmp_error(uint8_t *buf, const uint8_t from[16], const uint8_t to[16], uint8_t type,
		     uint8_t code, uint32_t param, const uint8_t *orig, unsigned int orig_len,
		     unsigned int quote)
{
	const uint8_t *oip = orig + PB_ETH_LEN;
	unsigned int avail = orig_len - PB_ETH_LEN;
	uint8_t *ip6 = buf + PB_ETH_LEN, *icmp = ip6 + 40;

	if (quote == 0 || quote > avail)
		quote = avail;
	memset(buf, 0, PB_MAX);
	eth_header(buf);
	put16(buf + 12, 0x86dd);
	ip6[0] = 0x60;
	put16(ip6 + 4, (uint16_t)(8 + quote));
	ip6[6] = IPPROTO_ICMPV6;
	ip6[7] = 64;
	memcpy(ip6 + 8, from, 16);
	memcpy(ip6 + 24, to, 16);
	icmp[0] = type;
	icmp[1] = code;
	put32(icmp + 4, param);
	memcpy(icmp + 8, oip, quote);
	put16(icmp + 2, pb_csum(icmp, 8 + quote, pseudo_sum6(ip6, IPPROTO_ICMPV6, 8 + quote)));
	return PB_ETH_LEN + 40 + 8 + quote;
}

bool
pb6_csum_ok(const uint8_t *frame, unsigned int len)
{
	const uint8_t *ip6 = frame + PB_ETH_LEN, *l4 = ip6 + 40;
	unsigned int plen;
	uint8_t nh;

	if (len < PB_ETH_LEN + 40 || get16(frame + 12) != 0x86dd || (ip6[0] >> 4) != 6)
		return false;
	plen = get16(ip6 + 4);
	if (PB_ETH_LEN + 40 + plen > len)
		return false;
	nh = ip6[6];
	/* hop-by-hop, routing, destination options */
	while ((nh == 0 || nh == 43 || nh == 60) && l4 + 8 <= ip6 + 40 + plen) {
		unsigned int hl = (l4[1] + 1u) * 8u;

		nh = l4[0];
		plen -= hl;
		l4 += hl;
	}
	plen = (unsigned int)(ip6 + 40 + get16(ip6 + 4) - l4);
	switch (nh) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_ICMPV6:
		return pb_csum(l4, plen, pseudo_sum6(ip6, nh, plen)) == 0;
	default:
		return true;
	}
}
