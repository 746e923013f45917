/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_rs_eval.c - lib/ruleset's evaluation over real packet bytes: frames built by
 * pkt_build.h, parsed by ct_parse_ipv4, their fields put in the match context the way
 * app/gw_rules.c does (addresses and ports from the tuple, ICMP type from the header), then
 * each match, set, range, statement and verdict checked, with counters, limits per worker,
 * log requests, notrack and the cacheable flag.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "ct.h"
#include "pkt_build.h"
#include "rs.h"

#define H1	PB_IP(192, 168, 1, 10)
#define H2	PB_IP(192, 168, 1, 20)
#define SRV	PB_IP(198, 51, 100, 5)
#define SRV2	PB_IP(198, 51, 100, 200)
#define OTHER	PB_IP(203, 0, 113, 9)

/* The context of a frame: parsed from its bytes, as the gateway fills it. */
static struct rs_ctx
ctx_of(const struct pb_spec *s, uint8_t iif, uint8_t oif, enum ct_state st, uint16_t status)
{
	uint8_t buf[PB_MAX];
	unsigned int len = pb_build(buf, s);
	struct ct_pkt p;
	struct rs_ctx c;

	assert_int_equal(ct_parse_ipv4(buf, len, PB_ETH_LEN, true, &p), CT_R_NONE);
	memset(&c, 0, sizeof(c));
	c.saddr = p.tuple.src;
	c.daddr = p.tuple.dst;
	c.l4proto = p.tuple.proto;
	if (p.tuple.proto == IPPROTO_TCP || p.tuple.proto == IPPROTO_UDP) {
		c.sport = __builtin_bswap16(p.tuple.sport);
		c.dport = __builtin_bswap16(p.tuple.dport);
	}
	if (p.tuple.proto == IPPROTO_ICMP)
		c.icmp_type = p.icmp_type;
	c.iif = iif;
	c.oif = oif;
	c.ct_state = (uint8_t)st;
	c.ct_status = status;
	c.bytes = p.ip_len;
	return c;
}

static struct pb_spec
tcp(uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp)
{
	struct pb_spec s = { .src = src, .dst = dst, .sport = sp, .dport = dp,
			     .proto = IPPROTO_TCP, .tcp_flags = PB_SYN, .seq = 1000 };
	return s;
}

static struct pb_spec
udp(uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp)
{
	struct pb_spec s = { .src = src, .dst = dst, .sport = sp, .dport = dp,
			     .proto = IPPROTO_UDP, .payload = "hello", .payload_len = 5 };
	return s;
}

static struct pb_spec
icmp(uint32_t src, uint32_t dst, uint8_t type)
{
	struct pb_spec s = { .src = src, .dst = dst, .sport = 77, .proto = IPPROTO_ICMP,
			     .icmp_type = type, .icmp_seq = 1 };
	return s;
}

#define F0 1	/* index of the first forward rule: fw() puts one input rule first */

static struct rs_ruleset *
fw(const char *rules, const char *policy, unsigned int workers)
{
	char text[4096], err[512];
	struct rs_ruleset *rs;

	snprintf(text, sizeof(text),
		 "table inet natgw {\n chain input {\n  type filter hook input priority 0;\n"
		 "  policy drop;\n  icmp type echo-request accept\n }\n"
		 " chain forward {\n  type filter hook forward priority 0; policy %s;\n%s\n }\n}\n",
		 policy, rules);
	rs = rs_load_string(text, "t.nft", workers, err, sizeof(err));
	if (rs == NULL)
		fail_msg("%s", err);
	return rs;
}

/* The verdict and deciding rule (-1: policy) of the forward chain. */
static int
verdict(struct rs_ruleset *rs, const struct rs_ctx *c, int *rule)
{
	struct rs_result r;

	rs_eval(rs, 0, RS_CHAIN_FORWARD, c, 0, &r);
	if (rule != NULL)
		*rule = r.rule;
	return r.verdict;
}

struct match_case {
	const char *rule;
	struct pb_spec pkt;
	uint8_t iif, oif;
	enum ct_state st;
	uint16_t status;
	bool match;
};

#define IN RS_IF_INSIDE
#define OUT RS_IF_OUTSIDE

