/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nat_limits.c - what keeps one inside host (or a flood of spoofed ones) from starving
 * the others (RFC 6888 REQ-4/5), and the shared port table under concurrent workers, on
 * real packets:
 *  - per-host outside ports (RFC 6888 REQ-4) with the default (a quarter of the range) and
 *    a configured limit: the replayed case, ports 1024-1100, host 1 opening 200 UDP flows
 *    no longer leaves host 2 with 0 of 10;
 *  - per-host connections (RFC 6888 REQ-5), outbound and inbound in budgets of their own,
 *    the host's own oldest unassured connection evicted at a limit;
 *  - a table full of never-replied connections (inside SYN flood from spoofed sources):
 *    a new connection evicts one (netfilter early_drop), ASSURED ones are never evicted;
 *  - the port table: claims from 4 threads at once never give one port twice, and the
 *    table names the holder.
 */
#include <pthread.h>

#include "nat_test.h"

static inline uint32_t
spoofed(unsigned int i)
{
	return PB_IP(192, 168, 1 + (i >> 8), i & 0xff);
}

static void
assert_to_host_ok(const struct nt_res *r, uint32_t host)
{
	nt_assert_ok(r);
	assert_int_equal(pb_ip_dst(r->out), host);
}

/* Outbound UDP that may be refused: the nat reason (NAT_R_NONE when translated). */
static enum nat_reason
try_udp(struct nt_env *e, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct pb_spec s = nt_udp(src, sport, dst, dport);
	struct nt_res r;

	nt_spec(e, &s, true, &r);
	if (r.conn == NULL) {
		assert_int_not_equal(r.nat_why, NAT_R_NONE);
		return r.nat_why;
	}
	nt_assert_ok(&r);
	return NAT_R_NONE;
}

/*
 * The per-host records are sized to the conntrack capacity (nat_hosts_init): a full table of
 * connections from as many distinct hosts, turned over four times by new hosts whose record
 * exists before ct_create evicts an old connection, keeps every connection counted in its
 * host's record (a missing record would leave it outside every per-host limit) and frees
 * the evicted hosts' records. Then the same with 4 connections per host, outbound and
 * inbound through a forward.
 */
static void
test_host_records_cover_table(void **state)
{
	static const struct nat_fwd fw[] = {
		{ .proto = IPPROTO_TCP, .ext_addr = N_1, .ext_lo = 9000, .ext_hi = 9999,
		  .int_addr = H_B, .int_port = 80 },
	};
	const uint32_t cap = 64;
	struct nat_config cfg;
	struct ct_stats cs;
	struct nt_env e;
	struct nt_res r;
	struct pb_spec s;
	unsigned int i, k;

	(void)state;
	nt_config(&cfg, 1);
	nt_start(&e, &cfg, 0, cap, NULL, 0);
	for (i = 0; i < 5 * cap; i++) {
		s = nt_tcp(spoofed(i), (uint16_t)(1025 + i % 1000), R_1, 80, PB_SYN);
		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		assert_int_equal(nat_host_conns(e.nc, spoofed(i)), 1);
		if (i >= cap)	/* the oldest went to make room, and its record with it */
			assert_int_equal(nat_host_conns(e.nc, spoofed(i - cap)), 0);
	}
	ct_stats_get(e.ct, &cs);
	assert_int_equal(cs.active, cap);
	assert_int_equal(cs.evicted, 4 * cap);
	for (i = 4 * cap; i < 5 * cap; i++)
		assert_int_equal(nat_host_conns(e.nc, spoofed(i)), 1);
	nt_stop(&e);

	nt_config(&cfg, 1);
	nt_start(&e, &cfg, 0, cap, fw, NT_DIM(fw));
	for (i = 0; i < cap / 4 - 1; i++)
		for (k = 0; k < 4; k++) {
			s = nt_tcp(spoofed(i), (uint16_t)(2000 + k), R_1, 80, PB_SYN);
			nt_spec(&e, &s, true, &r);
			nt_assert_ok(&r);
		}
	for (k = 0; k < 4; k++) {	/* the last 4 entries: inbound to H_B through the forward */
		s = nt_tcp(R_2, (uint16_t)(3000 + k), N_1, 9000, PB_SYN);
		nt_spec(&e, &s, false, &r);
		nt_assert_ok(&r);
	}
	for (i = 0; i < cap / 4 - 1; i++)
		assert_int_equal(nat_host_conns(e.nc, spoofed(i)), 4);
	assert_int_equal(nat_host_conns(e.nc, H_B), 4);
	ct_stats_get(e.ct, &cs);
	assert_int_equal(cs.active, cap);
	nt_stop(&e);
}

