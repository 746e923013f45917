/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * natgw_port.h - the natgw executable's ports (app/natgw_port.c): the state main.c's worker
 * loops and reports read, and the steps of bringing the ports up, in the order main() runs
 * them: natgw_port_lookup, natgw_port_probe (each port), natgw_pool_size and
 * natgw_pool_create, natgw_port_init (each port).
 */
#ifndef NATGW_PORT_H
#define NATGW_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mempool.h>

#include "gw.h"
#include "nat.h"

#define NATGW_TXRING	1024	/* a worker's TX ring to the worker with the port's queue */
#define NATGW_CACHE	256	/* per-lcore mbuf cache */

enum natgw_pmd {
	NATGW_PMD_OTHER = 0,
	NATGW_PMD_AF_PACKET,	/* copies frames in and out: holds no mbufs */
	NATGW_PMD_AF_XDP,	/* the pool is its UMEM: fill, RX and TX rings hold mbufs */
};

struct natgw_ports {
	/* set by main() before natgw_port_probe */
	const struct gw_config *cfg;
	unsigned int n_workers;
	uint16_t id[GW_PORT_MAX];		/* DPDK port ids (natgw_port_lookup) */
	bool stick;				/* both sides on one port (VLAN trunk) */
	/* natgw_port_probe */
	uint16_t nq[GW_PORT_MAX];		/* RX/TX queue pairs */
	enum natgw_pmd pmd[GW_PORT_MAX];
	uint32_t rx_room[GW_PORT_MAX];		/* data room the port's RX needs */
	char ifname[GW_PORT_MAX][32];		/* af_packet/af_xdp: the kernel interface */
	/* natgw_port_init */
	bool multi_seg[GW_PORT_MAX];
	bool tx_vlan[GW_PORT_MAX];		/* the PMD inserts 802.1Q tags */
	struct nat_rss rss;			/* steering where a port took it */
	char rss_why[GW_PORT_MAX][96];		/* "on (...)" or "off (why)", for the banner */
};

extern struct natgw_ports natgw_ports;

/* A DPDK port id or device name: 0, or -1 when there is no such port. */
int natgw_port_lookup(const char *s, uint16_t *id);
/* What port p is, before any pool exists: PMD kind, queue count, RX data room. */
int natgw_port_probe(unsigned int p);
/* The most mbufs of the pool that can be away from it at once. */
unsigned int natgw_pool_size(void);
/* An mbuf pool; packed: objects back to back in one chunk (net_af_xdp's UMEM). */
struct rte_mempool *natgw_pool_create(const char *name, unsigned int n, unsigned int cache,
				      uint32_t room, bool packed);
/* Configure, set up the queues of, start port p: 0 or a negative errno. */
int natgw_port_init(unsigned int p, struct rte_mempool *pool);
/* PMD-level counters of port p (gw_port_hw_stats_fn): 0, or -1 for no such port. */
int natgw_port_hw_stats(unsigned int p, struct gw_port_hw_stats *h);
/* The PMD-level counters, one line per port, or all on one "natgw: pmd ..." line. */
void natgw_port_stats_print(FILE *f, bool one_line);

#endif
