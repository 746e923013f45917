/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_helper_ftp.c - real TCP/UDP sessions through conntrack (window tracking on) + NAT
 * + helpers: FTP active (PORT, EPRT) and passive (227, 229) through SNAT, passive to a
 * server behind a port forward, payload rewrites that change the length (longer, shorter,
 * odd and even), sequence and acknowledgement numbers (and SACK blocks) of later segments
 * in both directions, a retransmitted rewritten segment, the data connection created
 * RELATED from the expectation, refusals (address not the client's, no tailroom, MTU),
 * a command split across segments, a command not at a line start, payloads of 255, 256
 * and 257 bytes, TFTP and IRC DCC; and the defences against NAT slipstreaming: no
 * expectation towards an inside privileged port (unless allowed), the stricter line start on ports
 * other than 21, IRC segments with an unterminated DCC passed, the helper of a forward's
 * inside port; one host's share of reserved ports, expectations and helper records. Every
 * frame's checksums are recomputed from scratch.
 */
#include <stdio.h>

#include "helper_test.h"

/* one TCP control session: per side the next original seq and the length change so far */
struct side {
	uint32_t addr;
	uint16_t port;
	bool inside;
	uint32_t seq;		/* next seq, the sender's original space */
	int32_t off;		/* what the helper added to this side's stream so far */
};

struct sess {
	struct side s[2];	/* [0] the client (opens), [1] the server */
	uint32_t dst_addr;	/* where the client sends (the server, or the forward) */
	uint16_t dst_port;
	struct ct_conn *conn;
};

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Side `x` sends `payload` (flags PSH|ACK, or ACK when NULL) with optional TCP options.
 * The output must carry seq = original + this side's offset before the segment, ack in
 * the peer's original space, valid sums; the side's offset grows by the rewrite.
 */
static void
sess_send_opts(struct ht_env *e, struct sess *ss, unsigned int x, const char *payload,
	       const uint8_t *opts, uint8_t optlen, unsigned int tailroom, struct ht_res *r)
{
	struct side *me = &ss->s[x], *peer = &ss->s[x ^ 1];
	uint32_t src = me->addr, dst = x == 0 ? ss->dst_addr : N_2;
	uint16_t sport = me->port, dport = x == 0 ? ss->dst_port : 0;
	struct pb_spec s;
	uint8_t f[PB_MAX];
	unsigned int len, in_len = payload != NULL ? (unsigned int)strlen(payload) : 0;
	unsigned int out_len;

	if (x == 1) {
		/* the server answers to the client as it sees it */
		const struct ct_tuple *o = ct_conn_tuple(ss->conn, CT_DIR_REPLY);

		src = o->src;
		sport = ntohs(o->sport);
		dst = o->dst;
		dport = ntohs(o->dport);
	}
	s = ht_tcp(src, sport, dst, dport, payload != NULL ? PB_PSH | PB_ACK : PB_ACK, me->seq,
		   peer->seq + (uint32_t)peer->off, payload);
	s.tcp_opts = opts;
	s.tcp_opts_len = optlen;
	len = pb_build(f, &s);
	ht_frame(e, f, len, me->inside, tailroom, r);
	assert_int_not_equal(r->state, CT_INVALID);
	assert_true(pb_csum_ok(r->out, r->len));
	if (r->verdict == HELPER_DROP)
		return;
	assert_int_equal(pb_tcp_seq(r->out), me->seq + (uint32_t)me->off);
	assert_int_equal(pb_tcp_ack(r->out), peer->seq);
	ht_payload(r, &out_len);
	me->off += (int32_t)out_len - (int32_t)in_len;
	me->seq += in_len;
}

static void
sess_send(struct ht_env *e, struct sess *ss, unsigned int x, const char *payload,
	  struct ht_res *r)
{
	sess_send_opts(e, ss, x, payload, NULL, 0, 256, r);
}

/* three-way handshake; client from inside (or outside, to a forward) */
static void
sess_open(struct ht_env *e, struct sess *ss, uint32_t caddr, uint16_t cport, bool cinside,
	  uint32_t daddr, uint16_t dport)
{
	struct pb_spec s;
	struct ht_res r;
	const struct ct_tuple *rt;

	memset(ss, 0, sizeof(*ss));
	ss->s[0] = (struct side){ .addr = caddr, .port = cport, .inside = cinside, .seq = 1000 };
	ss->dst_addr = daddr;
	ss->dst_port = dport;
	s = ht_tcp(caddr, cport, daddr, dport, PB_SYN, 1000, 0, NULL);
	ht_spec(e, &s, cinside, &r);
	assert_non_null(r.conn);
	assert_true(ct_conn_status(r.conn) & CT_ST_HELPER);
	ss->conn = r.conn;
	rt = ct_conn_tuple(r.conn, CT_DIR_REPLY);
	ss->s[1] = (struct side){ .addr = rt->src, .port = ntohs(rt->sport), .inside = !cinside,
				  .seq = 5000 };
	s = ht_tcp(rt->src, ntohs(rt->sport), rt->dst, ntohs(rt->dport), PB_SYN | PB_ACK, 5000,
		   1001, NULL);
	ht_spec(e, &s, !cinside, &r);
	assert_int_equal(r.state, CT_ESTABLISHED);
	ss->s[0].seq = 1001;
	ss->s[1].seq = 5001;
	sess_send(e, ss, 0, NULL, &r);
	assert_int_equal(r.state, CT_ESTABLISHED);
}

/* a SYN of the data connection; returns the result */
static void
data_syn(struct ht_env *e, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
	 bool inside, struct ht_res *r)
{
	struct pb_spec s = ht_tcp(src, sport, dst, dport, PB_SYN, 77000, 0, NULL);

	ht_spec(e, &s, inside, r);
}

/* ---- active FTP through SNAT, with the length change of the example ---- */
static void
test_active_port(void **state)
{
	struct ht_env e;
	struct sess ss;
	struct ht_res r, r5;
	uint8_t sack[12] = { 1, 1, 5, 10 };
	uint32_t id;
	uint64_t ports0;

	(void)state;
	/* ports 40000-40001: the control connection keeps 40001, so the data port is 40000 */
	ht_start(&e, NULL, 40000, 40001);
	sess_open(&e, &ss, H_A, 40001, true, R_1, 21);
	id = ct_conn_id(e.ct, ss.conn);
	sess_send(&e, &ss, 1, "220 ready\r\n", &r);
	ports0 = ht_ports_in_use(&e);

	sess_send(&e, &ss, 0, "PORT 192,168,1,10,4,1\r\n", &r5);
	ht_assert_payload(&r5, "PORT 203,0,113,2,156,64\r\n");
	assert_int_equal(ss.s[0].off, 2);
	assert_true(ct_conn_status(ss.conn) & CT_ST_SEQ_ADJUST);
	assert_int_equal(helper_expect_count_master(e.hc, ss.conn), 1);
	assert_int_equal(ht_ports_in_use(&e), ports0 + 1);

	/* the server's ACK of the longer text comes back into the client's space; conntrack
	 * (window tracking on) accepts it, which it would not if it saw 1026 */
	sess_send(&e, &ss, 1, NULL, &r);
	assert_int_equal(r.state, CT_ESTABLISHED);
	sess_send(&e, &ss, 1, "200 PORT command successful\r\n", &r);
	/* the client's next segment moves by +2 */
	sess_send(&e, &ss, 0, "RETR f\r\n", &r);
	assert_int_equal(pb_tcp_seq(r.out), 1024 + 2);
	/* a D-SACK block (RFC 2883: a duplicate of the RETR segment) from the server: both
	 * edges back by 2 as well */
	{
		uint32_t a = 1026, b = 1026 + 8;

		sack[4] = (uint8_t)(a >> 24), sack[5] = (uint8_t)(a >> 16);
		sack[6] = (uint8_t)(a >> 8), sack[7] = (uint8_t)a;
		sack[8] = (uint8_t)(b >> 24), sack[9] = (uint8_t)(b >> 16);
		sack[10] = (uint8_t)(b >> 8), sack[11] = (uint8_t)b;
	}
	sess_send_opts(&e, &ss, 1, NULL, sack, sizeof(sack), 256, &r);
	{
		const uint8_t *th = r.out + PB_ETH_LEN + 20;

		assert_int_equal(th[12] >> 4, 8);
		assert_int_equal(th[22], 5);
		assert_int_equal(rd32(th + 24), 1024);
		assert_int_equal(rd32(th + 28), 1024 + 8);
	}

	/* a retransmission of the PORT segment: rewritten identically, same seq, nothing new */
	{
		struct pb_spec s = ht_tcp(H_A, 40001, R_1, 21, PB_PSH | PB_ACK, 1001, 5012,
					  "PORT 192,168,1,10,4,1\r\n");

		ht_spec(&e, &s, true, &r);
		assert_int_not_equal(r.state, CT_INVALID);
		assert_int_equal(r.len, r5.len);
		assert_int_equal(pb_tcp_seq(r.out), 1001);
		ht_assert_payload(&r, "PORT 203,0,113,2,156,64\r\n");
		assert_true(pb_csum_ok(r.out, r.len));
		assert_int_equal(ht_count(&e, HELPER_C_RETRANSMIT), 1);
		assert_int_equal(helper_expect_count_master(e.hc, ss.conn), 1);
		assert_int_equal(ht_count(&e, HELPER_C_EXPECT_CREATED), 1);
	}

	/* the server's data connection from port 20, to the reserved port */
	data_syn(&e, R_1, 20, N_2, 40000, false, &r);
	assert_true(r.related_hit);
	assert_int_equal(r.state, CT_RELATED);
	assert_int_equal(ct_conn_master(r.conn), id + 1);
	assert_int_equal(pb_ip_dst(r.out), H_A);
	assert_int_equal(pb_dport(r.out), 1025);
	assert_true(pb_csum_ok(r.out, r.len));
	assert_int_equal(helper_expect_count(e.hc), 0);
	{
		struct pb_spec s = ht_tcp(H_A, 1025, R_1, 20, PB_SYN | PB_ACK, 9000, 77001, NULL);
		struct ht_res r2;

		ht_spec(&e, &s, true, &r2);
		assert_ptr_equal(r2.conn, r.conn);
		assert_int_equal(r2.state, CT_ESTABLISHED);
		assert_int_equal(pb_ip_src(r2.out), N_2);
		assert_int_equal(pb_sport(r2.out), 40000);
	}
	/* the master dies; the data connection keeps its port until it ends too */
	ct_delete(e.ct, ss.conn);
	assert_int_equal(ht_ports_in_use(&e), 1);	/* 40000, the data connection's */
	ct_delete(e.ct, r.conn);
	assert_int_equal(ht_ports_in_use(&e), 0);
	ht_stop(&e);
}

/* ---- EPRT: shorter text (-1), port preserved ---- */
static void
test_active_eprt(void **state)
{
	struct ht_env e;
	struct sess ss;
	struct ht_res r;

	(void)state;
	ht_start(&e, NULL, 1024, 65535);
	sess_open(&e, &ss, H_A, 40001, true, R_1, 21);
	sess_send(&e, &ss, 0, "EPRT |1|192.168.1.10|6275|\r\n", &r);
	ht_assert_payload(&r, "EPRT |1|203.0.113.2|6275|\r\n");
	assert_int_equal(ss.s[0].off, -1);
	sess_send(&e, &ss, 1, "200 EPRT command successful\r\n", &r);
	sess_send(&e, &ss, 0, "LIST\r\n", &r);
	sess_send(&e, &ss, 1, "150 Here comes the listing\r\n", &r);
	data_syn(&e, R_1, 20, N_2, 6275, false, &r);
	assert_true(r.related_hit);
	assert_int_equal(pb_ip_dst(r.out), H_A);
	assert_int_equal(pb_dport(r.out), 6275);
	/* a second EPRT: the offsets add up (-1 twice) */
	sess_send(&e, &ss, 0, "EPRT |1|192.168.1.10|6276|\r\n", &r);
	ht_assert_payload(&r, "EPRT |1|203.0.113.2|6276|\r\n");
	assert_int_equal(ss.s[0].off, -2);
	sess_send(&e, &ss, 1, "200 ok\r\n", &r);
	sess_send(&e, &ss, 0, "QUIT\r\n", &r);
	ht_stop(&e);
}

/* ---- passive through SNAT: nothing rewritten, the data connection RELATED ---- */
static void
test_passive(void **state)
{
	static const struct {
		const char *reply;
		uint16_t port;
	} cases[] = {
		{ "227 Entering Passive Mode (198,51,100,7,195,80).\r\n", 50000 },
		{ "229 Entering Extended Passive Mode (|||6446|)\r\n", 6446 },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < HT_DIM(cases); i++) {
		struct ht_env e;
		struct sess ss;
		struct ht_res r;

		ht_start(&e, NULL, 1024, 65535);
		sess_open(&e, &ss, H_A, 40001, true, R_1, 21);
		sess_send(&e, &ss, 0, i == 0 ? "PASV\r\n" : "EPSV\r\n", &r);
		sess_send(&e, &ss, 1, cases[i].reply, &r);
		ht_assert_payload(&r, cases[i].reply);
		assert_int_equal(helper_expect_count(e.hc), 1);
		data_syn(&e, H_A, 40002, R_1, cases[i].port, true, &r);
		assert_true(r.related_hit);
		assert_int_equal(r.state, CT_RELATED);
		assert_int_equal(ct_conn_master(r.conn), ct_conn_id(e.ct, ss.conn) + 1);
		assert_int_equal(pb_ip_src(r.out), N_2);
		assert_int_equal(pb_ip_dst(r.out), R_1);
		assert_true(pb_csum_ok(r.out, r.len));
		sess_send(&e, &ss, 1, "150 ok\r\n", &r);
		assert_int_equal(ss.s[1].off, 0);
		ht_stop(&e);
	}
}

/* ---- passive to a server behind a port forward: the 227 reply is rewritten ---- */
static void
test_passive_forward(void **state)
{
	const struct nat_fwd fwd = {
		.proto = IPPROTO_TCP, .ext_addr = N_2, .ext_lo = 21, .ext_hi = 21,
		.int_addr = H_B, .int_port = 21,
	};
	struct ht_env e;
	struct sess ss;
	struct ht_res r;

	(void)state;
	ht_start_fwd(&e, NULL, 1024, 65535, &fwd, 1);
	sess_open(&e, &ss, R_2, 3000, false, N_2, 21);
	sess_send(&e, &ss, 0, "PASV\r\n", &r);
	sess_send(&e, &ss, 1, "227 Entering Passive Mode (192,168,1,20,195,80).\r\n", &r);
	ht_assert_payload(&r, "227 Entering Passive Mode (203,0,113,2,195,80).\r\n");
	assert_int_equal(ss.s[1].off, -1);
	sess_send(&e, &ss, 0, "RETR f\r\n", &r);
	sess_send(&e, &ss, 1, "150 ok\r\n", &r);
	data_syn(&e, R_2, 3001, N_2, 50000, false, &r);
	assert_true(r.related_hit);
	assert_int_equal(pb_ip_dst(r.out), H_B);
	assert_int_equal(pb_dport(r.out), 50000);
	assert_true(pb_csum_ok(r.out, r.len));
	ht_stop(&e);
}

/* ---- refusals ---- */
static void
test_addr_mismatch(void **state)
{
	struct ht_env e;
	struct sess ss;
	struct ht_res r;

	(void)state;
	ht_start(&e, NULL, 1024, 65535);
	sess_open(&e, &ss, H_A, 40001, true, R_1, 21);
	/* a PORT naming another host: no hole towards it (FTP bounce), text untouched */
	sess_send(&e, &ss, 0, "PORT 192,168,1,20,4,1\r\n", &r);
	ht_assert_payload(&r, "PORT 192,168,1,20,4,1\r\n");
	assert_int_equal(ht_count(&e, HELPER_C_ADDR_MISMATCH), 1);
	assert_int_equal(helper_expect_count(e.hc), 0);
	/* a 227 naming another server than the one we talk to: likewise */
	sess_send(&e, &ss, 1, "227 Entering Passive Mode (198,51,100,8,195,80).\r\n", &r);
	assert_int_equal(ht_count(&e, HELPER_C_ADDR_MISMATCH), 2);
	assert_int_equal(helper_expect_count(e.hc), 0);
	ht_stop(&e);
}

static void
test_no_room(void **state)
{
	struct ht_env e;
	struct sess ss;
	struct ht_res r;
	struct helper_config hcfg;
	struct pb_spec s;
	uint8_t f[PB_MAX];
	unsigned int len;
	uint64_t ports0;
	const char *port = "PORT 192,168,1,10,4,1\r\n";

	(void)state;
	/* no tailroom for +2 */
	ht_start(&e, NULL, 40000, 40001);
	sess_open(&e, &ss, H_A, 40001, true, R_1, 21);
	ports0 = ht_ports_in_use(&e);
	sess_send_opts(&e, &ss, 0, port, NULL, 0, 0, &r);
	ht_assert_payload(&r, port);
	assert_int_equal(ht_count(&e, HELPER_C_NO_ROOM), 1);
	assert_int_equal(helper_expect_count(e.hc), 0);
	assert_int_equal(ht_ports_in_use(&e), ports0);
	assert_false(ct_conn_status(ss.conn) & CT_ST_SEQ_ADJUST);
	/* its retransmission, now with room: the peer has the original text, so it stays so */
	{
		struct pb_spec rs = ht_tcp(H_A, 40001, R_1, 21, PB_PSH | PB_ACK, 1001, 5001, port);

		ht_spec(&e, &rs, true, &r);
		ht_assert_payload(&r, port);
		assert_int_equal(ht_count(&e, HELPER_C_RETRANSMIT), 1);
		assert_int_equal(helper_expect_count(e.hc), 0);
		assert_false(ct_conn_status(ss.conn) & CT_ST_SEQ_ADJUST);
	}
	ht_stop(&e);

	/* the other way round: rewritten (+2), then retransmitted without tailroom: dropped,
	 * never sent with the original length the sequence adjustment no longer matches */
	ht_start(&e, NULL, 40000, 40001);
	sess_open(&e, &ss, H_A, 40001, true, R_1, 21);
	sess_send(&e, &ss, 0, port, &r);
	ht_assert_payload(&r, "PORT 203,0,113,2,156,64\r\n");
	{
		struct pb_spec rs = ht_tcp(H_A, 40001, R_1, 21, PB_PSH | PB_ACK, 1001, 5001, port);
		uint8_t rf[PB_MAX];
		unsigned int rl = pb_build(rf, &rs);

		ht_frame(&e, rf, rl, true, 0, &r);
		assert_int_equal(r.verdict, HELPER_DROP);
		ht_frame(&e, rf, rl, true, 2, &r);
		assert_int_equal(r.verdict, HELPER_ACCEPT);
		ht_assert_payload(&r, "PORT 203,0,113,2,156,64\r\n");
		assert_true(pb_csum_ok(r.out, r.len));
	}
	ht_stop(&e);

	/* room, but the MTU is the packet's length */
	helper_config_default(&hcfg);
	s = ht_tcp(H_A, 40001, R_1, 21, PB_PSH | PB_ACK, 1001, 5001, port);
	len = pb_build(f, &s);
	hcfg.mtu = (uint16_t)(len - PB_ETH_LEN);
	ht_start(&e, &hcfg, 40000, 40001);
	sess_open(&e, &ss, H_A, 40001, true, R_1, 21);
	sess_send(&e, &ss, 0, port, &r);
	ht_assert_payload(&r, port);
	assert_int_equal(ht_count(&e, HELPER_C_NO_ROOM), 1);
	/* shrinking always fits: the port is preserved when free (range 1024-) */
	ht_stop(&e);
	ht_start(&e, &hcfg, 1024, 65535);
	sess_open(&e, &ss, H_A, 40001, true, R_1, 21);
	sess_send_opts(&e, &ss, 0, port, NULL, 0, 0, &r);
	ht_assert_payload(&r, "PORT 203,0,113,2,4,1\r\n");
	ht_stop(&e);
}

static void
test_split_and_line_start(void **state)
{
	struct ht_env e;
	struct sess ss;
	struct ht_res r;

	(void)state;
	ht_start(&e, NULL, 1024, 65535);
	sess_open(&e, &ss, H_A, 40001, true, R_1, 21);
	/* a PORT cut by the segment end: dropped, never half rewritten */
	sess_send(&e, &ss, 0, "PORT 192,168,1,1", &r);
	assert_int_equal(r.verdict, HELPER_DROP);
	assert_int_equal(ht_count(&e, HELPER_C_PARTIAL_DROP), 1);
	assert_int_equal(helper_expect_count(e.hc), 0);
	/* the sender retransmits it whole (same seq): rewritten */
	sess_send(&e, &ss, 0, "PORT 192,168,1,10,4,1\r\n", &r);
	ht_assert_payload(&r, "PORT 203,0,113,2,4,1\r\n");
	assert_int_equal(helper_expect_count(e.hc), 1);
	/* text not ending a line, then a PORT: not at a line start, left alone */
	sess_send(&e, &ss, 0, "NOOP", &r);
	sess_send(&e, &ss, 0, "\r\nPORT 192,168,1,10,4,2\r\n", &r);
	ht_assert_payload(&r, "\r\nPORT 192,168,1,10,4,2\r\n");
	sess_send(&e, &ss, 0, "PORT 192,168,1,10,4,3 and more\r\n", &r);
	assert_int_equal(ht_count(&e, HELPER_C_MALFORMED), 1);
	/* a line-start segment again: rewritten */
	sess_send(&e, &ss, 0, "PORT 192,168,1,10,4,4\r\n", &r);
	ht_assert_payload(&r, "PORT 203,0,113,2,4,4\r\n");
	assert_int_equal(ss.s[0].off, -2);
	sess_send(&e, &ss, 1, "200 ok\r\n", &r);
	ht_stop(&e);
}

/* payloads of 255, 256, 257 bytes, the PORT line padded or followed by another line,
 * growing by 2 (port 40000) or shrinking by 1 (port preserved): odd and even shifts of
 * the tail, odd and even total lengths */
static void
test_sizes(void **state)
{
	static const unsigned int sizes[] = { 255, 256, 257 };
	unsigned int si, layout, grow;

	(void)state;
	for (si = 0; si < HT_DIM(sizes); si++)
		for (layout = 0; layout < 2; layout++)
			for (grow = 0; grow < 2; grow++) {
				struct ht_env e;
				struct sess ss;
				struct ht_res r;
				char in[300], want[300];
				const char *cmd = "PORT 192,168,1,10,4,1";
				const char *rep = grow ? "PORT 203,0,113,2,156,64" :
							 "PORT 203,0,113,2,4,1";
				unsigned int n = sizes[si], k;
				size_t cl = strlen(cmd);

				memcpy(in, cmd, cl);
				if (layout == 0) {	/* padded with blanks */
					for (k = (unsigned int)cl; k < n - 2; k++)
						in[k] = ' ';
				} else {		/* a second line fills it */
					memcpy(in + cl, "\r\nSTAT ", 7);
					for (k = (unsigned int)cl + 7; k < n - 2; k++)
						in[k] = (char)('a' + k % 26);
				}
				in[n - 2] = '\r';
				in[n - 1] = '\n';
				in[n] = '\0';
				snprintf(want, sizeof(want), "%s%s", rep, in + cl);
				if (grow)
					ht_start(&e, NULL, 40000, 40001);
				else
					ht_start(&e, NULL, 1024, 65535);
				sess_open(&e, &ss, H_A, 40001, true, R_1, 21);
				sess_send(&e, &ss, 0, in, &r);
				ht_assert_payload(&r, want);
				assert_int_equal(ss.s[0].off, grow ? 2 : -1);
				/* later segments both ways carry the shift */
				sess_send(&e, &ss, 1, "200 ok\r\n", &r);
				sess_send(&e, &ss, 0, "NOOP\r\n", &r);
				sess_send(&e, &ss, 1, NULL, &r);
				ht_stop(&e);
			}
}

/* ---- TFTP: the server's reply from a new port comes back RELATED ---- */
static void
test_tftp(void **state)
{
	struct helper_config hcfg;
	struct ht_env e;
	struct ht_res r;
	char msg[64];
	struct pb_spec s = {
		.src = H_A, .sport = 3333, .dst = R_1, .dport = 69, .proto = IPPROTO_UDP,
		.payload = "\0\1file\0octet\0", .payload_len = 13,
	};

	(void)state;
	helper_config_default(&hcfg);
	assert_int_equal(helper_config_set(&hcfg, "tftp", "69", msg, sizeof(msg)), 0);
	ht_start(&e, &hcfg, 1024, 65535);
	ht_spec(&e, &s, true, &r);
	assert_int_equal(helper_conn_helper(e.hc, r.conn), HELPER_TFTP);
	assert_int_equal(pb_ip_src(r.out), N_2);
	assert_int_equal(pb_sport(r.out), 3333);
	assert_int_equal(helper_expect_count(e.hc), 1);
	s = (struct pb_spec){ .src = R_1, .sport = 4444, .dst = N_2, .dport = 3333,
			      .proto = IPPROTO_UDP, .payload = "\0\3\0\1data", .payload_len = 8 };
	ht_spec(&e, &s, false, &r);
	assert_true(r.related_hit);
	assert_int_equal(r.state, CT_RELATED);
	assert_int_equal(pb_ip_dst(r.out), H_A);
	assert_int_equal(pb_dport(r.out), 3333);
	assert_true(pb_csum_ok(r.out, r.len));
	ht_stop(&e);
}

/* ---- IRC DCC SEND: rewritten, a connection from anyone expected ---- */
static void
test_irc_dcc(void **state)
{
	struct helper_config hcfg;
	struct ht_env e;
	struct sess ss;
	struct ht_res r;
	char msg[64];

	(void)state;
	helper_config_default(&hcfg);
	assert_int_equal(helper_config_set(&hcfg, "irc", "6667", msg, sizeof(msg)), 0);
	ht_start(&e, &hcfg, 1024, 65535);
	sess_open(&e, &ss, H_A, 40005, true, R_1, 6667);
	sess_send(&e, &ss, 0, "PRIVMSG bob :\1DCC SEND f.txt 3232235786 5000 10\1\r\n", &r);
	ht_assert_payload(&r, "PRIVMSG bob :\1DCC SEND f.txt 3405803778 5000 10\1\r\n");
	/* the address must be the client's own */
	sess_send(&e, &ss, 0, "PRIVMSG bob :\1DCC CHAT chat 167772161 5001\1\r\n", &r);
	ht_assert_payload(&r, "PRIVMSG bob :\1DCC CHAT chat 167772161 5001\1\r\n");
	assert_int_equal(ht_count(&e, HELPER_C_ADDR_MISMATCH), 1);
	sess_send(&e, &ss, 1, ":bob PRIVMSG me :hi\r\n", &r);
	data_syn(&e, R_2, 1234, N_2, 5000, false, &r);
	assert_true(r.related_hit);
	assert_int_equal(pb_ip_dst(r.out), H_A);
	assert_int_equal(pb_dport(r.out), 5000);
	ht_stop(&e);
}

/* A long control session of random commands and replies, valid and not, both ways, with
 * random tailroom: every frame keeps valid checksums, seq/ack stay consistent (sess_send
 * checks them against the accumulated offsets, and conntrack's window tracking must
 * accept every segment), the expectation table stays within its limits. ASan/UBSan run
 * this too. Deterministic seed. */
static void
test_fuzz_session(void **state)
{
	static const char *const client[] = {
		"PORT 192,168,1,10,%u,%u\r\n", "EPRT |1|192.168.1.10|%u%u|\r\n",
		"PORT 192,168,1,20,%u,%u\r\n", "PORT 192,168,1,10,%u,%u", "PORT %u,%u\r\n",
		"NOOP\r\n", "RETR file%u.%u\r\n", "port 192,168,1,10,%u,%u  \r\nNOOP\r\n",
		"EPRT |1|192.168.1.10|%u|%u\r\n", "PO",
	};
	static const char *const server[] = {
		"227 Entering Passive Mode (198,51,100,7,%u,%u).\r\n",
		"229 Entering Extended Passive Mode (|||%u%u|)\r\n", "200 ok %u %u\r\n",
		"227 (198,51,100,8,%u,%u)\r\n", "150 %u%u\r\n",
	};
	struct ht_env e;
	struct sess ss;
	struct ht_res r;
	uint64_t x = 12345;
	unsigned int i;

	(void)state;
	ht_start(&e, NULL, 1024, 65535);
	sess_open(&e, &ss, H_A, 40001, true, R_1, 21);
	for (i = 0; i < 600; i++) {
		char buf[128];
		unsigned int side, a, b;
		const char *f;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		side = (unsigned int)(x & 1);
		a = (unsigned int)(x >> 8) % 256;
		b = (unsigned int)(x >> 16) % 256;
		f = side == 0 ? client[(x >> 24) % HT_DIM(client)] :
				server[(x >> 24) % HT_DIM(server)];
		snprintf(buf, sizeof(buf), f, a, b);
		sess_send_opts(&e, &ss, side, buf, NULL, 0, (unsigned int)(x >> 32) % 4, &r);
		assert_true(helper_expect_count(e.hc) <= e.hcfg.max_expect);
		assert_true(helper_expect_count_master(e.hc, ss.conn) <=
			    e.hcfg.max_expect_per_master);
	}
	assert_true(ht_count(&e, HELPER_C_REWRITTEN) > 0);
	assert_true(ht_count(&e, HELPER_C_PARTIAL_DROP) > 0);
	ht_stop(&e);
}

/* ---- no expectation towards an inside host's privileged port ---- */

/* a PORT/EPRT naming the client's port 22: text unchanged, nothing expected, counted; the
 * server's "data connection" to the port it would have been is unsolicited */
static void
test_priv_port_refused(void **state)
{
	struct ht_env e;
	struct sess ss;
	struct ht_res r;

	(void)state;
	ht_start(&e, NULL, 40000, 40001);
	sess_open(&e, &ss, H_A, 40001, true, R_1, 21);
	sess_send(&e, &ss, 1, "220 ready\r\n", &r);
	sess_send(&e, &ss, 0, "PORT 192,168,1,10,0,22\r\n", &r);
	ht_assert_payload(&r, "PORT 192,168,1,10,0,22\r\n");
	assert_int_equal(ht_count(&e, HELPER_C_PRIV_PORT), 1);
	assert_int_equal(helper_expect_count(e.hc), 0);
	assert_int_equal(ht_ports_in_use(&e), 1);
	data_syn(&e, R_1, 20, N_2, 40000, false, &r);
	assert_null(r.conn);
	/* its retransmission: the same (unchanged), still nothing */
	{
		struct pb_spec rs = ht_tcp(H_A, 40001, R_1, 21, PB_PSH | PB_ACK, 1001, 5012,
					   "PORT 192,168,1,10,0,22\r\n");

		ht_spec(&e, &rs, true, &r);
		ht_assert_payload(&r, "PORT 192,168,1,10,0,22\r\n");
		assert_int_equal(helper_expect_count(e.hc), 0);
	}
	sess_send(&e, &ss, 1, "200 ok\r\n", &r);
	sess_send(&e, &ss, 0, "EPRT |1|192.168.1.10|1023|\r\n", &r);
	ht_assert_payload(&r, "EPRT |1|192.168.1.10|1023|\r\n");
	assert_int_equal(ht_count(&e, HELPER_C_PRIV_PORT), 2);
	assert_int_equal(helper_expect_count(e.hc), 0);
	/* 1024 is not privileged */
	sess_send(&e, &ss, 1, "200 ok\r\n", &r);
	sess_send(&e, &ss, 0, "EPRT |1|192.168.1.10|1024|\r\n", &r);
	ht_assert_payload(&r, "EPRT |1|203.0.113.2|40000|\r\n");
	assert_int_equal(helper_expect_count(e.hc), 1);
	/* an outside server's 227 with port 20: the inside client connects out, no hole
	 * towards an inside host, so allowed */
	sess_send(&e, &ss, 1, "227 Entering Passive Mode (198,51,100,7,0,20).\r\n", &r);
	assert_int_equal(helper_expect_count(e.hc), 2);
	assert_int_equal(ht_count(&e, HELPER_C_PRIV_PORT), 2);
	ht_stop(&e);
}

/* a server behind a forward announcing its port 23 in 227 / 229: refused likewise */
static void
test_priv_port_forwarded_server(void **state)
{
	const struct nat_fwd fwd = {
		.proto = IPPROTO_TCP, .ext_addr = N_2, .ext_lo = 21, .ext_hi = 21,
		.int_addr = H_B, .int_port = 21,
	};
	struct ht_env e;
	struct sess ss;
	struct ht_res r;

	(void)state;
	ht_start_fwd(&e, NULL, 1024, 65535, &fwd, 1);
	sess_open(&e, &ss, R_2, 3000, false, N_2, 21);
	sess_send(&e, &ss, 0, "PASV\r\n", &r);
	sess_send(&e, &ss, 1, "227 Entering Passive Mode (192,168,1,20,0,23).\r\n", &r);
	ht_assert_payload(&r, "227 Entering Passive Mode (192,168,1,20,0,23).\r\n");
	sess_send(&e, &ss, 0, "EPSV\r\n", &r);
	sess_send(&e, &ss, 1, "229 Entering Extended Passive Mode (|||23|)\r\n", &r);
	ht_assert_payload(&r, "229 Entering Extended Passive Mode (|||23|)\r\n");
	assert_int_equal(ht_count(&e, HELPER_C_PRIV_PORT), 2);
	assert_int_equal(helper_expect_count(e.hc), 0);
	data_syn(&e, R_2, 3001, N_2, 23, false, &r);
	assert_null(r.conn);
	ht_stop(&e);
}

/* IRC DCC to port 80 refused by default; every privileged port allowed with the knob */
static void
test_priv_port_dcc_and_knob(void **state)
{
	struct helper_config hcfg;
	struct ht_env e;
	struct sess ss;
	struct ht_res r;
	char msg[64];

	(void)state;
	helper_config_default(&hcfg);
	assert_false(hcfg.allow_priv_ports);
	assert_int_equal(helper_config_set(&hcfg, "irc", "6667", msg, sizeof(msg)), 0);
	ht_start(&e, &hcfg, 40000, 40001);
	sess_open(&e, &ss, H_A, 40001, true, R_1, 6667);
	sess_send(&e, &ss, 0, "PRIVMSG bob :\1DCC SEND f 3232235786 80\1\r\n", &r);
	ht_assert_payload(&r, "PRIVMSG bob :\1DCC SEND f 3232235786 80\1\r\n");
	assert_int_equal(ht_count(&e, HELPER_C_PRIV_PORT), 1);
	assert_int_equal(helper_expect_count(e.hc), 0);
	ht_stop(&e);

	/* allowed: the DCC and a PORT to port 22 are rewritten and expected */
	hcfg.allow_priv_ports = true;
	ht_start(&e, &hcfg, 40000, 40001);
	sess_open(&e, &ss, H_A, 40001, true, R_1, 6667);
	sess_send(&e, &ss, 0, "PRIVMSG bob :\1DCC SEND f 3232235786 80\1\r\n", &r);
	ht_assert_payload(&r, "PRIVMSG bob :\1DCC SEND f 3405803778 40000\1\r\n");
	data_syn(&e, R_2, 1234, N_2, 40000, false, &r);
	assert_true(r.related_hit);
	assert_int_equal(pb_ip_dst(r.out), H_A);
	assert_int_equal(pb_dport(r.out), 80);
	ht_stop(&e);
	ht_start(&e, &hcfg, 40000, 40001);
	sess_open(&e, &ss, H_A, 40001, true, R_1, 21);
	sess_send(&e, &ss, 0, "PORT 192,168,1,10,0,22\r\n", &r);
	ht_assert_payload(&r, "PORT 203,0,113,2,156,64\r\n");
	data_syn(&e, R_1, 20, N_2, 40000, false, &r);
	assert_true(r.related_hit);
	assert_int_equal(pb_dport(r.out), 22);
	assert_int_equal(ht_count(&e, HELPER_C_PRIV_PORT), 0);
	ht_stop(&e);
}

/* ---- on a port other than 21, a line start is only after CRLF ---- */
static void
test_strict_line_start(void **state)
{
	static const uint16_t ports[] = { 21, 2121 };
	const char *port_cmd = "PORT 192,168,1,10,4,1\r\n";
	unsigned int i;

	(void)state;
	for (i = 0; i < HT_DIM(ports); i++) {
		struct helper_config hcfg;
		struct ht_env e;
		struct sess ss;
		struct ht_res r;
		bool strict = ports[i] != 21;
		uint32_t at;
		char msg[64];

		helper_config_default(&hcfg);
		assert_int_equal(helper_config_set(&hcfg, "ftp", "21, 2121", msg, sizeof(msg)),
				 0);
		ht_start(&e, &hcfg, 1024, 65535);
		sess_open(&e, &ss, H_A, 40001, true, R_1, ports[i]);
		/* a bare LF ends no line on 2121 (RFC 959: <CRLF>); netfilter's rule on 21 */
		sess_send(&e, &ss, 0, "NOOP\n", &r);
		sess_send(&e, &ss, 0, port_cmd, &r);
		ht_assert_payload(&r, strict ? port_cmd : "PORT 203,0,113,2,4,1\r\n");
		assert_int_equal(helper_expect_count(e.hc), strict ? 0 : 1);
		assert_int_equal(ht_count(&e, HELPER_C_NOT_LINE_START), strict ? 1 : 0);
		/* after a CRLF: a line start on both */
		sess_send(&e, &ss, 0, "NOOP\r\n", &r);
		sess_send(&e, &ss, 0, "PORT 192,168,1,10,4,2\r\n", &r);
		ht_assert_payload(&r, "PORT 203,0,113,2,4,2\r\n");
		assert_int_equal(helper_expect_count(e.hc), strict ? 1 : 2);
		/* two lines, then a segment at the line start before the latest one with new
		 * text: 21 reads it (a retransmission may be cut differently), 2121 does not */
		sess_send(&e, &ss, 0, "NOOP\r\n", &r);
		at = ss.s[0].seq;
		sess_send(&e, &ss, 0, "NOOP\r\n", &r);
		{
			struct pb_spec s = ht_tcp(H_A, 40001, R_1, ports[i], PB_PSH | PB_ACK, at,
						  ss.s[1].seq, "PORT 192,168,1,10,4,3\r\n");

			ht_spec(&e, &s, true, &r);
			assert_int_not_equal(r.state, CT_INVALID);
			ht_assert_payload(&r, strict ? "PORT 192,168,1,10,4,3\r\n" :
						       "PORT 203,0,113,2,4,3\r\n");
			assert_int_equal(helper_expect_count(e.hc), strict ? 1 : 3);
		}
		ht_stop(&e);
	}
}

/* ---- an IRC segment that merely contains an unterminated \1DCC passes ---- */
static void
test_irc_unterminated_dcc(void **state)
{
	static const char *const texts[] = {
		"PRIVMSG bob :type \1DCC SEND to send a file\r\n",
		"PRIVMSG bob :\1DCC SEND f 3232235786 5000",	/* cut by the segment end */
		"PRIVMSG bob :ends in \1DC",
	};
	struct helper_config hcfg;
	struct ht_env e;
	struct sess ss;
	struct ht_res r;
	char msg[64];
	unsigned int i;

	(void)state;
	helper_config_default(&hcfg);
	assert_int_equal(helper_config_set(&hcfg, "irc", "6667", msg, sizeof(msg)), 0);
	ht_start(&e, &hcfg, 1024, 65535);
	sess_open(&e, &ss, H_A, 40005, true, R_1, 6667);
	for (i = 0; i < HT_DIM(texts); i++) {
		sess_send(&e, &ss, 0, texts[i], &r);
		assert_int_equal(r.verdict, HELPER_ACCEPT);
		ht_assert_payload(&r, texts[i]);
		assert_int_equal(ht_count(&e, HELPER_C_PARTIAL_PASSED), i + 1);
	}
	assert_int_equal(ht_count(&e, HELPER_C_PARTIAL_DROP), 0);
	assert_int_equal(helper_expect_count(e.hc), 0);
	/* a whole DCC afterwards is still handled */
	sess_send(&e, &ss, 0, "\r\nPRIVMSG bob :\1DCC SEND f.txt 3232235786 5000 10\1\r\n", &r);
	ht_assert_payload(&r, "\r\nPRIVMSG bob :\1DCC SEND f.txt 3405803778 5000 10\1\r\n");
	assert_int_equal(helper_expect_count(e.hc), 1);
	ht_stop(&e);
}

/* ---- a forward outside 2121 -> inside 21 gets the FTP helper ---- */
static void
test_forward_other_port(void **state)
{
	const struct nat_fwd fwds[] = {
		{ .proto = IPPROTO_TCP, .ext_addr = N_2, .ext_lo = 2121, .ext_hi = 2121,
		  .int_addr = H_B, .int_port = 21 },
		{ .proto = IPPROTO_TCP, .ext_addr = N_2, .ext_lo = 21, .ext_hi = 21,
		  .int_addr = H_B, .int_port = 8021 },
	};
	struct ht_env e;
	struct ht_res r;
	struct sess ss;
	struct pb_spec s;

	(void)state;
	ht_start_fwd(&e, NULL, 1024, 65535, fwds, HT_DIM(fwds));
	sess_open(&e, &ss, R_2, 3000, false, N_2, 2121);
	assert_int_equal(helper_conn_helper(e.hc, ss.conn), HELPER_FTP);
	sess_send(&e, &ss, 1, "220 ready\r\n", &r);
	sess_send(&e, &ss, 0, "PASV\r\n", &r);
	sess_send(&e, &ss, 1, "227 Entering Passive Mode (192,168,1,20,195,80).\r\n", &r);
	ht_assert_payload(&r, "227 Entering Passive Mode (203,0,113,2,195,80).\r\n");
	assert_int_equal(ss.s[1].off, -1);
	sess_send(&e, &ss, 0, "RETR f\r\n", &r);
	sess_send(&e, &ss, 1, "150 ok\r\n", &r);
	data_syn(&e, R_2, 3001, N_2, 50000, false, &r);
	assert_true(r.related_hit);
	assert_int_equal(pb_ip_dst(r.out), H_B);
	assert_int_equal(pb_dport(r.out), 50000);
	assert_true(pb_csum_ok(r.out, r.len));
	/* the other way round (outside 21 -> a server on 8021): the helper goes by the
	 * server's port, as netfilter's (reply tuple), and ftp is on 21 only */
	s = ht_tcp(R_2, 3100, N_2, 21, PB_SYN, 1000, 0, NULL);
	ht_spec(&e, &s, false, &r);
	assert_non_null(r.conn);
	assert_int_equal(pb_dport(r.out), 8021);
	assert_int_equal(helper_conn_helper(e.hc, r.conn), HELPER_NONE);
	ht_stop(&e);
}

/* ---- a client reconnecting from its old port after a length-changing rewrite: conntrack
 * reinitialises the entry for the new stream (RFC 5961 4), and the helper must drop
 * the old stream's offsets, or every segment of the new one is shifted ---- */
static void
test_reopen_drops_seqadj(void **state)
{
	struct ht_env e;
	struct sess ss;
	struct ht_res r;
	struct pb_spec s;

	(void)state;
	ht_start(&e, NULL, 40000, 40001);
	sess_open(&e, &ss, H_A, 40001, true, R_1, 21);
	sess_send(&e, &ss, 1, "220 ready\r\n", &r);
	sess_send(&e, &ss, 0, "PORT 192,168,1,10,4,1\r\n", &r);
	assert_int_equal(ss.s[0].off, 2);
	assert_true(ct_conn_status(ss.conn) & CT_ST_SEQ_ADJUST);
	/* the client rebooted: a SYN with a new ISN on the old tuple passes unchanged */
	s = ht_tcp(H_A, 40001, R_1, 21, PB_SYN, 300000, 0, NULL);
	ht_spec(&e, &s, true, &r);
	assert_int_not_equal(r.state, CT_INVALID);
	assert_ptr_equal(r.conn, ss.conn);
	assert_int_equal(pb_tcp_seq(r.out), 300000);
	/* the server lost the old connection too: its SYN/ACK for the new ISN, ack untouched */
	s = ht_tcp(R_1, 21, N_2, 40001, PB_SYN | PB_ACK, 900000, 300001, NULL);
	ht_spec(&e, &s, false, &r);
	assert_int_not_equal(r.state, CT_INVALID);
	assert_int_equal(pb_tcp_ack(r.out), 300001);
	assert_true(pb_csum_ok(r.out, r.len));
	assert_false(ct_conn_status(ss.conn) & CT_ST_SEQ_ADJUST);
	/* the new stream's segments leave with their own numbers, both ways */
	s = ht_tcp(H_A, 40001, R_1, 21, PB_ACK, 300001, 900001, NULL);
	ht_spec(&e, &s, true, &r);
	assert_int_not_equal(r.state, CT_INVALID);
	assert_int_equal(pb_tcp_seq(r.out), 300001);
	s = ht_tcp(H_A, 40001, R_1, 21, PB_PSH | PB_ACK, 300001, 900001, "USER a\r\n");
	ht_spec(&e, &s, true, &r);
	assert_int_equal(r.state, CT_ESTABLISHED);
	assert_int_equal(pb_tcp_seq(r.out), 300001);
	ht_assert_payload(&r, "USER a\r\n");
	s = ht_tcp(R_1, 21, N_2, 40001, PB_ACK, 900001, 300009, NULL);
	ht_spec(&e, &s, false, &r);
	assert_int_equal(r.state, CT_ESTABLISHED);
	assert_int_equal(pb_tcp_ack(r.out), 300009);
	assert_true(pb_csum_ok(r.out, r.len));
	ht_stop(&e);
}

/* ---- one host must not starve the others (RFC 6888 REQ-5) ---- */

static bool
payload_is(const struct ht_res *r, const char *prefix)
{
	unsigned int n;
	const uint8_t *pl = ht_payload(r, &n);

	return n >= strlen(prefix) && memcmp(pl, prefix, strlen(prefix)) == 0;
}

/* ports the helper reserves count against the announcing host's port limit (RFC 6888
 * REQ-4): past it a PORT is refused, its text left unchanged, counted */
static void
test_host_reserved_ports(void **state)
{
	static const char *cmd[] = {
		"PORT 192,168,1,10,4,1\r\n", "PORT 192,168,1,10,4,2\r\n",
		"PORT 192,168,1,10,4,3\r\n",
	};
	struct ht_env e;
	struct sess ss;
	struct ht_res r;
	unsigned int i;

	(void)state;
	/* 8 ports, 3 per host: the control connection's mapping and two reservations */
	ht_start_lim(&e, NULL, 40000, 40007, NULL, 0, 3, NAT_LIMIT_AUTO);
	sess_open(&e, &ss, H_A, 40001, true, R_1, 21);
	for (i = 0; i < 3; i++) {
		sess_send(&e, &ss, 0, cmd[i], &r);
		if (i < 2) {
			assert_true(payload_is(&r, "PORT 203,0,113,2,"));
		} else {
			ht_assert_payload(&r, cmd[i]);
		}
	}
	assert_int_equal(ht_count(&e, HELPER_C_HOST_PORTS_LIMIT), 1);
	assert_int_equal(helper_expect_count_master(e.hc, ss.conn), 2);
	assert_int_equal(ht_ports_in_use(&e), 3);
	ht_stop(&e);
}

/* expected data connections count in the announcing host's inbound budget (1 here): the
 * second pushes out the first, still unanswered, instead of the host holding unlimited ones */
static void
test_host_data_conns(void **state)
{
	struct ht_env e;
	struct sess ss;
	struct ht_res r, d1;
	struct ct_stats cs;
	unsigned int i, p1, p2;
	uint16_t port[2];

	(void)state;
	ht_start_lim(&e, NULL, 40000, 40007, NULL, 0, NAT_LIMIT_NONE, 1);
	sess_open(&e, &ss, H_A, 40001, true, R_1, 21);
	for (i = 0; i < 2; i++) {
		char cmd[32], text[40];
		unsigned int n;
		const uint8_t *pl;

		snprintf(cmd, sizeof(cmd), "PORT 192,168,1,10,4,%u\r\n", i + 1);
		sess_send(&e, &ss, 0, cmd, &r);
		pl = ht_payload(&r, &n);
		assert_true(n < sizeof(text));
		memcpy(text, pl, n);
		text[n] = '\0';
		assert_int_equal(sscanf(text, "PORT 203,0,113,2,%u,%u", &p1, &p2), 2);
		port[i] = (uint16_t)(p1 << 8 | p2);
	}
	assert_int_equal(helper_expect_count(e.hc), 2);
	data_syn(&e, R_1, 20, N_2, port[0], false, &d1);
	assert_true(d1.related_hit);
	assert_int_equal(pb_dport(d1.out), 1025);
	ct_expire(e.ct, e.now, 0);
	data_syn(&e, R_1, 20, N_2, port[1], false, &r);
	assert_true(r.related_hit);
	assert_int_equal(pb_dport(r.out), 1026);
	ct_stats_get(e.ct, &cs);
	assert_int_equal(cs.evicted, 1);
	/* the first went, and its reserved port with it */
	assert_int_equal(ht_ports_in_use(&e), 2);
	ht_stop(&e);
}

/* a per-host expectation cap: one host's PORT commands cannot take every expectation */
static void
test_host_expectations(void **state)
{
	struct helper_config hcfg;
	struct ht_env e;
	struct sess a, c;
	struct ht_res r;

	(void)state;
	helper_config_default(&hcfg);
	hcfg.max_expect = 8;
	hcfg.max_expect_per_host = 2;
	ht_start(&e, &hcfg, 1024, 65535);
	sess_open(&e, &a, H_A, 40001, true, R_1, 21);
	sess_send(&e, &a, 0, "PORT 192,168,1,10,4,1\r\n", &r);
	sess_send(&e, &a, 0, "PORT 192,168,1,10,4,2\r\n", &r);
	assert_true(payload_is(&r, "PORT 203,0,113,2,"));
	sess_send(&e, &a, 0, "PORT 192,168,1,10,4,3\r\n", &r);
	ht_assert_payload(&r, "PORT 192,168,1,10,4,3\r\n");
	assert_int_equal(ht_count(&e, HELPER_C_EXPECT_HOST_LIMIT), 1);
	assert_int_equal(helper_expect_count(e.hc), 2);
	/* another host still gets its expectation */
	sess_open(&e, &c, PB_IP(192, 168, 1, 30), 40002, true, R_1, 21);
	sess_send(&e, &c, 0, "PORT 192,168,1,30,4,1\r\n", &r);
	assert_true(payload_is(&r, "PORT 203,0,113,2,"));
	assert_int_equal(helper_expect_count(e.hc), 3);
	ht_stop(&e);
}

/* helper records: a per-host share, and unanswered connections give theirs up when none
 * is free (bare SYNs to port 21 must not keep the helper from other hosts) */
static void
test_host_records(void **state)
{
	static const uint32_t hosts[] = {
		PB_IP(192, 168, 1, 10), PB_IP(192, 168, 1, 10), PB_IP(192, 168, 1, 10),
		PB_IP(192, 168, 1, 31), PB_IP(192, 168, 1, 31),
	};
	struct helper_config hcfg;
	struct ht_env e;
	struct ht_res r;
	struct sess ss;
	unsigned int i;

	(void)state;
	helper_config_default(&hcfg);
	hcfg.max_conns = 4;
	hcfg.max_conns_per_host = 2;
	ht_start(&e, &hcfg, 1024, 65535);
	for (i = 0; i < HT_DIM(hosts); i++) {
		struct pb_spec s = ht_tcp(hosts[i], (uint16_t)(30000 + i), R_1, 21, PB_SYN, 1000,
					  0, NULL);

		ht_spec(&e, &s, true, &r);
		assert_non_null(r.conn);
		/* the third of 192.168.1.10: at its share, no helper */
		assert_int_equal(helper_conn_helper(e.hc, r.conn) == HELPER_FTP, i != 2);
	}
	assert_int_equal(ht_count(&e, HELPER_C_HOST_RECORD_LIMIT), 1);
	/* the four records are held by unanswered SYNs: a new host's connection takes the
	 * oldest one's place, and its PORT is rewritten */
	ct_expire(e.ct, e.now, 0);
	sess_open(&e, &ss, PB_IP(192, 168, 1, 32), 40001, true, R_1, 21);
	assert_int_equal(ht_count(&e, HELPER_C_RECORD_EVICTED), 1);
	sess_send(&e, &ss, 0, "PORT 192,168,1,32,4,1\r\n", &r);
	assert_true(payload_is(&r, "PORT 203,0,113,2,"));
	ht_stop(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_active_port),
		cmocka_unit_test(test_active_eprt),
		cmocka_unit_test(test_passive),
		cmocka_unit_test(test_passive_forward),
		cmocka_unit_test(test_addr_mismatch),
		cmocka_unit_test(test_no_room),
		cmocka_unit_test(test_split_and_line_start),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_tftp),
		cmocka_unit_test(test_irc_dcc),
		cmocka_unit_test(test_fuzz_session),
		cmocka_unit_test(test_priv_port_refused),
		cmocka_unit_test(test_priv_port_forwarded_server),
		cmocka_unit_test(test_priv_port_dcc_and_knob),
		cmocka_unit_test(test_strict_line_start),
		cmocka_unit_test(test_irc_unterminated_dcc),
		cmocka_unit_test(test_forward_other_port),
		cmocka_unit_test(test_reopen_drops_seqadj),
		cmocka_unit_test(test_host_reserved_ports),
		cmocka_unit_test(test_host_expectations),
		cmocka_unit_test(test_host_data_conns),
		cmocka_unit_test(test_host_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
