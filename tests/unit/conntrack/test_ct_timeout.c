/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ct_timeout.c - every timeout class at its exact boundary with a virtual clock: the
 * connection is alive at expire - 1 us and gone at expire, both through lookup (which
 * reclaims) and through ct_expire; RSTs and ICMP errors never extend a connection; the
 * defaults honour the RFC floors; class names round-trip.
 */
#include "ct_test.h"

#define T0 (CT_USEC_PER_SEC * 1000)
#define SEC CT_USEC_PER_SEC

struct scen_step {
	uint8_t proto;
	uint8_t dir;
	uint8_t flags;		/* TCP */
	uint16_t len;		/* payload */
	uint8_t icmp_type;
};

struct scen {
	enum ct_tclass cls;
	unsigned int n;
	struct scen_step s[7];
};

#define TS(d, f) { IPPROTO_TCP, d, f, 0, 0 }
#define HS TS(0, PB_SYN), TS(1, PB_SYN | PB_ACK), TS(0, PB_ACK)

static const struct scen scens[] = {
	{ CT_TC_TCP_SYN_SENT, 1, { TS(0, PB_SYN) } },
	{ CT_TC_TCP_SYN_RECV, 2, { TS(0, PB_SYN), TS(1, PB_SYN | PB_ACK) } },
	{ CT_TC_TCP_ESTABLISHED, 3, { HS } },
	{ CT_TC_TCP_FIN_WAIT, 4, { HS, TS(0, PB_FIN | PB_ACK) } },
	{ CT_TC_TCP_CLOSE_WAIT, 5, { HS, TS(0, PB_FIN | PB_ACK), TS(1, PB_ACK) } },
	{ CT_TC_TCP_LAST_ACK, 6, { HS, TS(0, PB_FIN | PB_ACK), TS(1, PB_ACK),
				   TS(1, PB_FIN | PB_ACK) } },
	{ CT_TC_TCP_TIME_WAIT, 7, { HS, TS(0, PB_FIN | PB_ACK), TS(1, PB_ACK),
				    TS(1, PB_FIN | PB_ACK), TS(0, PB_ACK) } },
	{ CT_TC_TCP_CLOSE, 4, { HS, TS(1, PB_RST) } },
	{ CT_TC_TCP_UNACK, 4, { HS, { IPPROTO_TCP, 0, PB_ACK | PB_PSH, 100, 0 } } },
	{ CT_TC_UDP_UNREPLIED, 2, { { IPPROTO_UDP, 0, 0, 10, 0 }, { IPPROTO_UDP, 0, 0, 10, 0 } } },
	{ CT_TC_UDP_REPLIED, 2, { { IPPROTO_UDP, 0, 0, 10, 0 }, { IPPROTO_UDP, 1, 0, 10, 0 } } },
	{ CT_TC_UDP_ASSURED, 3, { { IPPROTO_UDP, 0, 0, 10, 0 }, { IPPROTO_UDP, 1, 0, 10, 0 },
				  { IPPROTO_UDP, 0, 0, 10, 0 } } },
	{ CT_TC_ICMP, 2, { { IPPROTO_ICMP, 0, 0, 0, 8 }, { IPPROTO_ICMP, 1, 0, 0, 0 } } },
	{ CT_TC_OTHER, 2, { { 47, 0, 0, 4, 0 }, { 47, 1, 0, 4, 0 } } },
};

struct flow {
	uint32_t nxt[2];
};

static struct pb_spec
step_spec(const struct scen_step *st, struct flow *fl)
{
	static const uint8_t data[200];
	uint8_t d = st->dir;
	struct pb_spec s = {
		.src = d ? A_OUT : A_IN, .dst = d ? A_IN : A_OUT,
		.sport = d ? 80 : 40000, .dport = d ? 40000 : 80, .proto = st->proto,
		.tcp_flags = st->flags, .payload = data, .payload_len = st->len,
		.icmp_type = st->icmp_type,
	};

	if (st->proto == IPPROTO_ICMP)
		s.sport = 77;	/* identifier */
	if (st->proto == IPPROTO_TCP) {
		s.seq = (st->flags & PB_SYN) ? (d ? 9000 : 1000) : fl->nxt[d];
		s.ack = (st->flags & PB_ACK) ? fl->nxt[!d] : 0;
		fl->nxt[d] = s.seq + st->len + !!(st->flags & PB_SYN) + !!(st->flags & PB_FIN);
	}
	return s;
}

/* Run a scenario with one packet per second from T0; return the connection and the time
 * of the last packet. */
