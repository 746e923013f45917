/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nat_trigger.c - port triggering (nat.h struct nat_trigger, nat_trigger.c) on real
 * packets: an outbound connection to a trigger port opens the range to that host only, for
 * the rule's time, for any remote; connections made through it outlive it; a port a mapping
 * holds stays the mapping's; slots are bounded; with two workers the inbound packet is
 * steered to the triggering host's worker.
 */
#include "nat_test.h"

static void
trig_config(struct nat_config *cfg, uint8_t proto, uint16_t lo, uint16_t hi, uint8_t oproto,
	    uint16_t olo, uint16_t ohi, uint32_t secs)
{
	struct nat_trigger *t;

	nt_config(cfg, 1);
	t = &cfg->triggers[cfg->n_triggers++];
	t->proto = proto;
	t->lo = lo;
	t->hi = hi;
	t->open_proto = oproto;
	t->open_lo = olo;
	t->open_hi = ohi;
	t->timeout_s = secs;
}

/* inbound TCP SYN from rem:rport to N_1:port */
static void
syn_in(struct nt_env *e, uint32_t rem, uint16_t rport, uint16_t port, struct nt_res *r)
{
	struct pb_spec s = nt_tcp(rem, rport, N_1, port, PB_SYN);

	nt_spec(e, &s, false, r);
}

static void
test_trigger_opens_range(void **state)
{
	struct nat_config cfg;
	struct nt_env e;
	struct nt_res r;
	struct pb_spec s;
	struct nat_stats st;

	(void)state;
	trig_config(&cfg, IPPROTO_TCP, 6667, 6667, IPPROTO_TCP, 113, 113, 60);
	nt_start(&e, &cfg, 0, 256, NULL, 0);
	/* closed before anything triggers it */
	syn_in(&e, R_2, 40001, 113, &r);
	assert_null(r.conn);
	assert_int_equal(r.nat_why, NAT_R_NO_MAPPING);
	/* H_A connects to an IRC server: the range opens to H_A */
	s = nt_tcp(H_A, 50000, R_1, 6667, PB_SYN);
	nt_spec(&e, &s, true, &r);
	nt_assert_ok(&r);
	assert_int_equal(pb_ip_src(r.out), N_1);
	/* an ident query from any remote (not only the IRC server) reaches H_A:113 */
	syn_in(&e, R_2, 40002, 113, &r);
	nt_assert_ok(&r);
	assert_true(r.created);
	assert_int_equal(pb_ip_dst(r.out), H_A);
	assert_int_equal(pb_dport(r.out), 113);
	assert_int_equal(pb_ip_src(r.out), R_2);
	assert_true(ct_conn_status(r.conn) & CT_ST_DNAT);
	/* H_A's answer leaves from N_1:113 */
	s = nt_tcp(H_A, 113, R_2, 40002, PB_SYN | PB_ACK);
	s.ack = 1001;
	nt_spec(&e, &s, true, &r);
	nt_assert_ok(&r);
	assert_int_equal(r.dir, CT_DIR_REPLY);
	assert_int_equal(pb_ip_src(r.out), N_1);
	assert_int_equal(pb_sport(r.out), 113);
	/* ports outside the range stay closed */
	syn_in(&e, R_2, 40003, 114, &r);
	assert_null(r.conn);
	st = nt_stats(&e);
	assert_int_equal(st.triggers_fired, 1);
	assert_int_equal(st.triggered_in, 1);
	nt_stop(&e);
}

static void
test_trigger_expires(void **state)
{
	struct nat_config cfg;
	struct nt_env e;
	struct nt_res r;
	struct pb_spec s;

	(void)state;
	trig_config(&cfg, IPPROTO_TCP, 6660, 6669, IPPROTO_TCP, 113, 113, 60);
	nt_start(&e, &cfg, 0, 256, NULL, 0);
	s = nt_tcp(H_A, 50000, R_1, 6665, PB_SYN);
	nt_spec(&e, &s, true, &r);
	nt_assert_ok(&r);
	e.now += 59 * NT_SEC;
	syn_in(&e, R_2, 40002, 113, &r);
	nt_assert_ok(&r);			/* still open at 59 s */
	e.now += 2 * NT_SEC;
	syn_in(&e, R_2, 40003, 113, &r);
	assert_null(r.conn);			/* closed at 61 s */
	assert_int_equal(r.nat_why, NAT_R_NO_MAPPING);
	/* a new triggering connection opens it again, for another 60 s */
	s = nt_tcp(H_A, 50001, R_1, 6665, PB_SYN);
	nt_spec(&e, &s, true, &r);
	nt_assert_ok(&r);
	syn_in(&e, R_2, 40004, 113, &r);
	nt_assert_ok(&r);
	assert_int_equal(pb_ip_dst(r.out), H_A);
	nt_stop(&e);
}

