/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat64.h - the whole API of lib/nat64: IPv4-embedded IPv6 addresses (RFC 6052) and the
 * IP/ICMP translation algorithm (RFC 7915) between one IPv6 host and the IPv4 side, as
 * pure functions over packet bytes (no EAL, no state, [any] lcore).
 *
 * Stateful NAT64 (RFC 6146) is built on top by the app (app/gw_nat64.c): each inside IPv6
 * host gets an IPv4 address of its own (its "shadow", struct xlat_map.host4) from an
 * internal range, its packets are translated into IPv4 packets from that address and take
 * the NAT44 path (conntrack, pool, port allocation, filtering); the replies, to the shadow,
 * are translated back. So the library only maps one host's address and the prefix: the
 * IPv4 side of every other address is the one embedded in it with the prefix.
 */
#ifndef NATGW_NAT64_H
#define NATGW_NAT64_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- RFC 6052: IPv4-embedded IPv6 addresses ---- */

/** An IPv6 prefix for IPv4-embedded addresses: length 32, 40, 48, 56, 64 or 96. */
struct nat64_prefix {
	uint8_t a[16];		/**< the prefix, bits past len zero */
	uint8_t len;		/**< prefix length in bits */
};

/**
 * Set p to a/len. RFC 6052 2.2: len one of 32/40/48/56/64/96, bits 64..71 (the "u" octet)
 * zero; bits past len must be zero. [any]
 * @return 0, or -1 (not a valid prefix; p unchanged).
 */
int nat64_prefix_set(struct nat64_prefix *p, const uint8_t a[16], unsigned int len);

/** Is p the Well-Known Prefix 64:ff9b::/96 (RFC 6052 2.1)? [any] */
bool nat64_prefix_is_wkp(const struct nat64_prefix *p);

/** Does a (16 bytes) lie in p, with a zero u octet (RFC 6052 2.2)? [any] */
bool nat64_prefix_match(const struct nat64_prefix *p, const uint8_t a[16]);

/** The IPv4-embedded IPv6 address of v4 (network order) with p (RFC 6052 2.2, suffix
 * zero). [any] */
void nat64_embed(const struct nat64_prefix *p, uint32_t v4, uint8_t out[16]);

/** The IPv4 address (network order) embedded in a with p. [any]
 * @return false when a is not in p (nothing written). */
bool nat64_extract(const struct nat64_prefix *p, const uint8_t a[16], uint32_t *v4);

/** May v4 (network order) be represented with the Well-Known Prefix? RFC 6052 3.1: not a
 * non-global address (RFC 1918, RFC 6598 shared space, 0/8, 127/8, 169.254/16, 224/3). */
bool nat64_v4_global(uint32_t v4);

/* ---- RFC 7915: translation ---- */

#define XLAT_FOREACH_REASON(_)						\
	_(NONE,			"none")					\
	_(TRUNCATED,		"packet truncated")			\
	_(BAD_HEADER,		"ip header malformed")			\
	_(EXT_HEADERS,		"ipv6 extension headers: too many, or routing header " \
				"with segments left")			\
	_(ADDR_UNMAPPED,	"address neither the host's nor in the prefix")	\
	_(PROTO,		"protocol not translated")		\
	_(CSUM,			"icmp checksum wrong (verified before it is recomputed)") \
	_(ICMP_TYPE,		"icmp type/code with no translation (rfc 7915)")	\
	_(ICMP_INNER,		"icmp error: quoted packet not translatable")	\
	_(ICMP_FRAGMENT,	"fragmented icmp (checksum cannot be translated)")	\
	_(UDP_ZERO_CSUM,	"udp without checksum cannot be translated")	\
	_(TOO_BIG,		"translated packet larger than the buffer")

enum xlat_reason {
#define XLAT_REASON_ENUM(n, s) XLAT_R_##n,
	XLAT_FOREACH_REASON(XLAT_REASON_ENUM)
#undef XLAT_REASON_ENUM
	XLAT_R_MAX
};

const char *xlat_reason_str(enum xlat_reason r);
const char *xlat_reason_id(enum xlat_reason r);

