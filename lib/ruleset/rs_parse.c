/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rs_parse.c - reads a ruleset file (the nftables subset of docs/config.md "Ruleset") and
 * compiles it into struct rs_ruleset: a lexer (words, strings, braces, commas, `;`, line
 * ends; `#` comments), a recursive-descent parser over the tokens, and the checks nft itself
 * makes where we can (a statement after the verdict, `reject with tcp reset` without a tcp
 * match, a range whose low end is above its high end). Every error is
 * "FILE:LINE:COL: message 'token'", the position of the offending token, 1-based, columns
 * counted in bytes as nft's own error carets are.
 *
 * Runs on the control plane only; it allocates. The compiled form is rs_private.h's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "rs_private.h"

#define RS_FILE_MAX (1u << 20)	/* a ruleset file larger than this is refused */

enum tok_type { T_WORD, T_STR, T_LBRACE, T_RBRACE, T_COMMA, T_SEMI, T_NL, T_EOF };

struct tok {
	uint8_t type;
	uint32_t off, len;	/* in the source; for T_STR without the quotes */
	uint32_t line, col;
};

struct ps {
	const char *src;
	const char *name;
	struct tok *t;
	uint32_t n, i;
	char *err;
	size_t errlen;
	bool failed;
	struct rs_ruleset *rs;
	uint32_t counter_tok, counter_end;	/* the rule's `counter` and the token after its
						 * values */
	/* rules are built in file order; chain lists made at the end */
};

static uint32_t rs_gen_counter;	/* rs_generation(): process-wide, control plane only */

static void
ps_err_at(struct ps *p, const struct tok *t, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (t->type == T_EOF)
		snprintf(p->err, p->errlen, "%s:%u:%u: %s at end of file", p->name, t->line,
			 t->col, msg);
	else if (t->type == T_NL)
		snprintf(p->err, p->errlen, "%s:%u:%u: %s at end of line", p->name, t->line,
			 t->col, msg);
	else
		snprintf(p->err, p->errlen, "%s:%u:%u: %s '%.*s'", p->name, t->line, t->col, msg,
			 (int)(t->len > 64 ? 64 : t->len), p->src + t->off);
}

/* ---------------------------------------------------------------------------------------
 * Lexer
 */
static int
lex(struct ps *p)
{
	const char *s = p->src;
	uint32_t off = 0, line = 1, col = 1, cap = 256;

	p->t = malloc(cap * sizeof(*p->t));
	if (p->t == NULL)
		return -1;
	for (;;) {
		struct tok tk = { .off = off, .line = line, .col = col, .len = 1 };
		char c = s[off];

		if (p->n + 1 >= cap) {
			struct tok *nt = realloc(p->t, 2 * cap * sizeof(*p->t));

			if (nt == NULL)
				return -1;
			p->t = nt;
			cap *= 2;
		}
		if (c == '\0') {
			tk.type = T_EOF;
			tk.len = 0;
			p->t[p->n++] = tk;
			return 0;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			off++, col++;
			continue;
		}
		if (c == '\\' && s[off + 1] == '\n') {	/* line continuation, as nft */
			off += 2, line++, col = 1;
			continue;
		}
		if (c == '#') {
			while (s[off] != '\0' && s[off] != '\n')
				off++;
			continue;
		}
		if (c == '\n') {
			tk.type = T_NL;
			off++, line++, col = 1;
		} else if (c == '{' || c == '}' || c == ',' || c == ';') {
			tk.type = c == '{' ? T_LBRACE : c == '}' ? T_RBRACE : c == ',' ? T_COMMA :
				  T_SEMI;
			off++, col++;
		} else if (c == '"') {
			uint32_t e = off + 1;

			while (s[e] != '\0' && s[e] != '"' && s[e] != '\n')
				e++;
			if (s[e] != '"') {
				tk.type = T_WORD;
				tk.len = e - off;
				ps_err_at(p, &tk, "unterminated string");
				return -1;
			}
			tk.type = T_STR;
			tk.off = off + 1;
			tk.len = e - off - 1;
			col += e + 1 - off;
			off = e + 1;
		} else if (rs_is_word_char((unsigned char)c)) {
			uint32_t e = off;

			while (rs_is_word_char((unsigned char)s[e]))
				e++;
			tk.type = T_WORD;
			tk.len = e - off;
			col += e - off;
			off = e;
		} else {
			tk.type = T_WORD;
			ps_err_at(p, &tk, "unexpected character");
			return -1;
		}
		p->t[p->n++] = tk;
	}
}

/* ---------------------------------------------------------------------------------------
 * Token helpers
 */
static struct tok *
cur(struct ps *p)
{
	return &p->t[p->i];
}

static bool
is_word(struct ps *p, const struct tok *t, const char *w)
{
	return t->type == T_WORD && strlen(w) == t->len && memcmp(p->src + t->off, w, t->len) == 0;
}

static bool
accept_word(struct ps *p, const char *w)
{
	if (is_word(p, cur(p), w)) {
		p->i++;
		return true;
	}
	return false;
}

static void
skip_nl(struct ps *p)
{
	while (cur(p)->type == T_NL)
		p->i++;
}

/* The current token as a C string (into buf). */
static const char *
tok_str(struct ps *p, const struct tok *t, char *buf, size_t n)
{
	size_t l = t->len < n - 1 ? t->len : n - 1;

	memcpy(buf, p->src + t->off, l);
	buf[l] = '\0';
	return buf;
}

static int
expect_word(struct ps *p, const char *w)
{
	if (accept_word(p, w))
		return 0;
	ps_err_at(p, cur(p), "expected '%s', got", w);
	return -1;
}

