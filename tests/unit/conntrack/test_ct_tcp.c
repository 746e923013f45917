/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ct_tcp.c - the TCP tracker over real frames.
 *  - every cell of the transition table: each state is reached by a real packet sequence,
 *    then one segment (direction x flag class) is sent with in-window numbers and the
 *    resulting state and verdict are compared with the expected table below (written from
 *    the TCP specification, independently of the library's table);
 *  - impossible flag combinations;
 *  - window edges: first and last valid sequence numbers and one past each, acknowledgement
 *    bounds, window scaling, SACK, RST in and out of window, retransmissions;
 *  - simultaneous open, connection refused, liberal and loose modes, port reuse.
 */
#include "ct_test.h"

#define ISN_O 1000u
#define ISN_R 7000000u
#define NOW 1000000u

enum fc { FC_SYN, FC_SYNACK, FC_FIN, FC_ACK, FC_RST, FC_NONE, FC_MAX };

static const uint8_t fc_flags[FC_MAX] = {
	[FC_SYN] = PB_SYN, [FC_SYNACK] = PB_SYN | PB_ACK, [FC_FIN] = PB_FIN | PB_ACK,
	[FC_ACK] = PB_ACK, [FC_RST] = PB_RST, [FC_NONE] = PB_PSH,
};

/* a model of one connection: next sequence number per direction */
struct model {
	struct ct_table *t;
	uint32_t nxt[2];
	bool sent[2];
	uint16_t win[2];
	ct_time_t now;
	struct ct_conn *conn;
};

static void
model_init(struct model *m, struct ct_table *t)
{
	memset(m, 0, sizeof(*m));
	m->t = t;
	m->nxt[0] = ISN_O;
	m->nxt[1] = ISN_R;
	m->win[0] = m->win[1] = 65535;
	m->now = NOW;
}

static struct pb_spec
seg_spec(uint8_t dir, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct pb_spec s = {
		.src = dir ? A_OUT : A_IN, .dst = dir ? A_IN : A_OUT,
		.sport = dir ? 80 : 40000, .dport = dir ? 40000 : 80, .proto = IPPROTO_TCP,
		.tcp_flags = flags, .seq = seq, .ack = ack,
	};
	return s;
}

/* send a segment with the model's numbers: SYNs carry the ISN, others the next seq */
static struct ct_res
send_seg(struct model *m, uint8_t dir, uint8_t flags, uint16_t len)
{
	static const uint8_t data[1500];
	uint32_t isn = dir ? ISN_R : ISN_O;
	uint32_t seq = (flags & PB_SYN) ? isn : m->nxt[dir];
	uint32_t ack = (flags & PB_ACK) ? m->nxt[!dir] : 0;
	struct pb_spec s = seg_spec(dir, flags, seq, ack);
	struct ct_res r;

	s.payload = data;
	s.payload_len = len;
	s.win = m->win[dir];
	m->now += 1000;
	r = ct_test_spec(m->t, &s, m->now);
	if (r.state != CT_INVALID) {
		uint32_t end = seq + len + ((flags & PB_SYN) ? 1 : 0) + ((flags & PB_FIN) ? 1 : 0);

		if ((int32_t)(end - m->nxt[dir]) > 0)
			m->nxt[dir] = end;
		m->conn = r.conn;
	}
	return r;
}

/* ---- reaching each state ---- */

struct step {
	uint8_t dir;
	uint8_t flags;
};

struct path {
	enum ct_tcp_state state;
	unsigned int n;
	struct step s[6];
};

#define O CT_DIR_ORIG
#define R CT_DIR_REPLY

static const struct path paths[CT_TCP_MAX] = {
	[CT_TCP_NONE] = { CT_TCP_NONE, 0, {{0, 0}} },
	[CT_TCP_SYN_SENT] = { CT_TCP_SYN_SENT, 1, { {O, PB_SYN} } },
	[CT_TCP_SYN_SENT2] = { CT_TCP_SYN_SENT2, 2, { {O, PB_SYN}, {R, PB_SYN} } },
	[CT_TCP_SYN_RECV] = { CT_TCP_SYN_RECV, 2, { {O, PB_SYN}, {R, PB_SYN | PB_ACK} } },
	[CT_TCP_ESTABLISHED] = { CT_TCP_ESTABLISHED, 3,
		{ {O, PB_SYN}, {R, PB_SYN | PB_ACK}, {O, PB_ACK} } },
	[CT_TCP_FIN_WAIT] = { CT_TCP_FIN_WAIT, 4,
		{ {O, PB_SYN}, {R, PB_SYN | PB_ACK}, {O, PB_ACK}, {O, PB_FIN | PB_ACK} } },
	[CT_TCP_CLOSE_WAIT] = { CT_TCP_CLOSE_WAIT, 5,
		{ {O, PB_SYN}, {R, PB_SYN | PB_ACK}, {O, PB_ACK}, {O, PB_FIN | PB_ACK},
		  {R, PB_ACK} } },
	[CT_TCP_LAST_ACK] = { CT_TCP_LAST_ACK, 6,
		{ {O, PB_SYN}, {R, PB_SYN | PB_ACK}, {O, PB_ACK}, {O, PB_FIN | PB_ACK},
		  {R, PB_ACK}, {R, PB_FIN | PB_ACK} } },
	[CT_TCP_TIME_WAIT] = { CT_TCP_TIME_WAIT, 5,
		{ {O, PB_SYN}, {R, PB_SYN | PB_ACK}, {O, PB_ACK}, {O, PB_FIN | PB_ACK},
		  {R, PB_FIN | PB_ACK} } },
	[CT_TCP_CLOSE] = { CT_TCP_CLOSE, 4,
		{ {O, PB_SYN}, {R, PB_SYN | PB_ACK}, {O, PB_ACK}, {O, PB_RST} } },
};

/* Bring a fresh connection into state st. NONE: created, no packet processed yet. */
static void
reach(struct model *m, enum ct_tcp_state st)
{
	const struct path *p = &paths[st];
	unsigned int i;

	if (st == CT_TCP_NONE) {
		struct pb_spec s = seg_spec(O, PB_SYN, ISN_O, 0);
		uint8_t f[PB_MAX];
		unsigned int len = pb_build(f, &s);
		struct ct_pkt pk;
		struct ct_tuple rt;
		enum ct_reason why;

		assert_int_equal(ct_parse_ipv4(f, len, PB_ETH_LEN, true, &pk), CT_R_NONE);
		rt = ct_tuple_invert(&pk.tuple);
		m->conn = ct_create(m->t, &pk.tuple, &rt, m->now, &why);
		assert_non_null(m->conn);
		return;
	}
	for (i = 0; i < p->n; i++) {
		struct ct_res r = send_seg(m, p->s[i].dir, p->s[i].flags, 0);

		if (r.state == CT_INVALID)
			fail_msg("path to %s: step %u invalid (%s)", ct_tcp_state_str(st), i,
				 ct_reason_id(r.why));
	}
	/* TIME_WAIT: the last FIN must be acknowledged */
	if (st == CT_TCP_TIME_WAIT)
		send_seg(m, O, PB_ACK, 0);
	assert_int_equal(ct_conn_tcp_state(m->conn), st);
}

/* ---- the expected table ---- */

#define X(s) { CT_TCP_##s, CT_R_NONE }
#define IV(r) { CT_TCP_MAX, CT_R_##r }
#define BT IV(TCP_BAD_TRANSITION)
#define NS IV(TCP_NEW_NOT_SYN)
#define XS IV(TCP_SYN_IN_ESTABLISHED)
#define RB IV(TCP_RST_BAD_ACK)
#define BF IV(TCP_BAD_FLAGS)
#define BF10 { BF, BF, BF, BF, BF, BF, BF, BF, BF, BF }

struct expect {
	uint8_t state;		/* CT_TCP_MAX: invalid */
	enum ct_reason why;
};

/* columns: NONE SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT CLOSE_WAIT LAST_ACK TIME_WAIT CLOSE
 * SYN_SENT2. An originator SYN in a live connection and a responder ACK in SYN_SENT pass
 * with the state unchanged (the answer decides: test_ct_tcp_reuse.c); a responder RST in
 * SYN_SENT must acknowledge the SYN, which the probe (a bare RST) does not. */
static const struct expect expect[2][FC_MAX][CT_TCP_MAX] = {
	[O] = {
		[FC_SYN] = { X(SYN_SENT), X(SYN_SENT), X(SYN_RECV), X(ESTABLISHED),
			     X(FIN_WAIT), X(CLOSE_WAIT), X(LAST_ACK), X(SYN_SENT), X(SYN_SENT),
			     X(SYN_SENT2) },
		[FC_SYNACK] = { NS, BT, X(SYN_RECV), X(ESTABLISHED), BT, BT, BT, BT, BT,
				X(SYN_RECV) },
		[FC_FIN] = { NS, BT, X(FIN_WAIT), X(FIN_WAIT), X(LAST_ACK), X(LAST_ACK),
			     X(LAST_ACK), X(TIME_WAIT), X(CLOSE), BT },
		[FC_ACK] = { NS, BT, X(ESTABLISHED), X(ESTABLISHED), X(CLOSE_WAIT),
			     X(CLOSE_WAIT), X(TIME_WAIT), X(TIME_WAIT), X(CLOSE), BT },
		[FC_RST] = { BT, X(CLOSE), X(CLOSE), X(CLOSE), X(CLOSE), X(CLOSE), X(CLOSE),
			     X(CLOSE), X(CLOSE), X(CLOSE) },
		[FC_NONE] = BF10,
	},
	[R] = {
		[FC_SYN] = { NS, X(SYN_SENT2), BT, XS, XS, XS, XS, BT, BT, X(SYN_SENT2) },
		[FC_SYNACK] = { NS, X(SYN_RECV), X(SYN_RECV), X(ESTABLISHED), BT, BT, BT, BT, BT,
				X(SYN_RECV) },
		[FC_FIN] = { NS, BT, X(FIN_WAIT), X(FIN_WAIT), X(LAST_ACK), X(LAST_ACK),
			     X(LAST_ACK), X(TIME_WAIT), X(CLOSE), BT },
		[FC_ACK] = { NS, X(SYN_SENT), X(SYN_RECV), X(ESTABLISHED), X(CLOSE_WAIT),
			     X(CLOSE_WAIT), X(TIME_WAIT), X(TIME_WAIT), X(CLOSE), BT },
		[FC_RST] = { BT, RB, X(CLOSE), X(CLOSE), X(CLOSE), X(CLOSE), X(CLOSE),
			     X(CLOSE), X(CLOSE), X(CLOSE) },
		[FC_NONE] = BF10,
	},
};

static const char *const fc_names[FC_MAX] = { "SYN", "SYN|ACK", "FIN|ACK", "ACK", "RST",
					      "PSH" };

static void
test_transition_table(void **state)
{
	unsigned int dir, fc, st, cells = 0;

	(void)state;
	for (dir = 0; dir < 2; dir++) {
		for (fc = 0; fc < FC_MAX; fc++) {
			for (st = 0; st < CT_TCP_MAX; st++) {
				const struct expect *e = &expect[dir][fc][st];
				struct ct_table *t = ct_test_table(16, false, false);
				struct model m;
				struct ct_pkt pk;
				struct pb_spec s;
				uint8_t f[PB_MAX];
				unsigned int len;
				enum ct_state v;
				enum ct_reason why = CT_R_NONE;
				uint32_t isn = dir ? ISN_R : ISN_O;
				uint8_t flags = fc_flags[fc];

				model_init(&m, t);
				reach(&m, (enum ct_tcp_state)st);
				/* the probe goes straight to ct_update on this connection */
				s = seg_spec((uint8_t)dir, flags,
					     (flags & PB_SYN) ? isn : m.nxt[dir],
					     (flags & PB_ACK) ? m.nxt[!dir] : 0);
				len = pb_build(f, &s);
				assert_int_equal(ct_parse_ipv4(f, len, PB_ETH_LEN, true, &pk),
						 CT_R_NONE);
				pk.conn = m.conn;
				pk.dir = (uint8_t)dir;
				v = ct_update(t, &pk, f, m.now + 1000, &why);
				if (e->state == CT_TCP_MAX) {
					if (v != CT_INVALID || why != e->why)
						fail_msg("%s %s in %s: got %s/%s, want INVALID/%s",
							 dir ? "REPLY" : "ORIG", fc_names[fc],
							 ct_tcp_state_str(st), ct_state_str(v),
							 ct_reason_id(why), ct_reason_id(e->why));
					/* an invalid segment changes nothing */
					assert_int_equal(ct_conn_tcp_state(m.conn), st);
				} else if (v == CT_INVALID ||
					   ct_conn_tcp_state(m.conn) != e->state) {
					fail_msg("%s %s in %s: got %s/%s state %s, want %s",
						 dir ? "REPLY" : "ORIG", fc_names[fc],
						 ct_tcp_state_str(st), ct_state_str(v),
						 ct_reason_id(why),
						 ct_tcp_state_str(ct_conn_tcp_state(m.conn)),
						 ct_tcp_state_str(e->state));
				}
				cells++;
				ct_table_free(t);
			}
		}
	}
	assert_int_equal(cells, 2 * FC_MAX * CT_TCP_MAX);
}

static void
test_bad_flags(void **state)
{
	static const struct { uint8_t flags; bool ok; } c[] = {
		{ PB_SYN, true }, { PB_SYN | PB_URG, true }, { PB_SYN | PB_ACK, true },
		{ PB_SYN | PB_PSH | 0xc0, true },	/* ECE/CWR/PSH do not matter */
		{ PB_RST, true }, { PB_RST | PB_ACK, true }, { PB_FIN | PB_ACK, true },
		{ PB_ACK, true }, { PB_ACK | PB_URG, true }, { PB_ACK | PB_PSH, true },
		{ PB_SYN | PB_FIN, false }, { PB_SYN | PB_RST, false },
		{ PB_SYN | PB_FIN | PB_ACK, false }, { PB_FIN, false }, { 0, false },
		{ PB_PSH, false }, { PB_URG, false }, { PB_RST | PB_FIN, false },
		{ PB_RST | PB_FIN | PB_ACK, false }, { 0x3f, false },
		{ PB_SYN | PB_RST | PB_ACK, false },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < CT_DIM(c); i++) {
		struct ct_table *t = ct_test_table(4, false, true);
		struct pb_spec s = seg_spec(O, c[i].flags, ISN_O, 0);
		struct ct_res r = ct_test_spec(t, &s, NOW);
		struct ct_stats st;

		if (c[i].ok) {
			if (r.why == CT_R_TCP_BAD_FLAGS)
				fail_msg("flags 0x%02x rejected", c[i].flags);
		} else if (r.state != CT_INVALID || r.why != CT_R_TCP_BAD_FLAGS) {
			fail_msg("flags 0x%02x: got %s", c[i].flags, ct_reason_id(r.why));
		}
		/* and on an established connection */
		if (!c[i].ok) {
			struct model m;

			model_init(&m, t);
			reach(&m, CT_TCP_ESTABLISHED);
			r = send_seg(&m, O, c[i].flags, 0);
			assert_int_equal(r.state, CT_INVALID);
			assert_int_equal(r.why, CT_R_TCP_BAD_FLAGS);
			assert_int_equal(ct_conn_tcp_state(m.conn), CT_TCP_ESTABLISHED);
			ct_stats_get(t, &st);
			assert_int_equal(st.reason[CT_R_TCP_BAD_FLAGS], 1);
		}
		ct_table_free(t);
	}
}

static void
test_verdicts_and_status(void **state)
{
	struct ct_table *t = ct_test_table(16, false, false);
	struct model m;
	struct ct_res r;

	(void)state;
	model_init(&m, t);
	r = send_seg(&m, O, PB_SYN, 0);
	assert_int_equal(r.state, CT_NEW);
	assert_true(r.created);
	assert_int_equal(ct_conn_status(m.conn) & (CT_ST_SEEN_REPLY | CT_ST_ASSURED), 0);
	r = send_seg(&m, O, PB_SYN, 0);		/* retransmitted SYN: still NEW */
	assert_int_equal(r.state, CT_NEW);
	assert_false(r.created);
	r = send_seg(&m, R, PB_SYN | PB_ACK, 0);
	assert_int_equal(r.state, CT_ESTABLISHED);
	assert_int_equal(r.dir, CT_DIR_REPLY);
	assert_int_equal(ct_conn_status(m.conn) & CT_ST_SEEN_REPLY, CT_ST_SEEN_REPLY);
	assert_int_equal(ct_conn_status(m.conn) & CT_ST_ASSURED, 0);
	r = send_seg(&m, O, PB_ACK, 0);
	assert_int_equal(r.state, CT_ESTABLISHED);
	/* ASSURED once the three-way handshake completed */
	assert_int_equal(ct_conn_status(m.conn) & CT_ST_ASSURED, CT_ST_ASSURED);
	assert_int_equal(ct_conn_tcp_state(m.conn), CT_TCP_ESTABLISHED);
	/* a new connection must start with SYN */
	{
		struct pb_spec s = seg_spec(O, PB_ACK, 5, 5);
		struct ct_res q;

		s.sport = 41000;
		q = ct_test_spec(t, &s, m.now);
		assert_int_equal(q.state, CT_INVALID);
		assert_int_equal(q.why, CT_R_TCP_NEW_NOT_SYN);
		s.tcp_flags = PB_SYN | PB_ACK;
		q = ct_test_spec(t, &s, m.now);
		assert_int_equal(q.why, CT_R_TCP_NEW_NOT_SYN);
	}
	ct_table_free(t);
}

/* ---- windows ---- */

struct win_case {
	const char *name;
	uint8_t dir;
	uint8_t flags;
	int32_t seq_off;	/* relative to the model's next seq of dir */
	int32_t ack_off;	/* relative to the model's next seq of !dir */
	uint16_t len;
	enum ct_reason want;
};

/*
 * After the handshake below: the reply side advertised 1000 bytes (in its SYN/ACK, not
 * scaled), so the originator may send up to seq = ISN_O + 1 + 1000 (last valid), and the
 * lower bound of an acceptable segment end is snd.end - rcv.maxwin = ISN_O + 1 - 1000.
 */
static const struct win_case win_cases[] = {
	{ "next seq", O, PB_ACK, 0, 0, 100, CT_R_NONE },
	{ "last valid seq (empty window edge)", O, PB_ACK, 1000, 0, 1, CT_R_NONE },
	{ "one past the last valid seq", O, PB_ACK, 1001, 0, 1, CT_R_TCP_OUT_OF_WINDOW },
	{ "far past", O, PB_ACK, 1 << 20, 0, 1, CT_R_TCP_OUT_OF_WINDOW },
	{ "first valid end (old data)", O, PB_ACK, -1000 - 10, 0, 10, CT_R_NONE },
	{ "one before the first valid end", O, PB_ACK, -1000 - 11, 0, 10,
	  CT_R_TCP_OUT_OF_WINDOW },
	{ "ack of data never sent", R, PB_ACK, 0, 1, 0, CT_R_TCP_OUT_OF_WINDOW },
	{ "ack of everything sent", R, PB_ACK, 0, 0, 0, CT_R_NONE },
	{ "ack of the SYN only", R, PB_ACK, 0, 0, 0, CT_R_NONE },
	{ "ack too old", R, PB_ACK, 0, -70000, 0, CT_R_TCP_OUT_OF_WINDOW },
	{ "ack at the max ack window", R, PB_ACK, 0, -66000, 0, CT_R_NONE },
	{ "rst at next seq", R, PB_RST, 0, 0, 0, CT_R_NONE },
	{ "rst|ack in window", R, PB_RST | PB_ACK, 0, 0, 0, CT_R_NONE },
	{ "rst out of window", R, PB_RST, 10000000, 0, 0, CT_R_TCP_RST_OUT_OF_WINDOW },
	{ "rst one past the window", O, PB_RST, 1001, 0, 0, CT_R_TCP_RST_OUT_OF_WINDOW },
	/* RFC 5961 3.2: in window but not at rcv.nxt passes and closes nothing (this case
	 * used to expect CLOSE: any RST within the window closed the connection) */
	{ "rst at the last valid seq", O, PB_RST, 1000, 0, 0, CT_R_NONE },
	{ "rst one past rcv.nxt", R, PB_RST, 1, 0, 0, CT_R_NONE },
	{ "rst|ack one before rcv.nxt", O, PB_RST | PB_ACK, -1, 0, 0, CT_R_NONE },
	{ "rst a window back", O, PB_RST, -1000, 0, 0, CT_R_NONE },
	{ "rst one before the window", O, PB_RST, -1001, 0, 0, CT_R_TCP_RST_OUT_OF_WINDOW },
	/* empty segments are checked at their own seq (they used to be taken at the edge) */
	{ "empty ack past the window", O, PB_ACK, 1001, 0, 0, CT_R_TCP_OUT_OF_WINDOW },
	{ "empty ack at the window edge", O, PB_ACK, 1000, 0, 0, CT_R_NONE },
	{ "empty ack far past", R, PB_ACK, 1 << 24, 0, 0, CT_R_TCP_OUT_OF_WINDOW },
	{ "empty ack a window back", O, PB_ACK, -1000, 0, 0, CT_R_NONE },
	{ "empty ack before the window", O, PB_ACK, -1001, 0, 0, CT_R_TCP_OUT_OF_WINDOW },
	{ "keepalive (seq - 1)", O, PB_ACK, -1, 0, 0, CT_R_NONE },
};

static void
handshake(struct model *m, uint16_t reply_win)
{
	m->win[R] = reply_win;
	assert_int_not_equal(send_seg(m, O, PB_SYN, 0).state, CT_INVALID);
	assert_int_not_equal(send_seg(m, R, PB_SYN | PB_ACK, 0).state, CT_INVALID);
	assert_int_not_equal(send_seg(m, O, PB_ACK, 0).state, CT_INVALID);
}

static void
test_window_edges(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < CT_DIM(win_cases); i++) {
		const struct win_case *c = &win_cases[i];
		struct ct_table *t = ct_test_table(4, false, false);
		static const uint8_t data[1500];
		struct model m;
		struct pb_spec s;
		struct ct_res r;

		model_init(&m, t);
		handshake(&m, 1000);
		s = seg_spec(c->dir, c->flags, m.nxt[c->dir] + (uint32_t)c->seq_off,
			     (c->flags & PB_ACK) ? m.nxt[!c->dir] + (uint32_t)c->ack_off : 0);
		s.payload = data;
		s.payload_len = c->len;
		s.win = 1000;
		r = ct_test_spec(t, &s, m.now + 1);
		if (r.why != c->want || (c->want == CT_R_NONE) != (r.state != CT_INVALID))
			fail_msg("case '%s': got %s/%s, want %s", c->name, ct_state_str(r.state),
				 ct_reason_id(r.why), ct_reason_id(c->want));
		/* only a RST exactly at rcv.nxt closes (RFC 5961 3.2) */
		if (c->want == CT_R_NONE && (c->flags & PB_RST) && c->seq_off == 0)
			assert_int_equal(ct_conn_tcp_state(m.conn), CT_TCP_CLOSE);
		else
			assert_int_equal(ct_conn_tcp_state(m.conn), CT_TCP_ESTABLISHED);
		ct_table_free(t);
	}
}

