/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_helper_parse.c - the FTP, IRC and TFTP parsers and the formatters, table-driven:
 * well-formed commands in every form, malformed ones (out of range, missing fields,
 * trailing junk, zero port), commands cut by the segment end (PARTIAL), commands that are
 * not at the start of the payload, and the replacement texts with their lengths.
 */
#include "helper_test.h"

struct parse_case {
	const char *name;
	int (*parse)(const uint8_t *data, uint32_t len, uint8_t dir, struct helper_match *m);
	uint8_t dir;
	const char *in;
	unsigned int in_len;		/* 0: strlen(in) */
	int result;
	uint8_t kind;
	uint32_t addr;
	uint16_t port;
	const char *region;		/* the text m->off/m->len must cover */
};

#define FTP helper_ftp_parse
#define IRC helper_irc_parse
#define TFTP helper_tftp_parse
#define O CT_DIR_ORIG
#define R CT_DIR_REPLY

static const struct parse_case parse_cases[] = {
	/* PORT, RFC 959 */
	{ .name = "port", .parse = FTP, .dir = O, .in = "PORT 192,168,1,10,4,1\r\n",
	  .result = HELPER_P_FOUND, .kind = HELPER_K_PORT, .addr = H_A, .port = 1025,
	  .region = "192,168,1,10,4,1" },
	{ .name = "port lower case, LF only", .parse = FTP, .dir = O,
	  .in = "port 192,168,1,10,156,64\n", .result = HELPER_P_FOUND, .kind = HELPER_K_PORT,
	  .addr = H_A, .port = 40000, .region = "192,168,1,10,156,64" },
	{ .name = "port trailing blanks", .parse = FTP, .dir = O,
	  .in = "PORT 192,168,1,10,4,1  \r\nNOOP\r\n", .result = HELPER_P_FOUND,
	  .kind = HELPER_K_PORT, .addr = H_A, .port = 1025, .region = "192,168,1,10,4,1" },
	{ .name = "port octet 256", .parse = FTP, .dir = O, .in = "PORT 192,168,1,256,4,1\r\n",
	  .result = HELPER_P_MALFORMED },
	{ .name = "port five numbers", .parse = FTP, .dir = O, .in = "PORT 192,168,1,10,4\r\n",
	  .result = HELPER_P_MALFORMED },
	{ .name = "port seven numbers", .parse = FTP, .dir = O,
	  .in = "PORT 192,168,1,10,4,1,7\r\n", .result = HELPER_P_MALFORMED },
	{ .name = "port zero", .parse = FTP, .dir = O, .in = "PORT 192,168,1,10,0,0\r\n",
	  .result = HELPER_P_MALFORMED },
	{ .name = "port junk after", .parse = FTP, .dir = O, .in = "PORT 192,168,1,10,4,1x\r\n",
	  .result = HELPER_P_MALFORMED },
	{ .name = "port 4-digit octet", .parse = FTP, .dir = O,
	  .in = "PORT 0192,168,1,10,4,1\r\n", .result = HELPER_P_MALFORMED },
	{ .name = "port no newline", .parse = FTP, .dir = O, .in = "PORT 192,168,1,10,4,1",
	  .result = HELPER_P_PARTIAL },
	{ .name = "port cut in the keyword", .parse = FTP, .dir = O, .in = "POR",
	  .result = HELPER_P_PARTIAL },
	{ .name = "port not at start", .parse = FTP, .dir = O,
	  .in = "NOOP\r\nPORT 192,168,1,10,4,1\r\n", .result = HELPER_P_NONE },
	{ .name = "port with a leading blank", .parse = FTP, .dir = O,
	  .in = " PORT 192,168,1,10,4,1\r\n", .result = HELPER_P_NONE },
	{ .name = "port from the server side", .parse = FTP, .dir = R,
	  .in = "PORT 192,168,1,10,4,1\r\n", .result = HELPER_P_NONE },
	{ .name = "portx is no port", .parse = FTP, .dir = O, .in = "PORTX 1,2,3,4,5,6\r\n",
	  .result = HELPER_P_NONE },
	/* EPRT, RFC 2428 */
	{ .name = "eprt", .parse = FTP, .dir = O, .in = "EPRT |1|192.168.1.10|6275|\r\n",
	  .result = HELPER_P_FOUND, .kind = HELPER_K_EPRT, .addr = H_A, .port = 6275,
	  .region = "|1|192.168.1.10|6275|" },
	{ .name = "eprt other delimiter", .parse = FTP, .dir = O,
	  .in = "EPRT !1!192.168.1.10!65535!\r\n", .result = HELPER_P_FOUND,
	  .kind = HELPER_K_EPRT, .addr = H_A, .port = 65535, .region = "!1!192.168.1.10!65535!" },
	{ .name = "eprt ipv6 not ours", .parse = FTP, .dir = O,
	  .in = "EPRT |2|1080::8:800:200C:417A|5282|\r\n", .result = HELPER_P_NONE },
	{ .name = "eprt port too big", .parse = FTP, .dir = O,
	  .in = "EPRT |1|192.168.1.10|65536|\r\n", .result = HELPER_P_MALFORMED },
	{ .name = "eprt mixed delimiters", .parse = FTP, .dir = O,
	  .in = "EPRT |1|192.168.1.10!6275|\r\n", .result = HELPER_P_MALFORMED },
	{ .name = "eprt short address", .parse = FTP, .dir = O, .in = "EPRT |1|192.168.1|6275|\r\n",
	  .result = HELPER_P_MALFORMED },
	{ .name = "eprt no end delimiter", .parse = FTP, .dir = O,
	  .in = "EPRT |1|192.168.1.10|6275\r\n", .result = HELPER_P_MALFORMED },
	/* 227, RFC 959 / RFC 1123 4.1.2.6 */
	{ .name = "227", .parse = FTP, .dir = R,
	  .in = "227 Entering Passive Mode (198,51,100,7,195,80).\r\n", .result = HELPER_P_FOUND,
	  .kind = HELPER_K_PASV, .addr = R_1, .port = 50000, .region = "198,51,100,7,195,80" },
	{ .name = "227 no parentheses", .parse = FTP, .dir = R,
	  .in = "227 =198,51,100,7,195,80\r\n", .result = HELPER_P_FOUND, .kind = HELPER_K_PASV,
	  .addr = R_1, .port = 50000, .region = "198,51,100,7,195,80" },
	{ .name = "227 bad octet", .parse = FTP, .dir = R, .in = "227 (198,51,300,7,195,80)\r\n",
	  .result = HELPER_P_MALFORMED },
	{ .name = "227 no numbers", .parse = FTP, .dir = R, .in = "227 Passive\r\n",
	  .result = HELPER_P_MALFORMED },
	{ .name = "227 cut", .parse = FTP, .dir = R, .in = "227 Entering Passive Mode (198,5",
	  .result = HELPER_P_PARTIAL },
	{ .name = "227 from the client side", .parse = FTP, .dir = O,
	  .in = "227 (198,51,100,7,195,80)\r\n", .result = HELPER_P_NONE },
	/* 229, RFC 2428 */
	{ .name = "229", .parse = FTP, .dir = R,
	  .in = "229 Entering Extended Passive Mode (|||6446|)\r\n", .result = HELPER_P_FOUND,
	  .kind = HELPER_K_EPSV, .port = 6446, .region = "6446" },
	{ .name = "229 bad delimiters", .parse = FTP, .dir = R, .in = "229 (||6446|)\r\n",
	  .result = HELPER_P_MALFORMED },
	{ .name = "229 port 0", .parse = FTP, .dir = R, .in = "229 (|||0|)\r\n",
	  .result = HELPER_P_MALFORMED },
	{ .name = "other reply", .parse = FTP, .dir = R, .in = "200 PORT command ok\r\n",
	  .result = HELPER_P_NONE },
	/* IRC DCC */
	{ .name = "dcc send", .parse = IRC, .dir = O,
	  .in = "PRIVMSG bob :\1DCC SEND file.txt 3232235786 5000 1234\1\r\n",
	  .result = HELPER_P_FOUND, .kind = HELPER_K_DCC_SEND, .addr = H_A, .port = 5000,
	  .region = "3232235786 5000" },
	{ .name = "dcc send quoted name", .parse = IRC, .dir = O,
	  .in = "PRIVMSG bob :\1DCC SEND \"my file.txt\" 3232235786 5000\1\r\n",
	  .result = HELPER_P_FOUND, .kind = HELPER_K_DCC_SEND, .addr = H_A, .port = 5000,
	  .region = "3232235786 5000" },
	{ .name = "dcc chat", .parse = IRC, .dir = O,
	  .in = "PRIVMSG bob :\1DCC CHAT chat 3232235786 6000\1\r\n", .result = HELPER_P_FOUND,
	  .kind = HELPER_K_DCC_CHAT, .addr = H_A, .port = 6000, .region = "3232235786 6000" },
	/* a port below 1024 is parsed; helper.c refuses it unless allowed (allow_priv_ports) */
	{ .name = "dcc privileged port", .parse = IRC, .dir = O,
	  .in = "PRIVMSG bob :\1DCC SEND f 3232235786 80\1\r\n", .result = HELPER_P_FOUND,
	  .kind = HELPER_K_DCC_SEND, .addr = H_A, .port = 80, .region = "3232235786 80" },
	{ .name = "dcc port 0", .parse = IRC, .dir = O,
	  .in = "PRIVMSG bob :\1DCC SEND f 3232235786 0\1\r\n", .result = HELPER_P_MALFORMED },
	{ .name = "dcc ip too big", .parse = IRC, .dir = O,
	  .in = "PRIVMSG bob :\1DCC SEND f 4294967296 5000\1\r\n", .result = HELPER_P_MALFORMED },
	{ .name = "dcc cut", .parse = IRC, .dir = O, .in = "PRIVMSG bob :\1DCC SEND f 32322",
	  .result = HELPER_P_PARTIAL },
	{ .name = "dcc tag cut", .parse = IRC, .dir = O, .in = "PRIVMSG bob :\1DC",
	  .result = HELPER_P_PARTIAL },
	{ .name = "ctcp action", .parse = IRC, .dir = O, .in = "PRIVMSG bob :\1ACTION waves\1",
	  .result = HELPER_P_NONE },
	{ .name = "dcc from the server", .parse = IRC, .dir = R,
	  .in = ":a!b@c PRIVMSG me :\1DCC SEND f 3232235786 5000\1\r\n", .result = HELPER_P_NONE },
	/* TFTP, RFC 1350 */
	{ .name = "tftp rrq", .parse = TFTP, .dir = O, .in = "\0\1file\0octet\0", .in_len = 13,
	  .result = HELPER_P_FOUND, .kind = HELPER_K_TFTP },
	{ .name = "tftp wrq", .parse = TFTP, .dir = O, .in = "\0\2file\0octet\0", .in_len = 13,
	  .result = HELPER_P_FOUND, .kind = HELPER_K_TFTP },
	{ .name = "tftp data", .parse = TFTP, .dir = O, .in = "\0\3\0\1data", .in_len = 8,
	  .result = HELPER_P_NONE },
	{ .name = "tftp short", .parse = TFTP, .dir = O, .in = "\0\1", .in_len = 2,
	  .result = HELPER_P_NONE },
};