/*
 * Host records are bounded by [nat] max_hosts, not by the connection count (they were
 * sized to the conntrack capacity + 1/16 + 64: 52 bytes per connection). With every record
 * taken, a new host's first connection is a counted drop, NAT_R_HOSTS_FULL, never an
 * uncounted connection or a crash: outbound through a new mapping, and inbound through a
 * forward to a server that has no record yet (create_conn). Hosts with records go on. With
 * unassured connections in the way the new host evicts the oldest (early_drop), whose host
 * record goes with its last connection. The old code had no bound: the ninth host got in.
 */
static void
test_host_table_full(void **state)
{
	static const struct nat_fwd fw[] = {
		{ .proto = IPPROTO_TCP, .ext_addr = N_1, .ext_lo = 9000, .ext_hi = 9000,
		  .int_addr = H_B, .int_port = 80 },
	};
	const uint32_t cap = 64, hosts = 8;
	struct nat_config cfg;
	struct ct_stats cs;
	struct nt_env e;
	struct nt_res r;
	struct pb_spec s;
	unsigned int i;

	(void)state;
	/* auto: a sixteenth of the capacity, at least 4096, never above what can be live */
	nt_config(&cfg, 1);
	assert_int_equal(nat_hosts_capacity(&cfg, 4718592, 4718592), 4718592 / 16);
	assert_int_equal(nat_hosts_capacity(&cfg, 65536, 65536), 4096);
	assert_int_equal(nat_hosts_capacity(&cfg, 64, 64), 64 + 64);
	assert_int_equal(nat_hosts_capacity(&cfg, 1024, 2048), 1024 + 64 + 64);
	cfg.max_hosts = 100;
	assert_int_equal(nat_hosts_capacity(&cfg, 4718592, 4718592), 100);

	cfg.max_hosts = hosts;
	nt_start(&e, &cfg, 0, cap, fw, NT_DIM(fw));
	for (i = 0; i < hosts; i++) {
		nt_udp_out_replied(&e, spoofed(i), 3000, R_1, 53, NULL);
		nt_udp_out_replied(&e, spoofed(i), 3001, R_1, 53, NULL);
	}
	/* a ninth host: outbound (a new mapping) and inbound to a forward's server */
	assert_int_equal(try_udp(&e, spoofed(hosts), 3000, R_1, 53), NAT_R_HOSTS_FULL);
	s = nt_tcp(spoofed(hosts), 4000, R_1, 80, PB_SYN);
	nt_spec(&e, &s, true, &r);
	assert_null(r.conn);
	assert_int_equal(r.nat_why, NAT_R_HOSTS_FULL);
	s = nt_tcp(R_2, 5000, N_1, 9000, PB_SYN);
	nt_spec(&e, &s, false, &r);
	assert_null(r.conn);
	assert_int_equal(r.nat_why, NAT_R_HOSTS_FULL);
	assert_int_equal(nt_reason(&e, NAT_R_HOSTS_FULL), 3);
	assert_int_equal(nat_host_conns(e.nc, spoofed(hosts)), 0);
	assert_int_equal(nat_host_conns(e.nc, H_B), 0);
	assert_int_equal(nt_stats(&e).mappings_active, 2 * hosts);
	ct_stats_get(e.ct, &cs);
	assert_int_equal(cs.active, 2 * hosts);
	/* the hosts that have records go on */
	for (i = 0; i < hosts; i++) {
		assert_int_equal(try_udp(&e, spoofed(i), 3002, R_2, 53), NAT_R_NONE);
		assert_int_equal(nat_host_conns(e.nc, spoofed(i)), 3);
	}
	nt_stop(&e);

	/* unassured connections: the ninth host evicts the oldest, and takes its record */
	nt_start(&e, &cfg, 0, cap, NULL, 0);
	for (i = 0; i < hosts; i++) {
		s = nt_tcp(spoofed(i), 3000, R_1, 80, PB_SYN);
		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
	}
	s = nt_tcp(spoofed(hosts), 3000, R_1, 80, PB_SYN);
	nt_spec(&e, &s, true, &r);
	nt_assert_ok(&r);
	assert_int_equal(pb_ip_src(r.out), N_1);
	ct_stats_get(e.ct, &cs);
	assert_int_equal(cs.evicted, 1);
	assert_int_equal(nat_host_conns(e.nc, spoofed(0)), 0);
	assert_int_equal(nat_host_conns(e.nc, spoofed(hosts)), 1);
	assert_int_equal(nt_reason(&e, NAT_R_HOSTS_FULL), 0);
	nt_stop(&e);
}

