/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat_rewrite.c - the header rewrite: make a parsed packet carry the tuple its connection
 * says it must leave with, updating every checksum incrementally (RFC 1624 eqn. 3) instead
 * of recomputing it, so the cost does not depend on the payload length.
 *
 *  - IPv4 addresses: IP header checksum, and the TCP/UDP (UDP-Lite, DCCP) checksum through
 *    the pseudo header (RFC 793, RFC 768). A UDP checksum of 0 means "none" and stays 0; a
 *    computed 0 is sent as 0xffff (RFC 768).
 *  - Ports; the ICMP query identifier (RFC 792), which only the ICMP checksum covers.
 *  - Non-first fragments carry no L4 header: addresses only.
 *  - ICMP errors (RFC 5508 section 4.2, REQ-4): the outer destination (error travelling
 *    in) or source (travelling out) AND the embedded datagram's header: its addresses,
 *    ports or identifier, its IPv4 header checksum, its L4 checksum when the quote holds
 *    it. The ICMP checksum covers the whole quote, so every 16-bit word changed inside it
 *    (the embedded checksums included) is folded into the ICMP checksum too. All fields
 *    sit at even offsets from the ICMP header, so word-wise folding is exact.
 */
#include <string.h>
#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

#include "nat_private.h"

#ifndef IPPROTO_DCCP
#define IPPROTO_DCCP 33
#endif
#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A checksum being updated: its value (host order of the big-endian word) and whether it
 * is to be updated at all (absent from the quote, UDP "no checksum"). */
struct ck {
	uint16_t v;
	bool on;
};

static inline void
ck_fold(struct ck *c, uint16_t old, uint16_t new_)
{
	if (c != NULL && c->on)
		c->v = nat_csum_update16(c->v, old, new_);
}

/* Set the 16-bit word at w to v (host order), folding the change into up to three sums. */
static inline void
word_set(uint8_t *w, uint16_t v, struct ck *a, struct ck *b, struct ck *c)
{
	uint16_t old = rd16(w);

	if (old == v)
		return;
	wr16(w, v);
	ck_fold(a, old, v);
	ck_fold(b, old, v);
	ck_fold(c, old, v);
}

/* Set the IPv4 address at w to addr (network order). */
static inline void
addr_set(uint8_t *w, uint32_t addr, struct ck *a, struct ck *b, struct ck *c)
{
	uint8_t nb[4];

	memcpy(nb, &addr, 4);
	word_set(w, rd16(nb), a, b, c);
	word_set(w + 2, rd16(nb + 2), a, b, c);
}

/* Write a checksum word back; `zero_means_none`: UDP, where 0 must be sent as 0xffff. */
static inline void
ck_store(uint8_t *w, const struct ck *c, bool zero_means_none)
{
	if (!c->on)
		return;
	wr16(w, c->v == 0 && zero_means_none ? 0xffff : c->v);
}

static inline bool
has_pseudo_header(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE ||
	       proto == IPPROTO_DCCP;
}

/* Offset of the L4 checksum field within an L4 header of `avail` bytes, or -1 when the
 * protocol has none we maintain or it lies past avail. */
static inline int
l4_ck_off(uint8_t proto, unsigned int avail)
{
	int off;

	switch (proto) {
	case IPPROTO_TCP:
		off = 16;
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_DCCP:
		off = 6;
		break;
	case IPPROTO_ICMP:
		off = 2;
		break;
	default:
		return -1;
	}
	return (unsigned int)off + 2 <= avail ? off : -1;
}

static inline struct ck
ck_load(const uint8_t *l4, int off, uint8_t proto)
{
	struct ck c = { .v = 0, .on = false };

	if (off < 0)
		return c;
	c.v = rd16(l4 + off);
	/* RFC 768: a transmitted 0 means the sender computed none; keep it so */
	c.on = !(proto == IPPROTO_UDP && c.v == 0);
	return c;
}

/* ICMP query types, requests and replies (RFC 792, RFC 950): echo, timestamp, information,
 * address mask. The only ICMP messages with an identifier (as ct_parse.c's l4_ports). */
static inline bool
icmp_is_query(uint8_t type)
{
	return type == 0 || type == 8 || type == 13 || type == 14 || type == 15 || type == 16 ||
	       type == 17 || type == 18;
}

