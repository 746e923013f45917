/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_telemetry.c - the control plane's view through DPDK telemetry (dpdk-telemetry.py,
 * tools/natgw-conntrack): /natgw/stats (counters), /natgw/drops (per reason),
 * /natgw/conns[,WORKER:CURSOR] (connections, both tuples, state, timeout left, owner worker
 * and lcore; paged, "next" is the parameter of the following page), /natgw/config.
 * Runs on the telemetry thread; reads counters word by word and connections with
 * ct_snapshot(), so the workers are never blocked.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "gw_private.h"
#include "gw_nat64.h"

#define GW_TEL_CONNS_PER_PAGE 24

static struct gw *gw_tel;
static ct_time_t (*gw_tel_clock)(void);
static gw_port_hw_stats_fn gw_tel_port_stats;

void
gw_telemetry_set_port_stats(gw_port_hw_stats_fn fn)
{
	gw_tel_port_stats = fn;
}

/* the ports' PMD-level counters, per port: <port>_imissed, _ierrors, ... */
static void
gw_tel_port_hw(struct rte_tel_data *d, unsigned int p)
{
	struct gw_port_hw_stats h;
	char k[40];

	if (gw_tel_port_stats == NULL || gw_tel_port_stats(p, &h) < 0)
		return;
#define GW_TEL_HW(name) do { \
		snprintf(k, sizeof(k), "%s_" #name, gw_port_name(p)); \
		rte_tel_data_add_dict_u64(d, k, h.name); \
	} while (0)
	GW_TEL_HW(ipackets);
	GW_TEL_HW(opackets);
	GW_TEL_HW(imissed);
	GW_TEL_HW(ierrors);
	GW_TEL_HW(rx_nombuf);
	GW_TEL_HW(oerrors);
	GW_TEL_HW(pmd_drops);
	if (h.kernel) {
		GW_TEL_HW(kernel_rx_dropped);
		GW_TEL_HW(kernel_tx_dropped);
	}
#undef GW_TEL_HW
}
static unsigned int gw_tel_lcore[GW_MAX_WORKERS];

void
gw_set_worker_lcore(struct gw *g, unsigned int idx, unsigned int lcore)
{
	RTE_SET_USED(g);
	if (idx < GW_MAX_WORKERS)
		gw_tel_lcore[idx] = lcore;
}

static int
gw_tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct gw_stats s;
	unsigned int p;
	char k[32];

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	gw_stats_get(gw_tel, &s);
	rte_tel_data_start_dict(d);
	for (p = 0; p < GW_PORT_MAX; p++) {
		snprintf(k, sizeof(k), "%s_rx", gw_port_name(p));
		rte_tel_data_add_dict_u64(d, k, s.w.rx[p]);
		snprintf(k, sizeof(k), "%s_tx", gw_port_name(p));
		rte_tel_data_add_dict_u64(d, k, s.w.tx[p]);
		snprintf(k, sizeof(k), "%s_drop", gw_port_name(p));
		rte_tel_data_add_dict_u64(d, k, s.w.drop[p]);
		gw_tel_port_hw(d, p);
	}
	rte_tel_data_add_dict_u64(d, "workers", gw_tel->n_workers);
	rte_tel_data_add_dict_u64(d, "conns_active", s.ct.active);
	rte_tel_data_add_dict_u64(d, "conns_created", s.ct.created);
	rte_tel_data_add_dict_u64(d, "conns_expired", s.ct.expired);
	rte_tel_data_add_dict_u64(d, "conns_evicted", s.ct.evicted);
	rte_tel_data_add_dict_u64(d, "conns_refused", s.ct.refused);
	rte_tel_data_add_dict_u64(d, "nat_mappings_active", s.nat.mappings_active);
	rte_tel_data_add_dict_u64(d, "nat_ports_in_use", s.nat.ports_in_use);
	rte_tel_data_add_dict_u64(d, "nat_triggers_fired", s.nat.triggers_fired);
	rte_tel_data_add_dict_u64(d, "nat_triggered_in", s.nat.triggered_in);
	rte_tel_data_add_dict_u64(d, "nat_triggers_evicted", s.nat.triggers_evicted);
	rte_tel_data_add_dict_u64(d, "handoff", s.w.handoff_out);
	rte_tel_data_add_dict_u64(d, "fast_path", s.w.fast_path);
	rte_tel_data_add_dict_u64(d, "arp_requests", s.w.arp_requests);
	rte_tel_data_add_dict_u64(d, "arp_replies", s.w.arp_replies);
	rte_tel_data_add_dict_u64(d, "icmp_sent", s.w.icmp_sent);
	rte_tel_data_add_dict_u64(d, "reassembled", s.w.reassembled);
	rte_tel_data_add_dict_u64(d, "fragmented", s.w.fragmented);
	rte_tel_data_add_dict_u64(d, "frag_held", s.w.frag_held);
	rte_tel_data_add_dict_u64(d, "events", s.w.events);		/* gw_event.h */
	rte_tel_data_add_dict_u64(d, "events_lost", s.w.events_lost);
	rte_tel_data_add_dict_u64(d, "arp_learned", s.w.arp_learned);
	rte_tel_data_add_dict_u64(d, "arp_ignored", s.w.arp_ignored);
	rte_tel_data_add_dict_u64(d, "arp_evicted", s.w.arp_evicted);
	rte_tel_data_add_dict_u64(d, "arp_aged", s.w.arp_aged);
	rte_tel_data_add_dict_u64(d, "tcp_ignored", s.ct.tcp_ignored);
	rte_tel_data_add_dict_u64(d, "tcp_rst_challenged", s.ct.tcp_rst_challenged);
	rte_tel_data_add_dict_u64(d, "tcp_reinit", s.ct.tcp_reinit);
	if (gw_tel->w[0]->hc != NULL) {
		unsigned int c;

		rte_tel_data_add_dict_u64(d, "helper_expect_active", s.hlp.expect_active);
		for (c = 0; c < HELPER_C_MAX; c++) {
			snprintf(k, sizeof(k), "helper_%s", helper_counter_id(c));
			rte_tel_data_add_dict_u64(d, k, s.hlp.c[c]);
		}
	}
	return 0;
}