static void
test_matches(void **state)
{
	const struct match_case cases[] = {
		{ "ct state new", tcp(H1, SRV, 4000, 80), IN, OUT, CT_NEW, 0, true },
		{ "ct state new", tcp(H1, SRV, 4000, 80), IN, OUT, CT_ESTABLISHED, 0, false },
		{ "ct state established,related", udp(SRV, H1, 53, 4000), OUT, IN, CT_RELATED, 0,
		  true },
		{ "ct state { invalid, untracked }", udp(H1, SRV, 1, 2), IN, OUT, CT_UNTRACKED, 0,
		  true },
		{ "ct state invalid", udp(H1, SRV, 1, 2), IN, OUT, CT_NEW, 0, false },
		{ "ct status dnat", tcp(OTHER, H1, 5000, 80), OUT, IN, CT_NEW, CT_ST_DNAT, true },
		{ "ct status dnat", tcp(H1, SRV, 5000, 80), IN, OUT, CT_NEW, CT_ST_SNAT, false },
		{ "ct status snat,assured", tcp(H1, SRV, 5000, 80), IN, OUT, CT_ESTABLISHED,
		  CT_ST_ASSURED, true },
		{ "ct status seen-reply", tcp(H1, SRV, 5000, 80), IN, OUT, CT_ESTABLISHED,
		  CT_ST_SEEN_REPLY | CT_ST_SNAT, true },
		{ "iif inside", udp(H1, SRV, 1, 2), IN, OUT, CT_NEW, 0, true },
		{ "iif inside", udp(SRV, H1, 1, 2), OUT, IN, CT_NEW, 0, false },
		{ "oif { inside, outside }", udp(SRV, H1, 1, 2), OUT, IN, CT_NEW, 0, true },
		{ "oifname \"outside\"", udp(SRV, H1, 1, 2), OUT, IN, CT_NEW, 0, false },
		{ "ip saddr 192.168.1.10", udp(H1, SRV, 1, 2), IN, OUT, CT_NEW, 0, true },
		{ "ip saddr 192.168.1.10", udp(H2, SRV, 1, 2), IN, OUT, CT_NEW, 0, false },
		{ "ip saddr 192.168.1.0/28", udp(H1, SRV, 1, 2), IN, OUT, CT_NEW, 0, true },
		{ "ip saddr 192.168.1.0/28", udp(H2, SRV, 1, 2), IN, OUT, CT_NEW, 0, false },
		{ "ip saddr 0.0.0.0/0", udp(H2, SRV, 1, 2), IN, OUT, CT_NEW, 0, true },
		{ "ip daddr { 10.0.0.0/8, 198.51.100.0/25 }", udp(H1, SRV, 1, 2), IN, OUT, CT_NEW,
		  0, true },
		{ "ip daddr { 10.0.0.0/8, 198.51.100.0/25 }", udp(H1, SRV2, 1, 2), IN, OUT, CT_NEW,
		  0, false },
		{ "meta l4proto udp", udp(H1, SRV, 1, 2), IN, OUT, CT_NEW, 0, true },
		{ "meta l4proto { tcp, icmp }", udp(H1, SRV, 1, 2), IN, OUT, CT_NEW, 0, false },
		{ "meta l4proto 1", icmp(H1, SRV, 8), IN, OUT, CT_NEW, 0, true },
		{ "tcp dport 80", tcp(H1, SRV, 4000, 80), IN, OUT, CT_NEW, 0, true },
		{ "tcp dport 80", udp(H1, SRV, 4000, 80), IN, OUT, CT_NEW, 0, false },
		{ "udp dport 80", udp(H1, SRV, 4000, 80), IN, OUT, CT_NEW, 0, true },
		{ "tcp sport 4000", tcp(H1, SRV, 4000, 80), IN, OUT, CT_NEW, 0, true },
		{ "tcp sport 4001", tcp(H1, SRV, 4000, 80), IN, OUT, CT_NEW, 0, false },
		{ "tcp dport 1-1023", tcp(H1, SRV, 4000, 1023), IN, OUT, CT_NEW, 0, true },
		{ "tcp dport 1-1023", tcp(H1, SRV, 4000, 1024), IN, OUT, CT_NEW, 0, false },
		{ "tcp dport { ssh, smtp, 8000-8080 }", tcp(H1, SRV, 4000, 25), IN, OUT, CT_NEW, 0,
		  true },
		{ "tcp dport { ssh, smtp, 8000-8080 }", tcp(H1, SRV, 4000, 8080), IN, OUT, CT_NEW,
		  0, true },
		{ "tcp dport { ssh, smtp, 8000-8080 }", tcp(H1, SRV, 4000, 8081), IN, OUT, CT_NEW,
		  0, false },
		{ "udp sport { domain }", udp(SRV, H1, 53, 4000), OUT, IN, CT_NEW, 0, true },
		{ "icmp type echo-request", icmp(H1, SRV, 8), IN, OUT, CT_NEW, 0, true },
		{ "icmp type echo-request", icmp(SRV, H1, 0), OUT, IN, CT_NEW, 0, false },
		{ "icmp type { echo-reply, 13 }", icmp(H1, SRV, 13), IN, OUT, CT_NEW, 0, true },
		{ "icmp type echo-reply", udp(H1, SRV, 0, 0), IN, OUT, CT_NEW, 0, false },
		/* several matches: all must hold */
		{ "iif inside ip saddr 192.168.1.10 tcp dport 22 ct state new",
		  tcp(H1, SRV, 4000, 22), IN, OUT, CT_NEW, 0, true },
		{ "iif inside ip saddr 192.168.1.10 tcp dport 22 ct state new",
		  tcp(H1, SRV, 4000, 22), IN, OUT, CT_ESTABLISHED, 0, false },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct match_case *m = &cases[i];
		char rule[256];
		struct rs_ruleset *rs;
		struct rs_ctx c;
		int r;

		snprintf(rule, sizeof(rule), "  %s drop", m->rule);
		rs = fw(rule, "accept", 1);
		c = ctx_of(&m->pkt, m->iif, m->oif, m->st, m->status);
		if (verdict(rs, &c, &r) != (m->match ? RS_DROP : RS_ACCEPT) ||
		    r != (m->match ? F0 : -1))
			fail_msg("case %u: '%s' should %smatch", i, m->rule, m->match ? "" : "not ");
		rs_free(rs);
	}
}

