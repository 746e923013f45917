/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ct_tcp_reuse.c - the TCP tracker where one tuple carries two connections, and the
 * RFC 5961 rules, over real frames:
 *  - a client that lost its connection reconnects from the same port (EIM + port
 *    preservation give the same tuple): its SYN passes unchanged, and the entry becomes the
 *    new connection when the answer shows the old one is gone (the server's challenge ACK
 *    answered by the client's RST, the server's SYN/ACK for the new ISN, the server's RST);
 *    a SYN on a connection that is really alive breaks nothing;
 *  - a challenge ACK to a fresh SYN_SENT (the server still in an older connection);
 *  - RSTs: only at rcv.nxt they close, in window they pass and close nothing, in SYN_SENT
 *    the responder's must acknowledge the SYN;
 *  - checksums of the segments that may create or change state.
 * Every assertion is about what the tracker does with the bytes of a real segment.
 */
#include "ct_test.h"

#define O CT_DIR_ORIG
#define R CT_DIR_REPLY
#define SEC UINT64_C(1000000)
#define T0 (1000 * SEC)

#define ISN_O 1000u
#define ISN_R 7000000u
#define NEW_ISN 3000000000u	/* the reconnecting client's ISN */
#define ISN_R2 9000000u		/* the server's ISN for the new connection */

/* after establish(): next sequence numbers of the old connection */
#define O_NXT (ISN_O + 1 + 100)
#define R_NXT (ISN_R + 1 + 200)

static const uint8_t syn_opts[] = { 1, 3, 3, 7, 4, 2, 1, 1 };	/* NOP, WS 7, SACK_PERM */

struct conv {
	struct ct_table *t;
	ct_time_t now;
	struct ct_conn *conn;
};

/* One segment of the flow 192.168.1.10:40000 <-> 203.0.113.7:80; SYNs carry syn_opts and
 * window 64240, others window 502 (x 128). One millisecond after the previous one. */
static struct ct_res
seg(struct conv *cv, uint8_t dir, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t len)
{
	static const uint8_t data[1500];
	struct pb_spec s = {
		.src = dir ? A_OUT : A_IN, .dst = dir ? A_IN : A_OUT,
		.sport = dir ? 80 : 40000, .dport = dir ? 40000 : 80, .proto = IPPROTO_TCP,
		.tcp_flags = flags, .seq = seq, .ack = ack, .payload = data, .payload_len = len,
		.win = (flags & PB_SYN) ? 64240 : 502,
	};
	struct ct_res r;

	if (flags & PB_SYN) {
		s.tcp_opts = syn_opts;
		s.tcp_opts_len = sizeof(syn_opts);
	}
	cv->now += 1000;
	r = ct_test_spec(cv->t, &s, cv->now);
	if (r.conn != NULL)
		cv->conn = r.conn;
	return r;
}

/* seg() that must pass with verdict `want` */
static void
pass(struct conv *cv, uint8_t dir, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t len,
     enum ct_state want)
{
	struct ct_res r = seg(cv, dir, flags, seq, ack, len);

	if (r.state != want)
		fail_msg("%s flags 0x%02x seq %u ack %u: got %s (%s), want %s", dir ? "R" : "O",
			 flags, seq, ack, ct_state_str(r.state), ct_reason_id(r.why),
			 ct_state_str(want));
}

/* seg() that must be dropped for `why`, changing nothing */
static void
dropped(struct conv *cv, uint8_t dir, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t len,
	enum ct_reason why)
{
	uint8_t st = (uint8_t)ct_conn_tcp_state(cv->conn);
	struct ct_res r = seg(cv, dir, flags, seq, ack, len);

	if (r.state != CT_INVALID || r.why != why)
		fail_msg("%s flags 0x%02x seq %u ack %u: got %s (%s), want INVALID (%s)",
			 dir ? "R" : "O", flags, seq, ack, ct_state_str(r.state),
			 ct_reason_id(r.why), ct_reason_id(why));
	assert_int_equal(ct_conn_tcp_state(cv->conn), st);
}

static void
conv_init(struct conv *cv, uint32_t cap)
{
	memset(cv, 0, sizeof(*cv));
	cv->t = ct_test_table(cap, false, false);
	cv->now = T0;
}

/* handshake and 100 bytes out, 200 bytes back, all acknowledged */
static void
establish(struct conv *cv)
{
	pass(cv, O, PB_SYN, ISN_O, 0, 0, CT_NEW);
	pass(cv, R, PB_SYN | PB_ACK, ISN_R, ISN_O + 1, 0, CT_ESTABLISHED);
	pass(cv, O, PB_ACK, ISN_O + 1, ISN_R + 1, 0, CT_ESTABLISHED);
	pass(cv, O, PB_ACK | PB_PSH, ISN_O + 1, ISN_R + 1, 100, CT_ESTABLISHED);
	pass(cv, R, PB_ACK | PB_PSH, ISN_R + 1, O_NXT, 200, CT_ESTABLISHED);
	pass(cv, O, PB_ACK, O_NXT, R_NXT, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(cv->conn), CT_TCP_ESTABLISHED);
	assert_true(ct_conn_status(cv->conn) & CT_ST_ASSURED);
}

static ct_time_t
expire_of(struct conv *cv, uint8_t *tclass)
{
	struct ct_conn_info info;
	uint32_t cur = ct_conn_id(cv->t, cv->conn);

	assert_int_equal(ct_snapshot(cv->t, &cur, &info, 1, cv->now), 1);
	if (tclass != NULL)
		*tclass = info.tclass;
	return info.expire;
}

static struct ct_stats
stats(struct conv *cv)
{
	struct ct_stats st;

	ct_stats_get(cv->t, &st);
	return st;
}

/* The new connection works in its own sequence space and the old one's is gone. */
static void
new_connection_works(struct conv *cv)
{
	pass(cv, O, PB_ACK | PB_PSH, NEW_ISN + 1, ISN_R2 + 1, 500, CT_ESTABLISHED);
	pass(cv, R, PB_ACK | PB_PSH, ISN_R2 + 1, NEW_ISN + 501, 700, CT_ESTABLISHED);
	pass(cv, O, PB_ACK, NEW_ISN + 501, ISN_R2 + 701, 0, CT_ESTABLISHED);
	dropped(cv, O, PB_ACK | PB_PSH, O_NXT, R_NXT, 10, CT_R_TCP_OUT_OF_WINDOW);
	dropped(cv, R, PB_ACK | PB_PSH, R_NXT, O_NXT, 10, CT_R_TCP_OUT_OF_WINDOW);
	assert_int_equal(ct_conn_tcp_state(cv->conn), CT_TCP_ESTABLISHED);
	assert_true(ct_conn_status(cv->conn) & CT_ST_ASSURED);
}

/* ---- a reconnect on the tuple of a live entry ---- */

/* The lab case: the client vanished, the server still holds the connection. (Before: the
 * SYN was dropped as TCP_SYN_IN_ESTABLISHED until the entry expired, 2 hours.) */
static void
test_reuse_challenge_ack_then_rst(void **state)
{
	struct ct_timeouts def;
	struct conv cv;
	struct ct_conn *old;
	ct_time_t exp;
	uint8_t cls;

	(void)state;
	conv_init(&cv, 16);
	establish(&cv);
	old = cv.conn;
	exp = expire_of(&cv, NULL);
	/* the new SYN passes; nothing changes, nothing is refreshed */
	pass(&cv, O, PB_SYN, NEW_ISN, 0, 0, CT_ESTABLISHED);
	assert_ptr_equal(cv.conn, old);
	assert_int_equal(ct_conn_tcp_state(old), CT_TCP_ESTABLISHED);
	assert_int_equal(expire_of(&cv, NULL), exp);
	assert_int_equal(stats(&cv).tcp_ignored, 1);
	/* the server, in the old connection, sends a challenge ACK (RFC 5961 4.2) */
	pass(&cv, R, PB_ACK, R_NXT, O_NXT, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(old), CT_TCP_ESTABLISHED);
	/* the client, in SYN-SENT, answers it with <SEQ=SEG.ACK><CTL=RST> (RFC 9293
	 * 3.10.7.3): the old connection is gone, the entry is the new one, in SYN_SENT */
	pass(&cv, O, PB_RST, O_NXT, 0, 0, CT_NEW);
	assert_ptr_equal(cv.conn, old);
	assert_int_equal(ct_conn_tcp_state(old), CT_TCP_SYN_SENT);
	assert_int_equal(ct_conn_status(old) & (CT_ST_SEEN_REPLY | CT_ST_ASSURED), 0);
	assert_int_equal(stats(&cv).tcp_reinit, 1);
	ct_timeouts_default(&def);
	assert_int_equal(expire_of(&cv, &cls), cv.now + def.t[CT_TC_TCP_SYN_SENT]);
	assert_int_equal(cls, CT_TC_TCP_SYN_SENT);
	/* the SYN retransmitted, accepted by the server that reset the old connection */
	pass(&cv, O, PB_SYN, NEW_ISN, 0, 0, CT_NEW);
	pass(&cv, R, PB_SYN | PB_ACK, ISN_R2, NEW_ISN + 1, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(old), CT_TCP_SYN_RECV);
	pass(&cv, O, PB_ACK, NEW_ISN + 1, ISN_R2 + 1, 0, CT_ESTABLISHED);
	new_connection_works(&cv);
	assert_ptr_equal(cv.conn, old);
	assert_int_equal(stats(&cv).created, 1);
	ct_table_free(cv.t);
}

/* The client's last 100 bytes never reached the server: the server's rcv.nxt (which its
 * challenge ACK tells and the client's RST carries) is not the client's next seq. */
static void
test_reuse_rst_at_servers_rcv_nxt(void **state)
{
	struct conv cv;

	(void)state;
	conv_init(&cv, 16);
	establish(&cv);
	pass(&cv, O, PB_ACK | PB_PSH, O_NXT, R_NXT, 100, CT_ESTABLISHED);	/* lost beyond */
	pass(&cv, O, PB_SYN, NEW_ISN, 0, 0, CT_ESTABLISHED);
	pass(&cv, R, PB_ACK, R_NXT, O_NXT, 0, CT_ESTABLISHED);	/* challenge: ack O_NXT */
	pass(&cv, O, PB_RST, O_NXT, 0, 0, CT_NEW);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_SYN_SENT);
	pass(&cv, R, PB_SYN | PB_ACK, ISN_R2, NEW_ISN + 1, 0, CT_ESTABLISHED);
	pass(&cv, O, PB_ACK, NEW_ISN + 1, ISN_R2 + 1, 0, CT_ESTABLISHED);
	new_connection_works(&cv);
	ct_table_free(cv.t);
}

