/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nat_fwd.c - the port forward table (lookup, validation, overlap rejection), the
 * configuration checks and the keyed host owner, and forwards in use: inbound creation,
 * reserved ports, publication of a new table to a worker.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_errno.h>

#include "nat_test.h"

static const struct nat_fwd fwds[] = {
	{ .proto = IPPROTO_TCP, .ext_addr = N_1, .ext_lo = 8080, .ext_hi = 8080,
	  .int_addr = H_B, .int_port = 80 },
	{ .proto = IPPROTO_TCP, .ext_addr = N_1, .ext_lo = 2000, .ext_hi = 2009,
	  .int_addr = H_C, .int_port = 3000 },
	{ .proto = IPPROTO_UDP, .ext_addr = N_1, .ext_lo = 8080, .ext_hi = 8080,
	  .int_addr = H_C, .int_port = 53 },
	{ .proto = IPPROTO_TCP, .ext_addr = N_2, .ext_lo = 22, .ext_hi = 22,
	  .int_addr = H_A, .int_port = 22 },
};

static void
test_fwd_lookup(void **state)
{
	static const struct {
		uint8_t proto;
		uint32_t addr;
		uint16_t port;
		int want;	/* index in fwds, -1 none */
	} cases[] = {
		{ IPPROTO_TCP, N_1, 8080, 0 },
		{ IPPROTO_TCP, N_1, 8081, -1 },
		{ IPPROTO_TCP, N_1, 8079, -1 },
		{ IPPROTO_UDP, N_1, 8080, 2 },
		{ IPPROTO_TCP, N_1, 2000, 1 },
		{ IPPROTO_TCP, N_1, 2005, 1 },
		{ IPPROTO_TCP, N_1, 2009, 1 },
		{ IPPROTO_TCP, N_1, 2010, -1 },
		{ IPPROTO_TCP, N_1, 1999, -1 },
		{ IPPROTO_TCP, N_2, 22, 3 },
		{ IPPROTO_TCP, N_1, 22, -1 },
		{ IPPROTO_UDP, N_2, 22, -1 },
		{ IPPROTO_ICMP, N_1, 8080, -1 },
		{ IPPROTO_TCP, N_3, 8080, -1 },
	};
	char msg[128];
	struct nat_fwd_table *ft = nat_fwd_table_create(fwds, NT_DIM(fwds), msg, sizeof(msg));
	unsigned int i;

	(void)state;
	assert_non_null(ft);
	assert_int_equal(nat_fwd_count(ft), NT_DIM(fwds));
	for (i = 0; i < NT_DIM(cases); i++) {
		const struct nat_fwd *f = nat_fwd_lookup(ft, cases[i].proto, cases[i].addr,
							 cases[i].port);

		if (cases[i].want < 0) {
			assert_null(f);
		} else {
			assert_non_null(f);
			assert_memory_equal(f, &fwds[cases[i].want], sizeof(*f));
		}
	}
	assert_null(nat_fwd_get(ft, NT_DIM(fwds)));
	nat_fwd_table_free(ft);
	/* an empty table and a NULL table answer nothing */
	ft = nat_fwd_table_create(NULL, 0, msg, sizeof(msg));
	assert_non_null(ft);
	assert_null(nat_fwd_lookup(ft, IPPROTO_TCP, N_1, 8080));
	assert_null(nat_fwd_lookup(NULL, IPPROTO_TCP, N_1, 8080));
	nat_fwd_table_free(ft);
}

