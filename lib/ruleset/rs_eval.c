/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rs_eval.c - evaluation of a compiled ruleset (the workers' side: a loop over a chain's
 * rules and each rule's items, left to right as nft's evaluation loop runs its expressions;
 * no heap, no locks, no logging), the per-worker counters and limit token buckets, and the
 * control plane's introspection and `nft list ruleset`-style printing.
 *
 * Counters and buckets of worker w are written by w only: a load and a relaxed atomic store
 * is exact and a reader on another thread never sees a torn word (as lib/conntrack's
 * counters).
 */
#include <stdlib.h>
#include <string.h>

#include "rs_private.h"

#define RS_ADD(field, v) \
	__atomic_store_n(&(field), (field) + (v), __ATOMIC_RELAXED)
#define RS_LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

int
rs_workers_alloc(struct rs_ruleset *rs)
{
	unsigned int i;

	/* struct rs_worker is cache-line aligned (no false sharing between workers): calloc
	 * does not promise that */
	rs->w = aligned_alloc(64, rs->n_workers * sizeof(*rs->w));
	if (rs->w == NULL)
		return -1;
	memset(rs->w, 0, rs->n_workers * sizeof(*rs->w));
	for (i = 0; i < rs->n_workers; i++) {
		uint32_t k;

		rs->w[i].cnt = calloc(rs->n_rules + 1, sizeof(*rs->w[i].cnt));
		rs->w[i].lim = calloc(rs->n_limits + 1, sizeof(*rs->w[i].lim));
		if (rs->w[i].cnt == NULL || rs->w[i].lim == NULL)
			return -1;
		for (k = 0; k < rs->n_limits; k++)
			rs->w[i].lim[k].credit = rs->limits[k].cap;	/* starts full, as nft */
	}
	return 0;
}

static bool
in_ranges(const struct rs_ruleset *rs, const struct rs_item *it, uint32_t v)
{
	const struct rs_range *r = &rs->ranges[it->a];
	unsigned int k;

	for (k = 0; k < it->n; k++)
		if (v >= r[k].lo && v <= r[k].hi)
			return true;
	return false;
}

/* Is the 16-byte address v in one of the item's IPv6 prefixes? */
static bool
in_pfx6(const struct rs_ruleset *rs, const struct rs_item *it, const uint8_t *v)
{
	const struct rs_pfx6 *x = &rs->pfx6[it->a];
	unsigned int k;

	for (k = 0; k < it->n; k++, x++) {
		unsigned int n = x->len / 8, r = x->len % 8;

		if (memcmp(v, x->a, n) == 0 &&
		    (r == 0 || ((v[n] ^ x->a[n]) & (uint8_t)(0xff << (8 - r))) == 0))
			return true;
	}
	return false;
}

/* Token bucket in credit units of (microseconds x rate): a packet costs unit_us x workers,
 * time adds rate per microsecond. Integer only; never more than cap. */
static bool
limit_ok(const struct rs_limit *l, struct rs_bucket *b, ct_time_t now)
{
	uint64_t credit = b->credit;

	if (now > b->last) {
		uint64_t dt = now - b->last;

		/* past a full refill the product could overflow: clamp first */
		credit = dt >= l->cap / l->rate + 1 ? l->cap : credit + dt * l->rate;
		if (credit > l->cap)
			credit = l->cap;
		b->last = now;
	}
	if (credit < l->cost) {
		b->credit = credit;
		RS_ADD(b->refused, 1);
		return false;
	}
	b->credit = credit - l->cost;
	return true;
}

/* Run rule r's items; true when every match held (statements ran on the way). Inlined
 * twice with v6 a constant (rule_match4, rule_match6): the IPv4 evaluation tests no family
 * per item, as before IPv6 was added. */
