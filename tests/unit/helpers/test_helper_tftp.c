/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_helper_tftp.c - the TFTP transfer connection keeps the NAT mapping it uses. A read
 * request H_A:3333 -> R_1:69 is SNATed to N_2:3333 (port preserved); the server answers
 * from a new port (RFC 1350 section 4) and that transfer is created RELATED from the
 * expectation, DNATed back to H_A:3333 over the master's mapping. The request
 * itself is never answered, so its entry expires (UDP unreplied, 2 min) while the transfer
 * still runs: the outside port must stay the transfer's (another inside host wanting it
 * gets another one), the transfer keeps translating both ways, the client's
 * endpoint-independent mapping stays N_2:3333, and once the transfer ends the port is free
 * again. Real frames through conntrack + NAT + helpers, checksums recomputed.
 */
#include "helper_test.h"

#define H_C	PB_IP(192, 168, 1, 30)	/* a third inside host */

static void
udp(struct ht_env *e, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
    const char *pl, uint16_t plen, bool inside, struct ht_res *r)
{
	struct pb_spec s = {
		.src = src, .sport = sport, .dst = dst, .dport = dport, .proto = IPPROTO_UDP,
		.payload = pl, .payload_len = plen,
	};

	ht_spec(e, &s, inside, r);
	if (r->state != CT_INVALID)
		assert_true(pb_csum_ok(r->out, r->len));
}

/* one DATA block in from the server's transfer port and its ACK out: both translated */
static void
block(struct ht_env *e, struct ct_conn *xfer, uint8_t n)
{
	char data[8] = { 0, 3, 0, (char)n, 'd', 'a', 't', 'a' };
	char ack[4] = { 0, 4, 0, (char)n };
	struct ht_res r;

	udp(e, R_1, 4444, N_2, 3333, data, sizeof(data), false, &r);
	assert_ptr_equal(r.conn, xfer);
	assert_int_not_equal(r.state, CT_INVALID);
	assert_int_equal(pb_ip_dst(r.out), H_A);
	assert_int_equal(pb_dport(r.out), 3333);
	udp(e, H_A, 3333, R_1, 4444, ack, sizeof(ack), true, &r);
	assert_ptr_equal(r.conn, xfer);
	assert_int_equal(pb_ip_src(r.out), N_2);
	assert_int_equal(pb_sport(r.out), 3333);
}

static void
test_tftp_master_expires(void **state)
{
	struct helper_config hcfg;
	struct ht_env e;
	struct ht_res r;
	struct ct_conn *xfer;
	struct ct_tuple mt;
	uint8_t dir;
	char msg[64];
	unsigned int k;

	(void)state;
	helper_config_default(&hcfg);
	assert_int_equal(helper_config_set(&hcfg, "tftp", "69", msg, sizeof(msg)), 0);
	ht_start(&e, &hcfg, 1024, 65535);

	udp(&e, H_A, 3333, R_1, 69, "\0\1file\0octet\0", 13, true, &r);
	assert_int_equal(helper_conn_helper(e.hc, r.conn), HELPER_TFTP);
	assert_int_equal(pb_ip_src(r.out), N_2);
	assert_int_equal(pb_sport(r.out), 3333);
	mt = *ct_conn_tuple(r.conn, CT_DIR_ORIG);
	assert_int_equal(ht_ports_in_use(&e), 1);

	udp(&e, R_1, 4444, N_2, 3333, "\0\3\0\1data", 8, false, &r);
	assert_true(r.related_hit);
	assert_int_equal(r.state, CT_RELATED);
	assert_int_equal(pb_ip_dst(r.out), H_A);
	assert_int_equal(pb_dport(r.out), 3333);
	xfer = r.conn;
	udp(&e, H_A, 3333, R_1, 4444, "\0\4\0\1", 4, true, &r);
	assert_ptr_equal(r.conn, xfer);
	assert_int_equal(pb_sport(r.out), 3333);

	/* a slow transfer: a block a minute for three minutes; the request's entry, never
	 * answered, expires meanwhile (UDP unreplied: 2 min) */
	for (k = 2; k <= 4; k++) {
		e.now += 60 * HT_SEC;
		ct_expire(e.ct, e.now, 1024);
		helper_expect_expire(e.hc, e.now, 64);
		block(&e, xfer, (uint8_t)k);
	}
	assert_null(ct_lookup(e.ct, &mt, &dir, e.now));
	/* the transfer still holds the mapping, and so its outside port */
	assert_int_equal(ht_ports_in_use(&e), 1);

	/* another inside host with the same source port: port preservation would give it
	 * 3333, which the transfer uses */
	udp(&e, H_B, 3333, R_2, 5000, "x", 1, true, &r);
	assert_non_null(r.conn);
	assert_int_equal(pb_ip_src(r.out), N_2);
	assert_int_not_equal(pb_sport(r.out), 3333);
	assert_int_equal(ht_ports_in_use(&e), 2);
	/* the server's blocks still reach H_A, not H_B */
	block(&e, xfer, 5);
	/* endpoint-independent mapping (RFC 4787 REQ-1): H_A:3333 is still N_2:3333 to a new
	 * destination */
	udp(&e, H_A, 3333, R_2, 6000, "y", 1, true, &r);
	assert_non_null(r.conn);
	assert_ptr_not_equal(r.conn, xfer);
	assert_int_equal(pb_sport(r.out), 3333);
	ct_delete(e.ct, r.conn);
	assert_int_equal(ht_ports_in_use(&e), 2);

	/* the transfer ends (it times out): the port is free again */
	e.now += 10 * 60 * HT_SEC;
	ct_expire(e.ct, e.now, 1024);
	assert_int_equal(ht_ports_in_use(&e), 0);
	udp(&e, H_C, 3333, R_2, 5000, "z", 1, true, &r);
	assert_non_null(r.conn);
	assert_int_equal(pb_sport(r.out), 3333);
	ht_stop(&e);
}