static void
test_fwd_reject(void **state)
{
	static const struct {
		const char *name;
		struct nat_fwd f[2];
		unsigned int n;
		const char *msg_has;
	} cases[] = {
		{ "overlap", {
			{ .proto = IPPROTO_TCP, .ext_addr = N_1, .ext_lo = 100, .ext_hi = 200,
			  .int_addr = H_A, .int_port = 100 },
			{ .proto = IPPROTO_TCP, .ext_addr = N_1, .ext_lo = 200, .ext_hi = 300,
			  .int_addr = H_B, .int_port = 200 } }, 2, "overlaps" },
		{ "contained", {
			{ .proto = IPPROTO_UDP, .ext_addr = N_1, .ext_lo = 5000, .ext_hi = 6000,
			  .int_addr = H_A, .int_port = 5000 },
			{ .proto = IPPROTO_UDP, .ext_addr = N_1, .ext_lo = 5500, .ext_hi = 5500,
			  .int_addr = H_B, .int_port = 53 } }, 2, "overlaps" },
		{ "same port", {
			{ .proto = IPPROTO_TCP, .ext_addr = N_2, .ext_lo = 80, .ext_hi = 80,
			  .int_addr = H_A, .int_port = 80 },
			{ .proto = IPPROTO_TCP, .ext_addr = N_2, .ext_lo = 80, .ext_hi = 80,
			  .int_addr = H_B, .int_port = 80 } }, 2, "tcp 203.0.113.2:80-80" },
		{ "bad range", {
			{ .proto = IPPROTO_TCP, .ext_addr = N_1, .ext_lo = 300, .ext_hi = 200,
			  .int_addr = H_A, .int_port = 1 } }, 1, "range" },
		{ "inside past 65535", {
			{ .proto = IPPROTO_TCP, .ext_addr = N_1, .ext_lo = 100, .ext_hi = 200,
			  .int_addr = H_A, .int_port = 65500 } }, 1, "65535" },
		{ "icmp", {
			{ .proto = IPPROTO_ICMP, .ext_addr = N_1, .ext_lo = 1, .ext_hi = 2,
			  .int_addr = H_A, .int_port = 1 } }, 1, "protocol" },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < NT_DIM(cases); i++) {
		char msg[160] = "";
		struct nat_fwd_table *ft;

		rte_errno = 0;
		ft = nat_fwd_table_create(cases[i].f, cases[i].n, msg, sizeof(msg));
		if (ft != NULL)
			fail_msg("case %s accepted", cases[i].name);
		assert_int_equal(rte_errno, EINVAL);
		if (strstr(msg, cases[i].msg_has) == NULL)
			fail_msg("case %s: message '%s' lacks '%s'", cases[i].name, msg,
				 cases[i].msg_has);
	}
	/* the same ports on different addresses or protocols are no overlap */
	{
		struct nat_fwd ok[] = {
			{ .proto = IPPROTO_TCP, .ext_addr = N_1, .ext_lo = 80, .ext_hi = 90,
			  .int_addr = H_A, .int_port = 80 },
			{ .proto = IPPROTO_UDP, .ext_addr = N_1, .ext_lo = 80, .ext_hi = 90,
			  .int_addr = H_A, .int_port = 80 },
			{ .proto = IPPROTO_TCP, .ext_addr = N_2, .ext_lo = 80, .ext_hi = 90,
			  .int_addr = H_B, .int_port = 80 },
			{ .proto = IPPROTO_TCP, .ext_addr = N_1, .ext_lo = 91, .ext_hi = 91,
			  .int_addr = H_B, .int_port = 80 },
		};
		struct nat_fwd_table *ft = nat_fwd_table_create(ok, NT_DIM(ok), NULL, 0);

		assert_non_null(ft);
		nat_fwd_table_free(ft);
	}
}

enum bad_cfg { BAD_EMPTY, BAD_WORKERS, BAD_WORKERS_MAX, BAD_RANGE, BAD_DUP, BAD_ZERO, BAD_SLICE, BAD_MAP,
	       BAD_FILTER, BAD_MAX };

