/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_rss.c - natgw-bench's emulated multi-queue NIC (docs/architecture.md, RSS):
 * how many packets a 2/4/8/16-queue NIC would deliver to a worker that does not own them
 * (the handoff fraction), with the RSS key and RETA natgw itself programs
 * (nat_rss_port_init, as app/main.c does: queue q of port p polled by worker (q + p) % n).
 *
 * Per queue count: n workers over one shared port table, as the app builds them. Each flow
 * is a real first packet (TCP SYN or UDP) from an inside host; the emulated NIC hashes its
 * bytes with rte_softrss (nat_rss_softrss, the full 4-tuple: nothing of natgw's per-byte
 * shortcut) and the RETA to pick the receiving worker; the dispatch (nat_inside_owner, as
 * gw_pipeline.c calls it) says the owner; a difference is a handoff. The owner translates it
 * (conntrack + nat_out_new + nat_rewrite). The server's reply to the translated endpoint is
 * hashed the same way on the outside and compared with nat_inbound_owner (the port's
 * holder), then translated back on the owner and checked to reach the inside host; and a
 * packet from another remote to the same mapping (what EIM lets come) is hashed and
 * compared too. The figure: handoffs / packets; and, beside it, the same with
 * rss_port_choice = preserve (what steering saves). Steady-state packets of a flow hash as its
 * first packet and reply do, so the fraction per packet of a run equals this one.
 * Not timed: cycles/pkt per worker count is not measured here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_random.h>

#include "ct.h"
#include "nat.h"
#include "pkt_build.h"

#include "bench_rss.h"

#define RSS_RETA	512	/* i40e, mlx5; ixgbe has 128 (the unit tests cover 64-2048) */
#define RSS_FLOWS_PER_HOST 16

static const unsigned int rss_queues[BENCH_RSS_NQ] = { 2, 4, 8, 16 };

static struct nat_rss rss_tab;	/* large: not on the stack */

struct rss_emu {
	unsigned int n;
	struct nat_config cfg;
	struct nat_port_table *pt;
	struct nat_fwd_table *ft;
	struct ct_table *ct[16];
	struct nat_ctx *nc[16];
};

static void
emu_free(struct rss_emu *e)
{
	unsigned int w;

	for (w = 0; w < e->n; w++) {
		nat_ctx_free(e->nc[w]);
		ct_table_free(e->ct[w]);
	}
	nat_port_table_free(e->pt);
	nat_fwd_table_free(e->ft);
}

static int
emu_init(struct rss_emu *e, unsigned int n, uint32_t flows, bool preserve)
{
	uint16_t woq[16];
	unsigned int role, q, w;
	char msg[128];

	memset(e, 0, sizeof(*e));
	e->n = n;
	for (role = NAT_RSS_INSIDE; role <= NAT_RSS_OUTSIDE; role++) {
		for (q = 0; q < n; q++)
			woq[q] = (uint16_t)((q + role) % n);	/* app/main.c */
		if (nat_rss_port_init(&rss_tab.port[role], role, NULL, 40, RSS_RETA, n, woq,
				      n) != 0)
			return -1;
	}
	nat_config_default(&e->cfg);
	e->cfg.addrs[0] = PB_IP(203, 0, 113, 1);
	e->cfg.n_addrs = 1;
	e->cfg.n_workers = n;
	e->cfg.rss = &rss_tab;
	e->cfg.rss_preserve = preserve;
	e->ft = nat_fwd_table_create(NULL, 0, msg, sizeof(msg));
	e->pt = nat_port_table_create(&e->cfg, true);
	if (e->ft == NULL || e->pt == NULL)
		goto fail;
	for (w = 0; w < n; w++) {
		struct ct_params prm = {
			.capacity = 2 * flows / n + 4096, .use_heap = true, .tcp_liberal = true,
			.name = "brss",
		};

		e->ct[w] = ct_table_create(&prm);
		if (e->ct[w] == NULL)
			goto fail;
		e->nc[w] = nat_ctx_create_shared(&e->cfg, w, e->ct[w], e->ft, e->pt, true);
		if (e->nc[w] == NULL)
			goto fail;
	}
	return 0;
fail:
	emu_free(e);
	return -1;
}

/* the worker the emulated NIC gives a frame to: rte_softrss over its 4-tuple, then RETA */
static unsigned int
nic_rx(const struct nat_rss_port *rp, const uint8_t *f)
{
	return nat_rss_reta_worker(rp, nat_rss_softrss(rp->key, pb_ip_src(f), pb_ip_dst(f),
						       htons(pb_sport(f)), htons(pb_dport(f)),
						       true));
}