static struct ct_conn *
run_scen(struct ct_table *t, const struct scen *sc, ct_time_t *last)
{
	struct flow fl = { { 1000, 9000 } };
	struct ct_conn *c = NULL;
	unsigned int i;

	for (i = 0; i < sc->n; i++) {
		struct pb_spec s = step_spec(&sc->s[i], &fl);
		struct ct_res r = ct_test_spec(t, &s, T0 + i * SEC);

		if (r.state == CT_INVALID)
			fail_msg("%s: step %u invalid (%s)", ct_tclass_name(sc->cls), i,
				 ct_reason_id(r.why));
		c = r.conn;
		*last = T0 + i * SEC;
	}
	return c;
}

static ct_time_t
conn_expire(struct ct_table *t, struct ct_conn *c, ct_time_t now, uint8_t *tclass)
{
	struct ct_conn_info info;
	uint32_t cur = ct_conn_id(t, c);

	assert_int_equal(ct_snapshot(t, &cur, &info, 1, now), 1);
	assert_int_equal(info.id, ct_conn_id(t, c));
	*tclass = info.tclass;
	return info.expire;
}

static void
check_boundaries(const struct ct_timeouts *to)
{
	unsigned int i, via;

	for (i = 0; i < CT_DIM(scens); i++) {
		const struct scen *sc = &scens[i];

		for (via = 0; via < 2; via++) {
			struct ct_params prm = {
				.capacity = 8, .use_heap = true, .timeouts = to, .name = "to",
			};
			struct ct_table *t = ct_table_create(&prm);
			struct ct_stats st;
			ct_time_t last = 0, exp, want;
			struct ct_conn *c;
			uint8_t tclass, dir;

			assert_non_null(t);
			c = run_scen(t, sc, &last);
			assert_non_null(c);
			exp = conn_expire(t, c, last, &tclass);
			if (tclass != sc->cls)
				fail_msg("scenario %s ended in class %s", ct_tclass_name(sc->cls),
					 ct_tclass_name(tclass));
			/* (for TCP_CLOSE the RST came at `last`: its timeout counts from it) */
			want = last + to->t[sc->cls];
			want = (want + 999) / 1000 * 1000;	/* kept to the ms, rounded up */
			assert_int_equal(exp, want);
			if (via == 0) {
				/* lookup: alive at expire - 1, a miss (and reclaimed) at expire */
				assert_ptr_equal(ct_lookup(t, ct_conn_tuple(c, CT_DIR_REPLY), &dir,
							   exp - 1), c);
				assert_int_equal(dir, CT_DIR_REPLY);
				assert_null(ct_lookup(t, ct_conn_tuple(c, CT_DIR_ORIG), &dir, exp));
			} else {
				/* the reaper: nothing at expire - 1, the connection at expire */
				assert_int_equal(ct_expire(t, exp - 1, 100), 0);
				assert_int_equal(ct_expire(t, exp, 100), 1);
			}
			ct_stats_get(t, &st);
			assert_int_equal(st.expired, 1);
			assert_int_equal(st.active, 0);
			assert_null(ct_lookup(t, ct_conn_tuple(c, CT_DIR_ORIG), &dir, exp - 1));
			ct_table_free(t);
		}
	}
}

static void
test_boundaries_default(void **state)
{
	struct ct_timeouts to;

	(void)state;
	ct_timeouts_default(&to);
	check_boundaries(&to);
}

static void
test_boundaries_configured(void **state)
{
	struct ct_timeouts to;
	unsigned int i;

	(void)state;
	/* all different, all odd microsecond counts, UNACK below ESTABLISHED */
	for (i = 0; i < CT_TC_MAX; i++)
		to.t[i] = (i + 20) * SEC + 2 * i + 1;
	to.t[CT_TC_TCP_ESTABLISHED] = 3600 * SEC + 7;
	check_boundaries(&to);
}

