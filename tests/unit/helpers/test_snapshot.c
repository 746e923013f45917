/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_snapshot.c - save and restore of a worker's whole state through the libraries'
 * export/import functions (ct_snapshot.c, nat_snapshot.c, helper_snapshot.c), as
 * app/gw_snapshot.c drives them: a gateway with an FTP control connection whose PORT was
 * rewritten to another length (sequence adjustment, a reserved outside port, a pending
 * expectation), a plain TCP connection with window tracking on and a UDP flow is exported,
 * imported into a fresh gateway, and the same continuation packets are sent to both: every
 * output byte must be the same as the unbroken gateway's (seq/ack adjusted, translated,
 * in-window data accepted, out-of-window refused, the expected data connection created
 * RELATED), the restored outside ports must be held (a new mapping cannot take them), and
 * timeouts must be the time left. Malformed records are refused.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_errno.h>

#include "helper_test.h"

#define SN_MAX 64

struct sn_file {
	unsigned int nc, nm, ne;
	struct ct_conn_rec c[SN_MAX];
	uint32_t c_id[SN_MAX];		/* conntrack id at export */
	uint32_t c_map[SN_MAX];		/* mapping handle at export */
	uint8_t c_flags[SN_MAX];
	bool c_has_h[SN_MAX];
	struct helper_conn_rec h[SN_MAX];
	struct nat_map_rec m[SN_MAX];
	uint32_t m_h[SN_MAX];		/* handle at export */
	struct helper_expect_rec e[SN_MAX];
};

static void
sn_export(struct ht_env *e, struct sn_file *f)
{
	uint32_t id, h;

	memset(f, 0, sizeof(*f));
	for (h = 1; h <= nat_map_capacity(e->nc); h++)
		if (nat_map_export(e->nc, h, &f->m[f->nm]) == 0)
			f->m_h[f->nm++] = h;
	for (id = 0; id < ct_table_capacity(e->ct); id++) {
		if (ct_conn_export(e->ct, id, e->now, &f->c[f->nc]) != 0)
			continue;
		f->c_id[f->nc] = id;
		nat_conn_export(ct_conn_by_id(e->ct, id), &f->c_map[f->nc], &f->c_flags[f->nc]);
		f->c_has_h[f->nc] = helper_conn_export(e->hc, ct_conn_by_id(e->ct, id),
						       &f->h[f->nc]) == 0;
		f->nc++;
	}
	f->ne = helper_expect_export(e->hc, f->e, SN_MAX, e->now);
}

static void
sn_import(struct ht_env *e, const struct sn_file *f)
{
	struct ct_conn *conn[SN_MAX];
	uint32_t newh[SN_MAX];
	unsigned int i, k;

	for (i = 0; i < f->nm; i++) {
		newh[i] = nat_map_import(e->nc, &f->m[i]);
		assert_int_not_equal(newh[i], 0);
	}
	for (i = 0; i < f->nc; i++) {
		enum ct_reason why;
		uint32_t h = 0;

		conn[i] = ct_conn_import(e->ct, &f->c[i], e->now, &why);
		assert_non_null(conn[i]);
		for (k = 0; k < f->nm; k++)
			if (f->m_h[k] == f->c_map[i])
				h = newh[k];
		assert_true(f->c_map[i] == 0 || h != 0);
		assert_int_equal(nat_conn_import(e->nc, conn[i], h, f->c_flags[i]), 0);
		if (f->c_has_h[i])
			assert_int_equal(helper_conn_import(e->hc, conn[i], &f->h[i]), 0);
	}
	for (i = 0; i < f->nc; i++)
		for (k = 0; k < f->nc; k++)
			if (f->c[i].master == f->c_id[k] + 1)
				ct_set_related(e->ct, conn[i], conn[k]);
	for (i = 0; i < f->ne; i++)
		for (k = 0; k < f->nc; k++)
			if (f->e[i].master == f->c_id[k])
				assert_int_equal(helper_expect_import(e->hc, conn[k], &f->e[i],
								      e->now), 0);
	for (i = 0; i < f->nm; i++)
		nat_mapping_release(e->nc, newh[i]);
}