static inline __attribute__((always_inline)) bool
rule_match(struct rs_ruleset *rs, struct rs_worker *w, uint32_t ri, const struct rs_ctx *c,
	   ct_time_t now, struct rs_result *res, const bool v6)
{
	const struct rs_rule *r = &rs->rules[ri];
	const struct rs_item *it = &rs->items[r->first];
	uint32_t k;

	for (k = 0; k < r->n; k++, it++) {
		switch (it->kind) {
		case RS_K_STATE:
			if ((it->a & (1u << c->ct_state)) == 0)
				return false;
			break;
		case RS_K_STATUS:
			if ((it->a & c->ct_status) == 0)
				return false;
			break;
		case RS_K_IIF:
			if (c->iif > 7 || (it->a & (1u << c->iif)) == 0)
				return false;
			break;
		case RS_K_OIF:
			if (c->oif > 7 || (it->a & (1u << c->oif)) == 0)
				return false;
			break;
		case RS_K_SADDR:
			if (v6 || !in_ranges(rs, it, __builtin_bswap32(c->saddr)))
				return false;
			break;
		case RS_K_DADDR:
			if (v6 || !in_ranges(rs, it, __builtin_bswap32(c->daddr)))
				return false;
			break;
		case RS_K_L4PROTO:
			if (!in_ranges(rs, it, c->l4proto))
				return false;
			break;
		case RS_K_SPORT:
			if (c->l4proto != it->proto || !in_ranges(rs, it, c->sport))
				return false;
			break;
		case RS_K_DPORT:
			if (c->l4proto != it->proto || !in_ranges(rs, it, c->dport))
				return false;
			break;
		case RS_K_ICMPTYPE:
			if (v6 || c->l4proto != 1 || !in_ranges(rs, it, c->icmp_type))
				return false;
			break;
		case RS_K_SADDR6:
			if (!v6 || !in_pfx6(rs, it, c->saddr6))
				return false;
			break;
		case RS_K_DADDR6:
			if (!v6 || !in_pfx6(rs, it, c->daddr6))
				return false;
			break;
		case RS_K_NFPROTO:
			if ((it->a & (1u << (v6 ? RS_FAMILY_IPV6 : RS_FAMILY_IPV4))) == 0)
				return false;
			break;
		case RS_K_ICMP6TYPE:
			if (!v6 || c->l4proto != 58 || !in_ranges(rs, it, c->icmp_type))
				return false;
			break;
		case RS_K_HELPER:
			if (c->helper == NULL || strcmp(c->helper, rs->text + it->a) != 0)
				return false;
			break;
		case RS_K_COUNTER:
			res->cacheable = false;
			RS_ADD(w->cnt[ri].packets, 1);
			RS_ADD(w->cnt[ri].bytes, c->bytes);
			break;
		case RS_K_LOG:
			res->cacheable = false;
			if (res->n_log < RS_LOG_MAX)
				res->log_rule[res->n_log++] = ri;
			else
				res->log_lost++;
			break;
		case RS_K_LIMIT:
			res->cacheable = false;
			if (!limit_ok(&rs->limits[it->a], &w->lim[it->a], now))
				return false;
			break;
		case RS_K_NOTRACK:
			break;
		default:
			return false;
		}
	}
	return true;
}

static inline __attribute__((always_inline)) bool
rule_match4(struct rs_ruleset *rs, struct rs_worker *w, uint32_t ri, const struct rs_ctx *c,
	    ct_time_t now, struct rs_result *res)
{
	return rule_match(rs, w, ri, c, now, res, false);
}

static inline __attribute__((always_inline)) bool
rule_match6(struct rs_ruleset *rs, struct rs_worker *w, uint32_t ri, const struct rs_ctx *c,
	    ct_time_t now, struct rs_result *res)
{
	return rule_match(rs, w, ri, c, now, res, true);
}