/* the dispatch's owner of a frame (gw_pipeline.c gw_owner_parsed) */
static unsigned int
owner(const struct rss_emu *e, const uint8_t *f, unsigned int len, bool inside,
      struct ct_pkt *p)
{
	uint32_t o;

	if (ct_parse_ipv4(f, len, PB_ETH_LEN, false, p) != CT_R_NONE)
		return UINT32_MAX;
	o = inside ? nat_inside_owner(&e->cfg, e->ft, p) :
		     nat_inbound_owner(&e->cfg, e->ft, e->pt, p);
	return o < e->n ? o : 0;
}

/* one frame through worker w: lookup, creation on a miss (inside), update, rewrite */
static struct ct_conn *
process(struct rss_emu *e, unsigned int w, struct ct_pkt *p, uint8_t *f, bool inside,
	ct_time_t now)
{
	struct ct_pkt *pp = p;
	enum nat_reason nw;
	enum ct_reason cw;

	ct_lookup_burst(e->ct[w], &pp, 1, now);
	if (p->conn == NULL) {
		if (!inside || ct_new_ok(e->ct[w], p) != CT_R_NONE)
			return NULL;
		p->conn = nat_out_new(e->nc[w], p, now, &nw, &cw);
		if (p->conn == NULL)
			return NULL;
		p->dir = CT_DIR_ORIG;
	}
	if (ct_update(e->ct[w], p, f, now, &cw) == CT_INVALID ||
	    nat_rewrite(p->conn, p, f) != 0)
		return NULL;
	return p->conn;
}

/* One queue count; with preserve, the counts go to a scratch result and only the fraction
 * is kept (in fraction_preserve). */
static int
run_one(struct bench_rss_res *r, unsigned int qi, uint32_t flows, bool preserve)
{
	const struct nat_rss_port *in = &rss_tab.port[NAT_RSS_INSIDE];
	const struct nat_rss_port *out = &rss_tab.port[NAT_RSS_OUTSIDE];
	static const char pl[] = "natgw-bench rss";
	struct rss_emu e;
	const ct_time_t now = 1000ull * CT_USEC_PER_SEC;
	uint32_t i;

	if (emu_init(&e, rss_queues[qi], flows, preserve) != 0)
		return -1;
	r->queues[qi] = rss_queues[qi];
	for (i = 0; i < flows; i++) {
		uint32_t hidx = i / RSS_FLOWS_PER_HOST, j = i % RSS_FLOWS_PER_HOST;
		uint32_t host = htonl(0x0a000001u + hidx);
		uint32_t srv = htonl(0xc6120000u + (uint32_t)(rte_rand() % 4096));
		uint16_t sport = (uint16_t)(32768 + (hidx * 7919 + j * 1733) % 28000);
		bool tcp = rte_rand() % 10 < 8;
		struct pb_spec s = {
			.src = host, .dst = srv, .sport = sport, .dport = tcp ? 443 : 53,
			.proto = tcp ? IPPROTO_TCP : IPPROTO_UDP, .tcp_flags = PB_SYN,
			.seq = 1000, .payload = tcp ? NULL : pl,
			.payload_len = tcp ? 0 : sizeof(pl) - 1,
		};
		uint8_t f[PB_MAX];
		unsigned int len = pb_build(f, &s), rx, o;
		struct ct_pkt p;
		uint32_t ext;
		uint16_t eport;

		/* the first packet, on the inside */
		rx = nic_rx(in, f);
		o = owner(&e, f, len, true, &p);
		r->pkts[qi]++;
		if (o == UINT32_MAX || process(&e, o, &p, f, true, now) == NULL) {
			r->bad[qi]++;
			continue;
		}
		r->handoff_out[qi] += rx != o;
		ext = pb_ip_src(f);
		eport = pb_sport(f);
		/* the reply, on the outside */
		s = (struct pb_spec){
			.src = srv, .dst = ext, .sport = tcp ? 443 : 53, .dport = eport,
			.proto = tcp ? IPPROTO_TCP : IPPROTO_UDP, .tcp_flags = PB_SYN | PB_ACK,
			.seq = 5000, .ack = 1001, .payload = tcp ? NULL : pl,
			.payload_len = tcp ? 0 : sizeof(pl) - 1,
		};
		len = pb_build(f, &s);
		rx = nic_rx(out, f);
		o = owner(&e, f, len, false, &p);
		r->pkts[qi]++;
		if (o == UINT32_MAX || process(&e, o, &p, f, false, now) == NULL ||
		    p.dir != CT_DIR_REPLY || pb_ip_dst(f) != host || pb_dport(f) != sport) {
			r->bad[qi]++;
			continue;
		}
		r->handoff_in[qi] += rx != o;
		/* another remote to the same mapping (EIM): where it lands, who owns it */
		s.src = htonl(0xc6130000u + (uint32_t)(rte_rand() % 65536));
		s.sport = (uint16_t)(1024 + rte_rand() % 64000);
		len = pb_build(f, &s);
		rx = nic_rx(out, f);
		o = owner(&e, f, len, false, &p);
		r->pkts[qi]++;
		r->handoff_eim[qi] += rx != o;
	}
	r->fraction[qi] = r->pkts[qi] == 0 ? 1.0 :
		(double)(r->handoff_out[qi] + r->handoff_in[qi] + r->handoff_eim[qi]) /
		(double)r->pkts[qi];
	emu_free(&e);
	return 0;
}

