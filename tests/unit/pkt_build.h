/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pkt_build.h - real packet bytes for the unit tests: Ethernet + IPv4 + TCP/UDP/ICMP with
 * correct checksums, and full (non-incremental) checksum verification, so every rewrite is
 * checked against a from-scratch recomputation.
 */
#ifndef NATGW_TEST_PKT_BUILD_H
#define NATGW_TEST_PKT_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#define PB_ETH_LEN 14
#define PB_MAX 2048

/* host-order convenience: PB_IP(192,168,1,10) gives a network-order uint32_t */
#define PB_IP(a, b, c, d) \
	((uint32_t)__builtin_bswap32(((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d)))

struct pb_spec {
	uint32_t src, dst;	/* network order */
	uint16_t sport, dport;	/* host order; ICMP: sport = identifier */
	uint8_t proto;		/* IPPROTO_TCP/UDP/ICMP/other */
	uint8_t ttl;		/* 0 -> 64 */
	uint8_t tcp_flags;	/* TCP */
	uint32_t seq, ack;	/* TCP, host order */
	uint16_t win;		/* TCP window, host order (0 -> 65535) */
	const uint8_t *tcp_opts; /* raw TCP options, padded to 4 by the builder */
	uint8_t tcp_opts_len;
	uint8_t icmp_type, icmp_code; /* ICMP */
	uint16_t icmp_seq;
	const void *payload;
	uint16_t payload_len;
	bool udp_zero_csum;	/* UDP: send checksum 0 */
	uint16_t frag_off;	/* raw IPv4 frag field, host order (flags | offset/8) */
	uint16_t ip_id;
};

/* TCP flags */
#define PB_FIN 0x01
#define PB_SYN 0x02
#define PB_RST 0x04
#define PB_PSH 0x08
#define PB_ACK 0x10
#define PB_URG 0x20

/** Build Ethernet+IPv4+L4 into buf (>= PB_MAX). Returns frame length. */
unsigned int pb_build(uint8_t *buf, const struct pb_spec *s);

/**
 * Build an ICMP error (type/code) from `from` to `to` quoting the first `quote` bytes
 * (0 -> IP header + 8) of the IPv4 datagram in `orig` (a frame built by pb_build).
 */
unsigned int pb_build_icmp_error(uint8_t *buf, uint32_t from, uint32_t to, uint8_t type,
				 uint8_t code, const uint8_t *orig, unsigned int orig_len,
				 unsigned int quote);

/** One's complement sum of len bytes (for tests that build odd packets by hand). */
uint16_t pb_csum(const void *data, unsigned int len, uint32_t initial);

/**
 * Recompute every checksum of the frame from scratch and compare with what it carries:
 * IPv4 header, TCP/UDP (with pseudo header; UDP 0 accepted), ICMP, and for ICMP errors the
 * embedded IPv4 header checksum. Returns true when all are right.
 */
bool pb_csum_ok(const uint8_t *frame, unsigned int len);

/* Field accessors on a frame built with PB_ETH_LEN of Ethernet header (host order). */
uint32_t pb_ip_src(const uint8_t *f);	/* network order */
uint32_t pb_ip_dst(const uint8_t *f);	/* network order */
uint16_t pb_sport(const uint8_t *f);	/* TCP/UDP port or ICMP id */
uint16_t pb_dport(const uint8_t *f);
uint8_t pb_ttl(const uint8_t *f);
uint32_t pb_tcp_seq(const uint8_t *f);
uint32_t pb_tcp_ack(const uint8_t *f);
/* ICMP error: the embedded datagram's fields (offset of inner IPv4 header returned) */
unsigned int pb_inner_off(const uint8_t *f);

/* ---- IPv6: Ethernet (0x86dd) + IPv6 + optional raw extension headers + L4 ---- */
struct pb6_spec {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;	/* host order; ICMPv6: sport = identifier */
	uint8_t proto;		/* IPPROTO_TCP/UDP/ICMPV6/other: the upper layer */
	uint8_t hops;		/* 0 -> 64 */
	uint8_t tcp_flags;
	uint32_t seq, ack;
	uint16_t win;
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_seq;
	const void *payload;
	uint16_t payload_len;
	const uint8_t *ext;	/* raw extension headers (their next-header bytes set by the
				 * caller, the last one = proto) */
	uint16_t ext_len;
	uint8_t ext_nh;		/* type of the first extension header */
};

/** Build Ethernet+IPv6(+ext)+L4 with correct checksums into buf (>= PB_MAX). */
unsigned int pb6_build(uint8_t *buf, const struct pb6_spec *s);
/** ICMPv6 error from `from` to `to` with the 32-bit parameter (MTU, pointer), quoting the
 * first `quote` bytes (0: all) of the IPv6 datagram in orig (a pb6_build frame). */
unsigned int pb6_build_icmp_error(uint8_t *buf, const uint8_t from[16], const uint8_t to[16],
				  uint8_t type, uint8_t code, uint32_t param,
				  const uint8_t *orig, unsigned int orig_len, unsigned int quote);
/** The upper-layer checksum of an IPv6 frame, recomputed from scratch, is right. */
bool pb6_csum_ok(const uint8_t *frame, unsigned int len);

#endif