/* The server lost the old connection too: it answers the SYN with a SYN/ACK for the new
 * ISN, and the entry becomes the new connection at once, with the new SYN's options. */
static void
test_reuse_synack_for_new_isn(void **state)
{
	struct conv cv;
	struct ct_conn *old;
	struct pb_spec s;

	(void)state;
	conv_init(&cv, 16);
	establish(&cv);
	old = cv.conn;
	/* a SYN/ACK that acknowledges nothing we passed is checked as before (and dropped) */
	dropped(&cv, R, PB_SYN | PB_ACK, 5555, NEW_ISN + 1, 0, CT_R_TCP_OUT_OF_WINDOW);
	/* the new SYN, without window scaling this time */
	s = (struct pb_spec){
		.src = A_IN, .dst = A_OUT, .sport = 40000, .dport = 80, .proto = IPPROTO_TCP,
		.tcp_flags = PB_SYN, .seq = NEW_ISN, .win = 1000,
	};
	assert_int_equal(ct_test_spec(cv.t, &s, ++cv.now).state, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(old), CT_TCP_ESTABLISHED);
	/* one for an ISN next to it does not match */
	dropped(&cv, R, PB_SYN | PB_ACK, ISN_R2, NEW_ISN + 2, 0, CT_R_TCP_OUT_OF_WINDOW);
	pass(&cv, R, PB_SYN | PB_ACK, ISN_R2, NEW_ISN + 1, 0, CT_ESTABLISHED);
	assert_ptr_equal(cv.conn, old);
	assert_int_equal(ct_conn_tcp_state(old), CT_TCP_SYN_RECV);
	assert_int_equal(ct_conn_status(old) & (CT_ST_SEEN_REPLY | CT_ST_ASSURED),
			 CT_ST_SEEN_REPLY);
	assert_int_equal(stats(&cv).tcp_reinit, 1);
	/* the third ACK, window 1000: not scaled now (the old connection scaled by 128) */
	s.tcp_flags = PB_ACK;
	s.seq = NEW_ISN + 1;
	s.ack = ISN_R2 + 1;
	assert_int_equal(ct_test_spec(cv.t, &s, ++cv.now).state, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(old), CT_TCP_ESTABLISHED);
	assert_true(ct_conn_status(old) & CT_ST_ASSURED);
	/* the server may send up to ISN_R2 + 1 + 1000, not 1000 << 7 */
	dropped(&cv, R, PB_ACK | PB_PSH, ISN_R2 + 1 + 1001, NEW_ISN + 1, 10,
		CT_R_TCP_OUT_OF_WINDOW);
	pass(&cv, R, PB_ACK | PB_PSH, ISN_R2 + 1 + 1000, NEW_ISN + 1, 0, CT_ESTABLISHED);
	dropped(&cv, O, PB_ACK | PB_PSH, O_NXT, R_NXT, 10, CT_R_TCP_OUT_OF_WINDOW);
	ct_table_free(cv.t);
}