static int
parse_u64(struct ps *p, const struct tok *t, const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s == '\0' || !isdigit((unsigned char)*s)) {
		ps_err_at(p, t, "expected a number, got");
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0') {
		ps_err_at(p, t, "expected a number, got");
		return -1;
	}
	if (errno != 0 || v > max) {
		ps_err_at(p, t, "value out of range (0-%llu)", (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Building the compiled form
 */
static struct rs_item *
add_item(struct ps *p, uint8_t kind)
{
	struct rs_ruleset *rs = p->rs;
	struct rs_item *it;

	if (rs->n_items == RS_MAX_ITEMS) {
		ps_err_at(p, cur(p), "too many matches and statements (max %u)", RS_MAX_ITEMS);
		return NULL;
	}
	it = &rs->items[rs->n_items++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	/* sets start at the next range; flag masks (state, status, interfaces) at 0 */
	if (kind == RS_K_SADDR6 || kind == RS_K_DADDR6)
		it->a = rs->n_pfx6;
	else if (kind != RS_K_STATE && kind != RS_K_STATUS && kind != RS_K_IIF &&
		 kind != RS_K_OIF && kind != RS_K_NFPROTO)
		it->a = rs->n_ranges;
	return it;
}

static int
add_pfx6(struct ps *p, struct rs_item *it, const uint8_t a[16], uint8_t len)
{
	struct rs_ruleset *rs = p->rs;

	if (rs->n_pfx6 == RS_MAX_PFX6) {
		ps_err_at(p, cur(p), "too many IPv6 set elements (max %u)", RS_MAX_PFX6);
		return -1;
	}
	memcpy(rs->pfx6[rs->n_pfx6].a, a, 16);
	rs->pfx6[rs->n_pfx6].len = len;
	rs->n_pfx6++;
	it->n++;
	return 0;
}

static int
add_range(struct ps *p, struct rs_item *it, uint32_t lo, uint32_t hi)
{
	struct rs_ruleset *rs = p->rs;

	if (rs->n_ranges == RS_MAX_RANGES) {
		ps_err_at(p, cur(p), "too many set elements (max %u)", RS_MAX_RANGES);
		return -1;
	}
	rs->ranges[rs->n_ranges].lo = lo;
	rs->ranges[rs->n_ranges].hi = hi;
	rs->n_ranges++;
	it->n++;
	return 0;
}

static uint32_t
add_text(struct ps *p, const char *s, size_t len)
{
	struct rs_ruleset *rs = p->rs;
	uint32_t off = rs->text_len;

	if (rs->text_len + len + 1 > RS_TEXT_MAX) {
		ps_err_at(p, cur(p), "ruleset text too long (max %u bytes)", RS_TEXT_MAX);
		return 0;
	}
	memcpy(rs->text + off, s, len);
	rs->text[off + len] = '\0';
	rs->text_len += (uint32_t)len + 1;
	return off;
}

/* ---------------------------------------------------------------------------------------
 * Values
 */
struct name_val {
	const char *name;
	uint32_t v;
};

static const struct name_val ct_states[] = {
	{ "new", 1u << CT_NEW }, { "established", 1u << CT_ESTABLISHED },
	{ "related", 1u << CT_RELATED }, { "invalid", 1u << CT_INVALID },
	{ "untracked", 1u << CT_UNTRACKED }, { NULL, 0 },
};

static const struct name_val ct_statuses[] = {
	{ "dnat", CT_ST_DNAT }, { "snat", CT_ST_SNAT }, { "assured", CT_ST_ASSURED },
	{ "seen-reply", CT_ST_SEEN_REPLY }, { NULL, 0 },
};

static const struct name_val ifaces[] = {
	{ "inside", 1u << RS_IF_INSIDE }, { "outside", 1u << RS_IF_OUTSIDE }, { NULL, 0 },
};

static const struct name_val protos[] = {
	{ "icmp", IPPROTO_ICMP }, { "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP },
	{ "gre", 47 }, { "esp", 50 }, { "ah", 51 }, { "icmpv6", IPPROTO_ICMPV6 },
	{ "ipv6-icmp", IPPROTO_ICMPV6 }, { "sctp", 132 }, { NULL, 0 },
};

/* /etc/services names nft resolves that a gateway policy commonly uses */
static const struct name_val services[] = {
	{ "ftp-data", 20 }, { "ftp", 21 }, { "ssh", 22 }, { "telnet", 23 }, { "smtp", 25 },
	{ "domain", 53 }, { "bootps", 67 }, { "bootpc", 68 }, { "tftp", 69 }, { "http", 80 },
	{ "pop3", 110 }, { "ntp", 123 }, { "imap", 143 }, { "snmp", 161 }, { "https", 443 },
	{ "submission", 587 }, { "imaps", 993 }, { "pop3s", 995 }, { NULL, 0 },
};

static const struct name_val icmp_types[] = {
	{ "echo-reply", 0 }, { "destination-unreachable", 3 }, { "source-quench", 4 },
	{ "redirect", 5 }, { "echo-request", 8 }, { "router-advertisement", 9 },
	{ "router-solicitation", 10 }, { "time-exceeded", 11 }, { "parameter-problem", 12 },
	{ "timestamp-request", 13 }, { "timestamp-reply", 14 }, { "info-request", 15 },
	{ "info-reply", 16 }, { "address-mask-request", 17 }, { "address-mask-reply", 18 },
	{ NULL, 0 },
};

/* `meta nfproto` values (nft's names) */
static const struct name_val nfprotos[] = {
	{ "ipv4", 1u << RS_FAMILY_IPV4 }, { "ipv6", 1u << RS_FAMILY_IPV6 }, { NULL, 0 },
};

/* ICMPv6 types as nft names them (RFC 4443, RFC 4861, RFC 2710) */
static const struct name_val icmp6_types[] = {
	{ "destination-unreachable", 1 }, { "packet-too-big", 2 }, { "time-exceeded", 3 },
	{ "parameter-problem", 4 }, { "echo-request", 128 }, { "echo-reply", 129 },
	{ "mld-listener-query", 130 }, { "mld-listener-report", 131 },
	{ "mld-listener-done", 132 }, { "mld-listener-reduction", 132 },
	{ "nd-router-solicit", 133 }, { "nd-router-advert", 134 },
	{ "nd-neighbor-solicit", 135 }, { "nd-neighbor-advert", 136 }, { "nd-redirect", 137 },
	{ "router-renumbering", 138 }, { NULL, 0 },
};

/* ICMPv6 destination unreachable codes `reject with icmpv6 type` names (RFC 4443 3.1) */
static const struct name_val reject_codes6[] = {
	{ "no-route", 0 }, { "admin-prohibited", 1 }, { "addr-unreachable", 3 },
	{ "port-unreachable", 4 }, { "policy-fail", 5 }, { "reject-route", 6 }, { NULL, 0 },
};

/* `reject with icmpx type`: one name for both families (nft's icmpx), v4 code << 8 | v6 */
static const struct name_val reject_codesx[] = {
	{ "no-route", 0 << 8 | 0 }, { "port-unreachable", 3 << 8 | 4 },
	{ "host-unreachable", 1 << 8 | 3 }, { "admin-prohibited", 13 << 8 | 1 }, { NULL, 0 },
};

/* ICMP destination unreachable codes `reject with icmp(x) type` names (RFC 792, RFC 1812) */
static const struct name_val reject_codes[] = {
	{ "net-unreachable", 0 }, { "host-unreachable", 1 }, { "prot-unreachable", 2 },
	{ "port-unreachable", 3 }, { "net-prohibited", 9 }, { "host-prohibited", 10 },
	{ "admin-prohibited", 13 }, { NULL, 0 },
};

static int
lookup_name(const struct name_val *tab, const char *s, uint32_t *v)
{
	for (; tab->name != NULL; tab++)
		if (strcmp(tab->name, s) == 0) {
			*v = tab->v;
			return 0;
		}
	return -1;
}

enum val_kind { V_FLAGS_STATE, V_FLAGS_STATUS, V_IFACE, V_ADDR, V_PROTO, V_PORT, V_ICMP,
		V_ADDR6, V_NFPROTO, V_ICMP6 };

/* One element of a set into it (ranges) or it->a (flag masks). */
static int
parse_elem(struct ps *p, struct rs_item *it, enum val_kind k)
{
	struct tok *t = cur(p);
	char b[96], *dash;
	uint32_t v, v2;
	uint64_t n;

	if (t->type != T_WORD && !(t->type == T_STR && k == V_IFACE)) {
		ps_err_at(p, t, "expected a value, got");
		return -1;
	}
	tok_str(p, t, b, sizeof(b));
	switch (k) {
	case V_FLAGS_STATE:
	case V_FLAGS_STATUS:
	case V_NFPROTO:
	case V_IFACE: {
		const struct name_val *tab = k == V_FLAGS_STATE ? ct_states :
					     k == V_FLAGS_STATUS ? ct_statuses :
					     k == V_NFPROTO ? nfprotos : ifaces;

		if (lookup_name(tab, b, &v) < 0) {
			ps_err_at(p, t, k == V_FLAGS_STATE ? "unknown ct state" :
				  k == V_FLAGS_STATUS ? "unsupported ct status" :
				  k == V_NFPROTO ? "nfproto must be ipv4 or ipv6, not" :
				  "interface must be inside or outside, not");
			return -1;
		}
		it->a |= v;
		break;
	}
	case V_ADDR6: {
		uint8_t a6[16];
		char *slash = strchr(b, '/');
		uint64_t pl = 128;
		unsigned int i;

		if (slash != NULL) {
			*slash = '\0';
			if (parse_u64(p, t, slash + 1, 128, &pl) < 0)
				return -1;
		}
		if (inet_pton(AF_INET6, b, a6) != 1) {
			ps_err_at(p, t, "bad IPv6 address");
			return -1;
		}
		for (i = 0; i < 128; i++)
			if (i >= pl && (a6[i / 8] & (0x80 >> (i % 8))) != 0) {
				ps_err_at(p, t, "prefix has host bits set");
				return -1;
			}
		if (add_pfx6(p, it, a6, (uint8_t)pl) < 0)
			return -1;
		break;
	}
	case V_ADDR: {
		struct in_addr a;
		char *slash = strchr(b, '/');
		uint64_t pl = 32;
		uint32_t h, mask;

		if (slash != NULL) {
			*slash = '\0';
			if (parse_u64(p, t, slash + 1, 32, &pl) < 0)
				return -1;
		}
		if (inet_pton(AF_INET, b, &a) != 1) {
			ps_err_at(p, t, "bad IPv4 address");
			return -1;
		}
		h = ntohl(a.s_addr);
		mask = pl == 0 ? 0 : ~UINT32_C(0) << (32 - pl);
		if ((h & ~mask) != 0) {
			ps_err_at(p, t, "prefix has host bits set");
			return -1;
		}
		if (add_range(p, it, h, h | ~mask) < 0)
			return -1;
		break;
	}
	case V_PROTO:
		if (lookup_name(protos, b, &v) < 0) {
			if (!isdigit((unsigned char)b[0])) {
				ps_err_at(p, t, "unknown protocol");
				return -1;
			}
			if (parse_u64(p, t, b, 255, &n) < 0)
				return -1;
			v = (uint32_t)n;
		}
		if (add_range(p, it, v, v) < 0)
			return -1;
		break;
	case V_ICMP:
	case V_ICMP6:
		if (lookup_name(k == V_ICMP ? icmp_types : icmp6_types, b, &v) < 0) {
			if (!isdigit((unsigned char)b[0])) {
				ps_err_at(p, t, k == V_ICMP ? "unknown icmp type" :
					  "unknown icmpv6 type");
				return -1;
			}
			if (parse_u64(p, t, b, 255, &n) < 0)
				return -1;
			v = (uint32_t)n;
		}
		if (add_range(p, it, v, v) < 0)
			return -1;
		break;
	case V_PORT:
		dash = isdigit((unsigned char)b[0]) ? strchr(b, '-') : NULL;
		if (dash != NULL)
			*dash = '\0';
		if (lookup_name(services, b, &v) < 0) {
			if (!isdigit((unsigned char)b[0])) {
				ps_err_at(p, t, "unknown service");
				return -1;
			}
			if (parse_u64(p, t, b, 65535, &n) < 0)
				return -1;
			v = (uint32_t)n;
		}
		v2 = v;
		if (dash != NULL) {
			if (parse_u64(p, t, dash + 1, 65535, &n) < 0)
				return -1;
			v2 = (uint32_t)n;
			if (v2 < v) {
				ps_err_at(p, t, "range low end above high end");
				return -1;
			}
		}
		if (add_range(p, it, v, v2) < 0)
			return -1;
		break;
	}
	p->i++;
	return 0;
}

/* A value, `{ a, b, ... }`, or for flag types also `a,b,...`. */
static int
parse_set(struct ps *p, struct rs_item *it, enum val_kind k)
{
	bool flags = k == V_FLAGS_STATE || k == V_FLAGS_STATUS;

	if (cur(p)->type == T_LBRACE) {
		struct tok *open = cur(p);
		unsigned int cnt = 0;

		p->i++;
		for (;;) {
			skip_nl(p);
			if (cur(p)->type == T_RBRACE && cnt != 0) {
				p->i++;
				return 0;
			}
			if (cur(p)->type == T_RBRACE) {
				ps_err_at(p, open, "empty set");
				return -1;
			}
			if (parse_elem(p, it, k) < 0)
				return -1;
			cnt++;
			skip_nl(p);
			if (cur(p)->type == T_COMMA) {
				p->i++;
			} else if (cur(p)->type != T_RBRACE) {
				ps_err_at(p, cur(p), "expected ',' or '}' in set, got");
				return -1;
			}
		}
	}
	if (parse_elem(p, it, k) < 0)
		return -1;
	while (flags && cur(p)->type == T_COMMA) {
		p->i++;
		if (parse_elem(p, it, k) < 0)
			return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Rules
 */
static bool
end_of_rule(const struct tok *t)
{
	return t->type == T_NL || t->type == T_SEMI || t->type == T_RBRACE || t->type == T_EOF;
}

static int
parse_reject(struct ps *p, struct rs_rule *r, bool tcp_ctx, const struct tok *kw)
{
	char b[64];
	uint32_t v;
	int fam = 0;	/* 0 icmp, 1 icmpv6, 2 icmpx */

	r->verdict = RS_REJECT;
	r->reject_code = 3;	/* nft: plain reject is icmp port-unreachable */
	r->reject_code6 = 4;	/* and icmpv6 port-unreachable for IPv6 (inet table) */
	if (!accept_word(p, "with"))
		return 0;
	if (accept_word(p, "tcp")) {
		if (expect_word(p, "reset") < 0)
			return -1;
		if (!tcp_ctx) {
			ps_err_at(p, kw, "reject with tcp reset needs a tcp match in the rule:");
			return -1;
		}
		r->reject_rst = true;
		return 0;
	}
	if (accept_word(p, "icmpx")) {
		fam = 2;
	} else if (accept_word(p, "icmpv6")) {
		fam = 1;
	} else if (!accept_word(p, "icmp")) {
		ps_err_at(p, cur(p), "expected 'tcp reset', 'icmp type', 'icmpv6 type' or "
			  "'icmpx type', got");
		return -1;
	}
	if (expect_word(p, "type") < 0)
		return -1;
	if (cur(p)->type != T_WORD ||
	    lookup_name(fam == 0 ? reject_codes : fam == 1 ? reject_codes6 : reject_codesx,
			tok_str(p, cur(p), b, sizeof(b)), &v) < 0) {
		ps_err_at(p, cur(p), "unknown reject type");
		return -1;
	}
	if (fam == 2) {
		r->reject_code = (uint8_t)(v >> 8);
		r->reject_code6 = (uint8_t)v;
	} else {
		struct rs_item *it;

		/* nft in an inet table: `reject with icmp` implies `meta nfproto ipv4`,
		 * `with icmpv6` `meta nfproto ipv6` (the rule matches that family only) */
		if (fam == 0)
			r->reject_code = (uint8_t)v;
		else
			r->reject_code6 = (uint8_t)v;
		it = add_item(p, RS_K_NFPROTO);
		if (it == NULL)
			return -1;
		it->a = 1u << (fam == 0 ? RS_FAMILY_IPV4 : RS_FAMILY_IPV6);
	}
	p->i++;
	return 0;
}

static int
parse_limit(struct ps *p, struct rs_rule *r)
{
	struct rs_ruleset *rs = p->rs;
	struct rs_item *it;
	struct rs_limit *l;
	struct tok *t;
	char b[64], *slash;
	uint64_t rate, burst = RS_LIMIT_BURST_DEFAULT;
	uint64_t unit;

	if (expect_word(p, "rate") < 0)
		return -1;
	t = cur(p);
	if (t->type != T_WORD) {
		ps_err_at(p, t, "expected RATE/second, got");
		return -1;
	}
	tok_str(p, t, b, sizeof(b));
	slash = strchr(b, '/');
	if (slash == NULL) {
		ps_err_at(p, t, "expected RATE/second, got");
		return -1;
	}
	*slash = '\0';
	if (parse_u64(p, t, b, 1000000000, &rate) < 0)
		return -1;
	if (rate == 0) {
		ps_err_at(p, t, "rate must be at least 1");
		return -1;
	}
	if (strcmp(slash + 1, "second") == 0)
		unit = 1;
	else if (strcmp(slash + 1, "minute") == 0)
		unit = 60;
	else if (strcmp(slash + 1, "hour") == 0)
		unit = 3600;
	else if (strcmp(slash + 1, "day") == 0)
		unit = 86400;
	else {
		ps_err_at(p, t, "unknown rate unit (second, minute, hour, day)");
		return -1;
	}
	p->i++;
	if (accept_word(p, "burst")) {
		t = cur(p);
		if (parse_u64(p, t, tok_str(p, t, b, sizeof(b)), 1000000, &burst) < 0)
			return -1;
		if (burst == 0) {
			ps_err_at(p, t, "burst must be at least 1");
			return -1;
		}
		p->i++;
		if (expect_word(p, "packets") < 0)
			return -1;
	}
	if (r->limit >= 0) {
		ps_err_at(p, t, "one limit per rule");
		return -1;
	}
	it = add_item(p, RS_K_LIMIT);
	if (it == NULL)
		return -1;
	if (rs->n_limits == RS_MAX_RULES) {
		ps_err_at(p, t, "too many limits");
		return -1;
	}
	it->a = rs->n_limits;
	r->limit = (int32_t)rs->n_limits;
	l = &rs->limits[rs->n_limits++];
	l->rate = rate;
	l->unit_us = unit * CT_USEC_PER_SEC;
	/* the rate and the burst are divided among the workers (docs/config.md): each worker's
	 * bucket refills at rate / n_workers and holds burst / n_workers packets, at least 1 */
	l->burst = burst / rs->n_workers != 0 ? (uint32_t)(burst / rs->n_workers) : 1;
	l->cost = l->unit_us * rs->n_workers;
	l->cap = l->cost * l->burst;
	return 0;
}

static int
parse_log(struct ps *p, struct rs_rule *r)
{
	struct rs_item *it = add_item(p, RS_K_LOG);

	if (it == NULL)
		return -1;
	while (!end_of_rule(cur(p))) {
		if (accept_word(p, "prefix")) {
			struct tok *t = cur(p);

			if (t->type != T_STR) {
				ps_err_at(p, t, "log prefix must be a quoted string, not");
				return -1;
			}
			if (t->len > 64) {
				ps_err_at(p, t, "log prefix longer than 64 bytes:");
				return -1;
			}
			r->log_prefix = add_text(p, p->src + t->off, t->len);
			p->i++;
		} else if (accept_word(p, "level")) {
			static const char *const lv[] = { "emerg", "alert", "crit", "err", "warn",
							  "notice", "info", "debug", NULL };
			unsigned int k;

			for (k = 0; lv[k] != NULL; k++)
				if (is_word(p, cur(p), lv[k]))
					break;
			if (lv[k] == NULL) {
				ps_err_at(p, cur(p), "unknown log level");
				return -1;
			}
			p->i++;
		} else {
			break;
		}
	}
	return p->failed ? -1 : 0;
}

/* Skip `packets N bytes N` after counter (what `nft list ruleset` prints). */
static int
parse_counter(struct ps *p, struct rs_rule *r)
{
	char b[32];
	uint64_t v;

	if (r->counter) {
		ps_err_at(p, &p->t[p->i - 1], "one counter per rule:");
		return -1;
	}
	r->counter = true;
	if (add_item(p, RS_K_COUNTER) == NULL)
		return -1;
	p->counter_tok = p->i - 1;
	p->counter_end = p->i;
	if (accept_word(p, "packets")) {
		if (parse_u64(p, cur(p), tok_str(p, cur(p), b, sizeof(b)), UINT64_MAX, &v) < 0)
			return -1;
		p->i++;
		if (expect_word(p, "bytes") < 0)
			return -1;
		if (parse_u64(p, cur(p), tok_str(p, cur(p), b, sizeof(b)), UINT64_MAX, &v) < 0)
			return -1;
		p->i++;
		p->counter_end = p->i;
	}
	return 0;
}

static int
parse_match(struct ps *p, struct rs_rule *r, const struct tok *kw, bool *tcp_ctx)
{
	struct rs_item *it;

	if (is_word(p, kw, "ct")) {
		p->i++;
		if (accept_word(p, "state")) {
			it = add_item(p, RS_K_STATE);
			return it == NULL ? -1 : parse_set(p, it, V_FLAGS_STATE);
		}
		if (accept_word(p, "status")) {
			it = add_item(p, RS_K_STATUS);
			return it == NULL ? -1 : parse_set(p, it, V_FLAGS_STATUS);
		}
		if (accept_word(p, "helper")) {
			struct tok *t = cur(p);

			if (t->type != T_STR && t->type != T_WORD) {
				ps_err_at(p, t, "expected a helper name, got");
				return -1;
			}
			it = add_item(p, RS_K_HELPER);
			if (it == NULL)
				return -1;
			it->a = add_text(p, p->src + t->off, t->len);
			p->i++;
			return p->failed ? -1 : 0;
		}
		ps_err_at(p, cur(p), "unknown ct key (state, status, helper)");
		return -1;
	}
	if (is_word(p, kw, "iif") || is_word(p, kw, "iifname") || is_word(p, kw, "oif") ||
	    is_word(p, kw, "oifname")) {
		p->i++;
		it = add_item(p, p->src[kw->off] == 'i' ? RS_K_IIF : RS_K_OIF);
		return it == NULL ? -1 : parse_set(p, it, V_IFACE);
	}
	if (is_word(p, kw, "ip")) {
		p->i++;
		if (accept_word(p, "saddr"))
			it = add_item(p, RS_K_SADDR);
		else if (accept_word(p, "daddr"))
			it = add_item(p, RS_K_DADDR);
		else {
			ps_err_at(p, cur(p), "unknown ip key (saddr, daddr)");
			return -1;
		}
		return it == NULL ? -1 : parse_set(p, it, V_ADDR);
	}
	if (is_word(p, kw, "ip6")) {
		p->i++;
		if (accept_word(p, "saddr"))
			it = add_item(p, RS_K_SADDR6);
		else if (accept_word(p, "daddr"))
			it = add_item(p, RS_K_DADDR6);
		else {
			ps_err_at(p, cur(p), "unknown ip6 key (saddr, daddr)");
			return -1;
		}
		return it == NULL ? -1 : parse_set(p, it, V_ADDR6);
	}
	if (is_word(p, kw, "meta")) {
		p->i++;
		if (accept_word(p, "nfproto")) {
			it = add_item(p, RS_K_NFPROTO);
			return it == NULL ? -1 : parse_set(p, it, V_NFPROTO);
		}
		if (!is_word(p, cur(p), "l4proto")) {
			ps_err_at(p, cur(p), "unknown meta key (l4proto, nfproto)");
			return -1;
		}
		p->i++;
		it = add_item(p, RS_K_L4PROTO);
		if (it == NULL || parse_set(p, it, V_PROTO) < 0)
			return -1;
		if (it->n == 1 && p->rs->ranges[it->a].lo == IPPROTO_TCP)
			*tcp_ctx = true;
		return 0;
	}
	if (is_word(p, kw, "tcp") || is_word(p, kw, "udp")) {
		bool tcp = p->src[kw->off] == 't';

		p->i++;
		if (accept_word(p, "sport"))
			it = add_item(p, RS_K_SPORT);
		else if (accept_word(p, "dport"))
			it = add_item(p, RS_K_DPORT);
		else {
			ps_err_at(p, cur(p), "unknown %s key (sport, dport)", tcp ? "tcp" : "udp");
			return -1;
		}
		if (it == NULL)
			return -1;
		it->proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
		if (tcp)
			*tcp_ctx = true;
		return parse_set(p, it, V_PORT);
	}
	if (is_word(p, kw, "icmp")) {
		p->i++;
		if (expect_word(p, "type") < 0)
			return -1;
		it = add_item(p, RS_K_ICMPTYPE);
		return it == NULL ? -1 : parse_set(p, it, V_ICMP);
	}
	if (is_word(p, kw, "icmpv6")) {
		p->i++;
		if (expect_word(p, "type") < 0)
			return -1;
		it = add_item(p, RS_K_ICMP6TYPE);
		return it == NULL ? -1 : parse_set(p, it, V_ICMP6);
	}
	(void)r;
	ps_err_at(p, kw, "unknown keyword");
	return -1;
}

/* The rule's text, tokens [from, to): each as written (strings with their quotes), one space
 * where the source had anything between two of them (blanks, a line continuation, a comment
 * and line end inside a set), so that it reads back to the same tokens and is one line. The
 * values after `counter` are left out: the listing prints the live ones there. */
static int
rule_text(struct ps *p, struct rs_rule *r, uint32_t from, uint32_t to)
{
	uint32_t k, tl = 0, prev_end = 0, cap = 1;
	char *text;

	for (k = from; k < to; k++)
		cap += p->t[k].len + 3;
	text = malloc(cap);
	if (text == NULL) {
		ps_err_at(p, &p->t[from], "out of memory");
		return -1;
	}
	r->counter_at = 0;
	for (k = from; k < to; k++) {
		const struct tok *t = &p->t[k];
		uint32_t s = t->off - (t->type == T_STR), e = t->off + t->len + (t->type == T_STR);

		if (t->type == T_NL)
			continue;
		if (r->counter && k > p->counter_tok && k < p->counter_end)
			continue;
		if (tl > 0 && s != prev_end)
			text[tl++] = ' ';
		memcpy(text + tl, p->src + s, e - s);
		tl += e - s;
		prev_end = e;
		if (r->counter && k == p->counter_tok)
			r->counter_at = tl;
	}
	r->text = add_text(p, text, tl);
	free(text);
	return p->failed ? -1 : 0;
}

static int
parse_rule(struct ps *p, uint8_t chain)
{
	struct rs_ruleset *rs = p->rs;
	struct tok *first = cur(p);
	struct rs_rule *r;
	bool tcp_ctx = false, ct_match = false;

	if (rs->n_rules == RS_MAX_RULES) {
		ps_err_at(p, first, "too many rules (max %u)", RS_MAX_RULES);
		return -1;
	}
	r = &rs->rules[rs->n_rules];
	memset(r, 0, sizeof(*r));
	r->first = rs->n_items;
	r->chain = chain;
	r->verdict = RS_V_CONTINUE;
	r->line = first->line;
	r->limit = -1;
	r->log_prefix = 0;	/* text[0] is "" */
	while (!end_of_rule(cur(p))) {
		struct tok *kw = cur(p);

		if (r->verdict != RS_V_CONTINUE) {
			ps_err_at(p, kw, "statement after the verdict");
			return -1;
		}
		if (accept_word(p, "accept")) {
			r->verdict = RS_ACCEPT;
		} else if (accept_word(p, "drop")) {
			r->verdict = RS_DROP;
		} else if (accept_word(p, "reject")) {
			if (parse_reject(p, r, tcp_ctx, kw) < 0)
				return -1;
		} else if (accept_word(p, "counter")) {
			if (parse_counter(p, r) < 0)
				return -1;
		} else if (accept_word(p, "log")) {
			if (parse_log(p, r) < 0)
				return -1;
		} else if (accept_word(p, "limit")) {
			if (parse_limit(p, r) < 0)
				return -1;
		} else if (accept_word(p, "notrack")) {
			if (chain != RS_CHAIN_FORWARD) {
				ps_err_at(p, kw, "notrack is only for the forward chain:");
				return -1;
			}
			if (r->notrack) {
				ps_err_at(p, kw, "notrack twice in a rule:");
				return -1;
			}
			r->notrack = true;
			if (add_item(p, RS_K_NOTRACK) == NULL)
				return -1;
		} else {
			if (is_word(p, kw, "ct"))
				ct_match = true;
			if (r->notrack) {
				ps_err_at(p, kw, "a match after notrack has no effect:");
				return -1;
			}
			if (parse_match(p, r, kw, &tcp_ctx) < 0)
				return -1;
		}
	}
	if (r->notrack && ct_match) {
		ps_err_at(p, first, "a notrack rule runs before conntrack: no ct match in it:");
		return -1;
	}
	if (r->notrack && r->verdict != RS_V_CONTINUE) {
		ps_err_at(p, first, "a notrack rule takes no verdict (the chain decides on ct state "
			  "untracked):");
		return -1;
	}
	r->n = rs->n_items - r->first;
	if (rule_text(p, r, first - p->t, p->i) < 0)
		return -1;
	rs->n_rules++;
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Chains and table
 */
static int
parse_chain_type(struct ps *p, int *hook)
{
	struct tok *t;

	if (expect_word(p, "filter") < 0)
		return -1;
	if (expect_word(p, "hook") < 0)
		return -1;
	t = cur(p);
	if (accept_word(p, "input")) {
		*hook = RS_CHAIN_INPUT;
	} else if (accept_word(p, "forward")) {
		*hook = RS_CHAIN_FORWARD;
	} else {
		ps_err_at(p, t, "hook must be input or forward, not");
		return -1;
	}
	if (expect_word(p, "priority") < 0)
		return -1;
	t = cur(p);
	if (!accept_word(p, "filter")) {
		char b[32];
		const char *s = tok_str(p, t, b, sizeof(b));
		uint64_t v;

		if (t->type != T_WORD ||
		    parse_u64(p, t, s[0] == '-' ? s + 1 : s, 1000000, &v) < 0)
			return -1;
		p->i++;
	}
	return 0;
}

static int
parse_chain(struct ps *p)
{
	struct rs_ruleset *rs = p->rs;
	struct tok *name, *t;
	uint32_t first_rule = rs->n_rules, k;
	int hook = -1, policy = -1;
	char nm[64];

	name = cur(p);
	if (name->type != T_WORD && name->type != T_STR) {
		ps_err_at(p, name, "expected a chain name, got");
		return -1;
	}
	p->i++;
	if (cur(p)->type != T_LBRACE) {
		ps_err_at(p, cur(p), "expected '{', got");
		return -1;
	}
	p->i++;
	for (;;) {
		t = cur(p);
		if (t->type == T_NL || t->type == T_SEMI) {
			p->i++;
			continue;
		}
		if (t->type == T_RBRACE) {
			p->i++;
			break;
		}
		if (t->type == T_EOF) {
			ps_err_at(p, t, "missing '}' of chain");
			return -1;
		}
		if (accept_word(p, "type")) {
			if (hook >= 0) {
				ps_err_at(p, t, "chain type given twice:");
				return -1;
			}
			if (parse_chain_type(p, &hook) < 0)
				return -1;
			if (rs->declared[hook]) {
				ps_err_at(p, t, "a second chain on hook %s:",
					  hook == RS_CHAIN_INPUT ? "input" : "forward");
				return -1;
			}
			rs->declared[hook] = true;
			tok_str(p, name, nm, sizeof(nm));
			snprintf(rs->chain_name[hook], sizeof(rs->chain_name[hook]), "%s", nm);
			continue;
		}
		if (accept_word(p, "policy")) {
			t = cur(p);
			if (accept_word(p, "accept")) {
				policy = RS_ACCEPT;
			} else if (accept_word(p, "drop")) {
				policy = RS_DROP;
			} else {
				ps_err_at(p, t, "policy must be accept or drop, not");
				return -1;
			}
			if (!end_of_rule(cur(p))) {
				ps_err_at(p, cur(p), "expected ';' after the policy, got");
				return -1;
			}
			continue;
		}
		if (hook < 0) {
			ps_err_at(p, t, "rule before 'type filter hook input|forward ...;':");
			return -1;
		}
		if (parse_rule(p, (uint8_t)hook) < 0)
			return -1;
	}
	if (hook < 0) {
		ps_err_at(p, name, "chain has no 'type filter hook input|forward priority N;':");
		return -1;
	}
	if (policy >= 0)
		rs->policy[hook] = (uint8_t)policy;
	for (k = first_rule; k < rs->n_rules; k++)
		rs->rules[k].chain = (uint8_t)hook;
	return 0;
}

static int
parse_table(struct ps *p)
{
	struct rs_ruleset *rs = p->rs;
	struct tok *fam = cur(p), *name;
	char f[16], n[48];

	if (!is_word(p, fam, "inet") && !is_word(p, fam, "ip")) {
		ps_err_at(p, fam, "table family must be inet or ip, not");
		return -1;
	}
	p->i++;
	name = cur(p);
	if (name->type != T_WORD && name->type != T_STR) {
		ps_err_at(p, name, "expected a table name, got");
		return -1;
	}
	p->i++;
	if (rs->table[0] != '\0') {
		ps_err_at(p, fam - 1, "only one table per ruleset:");
		return -1;
	}
	snprintf(rs->table, sizeof(rs->table), "%s %s", tok_str(p, fam, f, sizeof(f)),
		 tok_str(p, name, n, sizeof(n)));
	if (cur(p)->type != T_LBRACE) {
		ps_err_at(p, cur(p), "expected '{', got");
		return -1;
	}
	p->i++;
	for (;;) {
		struct tok *t = cur(p);

		if (t->type == T_NL || t->type == T_SEMI) {
			p->i++;
			continue;
		}
		if (t->type == T_RBRACE) {
			p->i++;
			return 0;
		}
		if (t->type == T_EOF) {
			ps_err_at(p, t, "missing '}' of table");
			return -1;
		}
		if (!accept_word(p, "chain")) {
			ps_err_at(p, t, "expected 'chain', got");
			return -1;
		}
		if (parse_chain(p) < 0)
			return -1;
	}
}

static int
parse_file(struct ps *p)
{
	for (;;) {
		struct tok *t = cur(p);

		if (t->type == T_NL || t->type == T_SEMI) {
			p->i++;
			continue;
		}
		if (t->type == T_EOF)
			break;
		if (accept_word(p, "flush")) {
			if (expect_word(p, "ruleset") < 0)
				return -1;
			continue;
		}
		if (accept_word(p, "table")) {
			if (parse_table(p) < 0)
				return -1;
			continue;
		}
		ps_err_at(p, t, "expected 'table' or 'flush ruleset', got");
		return -1;
	}
	if (p->rs->table[0] == '\0') {
		ps_err_at(p, cur(p), "no 'table inet NAME { ... }'");
		return -1;
	}
	return 0;
}

/* Group rule indexes by chain, and the notrack ones. */
static int
finish(struct rs_ruleset *rs)
{
	uint32_t k, c, o = 0;

	rs->order = calloc(rs->n_rules + 1, sizeof(*rs->order));
	rs->notrack = calloc(rs->n_rules + 1, sizeof(*rs->notrack));
	if (rs->order == NULL || rs->notrack == NULL)
		return -1;
	for (c = 0; c < RS_CHAIN_MAX; c++) {
		rs->chain_first[c] = o;
		for (k = 0; k < rs->n_rules; k++) {
			if (rs->rules[k].chain != c)
				continue;
			if (rs->rules[k].notrack)
				rs->notrack[rs->n_notrack++] = k;
			else
				rs->order[o++] = k;
		}
		rs->chain_n[c] = o - rs->chain_first[c];
		if (!rs->declared[c])
			snprintf(rs->chain_name[c], sizeof(rs->chain_name[c]), "%s",
				 c == RS_CHAIN_INPUT ? "input" : "forward");
	}
	return rs_workers_alloc(rs);
}

struct rs_ruleset *
rs_load_string(const char *text, const char *name, unsigned int n_workers, char *err,
	       size_t errlen)
{
	struct ps p = { .src = text, .name = name, .err = err, .errlen = errlen };
	struct rs_ruleset *rs;

	if (n_workers == 0 || n_workers > RS_MAX_WORKERS) {
		snprintf(err, errlen, "%s: workers must be 1..%u", name, RS_MAX_WORKERS);
		return NULL;
	}
	rs = calloc(1, sizeof(*rs));
	if (rs == NULL)
		goto nomem;
	p.rs = rs;
	rs->n_workers = n_workers;
	snprintf(rs->source, sizeof(rs->source), "%s", name);
	rs->rules = calloc(RS_MAX_RULES, sizeof(*rs->rules));
	rs->items = calloc(RS_MAX_ITEMS, sizeof(*rs->items));
	rs->ranges = calloc(RS_MAX_RANGES, sizeof(*rs->ranges));
	rs->limits = calloc(RS_MAX_RULES, sizeof(*rs->limits));
	rs->pfx6 = calloc(RS_MAX_PFX6, sizeof(*rs->pfx6));
	rs->text = calloc(1, RS_TEXT_MAX);
	if (rs->rules == NULL || rs->items == NULL || rs->ranges == NULL ||
	    rs->limits == NULL || rs->pfx6 == NULL || rs->text == NULL)
		goto nomem;
	rs->text_len = 1;	/* offset 0 is "" */
	if (lex(&p) < 0 || parse_file(&p) < 0) {
		if (!p.failed)
			goto nomem;
		free(p.t);
		rs_free(rs);
		return NULL;
	}
	free(p.t);
	p.t = NULL;
	if (finish(rs) < 0)
		goto nomem;
	rs->generation = ++rs_gen_counter;
	return rs;
nomem:
	free(p.t);
	rs_free(rs);
	snprintf(err, errlen, "%s: out of memory", name);
	return NULL;
}

struct rs_ruleset *
rs_load_file(const char *path, unsigned int n_workers, char *err, size_t errlen)
{
	struct rs_ruleset *rs;
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(RS_FILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	n = fread(buf, 1, RS_FILE_MAX + 1, f);
	fclose(f);
	if (n > RS_FILE_MAX) {
		free(buf);
		snprintf(err, errlen, "%s: larger than %u bytes", path, RS_FILE_MAX);
		return NULL;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL) {
		free(buf);
		snprintf(err, errlen, "%s: not a text file (NUL byte)", path);
		return NULL;
	}
	rs = rs_load_string(buf, path, n_workers, err, errlen);
	free(buf);
	return rs;
}

void
rs_free(struct rs_ruleset *rs)
{
	unsigned int i;

	if (rs == NULL)
		return;
	if (rs->w != NULL) {
		for (i = 0; i < rs->n_workers; i++) {
			free(rs->w[i].cnt);
			free(rs->w[i].lim);
		}
		free(rs->w);
	}
	free(rs->order);
	free(rs->notrack);
	free(rs->rules);
	free(rs->items);
	free(rs->ranges);
	free(rs->limits);
	free(rs->pfx6);
	free(rs->text);
	free(rs);
}