/* a frame through both gateways: the outputs must be the same bytes */
static void
both(struct ht_env *a, struct ht_env *b, const struct pb_spec *s, bool inside,
     struct ht_res *ra, struct ht_res *rb)
{
	ht_spec(a, s, inside, ra);
	ht_spec(b, s, inside, rb);
	assert_int_equal(ra->state, rb->state);
	assert_int_equal(ra->len, rb->len);
	assert_memory_equal(ra->out, rb->out, ra->len);
}

static void
tcp_open(struct ht_env *e, uint32_t c, uint16_t cport, uint32_t srv, uint16_t sport,
	 struct ht_res *r)
{
	struct pb_spec s = ht_tcp(c, cport, srv, sport, PB_SYN, 1000, 0, NULL);

	ht_spec(e, &s, true, r);
	assert_non_null(r->conn);
	s = ht_tcp(srv, sport, N_2, ntohs(ct_conn_tuple(r->conn, CT_DIR_REPLY)->dport),
		   PB_SYN | PB_ACK, 5000, 1001, NULL);
	ht_spec(e, &s, false, r);
	assert_int_equal(r->state, CT_ESTABLISHED);
	s = ht_tcp(c, cport, srv, sport, PB_ACK, 1001, 5001, NULL);
	ht_spec(e, &s, true, r);
	assert_int_equal(r->state, CT_ESTABLISHED);
}