/* The server refuses the new SYN (its port closed meanwhile): RST|ACK acknowledging it
 * closes the entry; the next SYN opens it again. */
static void
test_reuse_server_rst_to_syn(void **state)
{
	struct conv cv;

	(void)state;
	conv_init(&cv, 16);
	establish(&cv);
	pass(&cv, O, PB_SYN, NEW_ISN, 0, 0, CT_ESTABLISHED);
	pass(&cv, R, PB_RST | PB_ACK, 0, NEW_ISN + 1, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_CLOSE);
	pass(&cv, O, PB_SYN, NEW_ISN + 77, 0, 0, CT_NEW);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_SYN_SENT);
	ct_table_free(cv.t);
}

/* A SYN on a connection that is really alive (stale, or sent by someone who knows the
 * tuple) breaks nothing: the server's challenge ACK passes, the client goes on, and later
 * answers that would have meant "gone" no longer do. */
static void
test_reuse_live_connection_unharmed(void **state)
{
	struct conv cv;
	ct_time_t exp;

	(void)state;
	conv_init(&cv, 16);
	establish(&cv);
	exp = expire_of(&cv, NULL);
	pass(&cv, O, PB_SYN, NEW_ISN, 0, 0, CT_ESTABLISHED);
	assert_int_equal(expire_of(&cv, NULL), exp);
	pass(&cv, R, PB_ACK, R_NXT, O_NXT, 0, CT_ESTABLISHED);	/* challenge ACK */
	/* the client is alive and carries on */
	pass(&cv, O, PB_ACK | PB_PSH, O_NXT, R_NXT, 300, CT_ESTABLISHED);
	pass(&cv, R, PB_ACK | PB_PSH, R_NXT, O_NXT + 300, 50, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_ESTABLISHED);
	assert_true(ct_conn_status(cv.conn) & CT_ST_ASSURED);
	/* a SYN/ACK for the SYN, now: checked as a retransmission, out of window */
	dropped(&cv, R, PB_SYN | PB_ACK, ISN_R2, NEW_ISN + 1, 0, CT_R_TCP_OUT_OF_WINDOW);
	/* a RST at the challenge ACK's ack, now stale: in window, closes nothing */
	pass(&cv, O, PB_RST, O_NXT, 0, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_ESTABLISHED);
	pass(&cv, O, PB_ACK | PB_PSH, O_NXT + 300, R_NXT + 50, 10, CT_ESTABLISHED);
	assert_int_equal(stats(&cv).tcp_reinit, 0);
	/* and a SYN while closing (LAST_ACK): the challenge ACK is not the ACK of the last
	 * FIN (netfilter: "challenge-ack ignored") */
	pass(&cv, O, PB_FIN | PB_ACK, O_NXT + 310, R_NXT + 50, 0, CT_ESTABLISHED);
	pass(&cv, R, PB_ACK, R_NXT + 50, O_NXT + 311, 0, CT_ESTABLISHED);
	pass(&cv, R, PB_FIN | PB_ACK, R_NXT + 50, O_NXT + 311, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_LAST_ACK);
	pass(&cv, O, PB_SYN, NEW_ISN, 0, 0, CT_ESTABLISHED);
	pass(&cv, R, PB_ACK, R_NXT + 51, O_NXT + 311, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_LAST_ACK);
	pass(&cv, O, PB_ACK, O_NXT + 311, R_NXT + 51, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_TIME_WAIT);
	ct_table_free(cv.t);
}