/* An empty segment outside the window may not widen it (empty segments used to be checked
 * at the current edge, whatever their seq, and then updated maxwin/maxend). */
static void
test_empty_segment_no_widen(void **state)
{
	struct ct_table *t = ct_test_table(4, false, false);
	static const uint8_t data[10];
	struct model m;
	struct pb_spec s;

	(void)state;
	model_init(&m, t);
	handshake(&m, 1000);
	/* a blind empty ACK from outside, window 65535 at an unrelated seq */
	s = seg_spec(R, PB_ACK, m.nxt[R] + (1u << 24), m.nxt[O]);
	s.win = 65535;
	assert_int_equal(ct_test_spec(t, &s, m.now + 1).why, CT_R_TCP_OUT_OF_WINDOW);
	/* so the originator still may not send beyond the 1000 bytes offered */
	s = seg_spec(O, PB_ACK | PB_PSH, m.nxt[O] + 5000, m.nxt[R]);
	s.payload = data;
	s.payload_len = sizeof(data);
	assert_int_equal(ct_test_spec(t, &s, m.now + 2).why, CT_R_TCP_OUT_OF_WINDOW);
	/* the same ACK at the right seq widens it, as it should */
	s = seg_spec(R, PB_ACK, m.nxt[R], m.nxt[O]);
	s.win = 65535;
	assert_int_equal(ct_test_spec(t, &s, m.now + 3).state, CT_ESTABLISHED);
	s = seg_spec(O, PB_ACK | PB_PSH, m.nxt[O] + 5000, m.nxt[R]);
	s.payload = data;
	s.payload_len = sizeof(data);
	assert_int_equal(ct_test_spec(t, &s, m.now + 4).state, CT_ESTABLISHED);
	ct_table_free(t);
}

