/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_rs_parse.c - lib/ruleset's parser: every keyword of the grammar (docs/config.md
 * "Ruleset") is accepted and compiled to what it says (checked through rs_eval), every error
 * message comes with FILE:LINE:COL and the offending token, and the texts the listing shows
 * are the rules as written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "rs.h"

#define HDR "table inet natgw {\n chain forward {\n  type filter hook forward priority 0;\n"
#define FTR "\n }\n}\n"

static struct rs_ruleset *
load(const char *text, char *err, size_t n)
{
	return rs_load_string(text, "t.nft", 1, err, n);
}

/* Every keyword, in one file the kernel's nft also accepts (iif names aside). */
static const char *const all_keywords =
	"flush ruleset\n"
	"# a comment\n"
	"table inet natgw {\n"
	"\tchain input {\n"
	"\t\ttype filter hook input priority filter; policy drop;\n"
	"\t\ticmp type echo-request limit rate 10/second burst 20 packets accept\n"
	"\t\ttcp dport ssh reject with tcp reset\n"
	"\t\tudp dport 1-1023 reject with icmp type port-unreachable\n"
	"\t\tudp dport 1024 reject with icmpx type admin-prohibited\n"
	"\t\tmeta l4proto { gre, esp, 47 } drop\n"
	"\t\treject\n"
	"\t}\n"
	"\tchain fw {\n"
	"\t\ttype filter hook forward priority -10; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tct state { invalid, untracked } log prefix \"bad \" level warn counter drop\n"
	"\t\tct status dnat,snat counter packets 5 bytes 300 accept\n"
	"\t\tct status { assured, seen-reply } accept\n"
	"\t\tct helper \"ftp\" accept\n"
	"\t\tiif inside oif outside accept\n"
	"\t\tiifname \"outside\" oifname { inside } drop\n"
	"\t\tip saddr 10.0.0.0/8 ip daddr { 192.0.2.1, 198.51.100.0/24 } drop\n"
	"\t\tudp sport 53 udp dport { 53, 5353, 6000-6010 } accept\n"
	"\t\ttcp sport 1024-65535 tcp dport { http, https } accept\n"
	"\t\tip daddr 192.0.2.53 udp dport 53 notrack\n"
	"\t\tip6 saddr 2001:db8:100::/56 ip6 daddr { 2001:db8:2::1, 2001:db8:3::/48 } drop\n"
	"\t\tmeta nfproto ipv6 udp dport 53 accept\n"
	"\t\tmeta nfproto { ipv4, ipv6 } meta l4proto { icmp, icmpv6 } accept\n"
	"\t\ticmpv6 type { echo-request, nd-neighbor-solicit, 2 } accept\n"
	"\t\ttcp dport 23 reject with icmpv6 type admin-prohibited\n"
	"\t\tlimit rate 100/minute log\n"
	"\t\tlimit rate 1/hour\n"
	"\t\tlimit rate 1/day counter\n"
	"\t}\n"
	"}\n";

static void
test_all_keywords(void **state)
{
	char err[512] = "";
	struct rs_ruleset *rs;

	(void)state;
	rs = load(all_keywords, err, sizeof(err));
	if (rs == NULL)
		fail_msg("%s", err);
	assert_int_equal(rs_n_rules(rs), 25);
	assert_string_equal(rs_table_name(rs), "inet natgw");
	assert_string_equal(rs_chain_name(rs, RS_CHAIN_FORWARD), "fw");
	assert_int_equal(rs_chain_policy(rs, RS_CHAIN_INPUT), RS_DROP);
	assert_int_equal(rs_chain_policy(rs, RS_CHAIN_FORWARD), RS_ACCEPT);
	assert_true(rs_has_notrack(rs));
	assert_int_equal(rs_rule_chain(rs, 0), RS_CHAIN_INPUT);
	assert_int_equal(rs_rule_chain(rs, 6), RS_CHAIN_FORWARD);
	assert_string_equal(rs_rule_text(rs, 7),
			    "ct state { invalid, untracked } log prefix \"bad \" level warn counter drop");
	assert_string_equal(rs_rule_log_prefix(rs, 7), "bad ");
	assert_true(rs_rule_has_counter(rs, 7));
	assert_false(rs_rule_has_counter(rs, 6));
	assert_int_equal(rs_rule_line(rs, 7), 16);
	rs_free(rs);
}