/* The replayed case: ports 1024-1100 (77), host A opens 200 flows, host B then 10. */
static void
test_host_ports_limit(void **state)
{
	static const struct {
		uint32_t limit;		/* max_ports_per_host */
		unsigned int a_gets;	/* of 200 */
	} cases[] = {
		{ .limit = NAT_LIMIT_AUTO, .a_gets = 77 / 4 },	/* default: a quarter */
		{ .limit = 30, .a_gets = 30 },
	};
	unsigned int k, i;

	(void)state;
	for (k = 0; k < NT_DIM(cases); k++) {
		struct nat_config cfg;
		struct nt_env e;
		unsigned int a_ok = 0, b_ok = 0;

		nt_config(&cfg, 1);
		cfg.port_lo[0] = 1024;
		cfg.port_hi[0] = 1100;
		cfg.max_ports_per_host = cases[k].limit;
		nt_start(&e, &cfg, 0, 4096, NULL, 0);
		for (i = 0; i < 200; i++) {
			enum nat_reason why = try_udp(&e, H_A, (uint16_t)(10000 + i), R_1, 53);

			if (why == NAT_R_NONE)
				a_ok++;
			else
				assert_int_equal(why, NAT_R_HOST_PORTS_LIMIT);
		}
		assert_int_equal(a_ok, cases[k].a_gets);
		assert_int_equal(nt_reason(&e, NAT_R_HOST_PORTS_LIMIT), 200 - cases[k].a_gets);
		/* the limit is on ports, not flows: A's mappings still serve new destinations */
		assert_int_equal(try_udp(&e, H_A, 10000, R_2, 123), NAT_R_NONE);
		for (i = 0; i < 10; i++)
			b_ok += try_udp(&e, H_B, (uint16_t)(20000 + i), R_1, 53) == NAT_R_NONE;
		assert_int_equal(b_ok, 10);
		assert_int_equal(nt_stats(&e).ports_in_use, cases[k].a_gets + 10);
		nt_stop(&e);
	}
}

/* Per-protocol: a host at its UDP limit still gets TCP ports; freeing gives one back. */
static void
test_host_ports_release(void **state)
{
	struct nat_config cfg;
	struct nt_env e;
	struct nt_res r, first;
	struct pb_spec s;
	unsigned int i;

	(void)state;
	nt_config(&cfg, 1);
	cfg.max_ports_per_host = 3;
	nt_start(&e, &cfg, 0, 256, NULL, 0);
	s = nt_udp(H_A, 7000, R_1, 53);
	nt_spec(&e, &s, true, &first);
	nt_assert_ok(&first);
	for (i = 1; i < 3; i++)
		assert_int_equal(try_udp(&e, H_A, (uint16_t)(7000 + i), R_1, 53), NAT_R_NONE);
	assert_int_equal(try_udp(&e, H_A, 7003, R_1, 53), NAT_R_HOST_PORTS_LIMIT);
	s = nt_tcp(H_A, 7003, R_1, 80, PB_SYN);
	nt_spec(&e, &s, true, &r);
	nt_assert_ok(&r);
	ct_delete(e.ct, first.conn);	/* its mapping and port go with it */
	assert_int_equal(try_udp(&e, H_A, 7003, R_1, 53), NAT_R_NONE);
	assert_int_equal(try_udp(&e, H_A, 7004, R_1, 53), NAT_R_HOST_PORTS_LIMIT);
	nt_stop(&e);
}

/*
 * RFC 6888 REQ-5: connections per host, its own outbound ones and those made to it from
 * outside (a forward's server) in two budgets. At a limit the host's own oldest
 * connection not yet ASSURED of that budget goes (netfilter early_drop, per host); only a
 * host whose connections are all assured is refused.
 */