/* A fresh entry (the old one expired here) while the server still holds an older
 * connection on the tuple: its challenge ACK to the SYN passes, the client's RST answering
 * it passes and leaves SYN_SENT (the client stays there), the retransmitted SYN connects.
 * (Before: the ACK was dropped as TCP_BAD_TRANSITION, so the server never learnt.) */
static void
test_syn_sent_challenge_ack(void **state)
{
	struct conv cv;

	(void)state;
	conv_init(&cv, 16);
	pass(&cv, O, PB_SYN, NEW_ISN, 0, 0, CT_NEW);
	pass(&cv, R, PB_ACK, 555000, 424242, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_SYN_SENT);
	assert_int_equal(ct_conn_status(cv.conn) & CT_ST_SEEN_REPLY, 0);
	/* another RST from the client is no answer to it: out of window */
	dropped(&cv, O, PB_RST, 424243, 0, 0, CT_R_TCP_RST_OUT_OF_WINDOW);
	pass(&cv, O, PB_RST, 424242, 0, 0, CT_NEW);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_SYN_SENT);
	pass(&cv, O, PB_SYN, NEW_ISN, 0, 0, CT_NEW);
	pass(&cv, R, PB_SYN | PB_ACK, ISN_R2, NEW_ISN + 1, 0, CT_ESTABLISHED);
	pass(&cv, O, PB_ACK, NEW_ISN + 1, ISN_R2 + 1, 0, CT_ESTABLISHED);
	new_connection_works(&cv);
	ct_table_free(cv.t);
}

