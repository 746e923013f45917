/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nat_rss.c - RSS-aware ownership (lib/nat/nat_rss.c): DPDK's software
 * Toeplitz against the Microsoft RSS verification suite, the keys natgw builds (the RETA
 * index blind to the remote endpoint outside, to everything but the source address inside,
 * and an even split), and the port choice on real packets: for 1..16 queues and RETA sizes
 * 64/128/512 a new mapping's replies, from any remote (EIM), land through the NIC's hash on
 * the worker that allocated it, and the owner functions agree with the NIC; exhaustion
 * falls back to ports handed off; preservation loses to steering unless rss_preserve.
 */
#include <errno.h>

#include <rte_random.h>

#include "nat_test.h"

/* Microsoft, "Verifying the RSS Hash Calculation" (the RSS specification's suite) */
static const uint8_t ms_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static const struct {
	uint32_t dst, src;
	uint16_t dport, sport;
	uint32_t h_ip, h_tcp;
} ms_rows[] = {
	{ PB_IP(161, 142, 100, 80), PB_IP(66, 9, 149, 187), 1766, 2794,
	  0x323e8fc2, 0x51ccc178 },
	{ PB_IP(65, 69, 140, 83), PB_IP(199, 92, 111, 2), 4739, 14230,
	  0xd718262a, 0xc626b0ea },
	{ PB_IP(12, 22, 207, 184), PB_IP(24, 19, 198, 95), 38024, 12898,
	  0xd2d0a5de, 0x5c2b394a },
	{ PB_IP(209, 142, 163, 6), PB_IP(38, 27, 205, 30), 2217, 48228,
	  0x82989176, 0xafc7327f },
	{ PB_IP(202, 188, 127, 2), PB_IP(153, 39, 163, 191), 1303, 44251,
	  0x5d1809c5, 0x10e828a2 },
};

static void
test_toeplitz_vectors(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < NT_DIM(ms_rows); i++) {
		assert_int_equal(nat_rss_softrss(ms_key, ms_rows[i].src, ms_rows[i].dst, 0, 0,
						 false), ms_rows[i].h_ip);
		assert_int_equal(nat_rss_softrss(ms_key, ms_rows[i].src, ms_rows[i].dst,
						 htons(ms_rows[i].sport), htons(ms_rows[i].dport),
						 true), ms_rows[i].h_tcp);
	}
}

static const unsigned int reta_sizes[] = { 64, 128, 512, 2048 };

static struct nat_rss rss;	/* large: not on the stack */

/* the app's layout (app/main.c): queue q of port p is polled by worker (q + p) % n */
static unsigned int rss_key_len = 40;	/* 52: the i40e/ice key size */

static void
rss_setup(struct nat_rss *r, unsigned int n_workers, unsigned int n_queues,
	  unsigned int reta, const uint8_t *key)
{
	uint16_t woq[NAT_RSS_MAX_WORKERS];
	unsigned int role, q;

	for (role = NAT_RSS_INSIDE; role <= NAT_RSS_OUTSIDE; role++) {
		for (q = 0; q < n_queues; q++)
			woq[q] = (uint16_t)((q + role) % n_workers);
		assert_int_equal(nat_rss_port_init(&r->port[role], role, key, rss_key_len, reta,
						   n_queues, woq, n_workers), 0);
	}
}

static uint32_t
rnd32(void)
{
	return (uint32_t)rte_rand();
}

/* The keys: the RETA index of a reply ignores the remote (outside), of an outbound packet
 * everything but the source (inside); the per-byte tables agree with rte_softrss; the split
 * is even (every entry gets 65536 / reta ports; 2^M consecutive hosts fill the RETA). */