static void
test_host_conns_limit(void **state)
{
	static const struct nat_fwd fw[] = {
		{ .proto = IPPROTO_TCP, .ext_addr = N_1, .ext_lo = 8080, .ext_hi = 8080,
		  .int_addr = H_B, .int_port = 80 },
	};
	struct nat_config cfg;
	struct ct_stats cs;
	struct nt_env e;
	struct nt_res r, keep;
	struct pb_spec s;
	uint8_t dir;
	unsigned int i;

	(void)state;
	nt_config(&cfg, 1);
	cfg.max_conns_per_host = 8;
	cfg.max_inbound_conns_per_host = 4;
	nt_start(&e, &cfg, 0, 256, fw, NT_DIM(fw));
	for (i = 0; i < 8; i++) {
		s = nt_tcp(H_A, 5000, R_1, (uint16_t)(80 + i), PB_SYN);
		nt_spec(&e, &s, true, i == 0 ? &keep : &r);
		nt_assert_ok(i == 0 ? &keep : &r);
	}
	/* the ninth pushes out A's oldest unanswered one, not another host's */
	ct_expire(e.ct, e.now, 0);
	s = nt_tcp(H_A, 5000, R_1, 99, PB_SYN);
	nt_spec(&e, &s, true, &r);
	nt_assert_ok(&r);
	assert_null(ct_lookup(e.ct, &(struct ct_tuple){ .src = H_A, .dst = R_1,
			      .sport = htons(5000), .dport = htons(80), .proto = IPPROTO_TCP,
			      .family = CT_FAMILY_IPV4 }, &dir, e.now));
	ct_stats_get(e.ct, &cs);
	assert_int_equal(cs.evicted, 1);
	assert_int_equal(nt_reason(&e, NAT_R_HOST_CONNS_LIMIT), 0);
	/* a host whose eight are all assured (UDP streams) is refused, counted */
	for (i = 0; i < 8; i++)
		nt_udp_out_replied(&e, H_C, (uint16_t)(6000 + i), R_1, 53, NULL);
	ct_expire(e.ct, e.now, 0);
	assert_int_equal(try_udp(&e, H_C, 6100, R_1, 53), NAT_R_HOST_CONNS_LIMIT);
	assert_int_equal(nt_reason(&e, NAT_R_HOST_CONNS_LIMIT), 1);
	/* inbound connections to a forwarded server have their own budget (4 here): the
	 * fifth from a spoofed flood pushes out the oldest unanswered one */
	for (i = 0; i < 5; i++) {
		ct_expire(e.ct, e.now, 0);
		s = nt_tcp(PB_IP(198, 51, 100, 10 + i), 4000, N_1, 8080, PB_SYN);
		nt_spec(&e, &s, false, &r);
		assert_to_host_ok(&r, H_B);
	}
	ct_stats_get(e.ct, &cs);
	assert_int_equal(cs.evicted, 2);
	/* and B's own outbound ones are not taken by them */
	for (i = 0; i < 8; i++)
		assert_int_equal(try_udp(&e, H_B, (uint16_t)(5000 + i), R_1, 53), NAT_R_NONE);
	ct_stats_get(e.ct, &cs);
	assert_int_equal(cs.evicted, 2);
	nt_stop(&e);
}

/*
 * A SYN flood from spoofed inside sources fills the table (and the mapping table, sized
 * to it) with connections that never see a reply. A new connection evicts the oldest
 * (netfilter early_drop) instead of being refused (MAPPINGS_FULL, as today's code did);
 * ASSURED connections are never evicted. Both table limits are exercised: the
 * mapping table sized to conntrack (the default) and a larger mapping table (conntrack's
 * own eviction).
 */
