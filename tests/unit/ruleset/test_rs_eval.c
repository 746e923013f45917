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

/* ---- IPv6: frames from pb6_build parsed by ct_parse_ipv6, the context filled as
 * app/gw_rules.c's gw_rs_ctx does for IPv6 (family, 16-byte addresses in the header, the
 * upper layer after extension headers) ---- */
struct frame6 {
	uint8_t buf[PB_MAX];
};

static struct rs_ctx
ctx6_of(struct frame6 *f, const struct pb6_spec *s, uint8_t iif, uint8_t oif,
	enum ct_state st)
{
	unsigned int len = pb6_build(f->buf, s);
	struct ct_addr6 a;
	struct ct_pkt p;
	struct rs_ctx c;

	assert_int_equal(ct_parse_ipv6(f->buf, len, PB_ETH_LEN, &p, &a), CT_R_NONE);
	memset(&c, 0, sizeof(c));
	c.family = RS_FAMILY_IPV6;
	c.saddr6 = f->buf + p.l3_off + 8;
	c.daddr6 = f->buf + p.l3_off + 24;
	c.l4proto = p.tuple.proto;
	if (p.tuple.proto == IPPROTO_TCP || p.tuple.proto == IPPROTO_UDP) {
		c.sport = __builtin_bswap16(p.tuple.sport);
		c.dport = __builtin_bswap16(p.tuple.dport);
	}
	if (p.tuple.proto == IPPROTO_ICMPV6)
		c.icmp_type = p.icmp_type;
	c.iif = iif;
	c.oif = oif;
	c.ct_state = (uint8_t)st;
	c.bytes = p.ip_len;
	return c;
}

/* 2001:db8:HI:LO::LAST */
static void
a6(uint8_t a[16], uint16_t hi, uint16_t lo, uint8_t last)
{
	memset(a, 0, 16);
	a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
	a[4] = (uint8_t)(hi >> 8), a[5] = (uint8_t)hi;
	a[6] = (uint8_t)(lo >> 8), a[7] = (uint8_t)lo;
	a[15] = last;
}

static struct pb6_spec
v6(uint8_t proto, uint16_t shi, uint8_t slast, uint16_t dhi, uint16_t dlo, uint8_t dlast,
   uint16_t dport)
{
	struct pb6_spec s = { .proto = proto, .sport = 40000, .dport = dport,
			      .tcp_flags = PB_SYN, .seq = 1, .icmp_type = (uint8_t)dport,
			      .payload = "hello", .payload_len = 5 };

	a6(s.src, shi, 0, slast);
	a6(s.dst, dhi, dlo, dlast);
	if (proto == IPPROTO_ICMPV6) {
		s.sport = 9;	/* identifier */
		s.payload = NULL;
		s.payload_len = 0;
	}
	return s;
}

struct match6_case {
	const char *rule;
	struct pb6_spec pkt;
	bool v4;		/* use the IPv4 frame instead (family checks) */
	bool match;
};