/* The ports (or ICMP identifier) of an L4 header at l4 with avail bytes. */
static int
ports_set(uint8_t *l4, unsigned int avail, uint8_t proto, uint16_t sport, uint16_t dport,
	  struct ck *a, struct ck *b)
{
	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_DCCP:
		if (avail < 4)
			return -1;
		word_set(l4, ntohs(sport), a, b, NULL);
		word_set(l4 + 2, ntohs(dport), a, b, NULL);
		return 0;
	case IPPROTO_ICMP:
		/* query identifier; sport == dport in a query tuple (ct.h). Whether there is
		 * one is the type's to say, not the tuple's: identifier 0 is a valid query
		 * (and is mapped, as 0 is outside every pool range) */
		if (avail < 8)
			return avail == 0 || !icmp_is_query(l4[0]) ? 0 : -1;
		if (!icmp_is_query(l4[0]))
			return 0;	/* not a query: nothing mapped */
		word_set(l4 + 4, ntohs(sport), a, b, NULL);
		return 0;
	default:
		return 0;
	}
}

/* RFC 5508: an ICMP error about a translated connection. p->tuple is the embedded
 * datagram's tuple inverted (the way the error travels), want what it must become. */
static int
rewrite_icmp_error(const struct ct_pkt *p, const struct ct_tuple *want, uint8_t *buf)
{
	uint8_t *ip = buf + p->l3_off, *icmp = buf + p->l4_off;
	uint8_t *in = buf + p->inner_l3_off, *il4 = buf + p->inner_l4_off;
	struct ck ipck = { .v = rd16(ip + 10), .on = true };
	struct ck icmpck = { .v = rd16(icmp + 2), .on = true };
	struct ck inck, il4ck, il4ck0;
	unsigned int ihl, il4len;
	uint8_t iproto;
	int off;

	if (p->inner_len < 28 || p->l4_len < 8 + 28)
		return -1;
	ihl = (in[0] & 0xfu) * 4u;
	if (ihl < 20 || ihl + 8 > p->inner_len || p->inner_l4_off != p->inner_l3_off + ihl)
		return -1;
	il4len = p->inner_len - ihl;
	iproto = in[9];

	/* outer header: only the translated side moves (REQ-4: travelling out, the source
	 * becomes the mapped outside address; travelling in, the destination the inside
	 * host); a router's own address on the other side is left alone */
	if (want->src != p->tuple.src)
		addr_set(ip + 12, want->src, &ipck, NULL, NULL);
	if (want->dst != p->tuple.dst)
		addr_set(ip + 16, want->dst, &ipck, NULL, NULL);
	wr16(ip + 10, ipck.v);

	/* embedded datagram: it travelled the other way, so its source is want's dst */
	inck.v = rd16(in + 10);
	inck.on = true;
	off = l4_ck_off(iproto, il4len);
	il4ck = ck_load(il4, off, iproto);
	il4ck0 = il4ck;
	if (!has_pseudo_header(iproto)) {
		/* ICMP: its checksum covers no addresses */
		addr_set(in + 12, want->dst, &inck, &icmpck, NULL);
		addr_set(in + 16, want->src, &inck, &icmpck, NULL);
	} else {
		addr_set(in + 12, want->dst, &inck, &icmpck, &il4ck);
		addr_set(in + 16, want->src, &inck, &icmpck, &il4ck);
	}
	if (ports_set(il4, il4len, iproto, want->dport, want->sport, &icmpck, &il4ck) != 0)
		return -1;
	/* the embedded checksums are words of the ICMP message too */
	ck_fold(&icmpck, rd16(in + 10), inck.v);
	wr16(in + 10, inck.v);
	if (il4ck.on) {
		uint16_t nv = il4ck.v == 0 && iproto == IPPROTO_UDP ? 0xffff : il4ck.v;

		ck_fold(&icmpck, il4ck0.v, nv);
		wr16(il4 + off, nv);
	}
	wr16(icmp + 2, icmpck.v);
	return 0;
}

/* One's-complement sum folded to 16 bits (RFC 1071: any word size, any byte order, as long
 * as the checksum is stored in the same order as the words were read). */