static void
test_evict_full_table(void **state)
{
	static const uint32_t max_mappings[] = { 0, 64 };
	unsigned int k, i;

	(void)state;
	for (k = 0; k < NT_DIM(max_mappings); k++) {
		struct nat_config cfg;
		struct ct_stats cs;
		struct nt_env e;
		struct nt_res r;
		struct pb_spec s;

		nt_config(&cfg, 1);
		cfg.max_mappings = max_mappings[k];
		nt_start(&e, &cfg, 0, 16, NULL, 0);
		for (i = 0; i < 16; i++) {
			s = nt_tcp(spoofed(i), (uint16_t)(1025 + i), R_1, 80, PB_SYN);
			nt_spec(&e, &s, true, &r);
			nt_assert_ok(&r);
		}
		/* the legitimate host's SYN gets in; the oldest flood entry went */
		s = nt_tcp(H_A, 40000, R_1, 443, PB_SYN);
		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		assert_int_equal(pb_sport(r.out), 40000);
		ct_stats_get(e.ct, &cs);
		assert_int_equal(cs.evicted, 1);
		assert_int_equal(cs.active, 16);
		assert_int_equal(nt_stats(&e).mappings_active, 16);
		/* the evicted one's reply finds nothing */
		s = nt_tcp(R_1, 80, N_1, 1025, PB_SYN | PB_ACK);
		nt_spec(&e, &s, false, &r);
		assert_null(r.conn);
		/* a second flood round keeps evicting flood entries, never A's replied one */
		s = nt_tcp(R_1, 443, N_1, 40000, PB_SYN | PB_ACK);
		s.ack = 1001;
		nt_spec(&e, &s, false, &r);
		nt_assert_ok(&r);
		for (i = 16; i < 64; i++) {
			s = nt_tcp(spoofed(i), (uint16_t)(1025 + i), R_1, 80, PB_SYN);
			nt_spec(&e, &s, true, &r);
			nt_assert_ok(&r);
		}
		s = nt_tcp(H_A, 40000, R_1, 443, PB_ACK);
		s.seq = 1001;
		s.ack = 5001;
		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		assert_false(r.created);
		nt_stop(&e);
	}

	/* all ASSURED (UDP streams): nothing evictable, the new one is refused with a reason */
	{
		struct nat_config cfg;
		struct nt_env e;
		struct nt_res r;
		struct pb_spec s;

		nt_config(&cfg, 1);
		nt_start(&e, &cfg, 0, 16, NULL, 0);
		for (i = 0; i < 16; i++)
			nt_udp_out_replied(&e, spoofed(i), (uint16_t)(1025 + i), R_1, 53, NULL);
		s = nt_tcp(H_A, 40000, R_1, 443, PB_SYN);
		nt_spec(&e, &s, true, &r);
		assert_null(r.conn);
		assert_int_equal(r.nat_why, NAT_R_MAPPINGS_FULL);
		assert_int_equal(nt_stats(&e).mappings_active, 16);
		nt_stop(&e);
	}
}

/* Outside ports all held by answered but unassured UDP flows (one machine's spoofed
 * sources with a cooperating server): a new host's flow evicts the oldest, as netfilter's
 * early_drop takes any entry that is not ASSURED. */
static void
test_evict_replied_unassured(void **state)
{
	struct nat_config cfg;
	struct ct_stats cs;
	struct nt_env e;
	struct nt_res r;
	struct pb_spec s;
	unsigned int i;

	(void)state;
	nt_config(&cfg, 1);
	cfg.port_lo[0] = 1024;
	cfg.port_hi[0] = 1027;
	cfg.max_ports_per_host = NAT_LIMIT_NONE;
	nt_start(&e, &cfg, 0, 64, NULL, 0);
	for (i = 0; i < 4; i++) {
		uint32_t oa;
		uint16_t op = nt_udp_out(&e, spoofed(i), (uint16_t)(1024 + i), R_1, 9999, &oa);

		s = nt_udp(R_1, 9999, oa, op);
		nt_spec(&e, &s, false, &r);
		nt_assert_ok(&r);
		assert_false(ct_conn_status(r.conn) & CT_ST_ASSURED);
	}
	ct_expire(e.ct, e.now, 0);
	assert_int_equal(try_udp(&e, H_B, 4000, R_1, 53), NAT_R_NONE);
	ct_stats_get(e.ct, &cs);
	assert_int_equal(cs.evicted, 1);
	assert_int_equal(nt_stats(&e).ports_in_use, 4);
	nt_stop(&e);
}

/* ---- the port table under concurrent workers ---- */

#define PT_THREADS	4
#define PT_LO		40000
#define PT_N		1000

struct pt_arg {
	struct nat_ctx *nc;
	int got[PT_N];
	unsigned int n;
};

static void *
pt_worker(void *p)
{
	struct pt_arg *a = p;
	unsigned int i;

	/* everybody wants every port, in the same order: maximal contention */
	for (i = 0; i < PT_N; i++) {
		int port = nat_port_reserve(a->nc, IPPROTO_UDP, N_1, (uint16_t)(PT_LO + i));

		if (port >= 0)
			a->got[a->n++] = port;
	}
	return NULL;
}