/* The record of a passed SYN lives in a slot shared by connections whose index is equal
 * modulo the slot count: the one that loses it only loses the shortcut. */
static void
test_reuse_slot_taken(void **state)
{
	struct conv a, b;
	unsigned int i;

	(void)state;
	conv_init(&a, 1024);
	establish(&a);
	assert_int_equal(ct_conn_id(a.t, a.conn), 0);
	/* 255 other connections, then b at index 256 */
	for (i = 1; i < 256; i++) {
		struct pb_spec u = ct_test_udp(O);

		u.sport = (uint16_t)(2000 + i);
		assert_int_equal(ct_test_spec(a.t, &u, a.now).state, CT_NEW);
	}
	b = a;
	{
		/* b: the same dance on another client port */
		struct pb_spec s = {
			.src = A_IN, .dst = A_OUT, .sport = 40001, .dport = 80,
			.proto = IPPROTO_TCP, .tcp_flags = PB_SYN, .seq = 50, .win = 1000,
		};
		struct ct_res r = ct_test_spec(a.t, &s, ++a.now);

		assert_int_equal(r.state, CT_NEW);
		b.conn = r.conn;
		assert_int_equal(ct_conn_id(a.t, b.conn), 256);
		s = (struct pb_spec){
			.src = A_OUT, .dst = A_IN, .sport = 80, .dport = 40001,
			.proto = IPPROTO_TCP, .tcp_flags = PB_SYN | PB_ACK, .seq = 80, .ack = 51,
			.win = 1000,
		};
		assert_int_equal(ct_test_spec(a.t, &s, ++a.now).state, CT_ESTABLISHED);
		s = (struct pb_spec){
			.src = A_IN, .dst = A_OUT, .sport = 40001, .dport = 80,
			.proto = IPPROTO_TCP, .tcp_flags = PB_ACK, .seq = 51, .ack = 81,
			.win = 1000,
		};
		assert_int_equal(ct_test_spec(a.t, &s, ++a.now).state, CT_ESTABLISHED);
		/* a's SYN passes; the server closes its side (FIN_WAIT, no SYN/ACK there);
		 * then b's SYN takes the slot */
		pass(&a, O, PB_SYN, NEW_ISN, 0, 0, CT_ESTABLISHED);
		pass(&a, R, PB_FIN | PB_ACK, R_NXT, O_NXT, 0, CT_ESTABLISHED);
		assert_int_equal(ct_conn_tcp_state(a.conn), CT_TCP_FIN_WAIT);
		s.tcp_flags = PB_SYN;
		s.seq = 123456789;
		s.ack = 0;
		assert_int_equal(ct_test_spec(a.t, &s, ++a.now).state, CT_ESTABLISHED);
		/* b resyncs on its SYN/ACK */
		s = (struct pb_spec){
			.src = A_OUT, .dst = A_IN, .sport = 80, .dport = 40001,
			.proto = IPPROTO_TCP, .tcp_flags = PB_SYN | PB_ACK, .seq = 777,
			.ack = 123456790, .win = 1000,
		};
		assert_int_equal(ct_test_spec(a.t, &s, ++a.now).state, CT_ESTABLISHED);
		assert_int_equal(ct_conn_tcp_state(b.conn), CT_TCP_SYN_RECV);
	}
	/* a's SYN/ACK finds no record: a SYN/ACK in FIN_WAIT, dropped as before */
	dropped(&a, R, PB_SYN | PB_ACK, ISN_R2, NEW_ISN + 1, 0, CT_R_TCP_BAD_TRANSITION);
	assert_int_equal(ct_conn_tcp_state(a.conn), CT_TCP_FIN_WAIT);
	/* the client retransmits its SYN: remembered again, and the next SYN/ACK resyncs */
	pass(&a, O, PB_SYN, NEW_ISN, 0, 0, CT_ESTABLISHED);
	pass(&a, R, PB_SYN | PB_ACK, ISN_R2, NEW_ISN + 1, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(a.conn), CT_TCP_SYN_RECV);
	pass(&a, O, PB_ACK, NEW_ISN + 1, ISN_R2 + 1, 0, CT_ESTABLISHED);
	new_connection_works(&a);
	ct_table_free(a.t);
}