static void
test_parse_table(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < HT_DIM(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		unsigned int n = c->in_len != 0 ? c->in_len : (unsigned int)strlen(c->in);
		/* an exact-size heap copy: ASan catches any read past the payload */
		uint8_t *b = malloc(n);
		struct helper_match m;
		int r;

		assert_non_null(b);
		memcpy(b, c->in, n);
		r = c->parse(b, n, c->dir, &m);
		if (r != c->result)
			fail_msg("%s: result %d, want %d", c->name, r, c->result);
		if (r == HELPER_P_FOUND) {
			if (m.kind != c->kind || m.addr != c->addr || m.port != c->port)
				fail_msg("%s: kind %u addr %08x port %u", c->name, m.kind, m.addr,
					 m.port);
			if (c->region != NULL &&
			    (m.len != strlen(c->region) || memcmp(b + m.off, c->region, m.len)))
				fail_msg("%s: region '%.*s'", c->name, (int)m.len, b + m.off);
		}
		free(b);
	}
}

struct format_case {
	const char *name;
	const char *in;		/* parsed to get the form */
	int (*parse)(const uint8_t *data, uint32_t len, uint8_t dir, struct helper_match *m);
	uint8_t dir;
	uint32_t addr;
	uint16_t port;
	const char *want;
};

