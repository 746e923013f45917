/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_ipv4.c - libFuzzer target for the IPv4 parser, ct_parse_ipv4() (lib/conntrack/ct.h).
 *
 * Input: one selector byte, then the frame. Selector bit 0: verify the header checksum;
 * bit 7 set: the IPv4 header starts at offset (selector >> 1) & 0x3f, else at 14 (after an
 * Ethernet header). The frame is copied into a heap buffer of exactly its length, so that
 * AddressSanitizer catches any read past `len` (ct.h: "Nothing is read past len").
 *
 * Besides memory safety it checks what ct.h promises of a parsed packet: every offset and
 * length lies within the frame and agrees with the IPv4 total length, an ICMP error's
 * embedded datagram lies within the ICMP payload, non-first fragments return
 * CT_R_FRAGMENT with is_fragment set, and the reason is a known one. A broken promise
 * aborts (a crash to libFuzzer).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "ct.h"

#define FZ_CHECK(cond)								\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "fuzz_ipv4: %s:%d: check failed: %s\n",	\
				__FILE__, __LINE__, #cond);			\
			abort();						\
		}								\
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fz_check_parsed(const uint8_t *buf, uint32_t len, uint16_t l3_off, const struct ct_pkt *p)
{
	const uint8_t *ip = buf + l3_off;
	uint32_t ihl = (ip[0] & 0xfu) * 4u;
	uint32_t end = (uint32_t)l3_off + p->ip_len;
	volatile uint8_t sink = 0;
	uint32_t i;

	FZ_CHECK(p->l3_off == l3_off);
	FZ_CHECK(end <= len);
	FZ_CHECK(p->ip_len >= ihl);
	FZ_CHECK(p->l4_off == l3_off + ihl);
	FZ_CHECK((uint32_t)p->l4_off + p->l4_len == end);
	FZ_CHECK(p->payload_off >= p->l4_off);
	FZ_CHECK((uint32_t)p->payload_off + p->payload_len == end);
	FZ_CHECK(p->tuple.family == CT_FAMILY_IPV4);
	FZ_CHECK(p->tuple.zero == 0);
	FZ_CHECK(p->ttl == ip[8]);
	if (ip[9] == IPPROTO_TCP)
		FZ_CHECK(p->payload_off >= p->l4_off + 20);
	if (ip[9] == IPPROTO_UDP || ip[9] == IPPROTO_ICMP)
		FZ_CHECK(p->payload_off == p->l4_off + 8);
	if (p->is_icmp_error) {
		FZ_CHECK(ip[9] == IPPROTO_ICMP);
		FZ_CHECK(p->inner_l3_off == p->payload_off);
		FZ_CHECK((uint32_t)p->inner_l3_off + p->inner_len <= end);
		FZ_CHECK(p->inner_l4_off >= p->inner_l3_off + 20);
		FZ_CHECK((uint32_t)p->inner_l4_off + 8 <= (uint32_t)p->inner_l3_off + p->inner_len);
		/* the tuple is the quoted datagram's, inverted */
		FZ_CHECK(p->tuple.proto == buf[p->inner_l3_off + 9]);
		FZ_CHECK(memcmp(&p->tuple.dst, buf + p->inner_l3_off + 12, 4) == 0);
		FZ_CHECK(memcmp(&p->tuple.src, buf + p->inner_l3_off + 16, 4) == 0);
	} else {
		FZ_CHECK(p->tuple.proto == ip[9]);
		/* the tuple is the packet's own */
		FZ_CHECK(memcmp(&p->tuple.src, ip + 12, 4) == 0);
		FZ_CHECK(memcmp(&p->tuple.dst, ip + 16, 4) == 0);
	}
	/* the parsed regions are readable (ASan: the buffer is exactly len bytes) */
	for (i = p->payload_off; i < end; i++)
		sink ^= buf[i];
	(void)sink;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ct_pkt p, q;
	struct ct_tuple t;
	enum ct_reason r;
	uint16_t l3_off;
	uint8_t *buf;
	uint32_t len;
	bool verify;

	if (size < 1 || size > 65536)
		return 0;
	verify = (data[0] & 1) != 0;
	l3_off = (data[0] & 0x80) ? (uint16_t)((data[0] >> 1) & 0x3f) : 14;
	len = (uint32_t)size - 1;
	buf = malloc(len != 0 ? len : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data + 1, len);

	r = ct_parse_ipv4(buf, len, l3_off, verify, &p);
	FZ_CHECK((unsigned int)r < CT_R_MAX);
	FZ_CHECK(strcmp(ct_reason_id(r), "UNKNOWN") != 0);
	if (r == CT_R_NONE) {
		fz_check_parsed(buf, len, l3_off, &p);
		t = ct_tuple_invert(&p.tuple);
		t = ct_tuple_invert(&t);
		FZ_CHECK(ct_tuple_equal(&t, &p.tuple));
	} else if (r == CT_R_FRAGMENT) {
		FZ_CHECK(p.is_fragment);
		FZ_CHECK(p.tuple.sport == 0 && p.tuple.dport == 0);
	}
	/* deterministic: the same bytes parse the same way */
	FZ_CHECK(ct_parse_ipv4(buf, len, l3_off, verify, &q) == r);
	FZ_CHECK(memcmp(&p, &q, sizeof(p)) == 0);
	free(buf);
	return 0;
}