static inline __attribute__((always_inline)) void
eval_chain(struct rs_ruleset *rs, unsigned int worker, enum rs_chain chain,
	   const struct rs_ctx *c, ct_time_t now, struct rs_result *res, const bool v6)
{
	struct rs_worker *w = &rs->w[worker < rs->n_workers ? worker : 0];
	const uint32_t *ord = rs->order + rs->chain_first[chain];
	uint32_t k, n = rs->chain_n[chain];

	res->cacheable = true;
	res->n_log = 0;
	res->log_lost = 0;
	res->reject_rst = false;
	res->reject_code = 0;
	res->reject_code6 = 0;
	for (k = 0; k < n; k++) {
		const struct rs_rule *r = &rs->rules[ord[k]];

		if (!(v6 ? rule_match6(rs, w, ord[k], c, now, res) :
			   rule_match4(rs, w, ord[k], c, now, res)) || r->verdict == RS_V_CONTINUE)
			continue;
		res->verdict = r->verdict;
		res->reject_rst = r->reject_rst;
		res->reject_code = r->reject_code;
		res->reject_code6 = r->reject_code6;
		res->rule = (int)ord[k];
		return;
	}
	res->verdict = rs->policy[chain];
	res->rule = -1;
	RS_ADD(w->pol[chain].packets, 1);
	RS_ADD(w->pol[chain].bytes, c->bytes);
}

void
rs_eval(struct rs_ruleset *rs, unsigned int worker, enum rs_chain chain,
	const struct rs_ctx *c, ct_time_t now, struct rs_result *res)
{
	if (c->family == RS_FAMILY_IPV6)
		eval_chain(rs, worker, chain, c, now, res, true);
	else
		eval_chain(rs, worker, chain, c, now, res, false);
}

bool
rs_uses_assured(const struct rs_ruleset *rs)
{
	uint32_t k;

	for (k = 0; k < rs->n_items; k++)
		if (rs->items[k].kind == RS_K_STATUS && (rs->items[k].a & CT_ST_ASSURED))
			return true;
	return false;
}

bool
rs_has_notrack(const struct rs_ruleset *rs)
{
	return rs->n_notrack != 0;
}

bool
rs_eval_notrack(struct rs_ruleset *rs, unsigned int worker, const struct rs_ctx *c,
		ct_time_t now, struct rs_result *res)
{
	struct rs_worker *w = &rs->w[worker < rs->n_workers ? worker : 0];
	uint32_t k;

	res->cacheable = false;
	res->n_log = 0;
	res->log_lost = 0;
	res->rule = -1;
	for (k = 0; k < rs->n_notrack; k++) {
		if (c->family == RS_FAMILY_IPV6 ? rule_match6(rs, w, rs->notrack[k], c, now, res) :
		    rule_match4(rs, w, rs->notrack[k], c, now, res)) {
			res->rule = (int)rs->notrack[k];
			return true;
		}
	}
	return false;
}

/* ---------------------------------------------------------------------------------------
 * Introspection [any]
 */
uint32_t rs_generation(const struct rs_ruleset *rs) { return rs->generation; }
unsigned int rs_n_workers(const struct rs_ruleset *rs) { return rs->n_workers; }
unsigned int rs_n_rules(const struct rs_ruleset *rs) { return rs->n_rules; }
const char *rs_table_name(const struct rs_ruleset *rs) { return rs->table; }
const char *rs_source(const struct rs_ruleset *rs) { return rs->source; }

enum rs_chain
rs_rule_chain(const struct rs_ruleset *rs, unsigned int i)
{
	return i < rs->n_rules ? (enum rs_chain)rs->rules[i].chain : RS_CHAIN_MAX;
}

const char *
rs_rule_text(const struct rs_ruleset *rs, unsigned int i)
{
	return i < rs->n_rules ? rs->text + rs->rules[i].text : "";
}

unsigned int
rs_rule_line(const struct rs_ruleset *rs, unsigned int i)
{
	return i < rs->n_rules ? rs->rules[i].line : 0;
}

const char *
rs_rule_log_prefix(const struct rs_ruleset *rs, unsigned int i)
{
	return i < rs->n_rules ? rs->text + rs->rules[i].log_prefix : "";
}

bool
rs_rule_has_counter(const struct rs_ruleset *rs, unsigned int i)
{
	return i < rs->n_rules && rs->rules[i].counter;
}

