/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_report.c - natgw-bench's output: the table on stdout, bench-results.json (the
 * fields run.sh, CI and the findings rely on) and the gnuplot data file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "natgw_bench.h"


static void
cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *c = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && c != NULL) {
			snprintf(buf, len, "%s", c + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
}


static const struct size_result *
est_at(const struct results *res, uint32_t sessions)
{
	unsigned int i;

	for (i = 0; i < res->n_est; i++)
		if (res->est[i].sessions == sessions)
			return &res->est[i];
	return NULL;
}

/* the IPv6 rows (bench_ip6.c): 80-byte IPv6 frames (NAT64: 60-byte IPv4 on the outside) */
static void
ip6_row(const struct ip6_result *r, const char *what, double fl)
{
	char name[64];

	if (!r->ok)
		return;
	snprintf(name, sizeof(name), "established %s, %u conns", what, r->sessions);
	printf("%-34s %12.1f %9.2f %9.2f %11s %8" PRIu64 "\n", name, r->r.cycles, r->r.mpps,
	       r->r.cycles / fl, "-", r->drops);
}

static void
ip6_json(FILE *f, const char *key, const struct ip6_result *r, double fl)
{
	fprintf(f, "  \"%s_est_cycles_per_pkt\": %.2f,\n", key, r->ok ? r->r.cycles : 0.0);
	fprintf(f, "  \"%s_established\": {\"measured\": %s, \"sessions\": %u, "
		"\"cycles_per_pkt\": %.2f, \"p10_cycles_per_pkt\": %.2f, "
		"\"mean_cycles_per_pkt\": %.2f, \"mpps\": %.3f, \"ratio_to_floor\": %.3f, "
		"\"packets\": %" PRIu64 ", \"drops\": %" PRIu64 ", \"outbound_ok\": %" PRIu64
		", \"inbound_ok\": %" PRIu64 ", \"bad\": %" PRIu64 ", "
		"\"translated_verified\": %s},\n",
		key, r->ok ? "true" : "false", r->sessions, r->r.cycles, r->p10_cycles,
		r->r.mean, r->r.mpps, r->ok ? r->r.cycles / fl : 0.0, r->r.pkts, r->drops,
		r->out_ok, r->in_ok, r->bad, r->ok && r->bad == 0 ? "true" : "false");
}

void
bench_print_table(const struct bench *b, const struct results *res)
{
	double fl = res->floor.cycles;
	unsigned int i;

	printf("\nnatgw-bench: TSC %.3f GHz, one lcore, burst %d, 60-byte frames "
	       "(TCP: %d payload bytes, seq/ack advancing)\n", b->tsc_hz / 1e9, BURST, TCP_PL);
	printf("%-34s %12s %9s %9s %11s %8s\n", "measurement", "cycles/pkt", "Mpps", "x floor",
	       "bytes/conn", "drops");
	printf("%-34s %12.1f %9.2f %9.2f %11s %8d\n", "floor (no NAT, rx+tx only)", fl,
	       res->floor.mpps, 1.0, "-", 0);
	for (i = 0; i < res->n_est; i++) {
		const struct size_result *s = &res->est[i];
		char name[64];

		snprintf(name, sizeof(name), "established, %u conns", s->sessions);
		printf("%-34s %12.1f %9.2f %9.2f %11.1f %8" PRIu64 "\n", name, s->r.cycles,
		       s->r.mpps, s->r.cycles / fl, s->bytes_per_conn, s->drops);
	}
	if (res->mix_ok)
		printf("%-34s %12.1f %9.2f %9.2f %11s %8" PRIu64 "\n",
		       "mix 90% established / 10% new", res->mix.cycles, res->mix.mpps,
		       res->mix.cycles / fl, "-", res->mix_drops);
	ip6_row(&res->ip6, "IPv6", fl);
	ip6_row(&res->nat64, "NAT64", fl);
	if (res->ip6.ok || res->nat64.ok)
		printf("  (IPv6: routed, conntrack, 80-byte frames; NAT64: 64:ff9b::/96, 80-byte "
		       "IPv6 inside, 60-byte IPv4 outside)\n");
	if (res->cps_ok)
		printf("%-34s %12.1f %9s %9s %11s %8" PRIu64 "  => %.2f M new conn/s (%" PRIu64
		       " of %" PRIu64 " replies back translated)\n",
		       "new connection (first + reply)", res->cps.cycles, "-", "-", "-",
		       res->cps_drops, res->cps.mpps, res->cps_conns, res->cps_offered);
	bench_rss_print(&res->rss);
}

void
bench_json_write(const struct bench *b, const struct results *res, int argc, char **argv)
{
	FILE *f = fopen(b->o.json, "w");
	char cpu[128];
	double load[1];
	const struct size_result *s64k = est_at(res, 65536), *s4m = est_at(res, 4194304);
	double scale_b = 0;
	unsigned int i;
	int a;

	if (f == NULL) {
		fprintf(stderr, "natgw-bench: %s: %s\n", b->o.json, strerror(errno));
		return;
	}
	cpu_model(cpu, sizeof(cpu));
	fprintf(f, "{\n  \"tool\": \"natgw-bench\",\n  \"statistic\": \"median over chunks of %d "
		"iterations (%d packets); p10 and mean kept\",", CHUNK_ITERS, CHUNK_ITERS * 2 * BURST);
	fprintf(f, "\n  \"tool_note\": \"TSC cycles; one lcore; --no-huge unless hugepages\",\n"
		"  \"quick\": %s,\n  \"command\": \"", b->o.quick ? "true" : "false");
	for (a = 0; a < argc; a++)
		fprintf(f, "%s%s", a ? " " : "", argv[a]);
	fprintf(f, "\",\n  \"cpu\": \"%s\",\n  \"tsc_hz\": %" PRIu64 ",\n", cpu, b->tsc_hz);
	if (getloadavg(load, 1) == 1)
		fprintf(f, "  \"loadavg_start\": %.2f,\n  \"loadavg_end\": %.2f,\n",
			b->load_start, load[0]);
	fprintf(f, "  \"pool_addrs\": %u,\n  \"max_hosts\": %u,\n  \"tcp_pct\": %u,\n",
		b->o.pool_addrs, b->o.max_hosts, b->o.tcp_pct);
	fprintf(f, "  \"hugepages\": %s,\n  \"burst\": %d,\n  \"frame_len\": %d,\n",
		b->o.huge ? "true" : "false", BURST, FRAME_LEN);
	fprintf(f, "  \"tcp_payload_bytes\": %d,\n  \"tcp_seq_advancing\": true,\n"
		"  \"new_conn_counted\": \"reply back translated (checked on the bytes)\",\n",
		TCP_PL);
	fprintf(f, "  \"floor_cycles_per_pkt\": %.2f,\n  \"floor_mean_cycles_per_pkt\": %.2f,\n"
		"  \"floor_mpps\": %.3f,\n  \"floor_drops\": 0,\n", res->floor.cycles,
		res->floor.mean, res->floor.mpps);
	fprintf(f, "  \"established\": [\n");
	for (i = 0; i < res->n_est; i++) {
		const struct size_result *s = &res->est[i];

		fprintf(f, "    {\"sessions\": %u, \"cycles_per_pkt\": %.2f, \"p10_cycles_per_pkt\":"
			" %.2f, \"mean_cycles_per_pkt\": %.2f, \"mpps\": %.3f, \"ratio_to_floor\": %.3f,"
			" \"bytes_per_conn\": %.1f,"
			" \"ct_bytes_per_conn\": %.1f, \"memory_bytes\": %zu, \"capacity\": %u,"
			" \"packets\": %" PRIu64 ", \"drops\": %" PRIu64 ","
			" \"translated_verified\": %s}%s\n",
			s->sessions, s->r.cycles, s->p10_cycles, s->r.mean, s->r.mpps,
			s->r.cycles / res->floor.cycles, s->bytes_per_conn, s->ct_bytes_per_conn,
			s->mem_bytes, s->capacity, s->r.pkts, s->drops,
			s->verified ? "true" : "false",
			i + 1 < res->n_est ? "," : "");
		/* the per-connection figure is the one at scale: the largest size, where fixed
		 * costs (port bitmaps, fragment table) no longer count */
		if (i + 1 == res->n_est)
			scale_b = s->bytes_per_conn;
	}
	fprintf(f, "  ],\n");
	fprintf(f, "  \"new_conn_mean_cycles\": %.1f,\n", res->cps.mean);
	fprintf(f, "  \"new_conn_per_sec\": %.0f,\n  \"new_conn_cycles\": %.1f,\n"
		"  \"new_conn_measured\": %" PRIu64 ",\n  \"new_conn_drops\": %" PRIu64 ",\n"
		"  \"new_conn_offered\": %" PRIu64 ",\n  \"new_conn_bad\": %" PRIu64 ",\n",
		res->cps_ok ? res->cps.mpps * 1e6 : 0.0, res->cps.cycles, res->cps_conns,
		res->cps_drops, res->cps_offered, res->cps_bad);
	fprintf(f, "  \"new_conn_split_cycles\": {\"first_packet\": %.1f, \"reply\": %.1f, "
		"\"expiry\": %.1f, \"what\": \"mean TSC cycles per offered connection inside "
		"natgw's receive calls (first packets; replies) and its housekeeping\"},\n",
		res->cps_first, res->cps_reply, res->cps_expiry);
	fprintf(f, "  \"mix_cycles_per_pkt\": %.2f,\n  \"mix_drops\": %" PRIu64 ",\n",
		res->mix_ok ? res->mix.cycles : 0.0, res->mix_drops);
	fprintf(f, "  \"mix\": {\"established_share\": 0.9, \"cycles_per_pkt\": %.2f, "
		"\"mean_cycles_per_pkt\": %.2f, \"mpps\": %.3f, \"ratio_to_floor\": %.3f, "
		"\"drops\": %" PRIu64 "},\n", res->mix.cycles, res->mix.mean, res->mix.mpps,
		res->mix_ok ? res->mix.cycles / res->floor.cycles : 0.0, res->mix_drops);
	ip6_json(f, "ip6", &res->ip6, res->floor.cycles);
	ip6_json(f, "nat64", &res->nat64, res->floor.cycles);
	bench_rss_json(f, &res->rss);
	fprintf(f, "  \"bytes_per_conn\": %.1f,\n  \"bytes_per_conn_at_sessions\": %u,\n", scale_b,
		res->n_est > 0 ? res->est[res->n_est - 1].sessions : 0);
	fprintf(f, "  \"verification\": {\"outbound_translated_ok\": %" PRIu64 ", "
		"\"inbound_translated_ok\": %" PRIu64 ", \"bad\": %" PRIu64 ", "
		"\"tx_eq_rx\": %s},\n", b->total_out_ok, b->total_in_ok, b->total_bad,
		res->all_tx_eq_rx ? "true" : "false");
	fprintf(f, "  \"targets\": {\"est_64k_le_250\": %s, \"est_4m_le_500\": %s, "
		"\"new_conn_ge_1m\": %s, \"bytes_per_conn_le_256\": %s,",
		s64k == NULL ? "null" : s64k->r.cycles <= 250 ? "true" : "false",
		s4m == NULL ? "null" : s4m->r.cycles <= 500 ? "true" : "false",
		!res->cps_ok ? "null" : res->cps.mpps >= 1.0 ? "true" : "false",
		res->n_est == 0 ? "null" : scale_b <= 256 ? "true" : "false");
	/* the speed targets (docs/bench-findings.md) */
	fprintf(f, " \"est_64k_le_150\": %s, \"est_4m_le_250\": %s, \"mix_le_300\": %s,"
		" \"new_conn_ge_2m\": %s, \"bytes_per_conn_le_192\": %s}\n}\n",
		s64k == NULL ? "null" : s64k->r.cycles <= 150 ? "true" : "false",
		s4m == NULL ? "null" : s4m->r.cycles <= 250 ? "true" : "false",
		!res->mix_ok ? "null" : res->mix.cycles <= 300 ? "true" : "false",
		!res->cps_ok ? "null" : res->cps.mpps >= 2.0 ? "true" : "false",
		res->n_est == 0 ? "null" : scale_b <= 192 ? "true" : "false");
	fclose(f);
	if (b->o.dat != NULL && (f = fopen(b->o.dat, "w")) != NULL) {
		fprintf(f, "# sessions cycles_per_pkt floor bytes_per_conn p10_cycles_per_pkt "
			"drops mix_cycles mix_drops new_conn_drops\n");
		for (i = 0; i < res->n_est; i++) {
			const struct size_result *e = &res->est[i];

			fprintf(f, "%u %.2f %.2f %.1f %.2f %" PRIu64 " %.2f %" PRIu64 " %" PRIu64
				"\n", e->sessions, e->r.cycles, res->floor.cycles,
				e->bytes_per_conn, e->p10_cycles, e->drops,
				res->mix_ok ? res->mix.cycles : 0.0, res->mix_drops,
				res->cps_drops);
		}
		fclose(f);
	}
}