/* ---- RFC 5961 3.2 ---- */

static void
test_rst_exact_or_challenged(void **state)
{
	struct conv cv;
	ct_time_t exp;

	(void)state;
	conv_init(&cv, 16);
	establish(&cv);
	exp = expire_of(&cv, NULL);
	/* a blind RST in window, not at rcv.nxt: passes, closes nothing, refreshes nothing */
	pass(&cv, R, PB_RST, R_NXT + 5000, 0, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_ESTABLISHED);
	assert_int_equal(expire_of(&cv, NULL), exp);
	assert_int_equal(stats(&cv).tcp_rst_challenged, 1);
	/* outside the window: dropped and counted */
	dropped(&cv, R, PB_RST, R_NXT + 0x40000000, 0, 0, CT_R_TCP_RST_OUT_OF_WINDOW);
	assert_int_equal(stats(&cv).reason[CT_R_TCP_RST_OUT_OF_WINDOW], 1);
	/* the client's challenge ACK tells its rcv.nxt; a server that really reset answers with
	 * a RST at exactly that: closed */
	pass(&cv, O, PB_ACK, O_NXT, R_NXT, 0, CT_ESTABLISHED);
	pass(&cv, R, PB_RST, R_NXT, 0, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_CLOSE);
	ct_table_free(cv.t);

	/* the server's last 500 bytes were lost beyond us: its RST (at its snd.nxt) is not at
	 * the client's rcv.nxt, passes; the client's challenge ACK; the server's RST there */
	conv_init(&cv, 16);
	establish(&cv);
	pass(&cv, R, PB_ACK | PB_PSH, R_NXT, O_NXT, 500, CT_ESTABLISHED);
	pass(&cv, R, PB_RST, R_NXT - 1, 0, 0, CT_ESTABLISHED);	/* not exact */
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_ESTABLISHED);
	pass(&cv, O, PB_ACK, O_NXT, R_NXT, 0, CT_ESTABLISHED);	/* challenge ACK */
	pass(&cv, R, PB_RST, R_NXT, 0, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_CLOSE);
	ct_table_free(cv.t);

	/* at the sender's next seq (everything it sent, as forwarded): closed at once */
	conv_init(&cv, 16);
	establish(&cv);
	pass(&cv, O, PB_ACK | PB_PSH, O_NXT, R_NXT, 40, CT_ESTABLISHED);
	pass(&cv, O, PB_RST | PB_ACK, O_NXT + 40, R_NXT, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_CLOSE);
	assert_int_equal(stats(&cv).tcp_rst_challenged, 0);
	ct_table_free(cv.t);
}

/* RFC 9293 3.10.7.3 / RFC 5961 3.2: in SYN_SENT the responder's RST must acknowledge the
 * SYN. (Before: any RST of the responder closed a SYN_SENT entry.) */