static void
test_round_trip(void **state)
{
	static struct sn_file f;
	struct ht_env a, b;
	struct ht_res r, rb;
	struct pb_spec s;
	struct ct_conn_info info[SN_MAX];
	uint32_t cursor = 0;
	unsigned int i, n;
	uint16_t resv, out_tcp, out_udp;	/* outside ports: the FTP reservation is random
						 * in 40000-40009, so H_B's may not be kept */

	(void)state;
	ht_start(&a, NULL, 40000, 40009);
	/* FTP control H_A:40001 -> R_1:21, a PORT rewritten to a shorter text */
	tcp_open(&a, H_A, 40001, R_1, 21, &r);
	s = ht_tcp(R_1, 21, N_2, 40001, PB_PSH | PB_ACK, 5001, 1001, "220 ready\r\n");
	ht_spec(&a, &s, false, &r);
	s = ht_tcp(H_A, 40001, R_1, 21, PB_PSH | PB_ACK, 1001, 5012,
		   "PORT 192,168,1,10,4,1\r\n");
	ht_spec(&a, &s, true, &r);
	assert_int_equal(helper_expect_count(a.hc), 1);
	/* the reserved port, from the rewritten text "PORT 203,0,113,2,p1,p2\r\n" */
	{
		unsigned int plen, p1, p2;
		const uint8_t *pl = ht_payload(&r, &plen);
		char txt[64];

		assert_true(plen < sizeof(txt));
		memcpy(txt, pl, plen);
		txt[plen] = '\0';
		assert_int_equal(sscanf(txt, "PORT 203,0,113,2,%u,%u", &p1, &p2), 2);
		resv = (uint16_t)(p1 * 256 + p2);
		assert_true(resv >= 40000 && resv <= 40009 && resv != 40001);
	}
	/* a plain TCP connection, window tracking on */
	tcp_open(&a, H_B, 40005, R_2, 80, &r);
	out_tcp = ntohs(ct_conn_tuple(r.conn, CT_DIR_REPLY)->dport);
	s = ht_tcp(H_B, 40005, R_2, 80, PB_PSH | PB_ACK, 1001, 5001, "GET / HTTP/1.0\r\n\r\n");
	ht_spec(&a, &s, true, &r);
	assert_int_equal(r.state, CT_ESTABLISHED);
	/* UDP, answered */
	s = (struct pb_spec){ .src = H_B, .dst = R_1, .sport = 40007, .dport = 53,
			      .proto = IPPROTO_UDP, .payload = "q", .payload_len = 1 };
	ht_spec(&a, &s, true, &r);
	out_udp = ntohs(ct_conn_tuple(r.conn, CT_DIR_REPLY)->dport);
	s = (struct pb_spec){ .src = R_1, .dst = N_2, .sport = 53, .dport = out_udp,
			      .proto = IPPROTO_UDP, .payload = "a", .payload_len = 1 };
	ht_spec(&a, &s, false, &r);
	assert_int_equal(r.state, CT_ESTABLISHED);

	sn_export(&a, &f);
	assert_int_equal(f.nc, 3);
	assert_int_equal(f.nm, 3);
	assert_int_equal(f.ne, 1);

	/* a fresh gateway, 100 s later on another clock */
	ht_start(&b, NULL, 40000, 40009);
	b.now = 7 * a.now + 100 * HT_SEC;
	sn_import(&b, &f);
	assert_int_equal(ht_ports_in_use(&b), ht_ports_in_use(&a));
	assert_int_equal(helper_expect_count(b.hc), 1);
	/* timeouts are the time left */
	n = ct_snapshot(b.ct, &cursor, info, SN_MAX, b.now);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		unsigned int k;
		bool found = false;

		for (k = 0; k < f.nc; k++)
			if (ct_tuple_equal(&info[i].tuple[0], &f.c[k].tuple[0])) {
				assert_int_equal(info[i].expire, b.now + f.c[k].expire_in);
				assert_int_equal(info[i].tcp_state, f.c[k].tcp_state);
				assert_true(info[i].accounting && f.c[k].packets[0] > 0);
				assert_int_equal(info[i].packets[0], f.c[k].packets[0]);
				assert_int_equal(info[i].bytes[1], f.c[k].bytes[1]);
				found = true;
			}
		assert_true(found);
	}
	a.now += 1 * HT_SEC;
	b.now += 1 * HT_SEC;

	/* FTP: the client's next command (seq shifted by the rewrite), the server's answer
	 * (ack shifted back): the same bytes from both gateways */
	s = ht_tcp(H_A, 40001, R_1, 21, PB_PSH | PB_ACK, 1024, 5012, "LIST\r\n");
	both(&a, &b, &s, true, &r, &rb);
	assert_int_equal(r.state, CT_ESTABLISHED);
	assert_int_not_equal(pb_tcp_seq(rb.out), 1024);	/* adjusted */
	s = ht_tcp(R_1, 21, N_2, 40001, PB_PSH | PB_ACK, 5012, pb_tcp_seq(r.out) + 6,
		   "150 ok\r\n");
	both(&a, &b, &s, false, &r, &rb);
	assert_int_equal(pb_tcp_ack(rb.out), 1030);
	/* the announced data connection: RELATED, to H_A:1025 */
	s = ht_tcp(R_1, 20, N_2, resv, PB_SYN, 9000, 0, NULL);
	both(&a, &b, &s, false, &r, &rb);
	assert_true(rb.related_hit);
	assert_int_equal(rb.state, CT_RELATED);
	assert_int_equal(pb_ip_dst(rb.out), H_A);
	assert_int_equal(pb_dport(rb.out), 1025);
	/* TCP: in-window data and its answer pass; a segment far out of the window does not */
	s = ht_tcp(H_B, 40005, R_2, 80, PB_PSH | PB_ACK, 1019, 5001, "more");
	both(&a, &b, &s, true, &r, &rb);
	assert_int_equal(rb.state, CT_ESTABLISHED);
	s = ht_tcp(R_2, 80, N_2, out_tcp, PB_PSH | PB_ACK, 5001, 1023, "HTTP/1.0 200 OK\r\n");
	both(&a, &b, &s, false, &r, &rb);
	assert_int_equal(rb.state, CT_ESTABLISHED);
	assert_int_equal(pb_ip_dst(rb.out), H_B);
	s = ht_tcp(H_B, 40005, R_2, 80, PB_PSH | PB_ACK, 1023 + 100000000, 5018, "x");
	both(&a, &b, &s, true, &r, &rb);
	assert_int_equal(rb.state, CT_INVALID);
	/* UDP: the reply flow still maps back */
	s = (struct pb_spec){ .src = R_1, .dst = N_2, .sport = 53, .dport = out_udp,
			      .proto = IPPROTO_UDP, .payload = "b", .payload_len = 1 };
	both(&a, &b, &s, false, &r, &rb);
	assert_int_equal(pb_ip_dst(rb.out), H_B);
	assert_int_equal(pb_dport(rb.out), 40007);
	/* the restored TCP ports are held: H_A's new flow from H_B's outside port cannot keep
	 * its port, nor take the control connection's or the reserved one */
	s = ht_tcp(H_A, out_tcp, R_2, 443, PB_SYN, 1, 0, NULL);
	ht_spec(&b, &s, true, &rb);
	assert_non_null(rb.conn);
	assert_int_not_equal(pb_sport(rb.out), out_tcp);
	assert_int_not_equal(pb_sport(rb.out), 40001);
	assert_int_not_equal(pb_sport(rb.out), resv);
	ht_stop(&a);
	ht_stop(&b);
}