/* ct helper matches the helper name of the connection. */
static void
test_helper(void **state)
{
	struct rs_ruleset *rs = fw("  ct helper \"ftp\" accept", "drop", 1);
	struct pb_spec s = tcp(H1, SRV, 4000, 21);
	struct rs_ctx c = ctx_of(&s, IN, OUT, CT_NEW, 0);

	(void)state;
	assert_int_equal(verdict(rs, &c, NULL), RS_DROP);
	c.helper = "irc";
	assert_int_equal(verdict(rs, &c, NULL), RS_DROP);
	c.helper = "ftp";
	assert_int_equal(verdict(rs, &c, NULL), RS_ACCEPT);
	rs_free(rs);
}

/* First match decides; rules without a verdict continue; policy at the end. */
static void
test_order_and_policy(void **state)
{
	struct rs_ruleset *rs = fw("  tcp dport 22 counter\n  tcp dport 22 reject with tcp reset\n"
				   "  tcp dport 22 accept\n  udp dport 53 reject\n"
				   "  udp dport 54 reject with icmpx type admin-prohibited",
				   "drop", 1);
	struct pb_spec s1 = tcp(H1, SRV, 4000, 22), s2 = udp(H1, SRV, 4000, 53);
	struct pb_spec s3 = udp(H1, SRV, 4000, 54), s4 = udp(H1, SRV, 4000, 55);
	struct rs_ctx c = ctx_of(&s1, IN, OUT, CT_NEW, 0);
	struct rs_result r;
	uint64_t pk, by;

	(void)state;
	rs_eval(rs, 0, RS_CHAIN_FORWARD, &c, 0, &r);
	assert_int_equal(r.verdict, RS_REJECT);
	assert_true(r.reject_rst);
	assert_int_equal(r.rule, F0 + 1);
	assert_false(r.cacheable);	/* a counter ran */
	rs_rule_counters(rs, F0, &pk, &by);
	assert_int_equal(pk, 1);
	assert_int_equal(by, 40);	/* IPv4 20 + TCP 20 */
	c = ctx_of(&s2, IN, OUT, CT_NEW, 0);
	rs_eval(rs, 0, RS_CHAIN_FORWARD, &c, 0, &r);
	assert_int_equal(r.verdict, RS_REJECT);
	assert_false(r.reject_rst);
	assert_int_equal(r.reject_code, 3);	/* nft: plain reject = port unreachable */
	assert_true(r.cacheable);
	c = ctx_of(&s3, IN, OUT, CT_NEW, 0);
	rs_eval(rs, 0, RS_CHAIN_FORWARD, &c, 0, &r);
	assert_int_equal(r.reject_code, 13);
	c = ctx_of(&s4, IN, OUT, CT_NEW, 0);
	rs_eval(rs, 0, RS_CHAIN_FORWARD, &c, 0, &r);
	assert_int_equal(r.verdict, RS_DROP);
	assert_int_equal(r.rule, -1);
	rs_policy_counters(rs, RS_CHAIN_FORWARD, &pk, &by);
	assert_int_equal(pk, 1);
	assert_int_equal(by, 20 + 8 + 5);
	/* the input chain is its own */
	s1 = icmp(H1, PB_IP(192, 168, 1, 1), 8);
	c = ctx_of(&s1, IN, RS_IF_NONE, CT_NEW, 0);
	rs_eval(rs, 0, RS_CHAIN_INPUT, &c, 0, &r);
	assert_int_equal(r.verdict, RS_ACCEPT);
	s1 = icmp(H1, PB_IP(192, 168, 1, 1), 13);
	c = ctx_of(&s1, IN, RS_IF_NONE, CT_NEW, 0);
	rs_eval(rs, 0, RS_CHAIN_INPUT, &c, 0, &r);
	assert_int_equal(r.verdict, RS_DROP);
	rs_free(rs);
}