static const char *
bad_config(struct nat_config *c, enum bad_cfg k)
{
	switch (k) {
	case BAD_EMPTY:
		c->n_addrs = 0;
		return "empty pool";
	case BAD_WORKERS:
		c->n_workers = 0;
		return "no workers";
	case BAD_WORKERS_MAX:
		c->n_workers = 255;	/* a port's owner is kept as worker + 1 in a byte */
		return "255 workers";
	case BAD_RANGE:
		c->port_lo[1] = 2000;
		c->port_hi[1] = 1999;
		return "lo > hi";
	case BAD_DUP:
		c->addrs[1] = c->addrs[0];
		return "duplicate address";
	case BAD_ZERO:
		c->addrs[0] = 0;
		return "zero address";
	case BAD_SLICE:
		c->max_ports_per_host = 70000;
		return "per-host port limit above 65536";
	case BAD_MAP:
		c->mapping = (enum nat_mapping)7;
		return "bad mapping";
	case BAD_FILTER:
	default:
		c->filtering = (enum nat_filtering)9;
		return "bad filtering";
	}
}

static void
test_config_check(void **state)
{
	struct nat_config cfg;
	char msg[128];
	unsigned int i;

	(void)state;
	nt_config(&cfg, 2);
	assert_int_equal(nat_config_check(&cfg, msg, sizeof(msg)), 0);
	assert_true(cfg.port_preserve && cfg.paired && cfg.hairpin);
	assert_int_equal(cfg.mapping, NAT_MAP_EIM);
	assert_int_equal(cfg.filtering, NAT_FILTER_APDF);
	assert_int_equal(cfg.port_lo[0], 1024);
	assert_int_equal(cfg.port_hi[0], 65535);
	assert_int_equal(cfg.max_conns_per_host, NAT_LIMIT_AUTO);
	assert_int_equal(cfg.max_ports_per_host, NAT_LIMIT_AUTO);
	/* the workers share the ports: a range smaller than the worker count is fine */
	cfg.port_lo[0] = 5000;
	cfg.port_hi[0] = 5002;
	cfg.n_workers = 4;
	assert_int_equal(nat_config_check(&cfg, msg, sizeof(msg)), 0);
	nt_config(&cfg, 2);
	for (i = 0; i < BAD_MAX; i++) {
		const char *name;

		nt_config(&cfg, 2);
		name = bad_config(&cfg, (enum bad_cfg)i);
		msg[0] = '\0';
		if (nat_config_check(&cfg, msg, sizeof(msg)) != -EINVAL)
			fail_msg("config '%s' accepted", name);
		assert_true(msg[0] != '\0');
	}
	assert_string_equal(nat_reason_id(NAT_R_PORTS_EXHAUSTED), "PORTS_EXHAUSTED");
	assert_string_equal(nat_reason_str(NAT_R_NO_MAPPING), "unsolicited inbound (no mapping)");
	assert_string_equal(nat_reason_id(NAT_R_MAX), "UNKNOWN");
}

/* Pool membership (every packet asks it, several times): the O(1) index of
 * nat_config_index() answers exactly as the scan of addrs[] does, for pool addresses (their
 * index), for the addresses around them and for random ones; with all 64 addresses in one
 * probe cluster too; and a config changed after indexing (n_addrs) falls back to the scan. */
static void
check_pool_lookups(const struct nat_config *idx, unsigned int seed)
{
	struct nat_config scan = *idx;
	uint32_t x = seed, a;
	unsigned int i;
	int want;

	scan.addr_index_n = 0;	/* not indexed: the scan */
	assert_int_equal(idx->addr_index_n, idx->n_addrs);
	for (i = 0; i < idx->n_addrs; i++) {
		assert_int_equal(nat_addr_index(idx, idx->addrs[i]), (int)i);
		assert_true(nat_is_outside_addr(idx, idx->addrs[i]));
		assert_int_equal(nat_addr_index(&scan, idx->addrs[i]), (int)i);
		a = htonl(ntohl(idx->addrs[i]) + 1);
		want = nat_addr_index(&scan, a);
		assert_int_equal(nat_addr_index(idx, a), want);
		assert_int_equal(nat_is_outside_addr(idx, a), want >= 0);
		a = htonl(ntohl(idx->addrs[i]) - 1);
		want = nat_addr_index(&scan, a);
		assert_int_equal(nat_addr_index(idx, a), want);
		assert_int_equal(nat_is_outside_addr(idx, a), want >= 0);
	}
	for (i = 0; i < 200000; i++) {
		x = x * 1103515245u + 12345u;
		a = x ^ (x >> 15) * 2654435761u;
		want = nat_addr_index(&scan, a);
		assert_int_equal(nat_addr_index(idx, a), want);
		assert_int_equal(nat_is_outside_addr(idx, a), want >= 0);
	}
}