static void
test_rst_does_not_refresh(void **state)
{
	struct ct_table *t = ct_test_table(8, false, false);
	struct flow fl = { { 1000, 9000 } };
	static const struct scen_step hs[] = { HS };
	struct scen_step rst = TS(1, PB_RST);
	struct ct_conn *c = NULL;
	struct ct_timeouts def;
	struct pb_spec s;
	ct_time_t exp, t_rst;
	unsigned int i;
	uint8_t cls, dir;

	(void)state;
	ct_timeouts_default(&def);
	for (i = 0; i < CT_DIM(hs); i++) {
		s = step_spec(&hs[i], &fl);
		c = ct_test_spec(t, &s, T0).conn;
	}
	/* RST 5 s later: the CLOSE timeout counts from the RST, never beyond the old expiry */
	t_rst = T0 + 5 * SEC;
	s = step_spec(&rst, &fl);
	assert_int_equal(ct_test_spec(t, &s, t_rst).state, CT_ESTABLISHED);
	exp = conn_expire(t, c, t_rst, &cls);
	assert_int_equal(cls, CT_TC_TCP_CLOSE);
	assert_int_equal(exp, t_rst + def.t[CT_TC_TCP_CLOSE]);
	/* a second RST does not extend it */
	s = step_spec(&rst, &fl);
	assert_int_equal(ct_test_spec(t, &s, t_rst + 3 * SEC).state, CT_ESTABLISHED);
	assert_int_equal(conn_expire(t, c, t_rst, &cls), exp);
	assert_ptr_equal(ct_lookup(t, ct_conn_tuple(c, CT_DIR_ORIG), &dir, exp - 1), c);
	assert_null(ct_lookup(t, ct_conn_tuple(c, CT_DIR_ORIG), &dir, exp));
	ct_table_free(t);

	/* a RST in SYN_SENT with a CLOSE timeout longer than what is left: not extended */
	{
		struct ct_timeouts to = def;
		struct scen_step syn = TS(0, PB_SYN);
		struct ct_params prm = { .capacity = 4, .use_heap = true, .timeouts = &to };

		to.t[CT_TC_TCP_SYN_SENT] = 30 * SEC;
		to.t[CT_TC_TCP_CLOSE] = 600 * SEC;
		t = ct_table_create(&prm);
		assert_non_null(t);
		fl.nxt[0] = 1000;
		fl.nxt[1] = 9000;
		s = step_spec(&syn, &fl);
		c = ct_test_spec(t, &s, T0).conn;
		s = step_spec(&rst, &fl);
		s.seq = 0;
		s.tcp_flags = PB_RST | PB_ACK;
		s.ack = 1001;
		assert_int_equal(ct_test_spec(t, &s, T0 + 10 * SEC).state, CT_ESTABLISHED);
		assert_int_equal(ct_conn_tcp_state(c), CT_TCP_CLOSE);
		assert_int_equal(conn_expire(t, c, T0, &cls), T0 + 30 * SEC);
		assert_int_equal(cls, CT_TC_TCP_CLOSE);
		assert_int_equal(ct_expire(t, T0 + 30 * SEC - 1, 10), 0);
		assert_int_equal(ct_expire(t, T0 + 30 * SEC, 10), 1);
		ct_table_free(t);
	}
}

/* Bulk data: the connection goes to the UNACK list once and stays; once everything is
 * acknowledged its expiry is the established one again, exact for lookup and reaper. */
static void
test_unack_then_acked(void **state)
{
	unsigned int via;

	(void)state;
	for (via = 0; via < 2; via++) {
		struct ct_table *t = ct_test_table(8, false, false);
		struct flow fl = { { 1000, 9000 } };
		static const struct scen_step hs[] = { HS };
		struct scen_step data = { IPPROTO_TCP, 0, PB_ACK | PB_PSH, 100, 0 };
		struct scen_step ack = TS(1, PB_ACK);
		struct ct_timeouts def;
		struct ct_conn *c = NULL;
		struct pb_spec s;
		ct_time_t now = T0, exp;
		unsigned int i;
		uint8_t cls, dir;

		ct_timeouts_default(&def);
		for (i = 0; i < CT_DIM(hs); i++) {
			s = step_spec(&hs[i], &fl);
			c = ct_test_spec(t, &s, now).conn;
		}
		for (i = 0; i < 3; i++) {
			s = step_spec(&data, &fl);
			now += SEC;
			assert_int_equal(ct_test_spec(t, &s, now).state, CT_ESTABLISHED);
			exp = conn_expire(t, c, now, &cls);
			assert_int_equal(cls, CT_TC_TCP_UNACK);
			assert_int_equal(exp, now + def.t[CT_TC_TCP_UNACK]);
			s = step_spec(&ack, &fl);
			now += SEC;
			assert_int_equal(ct_test_spec(t, &s, now).state, CT_ESTABLISHED);
			exp = conn_expire(t, c, now, &cls);
			assert_int_equal(cls, CT_TC_TCP_UNACK);	/* stays on the list */
			assert_int_equal(exp, now + def.t[CT_TC_TCP_ESTABLISHED]);
		}
		/* the reaper passes over it every UNACK period and keeps it */
		assert_int_equal(ct_expire(t, now + def.t[CT_TC_TCP_UNACK], 10), 0);
		assert_int_equal(ct_expire(t, now + 2 * def.t[CT_TC_TCP_UNACK], 10), 0);
		if (via == 0) {
			assert_ptr_equal(ct_lookup(t, ct_conn_tuple(c, CT_DIR_ORIG), &dir, exp - 1),
					 c);
			assert_null(ct_lookup(t, ct_conn_tuple(c, CT_DIR_ORIG), &dir, exp));
		} else {
			assert_int_equal(ct_expire(t, exp - 1, 10), 0);
			assert_int_equal(ct_expire(t, exp, 10), 1);
		}
		ct_table_free(t);
	}
}

