/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_json.c - app/gw_ctl_json.c, the control channel's JSON: requests that parse (every
 * value type, escapes, \u to UTF-8, whitespace), requests refused with the byte and reason
 * (RFC 8259 grammar, nesting, duplicates, no/empty cmd, sizes), the typed getters, and the
 * reply writer's exact bytes (escaping, nesting, "ok" added, an error replacing what was
 * written).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gw_ctl_json.h"

static struct gw_ctl_req req;

static int
parse(const char *s, char *err, size_t errlen)
{
	return gw_ctl_parse(s, strlen(s), &req, err, errlen);
}

static void
test_parse_ok(void **state)
{
	char err[128] = "";
	uint64_t v = 0;

	(void)state;
	assert_int_equal(parse(" {\"cmd\" : \"flush\", \"src\":\"10.0.1.0/24\",\"sport\":53,"
			       "\"all\":true,\"x\":null, \"neg\":-1.5e3}\r\n", err,
			       sizeof(err)), 0);
	assert_string_equal(gw_ctl_req_cmd(&req), "flush");
	assert_string_equal(gw_ctl_req_str(&req, "src"), "10.0.1.0/24");
	assert_int_equal(gw_ctl_req_u64(&req, "sport", &v), 1);
	assert_int_equal(v, 53);
	assert_true(gw_ctl_req_bool(&req, "all", false));
	assert_null(gw_ctl_req_str(&req, "x"));		/* null is absent */
	assert_int_equal(gw_ctl_req_u64(&req, "x", &v), 0);
	assert_string_equal(gw_ctl_req_str(&req, "neg"), "-1.5e3");
	assert_int_equal(gw_ctl_req_u64(&req, "neg", &v), -1);	/* not a u64 */
	assert_int_equal(gw_ctl_req_u64(&req, "all", &v), -1);	/* a bool is no number */
	assert_null(gw_ctl_req_str(&req, "nope"));
	assert_false(gw_ctl_req_bool(&req, "nope", false));
	/* a decimal string is a number too (natgw-ctl sends ids as numbers, people as text) */
	assert_int_equal(parse("{\"cmd\":\"delete\",\"id\":\"17\",\"w\":\"1x\"}", err, sizeof(err)),
			 0);
	assert_int_equal(gw_ctl_req_u64(&req, "id", &v), 1);
	assert_int_equal(v, 17);
	assert_int_equal(gw_ctl_req_u64(&req, "w", &v), -1);
}

static void
test_parse_escapes(void **state)
{
	char err[128] = "";

	(void)state;
	assert_int_equal(parse("{\"cmd\":\"forward\",\"spec\":\"tcp 1.2.3.4:80 \\u002d> "
			       "a\\\"b\\\\c\\/d\\n\\t\\u00e9\\u20ac\"}", err, sizeof(err)), 0);
	assert_string_equal(gw_ctl_req_str(&req, "spec"),
			    "tcp 1.2.3.4:80 -> a\"b\\c/d\n\t\xc3\xa9\xe2\x82\xac");
	assert_int_equal(parse("{}", err, sizeof(err)), -1);
	assert_string_equal(err, "no \"cmd\"");
}

struct bad {
	const char *in;
	const char *err;
};

static void
test_parse_bad(void **state)
{
	static const struct bad bad[] = {
		{ "", "at byte 1: expected '{'" },
		{ "[1]", "at byte 1: expected '{'" },
		{ "{\"cmd\":\"list\",}", "at byte 15: expected a key string" },
		{ "{\"cmd\" \"list\"}", "at byte 8: expected ':'" },
		{ "{\"cmd\":\"list\" \"x\":1}", "at byte 15: expected ',' or '}'" },
		{ "{\"cmd\":\"list\"} x", "at byte 16: text after the object" },
		{ "{\"cmd\":\"list\"", "at byte 14: expected ',' or '}'" },
		{ "{\"cmd\":\"li", "at byte 11: unterminated string" },
		{ "{\"cmd\":\"l\x01\"}", "at byte 10: control character in string" },
		{ "{\"cmd\":\"\\q\"}", "at byte 10: bad escape" },
		{ "{\"cmd\":\"\\u00zz\"}", "at byte 13: bad \\u escape" },
		{ "{\"cmd\":\"\\u0000\"}", "at byte 15: \\u0000 or a surrogate" },
		{ "{\"cmd\":\"\\ud800\"}", "at byte 15: \\u0000 or a surrogate" },
		{ "{\"cmd\":01}", "at byte 9: expected ',' or '}'" },
		{ "{\"cmd\":-}", "at byte 9: bad number" },
		{ "{\"cmd\":1.}", "at byte 10: bad number" },
		{ "{\"cmd\":tru}", "at byte 8: expected a value" },
		{ "{\"cmd\":{\"a\":1}}", "at byte 8: nested objects and arrays are not accepted" },
		{ "{\"cmd\":[1]}", "at byte 8: nested objects and arrays are not accepted" },
		{ "{\"cmd\":\"a\",\"cmd\":\"b\"}", "at byte 17: duplicate key" },
		{ "{\"cmd\":1}", "\"cmd\" must be a non-empty string" },
		{ "{\"cmd\":\"\"}", "\"cmd\" must be a non-empty string" },
		{ "{\"src\":\"1.2.3.4\"}", "no \"cmd\"" },
	};
	char err[128];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (parse(bad[i].in, err, sizeof(err)) != -1 || strcmp(err, bad[i].err) != 0)
			fail_msg("'%s': got '%s', want '%s'", bad[i].in, err, bad[i].err);
	}
}