static void
test_pool_index(void **state)
{
	struct nat_config cfg;
	char msg[128];
	unsigned int i, n;
	uint32_t h;

	(void)state;
	/* a contiguous pool of 64 (what the benchmark uses) */
	nat_config_default(&cfg);
	for (i = 0; i < NAT_MAX_ADDRS; i++)
		cfg.addrs[i] = htonl(0xcb00710a + i);	/* 203.0.113.10 ... */
	cfg.n_addrs = NAT_MAX_ADDRS;
	assert_int_equal(nat_config_check(&cfg, msg, sizeof(msg)), 0);
	nat_config_index(&cfg);
	check_pool_lookups(&cfg, 1);
	/* 64 addresses that all start probing at the same slot: one cluster of 64 */
	n = 0;
	for (h = 0x0a000001; n < NAT_MAX_ADDRS; h++)
		if (nat_addr_slot0(htonl(h)) == nat_addr_slot0(htonl(0x0a000001)))
			cfg.addrs[n++] = htonl(h);
	assert_int_equal(nat_config_check(&cfg, msg, sizeof(msg)), 0);
	nat_config_index(&cfg);
	check_pool_lookups(&cfg, 2);
	/* changed after indexing: the index is not used, the scan answers */
	cfg.n_addrs = 3;
	assert_false(nat_is_outside_addr(&cfg, cfg.addrs[3]));
	assert_int_equal(nat_addr_index(&cfg, cfg.addrs[3]), -1);
	assert_int_equal(nat_addr_index(&cfg, cfg.addrs[2]), 2);
	/* never indexed (nt_config): the scan */
	nt_config(&cfg, 2);
	assert_int_equal(cfg.addr_index_n, 0);
	assert_int_equal(nat_addr_index(&cfg, cfg.addrs[1]), 1);
	assert_true(nat_is_outside_addr(&cfg, cfg.addrs[0]));
	nat_config_index(&cfg);
	check_pool_lookups(&cfg, 3);
}

static void
test_host_owner(void **state)
{
	struct nat_config cfg;
	unsigned int n, i, seen[4];

	(void)state;
	nt_config(&cfg, 1);
	for (n = 1; n <= 4; n++) {
		cfg.n_workers = n;
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < 1000; i++) {
			uint32_t a = PB_IP(10, 0, i >> 8, i & 0xff);
			unsigned int o = nat_host_owner(&cfg, a);

			assert_true(o < n);
			assert_int_equal(o, nat_host_owner(&cfg, a));	/* stable */
			seen[o]++;
		}
		/* spread: every worker gets a fair share of 1000 hosts */
		for (i = 0; i < n; i++)
			assert_true(seen[i] > 1000 / n / 2);
	}
}

/* A forward creates inbound connections under every filtering behaviour; its ports are
 * never handed to dynamic mappings. */