static int
gw_tel_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct gw_stats s;
	unsigned int r, n = 0;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	gw_stats_get(gw_tel, &s);
	rte_tel_data_start_dict(d);
	for (r = 1; r < GW_DROP_MAX && n < RTE_TEL_MAX_DICT_ENTRIES; r++) {
		if (s.w.reason[r] == 0)
			continue;
		rte_tel_data_add_dict_u64(d, gw_drop_id(r), s.w.reason[r]);
		n++;
	}
	/* and what was lost under natgw, per port: PMD_INSIDE_IMISSED ... (non-zero) */
	for (r = 0; r < GW_PORT_MAX && gw_tel_port_stats != NULL; r++) {
		struct gw_port_hw_stats h;
		const uint64_t *v[] = { &h.imissed, &h.ierrors, &h.rx_nombuf, &h.oerrors,
					&h.pmd_drops, &h.kernel_rx_dropped, &h.kernel_tx_dropped };
		static const char *const id[] = { "IMISSED", "IERRORS", "RX_NOMBUF", "OERRORS",
						  "XSTATS_DROPS", "KERNEL_RX_DROPPED",
						  "KERNEL_TX_DROPPED" };
		unsigned int i;
		char k[48];

		memset(&h, 0, sizeof(h));
		if (gw_tel_port_stats(r, &h) < 0)
			continue;
		for (i = 0; i < RTE_DIM(v) && n < RTE_TEL_MAX_DICT_ENTRIES; i++) {
			if (*v[i] == 0)
				continue;
			snprintf(k, sizeof(k), "PMD_%s_%s", r == GW_PORT_INSIDE ? "INSIDE" :
				 "OUTSIDE", id[i]);
			rte_tel_data_add_dict_u64(d, k, *v[i]);
			n++;
		}
	}
	return 0;
}

static void
gw_tel_tuple(char *buf, size_t len, const struct ct_tuple *t)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &t->src, a, sizeof(a));
	inet_ntop(AF_INET, &t->dst, b, sizeof(b));
	snprintf(buf, len, "src=%s dst=%s sport=%u dport=%u", a, b, rte_be_to_cpu_16(t->sport),
		 rte_be_to_cpu_16(t->dport));
}

static const char *
gw_tel_proto(uint8_t p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : p == IPPROTO_ICMP ? "icmp" :
	       p == IPPROTO_ICMPV6 ? "icmpv6" : "other";
}

/* An IPv6 connection's tuple with its exact addresses (ct_ip6.c keeps them beside the
 * folded key); false when c is not one. */
static bool
gw_tel_tuple6(char *buf, size_t len, struct ct_table *t, const struct ct_conn_info *ci,
	      enum ct_dir d)
{
	const struct ct_tuple *k = &ci->tuple[d];
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	struct ct_conn *c = ct_conn_by_id(t, ci->id);
	struct ct_addr6 x;

	if (k->family != CT_FAMILY_IPV6 || c == NULL || !ct_conn_addr6(t, c, d, &x))
		return false;
	inet_ntop(AF_INET6, x.src, a, sizeof(a));
	inet_ntop(AF_INET6, x.dst, b, sizeof(b));
	snprintf(buf, len, "src=%s dst=%s sport=%u dport=%u", a, b, rte_be_to_cpu_16(k->sport),
		 rte_be_to_cpu_16(k->dport));
	return true;
}

