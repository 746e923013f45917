/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * helper_ftp.c - the FTP helper: parsers and formatters of the four forms that carry a
 * data endpoint on the control connection, IPv4 text forms only:
 *   client (original direction):  PORT h1,h2,h3,h4,p1,p2       RFC 959 section 4.1.2
 *                                  EPRT |1|a.b.c.d|port|        RFC 2428 section 2
 *   server (reply direction):      227 ... (h1,h2,h3,h4,p1,p2)  RFC 959 / RFC 1123 4.1.2.6
 *                                  229 ... (|||port|)           RFC 2428 section 3
 * Like netfilter's FTP helper, a command is only read at the start of a line, and the
 * caller only calls at a segment that starts a line (helper.c tracks line starts in
 * sequence space; on a port other than 21 only after a CRLF and only the latest one); a
 * known command without its end of line in this segment is PARTIAL (dropped by the
 * caller, never half rewritten). Commands are case-insensitive (RFC 959
 * section 5.3); numbers must be in range, ports non-zero, nothing but blanks may follow.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_common.h>

#include "helper_private.h"

struct ftp_cmd {
	const char *prefix;
	uint8_t dir;
	uint8_t kind;
};

static const struct ftp_cmd ftp_cmds[] = {
	{ .prefix = "PORT ", .dir = CT_DIR_ORIG, .kind = HELPER_K_PORT },
	{ .prefix = "EPRT ", .dir = CT_DIR_ORIG, .kind = HELPER_K_EPRT },
	{ .prefix = "227 ", .dir = CT_DIR_REPLY, .kind = HELPER_K_PASV },
	{ .prefix = "229 ", .dir = CT_DIR_REPLY, .kind = HELPER_K_EPSV },
};

static inline bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* decimal number of 1..maxdig digits at *i, <= max; advances *i. -1 if none/too big. */
static long
parse_num(const uint8_t *s, uint32_t end, uint32_t *i, unsigned int maxdig, long max)
{
	uint32_t j = *i;
	long v = 0;

	while (j < end && is_digit(s[j]) && j - *i < maxdig)
		v = v * 10 + (s[j++] - '0');
	if (j == *i || (j < end && is_digit(s[j])) || v > max)
		return -1;
	*i = j;
	return v;
}

/* only blanks up to the end of the line */
static bool
rest_blank(const uint8_t *s, uint32_t i, uint32_t eol)
{
	while (i < eol && (s[i] == ' ' || s[i] == '\r'))
		i++;
	return i == eol;
}

/* h1,h2,h3,h4,p1,p2 at *i: addr (network order), port (host order) */
static bool
parse_six(const uint8_t *s, uint32_t eol, uint32_t *i, uint32_t *addr, uint16_t *port)
{
	long v[6];
	unsigned int k;

	for (k = 0; k < 6; k++) {
		if (k > 0) {
			if (*i >= eol || s[*i] != ',')
				return false;
			(*i)++;
		}
		v[k] = parse_num(s, eol, i, 3, 255);
		if (v[k] < 0)
			return false;
	}
	*addr = rte_cpu_to_be_32((uint32_t)(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]));
	*port = (uint16_t)(v[4] << 8 | v[5]);
	return *port != 0;
}

static bool
parse_dotted(const uint8_t *s, uint32_t eol, uint32_t *i, uint32_t *addr)
{
	uint32_t a = 0;
	unsigned int k;

	for (k = 0; k < 4; k++) {
		long v;

		if (k > 0) {
			if (*i >= eol || s[*i] != '.')
				return false;
			(*i)++;
		}
		v = parse_num(s, eol, i, 3, 255);
		if (v < 0)
			return false;
		a = a << 8 | (uint32_t)v;
	}
	*addr = rte_cpu_to_be_32(a);
	return true;
}

static inline bool
is_delim(uint8_t c)
{
	return c >= 33 && c <= 126;	/* RFC 2428: any printable ASCII but space */
}

static int
parse_port(const uint8_t *s, uint32_t eol, uint32_t i, struct helper_match *m)
{
	uint32_t start = i;

	while (i < eol && s[i] == ' ')
		i++;
	start = i;
	if (!parse_six(s, eol, &i, &m->addr, &m->port) || !rest_blank(s, i, eol))
		return HELPER_P_MALFORMED;
	m->off = (uint16_t)start;
	m->len = (uint16_t)(i - start);
	return HELPER_P_FOUND;
}