/* Without chains both policies are accept; generations increase. */
static void
test_empty_table(void **state)
{
	char err[256];
	struct rs_ruleset *a, *b;

	(void)state;
	a = load("table ip t {\n}\n", err, sizeof(err));
	b = load("table ip t { }", err, sizeof(err));
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(rs_n_rules(a), 0);
	assert_int_equal(rs_chain_policy(a, RS_CHAIN_FORWARD), RS_ACCEPT);
	assert_false(rs_chain_declared(a, RS_CHAIN_INPUT));
	assert_true(rs_generation(b) > rs_generation(a));
	rs_free(a);
	rs_free(b);
}

struct err_case {
	const char *text;
	const char *msg;	/* the whole message */
};

static const struct err_case errors[] = {
	{ HDR "  foo accept" FTR, "t.nft:4:3: unknown keyword 'foo'" },
	{ HDR "  ct state new,bogus accept" FTR, "t.nft:4:16: unknown ct state 'bogus'" },
	{ HDR "  ct status expected accept" FTR, "t.nft:4:13: unsupported ct status 'expected'" },
	{ HDR "  ct mark 1 accept" FTR, "t.nft:4:6: unknown ct key (state, status, helper) 'mark'" },
	{ HDR "  ct helper { accept" FTR, "t.nft:4:13: expected a helper name, got '{'" },
	{ HDR "  iif eth0 accept" FTR, "t.nft:4:7: interface must be inside or outside, not 'eth0'" },
	{ HDR "  ip saddr 10.0.0.300 drop" FTR, "t.nft:4:12: bad IPv4 address '10.0.0.300'" },
	{ HDR "  ip saddr 10.0.0.1/33 drop" FTR, "t.nft:4:12: value out of range (0-32) '10.0.0.1/33'" },
	{ HDR "  ip daddr 10.0.0.1/8 drop" FTR, "t.nft:4:12: prefix has host bits set '10.0.0.1/8'" },
	{ HDR "  ip protocol tcp drop" FTR, "t.nft:4:6: unknown ip key (saddr, daddr) 'protocol'" },
	{ HDR "  meta mark 1" FTR, "t.nft:4:8: unknown meta key (l4proto, nfproto) 'mark'" },
	{ HDR "  meta l4proto foo drop" FTR, "t.nft:4:16: unknown protocol 'foo'" },
	{ HDR "  meta l4proto 256 drop" FTR, "t.nft:4:16: value out of range (0-255) '256'" },
	{ HDR "  tcp flags syn drop" FTR, "t.nft:4:7: unknown tcp key (sport, dport) 'flags'" },
	{ HDR "  udp len 5 drop" FTR, "t.nft:4:7: unknown udp key (sport, dport) 'len'" },
	{ HDR "  tcp dport 70000 drop" FTR, "t.nft:4:13: value out of range (0-65535) '70000'" },
	{ HDR "  tcp dport 90-80 drop" FTR, "t.nft:4:13: range low end above high end '90-80'" },
	{ HDR "  tcp dport gopher drop" FTR, "t.nft:4:13: unknown service 'gopher'" },
	{ HDR "  tcp dport { } drop" FTR, "t.nft:4:13: empty set '{'" },
	{ HDR "  tcp dport { 1 2 } drop" FTR, "t.nft:4:17: expected ',' or '}' in set, got '2'" },
	{ HDR "  tcp dport 22,23 drop" FTR, "t.nft:4:15: unknown keyword ','" },
	{ HDR "  icmp code 1 drop" FTR, "t.nft:4:8: expected 'type', got 'code'" },
	{ HDR "  icmp type ping drop" FTR, "t.nft:4:13: unknown icmp type 'ping'" },
	{ HDR "  accept drop" FTR, "t.nft:4:10: statement after the verdict 'drop'" },
	{ HDR "  reject with tcp reset" FTR,
	  "t.nft:4:3: reject with tcp reset needs a tcp match in the rule: 'reject'" },
	{ HDR "  reject with udp" FTR,
	  "t.nft:4:15: expected 'tcp reset', 'icmp type', 'icmpv6 type' or 'icmpx type', "
	  "got 'udp'" },
	{ HDR "  reject with icmp type foo" FTR, "t.nft:4:25: unknown reject type 'foo'" },
	{ HDR "  tcp dport 1 reject with tcp rst" FTR, "t.nft:4:31: expected 'reset', got 'rst'" },
	{ HDR "  log prefix bad" FTR, "t.nft:4:14: log prefix must be a quoted string, not 'bad'" },
	{ HDR "  log level loud" FTR, "t.nft:4:13: unknown log level 'loud'" },
	{ HDR "  limit rate 10 accept" FTR, "t.nft:4:14: expected RATE/second, got '10'" },
	{ HDR "  limit rate 10/week accept" FTR,
	  "t.nft:4:14: unknown rate unit (second, minute, hour, day) '10/week'" },
	{ HDR "  limit rate 0/second accept" FTR, "t.nft:4:14: rate must be at least 1 '0/second'" },
	{ HDR "  limit rate x/second accept" FTR, "t.nft:4:14: expected a number, got 'x/second'" },
	{ HDR "  limit burst 5" FTR, "t.nft:4:9: expected 'rate', got 'burst'" },
	{ HDR "  limit rate 1/second burst 0 packets" FTR, "t.nft:4:29: burst must be at least 1 '0'" },
	{ HDR "  limit rate 1/second burst 5 bytes" FTR, "t.nft:4:31: expected 'packets', got 'bytes'" },
	{ HDR "  limit rate 1/second limit rate 2/second" FTR,
	  "t.nft:4:34: one limit per rule '2/second'" },
	{ HDR "  counter counter" FTR, "t.nft:4:11: one counter per rule: 'counter'" },
	{ HDR "  counter packets x bytes 1" FTR, "t.nft:4:19: expected a number, got 'x'" },
	{ HDR "  ct state new notrack" FTR,
	  "t.nft:4:3: a notrack rule runs before conntrack: no ct match in it: 'ct'" },
	{ HDR "  notrack accept" FTR,
	  "t.nft:4:3: a notrack rule takes no verdict (the chain decides on ct state untracked): "
	  "'notrack'" },
	{ HDR "  notrack tcp dport 1" FTR, "t.nft:4:11: a match after notrack has no effect: 'tcp'" },
	{ HDR "  notrack notrack" FTR, "t.nft:4:11: notrack twice in a rule: 'notrack'" },
	{ "table inet t {\n chain input {\n  type filter hook input priority 0;\n  notrack\n }\n}\n",
	  "t.nft:4:3: notrack is only for the forward chain: 'notrack'" },
	{ HDR "  policy reject;" FTR, "t.nft:4:10: policy must be accept or drop, not 'reject'" },
	{ HDR "  policy drop accept" FTR, "t.nft:4:15: expected ';' after the policy, got 'accept'" },
	{ "table inet t {\n chain c {\n  accept\n }\n}\n",
	  "t.nft:3:3: rule before 'type filter hook input|forward ...;': 'accept'" },
	{ "table inet t {\n chain c {\n }\n}\n",
	  "t.nft:2:8: chain has no 'type filter hook input|forward priority N;': 'c'" },
	{ "table inet t {\n chain c { type nat hook forward priority 0; }\n}\n",
	  "t.nft:2:17: expected 'filter', got 'nat'" },
	{ "table inet t {\n chain c { type filter hook prerouting priority 0; }\n}\n",
	  "t.nft:2:29: hook must be input or forward, not 'prerouting'" },
	{ "table inet t {\n chain c { type filter hook input prio 0; }\n}\n",
	  "t.nft:2:35: expected 'priority', got 'prio'" },
	{ "table inet t {\n chain c { type filter hook input priority x; }\n}\n",
	  "t.nft:2:44: expected a number, got 'x'" },
	{ "table inet t {\n chain c { type filter hook input priority 0; type filter }\n}\n",
	  "t.nft:2:47: chain type given twice: 'type'" },
	{ "table inet t {\n chain a { type filter hook input priority 0; }\n"
	  " chain b { type filter hook input priority 0; }\n}\n",
	  "t.nft:3:12: a second chain on hook input: 'type'" },
	{ "table inet t {\n chain { }\n}\n", "t.nft:2:8: expected a chain name, got '{'" },
	{ "table inet t {\n chain c type\n}\n", "t.nft:2:10: expected '{', got 'type'" },
	{ "table inet t {\n chain c {\n", "t.nft:3:1: missing '}' of chain at end of file" },
	{ "table inet t {\n", "t.nft:2:1: missing '}' of table at end of file" },
	{ "table inet t {\n set s { }\n}\n", "t.nft:2:2: expected 'chain', got 'set'" },
	{ "table bridge t { }\n", "t.nft:1:7: table family must be inet or ip, not 'bridge'" },
	{ "table inet { }\n", "t.nft:1:12: expected a table name, got '{'" },
	{ "table inet t chain\n", "t.nft:1:14: expected '{', got 'chain'" },
	{ "table inet a { }\ntable inet b { }\n", "t.nft:2:1: only one table per ruleset: 'table'" },
	{ "flush table\n", "t.nft:1:7: expected 'ruleset', got 'table'" },
	{ "add rule inet t c accept\n", "t.nft:1:1: expected 'table' or 'flush ruleset', got 'add'" },
	{ "# nothing\n", "t.nft:2:1: no 'table inet NAME { ... }' at end of file" },
	{ HDR "  log prefix \"open" FTR, "t.nft:4:14: unterminated string '\"open'" },
	{ HDR "  ip saddr 1.2.3.4 % drop" FTR, "t.nft:4:20: unexpected character '%'" },
	{ HDR "  ip saddr" FTR, "t.nft:4:11: expected a value, got at end of line" },
	{ HDR "  tcp dport { 1,\n 2 3 }" FTR, "t.nft:5:4: expected ',' or '}' in set, got '3'" },
	{ HDR "  ip6 saddr 2001:db8::/129 drop" FTR,
	  "t.nft:4:13: value out of range (0-128) '2001:db8::/129'" },
	{ HDR "  ip6 daddr 2001:db8::1/64 drop" FTR,
	  "t.nft:4:13: prefix has host bits set '2001:db8::1/64'" },
	{ HDR "  ip6 daddr 2001:db8::g drop" FTR, "t.nft:4:13: bad IPv6 address '2001:db8::g'" },
	{ HDR "  ip6 daddr { 2001:db8::/32, 10.0.0.1 } drop" FTR,
	  "t.nft:4:30: bad IPv6 address '10.0.0.1'" },
	{ HDR "  ip saddr 2001:db8::1 drop" FTR, "t.nft:4:12: bad IPv4 address '2001:db8::1'" },
	{ HDR "  ip6 nexthdr tcp drop" FTR, "t.nft:4:7: unknown ip6 key (saddr, daddr) 'nexthdr'" },
	{ HDR "  meta nfproto ipx drop" FTR,
	  "t.nft:4:16: nfproto must be ipv4 or ipv6, not 'ipx'" },
	{ HDR "  icmpv6 type bogus drop" FTR, "t.nft:4:15: unknown icmpv6 type 'bogus'" },
	{ HDR "  icmpv6 code 1 drop" FTR, "t.nft:4:10: expected 'type', got 'code'" },
	{ HDR "  reject with icmpv6 type host-prohibited" FTR,
	  "t.nft:4:27: unknown reject type 'host-prohibited'" },
};

