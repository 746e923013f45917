/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_pipe.h - the seam between natgw-bench's traffic engine (natgw_bench.c) and the real
 * natgw pipeline (app/gw.h). bench_pipe.c is the only file of the benchmark that knows the
 * app's API: it builds a worker (conntrack table, NAT context, L2 state) the way natgw does,
 * with the capacity and timeouts a measurement asks for, and hands bursts to gw_worker_rx().
 */
#ifndef NATGW_BENCH_PIPE_H
#define NATGW_BENCH_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#define BENCH_PORT_INSIDE 0
#define BENCH_PORT_OUTSIDE 1

struct bench_pipe_params {
	uint32_t capacity;		/**< connections */
	uint64_t udp_timeout_us;	/**< every UDP class; 0: natgw's defaults */
	uint64_t tcp_timeout_us;	/**< every TCP class; 0: natgw's defaults */
	unsigned int pool_addrs;	/**< outside pool size, 1..64 (bench_pool_addr(0..n-1)) */
	bool ip6;			/**< [inside]/[outside] address6, gateway6 (bench_ip6.c) */
	bool nat64;			/**< [nat64] prefix = 64:ff9b::/96 (with ip6) */
};

/* IPv6 of the model (bench_ip6.c): natgw 2001:db8:1::1/64 inside, 2001:db8:2::2/64 outside,
 * uplink gateway6 2001:db8:2::1 */
extern const uint8_t bench_in6_addr[16], bench_out6_addr[16], bench_gw6_addr[16];

/** [filter] rules of every pipeline the benchmark builds (natgw-bench --rules FILE; NULL:
 *  no ruleset). */
extern const char *bench_pipe_rules;

struct bench_pipe;

/** Build one worker over the real pipeline; tx and drops go to bench_tx/bench_drop(arg).
 *  use_heap: tables from the libc heap (as natgw without hugepages) instead of rte_malloc;
 *  mp: mbufs for the packets natgw makes itself (ARP, ICMP). NULL with rte_errno set. */
struct bench_pipe *bench_pipe_create(const struct bench_pipe_params *prm, void *arg,
				     bool use_heap, struct rte_mempool *mp);
void bench_pipe_free(struct bench_pipe *bp);
/** A neighbour (inside host, or the uplink gateway on the outside) asks natgw for its MAC:
 *  natgw learns the neighbour's, as on a real LAN. 0 or -ENOBUFS. */
int bench_pipe_neighbour(struct bench_pipe *bp, uint16_t port, uint32_t ip, uint64_t now_us);
/** The same for IPv6: the neighbour sends natgw a neighbour solicitation for natgw's
 *  address6 on that side (RFC 4861 7.2.3: natgw caches the sender). 0 or -ENOBUFS. */
int bench_pipe_neighbour6(struct bench_pipe *bp, uint16_t port, const uint8_t ip[16],
			  uint64_t now_us);
/** One received burst from port BENCH_PORT_INSIDE/OUTSIDE at virtual time now (us). */
void bench_pipe_rx(struct bench_pipe *bp, uint16_t port, struct rte_mbuf **pkts, uint16_t n,
		   uint64_t now_us);
/** What the worker's poll loop does once per iteration besides rx (expiry). */
void bench_pipe_idle(struct bench_pipe *bp, uint64_t now_us);
/** Count TSC cycles spent in natgw's receive calls, per port, and in housekeeping from now
 *  on (on: the sums start from 0), or stop counting; bench_pipe_split_get reads them. */
void bench_pipe_split(struct bench_pipe *bp, bool on);
void bench_pipe_split_get(const struct bench_pipe *bp, uint64_t rx[2], uint64_t *idle);
/* The fast path forgets what it learnt (gw_fast_relearn) and housekeeping clears it all;
 * returns the housekeeping calls it took, or -1 if it did not finish. */
int bench_pipe_relearn(struct bench_pipe *bp, uint64_t now_us);
/* Packets the fast path has forwarded so far. */
uint64_t bench_pipe_fast_count(const struct bench_pipe *bp);
/** ct_table_memory() of the worker's table, and its capacity. */
size_t bench_pipe_ct_memory(const struct bench_pipe *bp);
uint32_t bench_pipe_capacity(const struct bench_pipe *bp);
/** The gateway's counters (drop reasons...) and ARP answers, for diagnosis. */
void bench_pipe_print_stats(const struct bench_pipe *bp, FILE *f);
/** MACs: natgw's inside and outside ports, the inside hosts' and the uplink gateway's. */
void bench_pipe_macs(struct rte_ether_addr *in_port, struct rte_ether_addr *out_port,
		     struct rte_ether_addr *host, struct rte_ether_addr *gw);

/* provided by natgw_bench.c */
uint16_t bench_tx(void *arg, uint16_t port, struct rte_mbuf **pkts, uint16_t n);
void bench_drop(void *arg, struct rte_mbuf *m, const char *reason);
/** i-th outside pool address (network order), i < 64. */
uint32_t bench_pool_addr(unsigned int i);

#endif