static void
test_retransmission(void **state)
{
	struct ct_table *t = ct_test_table(4, false, false);
	struct model m;
	struct ct_res r;
	uint32_t seq;

	(void)state;
	model_init(&m, t);
	handshake(&m, 65535);
	seq = m.nxt[O];
	assert_int_equal(send_seg(&m, O, PB_ACK | PB_PSH, 500).state, CT_ESTABLISHED);
	assert_int_equal(send_seg(&m, O, PB_ACK | PB_PSH, 500).state, CT_ESTABLISHED);
	assert_int_equal(send_seg(&m, R, PB_ACK, 0).state, CT_ESTABLISHED);
	/* the first segment again, after it was acknowledged: a retransmission, valid */
	m.nxt[O] = seq;
	r = send_seg(&m, O, PB_ACK | PB_PSH, 500);
	assert_int_equal(r.state, CT_ESTABLISHED);
	/* a retransmitted SYN/ACK after the handshake (third ACK lost) */
	r = send_seg(&m, R, PB_SYN | PB_ACK, 0);
	assert_int_equal(r.state, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(m.conn), CT_TCP_ESTABLISHED);
	ct_table_free(t);
}

static void
test_window_scaling(void **state)
{
	static const uint8_t ws7[] = { 1, 3, 3, 7 };	/* NOP, window scale 7 */
	static const uint8_t data[100];
	unsigned int both;

	(void)state;
	for (both = 0; both < 2; both++) {
		struct ct_table *t = ct_test_table(4, false, false);
		struct pb_spec s;
		struct ct_res r;

		/* SYN (scale 7 only if both), SYN/ACK scale 7 window 1000 */
		s = seg_spec(O, PB_SYN, ISN_O, 0);
		if (both) {
			s.tcp_opts = ws7;
			s.tcp_opts_len = sizeof(ws7);
		}
		assert_int_equal(ct_test_spec(t, &s, NOW).state, CT_NEW);
		s = seg_spec(R, PB_SYN | PB_ACK, ISN_R, ISN_O + 1);
		s.tcp_opts = ws7;
		s.tcp_opts_len = sizeof(ws7);
		s.win = 1000;
		assert_int_equal(ct_test_spec(t, &s, NOW).state, CT_ESTABLISHED);
		s = seg_spec(O, PB_ACK, ISN_O + 1, ISN_R + 1);
		s.win = 1000;
		assert_int_equal(ct_test_spec(t, &s, NOW).state, CT_ESTABLISHED);
		/* the originator's window scales too: 1000 << 7 when both offered scaling. (A
		 * regression: the scale was cleared at the originator's own SYN, before the
		 * peer's options were known, and a download stalled after 1000 bytes.) */
		s = seg_spec(R, PB_ACK, ISN_R + 1 + 100000, ISN_O + 1);
		s.win = 1000;
		s.payload = data;
		s.payload_len = sizeof(data);
		r = ct_test_spec(t, &s, NOW);
		assert_int_equal(r.state, both ? CT_ESTABLISHED : CT_INVALID);
		/* the reply side's window is now 1000 << 7 = 128000 (if scaling is on) */
		s = seg_spec(R, PB_ACK, ISN_R + 1, ISN_O + 1);
		s.win = 1000;
		assert_int_equal(ct_test_spec(t, &s, NOW).state, CT_ESTABLISHED);
		s = seg_spec(O, PB_ACK, ISN_O + 1 + 100000, ISN_R + 1);
		s.payload = data;
		s.payload_len = sizeof(data);
		r = ct_test_spec(t, &s, NOW);
		if (both) {
			assert_int_equal(r.state, CT_ESTABLISHED);
			/* last valid: ack + (1000 << 7) */
			s.seq = ISN_O + 1 + 128000;
			assert_int_equal(ct_test_spec(t, &s, NOW).state, CT_ESTABLISHED);
			s.seq = ISN_O + 1 + 128001 + 100;
			r = ct_test_spec(t, &s, NOW);
			assert_int_equal(r.why, CT_R_TCP_OUT_OF_WINDOW);
		} else {
			assert_int_equal(r.state, CT_INVALID);
			assert_int_equal(r.why, CT_R_TCP_OUT_OF_WINDOW);
		}
		ct_table_free(t);
	}
}