static void
test_rst_syn_sent_needs_ack(void **state)
{
	static const uint8_t data[10];
	struct conv cv;
	struct pb_spec s;

	(void)state;
	conv_init(&cv, 16);
	pass(&cv, O, PB_SYN, ISN_O, 0, 0, CT_NEW);
	dropped(&cv, R, PB_RST, 0, 0, 0, CT_R_TCP_RST_BAD_ACK);
	dropped(&cv, R, PB_RST, ISN_R, 0, 0, CT_R_TCP_RST_BAD_ACK);
	dropped(&cv, R, PB_RST | PB_ACK, 0, ISN_O, 0, CT_R_TCP_RST_BAD_ACK);
	dropped(&cv, R, PB_RST | PB_ACK, 0, ISN_O + 2, 0, CT_R_TCP_RST_BAD_ACK);
	dropped(&cv, R, PB_RST | PB_ACK, 0, 0, 0, CT_R_TCP_RST_BAD_ACK);
	assert_int_equal(stats(&cv).reason[CT_R_TCP_RST_BAD_ACK], 5);
	pass(&cv, R, PB_RST | PB_ACK, 0, ISN_O + 1, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_CLOSE);
	ct_table_free(cv.t);

	/* a SYN with data (TCP Fast Open): the refusal acknowledges all of it */
	conv_init(&cv, 16);
	s = (struct pb_spec){
		.src = A_IN, .dst = A_OUT, .sport = 40000, .dport = 80, .proto = IPPROTO_TCP,
		.tcp_flags = PB_SYN, .seq = ISN_O, .payload = data, .payload_len = 10,
	};
	assert_int_equal(ct_test_spec(cv.t, &s, cv.now).state, CT_NEW);
	cv.conn = ct_test_spec(cv.t, &s, cv.now).conn;
	dropped(&cv, R, PB_RST | PB_ACK, 0, ISN_O + 10, 0, CT_R_TCP_RST_BAD_ACK);
	pass(&cv, R, PB_RST | PB_ACK, 0, ISN_O + 11, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_CLOSE);
	ct_table_free(cv.t);
}

/* ---- checksums of what may create or change state ---- */

#define L4 (PB_ETH_LEN + 20)

/* a frame of the flow with its L4 checksum broken */
static struct ct_res
bad_csum(struct conv *cv, const struct pb_spec *s, bool nic_ok)
{
	uint8_t f[PB_MAX];
	unsigned int len = pb_build(f, s);
	unsigned int off = s->proto == IPPROTO_TCP ? 16 : s->proto == IPPROTO_UDP ? 6 : 2;

	f[L4 + off] ^= 0x21;
	assert_false(pb_csum_ok(f, len));
	cv->now += 1000;
	return ct_test_frame_nic(cv->t, f, len, cv->now, nic_ok);
}

static struct pb_spec
tcp_spec(uint8_t dir, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t len)
{
	static const uint8_t data[100];
	struct pb_spec s = {
		.src = dir ? A_OUT : A_IN, .dst = dir ? A_IN : A_OUT,
		.sport = dir ? 80 : 40000, .dport = dir ? 40000 : 80, .proto = IPPROTO_TCP,
		.tcp_flags = flags, .seq = seq, .ack = ack, .payload = data, .payload_len = len,
		.win = 502,
	};
	return s;
}

static void
expect_bad(struct ct_res r)
{
	assert_int_equal(r.state, CT_INVALID);
	assert_int_equal(r.why, CT_R_L4_BAD_CSUM);
}