/* UDP trigger opening both protocols; a port a mapping holds stays the mapping's */
static void
test_trigger_both_and_mapping_wins(void **state)
{
	struct nat_config cfg;
	struct nt_env e;
	struct nt_res r;
	struct pb_spec s;

	(void)state;
	trig_config(&cfg, IPPROTO_UDP, 27015, 27015, 0, 27000, 27010, 300);
	nt_start(&e, &cfg, 0, 256, NULL, 0);
	/* H_B holds N_1:27005 with a mapping of its own (port preserved) */
	assert_int_equal(nt_udp_out(&e, H_B, 27005, R_1, 9999, NULL), 27005);
	/* H_A triggers the range */
	assert_int_equal(nt_udp_out(&e, H_A, 41000, R_1, 27015, NULL), 41000);
	s = nt_udp(R_2, 5000, N_1, 27001);
	nt_spec(&e, &s, false, &r);
	nt_assert_ok(&r);
	assert_int_equal(pb_ip_dst(r.out), H_A);
	assert_int_equal(pb_dport(r.out), 27001);
	syn_in(&e, R_2, 5001, 27010, &r);
	nt_assert_ok(&r);
	assert_int_equal(pb_ip_dst(r.out), H_A);
	/* 27005 is H_B's mapping: address-and-port-dependent filtering refuses R_2 there, and
	 * the range does not take it over */
	s = nt_udp(R_2, 5002, N_1, 27005);
	nt_spec(&e, &s, false, &r);
	assert_null(r.conn);
	s = nt_udp(R_2, 5003, N_1, 27011);
	nt_spec(&e, &s, false, &r);
	assert_null(r.conn);
	nt_stop(&e);
}

/* NAT_TRIG_SLOTS ranges per worker: one more host closes the one that expires first */
static void
test_trigger_slots_bounded(void **state)
{
	struct nat_config cfg;
	struct nt_env e;
	struct nt_res r;
	struct pb_spec s;
	unsigned int i;

	(void)state;
	trig_config(&cfg, IPPROTO_TCP, 6667, 6667, IPPROTO_TCP, 113, 113, 600);
	cfg.max_conns_per_host = NAT_LIMIT_NONE;
	nt_start(&e, &cfg, 0, 1024, NULL, 0);
	for (i = 0; i <= 64; i++) {
		s = nt_tcp(PB_IP(192, 168, 2, i + 1), 50000, R_1, 6667, PB_SYN);
		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		e.now += NT_SEC;
	}
	assert_int_equal(nt_stats(&e).triggers_evicted, 1);
	assert_int_equal(nt_stats(&e).triggers_fired, 65);
	/* the open range belongs to one host at a time; the first one's slot was reused, so
	 * 113 reaches one of the later hosts, never 192.168.2.1 */
	syn_in(&e, R_2, 40002, 113, &r);
	nt_assert_ok(&r);
	assert_int_not_equal(pb_ip_dst(r.out), PB_IP(192, 168, 2, 1));
	nt_stop(&e);
}

/* two workers: the inbound packet goes to the worker of the host that triggered */
static void
test_trigger_two_workers(void **state)
{
	struct nat_config cfg;
	struct nt_gw g;
	struct nt_res r;
	struct pb_spec s;
	uint8_t f[PB_MAX];
	unsigned int len, wa, wb, k;
	uint32_t ha = 0, hb = 0;

	(void)state;
	trig_config(&cfg, IPPROTO_TCP, 6667, 6667, IPPROTO_TCP, 113, 113, 60);
	nt_gw_start(&g, &cfg, 2, 256, NULL, 0);
	/* two hosts owned by different workers */
	for (k = 1; k < 250 && (ha == 0 || hb == 0); k++) {
		uint32_t h = PB_IP(192, 168, 1, k);

		if (nat_host_owner(&g.cfg, h) == 0 && ha == 0)
			ha = h;
		else if (nat_host_owner(&g.cfg, h) == 1 && hb == 0)
			hb = h;
	}
	assert_true(ha != 0 && hb != 0);
	wa = nat_host_owner(&g.cfg, ha);
	wb = nat_host_owner(&g.cfg, hb);
	s = nt_tcp(hb, 50000, R_1, 6667, PB_SYN);
	nt_gw_spec(&g, &s, true, &r, NULL);
	nt_assert_ok(&r);
	s = nt_tcp(R_2, 40002, N_1, 113, PB_SYN);
	len = pb_build(f, &s);
	assert_int_equal(nt_gw_owner(&g, f, len, false), wb);
	nt_gw_frame(&g, f, len, false, &r, NULL);
	nt_assert_ok(&r);
	assert_int_equal(pb_ip_dst(r.out), hb);
	/* on the other worker the range is not open: refused there */
	nt_frame(&g.e[wa], f, len, false, &r);
	assert_null(r.conn);
	nt_gw_stop(&g);
}

static void
test_trigger_config_check(void **state)
{
	struct nat_config cfg;
	char msg[128];

	(void)state;
	trig_config(&cfg, IPPROTO_TCP, 6667, 6667, IPPROTO_TCP, 113, 113, 60);
	assert_int_equal(nat_config_check(&cfg, msg, sizeof(msg)), 0);
	cfg.triggers[0].proto = IPPROTO_ICMP;
	assert_int_not_equal(nat_config_check(&cfg, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "tcp or udp"));
	cfg.triggers[0].proto = IPPROTO_TCP;
	cfg.triggers[0].open_lo = 200;
	assert_int_not_equal(nat_config_check(&cfg, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "empty"));
	cfg.triggers[0].open_lo = 113;
	cfg.triggers[0].timeout_s = 0;
	assert_int_not_equal(nat_config_check(&cfg, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "timeout"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trigger_opens_range),
		cmocka_unit_test(test_trigger_expires),
		cmocka_unit_test(test_trigger_both_and_mapping_wins),
		cmocka_unit_test(test_trigger_slots_bounded),
		cmocka_unit_test(test_trigger_two_workers),
		cmocka_unit_test(test_trigger_config_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
