/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_log_enc.c - app/gw_log_enc.c byte for byte: the IPFIX message (RFC 7011 header, the
 * RFC 8158 NAT44 session template, data records; expected bytes written independently with
 * Python's struct.pack), RFC 5424 syslog lines, `conntrack -E` lines, the session view of an
 * event (pre/post NAT endpoints) and the [log] keys' errors.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gw_event.h"

static uint32_t
A(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static struct ct_tuple
T(const char *src, uint16_t sp, const char *dst, uint16_t dp, uint8_t proto)
{
	struct ct_tuple t = { .src = A(src), .dst = A(dst), .sport = htons(sp),
			      .dport = htons(dp), .proto = proto, .family = CT_FAMILY_IPV4 };
	return t;
}

/* outbound SNAT: 10.0.0.2:40000 -> 203.0.113.9:80 leaves as 198.51.100.1:1024 */
static const struct gw_nat_session snat_create = {
	.time_ms = 1700000000123ull, .nat_event = GW_NAT_EVENT_CREATE, .proto = 6,
	.sport = 40000, .post_sport = 1024, .dport = 80, .post_dport = 80,
};

/* inbound port forward: 203.0.113.9:5353 -> 198.51.100.1:8080 reaches 10.0.0.3:53 */
static const struct gw_nat_session dnat_delete = {
	.time_ms = 1700000060456ull, .nat_event = GW_NAT_EVENT_DELETE, .proto = 17,
	.reason = GW_EV_R_TIMEOUT, .sport = 5353, .post_sport = 5353, .dport = 8080,
	.post_dport = 53,
};

static void
fill_addrs(struct gw_nat_session *s, const char *src, const char *psrc, const char *dst,
	   const char *pdst)
{
	s->src = A(src);
	s->post_src = A(psrc);
	s->dst = A(dst);
	s->post_dst = A(pdst);
}

static void
test_ipfix_message(void **state)
{
	static const uint8_t want[140] = {
	0x00, 0x0a, 0x00, 0x8c, 0x65, 0x53, 0xf1, 0x3d, 0x00, 0x00, 0x00, 0x07,
	0x00, 0x00, 0x00, 0x2a, 0x00, 0x02, 0x00, 0x34, 0x01, 0x00, 0x00, 0x0b,
	0x01, 0x43, 0x00, 0x08, 0x00, 0xe6, 0x00, 0x01, 0x00, 0x04, 0x00, 0x01,
	0x00, 0x08, 0x00, 0x04, 0x00, 0x07, 0x00, 0x02, 0x00, 0xe1, 0x00, 0x04,
	0x00, 0xe3, 0x00, 0x02, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x0b, 0x00, 0x02,
	0x00, 0xe2, 0x00, 0x04, 0x00, 0xe4, 0x00, 0x02, 0x01, 0x00, 0x00, 0x48,
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b, 0x04, 0x06, 0x0a, 0x00,
	0x00, 0x02, 0x9c, 0x40, 0xc6, 0x33, 0x64, 0x01, 0x04, 0x00, 0xcb, 0x00,
	0x71, 0x09, 0x00, 0x50, 0xcb, 0x00, 0x71, 0x09, 0x00, 0x50, 0x00, 0x00,
	0x01, 0x8b, 0xcf, 0xe6, 0x54, 0x28, 0x05, 0x11, 0xcb, 0x00, 0x71, 0x09,
	0x14, 0xe9, 0xcb, 0x00, 0x71, 0x09, 0x14, 0xe9, 0xc6, 0x33, 0x64, 0x01,
	0x1f, 0x90, 0x0a, 0x00, 0x00, 0x03, 0x00, 0x35,
	};
	struct gw_nat_session a = snat_create, b = dnat_delete;
	static struct gw_ipfix_msg m;
	size_t len;

	(void)state;
	fill_addrs(&a, "10.0.0.2", "198.51.100.1", "203.0.113.9", "203.0.113.9");
	fill_addrs(&b, "203.0.113.9", "203.0.113.9", "198.51.100.1", "10.0.0.3");
	gw_ipfix_begin(&m);
	assert_int_equal(gw_ipfix_add_template(&m), 0);
	assert_int_equal(gw_ipfix_add_record(&m, &a), 0);
	assert_int_equal(gw_ipfix_add_record(&m, &b), 0);
	assert_int_equal(m.records, 2);
	len = gw_ipfix_finish(&m, 1700000061, 7, 42);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(m.buf, want, sizeof(want));
}

/* A message never passes GW_IPFIX_MSG_MAX; the set lengths add up to the message. */
static void
test_ipfix_full(void **state)
{
	struct gw_nat_session a = snat_create;
	static struct gw_ipfix_msg m;
	unsigned int n = 0;
	size_t len;

	(void)state;
	fill_addrs(&a, "10.0.0.2", "198.51.100.1", "203.0.113.9", "203.0.113.9");
	gw_ipfix_begin(&m);
	assert_int_equal(gw_ipfix_add_template(&m), 0);
	while (gw_ipfix_add_record(&m, &a) == 0)
		n++;
	/* 1400 - 16 header - 52 template set - 4 data set header = 1328 = 39 records + 2 */
	assert_int_equal(n, 39);
	len = gw_ipfix_finish(&m, 1, 0, 1);
	assert_int_equal(len, 16 + 52 + 4 + 39 * GW_IPFIX_RECORD_LEN);
	assert_int_equal(m.buf[2] << 8 | m.buf[3], len);
	assert_int_equal(m.buf[16 + 52 + 2] << 8 | m.buf[16 + 52 + 3], 4 + 39 * 34);
	/* a message of data only (the template went in an earlier one) */
	gw_ipfix_begin(&m);
	assert_int_equal(gw_ipfix_add_record(&m, &a), 0);
	len = gw_ipfix_finish(&m, 1, 39, 1);
	assert_int_equal(len, 16 + 4 + 34);
	assert_int_equal(m.buf[16] << 8 | m.buf[17], GW_IPFIX_TEMPLATE_ID);
	assert_int_equal(m.buf[11], 39);	/* sequence: data records before this message */
}

static void
test_session_from_event(void **state)
{
	struct gw_event e;
	struct gw_nat_session s;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.time = 1700000000123456ull;
	e.type = GW_EV_NEW;
	e.status = CT_ST_SNAT;
	e.tuple[0] = T("10.0.0.2", 40000, "203.0.113.9", 80, 6);
	e.tuple[1] = T("203.0.113.9", 80, "198.51.100.1", 1024, 6);
	assert_true(gw_nat_session_from_event(&e, 0, &s));
	assert_int_equal(s.time_ms, 1700000000123ull);
	assert_int_equal(s.nat_event, 4);
	assert_int_equal(s.src, A("10.0.0.2"));
	assert_int_equal(s.sport, 40000);
	assert_int_equal(s.post_src, A("198.51.100.1"));
	assert_int_equal(s.post_sport, 1024);
	assert_int_equal(s.dst, A("203.0.113.9"));
	assert_int_equal(s.dport, 80);
	assert_int_equal(s.post_dst, A("203.0.113.9"));
	assert_int_equal(s.post_dport, 80);
	/* the wall offset moves the time (natgw: realtime - monotonic) */
	assert_true(gw_nat_session_from_event(&e, 5000000, &s));
	assert_int_equal(s.time_ms, 1700000005123ull);
	e.type = GW_EV_DESTROY;
	e.reason = GW_EV_R_EVICTED;
	assert_true(gw_nat_session_from_event(&e, 0, &s));
	assert_int_equal(s.nat_event, 5);
	assert_int_equal(s.reason, GW_EV_R_EVICTED);
	/* updates and untranslated connections are no sessions */
	e.type = GW_EV_UPDATE;
	assert_false(gw_nat_session_from_event(&e, 0, &s));
	e.type = GW_EV_NEW;
	e.status = CT_ST_SEEN_REPLY | CT_ST_ASSURED;
	assert_false(gw_nat_session_from_event(&e, 0, &s));
}

static void
test_syslog(void **state)
{
	struct gw_nat_session a = snat_create, b = dnat_delete;
	char buf[512];
	int n;

	(void)state;
	fill_addrs(&a, "10.0.0.2", "198.51.100.1", "203.0.113.9", "203.0.113.9");
	fill_addrs(&b, "203.0.113.9", "203.0.113.9", "198.51.100.1", "10.0.0.3");
	n = gw_syslog_format(buf, sizeof(buf), &a, 16, "gw1", 4242);
	assert_string_equal(buf, "<134>1 2023-11-14T22:13:20.123Z gw1 natgw 4242 NAT44 "
		"[natgw@32473 event=\"create\" proto=\"tcp\" inside=\"10.0.0.2:40000\" "
		"outside=\"198.51.100.1:1024\" remote=\"203.0.113.9:80\"] NAT44 session create "
		"tcp 10.0.0.2:40000 -> 198.51.100.1:1024 remote 203.0.113.9:80");
	assert_int_equal(n, strlen(buf));
	n = gw_syslog_format(buf, sizeof(buf), &b, 23, "", 1);
	assert_string_equal(buf, "<190>1 2023-11-14T22:14:20.456Z - natgw 1 NAT44 "
		"[natgw@32473 event=\"delete\" proto=\"udp\" inside=\"10.0.0.3:53\" "
		"outside=\"198.51.100.1:8080\" remote=\"203.0.113.9:5353\" reason=\"timeout\"] "
		"NAT44 session delete udp 10.0.0.3:53 -> 198.51.100.1:8080 remote "
		"203.0.113.9:5353");
	assert_int_equal(gw_syslog_format(buf, 40, &a, 16, "gw1", 4242), -1);
}

static void
test_event_format(void **state)
{
	struct gw_event e;
	char buf[512];

	(void)state;
	memset(&e, 0, sizeof(e));
	e.time = 1000000;
	e.expire = 121500000;
	e.type = GW_EV_NEW;
	e.status = CT_ST_SNAT;
	e.tcp_state = CT_TCP_SYN_SENT;
	e.id = 3;
	e.worker = 1;
	e.tuple[0] = T("10.0.0.2", 40000, "203.0.113.9", 80, 6);
	e.tuple[1] = T("203.0.113.9", 80, "198.51.100.1", 1024, 6);
	gw_event_format(buf, sizeof(buf), &e);
	assert_string_equal(buf, "[NEW] tcp      6   120 SYN_SENT src=10.0.0.2 dst=203.0.113.9 "
		"sport=40000 dport=80 [UNREPLIED] src=203.0.113.9 dst=198.51.100.1 sport=80 "
		"dport=1024 id=3 worker=1");
	e.type = GW_EV_UPDATE;
	e.status |= CT_ST_SEEN_REPLY | CT_ST_ASSURED;
	e.tcp_state = CT_TCP_ESTABLISHED;
	e.expire = e.time + 7440 * CT_USEC_PER_SEC;
	gw_event_format(buf, sizeof(buf), &e);
	assert_string_equal(buf, "[UPDATE] tcp      6   7440 ESTABLISHED src=10.0.0.2 "
		"dst=203.0.113.9 sport=40000 dport=80 src=203.0.113.9 dst=198.51.100.1 sport=80 "
		"dport=1024 [ASSURED] id=3 worker=1");
	memset(&e, 0, sizeof(e));
	e.type = GW_EV_DESTROY;
	e.reason = GW_EV_R_DELETED;
	e.status = CT_ST_SNAT | CT_ST_SEEN_REPLY;
	e.tuple[0] = T("10.0.0.2", 5000, "203.0.113.9", 53, 17);
	e.tuple[1] = T("203.0.113.9", 53, "198.51.100.1", 5000, 17);
	gw_event_format(buf, sizeof(buf), &e);
	assert_string_equal(buf, "[DESTROY] udp      17  src=10.0.0.2 dst=203.0.113.9 sport=5000 "
		"dport=53 src=203.0.113.9 dst=198.51.100.1 sport=53 dport=5000 id=0 worker=0 "
		"reason=deleted");
}

static void
test_log_config(void **state)
{
	static const struct {
		const char *key, *val, *err;	/* err NULL: accepted */
	} cases[] = {
		{ "syslog", "udp:127.0.0.1:514", NULL },
		{ "syslog", "unix:/dev/log", NULL },
		{ "syslog", "off", NULL },
		{ "syslog", "tcp:127.0.0.1:514", "syslog: want udp:ADDR:PORT, unix:/PATH (under "
		  "108 bytes) or off, got 'tcp:127.0.0.1:514'" },
		{ "syslog", "udp:127.0.0.1:0", "syslog: want udp:ADDR:PORT, unix:/PATH (under "
		  "108 bytes) or off, got 'udp:127.0.0.1:0'" },
		{ "syslog", "unix:dev/log", "syslog: want udp:ADDR:PORT, unix:/PATH (under "
		  "108 bytes) or off, got 'unix:dev/log'" },
		{ "ipfix", "192.0.2.10:4739", NULL },
		{ "ipfix", "collector:4739", "ipfix: want ADDR:PORT (IPv4 collector, UDP) or off, "
		  "got 'collector:4739'" },
		{ "ipfix", "192.0.2.10", "ipfix: want ADDR:PORT (IPv4 collector, UDP) or off, "
		  "got '192.0.2.10'" },
		{ "rate", "0", NULL },
		{ "rate", "-1", "rate: want 0 (no cap) ..10000000 messages/s, got '-1'" },
		{ "template_interval", "0", "template_interval: want 1..86400 seconds, got '0'" },
		{ "template_records", "0", NULL },
		{ "domain_id", "4294967295", NULL },
		{ "domain_id", "4294967296", "domain_id: want 0..4294967295, got '4294967296'" },
		{ "ring_size", "1000", "ring_size: want a power of two 16..1048576, got '1000'" },
		{ "ring_size", "16", NULL },
		{ "facility", "local8", "facility: want local0..local7, got 'local8'" },
		{ "hostname", "a b", "hostname: printable ASCII without spaces, got 'a b'" },
		{ "colour", "red", "unknown key 'colour' in [log] (syslog, ipfix, rate, "
		  "template_interval, template_records, domain_id, ring_size, facility, "
		  "hostname)" },
	};
	struct gw_log_config c;
	char msg[256];
	unsigned int i;

	(void)state;
	gw_log_config_default(&c);
	assert_int_equal(c.ring_size, GW_EV_RING_DEFAULT);
	assert_int_equal(c.domain_id, 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = gw_log_config_set(&c, cases[i].key, cases[i].val, msg, sizeof(msg));

		if (cases[i].err == NULL) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -1);
			assert_string_equal(msg, cases[i].err);
		}
	}
	assert_int_equal(gw_log_config_set(&c, "ipfix", "192.0.2.10:4739", msg, 256), 0);
	assert_int_equal(c.ipfix.kind, GW_LOG_DST_UDP);
	assert_int_equal(c.ipfix.addr, A("192.0.2.10"));
	assert_int_equal(c.ipfix.port, 4739);
	assert_int_equal(gw_log_config_set(&c, "facility", "local3", msg, 256), 0);
	assert_int_equal(c.facility, 19);
	assert_int_equal(c.ring_size, 16);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipfix_message),
		cmocka_unit_test(test_ipfix_full),
		cmocka_unit_test(test_session_from_event),
		cmocka_unit_test(test_syslog),
		cmocka_unit_test(test_event_format),
		cmocka_unit_test(test_log_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