static const struct format_case format_cases[] = {
	{ .name = "port longer", .in = "PORT 192,168,1,10,4,1\r\n", .parse = FTP, .dir = O,
	  .addr = N_2, .port = 40000, .want = "203,0,113,2,156,64" },
	{ .name = "port shorter", .in = "PORT 192,168,100,100,156,64\r\n", .parse = FTP, .dir = O,
	  .addr = N_2, .port = 1025, .want = "203,0,113,2,4,1" },
	{ .name = "eprt keeps its delimiter", .in = "EPRT !1!192.168.1.10!6275!\r\n", .parse = FTP,
	  .dir = O, .addr = N_2, .port = 40000, .want = "!1!203.0.113.2!40000!" },
	{ .name = "227", .in = "227 (192,168,1,20,195,80)\r\n", .parse = FTP, .dir = R,
	  .addr = N_2, .port = 2048, .want = "203,0,113,2,8,0" },
	{ .name = "229", .in = "229 (|||6446|)\r\n", .parse = FTP, .dir = R, .addr = N_2,
	  .port = 40000, .want = "40000" },
	{ .name = "dcc", .in = "PRIVMSG b :\1DCC SEND f 3232235786 5000\1", .parse = IRC, .dir = O,
	  .addr = N_2, .port = 40000, .want = "3405803778 40000" },
};