static void
test_errors(void **state)
{
	unsigned int i, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		char err[512] = "";
		struct rs_ruleset *rs = load(errors[i].text, err, sizeof(err));

		if (rs != NULL) {
			print_error("case %u loaded, expected: %s\n", i, errors[i].msg);
			rs_free(rs);
			bad++;
		} else if (strcmp(err, errors[i].msg) != 0) {
			print_error("case %u:\n  expected: %s\n  got:      %s\n", i, errors[i].msg,
				    err);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_file_errors(void **state)
{
	char err[512], path[] = "/tmp/rs_test_XXXXXX";
	struct rs_ruleset *rs;
	FILE *f;
	int fd;

	(void)state;
	rs = rs_load_file("/nonexistent/rules.nft", 1, err, sizeof(err));
	assert_null(rs);
	assert_string_equal(err, "/nonexistent/rules.nft: No such file or directory");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("table inet t {\n chain c { type filter hook forward priority 0;\n"
	      "  tcp dport 22 accept\n  bogus\n }\n}\n", f);
	fclose(f);
	rs = rs_load_file(path, 1, err, sizeof(err));
	assert_null(rs);
	{
		char want[600];

		snprintf(want, sizeof(want), "%s:4:3: unknown keyword 'bogus'", path);
		assert_string_equal(err, want);
	}
	rs = rs_load_string("table inet t { }", "x", 0, err, sizeof(err));
	assert_null(rs);
	assert_string_equal(err, "x: workers must be 1..64");
	unlink(path);
}

/* rs_print: the listing re-reads to the same rules (nft list ruleset | nft -f). */
static void
test_print_roundtrip(void **state)
{
	char err[512], *buf = NULL;
	size_t len = 0;
	struct rs_ruleset *a, *b;
	unsigned int i;
	FILE *f;

	(void)state;
	a = load(all_keywords, err, sizeof(err));
	assert_non_null(a);
	f = open_memstream(&buf, &len);
	rs_print(a, f);
	fclose(f);
	assert_non_null(strstr(buf, "counter packets 0 bytes 0 drop"));
	b = load(buf, err, sizeof(err));
	if (b == NULL)
		fail_msg("%s\n%s", err, buf);
	assert_int_equal(rs_n_rules(a), rs_n_rules(b));
	for (i = 0; i < rs_n_rules(a); i++)
		assert_int_equal(rs_rule_chain(a, i), rs_rule_chain(b, i));
	free(buf);
	rs_free(a);
	rs_free(b);
}

/* Listing a listing gives the same text (the fuzz_rules round-trip findings): a comment
 * inside a set written over lines, a quoted table or chain name, `counter` inside a string,
 * a rule longer than 1 KB, counter values in the source replaced by the live ones. */
static char *
list(const struct rs_ruleset *rs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	rs_print(rs, f);
	fclose(f);
	return buf;
}

static void
test_print_relists(void **state)
{
	static char text[8192];
	char err[512] = "", *l1, *l2;
	struct rs_ruleset *a, *b;
	size_t n;
	int k;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text),
			     "table inet \"my nat\" {\n chain \"in put\" {\n"
			     "  type filter hook input priority filter;\n"
			     "  tcp dport { 22, # ssh\n 80 } accept\n"
			     "  log prefix \"counter packets \" counter packets 7 bytes 9 accept\n"
			     "  ct helper \"counterx\" counter drop\n"
			     "  udp dport \\\n 53 accept\n"
			     "  udp dport {");
	for (k = 1; k < 400; k++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " %d,", k);
	snprintf(text + n, sizeof(text) - n, " 400 } drop\n }\n}\n");
	a = load(text, err, sizeof(err));
	if (a == NULL)
		fail_msg("%s", err);
	assert_string_equal(rs_table_name(a), "inet my nat");
	assert_string_equal(rs_chain_name(a, RS_CHAIN_INPUT), "in put");
	assert_string_equal(rs_rule_text(a, 0), "tcp dport { 22, 80 } accept");
	assert_string_equal(rs_rule_text(a, 1),
			    "log prefix \"counter packets \" counter accept");
	assert_string_equal(rs_rule_log_prefix(a, 1), "counter packets ");
	assert_string_equal(rs_rule_text(a, 2), "ct helper \"counterx\" counter drop");
	assert_string_equal(rs_rule_text(a, 3), "udp dport 53 accept");
	assert_true(strlen(rs_rule_text(a, 4)) > 1024);
	l1 = list(a);
	assert_non_null(strstr(l1, "table inet \"my nat\" {\n\tchain \"in put\" {\n"));
	assert_non_null(strstr(l1, "\t\tlog prefix \"counter packets \" counter packets 0 bytes 0 "
				   "accept\n"));
	assert_non_null(strstr(l1, "\t\tct helper \"counterx\" counter packets 0 bytes 0 drop\n"));
	b = load(l1, err, sizeof(err));
	if (b == NULL)
		fail_msg("%s\n%s", err, l1);
	assert_int_equal(rs_n_rules(b), 5);
	assert_string_equal(rs_rule_text(b, 4), rs_rule_text(a, 4));
	l2 = list(b);
	assert_string_equal(l1, l2);
	free(l1);
	free(l2);
	rs_free(a);
	rs_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_keywords),
		cmocka_unit_test(test_empty_table),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_print_roundtrip),
		cmocka_unit_test(test_print_relists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