/* the transfer's creation while the table is full of unreplied entries: ct_create evicts
 * the oldest unreplied one, the master itself; the mapping it used survives through the
 * transfer's reference (taken before ct_create), and the transfer is no RELATED child of
 * a dead entry */
static void
test_tftp_master_evicted(void **state)
{
	struct helper_config hcfg;
	struct ht_env e;
	struct ht_res r;
	struct ct_tuple mt;
	uint8_t dir;
	char msg[64];
	unsigned int i;

	(void)state;
	helper_config_default(&hcfg);
	assert_int_equal(helper_config_set(&hcfg, "tftp", "69", msg, sizeof(msg)), 0);
	ht_start(&e, &hcfg, 1024, 65535);
	udp(&e, H_A, 3333, R_1, 69, "\0\1file\0octet\0", 13, true, &r);
	mt = *ct_conn_tuple(r.conn, CT_DIR_ORIG);
	/* fill the table (capacity 1024) with unreplied flows, one per host (below any
	 * per-host limit) */
	for (i = 0; i < 1023; i++) {
		e.now += 1;
		udp(&e, PB_IP(10, 1, i >> 8, i & 255), (uint16_t)(10000 + i), R_2, 7000, "f", 1,
		    true, &r);
		assert_non_null(r.conn);
	}
	e.now += 1;
	udp(&e, R_1, 4444, N_2, 3333, "\0\3\0\1data", 8, false, &r);
	assert_true(r.related_hit);
	assert_int_equal(pb_ip_dst(r.out), H_A);
	assert_int_equal(pb_dport(r.out), 3333);
	/* the master is the one that went */
	assert_null(ct_lookup(e.ct, &mt, &dir, e.now));
	assert_int_not_equal(ct_conn_master(r.conn), ct_conn_id(e.ct, r.conn) + 1);
	/* H_A's mapping lives on with the transfer: 3333 is still taken (besides the 1023
	 * other flows' ports), and the ACK leaves from it */
	assert_int_equal(ht_ports_in_use(&e), 1023 + 1);
	udp(&e, H_A, 3333, R_1, 4444, "\0\4\0\1", 4, true, &r);
	assert_int_equal(pb_ip_src(r.out), N_2);
	assert_int_equal(pb_sport(r.out), 3333);
	ht_stop(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tftp_master_expires),
		cmocka_unit_test(test_tftp_master_evicted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