static void
test_fwd_inbound(void **state)
{
	static const enum nat_filtering modes[] = {
		NAT_FILTER_APDF, NAT_FILTER_ADF, NAT_FILTER_EIF,
	};
	unsigned int k;

	(void)state;
	for (k = 0; k < NT_DIM(modes); k++) {
		struct nat_config cfg;
		struct nt_env e;
		struct nt_res r;
		struct pb_spec s;

		nt_config(&cfg, 2);
		cfg.filtering = modes[k];
		nt_start(&e, &cfg, 0, 256, fwds, NT_DIM(fwds));
		/* R_1:40000 -> N_1:2003 goes to H_C:3003 */
		s = nt_tcp(R_1, 40000, N_1, 2003, PB_SYN);
		nt_spec(&e, &s, false, &r);
		nt_assert_ok(&r);
		assert_true(r.created);
		assert_int_equal(pb_ip_src(r.out), R_1);
		assert_int_equal(pb_sport(r.out), 40000);
		assert_int_equal(pb_ip_dst(r.out), H_C);
		assert_int_equal(pb_dport(r.out), 3003);
		assert_int_equal(nt_stats(&e).forwarded_in, 1);
		/* the reply from H_C:3003 leaves as N_1:2003 */
		s = nt_tcp(H_C, 3003, R_1, 40000, PB_SYN | PB_ACK);
		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		assert_false(r.created);
		assert_int_equal(r.dir, CT_DIR_REPLY);
		assert_int_equal(pb_ip_src(r.out), N_1);
		assert_int_equal(pb_sport(r.out), 2003);
		assert_int_equal(pb_ip_dst(r.out), R_1);
		/* a UDP forward on the same port number is separate */
		s = nt_udp(R_2, 5353, N_1, 8080);
		nt_spec(&e, &s, false, &r);
		nt_assert_ok(&r);
		assert_int_equal(pb_ip_dst(r.out), H_C);
		assert_int_equal(pb_dport(r.out), 53);
		/* an unforwarded port is refused: no mapping */
		s = nt_tcp(R_1, 40000, N_1, 2010, PB_SYN);
		nt_spec(&e, &s, false, &r);
		assert_null(r.conn);
		assert_int_equal(r.nat_why, NAT_R_NO_MAPPING);
		nt_stop(&e);
	}
}

/* Inside sources using forwarded outside ports as their own port: never preserved. */
static void
test_fwd_ports_reserved(void **state)
{
	struct nat_config cfg;
	struct nt_env e;
	uint32_t oa;
	uint16_t p;
	unsigned int i;

	(void)state;
	nt_config(&cfg, 1);
	nt_start(&e, &cfg, 0, 256, fwds, NT_DIM(fwds));
	/* H_A:8080/tcp would be preserved, but N_1:8080/tcp is forwarded */
	for (i = 0; i < 10; i++) {
		struct pb_spec s = nt_tcp(H_A, (uint16_t)(2000 + i), R_1, 80, PB_SYN);
		struct nt_res r;

		nt_spec(&e, &s, true, &r);
		nt_assert_ok(&r);
		assert_true(pb_sport(r.out) < 2000 || pb_sport(r.out) > 2009);
	}
	/* but UDP 2000 is not forwarded, so it is kept */
	p = nt_udp_out(&e, H_A, 2000, R_1, 53, &oa);
	assert_int_equal(p, 2000);
	nt_stop(&e);
}

/* A new forward table published to a running worker: its ports become reserved, the old
 * ones become allocatable again. */
static void
test_fwd_swap(void **state)
{
	static const struct nat_fwd f2[] = {
		{ .proto = IPPROTO_UDP, .ext_addr = N_1, .ext_lo = 7000, .ext_hi = 7000,
		  .int_addr = H_B, .int_port = 7000 },
	};
	struct nat_config cfg;
	struct nt_env e;
	struct nat_fwd_table *ft2;
	struct nt_res r;
	struct pb_spec s;

	(void)state;
	nt_config(&cfg, 1);
	nt_start(&e, &cfg, 0, 256, fwds, NT_DIM(fwds));
	ft2 = nat_fwd_table_create(f2, NT_DIM(f2), NULL, 0);
	assert_non_null(ft2);
	nat_ctx_set_fwd(e.nc, ft2);
	assert_ptr_equal(nat_ctx_fwd_active(e.nc), e.ft);	/* not adopted yet */
	nat_ctx_sync(e.nc);
	assert_ptr_equal(nat_ctx_fwd_active(e.nc), ft2);
	/* UDP 7000 now reserved, UDP 8080 free again */
	assert_int_not_equal(nt_udp_out(&e, H_A, 7000, R_1, 53, NULL), 7000);
	assert_int_equal(nt_udp_out(&e, H_A, 8080, R_1, 53, NULL), 8080);
	/* and inbound to the new forward works, to the old one not */
	s = nt_udp(R_1, 999, N_1, 7000);
	nt_spec(&e, &s, false, &r);
	nt_assert_ok(&r);
	assert_int_equal(pb_ip_dst(r.out), H_B);
	s = nt_tcp(R_1, 999, N_1, 2003, PB_SYN);
	nt_spec(&e, &s, false, &r);
	assert_null(r.conn);
	nat_fwd_table_free(e.ft);
	e.ft = ft2;
	nt_stop(&e);
}

