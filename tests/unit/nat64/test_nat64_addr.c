/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nat64_addr.c - RFC 6052 2.4's table of IPv4-embedded IPv6 addresses (192.0.2.33
 * under each prefix length), extraction back, prefixes refused (2.2: length, u octet,
 * bits past the length) and the 3.1 rule for the Well-Known Prefix.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "nat64.h"

static void
pfx(struct nat64_prefix *p, const char *s, unsigned int len)
{
	uint8_t a[16];

	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
	assert_int_equal(nat64_prefix_set(p, a, len), 0);
}

static void
test_rfc6052_vectors(void **state)
{
	static const struct {
		const char *prefix;
		unsigned int len;
		const char *embedded;
	} v[] = {	/* RFC 6052 section 2.4 */
		{ "2001:db8::", 32, "2001:db8:c000:221::" },
		{ "2001:db8:100::", 40, "2001:db8:1c0:2:21::" },
		{ "2001:db8:122::", 48, "2001:db8:122:c000:2:2100::" },
		{ "2001:db8:122:300::", 56, "2001:db8:122:3c0:0:221::" },
		{ "2001:db8:122:344::", 64, "2001:db8:122:344:c0:2:2100:0" },
		{ "2001:db8:122:344::", 96, "2001:db8:122:344::192.0.2.33" },
		{ "64:ff9b::", 96, "64:ff9b::192.0.2.33" },
	};
	struct nat64_prefix p;
	uint8_t got[16], want[16];
	uint32_t v4, back;
	unsigned int i;

	(void)state;
	inet_pton(AF_INET, "192.0.2.33", &v4);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		pfx(&p, v[i].prefix, v[i].len);
		assert_int_equal(inet_pton(AF_INET6, v[i].embedded, want), 1);
		nat64_embed(&p, v4, got);
		assert_memory_equal(got, want, 16);
		assert_true(nat64_prefix_match(&p, want));
		back = 0;
		assert_true(nat64_extract(&p, want, &back));
		assert_int_equal(back, v4);
		/* the same address under another prefix is not ours */
		want[1] ^= 0x01;
		assert_false(nat64_extract(&p, want, &back));
		assert_int_equal(nat64_prefix_is_wkp(&p), i == 6);
	}
}

static void
test_prefix_refused(void **state)
{
	struct nat64_prefix p = { .len = 0 };
	uint8_t a[16];

	(void)state;
	inet_pton(AF_INET6, "2001:db8::", a);
	assert_int_equal(nat64_prefix_set(&p, a, 33), -1);
	assert_int_equal(nat64_prefix_set(&p, a, 128), -1);
	assert_int_equal(p.len, 0);
	inet_pton(AF_INET6, "2001:db8:0:0:ff00::", a);	/* u octet (bits 64..71) set */
	assert_int_equal(nat64_prefix_set(&p, a, 96), -1);
	inet_pton(AF_INET6, "2001:db8:1::", a);		/* bits past /32 */
	assert_int_equal(nat64_prefix_set(&p, a, 32), -1);
	assert_int_equal(nat64_prefix_set(&p, a, 48), 0);
	/* an address with the u octet set does not match (RFC 6052 2.2) */
	inet_pton(AF_INET6, "2001:db8:1:c000:ff02:2100::", a);
	assert_false(nat64_prefix_match(&p, a));
}

static void
test_non_global(void **state)
{
	static const char *const local[] = {
		"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.10", "100.64.0.1",
		"100.127.255.254", "127.0.0.1", "0.1.2.3", "169.254.1.1", "224.0.0.1",
		"255.255.255.255",
	};
	static const char *const global[] = {
		"8.8.8.8", "172.32.0.1", "100.128.0.1", "192.0.2.33", "198.51.100.5",
		"203.0.113.7", "172.15.255.255",
	};
	uint32_t a;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		inet_pton(AF_INET, local[i], &a);
		assert_false(nat64_v4_global(a));
	}
	for (i = 0; i < sizeof(global) / sizeof(global[0]); i++) {
		inet_pton(AF_INET, global[i], &a);
		assert_true(nat64_v4_global(a));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6052_vectors),
		cmocka_unit_test(test_prefix_refused),
		cmocka_unit_test(test_non_global),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
