/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * helper_irc.c - the IRC DCC helper: a client's CTCP "\1DCC SEND name ip port [size]\1"
 * or "\1DCC CHAT chat ip port\1" (in a PRIVMSG) announces an endpoint, the address as a
 * decimal 32-bit number. Under SNAT the "ip port" text is rewritten to the outside address
 * and a reserved outside port, and a connection from anyone (the other IRC user's address
 * is not known) to that port is expected. The file name may be quoted. Like netfilter's
 * IRC helper only the client's direction is read. Ports below 1024 are parsed (port 0 is
 * malformed) and refused by helper.c unless allowed (helper_config.allow_priv_ports: a chat
 * client has no business opening a privileged port). A "\1DCC" whose CTCP message does not
 * end in the segment is PARTIAL; unlike FTP the segment is not dropped but passes
 * unchanged (ops.drop_partial false): IRC text is free chat, a message that merely
 * contains "\1DCC" must not stall the connection, and netfilter's IRC helper accepts it
 * too. Off by default (RFC 5382 REQ-6).
 */
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_common.h>

#include "helper_private.h"

static inline bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* decimal number at *i up to `max`: value or -1; advances *i */
static int64_t
dec(const uint8_t *s, uint32_t end, uint32_t *i, int64_t max)
{
	uint32_t j = *i;
	int64_t v = 0;

	while (j < end && is_digit(s[j]) && j - *i < 10)
		v = v * 10 + (s[j++] - '0');
	if (j == *i || (j < end && is_digit(s[j])) || v > max)
		return -1;
	*i = j;
	return v;
}

static int
parse_dcc(const uint8_t *s, uint32_t end, uint32_t i, struct helper_match *m)
{
	uint32_t start;
	int64_t ip, port;

	/* the argument: "quoted name" or a word */
	if (i < end && s[i] == '"') {
		const uint8_t *q = memchr(s + i + 1, '"', end - i - 1);

		if (q == NULL)
			return HELPER_P_MALFORMED;
		i = (uint32_t)(q - s) + 1;
	} else {
		while (i < end && s[i] != ' ')
			i++;
	}
	if (i >= end || s[i] != ' ')
		return HELPER_P_MALFORMED;
	while (i < end && s[i] == ' ')
		i++;
	start = i;
	ip = dec(s, end, &i, UINT32_MAX);
	if (ip < 0 || i >= end || s[i++] != ' ')
		return HELPER_P_MALFORMED;
	port = dec(s, end, &i, 65535);
	if (port <= 0 || (i < end && s[i] != ' ' && s[i] != 1))
		return HELPER_P_MALFORMED;
	m->addr = rte_cpu_to_be_32((uint32_t)ip);
	m->port = (uint16_t)port;
	m->off = (uint16_t)start;
	m->len = (uint16_t)(i - start);
	return HELPER_P_FOUND;
}

int
helper_irc_parse(const uint8_t *data, uint32_t len, uint8_t dir, struct helper_match *m)
{
	static const char tag[] = "\1DCC ";
	const uint32_t tlen = sizeof(tag) - 1;
	uint32_t i;

	memset(m, 0, sizeof(*m));
	if (dir != CT_DIR_ORIG)
		return HELPER_P_NONE;
	for (i = 0; i + tlen <= len; i++) {
		const uint8_t *e;
		uint32_t end, a = i + tlen;

		if (memcmp(data + i, tag, tlen) != 0)
			continue;
		/* the CTCP message must end in this segment (\1), else it is cut */
		e = memchr(data + a, 1, len - a);
		if (e == NULL)
			return HELPER_P_PARTIAL;
		end = (uint32_t)(e - data);
		if (end - a >= 5 && memcmp(data + a, "SEND ", 5) == 0)
			m->kind = HELPER_K_DCC_SEND;
		else if (end - a >= 5 && memcmp(data + a, "CHAT ", 5) == 0)
			m->kind = HELPER_K_DCC_CHAT;
		else
			continue;	/* other DCC requests (RESUME, ACCEPT ...) */
		return parse_dcc(data, end, a + 5, m);
	}
	/* a "\1DCC" cut by the segment end (at least "\1D": a CTCP message ends in \1) */
	for (i = len > tlen ? len - tlen + 1 : 0; i + 2 <= len; i++)
		if (memcmp(data + i, tag, len - i) == 0)
			return HELPER_P_PARTIAL;
	return HELPER_P_NONE;
}

/* "ip port" with the address as a decimal number */
static int
irc_format(const struct helper_match *m, uint32_t addr, uint16_t port, char *out, size_t cap)
{
	int n;

	if (m->kind != HELPER_K_DCC_SEND && m->kind != HELPER_K_DCC_CHAT)
		return -1;
	n = snprintf(out, cap, "%u %u", rte_be_to_cpu_32(addr), port);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

const struct helper_ops helper_irc_ops = {
	.name = "irc",
	.proto = IPPROTO_TCP,
	.line_based = false,
	.drop_partial = false,
	.exp_wild = HELPER_EXP_ANY_SADDR,
	.parse = helper_irc_parse,
	.format = irc_format,
	.expect_hit = NULL,
};