int
bench_rss_run(struct bench_rss_res *r, bool quick, uint64_t seed)
{
	unsigned int qi;

	memset(r, 0, sizeof(*r));
	rte_srand(seed);
	r->reta_size = RSS_RETA;
	r->flows = quick ? 8192 : 65536;
	for (qi = 0; qi < BENCH_RSS_NQ; qi++) {
		struct bench_rss_res pr;

		memset(&pr, 0, sizeof(pr));
		if (run_one(r, qi, r->flows, false) != 0 || run_one(&pr, qi, r->flows, true) != 0) {
			fprintf(stderr, "natgw-bench: rss emulation (%u queues) could not be set "
				"up\n", rss_queues[qi]);
			return -1;
		}
		r->fraction_preserve[qi] = pr.fraction[qi];
	}
	r->ran = true;
	return 0;
}

void
bench_rss_print(const struct bench_rss_res *r)
{
	unsigned int qi;

	if (!r->ran)
		return;
	printf("RSS steering, emulated NIC (RETA %u, natgw's key; %u flows: first packet, reply, "
	       "and a packet from another remote each)\n", r->reta_size, r->flows);
	printf("%-34s %12s %9s %9s %9s %8s %10s\n", "queues = workers", "handoff", "inside",
	       "reply", "eim", "bad", "preserve");
	for (qi = 0; qi < BENCH_RSS_NQ; qi++) {
		char name[64];

		snprintf(name, sizeof(name), "%u queues", r->queues[qi]);
		printf("%-34s %11.4f%% %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %8" PRIu64
		       " %9.2f%%\n", name, 100.0 * r->fraction[qi], r->handoff_out[qi],
		       r->handoff_in[qi], r->handoff_eim[qi], r->bad[qi],
		       100.0 * r->fraction_preserve[qi]);
	}
}

void
bench_rss_json(FILE *f, const struct bench_rss_res *r)
{
	unsigned int qi;

	if (!r->ran) {
		fprintf(f, "  \"handoff_fraction\": null,\n");
		return;
	}
	fprintf(f, "  \"handoff_fraction\": {");
	for (qi = 0; qi < BENCH_RSS_NQ; qi++)
		fprintf(f, "%s\"%u\": %.6f", qi ? ", " : "", r->queues[qi], r->fraction[qi]);
	fprintf(f, "},\n  \"handoff_fraction_preserve\": {");
	for (qi = 0; qi < BENCH_RSS_NQ; qi++)
		fprintf(f, "%s\"%u\": %.6f", qi ? ", " : "", r->queues[qi],
			r->fraction_preserve[qi]);
	fprintf(f, "},\n  \"handoff\": {\"reta_size\": %u, \"flows\": %u, \"per_queues\": [",
		r->reta_size, r->flows);
	for (qi = 0; qi < BENCH_RSS_NQ; qi++)
		fprintf(f, "%s{\"queues\": %u, \"packets\": %" PRIu64 ", \"inside\": %" PRIu64
			", \"reply\": %" PRIu64 ", \"other_remote\": %" PRIu64 ", \"bad\": %" PRIu64
			"}", qi ? ", " : "", r->queues[qi], r->pkts[qi], r->handoff_out[qi],
			r->handoff_in[qi], r->handoff_eim[qi], r->bad[qi]);
	fprintf(f, "]},\n");
}
