/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_bench.c - ct-bench: TSC cycles per established-connection packet through
 * ct_lookup_burst + ct_update (bursts of 32, flows in random order), at 64k and 1M
 * connections (or the sizes given on the command line). No EAL: the table is on the heap
 * (with transparent huge pages). Packet headers are copied into the burst's buffers before
 * the timed region, as a received burst is hot in cache after parsing.
 *
 * usage: ct-bench [connections ...]      e.g. ct-bench 65536 1048576
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_cycles.h>

#include "ct.h"

#define BURST 32
#define FRAME 64	/* Ethernet + IPv4 + TCP, padded */
#define ISN_O 1000u
#define ISN_R 500000u

struct flow {
	uint8_t frame[FRAME];	/* an established-state ACK from the originator */
	struct ct_pkt pkt;	/* parsed once */
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* A TCP frame src:sport -> dst:dport (host-order args). No checksums: the parser is asked
 * not to verify the IPv4 one, and the handshake is fed as if the NIC had verified the TCP
 * one (one_packet); established ACKs, the timed ones, are never verified. */
static unsigned int
tcp_frame(uint8_t *f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
	  uint8_t flags, uint32_t seq, uint32_t ack)
{
	uint8_t *ip = f + 14, *th = ip + 20;

	memset(f, 0, FRAME);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, 40);
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(th, sport);
	put16(th + 2, dport);
	put32(th + 4, seq);
	put32(th + 8, ack);
	th[12] = 5 << 4;
	th[13] = flags;
	put16(th + 14, 65535);
	return 54;
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
one_packet(struct ct_table *t, uint8_t *f, unsigned int len, ct_time_t now)
{
	struct ct_pkt p, *pp = &p;
	enum ct_reason why;

	if (ct_parse_ipv4(f, len, 14, false, &p) != CT_R_NONE)
		return -1;
	p.l4_csum_ok = true;	/* as checked by the NIC (these frames carry none) */
	ct_lookup_burst(t, &pp, 1, now);
	if (p.conn == NULL) {
		struct ct_tuple r = ct_tuple_invert(&p.tuple);

		p.conn = ct_create(t, &p.tuple, &r, now, &why);
		if (p.conn == NULL)
			return -1;
		p.dir = CT_DIR_ORIG;
	}
	return ct_update(t, &p, f, now, &why) == CT_INVALID ? -1 : 0;
}

static int
run(uint32_t n, unsigned int passes)
{
	struct ct_params prm = { .capacity = n, .use_heap = true, .name = "bench" };
	struct ct_table *t = ct_table_create(&prm);
	struct flow *fl = aligned_alloc(64, sizeof(*fl) * n);
	uint32_t *order = malloc(sizeof(*order) * n);
	struct flow burst[BURST] __attribute__((aligned(64)));
	struct ct_pkt *pp[BURST];
	uint64_t cycles = 0, pkts = 0, rng = 0x9e3779b97f4a7c15ull, t0, t1;
	double per_pass[64], best, median;
	ct_time_t now = 1000000;
	uint8_t f[FRAME];
	unsigned int pass, i, j, est = 0;
	struct ct_stats st;

	if (t == NULL || fl == NULL || order == NULL) {
		fprintf(stderr, "ct-bench: out of memory for %u connections\n", n);
		return -1;
	}
	/* n TCP connections through a real handshake */
	for (i = 0; i < n; i++) {
		uint32_t src = 0x0a000000u + (i >> 8), dst = 0xcb007100u + (i & 0xff);
		uint16_t sport = (uint16_t)(1024 + (i % 60000)), dport = 443;
		unsigned int len;

		len = tcp_frame(f, src, dst, sport, dport, 0x02, ISN_O, 0);
		if (one_packet(t, f, len, now) < 0)
			goto fail;
		len = tcp_frame(f, dst, src, dport, sport, 0x12, ISN_R, ISN_O + 1);
		if (one_packet(t, f, len, now) < 0)
			goto fail;
		len = tcp_frame(fl[i].frame, src, dst, sport, dport, 0x10, ISN_O + 1, ISN_R + 1);
		if (one_packet(t, fl[i].frame, len, now) < 0)
			goto fail;
		if (ct_parse_ipv4(fl[i].frame, len, 14, false, &fl[i].pkt) != CT_R_NONE)
			goto fail;
		order[i] = i;
	}
	for (i = n - 1; i > 0; i--) {
		uint32_t k = (uint32_t)(xorshift(&rng) % (i + 1)), x = order[i];

		order[i] = order[k];
		order[k] = x;
	}
	for (i = 0; i < BURST; i++)
		pp[i] = &burst[i].pkt;
	/* pass 0 warms caches and TLB; the others are timed */
	for (pass = 0; pass <= passes; pass++) {
		uint64_t pass_cycles = 0;

		for (i = 0; i + BURST <= n; i += BURST) {
			enum ct_reason why;

			for (j = 0; j < BURST; j++)
				memcpy(&burst[j], &fl[order[i + j]], sizeof(burst[j]));
			now += 1;
			t0 = rte_rdtsc_precise();
			ct_lookup_burst(t, pp, BURST, now);
			for (j = 0; j < BURST; j++) {
				if (pp[j]->conn != NULL &&
				    ct_update(t, pp[j], burst[j].frame, now, &why) ==
				    CT_ESTABLISHED)
					est++;
			}
			t1 = rte_rdtsc_precise();
			pass_cycles += t1 - t0;
			if (pass > 0) {
				cycles += t1 - t0;
				pkts += BURST;
			}
		}
		if (pass > 0)
			per_pass[pass - 1] = (double)pass_cycles / (double)(n / BURST * BURST);
	}
	qsort(per_pass, passes, sizeof(double), cmp_double);
	best = per_pass[0];
	median = per_pass[passes / 2];
	ct_stats_get(t, &st);
	printf("ct-bench: %8u connections: cycles/packet (lookup_burst+update, burst %d, random "
	       "order) mean %.1f, median pass %.1f, best pass %.1f; %" PRIu64 " packets in %u "
	       "passes, table %.1f MiB\n", n, BURST, (double)cycles / (double)pkts, median, best,
	       pkts, passes, (double)ct_table_memory(t) / (1 << 20));
	if (est != (passes + 1) * (n / BURST) * BURST || st.active != n) {
		fprintf(stderr, "ct-bench: verdict mismatch (established %u, active %" PRIu64 ")\n",
			est, st.active);
		goto fail;
	}
	ct_table_free(t);
	free(fl);
	free(order);
	return 0;
fail:
	fprintf(stderr, "ct-bench: setup failed at %u connections\n", n);
	ct_table_free(t);
	free(fl);
	free(order);
	return -1;
}

int
main(int argc, char **argv)
{
	uint32_t sizes[8] = { 65536, 1048576 };
	unsigned int ns = 2, i;

	if (argc > 1) {
		ns = 0;
		for (i = 1; i < (unsigned int)argc && ns < 8; i++)
			sizes[ns++] = (uint32_t)strtoul(argv[i], NULL, 0);
	}
	for (i = 0; i < ns; i++)
		if (run(sizes[i], sizes[i] >= 1000000 ? 9 : 31) < 0)
			return 1;
	return 0;
}