/* A forwarded server that talks first leaves from its forward's outside port (static
 * mapping), under EIM; the port stays reserved for the forward when the flow ends. */
static void
test_fwd_static(void **state)
{
	static const struct nat_fwd sf[] = {
		{ .proto = IPPROTO_UDP, .ext_addr = N_1, .ext_lo = 51820, .ext_hi = 51820,
		  .int_addr = H_B, .int_port = 51820 },
		{ .proto = IPPROTO_TCP, .ext_addr = N_1, .ext_lo = 2000, .ext_hi = 2009,
		  .int_addr = H_C, .int_port = 3000 },
		{ .proto = IPPROTO_TCP, .ext_addr = N_2, .ext_lo = 4000, .ext_hi = 4000,
		  .int_addr = H_C, .int_port = 3005 },
	};
	struct nat_config cfg;
	struct nt_env e;
	struct nt_res r, keep;
	struct pb_spec s;
	struct nat_fwd_table *empty;
	uint32_t oa;

	(void)state;
	nt_config(&cfg, 2);
	nt_start(&e, &cfg, 0, 256, sf, NT_DIM(sf));
	assert_int_equal(nt_udp_out(&e, H_B, 51820, R_1, 4500, &oa), 51820);
	assert_int_equal(oa, N_1);
	s = nt_udp(R_1, 4500, N_1, 51820);
	nt_spec(&e, &s, false, &r);
	assert_false(r.created);
	nt_assert_ok(&r);
	assert_int_equal(pb_ip_dst(r.out), H_B);
	/* inside ranges map 1:1; two forwards to one server: either outside port is right */
	s = nt_tcp(H_C, 3003, R_1, 443, PB_SYN);
	nt_spec(&e, &s, true, &r);
	nt_assert_ok(&r);
	assert_int_equal(pb_ip_src(r.out), N_1);
	assert_int_equal(pb_sport(r.out), 2003);
	s = nt_tcp(H_C, 3005, R_1, 443, PB_SYN);
	nt_spec(&e, &s, true, &keep);
	nt_assert_ok(&keep);
	assert_true((pb_ip_src(keep.out) == N_1 && pb_sport(keep.out) == 2005) ||
		    (pb_ip_src(keep.out) == N_2 && pb_sport(keep.out) == 4000));
	/* other ports of the server: dynamic */
	assert_int_equal(nt_udp_out(&e, H_B, 51821, R_1, 4500, NULL), 51821);
	nt_stop(&e);

	/* APDM: no static mapping */
	cfg.mapping = NAT_MAP_APDM;
	nt_start(&e, &cfg, 0, 256, sf, NT_DIM(sf));
	assert_int_not_equal(nt_udp_out(&e, H_B, 51820, R_1, 4500, NULL), 51820);
	nt_stop(&e);

	/* the forward is withdrawn while its server's flow lives: the port is free again only
	 * once the flow ends */
	nt_config(&cfg, 1);	/* one address: the port is only ever N_1:51820 */
	nt_start(&e, &cfg, 0, 256, sf, 2);
	s = nt_udp(H_B, 51820, R_1, 4500);
	nt_spec(&e, &s, true, &keep);
	nt_assert_ok(&keep);
	assert_int_equal(pb_sport(keep.out), 51820);
	empty = nat_fwd_table_create(NULL, 0, NULL, 0);
	assert_non_null(empty);
	nat_ctx_set_fwd(e.nc, empty);
	nat_ctx_sync(e.nc);
	assert_int_not_equal(nt_udp_out(&e, H_A, 51820, R_2, 53, NULL), 51820);
	ct_delete(e.ct, keep.conn);
	assert_int_equal(nt_udp_out(&e, H_C, 51820, R_2, 53, NULL), 51820);
	nat_fwd_table_free(e.ft);
	e.ft = empty;
	nt_stop(&e);
}