static void
test_rss_keys(void **state)
{
	static uint32_t count[NAT_RSS_RETA_MAX];
	unsigned int k, i, j;

	(void)state;
	/* bad arguments refused */
	assert_int_equal(nat_rss_port_init(&rss.port[0], NAT_RSS_INSIDE, NULL, 40, 100, 2,
					   (const uint16_t[]){ 0, 1 }, 2), -EINVAL);
	assert_int_equal(nat_rss_port_init(&rss.port[0], NAT_RSS_INSIDE, NULL, 41, 64, 2,
					   (const uint16_t[]){ 0, 1 }, 2), -EINVAL);
	assert_int_equal(nat_rss_port_init(&rss.port[0], NAT_RSS_INSIDE, NULL, 40, 64, 2,
					   (const uint16_t[]){ 0, 2 }, 2), -EINVAL);
	for (k = 0; k < NT_DIM(reta_sizes); k++) {
		unsigned int reta = reta_sizes[k], mask = reta - 1;
		const struct nat_rss_port *in = &rss.port[NAT_RSS_INSIDE];
		const struct nat_rss_port *out = &rss.port[NAT_RSS_OUTSIDE];

		/* from the spec's key: what natgw forces is on top of it; a 52-byte key too */
		rss_key_len = k == 1 ? 52 : 40;
		rss_setup(&rss, 16, 16, reta, k == 0 ? ms_key : NULL);
		rss_key_len = 40;
		assert_int_equal(out->key_len, k == 1 ? 52 : 40);
		if (k == 0)	/* bits natgw does not force are the given key's */
			assert_memory_equal(out->key + 20, ms_key + 20, 20);
		for (i = 0; i < 2000; i++) {
			uint32_t a = rnd32(), b = rnd32(), c = rnd32(), d = rnd32();
			uint16_t p1 = (uint16_t)rnd32(), p2 = (uint16_t)rnd32();
			uint16_t p3 = (uint16_t)rnd32(), p4 = (uint16_t)rnd32();
			uint32_t h;

			/* outside: remote a:p1 or c:p3 to our b:p2 */
			h = nat_rss_softrss(out->key, a, b, p1, p2, true);
			assert_int_equal(h & mask,
					 nat_rss_softrss(out->key, c, b, p3, p2, true) & mask);
			assert_int_equal(nat_rss_reta_worker(out, h),
					 nat_rss_outside_worker(out, b, p2));
			/* addresses-only hash (ICMP, fragments): as port 0 */
			assert_int_equal(nat_rss_reta_worker(out, nat_rss_softrss(out->key, a, b, 0,
									      0, false)),
					 nat_rss_outside_worker(out, b, 0));
			/* inside: host a to c:p3 from p1, or to d:p4 from p2, or ICMP */
			h = nat_rss_softrss(in->key, a, c, p1, p3, true);
			assert_int_equal(h & mask,
					 nat_rss_softrss(in->key, a, d, p2, p4, true) & mask);
			assert_int_equal(h & mask,
					 nat_rss_softrss(in->key, a, d, 0, 0, false) & mask);
			assert_int_equal(nat_rss_reta_worker(in, h), nat_rss_inside_worker(in, a));
		}
		/* even split of one outside address' ports over the RETA */
		memset(count, 0, sizeof(count));
		for (i = 0; i < 65536; i++)
			count[nat_rss_softrss(out->key, R_1, N_1, htons(53),
					      htons((uint16_t)i), true) & mask]++;
		for (j = 0; j < reta; j++)
			assert_int_equal(count[j], 65536 / reta);
		/* 2^M consecutive inside hosts: each RETA entry once */
		memset(count, 0, sizeof(count));
		for (i = 0; i < reta; i++)
			count[nat_rss_softrss(in->key, htonl(0x0a000000u + 0x1000u * reta + i),
					      R_1, 0, 0, false) & mask]++;
		for (j = 0; j < reta; j++)
			assert_int_equal(count[j], 1);
		/* RETA: entry i -> queue bitreverse(i) % n, queue q outside polled by worker
		 * (q + 1) % n */
		for (j = 0; j < reta; j++) {
			unsigned int rev = 0, b;

			for (b = 0; (1u << b) < reta; b++)
				rev = rev << 1 | ((j >> b) & 1u);
			assert_int_equal(out->queue[j], rev % 16);
			assert_int_equal(out->worker[j], (rev % 16 + 1) % 16);
		}
	}
	/* spread: n = 2..16 queues, every 64-port word has 64 / n ports of each worker, every
	 * aligned block of n inside hosts one host on each */
	for (k = 0; k < NT_DIM(reta_sizes); k++) {
		unsigned int n;

		for (n = 2; n <= 16; n *= 2) {
			const struct nat_rss_port *in = &rss.port[NAT_RSS_INSIDE];
			const struct nat_rss_port *out = &rss.port[NAT_RSS_OUTSIDE];

			rss_setup(&rss, n, n, reta_sizes[k], NULL);
			for (i = 0; i < 65536; i += 64) {
				memset(count, 0, sizeof(count));
				for (j = 0; j < 64; j++)
					count[nat_rss_outside_worker(out, N_2,
								     htons((uint16_t)(i + j)))]++;
				for (j = 0; j < n; j++)
					assert_int_equal(count[j], 64 / n);
			}
			for (i = 0; i < 4096; i += n) {
				memset(count, 0, sizeof(count));
				for (j = 0; j < n; j++)
					count[nat_rss_inside_worker(in, htonl(0xc0a80000u + i + j))]++;
				for (j = 0; j < n; j++)
					assert_int_equal(count[j], 1);
			}
		}
	}
}