static void
test_ip6_matches(void **state)
{
	const struct match6_case cases[] = {
		{ "ip6 saddr 2001:db8:100::10", v6(IPPROTO_UDP, 0x100, 0x10, 2, 0, 1, 53),
		  false, true },
		{ "ip6 saddr 2001:db8:100::10", v6(IPPROTO_UDP, 0x100, 0x11, 2, 0, 1, 53),
		  false, false },
		{ "ip6 saddr 2001:db8:100::/40", v6(IPPROTO_UDP, 0x1ff, 0x11, 2, 0, 1, 53),
		  false, true },
		{ "ip6 saddr 2001:db8:100::/40", v6(IPPROTO_UDP, 0x200, 0x11, 2, 0, 1, 53),
		  false, false },
		/* a prefix length inside a byte: /60 keeps 2001:db8:2:10x: */
		{ "ip6 daddr 2001:db8:2:100::/60", v6(IPPROTO_UDP, 0x100, 1, 2, 0x10f, 1, 53),
		  false, true },
		{ "ip6 daddr 2001:db8:2:100::/60", v6(IPPROTO_UDP, 0x100, 1, 2, 0x110, 1, 53),
		  false, false },
		{ "ip6 daddr { 2001:db8:3::/64, 2001:db8:2::5 }",
		  v6(IPPROTO_UDP, 0x100, 1, 2, 0, 5, 53), false, true },
		{ "ip6 daddr { 2001:db8:3::/64, 2001:db8:2::5 }",
		  v6(IPPROTO_UDP, 0x100, 1, 2, 0, 6, 53), false, false },
		{ "ip6 daddr ::/0", v6(IPPROTO_UDP, 0x100, 1, 2, 0, 6, 53), false, true },
		/* nft inet semantics: ip matches IPv4 only, ip6 IPv6 only */
		{ "ip saddr 0.0.0.0/0", v6(IPPROTO_UDP, 0x100, 1, 2, 0, 6, 53), false, false },
		{ "ip daddr 0.0.0.0/0", v6(IPPROTO_UDP, 0x100, 1, 2, 0, 6, 53), false, false },
		{ "ip6 saddr ::/0", v6(IPPROTO_UDP, 0x100, 1, 2, 0, 6, 53), true, false },
		{ "ip saddr 0.0.0.0/0", v6(IPPROTO_UDP, 0x100, 1, 2, 0, 6, 53), true, true },
		{ "meta nfproto ipv6", v6(IPPROTO_TCP, 0x100, 1, 2, 0, 6, 22), false, true },
		{ "meta nfproto ipv6", v6(IPPROTO_TCP, 0x100, 1, 2, 0, 6, 22), true, false },
		{ "meta nfproto ipv4", v6(IPPROTO_TCP, 0x100, 1, 2, 0, 6, 22), false, false },
		{ "meta nfproto ipv4", v6(IPPROTO_TCP, 0x100, 1, 2, 0, 6, 22), true, true },
		{ "meta nfproto { ipv4, ipv6 }", v6(IPPROTO_TCP, 0x100, 1, 2, 0, 6, 22), false,
		  true },
		/* family-independent matches */
		{ "tcp dport 22", v6(IPPROTO_TCP, 0x100, 1, 2, 0, 6, 22), false, true },
		{ "tcp dport 22", v6(IPPROTO_UDP, 0x100, 1, 2, 0, 6, 22), false, false },
		{ "meta nfproto ipv6 udp dport 53", v6(IPPROTO_UDP, 0x100, 1, 2, 0, 6, 53), false,
		  true },
		{ "udp sport 40000", v6(IPPROTO_UDP, 0x100, 1, 2, 0, 6, 53), false, true },
		{ "meta l4proto icmpv6", v6(IPPROTO_ICMPV6, 0x100, 1, 2, 0, 6, 128), false, true },
		{ "meta l4proto icmp", v6(IPPROTO_ICMPV6, 0x100, 1, 2, 0, 6, 128), false, false },
		{ "icmpv6 type echo-request", v6(IPPROTO_ICMPV6, 0x100, 1, 2, 0, 6, 128), false,
		  true },
		{ "icmpv6 type { echo-reply, 135 }", v6(IPPROTO_ICMPV6, 0x100, 1, 2, 0, 6, 128),
		  false, false },
		{ "icmp type 128", v6(IPPROTO_ICMPV6, 0x100, 1, 2, 0, 6, 128), false, false },
		{ "ip6 daddr 2001:db8:2::/48 tcp dport 22 ct state new iif inside",
		  v6(IPPROTO_TCP, 0x100, 1, 2, 0, 6, 22), false, true },
		{ "ip6 daddr 2001:db8:2::/48 tcp dport 22 ct state new iif outside",
		  v6(IPPROTO_TCP, 0x100, 1, 2, 0, 6, 22), false, false },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct match6_case *m = &cases[i];
		struct frame6 f;
		char rule[256];
		struct rs_ruleset *rs;
		struct rs_ctx c;
		int r;

		snprintf(rule, sizeof(rule), "  %s drop", m->rule);
		rs = fw(rule, "accept", 1);
		if (m->v4)
			c = ctx_of(&(struct pb_spec){ .src = H1, .dst = SRV, .sport = 40000,
						      .dport = 22, .proto = IPPROTO_TCP,
						      .tcp_flags = PB_SYN, .seq = 1 },
				   IN, OUT, CT_NEW, 0);
		else
			c = ctx6_of(&f, &m->pkt, IN, OUT, CT_NEW);
		if (verdict(rs, &c, &r) != (m->match ? RS_DROP : RS_ACCEPT) ||
		    r != (m->match ? F0 : -1))
			fail_msg("case %u: '%s' should %smatch", i, m->rule,
				 m->match ? "" : "not ");
		rs_free(rs);
	}
}

