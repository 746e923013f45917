/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_test.h - shared drivers for the conntrack unit tests: build a real frame with
 * pkt_build, parse it into a heap buffer of exactly its length (so ASan catches any read
 * past the end), look it up, create on a miss when allowed, and run ct_update.
 */
#ifndef NATGW_CT_TEST_H
#define NATGW_CT_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "ct.h"
#include "pkt_build.h"

#define CT_DIM(a) (sizeof(a) / sizeof((a)[0]))

#define A_IN	PB_IP(192, 168, 1, 10)
#define A_OUT	PB_IP(203, 0, 113, 7)
#define A_RTR	PB_IP(198, 51, 100, 1)

static inline struct ct_table *
ct_test_table(uint32_t cap, bool liberal, bool loose)
{
	struct ct_params prm = {
		.capacity = cap, .use_heap = true, .tcp_liberal = liberal, .tcp_loose = loose,
		.name = "test", .accounting = true,
	};
	struct ct_table *t = ct_table_create(&prm);

	assert_non_null(t);
	return t;
}

/* the result of one packet through the table */
struct ct_res {
	enum ct_reason parse;	/* parse result */
	enum ct_state state;	/* verdict (CT_INVALID on refusal / new_ok failure) */
	enum ct_reason why;	/* reason when INVALID */
	struct ct_conn *conn;
	uint8_t dir;
	bool created;
};

/* Parse `frame` from an exact-size copy. */
static inline enum ct_reason
ct_test_parse(const uint8_t *frame, unsigned int len, struct ct_pkt *p)
{
	uint8_t *b = malloc(len ? len : 1);
	enum ct_reason r;

	assert_non_null(b);
	memcpy(b, frame, len);
	r = ct_parse_ipv4(b, len, PB_ETH_LEN, true, p);
	free(b);
	return r;
}

/* One frame through parse, lookup, create-if-new and update (the app's sequence); nic_ok:
 * what the pipeline sets from the NIC's RX flags (L4 checksum checked and good). */
static inline struct ct_res
ct_test_frame_nic(struct ct_table *t, const uint8_t *frame, unsigned int len, ct_time_t now,
		  bool nic_ok)
{
	struct ct_res res = { .state = CT_INVALID };
	struct ct_pkt p, *pp = &p;
	uint8_t *b = malloc(len);

	assert_non_null(b);
	memcpy(b, frame, len);
	res.parse = ct_parse_ipv4(b, len, PB_ETH_LEN, true, &p);
	if (res.parse != CT_R_NONE) {
		res.why = res.parse;
		free(b);
		return res;
	}
	p.l4_csum_ok = nic_ok;
	ct_lookup_burst(t, &pp, 1, now);
	if (p.conn == NULL) {
		struct ct_tuple rt = ct_tuple_invert(&p.tuple);

		res.why = ct_new_ok(t, &p);
		if (res.why != CT_R_NONE) {
			free(b);
			return res;
		}
		p.conn = ct_create(t, &p.tuple, &rt, now, &res.why);
		if (p.conn == NULL) {
			free(b);
			return res;
		}
		p.dir = CT_DIR_ORIG;
		res.created = true;
	}
	res.conn = p.conn;
	res.dir = p.dir;
	res.state = ct_update(t, &p, b, now, &res.why);
	if (res.state == CT_INVALID && res.created) {
		ct_delete(t, p.conn);
		res.conn = NULL;
	}
	free(b);
	return res;
}

static inline struct ct_res
ct_test_frame(struct ct_table *t, const uint8_t *frame, unsigned int len, ct_time_t now)
{
	return ct_test_frame_nic(t, frame, len, now, false);
}

static inline struct ct_res
ct_test_spec(struct ct_table *t, const struct pb_spec *s, ct_time_t now)
{
	uint8_t f[PB_MAX];
	unsigned int len = pb_build(f, s);

	assert_true(pb_csum_ok(f, len));
	return ct_test_frame(t, f, len, now);
}

/* a UDP packet in / out of the flow A_IN:1000 <-> A_OUT:53 */
static inline struct pb_spec
ct_test_udp(uint8_t dir)
{
	struct pb_spec s = {
		.src = dir ? A_OUT : A_IN, .dst = dir ? A_IN : A_OUT,
		.sport = dir ? 53 : 1000, .dport = dir ? 1000 : 53, .proto = IPPROTO_UDP,
	};
	return s;
}

#endif
