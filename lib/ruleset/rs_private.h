/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rs_private.h - the compiled form of a ruleset shared by rs_parse.c (which builds it) and
 * rs_eval.c (which runs it): rules as ranges of items, items as small fixed records, value
 * sets as sorted-free arrays of [lo, hi] ranges, and the per-worker counters and limit buckets.
 */
#ifndef NATGW_RS_PRIVATE_H
#define NATGW_RS_PRIVATE_H

#include <ctype.h>
#include <stdbool.h>

#include "rs.h"

#define RS_MAX_RULES	1024
#define RS_MAX_ITEMS	8192
#define RS_MAX_RANGES	16384
#define RS_MAX_PFX6	4096
#define RS_MAX_WORKERS	64
#define RS_TEXT_MAX	65536	/* bytes of rule texts, prefixes and helper names */
#define RS_LIMIT_BURST_DEFAULT 5	/* nft's default burst for `limit rate` */

/* item kinds: matches first, then statements */
enum rs_kind {
	RS_K_STATE,	/* a: mask of 1 << enum ct_state */
	RS_K_STATUS,	/* a: CT_ST_* mask, any bit */
	RS_K_IIF,	/* a: mask of 1 << RS_IF_* */
	RS_K_OIF,
	RS_K_SADDR,	/* ranges [off, off + n), host order */
	RS_K_DADDR,
	RS_K_L4PROTO,
	RS_K_SPORT,	/* proto: IPPROTO_TCP or IPPROTO_UDP */
	RS_K_DPORT,
	RS_K_ICMPTYPE,
	RS_K_HELPER,	/* a: offset of the name in text */
	RS_K_SADDR6,	/* prefixes [off, off + n) of pfx6; IPv6 packets only */
	RS_K_DADDR6,
	RS_K_NFPROTO,	/* a: mask of 1 << RS_FAMILY_* */
	RS_K_ICMP6TYPE,	/* ranges; ICMPv6 only */
	RS_K_COUNTER,
	RS_K_LOG,
	RS_K_LIMIT,	/* a: limit index; rate/burst in the limit table */
	RS_K_NOTRACK,
};

struct rs_item {
	uint8_t kind;		/* enum rs_kind */
	uint8_t proto;		/* SPORT/DPORT: the protocol the match implies */
	uint16_t n;		/* ranges */
	uint32_t a;		/* mask, range offset, text offset or limit index */
};

struct rs_range {
	uint32_t lo, hi;
};

/* an IPv6 prefix: the address with its host bits clear, and the length */
struct rs_pfx6 {
	uint8_t a[16];
	uint8_t len;
};

struct rs_limit {
	uint64_t rate;		/* tokens per unit */
	uint64_t unit_us;	/* the unit in microseconds (second, minute, ...) */
	uint32_t burst;		/* per worker */
	uint64_t cost;		/* credit one packet takes: unit_us * n_workers */
	uint64_t cap;		/* most credit a bucket holds: cost * burst */
};

struct rs_rule {
	uint32_t first, n;	/* items */
	uint8_t chain;		/* enum rs_chain */
	uint8_t verdict;	/* enum rs_verdict, or RS_V_CONTINUE */
	bool reject_rst;
	uint8_t reject_code;
	uint8_t reject_code6;	/* ICMPv6 code for an IPv6 packet */
	bool counter, notrack;
	uint32_t line;
	uint32_t text;		/* offset in text: the tokens as written, one space where the
				 * source had whitespace, comments or line ends between them */
	uint32_t counter_at;	/* with counter: where in the text its values go (just after
				 * the word; `packets N bytes N` as written is left out) */
	uint32_t log_prefix;	/* offset in text ("" when none) */
	int32_t limit;		/* limit index or -1 */
};

#define RS_V_CONTINUE 0xff

/* A character of a bare word (the lexer's); a name with any other character, or an empty
 * one, is listed in quotes. */
static inline bool
rs_is_word_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.' || c == '/' || c == ':' ||
	       c == '!' || c == '=' || c == '*' || c == '@' || c == '$' || c == '<' || c == '>';
}

struct rs_count {
	uint64_t packets, bytes;
};

struct rs_bucket {
	uint64_t credit;
	ct_time_t last;
	uint64_t refused;
};

/* per worker, cache-line aligned: counters of every rule, policy counters, limit buckets */
struct rs_worker {
	struct rs_count *cnt;		/* [n_rules] */
	struct rs_count pol[RS_CHAIN_MAX];
	struct rs_bucket *lim;		/* [n_limits] */
} __attribute__((aligned(64)));

struct rs_ruleset {
	uint32_t generation;
	unsigned int n_workers;
	char source[256];
	char table[80];
	char chain_name[RS_CHAIN_MAX][64];
	bool declared[RS_CHAIN_MAX];
	uint8_t policy[RS_CHAIN_MAX];
	/* the rule indexes of each chain, in order; notrack rules in their own list too */
	uint32_t chain_first[RS_CHAIN_MAX], chain_n[RS_CHAIN_MAX];
	uint32_t *order;		/* rule indexes grouped by chain */
	uint32_t n_notrack;
	uint32_t *notrack;
	struct rs_rule *rules;
	uint32_t n_rules;
	struct rs_item *items;
	uint32_t n_items;
	struct rs_range *ranges;
	uint32_t n_ranges;
	struct rs_pfx6 *pfx6;
	uint32_t n_pfx6;
	struct rs_limit *limits;
	uint32_t n_limits;
	char *text;
	uint32_t text_len;
	struct rs_worker *w;		/* [n_workers] */
};

/* rs_eval.c: allocate the per-worker state once compiled (0 or -1) */
int rs_workers_alloc(struct rs_ruleset *rs);

#endif /* NATGW_RS_PRIVATE_H */