#define MAX_W 16

struct rss_gw {
	unsigned int n;
	struct nat_config cfg;
	struct nat_port_table *pt;
	struct nt_env e[MAX_W];
};

static void
rss_gw_start(struct rss_gw *g, unsigned int n, unsigned int reta, uint16_t lo, uint16_t hi,
	     bool preserve_wins)
{
	unsigned int w;

	memset(g, 0, sizeof(*g));
	rss_setup(&rss, n, n, reta, NULL);
	nt_config(&g->cfg, 1);
	g->cfg.port_lo[0] = lo;
	g->cfg.port_hi[0] = hi;
	g->cfg.n_workers = n;
	g->cfg.rss = &rss;
	g->cfg.rss_preserve = preserve_wins;
	g->n = n;
	g->pt = nat_port_table_create(&g->cfg, true);
	assert_non_null(g->pt);
	for (w = 0; w < n; w++)
		nt_start_pt(&g->e[w], &g->cfg, w, 4096, NULL, 0, g->pt);
}

static void
rss_gw_stop(struct rss_gw *g)
{
	unsigned int w;

	for (w = 0; w < g->n; w++)
		nt_stop(&g->e[w]);
	nat_port_table_free(g->pt);
}

/* the owner functions on a frame's bytes, as the app's dispatch calls them */
static uint32_t
owner_of(const struct rss_gw *g, const struct pb_spec *s, bool from_inside)
{
	uint8_t f[PB_MAX];
	unsigned int len = pb_build(f, s);
	struct ct_pkt p;

	assert_int_equal(ct_parse_ipv4(f, len, PB_ETH_LEN, false, &p), CT_R_NONE);
	return from_inside ? nat_inside_owner(&g->cfg, NULL, &p) :
			     nat_inbound_owner(&g->cfg, NULL, g->pt, &p);
}

/* the worker whose queue the NIC gives a frame, from its bytes and rte_softrss */
static unsigned int
nic_worker(const struct nat_rss_port *rp, const uint8_t *f)
{
	return nat_rss_reta_worker(rp, nat_rss_softrss(rp->key, pb_ip_src(f), pb_ip_dst(f),
						       htons(pb_sport(f)), htons(pb_dport(f)),
						       true));
}

/* an inside host the NIC (and so nat_host_owner) gives worker w: the i-th one found */
static uint32_t
host_of(const struct rss_gw *g, unsigned int w, unsigned int i)
{
	uint32_t h;
	unsigned int a;

	for (a = 1;; a++) {
		h = htonl(0x0a010000u + a);
		if (nat_host_owner(&g->cfg, h) == w && i-- == 0)
			return h;
	}
}

/* For 1..16 queues and RETA 64/128/512: mappings made by each worker (UDP and TCP, real
 * packets) get ports whose replies, from the first remote and from others (EIM), the NIC
 * hashes to that worker; the dispatch agrees (inside: the host's queue; outside: the
 * holder); the replies translate back on that worker; an unsolicited packet to a free port
 * is owned where the NIC put it. */