static void
test_port_table_concurrent(void **state)
{
	static struct pt_arg args[PT_THREADS];
	static unsigned char seen[65536];
	struct ct_params prm = { .capacity = 64, .use_heap = true, .name = "ptc" };
	struct nat_fwd_table *ft = nat_fwd_table_create(NULL, 0, NULL, 0);
	struct ct_table *ct[PT_THREADS];
	pthread_t th[PT_THREADS];
	struct nat_port_table *pt;
	struct nat_config cfg;
	unsigned int w, i, total = 0;

	(void)state;
	nt_config(&cfg, 1);
	cfg.port_lo[0] = PT_LO;
	cfg.port_hi[0] = PT_LO + PT_N - 1;
	cfg.n_workers = PT_THREADS;
	pt = nat_port_table_create(&cfg, true);
	assert_non_null(pt);
	assert_non_null(ft);
	/* free, not a pool address, no ports */
	assert_int_equal(nat_port_table_owner(pt, IPPROTO_UDP, N_1, PT_LO), NAT_OWNER_UNKNOWN);
	assert_int_equal(nat_port_table_owner(pt, IPPROTO_UDP, R_1, PT_LO), NAT_OWNER_UNKNOWN);
	assert_int_equal(nat_port_table_owner(pt, 47, N_1, PT_LO), NAT_OWNER_UNKNOWN);
	memset(seen, 0, sizeof(seen));
	for (w = 0; w < PT_THREADS; w++) {
		ct[w] = ct_table_create(&prm);
		assert_non_null(ct[w]);
		memset(&args[w], 0, sizeof(args[w]));
		args[w].nc = nat_ctx_create_shared(&cfg, w, ct[w], ft, pt, true);
		assert_non_null(args[w].nc);
	}
	for (w = 0; w < PT_THREADS; w++)
		assert_int_equal(pthread_create(&th[w], NULL, pt_worker, &args[w]), 0);
	for (w = 0; w < PT_THREADS; w++)
		assert_int_equal(pthread_join(th[w], NULL), 0);
	for (w = 0; w < PT_THREADS; w++) {
		for (i = 0; i < args[w].n; i++) {
			int p = args[w].got[i];

			assert_true(p >= PT_LO && p < PT_LO + PT_N);
			assert_int_equal(seen[p], 0);	/* never handed out twice */
			seen[p] = 1;
			assert_int_equal(nat_port_table_owner(pt, IPPROTO_UDP, N_1, (uint16_t)p),
					 w);
		}
		total += args[w].n;
	}
	assert_int_equal(total, PT_N);	/* and none lost */
	/* a holder gives its ports back; another worker cannot (a thread that started late
	 * may hold nothing: take the first that holds a port) */
	for (w = 0; args[w].n == 0; w++)
		;
	nat_port_reserved_put(args[(w + 1) % PT_THREADS].nc, IPPROTO_UDP, N_1,
			      (uint16_t)args[w].got[0]);
	assert_int_equal(nat_port_table_owner(pt, IPPROTO_UDP, N_1, (uint16_t)args[w].got[0]),
			 w);
	for (w = 0; w < PT_THREADS; w++)
		for (i = 0; i < args[w].n; i++)
			nat_port_reserved_put(args[w].nc, IPPROTO_UDP, N_1,
					      (uint16_t)args[w].got[i]);
	for (i = 0; i < PT_N; i++)
		assert_int_equal(nat_port_table_owner(pt, IPPROTO_UDP, N_1, (uint16_t)(PT_LO + i)),
				 NAT_OWNER_UNKNOWN);
	for (w = 0; w < PT_THREADS; w++) {
		nat_ctx_free(args[w].nc);
		ct_table_free(ct[w]);
	}
	nat_port_table_free(pt);
	nat_fwd_table_free(ft);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_ports_limit),
		cmocka_unit_test(test_host_ports_release),
		cmocka_unit_test(test_host_conns_limit),
		cmocka_unit_test(test_host_records_cover_table),
		cmocka_unit_test(test_host_table_full),
		cmocka_unit_test(test_evict_full_table),
		cmocka_unit_test(test_evict_replied_unassured),
		cmocka_unit_test(test_port_table_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