static void
test_sack(void **state)
{
	static const uint8_t sackperm[] = { 4, 2 };
	uint8_t sack[12] = { 1, 1, 5, 10 };
	static const uint8_t data[100];
	unsigned int k;

	(void)state;
	for (k = 0; k < 2; k++) {
		struct ct_table *t = ct_test_table(4, false, false);
		struct pb_spec s;
		uint32_t l, rr;

		s = seg_spec(O, PB_SYN, ISN_O, 0);
		s.tcp_opts = sackperm;
		s.tcp_opts_len = sizeof(sackperm);
		assert_int_equal(ct_test_spec(t, &s, NOW).state, CT_NEW);
		s = seg_spec(R, PB_SYN | PB_ACK, ISN_R, ISN_O + 1);
		s.tcp_opts = sackperm;
		s.tcp_opts_len = sizeof(sackperm);
		assert_int_equal(ct_test_spec(t, &s, NOW).state, CT_ESTABLISHED);
		s = seg_spec(O, PB_ACK, ISN_O + 1, ISN_R + 1);
		assert_int_equal(ct_test_spec(t, &s, NOW).state, CT_ESTABLISHED);
		/* two data segments, the first lost */
		s = seg_spec(O, PB_ACK, ISN_O + 101, ISN_R + 1);
		s.payload = data;
		s.payload_len = 100;
		assert_int_equal(ct_test_spec(t, &s, NOW).state, CT_ESTABLISHED);
		/* the receiver SACKs [101, 201) (k = 0) or up to a byte never sent (k = 1) */
		l = ISN_O + 101;
		rr = ISN_O + 201 + k;
		sack[4] = l >> 24; sack[5] = l >> 16; sack[6] = l >> 8; sack[7] = (uint8_t)l;
		sack[8] = rr >> 24; sack[9] = rr >> 16; sack[10] = rr >> 8; sack[11] = (uint8_t)rr;
		s = seg_spec(R, PB_ACK, ISN_R + 1, ISN_O + 1);
		s.tcp_opts = sack;
		s.tcp_opts_len = sizeof(sack);
		if (k == 0)
			assert_int_equal(ct_test_spec(t, &s, NOW).state, CT_ESTABLISHED);
		else
			assert_int_equal(ct_test_spec(t, &s, NOW).why, CT_R_TCP_OUT_OF_WINDOW);
		ct_table_free(t);
	}
}