static void
test_icmp_error_does_not_refresh(void **state)
{
	struct ct_table *t = ct_test_table(8, false, false);
	struct pb_spec s = ct_test_udp(CT_DIR_ORIG);
	struct ct_timeouts def;
	uint8_t o[PB_MAX], f[PB_MAX];
	unsigned int olen, len;
	struct ct_res r;
	struct ct_conn *c;
	ct_time_t exp;
	uint8_t cls, dir;

	(void)state;
	ct_timeouts_default(&def);
	c = ct_test_spec(t, &s, T0).conn;
	assert_non_null(c);
	olen = pb_build(o, &s);
	/* a router on the way says "unreachable" 50 s later */
	len = pb_build_icmp_error(f, A_RTR, A_IN, 3, 1, o, olen, 0);
	r = ct_test_frame(t, f, len, T0 + 50 * SEC);
	assert_int_equal(r.state, CT_RELATED);
	assert_ptr_equal(r.conn, c);
	assert_int_equal(r.dir, CT_DIR_REPLY);
	exp = conn_expire(t, c, T0, &cls);
	assert_int_equal(exp, T0 + def.t[CT_TC_UDP_UNREPLIED]);
	assert_int_equal(cls, CT_TC_UDP_UNREPLIED);
	assert_int_equal(ct_conn_status(c) & CT_ST_SEEN_REPLY, 0);
	assert_ptr_equal(ct_lookup(t, ct_conn_tuple(c, CT_DIR_ORIG), &dir, exp - 1), c);
	assert_int_equal(ct_expire(t, exp, 10), 1);
	/* an error about a connection we do not have creates nothing */
	r = ct_test_frame(t, f, len, exp + 1);
	assert_int_equal(r.state, CT_INVALID);
	assert_int_equal(r.why, CT_R_ICMP_ERROR_NO_CONN);
	ct_table_free(t);
}

static void
test_rfc_floors_and_names(void **state)
{
	struct ct_timeouts to;
	int i;

	(void)state;
	ct_timeouts_default(&to);
	for (i = 0; i < CT_TC_MAX; i++) {
		const char *n = ct_tclass_name((enum ct_tclass)i);

		assert_non_null(n);
		assert_int_equal(ct_tclass_by_name(n), i);
		assert_true(to.t[i] >= ct_timeout_rfc_min((enum ct_tclass)i));
		assert_true(to.t[i] > 0);
	}
	/* the floors themselves, as the RFCs state them */
	assert_true(to.t[CT_TC_TCP_ESTABLISHED] >= (2 * 3600 + 4 * 60) * SEC); /* 5382 REQ-5 */
	assert_true(to.t[CT_TC_TCP_SYN_SENT] >= 4 * 60 * SEC);		/* 5382 REQ-5 */
	assert_true(to.t[CT_TC_TCP_FIN_WAIT] >= 4 * 60 * SEC);
	assert_true(to.t[CT_TC_UDP_UNREPLIED] >= 2 * 60 * SEC);		/* 4787 REQ-5 */
	assert_true(to.t[CT_TC_UDP_ASSURED] >= 5 * 60 * SEC);		/* recommended */
	assert_true(to.t[CT_TC_ICMP] >= 60 * SEC);			/* 5508 REQ-2 */
	assert_string_equal(ct_tclass_name(CT_TC_UDP_ASSURED), "udp_assured");
	assert_int_equal(ct_tclass_by_name("tcp_established"), CT_TC_TCP_ESTABLISHED);
	assert_int_equal(ct_tclass_by_name("nope"), -1);
	assert_int_equal(ct_tclass_by_name(NULL), -1);
	assert_null(ct_tclass_name(CT_TC_MAX));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundaries_default),
		cmocka_unit_test(test_boundaries_configured),
		cmocka_unit_test(test_rst_does_not_refresh),
		cmocka_unit_test(test_unack_then_acked),
		cmocka_unit_test(test_icmp_error_does_not_refresh),
		cmocka_unit_test(test_rfc_floors_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
