/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_stats.c - drop reason names (the gateway's own X-macro list followed by conntrack's
 * and NAT's reasons) and the counters: per-worker copies, sums, the final multi-line report
 * and the periodic one-line summary. Workers write their own counters with plain stores;
 * readers here copy word by word (each 64-bit word is read atomically).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gw_private.h"

static const char *const gw_drop_text[] = {
#define GW_DROP_TEXT(n, s) s,
	GW_FOREACH_DROP(GW_DROP_TEXT)
#undef GW_DROP_TEXT
};

static const char *const gw_drop_ids[] = {
#define GW_DROP_IDS(n, s) #n,
	GW_FOREACH_DROP(GW_DROP_IDS)
#undef GW_DROP_IDS
};

/* "ct: <reason>" / "nat: <reason>" and "CT_<ID>" / "NAT_<ID>", built once */
static char gw_sub_text[CT_R_MAX + NAT_R_MAX][80];
static char gw_sub_id[CT_R_MAX + NAT_R_MAX][48];

static void
gw_sub_init(void)
{
	static bool done;
	unsigned int i;

	if (done)
		return;
	for (i = 0; i < CT_R_MAX; i++) {
		snprintf(gw_sub_text[i], sizeof(gw_sub_text[i]), "ct: %s", ct_reason_str(i));
		snprintf(gw_sub_id[i], sizeof(gw_sub_id[i]), "CT_%s", ct_reason_id(i));
	}
	for (i = 0; i < NAT_R_MAX; i++) {
		snprintf(gw_sub_text[CT_R_MAX + i], sizeof(gw_sub_text[0]), "nat: %s",
			 nat_reason_str(i));
		snprintf(gw_sub_id[CT_R_MAX + i], sizeof(gw_sub_id[0]), "NAT_%s",
			 nat_reason_id(i));
	}
	done = true;
}

/* Called from gw_create's thread before workers start, so the lazy init is not racy in
 * practice; gw_stats_print and telemetry also call it from the main lcore only. */
const char *
gw_drop_str(enum gw_drop d)
{
	if ((unsigned int)d < GW_DROP_CT_BASE)
		return gw_drop_text[d];
	if ((unsigned int)d >= GW_DROP_MAX)
		return "unknown";
	gw_sub_init();
	return gw_sub_text[d - GW_DROP_CT_BASE];
}

const char *
gw_drop_id(enum gw_drop d)
{
	if ((unsigned int)d < GW_DROP_CT_BASE)
		return gw_drop_ids[d];
	if ((unsigned int)d >= GW_DROP_MAX)
		return "UNKNOWN";
	gw_sub_init();
	return gw_sub_id[d - GW_DROP_CT_BASE];
}

const char *
gw_port_name(unsigned int port)
{
	return port == GW_PORT_INSIDE ? "inside" : port == GW_PORT_OUTSIDE ? "outside" : "?";
}

void
gw_worker_stats_get(const struct gw_worker *w, struct gw_worker_stats *out)
{
	const uint64_t *src = (const uint64_t *)&w->st;
	uint64_t *dst = (uint64_t *)out;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

static void
gw_sum(uint64_t *acc, const uint64_t *v, size_t words)
{
	size_t i;

	for (i = 0; i < words; i++)
		acc[i] += v[i];
}

void
gw_stats_get(const struct gw *g, struct gw_stats *out)
{
	struct gw_worker_stats ws;
	struct ct_stats cs;
	struct nat_stats ns;
	struct helper_stats hs;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < g->n_workers; i++) {
		gw_worker_stats_get(g->w[i], &ws);
		ct_stats_get(g->w[i]->ct, &cs);
		nat_stats_get(g->w[i]->nat, &ns);
		gw_sum((uint64_t *)&out->w, (uint64_t *)&ws, sizeof(ws) / 8);
		gw_sum((uint64_t *)&out->ct, (uint64_t *)&cs, sizeof(cs) / 8);
		gw_sum((uint64_t *)&out->nat, (uint64_t *)&ns, sizeof(ns) / 8);
		if (g->w[i]->hc != NULL) {
			helper_stats_get(g->w[i]->hc, &hs);
			gw_sum((uint64_t *)&out->hlp, (uint64_t *)&hs, sizeof(hs) / 8);
		}
	}
}

void
gw_stats_print(FILE *f, const struct gw *g)
{
	struct gw_stats s;
	unsigned int p, r, i;

	gw_stats_get(g, &s);
	for (p = 0; p < GW_PORT_MAX; p++)
		fprintf(f, "port %-7s rx %" PRIu64 " tx %" PRIu64 " drop %" PRIu64 "\n",
			gw_port_name(p), s.w.rx[p], s.w.tx[p], s.w.drop[p]);
	for (i = 0; i < g->n_workers; i++) {
		struct gw_worker_stats ws;

		gw_worker_stats_get(g->w[i], &ws);
		fprintf(f, "worker %u rx %" PRIu64 "/%" PRIu64 " tx %" PRIu64 "/%" PRIu64
			" handoff out %" PRIu64 " in %" PRIu64 " conns created %" PRIu64
			" fast path %" PRIu64 "\n", i,
			ws.rx[0], ws.rx[1], ws.tx[0], ws.tx[1], ws.handoff_out, ws.handoff_in,
			ws.conns_created, ws.fast_path);
	}
	fprintf(f, "drops by reason:\n");
	for (r = 1; r < GW_DROP_MAX; r++)
		if (s.w.reason[r] != 0)
			fprintf(f, "  %-28s %" PRIu64 "  (%s)\n", gw_drop_id(r), s.w.reason[r],
				gw_drop_str(r));
	fprintf(f, "connections created %" PRIu64 " expired %" PRIu64 " evicted %" PRIu64
		" deleted %" PRIu64 " active %" PRIu64 "\n", s.ct.created, s.ct.expired,
		s.ct.evicted, s.ct.deleted, s.ct.active);
	fprintf(f, "tcp segments passed unchanged %" PRIu64 " rst challenged %" PRIu64
		" reinitialised %" PRIu64 "\n", s.ct.tcp_ignored, s.ct.tcp_rst_challenged,
		s.ct.tcp_reinit);
	fprintf(f, "nat mappings active %" PRIu64 " created %" PRIu64 " ports in use %" PRIu64
		" hairpinned %" PRIu64 " forwarded in %" PRIu64 "\n", s.nat.mappings_active,
		s.nat.mappings_created, s.nat.ports_in_use, s.nat.hairpinned, s.nat.forwarded_in);
	if (s.nat.triggers_fired != 0)
		fprintf(f, "port triggers fired %" PRIu64 " connections in %" PRIu64
			" ranges closed early %" PRIu64 "\n", s.nat.triggers_fired,
			s.nat.triggered_in, s.nat.triggers_evicted);
	fprintf(f, "arp requests %" PRIu64 " replies %" PRIu64 ", icmp sent %" PRIu64 " (rate-limited %" PRIu64 ")"
		", reassembled %" PRIu64 ", fragmented %" PRIu64 "\n", s.w.arp_requests,
		s.w.arp_replies, s.w.icmp_sent, s.w.icmp_ratelimited, s.w.reassembled, s.w.fragmented);
	fprintf(f, "arp learned %" PRIu64 " ignored %" PRIu64 " evicted %" PRIu64 " aged %" PRIu64
		"\n", s.w.arp_learned, s.w.arp_ignored, s.w.arp_evicted, s.w.arp_aged);
	if (gw_rules_current(g) != NULL || s.w.rs_evals != 0)	/* gw_rules.c */
		fprintf(f, "rules: evaluations %" PRIu64 " untracked %" PRIu64 ", reject sent %"
			PRIu64 " rate-limited %" PRIu64 " refused %" PRIu64 ", log %" PRIu64
			" rate-limited %" PRIu64 " lost %" PRIu64 "\n", s.w.rs_evals,
			s.w.rs_untracked, s.w.rs_reject_sent, s.w.rs_reject_ratelimited,
			s.w.rs_reject_refused, s.w.rs_logged, s.w.rs_log_ratelimited,
			s.w.rs_log_lost);
	if (g->w[0]->hc != NULL) {
		fprintf(f, "helpers: expectations active %" PRIu64 "\n", s.hlp.expect_active);
		for (r = 0; r < HELPER_C_MAX; r++)
			if (s.hlp.c[r] != 0)
				fprintf(f, "  %-28s %" PRIu64 "  (%s)\n", helper_counter_id(r),
					s.hlp.c[r], helper_counter_str(r));
	}
}

void
gw_stats_line(FILE *f, const struct gw *g)
{
	struct gw_stats s;
	uint64_t drops = 0;
	unsigned int r;

	gw_stats_get(g, &s);
	for (r = 1; r < GW_DROP_MAX; r++)
		drops += s.w.reason[r];
	fprintf(f, "natgw: in rx %" PRIu64 " tx %" PRIu64 " | out rx %" PRIu64 " tx %" PRIu64
		" | drops %" PRIu64 " | conns active %" PRIu64 " created %" PRIu64 "\n",
		s.w.rx[0], s.w.tx[0], s.w.rx[1], s.w.tx[1], drops, s.ct.active, s.ct.created);
	fflush(f);
}