static void
test_simultaneous_open(void **state)
{
	struct ct_table *t = ct_test_table(4, false, false);
	struct model m;

	(void)state;
	model_init(&m, t);
	assert_int_equal(send_seg(&m, O, PB_SYN, 0).state, CT_NEW);
	assert_int_equal(send_seg(&m, R, PB_SYN, 0).state, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(m.conn), CT_TCP_SYN_SENT2);
	assert_int_equal(send_seg(&m, O, PB_SYN | PB_ACK, 0).state, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(m.conn), CT_TCP_SYN_RECV);
	assert_int_equal(send_seg(&m, R, PB_SYN | PB_ACK, 0).state, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(m.conn), CT_TCP_SYN_RECV);
	assert_int_equal(send_seg(&m, O, PB_ACK, 0).state, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(m.conn), CT_TCP_ESTABLISHED);
	assert_true(ct_conn_status(m.conn) & CT_ST_ASSURED);
	assert_int_equal(send_seg(&m, R, PB_ACK | PB_PSH, 10).state, CT_ESTABLISHED);
	ct_table_free(t);
}

static void
test_refused_and_reuse(void **state)
{
	struct ct_table *t = ct_test_table(4, false, false);
	struct model m;
	struct pb_spec s;
	struct ct_res r;

	(void)state;
	model_init(&m, t);
	assert_int_equal(send_seg(&m, O, PB_SYN, 0).state, CT_NEW);
	/* connection refused: RST|ACK seq 0 ack ISN+1 */
	s = seg_spec(R, PB_RST | PB_ACK, 0, ISN_O + 1);
	r = ct_test_spec(t, &s, m.now + 1);
	assert_int_equal(r.state, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(m.conn), CT_TCP_CLOSE);
	/* the port is reused at once: a new SYN reopens it as a new connection */
	s = seg_spec(O, PB_SYN, ISN_O + 5000, 0);
	r = ct_test_spec(t, &s, m.now + 2);
	assert_int_equal(r.state, CT_NEW);
	assert_ptr_equal(r.conn, m.conn);
	assert_int_equal(ct_conn_tcp_state(m.conn), CT_TCP_SYN_SENT);
	assert_int_equal(ct_conn_status(m.conn) & CT_ST_SEEN_REPLY, 0);
	s = seg_spec(R, PB_SYN | PB_ACK, ISN_R, ISN_O + 5001);
	assert_int_equal(ct_test_spec(t, &s, m.now + 3).state, CT_ESTABLISHED);
	assert_int_equal(ct_conn_tcp_state(m.conn), CT_TCP_SYN_RECV);
	/* a RST for the wrong ISN is out of window */
	s = seg_spec(R, PB_RST, ISN_R + 10000000, 0);
	assert_int_equal(ct_test_spec(t, &s, m.now + 4).why, CT_R_TCP_RST_OUT_OF_WINDOW);
	ct_table_free(t);
}