void
rs_rule_counters(const struct rs_ruleset *rs, unsigned int i, uint64_t *packets,
		 uint64_t *bytes)
{
	unsigned int k;

	*packets = *bytes = 0;
	if (i >= rs->n_rules)
		return;
	for (k = 0; k < rs->n_workers; k++) {
		*packets += RS_LOAD(rs->w[k].cnt[i].packets);
		*bytes += RS_LOAD(rs->w[k].cnt[i].bytes);
	}
}

uint64_t
rs_rule_limited(const struct rs_ruleset *rs, unsigned int i)
{
	uint64_t n = 0;
	unsigned int k;

	if (i >= rs->n_rules || rs->rules[i].limit < 0)
		return 0;
	for (k = 0; k < rs->n_workers; k++)
		n += RS_LOAD(rs->w[k].lim[rs->rules[i].limit].refused);
	return n;
}

enum rs_verdict
rs_chain_policy(const struct rs_ruleset *rs, enum rs_chain ch)
{
	return (enum rs_verdict)rs->policy[ch];
}

bool
rs_chain_declared(const struct rs_ruleset *rs, enum rs_chain ch)
{
	return rs->declared[ch];
}

const char *
rs_chain_name(const struct rs_ruleset *rs, enum rs_chain ch)
{
	return rs->chain_name[ch];
}

void
rs_policy_counters(const struct rs_ruleset *rs, enum rs_chain ch, uint64_t *packets,
		   uint64_t *bytes)
{
	unsigned int k;

	*packets = *bytes = 0;
	for (k = 0; k < rs->n_workers; k++) {
		*packets += RS_LOAD(rs->w[k].pol[ch].packets);
		*bytes += RS_LOAD(rs->w[k].pol[ch].bytes);
	}
}

const char *
rs_verdict_str(enum rs_verdict v)
{
	switch (v) {
	case RS_ACCEPT:
		return "accept";
	case RS_DROP:
		return "drop";
	case RS_REJECT:
		return "reject";
	}
	return "?";
}

/* As `nft list ruleset`: the rule text with its counter's values after `counter`. */
static void
print_rule(const struct rs_ruleset *rs, unsigned int i, FILE *f)
{
	const struct rs_rule *r = &rs->rules[i];
	const char *t = rs_rule_text(rs, i);
	uint64_t pk, by;

	if (!r->counter) {
		fprintf(f, "\t\t%s\n", t);
		return;
	}
	rs_rule_counters(rs, i, &pk, &by);
	fprintf(f, "\t\t%.*s packets %llu bytes %llu%s\n", (int)r->counter_at, t,
		(unsigned long long)pk, (unsigned long long)by, t + r->counter_at);
}

/* A table or chain name: bare when it reads back as one word, else in quotes (a name
 * cannot hold a quote or a line end: the lexer's strings end there). */
static void
print_name(FILE *f, const char *s)
{
	const char *c = s;

	while (*c != '\0' && rs_is_word_char((unsigned char)*c))
		c++;
	fprintf(f, *s != '\0' && *c == '\0' ? "%s" : "\"%s\"", s);
}

void
rs_print(const struct rs_ruleset *rs, FILE *f)
{
	const char *name = strchr(rs->table, ' ');	/* rs->table is "FAMILY NAME" */
	unsigned int ch, i;

	fprintf(f, "table %.*s ", (int)(name - rs->table), rs->table);
	print_name(f, name + 1);
	fprintf(f, " {\n");
	for (ch = 0; ch < RS_CHAIN_MAX; ch++) {
		if (!rs->declared[ch])
			continue;
		fprintf(f, "\tchain ");
		print_name(f, rs->chain_name[ch]);
		fprintf(f, " {\n");
		fprintf(f, "\t\ttype filter hook %s priority filter; policy %s;\n",
			ch == RS_CHAIN_INPUT ? "input" : "forward",
			rs_verdict_str((enum rs_verdict)rs->policy[ch]));
		for (i = 0; i < rs->n_rules; i++)
			if (rs->rules[i].chain == ch)
				print_rule(rs, i, f);
		fprintf(f, "\t}\n");
	}
	fprintf(f, "}\n");
}