static void
test_parse_limits(void **state)
{
	char line[40000], err[128];
	unsigned int i, o = 0;

	(void)state;
	/* 33 keys: one more than GW_CTL_MAX_FIELDS */
	o += (unsigned int)snprintf(line + o, sizeof(line) - o, "{\"cmd\":\"x\"");
	for (i = 0; i < GW_CTL_MAX_FIELDS; i++)
		o += (unsigned int)snprintf(line + o, sizeof(line) - o, ",\"k%u\":%u", i, i);
	snprintf(line + o, sizeof(line) - o, "}");
	assert_int_equal(parse(line, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many keys"));
	/* a value longer than 511 bytes, a key longer than 31 */
	o = (unsigned int)snprintf(line, sizeof(line), "{\"cmd\":\"");
	memset(line + o, 'a', 600);
	snprintf(line + o + 600, sizeof(line) - o - 600, "\"}");
	assert_int_equal(parse(line, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "string too long"));
	assert_int_equal(parse("{\"cmd\":\"x\",\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}", err,
			       sizeof(err)), -1);
	assert_non_null(strstr(err, "string too long"));
}

static void
test_unknown(void **state)
{
	static const char *const allowed[] = { "src", "dst", NULL };
	char err[128];

	(void)state;
	assert_int_equal(parse("{\"cmd\":\"list\",\"src\":\"a\",\"dts\":\"b\"}", err,
			       sizeof(err)), 0);
	assert_string_equal(gw_ctl_req_unknown(&req, allowed), "dts");
	assert_int_equal(parse("{\"cmd\":\"list\",\"dst\":\"a\"}", err, sizeof(err)), 0);
	assert_null(gw_ctl_req_unknown(&req, allowed));
	assert_string_equal(gw_ctl_req_unknown(&req, NULL), "dst");
}

static void
test_writer(void **state)
{
	struct gw_ctl_reply rp;
	const char *out;
	size_t len;

	(void)state;
	memset(&rp, 0, sizeof(rp));
	gw_ctl_reply_init(&rp);
	gw_ctl_json_str(&rp, "a", "x\"y\\z\n\x01");
	gw_ctl_json_u64(&rp, "n", UINT64_MAX);
	gw_ctl_json_i64(&rp, "i", -5);
	gw_ctl_json_arr_begin(&rp, "l");
	gw_ctl_json_obj_begin(&rp, NULL);
	gw_ctl_json_bool(&rp, "t", true);
	gw_ctl_json_obj_end(&rp);
	gw_ctl_json_str(&rp, NULL, "s");
	gw_ctl_json_arr_end(&rp);
	gw_ctl_json_obj_begin(&rp, "o");
	gw_ctl_json_obj_end(&rp);
	out = gw_ctl_reply_finish(&rp, &len);
	assert_string_equal(out, "{\"a\":\"x\\\"y\\\\z\\n\\u0001\",\"n\":18446744073709551615,"
			    "\"i\":-5,\"l\":[{\"t\":true},\"s\"],\"o\":{},\"ok\":true}\n");
	assert_int_equal(len, strlen(out));
	gw_ctl_reply_free(&rp);

	/* an error discards what was written */
	memset(&rp, 0, sizeof(rp));
	gw_ctl_reply_init(&rp);
	gw_ctl_json_arr_begin(&rp, "conns");
	gw_ctl_json_u64(&rp, NULL, 1);
	gw_ctl_reply_error(&rp, "flush: %s '%d'", "bad", 7);
	out = gw_ctl_reply_finish(&rp, &len);
	assert_string_equal(out, "{\"ok\":false,\"error\":\"flush: bad '7'\"}\n");
	gw_ctl_reply_free(&rp);

	/* a reply of many members grows its buffer */
	memset(&rp, 0, sizeof(rp));
	gw_ctl_reply_init(&rp);
	for (len = 0; len < 20000; len++)
		gw_ctl_json_u64(&rp, "k", len);
	out = gw_ctl_reply_finish(&rp, &len);
	assert_true(len > 20000 * 6);
	assert_memory_equal(out + len - 21, "\"k\":19999,\"ok\":true}\n", 21);
	gw_ctl_reply_free(&rp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_escapes),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