static void
test_rss_port_choice(void **state)
{
	unsigned int n, k, w, i;

	(void)state;
	for (n = 1; n <= MAX_W; n++) {
		for (k = 0; k < 3; k++) {
			struct rss_gw g;
			const struct nat_rss_port *in = &rss.port[NAT_RSS_INSIDE];
			const struct nat_rss_port *out = &rss.port[NAT_RSS_OUTSIDE];
			unsigned int preserved = 0, made = 0;

			rss_gw_start(&g, n, reta_sizes[k], 1024, 65535, false);
			for (w = 0; w < n; w++) {
				for (i = 0; i < 6; i++) {
					uint32_t h = host_of(&g, w, i / 2), oa;
					uint16_t sp = (uint16_t)(20000 + 7 * i + 131 * w), op;
					bool tcp = i & 1;
					struct pb_spec s = tcp ? nt_tcp(h, sp, R_1, 80, PB_SYN) :
								 nt_udp(h, sp, R_1, 53);
					uint8_t f[PB_MAX];
					struct nt_res r;

					/* inside: the NIC and the dispatch both say w */
					pb_build(f, &s);
					assert_int_equal(nic_worker(in, f), w);
					assert_int_equal(owner_of(&g, &s, true), w);
					nt_spec(&g.e[w], &s, true, &r);
					nt_assert_ok(&r);
					oa = pb_ip_src(r.out);
					op = pb_sport(r.out);
					assert_int_equal(oa, N_1);
					preserved += op == sp;
					made++;
					/* the reply, and a packet from another remote (EIM) */
					s = tcp ? nt_tcp(R_1, 80, oa, op, PB_SYN | PB_ACK) :
						  nt_udp(R_1, 53, oa, op);
					pb_build(f, &s);
					assert_int_equal(nic_worker(out, f), w);
					assert_int_equal(owner_of(&g, &s, false), w);
					s.ack = 1001;
					nt_spec(&g.e[w], &s, false, &r);
					nt_assert_ok(&r);
					assert_int_equal(r.dir, CT_DIR_REPLY);
					assert_int_equal(pb_ip_dst(r.out), h);
					assert_int_equal(pb_dport(r.out), sp);
					s = nt_udp(R_2, 4444, oa, op);
					s.proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
					pb_build(f, &s);
					assert_int_equal(nic_worker(out, f), w);
					assert_int_equal(owner_of(&g, &s, false), w);
				}
			}
			/* preserved only when steered: about 1 / n of them, all when n = 1 */
			if (n == 1)
				assert_int_equal(preserved, made);
			/* a free port: owned by the worker the NIC gives it to */
			for (i = 0; i < 64; i++) {
				uint16_t port = (uint16_t)(30000 + 97 * i);
				struct pb_spec s = nt_udp(R_2, 53, N_1, port);
				uint8_t f[PB_MAX];

				if (nat_port_table_owner(g.pt, IPPROTO_UDP, N_1, port) !=
				    NAT_OWNER_UNKNOWN)
					continue;
				pb_build(f, &s);
				assert_int_equal(owner_of(&g, &s, false), nic_worker(out, f));
			}
			rss_gw_stop(&g);
		}
	}
}

/* A small range: worker 0 first gets every port steered to it, then the others (replies
 * handed off to it: the holder still owns and translates them), then PORTS_EXHAUSTED. */
