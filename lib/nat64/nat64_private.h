/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat64_private.h - what the files of lib/nat64 share: byte access, one's complement sums
 * (RFC 1071) and the incremental update (RFC 1624), the IP header translation both files
 * use (the ICMP error's quoted packet is translated with the same code as the packet).
 */
#ifndef NATGW_NAT64_PRIVATE_H
#define NATGW_NAT64_PRIVATE_H

#include <stddef.h>
#include <string.h>

#include "nat64.h"

#define X_PROTO_HOPOPT	0
#define X_PROTO_ICMP	1
#define X_PROTO_TCP	6
#define X_PROTO_UDP	17
#define X_PROTO_ROUTING	43
#define X_PROTO_FRAG	44
#define X_PROTO_ICMPV6	58
#define X_PROTO_DSTOPTS	60
#define X_EXT_MAX	8	/* extension headers walked before giving up */
#define X_DF		0x4000
#define X_MF		0x2000

static inline uint16_t
x_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
x_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
x_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
x_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* one's complement sum of len bytes (big-endian words), not folded past 32 bits */
static inline uint32_t
x_sum(const uint8_t *p, size_t len, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += x_get16(p + i);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

static inline uint16_t
x_fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* checksum field value for data summing to s */
static inline uint16_t
x_csum(uint32_t s)
{
	return (uint16_t)~x_fold(s);
}

/* RFC 1624 eqn. 3: the checksum csum (host order) once words summing to `old` are replaced
 * by words summing to `new_` */
static inline uint16_t
x_csum_adjust(uint16_t csum, uint32_t old, uint32_t new_)
{
	uint32_t s = (uint16_t)~csum;

	s += (uint16_t)~x_fold(old);
	s += x_fold(new_);
	return (uint16_t)~x_fold(s);
}

/* sum of the IPv6 pseudo header (RFC 8200 8.1) */
static inline uint32_t
x_pseudo6(const uint8_t *src, const uint8_t *dst, uint32_t len, uint8_t nh)
{
	uint32_t s = x_sum(src, 16, 0);

	s = x_sum(dst, 16, s);
	return s + (len >> 16) + (len & 0xffff) + nh;
}

/* An IPv6 header and its extension headers, walked (RFC 8200 4). */
struct x_v6 {
	uint16_t l4_off;	/* offset of the upper layer header */
	uint32_t l4_len;	/* its length per the payload length (may exceed what is here) */
	uint8_t proto;		/* upper layer protocol */
	bool frag;		/* a fragment header is there */
	uint16_t frag_off;	/* its offset, bytes */
	bool mf;
	uint32_t frag_id;
};

/* Walk the header of an IPv6 packet of which `have` bytes are present (all when it is the
 * packet itself, a prefix when quoted). XLAT_R_NONE or the reason. */
enum xlat_reason x_v6_walk(const uint8_t *in, uint32_t have, bool quoted, struct x_v6 *v);

/* ICMP translation (nat64_icmp.c). in: the ICMP message (l4_len bytes present), out: room
 * for cap bytes. Returns the length written or -1 with *why. */
int x_icmp6to4(const struct xlat_map *m, const uint8_t *ip6, const uint8_t *in,
	       uint32_t len, uint8_t *out, uint32_t cap, struct xlat_info *info,
	       enum xlat_reason *why);
int x_icmp4to6(const struct xlat_map *m, const uint8_t *ip4, const uint8_t *in,
	       uint32_t len, uint8_t *out, uint32_t cap, const uint8_t src6[16],
	       struct xlat_info *info, enum xlat_reason *why);

/* The IPv4 header for an IPv6 one (walked into v); src4/dst4 network order. Writes 20
 * bytes; l4_len: the upper layer's length in the result. */
void x_hdr6to4(const struct xlat_map *m, const uint8_t *in, const struct x_v6 *v,
	       uint32_t src4, uint32_t dst4, uint32_t l4_len, uint8_t proto, uint8_t *out);
/* The IPv6 header (+ fragment header when the IPv4 packet is a fragment) for an IPv4 one;
 * returns its length (40 or 48). */
unsigned int x_hdr4to6(const uint8_t *in, const uint8_t src6[16], const uint8_t dst6[16],
		       uint32_t l4_len, uint8_t proto, uint8_t *out);
/* Adjust a TCP/UDP checksum in l4 (have bytes of it) for the pseudo header addresses
 * changing from old (sum) to new (sum). false: UDP checksum 0 (the caller decides). */
bool x_l4_adjust(uint8_t proto, uint8_t *l4, uint32_t have, uint32_t old, uint32_t new_);

#endif /* NATGW_NAT64_PRIVATE_H */
