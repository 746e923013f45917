/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_parse.c - IPv4 packet bytes to a struct ct_pkt (tuple, offsets, flags), bounds-checked
 * so that nothing past `len` is ever read, and the name tables of reasons and states.
 *
 * ICMP errors (RFC 792; RFC 1812 4.3.2.3 for how much is quoted) get the tuple of the
 * embedded datagram inverted, so that a plain lookup finds the connection the error is about.
 * Their ICMP checksum is verified here, and their outer destination must be the quoted
 * datagram's source: an error goes back to the sender of what it quotes.
 *
 * Also the L4 checksums (ct_l4_csum_valid), which ct_update asks for on the packets that may
 * create or change state.
 */
#include <stddef.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_byteorder.h>

#include "ct_private.h"

/* ct_parse_ipv4 copies the addresses and the ports as two runs of bytes */
_Static_assert(offsetof(struct ct_tuple, src) == 0 && offsetof(struct ct_tuple, dst) == 4,
	       "src, dst: the tuple's first 8 bytes");
_Static_assert(offsetof(struct ct_tuple, dport) == offsetof(struct ct_tuple, sport) + 2,
	       "sport, dport adjacent");

static const char *const ct_reason_strs[CT_R_MAX] = {
#define CT_REASON_STR(n, s) [CT_R_##n] = s,
	CT_FOREACH_REASON(CT_REASON_STR)
#undef CT_REASON_STR
};

static const char *const ct_reason_ids[CT_R_MAX] = {
#define CT_REASON_ID(n, s) [CT_R_##n] = #n,
	CT_FOREACH_REASON(CT_REASON_ID)
#undef CT_REASON_ID
};

const char *
ct_reason_str(enum ct_reason r)
{
	return (unsigned int)r < CT_R_MAX ? ct_reason_strs[r] : "unknown";
}

const char *
ct_reason_id(enum ct_reason r)
{
	return (unsigned int)r < CT_R_MAX ? ct_reason_ids[r] : "UNKNOWN";
}

const char *
ct_state_str(enum ct_state s)
{
	static const char *const names[] = {
		[CT_NEW] = "NEW", [CT_ESTABLISHED] = "ESTABLISHED", [CT_RELATED] = "RELATED",
		[CT_INVALID] = "INVALID", [CT_UNTRACKED] = "UNTRACKED",
	};

	return (unsigned int)s < RTE_DIM(names) ? names[s] : "UNKNOWN";
}