static void
test_liberal(void **state)
{
	unsigned int lib;

	(void)state;
	for (lib = 0; lib < 2; lib++) {
		struct ct_table *t = ct_test_table(4, lib, false);
		struct model m;
		struct ct_res r;

		model_init(&m, t);
		handshake(&m, 1000);
		m.nxt[O] += 5000000;	/* way beyond the window */
		r = send_seg(&m, O, PB_ACK, 10);
		if (lib) {
			assert_int_equal(r.state, CT_ESTABLISHED);
		} else {
			assert_int_equal(r.state, CT_INVALID);
			assert_int_equal(r.why, CT_R_TCP_OUT_OF_WINDOW);
		}
		/* liberal mode still checks flags and transitions */
		r = send_seg(&m, O, PB_SYN | PB_FIN, 0);
		assert_int_equal(r.why, CT_R_TCP_BAD_FLAGS);
		ct_table_free(t);
	}
}

static void
test_loose_pickup(void **state)
{
	unsigned int loose;

	(void)state;
	for (loose = 0; loose < 2; loose++) {
		struct ct_table *t = ct_test_table(4, false, loose);
		struct pb_spec s = seg_spec(O, PB_ACK | PB_PSH, 123456, 654321);
		static const uint8_t data[50];
		struct ct_res r;

		s.payload = data;
		s.payload_len = sizeof(data);
		r = ct_test_spec(t, &s, NOW);
		if (!loose) {
			assert_int_equal(r.state, CT_INVALID);
			assert_int_equal(r.why, CT_R_TCP_NEW_NOT_SYN);
		} else {
			assert_int_equal(r.state, CT_NEW);
			assert_int_equal(ct_conn_tcp_state(r.conn), CT_TCP_ESTABLISHED);
			assert_int_equal(ct_conn_status(r.conn) & CT_ST_ASSURED, 0);
			/* the other side answers: window picked up from both */
			s = seg_spec(R, PB_ACK, 654321, 123456 + 50);
			r = ct_test_spec(t, &s, NOW + 1);
			assert_int_equal(r.state, CT_ESTABLISHED);
			assert_true(ct_conn_status(r.conn) & CT_ST_ASSURED);
			/* a RST still opens nothing, even when loose */
			s = seg_spec(O, PB_RST, 1, 0);
			s.sport = 999;
			assert_int_equal(ct_test_spec(t, &s, NOW).why, CT_R_TCP_NEW_NOT_SYN);
		}
		ct_table_free(t);
	}
}