static void
test_rss_exhausted(void **state)
{
	const uint16_t lo = 40000, hi = 40007;
	struct rss_gw g;
	const struct nat_rss_port *out;
	unsigned int steered = 0, i, n_ports = hi - lo + 1;
	uint16_t got[16];

	(void)state;
	rss_gw_start(&g, 4, 128, lo, hi, false);
	out = &rss.port[NAT_RSS_OUTSIDE];
	for (i = lo; i <= hi; i++)
		steered += nat_rss_outside_worker(out, N_1, htons((uint16_t)i)) == 0;
	assert_true(steered >= 1 && steered < n_ports);
	for (i = 0; i < n_ports; i++) {
		uint32_t h = host_of(&g, 0, i);
		struct pb_spec s;
		struct nt_res r;

		got[i] = nt_udp_out_replied(&g.e[0], h, 5000, R_1, 53, NULL);
		assert_true(got[i] >= lo && got[i] <= hi);
		/* steered first, then the rest */
		assert_int_equal(nat_rss_outside_worker(out, N_1, htons(got[i])) == 0,
				 i < steered);
		/* wherever the NIC puts the reply, the dispatch sends it to the holder */
		s = nt_udp(R_1, 53, N_1, got[i]);
		assert_int_equal(owner_of(&g, &s, false), 0);
		(void)r;
	}
	{
		struct pb_spec s = nt_udp(host_of(&g, 0, n_ports), 5000, R_1, 53);
		struct nt_res r;

		nt_spec(&g.e[0], &s, true, &r);
		assert_null(r.conn);
		assert_int_equal(r.nat_why, NAT_R_PORTS_EXHAUSTED);
	}
	rss_gw_stop(&g);
}

/* Preservation against steering (nat.h rss_preserve): by default an inside port is kept
 * only when it steers to the allocating worker; with rss_preserve it is kept when free,
 * and its replies still reach the holder through the dispatch (handoff). */
static void
test_rss_preserve(void **state)
{
	unsigned int mode;

	(void)state;
	for (mode = 0; mode < 2; mode++) {
		struct rss_gw g;
		const struct nat_rss_port *out;
		uint16_t p_other = 0, p_mine = 0, port, op;
		uint32_t h;
		struct pb_spec s;

		rss_gw_start(&g, 4, 512, 1024, 65535, mode == 1);
		out = &rss.port[NAT_RSS_OUTSIDE];
		for (port = 33000; p_other == 0 || p_mine == 0; port++) {
			unsigned int wk = nat_rss_outside_worker(out, N_1, htons(port));

			if (wk == 2 && p_mine == 0)
				p_mine = port;
			else if (wk != 2 && p_other == 0)
				p_other = port;
		}
		h = host_of(&g, 2, 0);
		/* steers to worker 2: preserved either way */
		op = nt_udp_out_replied(&g.e[2], h, p_mine, R_1, 53, NULL);
		assert_int_equal(op, p_mine);
		/* steers elsewhere: steering wins (mode 0) or preservation does (mode 1) */
		op = nt_udp_out_replied(&g.e[2], h, p_other, R_1, 53, NULL);
		if (mode == 0) {
			assert_int_not_equal(op, p_other);
			assert_int_equal(nat_rss_outside_worker(out, N_1, htons(op)), 2);
		} else {
			assert_int_equal(op, p_other);
			assert_int_not_equal(nat_rss_outside_worker(out, N_1, htons(op)), 2);
		}
		s = nt_udp(R_1, 53, N_1, op);
		assert_int_equal(owner_of(&g, &s, false), 2);
		/* helpers' reservations follow the same rule */
		port = (uint16_t)nat_port_reserve(g.e[2].nc, IPPROTO_TCP, N_1, p_other);
		if (mode == 0)
			assert_int_equal(nat_rss_outside_worker(out, N_1, htons(port)), 2);
		else
			assert_int_equal(port, p_other);
		nat_port_reserved_put(g.e[2].nc, IPPROTO_TCP, N_1, port);
		rss_gw_stop(&g);
	}
}

/* Without RSS (cfg.rss NULL) nothing changes: the inside port is preserved whatever the
 * worker, as before. */
static void
test_rss_off(void **state)
{
	struct nt_gw g;
	struct nat_config cfg;
	unsigned int w;

	(void)state;
	nt_config(&cfg, 1);
	nt_gw_start(&g, &cfg, 4, 256, NULL, 0);
	for (w = 0; w < 4; w++)
		assert_int_equal(nt_udp_out(&g.e[w], H_A + htonl(w), (uint16_t)(40000 + w), R_1,
					    53, NULL), 40000 + w);
	nt_gw_stop(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_toeplitz_vectors),
		cmocka_unit_test(test_rss_keys),
		cmocka_unit_test(test_rss_port_choice),
		cmocka_unit_test(test_rss_exhausted),
		cmocka_unit_test(test_rss_preserve),
		cmocka_unit_test(test_rss_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