static void
test_format_table(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < HT_DIM(format_cases); i++) {
		const struct format_case *c = &format_cases[i];
		struct helper_match m;
		char out[64];
		int n;

		assert_int_equal(c->parse((const uint8_t *)c->in, (uint32_t)strlen(c->in), c->dir,
					  &m), HELPER_P_FOUND);
		n = helper_format(&m, c->addr, c->port, out, sizeof(out));
		if (n != (int)strlen(c->want) || memcmp(out, c->want, (size_t)n) != 0)
			fail_msg("%s: '%.*s'", c->name, n, out);
		/* a buffer one short is refused, never truncated */
		assert_int_equal(helper_format(&m, c->addr, c->port, out, (size_t)n), -1);
	}
}

struct cfg_case {
	const char *name, *value;
	int result;
	uint16_t port;		/* looked up afterwards (0: none) */
	uint8_t proto;
	uint8_t helper;
};

static const struct cfg_case cfg_cases[] = {
	{ .name = "ftp", .value = "21, 2121", .result = 0, .port = 2121, .proto = 6,
	  .helper = HELPER_FTP },
	{ .name = "ftp", .value = "off", .result = 0, .port = 21, .proto = 6,
	  .helper = HELPER_NONE },
	{ .name = "tftp", .value = "on", .result = 0, .port = 69, .proto = 17,
	  .helper = HELPER_TFTP },
	{ .name = "tftp", .value = "69", .result = 0, .port = 69, .proto = 6,
	  .helper = HELPER_NONE },	/* TFTP is UDP */
	{ .name = "irc", .value = "6667,6668", .result = 0, .port = 6668, .proto = 6,
	  .helper = HELPER_IRC },
	{ .name = "irc", .value = "70000", .result = -22 },
	{ .name = "irc", .value = "66x", .result = -22 },
	{ .name = "sip", .value = "5060", .result = -22 },
};

static void
test_config(void **state)
{
	struct helper_config cfg;
	unsigned int i;
	char msg[128];

	(void)state;
	helper_config_default(&cfg);
	/* RFC 5382 REQ-6 / RFC 4787 REQ-10: FTP alone on by default */
	assert_int_equal(helper_config_lookup(&cfg, 6, 21), HELPER_FTP);
	assert_int_equal(helper_config_lookup(&cfg, 17, 69), HELPER_NONE);
	assert_int_equal(helper_config_lookup(&cfg, 6, 6667), HELPER_NONE);
	for (i = 0; i < HT_DIM(cfg_cases); i++) {
		const struct cfg_case *c = &cfg_cases[i];
		int r = helper_config_set(&cfg, c->name, c->value, msg, sizeof(msg));

		if (r != c->result)
			fail_msg("%s = %s: %d", c->name, c->value, r);
		if (r == 0 && helper_config_lookup(&cfg, c->proto, c->port) != c->helper)
			fail_msg("%s = %s: lookup %u", c->name, c->value, c->port);
	}
}

/* Random inputs assembled from the parsers' own tokens, as exact-size heap copies (ASan
 * sees any read past the end): every result is one of the defined ones and a found
 * region lies inside the input. Deterministic seed: a failure replays. */
static void
test_parse_fuzz(void **state)
{
	static const char *const tok[] = {
		"PORT ", "EPRT ", "227 ", "229 ", "port ", "\1DCC ", "SEND ", "CHAT ", "\1",
		"(", ")", "|", "||", "|||", ",", ".", " ", "\r", "\n", "\r\n", "0", "1", "9",
		"255", "256", "65535", "65536", "192", "168", "4294967295", "\"", "x", "\0",
	};
	int (*const parsers[])(const uint8_t *, uint32_t, uint8_t, struct helper_match *) = {
		helper_ftp_parse, helper_irc_parse, helper_tftp_parse,
	};
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	unsigned int iter;

	(void)state;
	for (iter = 0; iter < 30000; iter++) {
		uint8_t tmp[400], *b;
		unsigned int n = 0, want, k;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		want = (unsigned int)(x % 300) + 1;
		while (n < want) {
			const char *t;
			size_t tl;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			t = tok[x % HT_DIM(tok)];
			tl = strcmp(t, "\0") == 0 ? 1 : strlen(t);
			if (n + tl > sizeof(tmp))
				break;
			memcpy(tmp + n, t, tl);
			n += (unsigned int)tl;
		}
		b = malloc(n);
		assert_non_null(b);
		memcpy(b, tmp, n);
		for (k = 0; k < HT_DIM(parsers); k++) {
			struct helper_match m;
			int r = parsers[k](b, n, (uint8_t)(iter & 1), &m);

			assert_true(r == HELPER_P_NONE || r == HELPER_P_FOUND ||
				    r == HELPER_P_PARTIAL || r == HELPER_P_MALFORMED);
			if (r == HELPER_P_FOUND) {
				char out[64];

				assert_true((unsigned int)m.off + m.len <= n);
				if (m.kind != HELPER_K_TFTP)
					assert_true(helper_format(&m, N_2, 65535, out,
								  sizeof(out)) > 0);
			}
		}
		free(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_format_table),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_parse_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