/*
 * The established fast path (ct_proto_tcp.c tcp_established_fast: a plain ACK in
 * ESTABLISHED, judged on the entry itself) against the full tracker: the same segment with
 * URG added takes the full path and nothing in the window checks looks at URG, so two
 * connections fed the same random segments, one plain, one with URG, must agree on every
 * verdict and on the entry as a snapshot shows it (class, expiry, status, counters). With
 * and without window scaling and SACK (options in the SYNs), with timestamps and SACK
 * blocks on the data, in and out of the window on every bound.
 */
static uint32_t
fp_rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void
fp_opts(uint8_t *o, uint8_t *len, uint32_t kind, uint32_t edge)
{
	*len = 0;
	if (kind == 1 || kind == 2) {
		/* NOP, NOP, timestamps: what Linux sends on every segment */
		static const uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 1, 2, 0, 0, 3, 4 };

		memcpy(o, ts, 12);
		*len = 12;
	}
	if (kind == 2 || kind == 3) {
		/* NOP, NOP, SACK one block ending at edge */
		uint8_t *b = o + *len;

		b[0] = 1, b[1] = 1, b[2] = 5, b[3] = 10;
		b[4] = (uint8_t)((edge - 100) >> 24), b[5] = (uint8_t)((edge - 100) >> 16);
		b[6] = (uint8_t)((edge - 100) >> 8), b[7] = (uint8_t)(edge - 100);
		b[8] = (uint8_t)(edge >> 24), b[9] = (uint8_t)(edge >> 16);
		b[10] = (uint8_t)(edge >> 8), b[11] = (uint8_t)edge;
		*len = (uint8_t)(*len + 12);
	}
}