/* limit rate: a token bucket, burst 5 by default, refilled at the rate; divided among the
 * workers (each gets rate / workers and burst / workers). */
static void
test_limit(void **state)
{
	struct rs_ruleset *rs = fw("  udp dport 9 limit rate 10/second accept", "drop", 1);
	struct pb_spec s = udp(H1, SRV, 4000, 9);
	struct rs_ctx c = ctx_of(&s, IN, OUT, CT_NEW, 0);
	ct_time_t t = 1000000;
	unsigned int i, ok = 0;
	struct rs_result r;

	(void)state;
	for (i = 0; i < 8; i++) {
		rs_eval(rs, 0, RS_CHAIN_FORWARD, &c, t, &r);
		ok += r.verdict == RS_ACCEPT;
		assert_false(r.cacheable);
	}
	assert_int_equal(ok, 5);	/* the burst */
	assert_int_equal(rs_rule_limited(rs, F0), 3);
	t += 100000;			/* 100 ms at 10/s: one more */
	rs_eval(rs, 0, RS_CHAIN_FORWARD, &c, t, &r);
	assert_int_equal(r.verdict, RS_ACCEPT);
	rs_eval(rs, 0, RS_CHAIN_FORWARD, &c, t, &r);
	assert_int_equal(r.verdict, RS_DROP);
	/* over 10 s, 10 per second (plus the burst refilled once) */
	ok = 0;
	for (i = 0; i < 1000; i++) {
		t += 10000;
		rs_eval(rs, 0, RS_CHAIN_FORWARD, &c, t, &r);
		ok += r.verdict == RS_ACCEPT;
	}
	assert_int_equal(ok, 100);
	rs_free(rs);
	/* two workers: each 5/s, burst 2 (5 / 2), independent */
	rs = fw("  udp dport 9 limit rate 10/second burst 5 packets accept", "drop", 2);
	for (i = 0, ok = 0; i < 10; i++) {
		rs_eval(rs, 0, RS_CHAIN_FORWARD, &c, t, &r);
		ok += r.verdict == RS_ACCEPT;
	}
	assert_int_equal(ok, 2);
	rs_eval(rs, 1, RS_CHAIN_FORWARD, &c, t, &r);
	assert_int_equal(r.verdict, RS_ACCEPT);
	for (i = 0, ok = 0; i < 100; i++) {
		t += 10000;	/* 1 s */
		rs_eval(rs, 0, RS_CHAIN_FORWARD, &c, t, &r);
		ok += r.verdict == RS_ACCEPT;
	}
	assert_int_equal(ok, 5);
	rs_free(rs);
}

