/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat64_addr.c - IPv4-embedded IPv6 addresses (RFC 6052 section 2): the prefix formats
 * /32 /40 /48 /56 /64 /96, where the 32 bits of the IPv4 address go around the "u" octet
 * (bits 64..71, always zero), and the RFC 6052 3.1 rule that the Well-Known Prefix never
 * represents a non-global IPv4 address.
 */
#include <string.h>

#include "nat64.h"

static const uint8_t nat64_wkp[16] = { 0x00, 0x64, 0xff, 0x9b };

/* Where byte i (0..3) of the IPv4 address goes for a prefix of len bits (RFC 6052 2.2
 * figure 1): right after the prefix, skipping the u octet (byte 8). */
static inline unsigned int
nat64_v4_pos(unsigned int len, unsigned int i)
{
	unsigned int p;

	if (len == 96)
		return 12 + i;
	p = len / 8 + i;
	return p >= 8 ? p + 1 : p;
}

static bool
nat64_len_ok(unsigned int len)
{
	return len == 32 || len == 40 || len == 48 || len == 56 || len == 64 || len == 96;
}

int
nat64_prefix_set(struct nat64_prefix *p, const uint8_t a[16], unsigned int len)
{
	unsigned int i;

	if (!nat64_len_ok(len) || a[8] != 0)
		return -1;
	for (i = len / 8; i < 16; i++)
		if (a[i] != 0)
			return -1;
	memcpy(p->a, a, 16);
	p->len = (uint8_t)len;
	return 0;
}

bool
nat64_prefix_is_wkp(const struct nat64_prefix *p)
{
	return p->len == 96 && memcmp(p->a, nat64_wkp, 16) == 0;
}

bool
nat64_prefix_match(const struct nat64_prefix *p, const uint8_t a[16])
{
	return nat64_len_ok(p->len) && memcmp(a, p->a, p->len / 8) == 0 && a[8] == 0;
}

void
nat64_embed(const struct nat64_prefix *p, uint32_t v4, uint8_t out[16])
{
	const uint8_t *b = (const uint8_t *)&v4;
	unsigned int i;

	memset(out, 0, 16);
	memcpy(out, p->a, p->len / 8);
	for (i = 0; i < 4; i++)
		out[nat64_v4_pos(p->len, i)] = b[i];
}

bool
nat64_extract(const struct nat64_prefix *p, const uint8_t a[16], uint32_t *v4)
{
	uint8_t *b = (uint8_t *)v4;
	unsigned int i;

	if (!nat64_prefix_match(p, a))
		return false;
	for (i = 0; i < 4; i++)
		b[i] = a[nat64_v4_pos(p->len, i)];
	return true;
}

bool
nat64_v4_global(uint32_t v4)
{
	const uint8_t *b = (const uint8_t *)&v4;

	return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224 ||
		 (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
		 (b[0] == 169 && b[1] == 254) || (b[0] == 100 && (b[1] & 0xc0) == 64));
}