static void
test_csum_tcp(void **state)
{
	struct conv cv;
	struct pb_spec s;

	(void)state;
	conv_init(&cv, 16);
	/* a SYN with a bad checksum creates nothing (before: a connection) */
	s = tcp_spec(O, PB_SYN, ISN_O, 0, 0);
	expect_bad(bad_csum(&cv, &s, false));
	assert_int_equal(stats(&cv).active, 0);
	assert_int_equal(stats(&cv).reason[CT_R_L4_BAD_CSUM], 1);
	/* ... unless the NIC said the checksum was good: then it is not looked at again */
	assert_int_equal(bad_csum(&cv, &s, true).state, CT_NEW);
	assert_int_equal(stats(&cv).active, 1);
	ct_table_free(cv.t);

	conv_init(&cv, 16);
	pass(&cv, O, PB_SYN, ISN_O, 0, 0, CT_NEW);
	s = tcp_spec(R, PB_SYN | PB_ACK, ISN_R, ISN_O + 1, 0);
	expect_bad(bad_csum(&cv, &s, false));
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_SYN_SENT);
	pass(&cv, R, PB_SYN | PB_ACK, ISN_R, ISN_O + 1, 0, CT_ESTABLISHED);
	/* the third ACK moves the state (SYN_RECV -> ESTABLISHED, assured) */
	s = tcp_spec(O, PB_ACK, ISN_O + 1, ISN_R + 1, 0);
	expect_bad(bad_csum(&cv, &s, false));
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_SYN_RECV);
	pass(&cv, O, PB_ACK, ISN_O + 1, ISN_R + 1, 0, CT_ESTABLISHED);
	/* established data is not verified (the endpoint drops it; no cost on the hit path) */
	s = tcp_spec(O, PB_ACK | PB_PSH, ISN_O + 1, ISN_R + 1, 50);
	assert_int_equal(bad_csum(&cv, &s, false).state, CT_ESTABLISHED);
	/* FIN, RST and SYN are: dropped, nothing changes (before: the RST closed) */
	s = tcp_spec(O, PB_RST, ISN_O + 51, 0, 0);
	expect_bad(bad_csum(&cv, &s, false));
	s = tcp_spec(R, PB_FIN | PB_ACK, ISN_R + 1, ISN_O + 51, 0);
	expect_bad(bad_csum(&cv, &s, false));
	s = tcp_spec(O, PB_SYN, NEW_ISN, 0, 0);
	expect_bad(bad_csum(&cv, &s, false));
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_ESTABLISHED);
	assert_int_equal(stats(&cv).tcp_ignored, 0);
	assert_int_equal(stats(&cv).reason[CT_R_L4_BAD_CSUM], 5);
	/* the good RST closes */
	pass(&cv, O, PB_RST, ISN_O + 51, 0, 0, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(cv.conn), CT_TCP_CLOSE);
	ct_table_free(cv.t);
}

static void
test_csum_udp_icmp(void **state)
{
	struct conv cv;
	struct pb_spec s;

	(void)state;
	conv_init(&cv, 16);
	/* UDP: the first packet (before: created the connection) */
	s = ct_test_udp(O);
	s.payload = "query";
	s.payload_len = 5;
	expect_bad(bad_csum(&cv, &s, false));
	assert_int_equal(stats(&cv).active, 0);
	/* checksum 0: the sender computed none (RFC 768) */
	s.udp_zero_csum = true;
	assert_int_equal(ct_test_spec(cv.t, &s, ++cv.now).state, CT_NEW);
	s.udp_zero_csum = false;
	/* the first reply changes state (replied) */
	s = ct_test_udp(R);
	s.payload = "answer";
	s.payload_len = 6;
	expect_bad(bad_csum(&cv, &s, false));
	assert_int_equal(ct_test_spec(cv.t, &s, ++cv.now).state, CT_ESTABLISHED);
	/* later packets are not verified */
	assert_int_equal(bad_csum(&cv, &s, false).state, CT_ESTABLISHED);
	s = ct_test_udp(O);
	assert_int_equal(bad_csum(&cv, &s, false).state, CT_ESTABLISHED);
	/* ICMP echo: the request that would create the query connection */
	s = (struct pb_spec){
		.src = A_IN, .dst = A_OUT, .sport = 0x4242, .proto = IPPROTO_ICMP,
		.icmp_type = 8, .icmp_seq = 1,
	};
	expect_bad(bad_csum(&cv, &s, false));
	assert_int_equal(ct_test_spec(cv.t, &s, ++cv.now).state, CT_NEW);
	assert_int_equal(stats(&cv).reason[CT_R_L4_BAD_CSUM], 3);
	assert_int_equal(stats(&cv).active, 2);
	ct_table_free(cv.t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reuse_challenge_ack_then_rst),
		cmocka_unit_test(test_reuse_rst_at_servers_rcv_nxt),
		cmocka_unit_test(test_reuse_synack_for_new_isn),
		cmocka_unit_test(test_reuse_server_rst_to_syn),
		cmocka_unit_test(test_reuse_live_connection_unharmed),
		cmocka_unit_test(test_syn_sent_challenge_ack),
		cmocka_unit_test(test_reuse_slot_taken),
		cmocka_unit_test(test_rst_exact_or_challenged),
		cmocka_unit_test(test_rst_syn_sent_needs_ack),
		cmocka_unit_test(test_csum_tcp),
		cmocka_unit_test(test_csum_udp_icmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
