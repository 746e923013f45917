/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_rss.h - natgw-bench's emulated multi-queue NIC (bench_rss.c): the handoff fraction
 * of RSS-aware ownership per queue count, for the table and the JSON.
 */
#ifndef NATGW_BENCH_RSS_H
#define NATGW_BENCH_RSS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_RSS_NQ 4		/* 2, 4, 8, 16 queues */

struct bench_rss_res {
	bool ran;
	unsigned int reta_size;
	uint32_t flows;				/* per queue count */
	unsigned int queues[BENCH_RSS_NQ];
	uint64_t pkts[BENCH_RSS_NQ];		/* packets the emulated NIC received */
	uint64_t handoff_out[BENCH_RSS_NQ];	/* inside: NIC queue's worker != owner */
	uint64_t handoff_in[BENCH_RSS_NQ];	/* outside replies, first remote */
	uint64_t handoff_eim[BENCH_RSS_NQ];	/* outside, another remote to the mapping */
	uint64_t bad[BENCH_RSS_NQ];		/* not created or not translated back */
	double fraction[BENCH_RSS_NQ];		/* all handoffs / pkts */
	/* the same with rss_port_choice = preserve (the inside port kept when free) */
	double fraction_preserve[BENCH_RSS_NQ];
};

/** Run the emulation (quick: fewer flows). 0, or -1 when it could not be set up. */
int bench_rss_run(struct bench_rss_res *r, bool quick, uint64_t seed);
/** Rows for the table on stdout. */
void bench_rss_print(const struct bench_rss_res *r);
/** "handoff_fraction": {...}, and the detail, as JSON members followed by a comma. */
void bench_rss_json(FILE *f, const struct bench_rss_res *r);

#endif