static uint32_t
owner_of_pt(const struct nat_config *cfg, const struct nat_fwd_table *ft,
	    const struct nat_port_table *pt, const uint8_t *f, unsigned int len)
{
	struct ct_pkt p;

	assert_int_equal(ct_parse_ipv4(f, len, PB_ETH_LEN, true, &p), CT_R_NONE);
	return nat_inbound_owner(cfg, ft, pt, &p);
}

#define owner_of(cfg, ft, f, len) owner_of_pt(cfg, ft, NULL, f, len)

/* Steering of inbound packets (DESIGN.md "Ownership"), and with 4 workers each over its
 * own conntrack table and one shared port table: every reply, and every ICMP error about
 * a flow, belongs to the worker that holds the flow's port; a port nobody holds goes to
 * port % n_workers. */
static void
test_inbound_owner(void **state)
{
	static const uint8_t gre[] = { 0, 0, 0x08, 0 };
	struct nat_config cfg;
	struct nat_fwd_table *ft;
	struct nat_port_table *pt;
	struct nt_env e[4];
	uint8_t f[PB_MAX], err[PB_MAX];
	struct pb_spec s;
	unsigned int len, w, h;

	(void)state;
	nt_config(&cfg, 1);
	cfg.n_workers = 4;
	ft = nat_fwd_table_create(fwds, NT_DIM(fwds), NULL, 0);
	assert_non_null(ft);
	s = nt_udp(R_1, 53, N_1, 5001);
	len = pb_build(f, &s);
	assert_int_equal(owner_of(&cfg, ft, f, len), 1);
	s = nt_tcp(R_1, 999, N_1, 2005, PB_SYN);	/* forwarded to H_C */
	len = pb_build(f, &s);
	assert_int_equal(owner_of(&cfg, ft, f, len), nat_host_owner(&cfg, H_C));
	s = (struct pb_spec){ .src = R_1, .dst = N_1, .proto = IPPROTO_ICMP, .icmp_type = 0,
			      .sport = 7 };
	len = pb_build(f, &s);
	assert_int_equal(owner_of(&cfg, ft, f, len), 3);
	s = (struct pb_spec){ .src = R_1, .dst = N_1, .proto = 47, .payload = gre,
			      .payload_len = sizeof(gre) };
	len = pb_build(f, &s);
	assert_int_equal(owner_of(&cfg, ft, f, len), NAT_OWNER_UNKNOWN);

	pt = nat_port_table_create(&cfg, true);
	assert_non_null(pt);
	for (w = 0; w < 4; w++)
		nt_start_pt(&e[w], &cfg, w, 256, fwds, NT_DIM(fwds), pt);
	for (h = 0; h < 40; h++) {
		uint32_t host = PB_IP(10, 2, 0, h + 1);
		unsigned int own = nat_host_owner(&cfg, host);
		struct nt_res r;

		s = nt_udp(host, (uint16_t)(4000 + h), R_1, 53);
		nt_spec(&e[own], &s, true, &r);
		nt_assert_ok(&r);
		/* the reply and an error about the flow come back to `own` */
		/* the inside port is kept whichever worker the host has */
		assert_int_equal(pb_sport(r.out), 4000 + h);
		s = nt_udp(R_1, 53, N_1, pb_sport(r.out));
		len = pb_build(f, &s);
		assert_int_equal(owner_of_pt(&cfg, ft, pt, f, len), own);
		len = pb_build_icmp_error(err, RTR, N_1, 3, 4, r.out, r.len, 0);
		assert_int_equal(owner_of_pt(&cfg, ft, pt, err, len), own);
		nt_frame(&e[own], err, len, false, &r);
		assert_int_equal(r.state, CT_RELATED);
		assert_true(pb_csum_ok(r.out, r.len));
		assert_int_equal(pb_ip_dst(r.out), host);
	}
	for (w = 0; w < 4; w++)
		nt_stop(&e[w]);
	nat_port_table_free(pt);
	nat_fwd_table_free(ft);
}