static int
gw_tel_conns(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct ct_conn_info ci[GW_TEL_CONNS_PER_PAGE];
	unsigned int wk = 0, i, n = 0, got;
	uint32_t cur = 0;
	ct_time_t now = gw_tel_clock();
	char buf[128], key[16];
	uint8_t a6[16];

	RTE_SET_USED(cmd);
	if (params != NULL && *params != '\0' && sscanf(params, "%u:%u", &wk, &cur) != 2)
		return -1;
	rte_tel_data_start_dict(d);
	while (wk < gw_tel->n_workers && n < GW_TEL_CONNS_PER_PAGE) {
		got = ct_snapshot(gw_tel->w[wk]->ct, &cur, ci, GW_TEL_CONNS_PER_PAGE - n, now);
		if (got == 0) {
			wk++;
			cur = 0;
			continue;
		}
		for (i = 0; i < got; i++, n++) {
			struct rte_tel_data *c = rte_tel_data_alloc();

			if (c == NULL)
				return -1;
			rte_tel_data_start_dict(c);
			rte_tel_data_add_dict_string(c, "proto", gw_tel_proto(ci[i].tuple[0].proto));
			rte_tel_data_add_dict_u64(c, "id", ci[i].id);
			rte_tel_data_add_dict_string(c, "tcp_state", ci[i].tuple[0].proto ==
				IPPROTO_TCP ? ct_tcp_state_str(ci[i].tcp_state) : "");
			rte_tel_data_add_dict_string(c, "status",
				(ci[i].status & CT_ST_ASSURED) ? "ASSURED" :
				(ci[i].status & CT_ST_SEEN_REPLY) ? "REPLIED" : "UNREPLIED");
			rte_tel_data_add_dict_u64(c, "timeout",
				ci[i].expire > now ? (ci[i].expire - now) / CT_USEC_PER_SEC : 0);
			if (!gw_tel_tuple6(buf, sizeof(buf), gw_tel->w[wk]->ct, &ci[i], CT_DIR_ORIG))
				gw_tel_tuple(buf, sizeof(buf), &ci[i].tuple[0]);
			rte_tel_data_add_dict_string(c, "orig", buf);
			if (!gw_tel_tuple6(buf, sizeof(buf), gw_tel->w[wk]->ct, &ci[i], CT_DIR_REPLY))
				gw_tel_tuple(buf, sizeof(buf), &ci[i].tuple[1]);
			rte_tel_data_add_dict_string(c, "reply", buf);
			if (gw_nat64_host_of(gw_tel, ci[i].tuple[0].src, a6)) {
				/* NAT64: the IPv6 host behind the shadow source */
				inet_ntop(AF_INET6, a6, buf, sizeof(buf));
				rte_tel_data_add_dict_string(c, "nat64_host", buf);
			}
			if (ci[i].accounting) {
				rte_tel_data_add_dict_u64(c, "packets_orig", ci[i].packets[0]);
				rte_tel_data_add_dict_u64(c, "packets_reply", ci[i].packets[1]);
			}
			rte_tel_data_add_dict_u64(c, "worker", wk);
			rte_tel_data_add_dict_u64(c, "lcore", gw_tel_lcore[wk]);
			snprintf(key, sizeof(key), "c%u", n);
			rte_tel_data_add_dict_container(d, key, c, 0);
		}
	}
	if (wk < gw_tel->n_workers) {
		snprintf(buf, sizeof(buf), "%u:%u", wk, cur);
		rte_tel_data_add_dict_string(d, "next", buf);
	}
	rte_tel_data_add_dict_u64(d, "count", n);
	return 0;
}

static int
gw_tel_config(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct gw_config *c = &gw_tel->cfg;
	char a[INET_ADDRSTRLEN];

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "file", c->path);
	inet_ntop(AF_INET, &c->ifc[0].addr, a, sizeof(a));
	rte_tel_data_add_dict_string(d, "inside_address", a);
	inet_ntop(AF_INET, &c->ifc[1].addr, a, sizeof(a));
	rte_tel_data_add_dict_string(d, "outside_address", a);
	rte_tel_data_add_dict_u64(d, "workers", gw_tel->n_workers);
	rte_tel_data_add_dict_u64(d, "capacity_per_worker", c->capacity);
	rte_tel_data_add_dict_u64(d, "forwards", c->n_fwds);
	return 0;
}

int
gw_telemetry_register(struct gw *g, ct_time_t (*clock)(void))
{
	gw_tel = g;
	gw_tel_clock = clock;
	gw_drop_str(GW_DROP_CT_BASE);	/* build the name tables now, on this thread */
	if (rte_telemetry_register_cmd("/natgw/stats", gw_tel_stats,
				       "natgw counters. No parameters") < 0 ||
	    rte_telemetry_register_cmd("/natgw/drops", gw_tel_drops,
				       "natgw drops per reason (non-zero). No parameters") < 0 ||
	    rte_telemetry_register_cmd("/natgw/conns", gw_tel_conns,
				       "natgw connections, a page. Parameter: WORKER:CURSOR from "
				       "the previous page's 'next' (none: first page)") < 0 ||
	    rte_telemetry_register_cmd("/natgw/config", gw_tel_config,
				       "natgw configuration summary. No parameters") < 0)
		return -1;
	if (gw_rules_telemetry_register(g) < 0)	/* /natgw/rules (gw_rules.c) */
		return -1;
	if (g->nat64 != NULL && gw_nat64_telemetry_register(g, clock) < 0) /* /natgw/nat64 */
		return -1;
	return 0;
}