static void
test_fast_path_equivalence(void **state)
{
	static const uint8_t syn_opts[8] = { 4, 2, 1, 3, 3, 7, 0, 0 };	/* SACK ok, wscale 7 */
	static const uint8_t data[1500];
	unsigned int variant, i, k;
	uint32_t x = 0x2545f491;

	(void)state;
	for (variant = 0; variant < 2; variant++) {
		struct ct_table *t[2];
		struct ct_conn *c[2] = { NULL, NULL };
		uint32_t nxt[2] = { ISN_O, ISN_R };
		uint32_t maxend[2], maxwin[2] = { 65535, 30000 };	/* estimates */
		ct_time_t now = NOW;

		for (k = 0; k < 2; k++) {
			struct pb_spec s = seg_spec(O, PB_SYN, ISN_O, 0);
			struct ct_res r;

			t[k] = ct_test_table(4, false, false);
			s.win = 65535;
			if (variant == 1) {
				s.tcp_opts = syn_opts;
				s.tcp_opts_len = sizeof(syn_opts);
			}
			assert_int_not_equal(ct_test_spec(t[k], &s, now).state, CT_INVALID);
			s = seg_spec(R, PB_SYN | PB_ACK, ISN_R, ISN_O + 1);
			s.win = 30000;
			if (variant == 1) {
				s.tcp_opts = syn_opts;
				s.tcp_opts_len = sizeof(syn_opts);
			}
			assert_int_not_equal(ct_test_spec(t[k], &s, now + 1).state, CT_INVALID);
			s = seg_spec(O, PB_ACK, ISN_O + 1, ISN_R + 1);
			s.win = 65535;
			r = ct_test_spec(t[k], &s, now + 2);
			assert_int_equal(r.state, CT_ESTABLISHED);
			c[k] = r.conn;
		}
		nxt[0] = ISN_O + 1;
		nxt[1] = ISN_R + 1;
		maxend[0] = nxt[1] + 30000;
		maxend[1] = nxt[0] + 65535;
		now += 3;
		for (i = 0; i < 30000; i++) {
			uint8_t dir = fp_rnd(&x) & 1, opts[24], olen;
			uint16_t win;
			uint32_t sel = fp_rnd(&x) % 16, len = fp_rnd(&x) % 1461, seq, ack;
			int32_t off;
			struct ct_res r[2];
			struct ct_conn_info in[2];

			/* mostly in order; now and then a step across one of the four bounds */
			off = sel < 10 ? 0 : sel < 12 ? -(int32_t)(fp_rnd(&x) % 3000) :
			      sel < 14 ? (int32_t)(fp_rnd(&x) % 200000) :
			      (int32_t)(fp_rnd(&x) % 4000000) - 2000000;
			seq = nxt[dir] + (uint32_t)off;
			/* near the bounds as the test estimates them: I (maxend), II (one window
			 * back), IV (66000 back; III is sel 4) */
			if (sel == 15)
				seq = maxend[dir] + fp_rnd(&x) % 5 - 2;
			else if (sel == 9)
				seq = nxt[dir] - len - maxwin[!dir] + fp_rnd(&x) % 5 - 2;
			ack = nxt[!dir] - (sel == 3 ? fp_rnd(&x) % 100000 : 0) +
			      (sel == 4 ? fp_rnd(&x) % 3 : 0);
			if (sel == 2)
				ack = nxt[!dir] - (maxwin[dir] > 66000u ? maxwin[dir] : 66000u) +
				      fp_rnd(&x) % 5 - 2;
			fp_opts(opts, &olen, fp_rnd(&x) % 4, ack + fp_rnd(&x) % 2000);
			win = (uint16_t)fp_rnd(&x);
			now += 10;
			for (k = 0; k < 2; k++) {
				struct pb_spec s = seg_spec(dir, (uint8_t)(PB_ACK | (k ? PB_URG : 0) |
						 ((sel & 1) ? PB_PSH : 0)), seq, ack);

				s.payload = data;
				s.payload_len = (uint16_t)len;
				s.win = win;
				s.tcp_opts = olen ? opts : NULL;
				s.tcp_opts_len = olen;
				r[k] = ct_test_spec(t[k], &s, now);
			}
			if (r[0].state != r[1].state || r[0].why != r[1].why)
				fail_msg("variant %u segment %u (dir %u off %d len %u): fast %s/%s, "
					 "full %s/%s", variant, i, dir, off, len,
					 ct_state_str(r[0].state), ct_reason_id(r[0].why),
					 ct_state_str(r[1].state), ct_reason_id(r[1].why));
			for (k = 0; k < 2; k++) {
				uint32_t cur = ct_conn_id(t[k], c[k]);

				assert_int_equal(ct_snapshot(t[k], &cur, &in[k], 1, now), 1);
			}
			assert_int_equal(in[0].tclass, in[1].tclass);
			assert_int_equal(in[0].expire, in[1].expire);
			assert_int_equal(in[0].status, in[1].status);
			assert_int_equal(in[0].tcp_state, in[1].tcp_state);
			assert_int_equal(in[0].packets[dir], in[1].packets[dir]);
			if (r[0].state != CT_INVALID) {
				uint32_t w = (uint32_t)win << (variant == 1 ? 7 : 0);

				if ((int32_t)(seq + len - nxt[dir]) > 0)
					nxt[dir] = seq + len;
				if ((int32_t)(ack + w - maxend[!dir]) > 0)
					maxend[!dir] = ack + w;
				if (w > maxwin[dir])
					maxwin[dir] = w;
			}
		}
		ct_table_free(t[0]);
		ct_table_free(t[1]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transition_table),
		cmocka_unit_test(test_bad_flags),
		cmocka_unit_test(test_verdicts_and_status),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_empty_segment_no_widen),
		cmocka_unit_test(test_retransmission),
		cmocka_unit_test(test_window_scaling),
		cmocka_unit_test(test_sack),
		cmocka_unit_test(test_simultaneous_open),
		cmocka_unit_test(test_refused_and_reuse),
		cmocka_unit_test(test_liberal),
		cmocka_unit_test(test_loose_pickup),
		cmocka_unit_test(test_fast_path_equivalence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