/* Protocols without ports (GRE here) with 4 workers: the replies carry no port that names
 * a worker (nat_inbound_owner says NAT_OWNER_UNKNOWN, which the app sends to one fixed
 * worker), so the outbound packets that create the connection must be steered the same way
 * (nat_inside_owner says NAT_OWNER_UNKNOWN too), or the replies of every host not owned by
 * that worker miss their connection and are dropped as unsolicited. */
static void
test_portless_owner(void **state)
{
	static const uint8_t gre[] = { 0, 0, 0x08, 0, 1, 2, 3, 4 };
	struct nat_config cfg;
	struct nt_env e[4];
	unsigned int w, h, others = 0;

	(void)state;
	nt_config(&cfg, 1);
	cfg.n_workers = 4;
	for (w = 0; w < 4; w++)
		nt_start(&e[w], &cfg, w, 256, fwds, NT_DIM(fwds));
	for (h = 0; h < 16; h++) {
		uint32_t host = PB_IP(10, 5, 0, h + 1), remote = PB_IP(198, 51, 100, 100 + h);
		struct pb_spec s = { .src = host, .dst = remote, .proto = 47, .payload = gre,
				     .payload_len = sizeof(gre) };
		uint8_t f[PB_MAX], err[PB_MAX];
		unsigned int len, wi, wo, we;
		struct ct_pkt p;
		struct nt_res r;
		uint32_t o;

		others += nat_host_owner(&cfg, host) != 0;
		/* out: steered as the app does (an unknown owner is worker 0) */
		len = pb_build(f, &s);
		assert_int_equal(ct_parse_ipv4(f, len, PB_ETH_LEN, true, &p), CT_R_NONE);
		o = nat_inside_owner(&cfg, e[0].ft, &p);
		wi = o < 4 ? o : 0;
		nt_frame(&e[wi], f, len, true, &r);
		nt_assert_ok(&r);
		assert_int_equal(pb_ip_src(r.out), N_1);
		/* an error about it from a router on the way: the same worker */
		len = pb_build_icmp_error(err, RTR, N_1, 11, 0, r.out, r.len, 0);
		o = owner_of(&cfg, e[0].ft, err, len);
		we = o < 4 ? o : 0;
		assert_int_equal(we, wi);
		/* the reply: the same worker, which holds the connection */
		s.src = remote;
		s.dst = N_1;
		len = pb_build(f, &s);
		o = owner_of(&cfg, e[0].ft, f, len);
		wo = o < 4 ? o : 0;
		assert_int_equal(wo, wi);
		nt_frame(&e[wo], f, len, false, &r);
		nt_assert_ok(&r);
		assert_int_equal(r.dir, CT_DIR_REPLY);
		assert_int_equal(pb_ip_dst(r.out), host);
	}
	assert_true(others > 0);	/* some hosts belong to other workers for TCP/UDP */
	for (w = 0; w < 4; w++)
		nt_stop(&e[w]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fwd_lookup),
		cmocka_unit_test(test_fwd_reject),
		cmocka_unit_test(test_config_check),
		cmocka_unit_test(test_pool_index),
		cmocka_unit_test(test_host_owner),
		cmocka_unit_test(test_fwd_inbound),
		cmocka_unit_test(test_fwd_ports_reserved),
		cmocka_unit_test(test_fwd_swap),
		cmocka_unit_test(test_inbound_owner),
		cmocka_unit_test(test_portless_owner),
		cmocka_unit_test(test_fwd_static),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