static inline uint16_t
csum_fold64(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

/*
 * nat_rewrite() of a whole TCP or UDP datagram (not a fragment, not an ICMP error, a full
 * L4 header), the established case: p's IPv4 and L4 headers made to carry `want`. Every
 * changed word is summed once into one RFC 1624 (eqn. 3) delta, `d` for the addresses (IP
 * header checksum) and `d` plus the ports' for the L4 checksum (pseudo header), then one
 * add and fold per checksum, on the raw (network order) words. The result is the value the
 * word-by-word updates give (a valid checksum stays in [0, 0xfffe]). A UDP checksum 0
 * ("none", RFC 768) stays 0, and a computed 0 is sent as 0xffff.
 */
static inline void
rewrite_l4_fast(const struct ct_pkt *p, const struct ct_tuple *want, uint8_t *buf)
{
	uint8_t *ip = buf + p->l3_off, *l4 = buf + p->l4_off;
	uint8_t proto = p->tuple.proto;
	uint8_t *l4ck = l4 + (proto == IPPROTO_TCP ? 16 : 6);
	uint32_t old[2];	/* the words as they are in the packet: addresses, ports */
	uint64_t d;
	uint16_t ck, w[2];

	memcpy(old, ip + 12, 8);
	d = (uint64_t)(uint32_t)~old[0] + want->src + (uint64_t)(uint32_t)~old[1] + want->dst;
	memcpy(ip + 12, &want->src, 4);
	memcpy(ip + 16, &want->dst, 4);
	memcpy(&ck, ip + 10, 2);
	ck = (uint16_t)~csum_fold64((uint16_t)~ck + d);
	memcpy(ip + 10, &ck, 2);
	memcpy(&ck, l4ck, 2);
	memcpy(w, l4, 4);
	if (proto != IPPROTO_UDP || ck != 0) {
		d += (uint16_t)~w[0] + (uint32_t)want->sport + (uint16_t)~w[1] +
		     (uint32_t)want->dport;
		ck = (uint16_t)~csum_fold64((uint16_t)~ck + d);
		if (ck == 0 && proto == IPPROTO_UDP)
			ck = 0xffff;
		memcpy(l4ck, &ck, 2);
	}
	w[0] = want->sport;
	w[1] = want->dport;
	memcpy(l4, w, 4);
}

/* A whole TCP or UDP datagram with its full header: rewrite_l4_fast's case. */
static inline bool
fast_case(const struct ct_pkt *p)
{
	return !p->is_icmp_error && !p->is_fragment &&
	       ((p->tuple.proto == IPPROTO_TCP && p->l4_len >= 20) ||
		(p->tuple.proto == IPPROTO_UDP && p->l4_len >= 8));
}

/* Everything else, word by word: fragments, ICMP, other protocols, ICMP errors. */
static __rte_noinline int
rewrite_general(const struct ct_pkt *p, const struct ct_tuple *want, uint8_t *buf)
{
	uint8_t *ip = buf + p->l3_off, *l4 = buf + p->l4_off;
	struct ck ipck = { .v = rd16(ip + 10), .on = true }, l4ck = { 0, false };
	uint8_t proto = p->tuple.proto;
	bool first = (rd16(ip + 6) & 0x1fff) == 0;
	struct ck *pseudo = NULL;
	int off = -1;

	if (p->is_icmp_error)
		return rewrite_icmp_error(p, want, buf);
	if (first) {
		if ((proto == IPPROTO_TCP && p->l4_len < 20) ||
		    ((proto == IPPROTO_UDP || proto == IPPROTO_ICMP) && p->l4_len < 8))
			return -1;
		off = l4_ck_off(proto, p->l4_len);
		l4ck = ck_load(l4, off, proto);
		if (has_pseudo_header(proto))
			pseudo = &l4ck;
	}
	if (want->src != p->tuple.src)
		addr_set(ip + 12, want->src, &ipck, pseudo, NULL);
	if (want->dst != p->tuple.dst)
		addr_set(ip + 16, want->dst, &ipck, pseudo, NULL);
	wr16(ip + 10, ipck.v);
	if (!first)
		return 0;	/* non-first fragment: no L4 header to touch */
	if ((want->sport != p->tuple.sport || want->dport != p->tuple.dport) &&
	    ports_set(l4, p->l4_len, proto, want->sport, want->dport, &l4ck, NULL) != 0)
		return -1;
	if (off >= 0)
		ck_store(l4 + off, &l4ck, proto == IPPROTO_UDP);
	return 0;
}

int
nat_rewrite_tuple(const struct ct_pkt *p, const struct ct_tuple *want, uint8_t *buf)
{
	if (likely(fast_case(p))) {
		rewrite_l4_fast(p, want, buf);
		return 0;
	}
	return rewrite_general(p, want, buf);
}

int
nat_rewrite(const struct ct_conn *c, const struct ct_pkt *p, uint8_t *buf)
{
	/* a packet of direction d leaves with the inverse of the other direction's tuple */
	struct ct_tuple want = ct_tuple_invert(ct_conn_tuple(c, (enum ct_dir)!p->dir));

	if (likely(fast_case(p))) {
		rewrite_l4_fast(p, &want, buf);
		return 0;
	}
	return rewrite_general(p, &want, buf);
}