static int
parse_eprt(const uint8_t *s, uint32_t eol, uint32_t i, struct helper_match *m)
{
	uint32_t start;
	uint8_t d;
	long port;

	while (i < eol && s[i] == ' ')
		i++;
	if (i + 3 > eol || !is_delim(s[i]))
		return HELPER_P_MALFORMED;
	start = i;
	d = s[i++];
	if (s[i] != '1' || s[i + 1] != d)
		return s[i] == '2' ? HELPER_P_NONE : HELPER_P_MALFORMED; /* IPv6: not ours */
	i += 2;
	if (!parse_dotted(s, eol, &i, &m->addr) || i >= eol || s[i++] != d)
		return HELPER_P_MALFORMED;
	port = parse_num(s, eol, &i, 5, 65535);
	if (port <= 0 || i >= eol || s[i++] != d || !rest_blank(s, i, eol))
		return HELPER_P_MALFORMED;
	m->port = (uint16_t)port;
	m->delim = (char)d;
	m->off = (uint16_t)start;
	m->len = (uint16_t)(i - start);
	return HELPER_P_FOUND;
}

static int
parse_227(const uint8_t *s, uint32_t eol, uint32_t i, struct helper_match *m)
{
	uint32_t start;

	/* RFC 1123 4.1.2.6: the numbers may come with or without parentheses: take the
	 * first digit of the text */
	while (i < eol && !is_digit(s[i]))
		i++;
	start = i;
	if (!parse_six(s, eol, &i, &m->addr, &m->port))
		return HELPER_P_MALFORMED;
	m->off = (uint16_t)start;
	m->len = (uint16_t)(i - start);
	return HELPER_P_FOUND;
}

static int
parse_229(const uint8_t *s, uint32_t eol, uint32_t i, struct helper_match *m)
{
	uint32_t start;
	uint8_t d;
	long port;

	while (i < eol && s[i] != '(')
		i++;
	if (i + 4 >= eol)
		return HELPER_P_MALFORMED;
	i++;
	d = s[i];
	if (!is_delim(d) || s[i + 1] != d || s[i + 2] != d)
		return HELPER_P_MALFORMED;
	i += 3;
	start = i;
	port = parse_num(s, eol, &i, 5, 65535);
	if (port <= 0 || i >= eol || s[i] != d)
		return HELPER_P_MALFORMED;
	m->port = (uint16_t)port;
	m->delim = (char)d;
	m->off = (uint16_t)start;
	m->len = (uint16_t)(i - start);
	return HELPER_P_FOUND;
}

int
helper_ftp_parse(const uint8_t *data, uint32_t len, uint8_t dir, struct helper_match *m)
{
	unsigned int k;

	memset(m, 0, sizeof(*m));
	for (k = 0; k < RTE_DIM(ftp_cmds); k++) {
		const struct ftp_cmd *c = &ftp_cmds[k];
		uint32_t plen = (uint32_t)strlen(c->prefix), eol;
		const uint8_t *nl;

		if (c->dir != dir)
			continue;
		if (len < plen) {
			/* the start of a command cut by the segment end */
			if (strncasecmp((const char *)data, c->prefix, len) == 0)
				return HELPER_P_PARTIAL;
			continue;
		}
		if (strncasecmp((const char *)data, c->prefix, plen) != 0)
			continue;
		nl = memchr(data, '\n', len);
		if (nl == NULL)
			return HELPER_P_PARTIAL;
		eol = (uint32_t)(nl - data);
		m->kind = c->kind;
		switch (c->kind) {
		case HELPER_K_PORT:
			return parse_port(data, eol, plen, m);
		case HELPER_K_EPRT:
			return parse_eprt(data, eol, plen, m);
		case HELPER_K_PASV:
			return parse_227(data, eol, plen, m);
		default:
			return parse_229(data, eol, plen, m);
		}
	}
	return HELPER_P_NONE;
}

static int
ftp_format(const struct helper_match *m, uint32_t addr, uint16_t port, char *out, size_t cap)
{
	uint32_t a = rte_be_to_cpu_32(addr);
	int n;

	switch (m->kind) {
	case HELPER_K_PORT:
	case HELPER_K_PASV:
		n = snprintf(out, cap, "%u,%u,%u,%u,%u,%u", a >> 24, (a >> 16) & 255,
			     (a >> 8) & 255, a & 255, port >> 8, port & 255);
		break;
	case HELPER_K_EPRT:
		n = snprintf(out, cap, "%c1%c%u.%u.%u.%u%c%u%c", m->delim, m->delim, a >> 24,
			     (a >> 16) & 255, (a >> 8) & 255, a & 255, m->delim, port, m->delim);
		break;
	case HELPER_K_EPSV:
		n = snprintf(out, cap, "%u", port);
		break;
	default:
		return -1;
	}
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

const struct helper_ops helper_ftp_ops = {
	.name = "ftp",
	.proto = IPPROTO_TCP,
	.line_based = true,
	.drop_partial = true,
	.exp_wild = 0,
	.parse = helper_ftp_parse,
	.format = ftp_format,
	.expect_hit = NULL,
};