/* log asks, in order, without logging itself; more than RS_LOG_MAX are counted lost. */
static void
test_log(void **state)
{
	struct rs_ruleset *rs = fw("  log prefix \"one \"\n  ct state invalid log prefix \"inv \" drop\n"
				   "  log\n  log\n  log\n  log", "accept", 1);
	struct pb_spec s = tcp(H1, SRV, 4000, 80);
	struct rs_ctx c = ctx_of(&s, IN, OUT, CT_INVALID, 0);
	struct rs_result r;

	(void)state;
	rs_eval(rs, 0, RS_CHAIN_FORWARD, &c, 0, &r);
	assert_int_equal(r.verdict, RS_DROP);
	assert_int_equal(r.n_log, 2);
	assert_int_equal(r.log_rule[0], F0);
	assert_int_equal(r.log_rule[1], F0 + 1);
	assert_string_equal(rs_rule_log_prefix(rs, F0 + 1), "inv ");
	assert_false(r.cacheable);
	c.ct_state = CT_NEW;
	rs_eval(rs, 0, RS_CHAIN_FORWARD, &c, 0, &r);
	assert_int_equal(r.verdict, RS_ACCEPT);
	assert_int_equal(r.n_log, RS_LOG_MAX);
	assert_int_equal(r.log_lost, 1);
	rs_free(rs);
}

/* notrack rules run apart, before conntrack; not in the forward chain's walk. */
static void
test_notrack(void **state)
{
	struct rs_ruleset *rs = fw("  ip daddr 198.51.100.5 udp dport 53 counter notrack\n"
				   "  ct state untracked accept", "drop", 1);
	struct pb_spec s = udp(H1, SRV, 4000, 53), s2 = udp(H1, SRV, 4000, 54);
	struct rs_ctx c = ctx_of(&s, IN, OUT, CT_NEW, 0);
	struct rs_result r;
	uint64_t pk, by;

	(void)state;
	assert_true(rs_has_notrack(rs));
	assert_true(rs_eval_notrack(rs, 0, &c, 0, &r));
	assert_int_equal(r.rule, F0);
	rs_rule_counters(rs, F0, &pk, &by);
	assert_int_equal(pk, 1);
	c = ctx_of(&s2, IN, OUT, CT_NEW, 0);
	assert_false(rs_eval_notrack(rs, 0, &c, 0, &r));
	/* the forward chain decides on ct state untracked; the notrack rule is not in it */
	c.ct_state = CT_UNTRACKED;
	rs_eval(rs, 0, RS_CHAIN_FORWARD, &c, 0, &r);
	assert_int_equal(r.verdict, RS_ACCEPT);
	assert_int_equal(r.rule, F0 + 1);
	c.ct_state = CT_NEW;
	rs_eval(rs, 0, RS_CHAIN_FORWARD, &c, 0, &r);
	assert_int_equal(r.verdict, RS_DROP);
	rs_free(rs);
}

/* The shipped default policy (config/rules-default.nft) gives today's built-in answers. */
static void
test_default_file(void **state)
{
	char err[512];
	struct rs_ruleset *rs = rs_load_file(RULES_DEFAULT, 1, err, sizeof(err));
	struct pb_spec o = tcp(H1, SRV, 4000, 80), i = tcp(SRV, H1, 80, 4000);
	struct rs_ctx c;

	(void)state;
	if (rs == NULL)
		fail_msg("%s", err);
	c = ctx_of(&o, IN, OUT, CT_NEW, CT_ST_SNAT);
	assert_int_equal(verdict(rs, &c, NULL), RS_ACCEPT);
	c = ctx_of(&i, OUT, IN, CT_ESTABLISHED, CT_ST_SNAT | CT_ST_SEEN_REPLY);
	assert_int_equal(verdict(rs, &c, NULL), RS_ACCEPT);
	c = ctx_of(&i, OUT, IN, CT_NEW, CT_ST_DNAT);	/* a port forward */
	assert_int_equal(verdict(rs, &c, NULL), RS_ACCEPT);
	c = ctx_of(&i, OUT, IN, CT_RELATED, CT_ST_DNAT);
	assert_int_equal(verdict(rs, &c, NULL), RS_ACCEPT);
	c = ctx_of(&i, OUT, IN, CT_NEW, 0);		/* new from outside, no DNAT */
	assert_int_equal(verdict(rs, &c, NULL), RS_DROP);
	c = ctx_of(&o, IN, OUT, CT_INVALID, 0);
	assert_int_equal(verdict(rs, &c, NULL), RS_DROP);
	c = ctx_of(&o, IN, RS_IF_NONE, CT_NEW, 0);
	{
		struct rs_result r;

		rs_eval(rs, 0, RS_CHAIN_INPUT, &c, 0, &r);
		assert_int_equal(r.verdict, RS_ACCEPT);
	}
	rs_free(rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_helper),
		cmocka_unit_test(test_order_and_policy),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_notrack),
		cmocka_unit_test(test_default_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