/** What one translation maps, and the MTUs it reports in PTB / fragmentation needed. */
struct xlat_map {
	struct nat64_prefix pfx;
	uint8_t host6[16];	/**< the IPv6 host */
	uint32_t host4;		/**< its IPv4 address (network order) */
	uint16_t mtu4;		/**< MTU of the IPv4 next hop (0: 65535) */
	uint16_t mtu6;		/**< MTU of the IPv6 next hop (0: 65535) */
	uint16_t ip_id;		/**< xlat_6to4: Identification of an IPv4 packet with DF 0
				     (RFC 7915 5.1; the caller varies it per packet) */
};

#define XLAT_IPV6_MIN_MTU 1280	/**< RFC 8200 5 */

/** Results besides the bytes. */
struct xlat_info {
	uint8_t proto;		/**< upper-layer protocol of the result (IPPROTO_*) */
	bool icmp_error;	/**< an ICMP error was translated (its quote too) */
	bool fragment;		/**< the result is a fragment */
};

/**
 * IPv6 -> IPv4 (RFC 7915 section 5). in: an IPv6 packet from m->host6 to an address in
 * m->pfx (its payload length says how much of `len` is the packet). Writes the IPv4
 * packet to out (cap bytes; out and in must not overlap).
 *  - header (5.1): TOS = traffic class, TTL = hop limit (not decremented: the caller
 *    forwards), protocol = the upper layer after hop-by-hop / destination options /
 *    routing (segments left 0) headers, no options, header checksum. DF is 1 when the
 *    IPv4 packet is over 1260 bytes (so that an IPv6 host that sent at most 1280 bytes
 *    never needs PMTUD across IPv4) and Identification 0 then, else DF 0 with m->ip_id;
 *  - a fragment header (5.1.1) becomes Identification (low 16 bits), MF and offset, DF 0;
 *  - TCP/UDP checksums adjusted for the pseudo header (5.5), in non-first fragments not
 *    touched; a UDP checksum 0 is refused (IPv6 forbids it, RFC 8200 8.1);
 *  - ICMPv6 (5.2): echo request/reply; destination unreachable, packet too big (MTU =
 *    min(MTU - 20, mtu4, mtu6 - 20)), time exceeded, parameter problem (pointer mapped,
 *    Figure 6) with the quoted IPv6 packet translated (its source in the prefix, its
 *    destination m->host6); others refused. The ICMPv4 checksum is computed afresh.
 * @return the IPv4 packet's length, or -1 with *why set. [any]
 */
int xlat_6to4(const struct xlat_map *m, const uint8_t *in, uint32_t len, uint8_t *out,
	      uint32_t cap, struct xlat_info *info, enum xlat_reason *why);

/**
 * IPv4 -> IPv6 (RFC 7915 section 4). in: an IPv4 packet to m->host4 (from any address: it
 * is embedded with m->pfx). Writes the IPv6 packet to out (cap bytes, no overlap).
 *  - header (4.1): traffic class = TOS, hop limit = TTL (not decremented), payload length,
 *    next header; a fragment (MF or offset) gets a fragment header (Identification = the
 *    IPv4 one, offset, M). The caller fragments IPv4 packets with DF 0 that would give an
 *    IPv6 packet over 1280 bytes first (section 4: they SHOULD go as fragments <= 1280);
 *  - TCP/UDP checksum adjusted (4.5); a UDP checksum 0 is computed over the datagram,
 *    refused when it is a fragment;
 *  - ICMPv4 (4.2): echo; destination unreachable (codes mapped; fragmentation needed ->
 *    packet too big, MTU = max(1280, min(MTU + 20, mtu6, mtu4 + 20)), 0 from an old router:
 *    the RFC 1191 plateau below the quoted packet's length); time exceeded; parameter
 *    problem (pointer mapped, Figure 3); the quote translated (source m->host4 -> host6),
 *    the error cut to 1280 bytes (RFC 4443 2.4 (c)); ICMPv6 checksum with pseudo header.
 * @return the IPv6 packet's length, or -1 with *why set. [any]
 */
int xlat_4to6(const struct xlat_map *m, const uint8_t *in, uint32_t len, uint8_t *out,
	      uint32_t cap, struct xlat_info *info, enum xlat_reason *why);

#ifdef __cplusplus
}
#endif
#endif /* NATGW_NAT64_H */