const char *
ct_tcp_state_str(enum ct_tcp_state s)
{
	static const char *const names[CT_TCP_MAX] = {
#define CT_TCP_STATE_STR(n) [CT_TCP_##n] = #n,
		CT_FOREACH_TCP_STATE(CT_TCP_STATE_STR)
#undef CT_TCP_STATE_STR
	};

	return (unsigned int)s < CT_TCP_MAX ? names[s] : "UNKNOWN";
}

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ICMP types (RFC 792, RFC 950) */
bool
ct_icmp_is_error(uint8_t type)
{
	/* dest unreachable, source quench, redirect, time exceeded, parameter problem */
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

bool
ct_icmp_is_query_request(uint8_t type)
{
	/* echo, timestamp, information, address mask */
	return type == 8 || type == 13 || type == 15 || type == 17;
}

bool
ct_icmp_is_query_reply(uint8_t type)
{
	return type == 0 || type == 14 || type == 16 || type == 18;
}

/*
 * The Internet checksum (RFC 1071): a one's complement sum. 2^16 - 1 divides 2^64 - 1, so
 * the sum may be taken over 64-bit words with the carries out of bit 63 added back in
 * ("end-around carry", RFC 1071 2.C), and folded to 16 bits at the end; here the words go
 * into a 128-bit accumulator (an add and an add-with-carry each) whose halves are added at
 * the end. The sum does not depend on byte order (RFC 1071 2.B) as long as every word is
 * loaded in memory order and an odd last byte is the first byte of a 16-bit word, which
 * the memcpy into a zeroed word does.
 */
static inline uint64_t
csum_add64(uint64_t a, uint64_t b)
{
	a += b;
	return a + (a < b);	/* end-around carry */
}

static inline uint64_t
csum_add(const uint8_t *d, unsigned int len, uint64_t sum)
{
	unsigned __int128 acc = sum;
	uint64_t w;

	for (; len >= 16; d += 16, len -= 16) {
		uint64_t w2;

		memcpy(&w, d, 8);
		memcpy(&w2, d + 8, 8);
		acc += w;
		acc += w2;
	}
	if (len >= 8) {
		memcpy(&w, d, 8);
		acc += w;
		d += 8;
		len -= 8;
	}
	if (len & 4) {
		uint32_t w4;

		memcpy(&w4, d, 4);
		acc += w4;
		d += 4;
	}
	if (len & 2) {
		uint16_t w2;

		memcpy(&w2, d, 2);
		acc += w2;
		d += 2;
	}
	if (len & 1) {
		uint16_t w1 = 0;

		memcpy(&w1, d, 1);	/* the first byte of a 16-bit word in memory order */
		acc += w1;
	}
	return csum_add64((uint64_t)acc, (uint64_t)(acc >> 64));
}

/* Fold to 16 bits: 0xffff (one's complement zero) for data that carries a right checksum.
 * 64 -> 32 with the end-around carry, then 32 -> 16: adding the word to itself rotated by
 * 16 leaves hi + lo + the carry out of lo + hi in the top half. */
static inline uint16_t
csum_fold(uint64_t sum)
{
	uint32_t lo = (uint32_t)sum, hi = (uint32_t)(sum >> 32);

	lo += hi;
	lo += lo < hi;
	lo += (lo >> 16) | (lo << 16);
	return (uint16_t)(lo >> 16);
}

/* The IPv4 header checksum check: 0 for a correct header (ihl bytes, a multiple of 4). */
static inline uint16_t
ip_csum(const uint8_t *ip, unsigned int len)
{
	if (likely(len == 20))
		return ct_ipv4_hdr_csum(ip);	/* no options, nearly every packet: no loop */
	return (uint16_t)~csum_fold(csum_add(ip, len, 0));
}

bool
ct_l4_csum_valid(const struct ct_pkt *p, const uint8_t *buf)
{
	const uint8_t *ip = buf + p->l3_off, *l4 = buf + p->l4_off;
	unsigned int len = p->l4_len;
	uint64_t a, sum;

	if (p->is_fragment)
		return true;	/* the checksum covers fragments that are not here */
	if (unlikely(p->tuple.family == CT_FAMILY_IPV6))
		return ct_l4_csum_valid6(p, buf);	/* ct_ip6.c: the IPv6 pseudo header */
	switch (p->tuple.proto) {
	case IPPROTO_UDP:
		if (l4[6] == 0 && l4[7] == 0)
			return true;	/* RFC 768: the sender computed none */
		/* the checksum covers the UDP length, not what IPv4 says */
		len = rd16(l4 + 4);
		if (len < 8 || len > p->l4_len)
			return false;
		break;
	case IPPROTO_TCP:
		break;
	case IPPROTO_ICMP:
		return csum_fold(csum_add(l4, len, 0)) == 0xffff;
	default:
		return true;
	}
	/* pseudo header: source, destination, zero, protocol, L4 length (RFC 9293 3.1): the
	 * addresses as one word, the other three fields as a big-endian 32-bit word (in
	 * memory order: 0, protocol, length high, length low) */
	memcpy(&a, ip + 12, 8);
	sum = rte_cpu_to_be_32((uint32_t)p->tuple.proto << 16 | len);
	return csum_fold(csum_add(l4, len, csum_add64(a, sum))) == 0xffff;
}

/* Ports of the L4 header at l4 (callers checked that 8 bytes are there). Only the protocols
 * ct_parse_ipv4 gives ports to, so that an ICMP error's inner tuple matches the outer one. */
static void
l4_ports(struct ct_tuple *t, const uint8_t *l4)
{
	switch (t->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		memcpy(&t->sport, l4, 2);
		memcpy(&t->dport, l4 + 2, 2);
		break;
	case IPPROTO_ICMP:
		/* query: identifier in both; other types: no ports */
		if (ct_icmp_is_query_request(l4[0]) || ct_icmp_is_query_reply(l4[0])) {
			memcpy(&t->sport, l4 + 4, 2);
			t->dport = t->sport;
		}
		break;
	default:
		break;
	}
}

/* The datagram quoted in an ICMP error: at inner (avail bytes). Fills p->tuple (inverted). */
static enum ct_reason
parse_icmp_inner(const uint8_t *inner, uint32_t avail, struct ct_pkt *p)
{
	struct ct_tuple t;
	unsigned int ihl;

	/* RFC 792: the internet header plus the first 64 bits of the datagram */
	if (avail < 20 + 8)
		return CT_R_ICMP_INNER_BAD;
	if ((inner[0] >> 4) != 4)
		return CT_R_ICMP_INNER_BAD;
	ihl = (inner[0] & 0xfu) * 4u;
	if (ihl < 20 || ihl + 8 > avail)
		return CT_R_ICMP_INNER_BAD;
	if (rd16(inner + 2) < ihl + 8)
		return CT_R_ICMP_INNER_BAD;
	/* a non-first fragment quotes no L4 header: nothing to match */
	if (rd16(inner + 6) & 0x1fff)
		return CT_R_ICMP_ERROR_UNSUPPORTED;
	memset(&t, 0, sizeof(t));
	memcpy(&t.src, inner + 12, 4);
	memcpy(&t.dst, inner + 16, 4);
	t.proto = inner[9];
	t.family = CT_FAMILY_IPV4;
	/* an error about an error is never answered (RFC 1122 3.2.2) */
	if (t.proto == IPPROTO_ICMP && !ct_icmp_is_query_request(inner[ihl]) &&
	    !ct_icmp_is_query_reply(inner[ihl]))
		return CT_R_ICMP_ERROR_UNSUPPORTED;
	l4_ports(&t, inner + ihl);
	p->tuple = ct_tuple_invert(&t);
	p->inner_l4_off = (uint16_t)(p->inner_l3_off + ihl);
	return CT_R_NONE;
}

/* An ICMP error (rare; kept out of ct_parse_ipv4's common path): its checksum, the quoted
 * datagram, and where it is sent. */
static __rte_noinline enum ct_reason
parse_icmp_error(const uint8_t *buf, const uint8_t *ip, const uint8_t *l4, unsigned int l4len,
		 struct ct_pkt *p)
{
	enum ct_reason r;

	p->is_icmp_error = 1;
	p->inner_l3_off = p->payload_off;
	p->inner_len = p->payload_len;
	/* an error may reach an inside host and close its connection: the checksum
	 * over the whole message (RFC 792), whatever verify_csum says (a first
	 * fragment is checked once reassembled) */
	if (!p->is_fragment && csum_fold(csum_add(l4, l4len, 0)) != 0xffff)
		return CT_R_ICMP_BAD_CSUM;
	r = parse_icmp_inner(buf + p->inner_l3_off, p->inner_len, p);
	/* it goes back to whoever sent the quoted datagram (RFC 792: "the source of
	 * the original datagram"; RFC 1812 4.3.2.3): p->tuple.dst is the quoted source.
	 * Anything else is forged (an inside host must not get an error about its flow
	 * from anyone who merely knows the flow) */
	if (r == CT_R_NONE && memcmp(&p->tuple.dst, ip + 16, 4) != 0)
		return CT_R_ICMP_ERROR_BAD_DST;
	return r;
}

/* The version and header length checks of a first byte other than 0x45 (version 4, no
 * options), in ct_parse_ipv4's order: rare, so out of line. *ihl: the header length. */
static __rte_noinline enum ct_reason
ip_first_byte(const uint8_t *ip, uint32_t l3_off, uint32_t len, unsigned int *ihl)
{
	if ((ip[0] >> 4) != 4)
		return CT_R_L3_BAD_VERSION;
	*ihl = (ip[0] & 0xfu) * 4u;
	if (*ihl < 20 || l3_off + *ihl > len)
		return CT_R_L3_BAD_IHL;
	return CT_R_NONE;
}

enum ct_reason
ct_parse_ipv4(const uint8_t *buf, uint32_t len, uint16_t l3_off, bool verify_csum,
	      struct ct_pkt *p)
{
	const uint8_t *ip, *l4;
	unsigned int ihl = 20, totlen, l4len;
	uint32_t hdr;
	uint16_t frag;
	enum ct_reason r;

	memset(p, 0, sizeof(*p));
	p->l3_off = l3_off;
	if (len < (uint32_t)l3_off + 20)
		return CT_R_L3_TRUNCATED;
	ip = buf + l3_off;
	/* 0x45 (nearly every packet) passes the version and header length checks at once */
	if (unlikely(ip[0] != 0x45)) {
		r = ip_first_byte(ip, l3_off, len, &ihl);
		if (r != CT_R_NONE)
			return r;
	}
	totlen = rd16(ip + 2);
	/* len may exceed totlen: Ethernet pads short frames to 60 bytes */
	if (totlen < ihl || l3_off + totlen > len)
		return CT_R_L3_BAD_TOTLEN;
	if (verify_csum && ip_csum(ip, ihl) != 0)
		return CT_R_L3_BAD_CSUM;

	p->ip_len = (uint16_t)totlen;
	p->ttl = ip[8];
	p->tuple.proto = ip[9];
	p->tuple.family = CT_FAMILY_IPV4;
	memcpy(&p->tuple, ip + 12, 8);	/* src and dst, the tuple's first 8 bytes */
	l4len = totlen - ihl;
	p->l4_off = (uint16_t)(l3_off + ihl);
	p->l4_len = (uint16_t)l4len;
	p->payload_off = p->l4_off;
	p->payload_len = (uint16_t)l4len;
	memcpy(&frag, ip + 6, 2);	/* network order: the masks below are too */
	p->is_fragment = (frag & rte_cpu_to_be_16(0x3fff)) != 0;	/* MF or offset */
	if (frag & rte_cpu_to_be_16(0x1fff))
		return CT_R_FRAGMENT;	/* tuple keeps ports 0 */

	l4 = ip + ihl;
	r = ct_l4_header(l4, l4len, p->tuple.proto, IPPROTO_ICMP, p, &hdr);
	if (r != CT_R_NONE || hdr == 0)
		return r;	/* bad, or addresses and protocol only */
	p->payload_off = (uint16_t)(p->l4_off + hdr);
	p->payload_len = (uint16_t)(l4len - hdr);
	if (likely(p->tuple.proto != IPPROTO_ICMP)) {
		/* TCP, UDP: source and destination port, as sport and dport are laid out */
		memcpy((uint8_t *)&p->tuple + offsetof(struct ct_tuple, sport), l4, 4);
		return CT_R_NONE;
	}
	l4_ports(&p->tuple, l4);
	if (ct_icmp_is_error(p->icmp_type))
		return parse_icmp_error(buf, ip, l4, l4len, p);
	return CT_R_NONE;
}