/* records that do not make sense, or whose port is taken, are refused */
static void
test_refused(void **state)
{
	static struct sn_file f;
	struct ht_env a;
	struct ht_res r;
	struct pb_spec s;
	struct ct_conn_rec cr;
	struct nat_map_rec mr;
	enum ct_reason why;

	(void)state;
	ht_start(&a, NULL, 40000, 40009);
	s = (struct pb_spec){ .src = H_B, .dst = R_1, .sport = 40007, .dport = 53,
			      .proto = IPPROTO_UDP, .payload = "q", .payload_len = 1 };
	ht_spec(&a, &s, true, &r);
	sn_export(&a, &f);
	assert_int_equal(f.nc, 1);
	assert_int_equal(f.nm, 1);
	/* the same mapping again: its port and its inside key are taken */
	assert_int_equal(nat_map_import(a.nc, &f.m[0]), 0);
	assert_int_equal(rte_errno, EEXIST);
	/* the same connection again: the tuples are in use */
	assert_null(ct_conn_import(a.ct, &f.c[0], a.now, &why));
	assert_int_equal(why, CT_R_HASH_FULL);
	/* malformed: class, state, family, no time left, TCP in a UDP class */
	cr = f.c[0];
	cr.tclass = CT_TC_MAX;
	assert_null(ct_conn_import(a.ct, &cr, a.now, &why));
	assert_int_equal(why, CT_R_NONE);
	cr = f.c[0];
	cr.tcp_state = CT_TCP_MAX;
	assert_null(ct_conn_import(a.ct, &cr, a.now, &why));
	cr = f.c[0];
	cr.tuple[0].family = CT_FAMILY_IPV6;
	assert_null(ct_conn_import(a.ct, &cr, a.now, &why));
	cr = f.c[0];
	cr.expire_in = 0;
	assert_null(ct_conn_import(a.ct, &cr, a.now, &why));
	cr = f.c[0];
	cr.tuple[0].proto = cr.tuple[1].proto = IPPROTO_TCP;
	assert_null(ct_conn_import(a.ct, &cr, a.now, &why));
	/* a mapping to an address not in the pool, or a port outside its range */
	mr = f.m[0];
	mr.in_port = htons(1);
	mr.out_addr = R_2;
	assert_int_equal(nat_map_import(a.nc, &mr), 0);
	assert_int_equal(rte_errno, EINVAL);
	mr = f.m[0];
	mr.in_port = htons(2);
	mr.out_port = htons(30000);
	assert_int_equal(nat_map_import(a.nc, &mr), 0);
	/* a connection given a mapping handle that is no mapping */
	cr = f.c[0];
	cr.tuple[0].sport = htons(50000);
	cr.tuple[1].dport = htons(50000);
	{
		struct ct_conn *c = ct_conn_import(a.ct, &cr, a.now, &why);

		assert_non_null(c);
		assert_int_equal(nat_conn_import(a.nc, c, 999, NAT_CONN_COUNTED), -EINVAL);
		ct_delete(a.ct, c);
	}
	ht_stop(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
