/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * selftest.h - the gateway's behaviour in the RFCs' words (app/selftest.c): used by
 * natgw-replay --selftest and tools/natgw-selftest.
 */
#ifndef NATGW_SELFTEST_H
#define NATGW_SELFTEST_H

#include <stdio.h>

#include <rte_mempool.h>

#include "gw.h"

/**
 * Run every probe on fresh gateways built from cfg (its table shrunk to a few thousand
 * connections) with n_workers workers, packets from pool (frames up to 2 KB) and big_pool
 * (reassembly), and print the report to out. Needs EAL initialised.
 * @return 0: every MUST requirement met; 1: at least one not met; -1: a probe could not run
 * (message on stderr).
 */
int gw_selftest(const struct gw_config *cfg, unsigned int n_workers, struct rte_mempool *pool,
		struct rte_mempool *big_pool, FILE *out);

#endif