/* The upper layer behind extension headers is what l4proto and ports see. */
static void
test_ip6_ext_headers(void **state)
{
	/* hop-by-hop options (RFC 8200 4.3): next header TCP, length 0, PadN of 4 */
	static const uint8_t hbh[8] = { IPPROTO_TCP, 0, 1, 4, 0, 0, 0, 0 };
	struct pb6_spec s = v6(IPPROTO_TCP, 0x100, 1, 2, 0, 6, 22);
	struct rs_ruleset *rs = fw("  meta l4proto tcp tcp dport 22 drop", "accept", 1);
	struct frame6 f;
	struct rs_ctx c;
	int r;

	(void)state;
	s.ext = hbh;
	s.ext_len = sizeof(hbh);
	s.ext_nh = 0;
	c = ctx6_of(&f, &s, IN, OUT, CT_NEW);
	assert_int_equal(f.buf[PB_ETH_LEN + 6], 0);	/* next header: hop-by-hop */
	assert_int_equal(verdict(rs, &c, &r), RS_DROP);
	assert_int_equal(r, F0);
	rs_free(rs);
}

/* reject: the ICMPv6 code of each form, and `with icmp` / `with icmpv6` implying the
 * family (nft inet: the reject expression's dependency). */
static void
test_ip6_reject(void **state)
{
	static const struct {
		const char *rule;
		bool v6_match, v4_match;
		uint8_t code, code6;
	} cases[] = {
		{ "tcp dport 22 reject", true, true, 3, 4 },
		{ "tcp dport 22 reject with icmpv6 type admin-prohibited", true, false, 0, 1 },
		{ "tcp dport 22 reject with icmpv6 type no-route", true, false, 0, 0 },
		{ "tcp dport 22 reject with icmp type host-prohibited", false, true, 10, 0 },
		{ "tcp dport 22 reject with icmpx type admin-prohibited", true, true, 13, 1 },
		{ "tcp dport 22 reject with icmpx type host-unreachable", true, true, 1, 3 },
		{ "tcp dport 22 reject with tcp reset", true, true, 3, 4 },
	};
	struct pb_spec s4 = tcp(H1, SRV, 40000, 22);
	struct pb6_spec s6 = v6(IPPROTO_TCP, 0x100, 1, 2, 0, 6, 22);
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rule[256];
		struct rs_ruleset *rs;
		struct rs_result r;
		struct frame6 f;
		struct rs_ctx c;

		snprintf(rule, sizeof(rule), "  %s", cases[i].rule);
		rs = fw(rule, "accept", 1);
		c = ctx6_of(&f, &s6, IN, OUT, CT_NEW);
		rs_eval(rs, 0, RS_CHAIN_FORWARD, &c, 0, &r);
		if (r.verdict != (cases[i].v6_match ? RS_REJECT : RS_ACCEPT) ||
		    (cases[i].v6_match && r.reject_code6 != cases[i].code6))
			fail_msg("case %u (IPv6): '%s' verdict %d code6 %u", i, cases[i].rule,
				 r.verdict, r.reject_code6);
		if (cases[i].v6_match)
			assert_int_equal(r.reject_rst, strstr(cases[i].rule, "reset") != NULL);
		c = ctx_of(&s4, IN, OUT, CT_NEW, 0);
		rs_eval(rs, 0, RS_CHAIN_FORWARD, &c, 0, &r);
		if (r.verdict != (cases[i].v4_match ? RS_REJECT : RS_ACCEPT) ||
		    (cases[i].v4_match && !r.reject_rst && r.reject_code != cases[i].code))
			fail_msg("case %u (IPv4): '%s' verdict %d code %u", i, cases[i].rule,
				 r.verdict, r.reject_code);
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
		cmocka_unit_test(test_ip6_matches),
		cmocka_unit_test(test_ip6_ext_headers),
		cmocka_unit_test(test_ip6_reject),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
