/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * natgw_bench.h - what natgw-bench's engine (natgw_bench.c) and its report writer
 * (bench_report.c) share: the traffic model's types, options, results and the state.
 */
#ifndef NATGW_BENCH_H
#define NATGW_BENCH_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "bench_pipe.h"
#include "bench_rss.h"

#define BURST 32
#define FRAME_LEN 60		/* 64-byte frame less the FCS */
#define TCP_PL 6		/* TCP payload bytes per data segment: 14 + 20 + 20 + 6 = 60 */
#define FLOWS_PER_HOST 32	/* until --hosts is reached, then more per host */
#define N_POOL 64		/* outside addresses at most (--pool): 64 x 64512 ports x 2 */
#define N_SERVERS 4096
#define DT_US 10		/* virtual clock step per burst pair (6.4 Mpps of virtual time) */
#define MAX_SIZES 8

/* tag kept in the mbuf's private area and in each stream slot: flow index and kind */
#define TAG_IN		0x1u	/* arrives on the outside port (a reply) */
#define TAG_FRESH	0x2u	/* a fresh connection (CPS/mix), index into the fresh table */
#define TAG_SHIFT	2

/** One frame of a stream: 60 bytes as on the wire, and the tag. One cache line. */
struct slot {
	uint8_t frame[FRAME_LEN];
	uint32_t tag;
} __attribute__((aligned(64)));

/** A connection of the traffic model. Addresses network order, ports host order. */
struct flow {
	uint32_t in_addr;	/* inside host */
	uint32_t srv_addr;	/* server on the outside */
	uint32_t ext_addr;	/* learned from the translated first packet */
	uint16_t in_port, srv_port, ext_port;
	uint8_t proto;
	uint8_t learned;
};

/**
 * A stream: frames in sending order, read round-robin. Established TCP streams hold
 * `rounds` rounds (one segment of TCP_PL bytes per flow each); every time the stream wraps,
 * the emulated NIC moves each TCP segment's seq and ack on by rounds x TCP_PL bytes (and
 * fixes the checksum, RFC 1624), so a flow's segments go on advancing as a transfer's do.
 */
struct stream {
	struct slot *s;
	size_t n, pos;
	uint32_t tcp_adv;	/* added to seq and ack of TCP frames at rx (this pass) */
	uint32_t adv_step;	/* added to tcp_adv at each wrap: rounds x TCP_PL, 0: fixed */
	bool fresh;		/* fresh first packets: rx keeps their tuple for the reply check */
};

/* mbuf private area: the tag, then (fresh packets) the tuple the reply must come back to */
struct mbuf_priv {
	uint32_t tag;
	uint32_t in_addr;	/* first packet's source (network order) */
	uint32_t srv_addr;	/* first packet's destination */
	uint32_t ports;		/* first packet's sport, dport as on the wire */
};

enum tx_mode {
	TX_FREE,	/* count and free: the timed mode */
	TX_LEARN,	/* record the translated source of outbound packets */
	TX_VERIFY,	/* check every packet's headers and checksums, then free */
};

struct opts {
	bool quick;
	bool huge;
	const char *json;
	const char *dat;
	const char *eal_extra;
	uint32_t sizes[MAX_SIZES];
	unsigned int n_sizes;
	uint32_t cps_capacity;
	uint32_t cps_conns;
	unsigned int reps;
	uint64_t min_pkts;
	unsigned int tcp_pct;
	uint64_t seed;
	uint32_t max_hosts;
	unsigned int pool_addrs;
	bool no_cps, no_mix;
	uint32_t ip6_conns;	/* IPv6 / NAT64 established rows (bench_ip6.c) */
	bool no_ip6;
};

struct result {
	double cycles;		/* per packet (per connection for CPS): median of chunks */
	double mean;		/* total cycles / total units, preemptions included */
	double mpps;
	uint64_t pkts;
};

struct size_result {
	uint32_t sessions;
	struct result r;
	double p10_cycles;
	double bytes_per_conn;
	double ct_bytes_per_conn;
	size_t mem_bytes;
	uint32_t capacity;
	uint64_t drops;		/* dropped in the timed passes (a size with drops fails) */
	bool verified;
};

/** The whole benchmark state (one lcore, no sharing). */
struct bench {
	struct opts o;
	struct rte_mempool *mp;
	struct bench_pipe *pipe;
	uint64_t now;		/* virtual clock, microseconds */
	uint64_t tsc_hz;
	double load_start;	/* 1-minute load average when the run started */

	/* traffic model of the current measurement */
	struct flow *flows;
	uint32_t n_flows;
	struct flow *fresh;
	uint32_t n_fresh;
	struct rte_ether_addr in_mac, out_mac, host_mac, gw_mac;

	/* tx side */
	enum tx_mode mode;
	bool recycle_fresh;		/* turn translated fresh packets round as replies */
	struct rte_mbuf *replies[BURST * 2];
	unsigned int n_replies;
	uint64_t rx, tx, tx_other, dropped, alloc_fail;
	/* new connections whose reply came back translated (checked on the bytes), and those
	 * whose first packet or reply was wrong */
	uint64_t conns_ok, conns_bad;
	uint64_t verified, bad;
	char first_bad[200];
	/* whole run: packets checked header by header (and checksums recomputed) */
	uint64_t total_out_ok, total_in_ok, total_bad;
	/* bench_ip6.c's rows: it takes every transmitted packet while set (bench_tx) */
	uint16_t (*tx_hook)(struct bench *b, uint16_t port, struct rte_mbuf **pkts, uint16_t n);
	void *hook_ctx;
};

/** An IPv6 row (bench_ip6.c): established, both directions, measured as est[]. */
struct ip6_result {
	bool ok;		/* measured, and every packet of the verify passes was right */
	uint32_t sessions;
	struct result r;
	double p10_cycles;
	uint64_t drops;		/* in the timed passes */
	uint64_t out_ok, in_ok;	/* packets checked field by field and right, both ways */
	uint64_t bad;
};

#define CHUNK_ITERS 32	/* 2048 packets: well under a scheduler time slice */

struct results {
	struct result floor;
	struct size_result est[MAX_SIZES];
	unsigned int n_est;
	struct result cps;
	uint64_t cps_conns, cps_drops;	/* connections completed (reply translated back) */
	uint64_t cps_offered, cps_bad;	/* first packets sent; wrongly translated */
	/* the new-connection row's mean cycles per offered connection inside natgw: its first
	 * packet's receive, its reply's, and housekeeping (the expiry of one) */
	double cps_first, cps_reply, cps_expiry;
	bool cps_ok;
	struct result mix;
	uint64_t mix_drops;
	bool mix_ok;
	bool all_tx_eq_rx;	/* every established verify and timed pass: tx == rx */
	struct bench_rss_res rss;	/* emulated multi-queue NIC (bench_rss.c) */
	struct ip6_result ip6;		/* established IPv6, routed with conntrack */
	struct ip6_result nat64;	/* established NAT64 (64:ff9b::/96) */
};

/*
 * The emulated NIC's buffers, handled as a vector PMD handles them (ixgbe's and i40e's rx
 * rearm, and their tx with RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE). rx takes them from the
 * pool's per-lcore cache in bulk and writes what a descriptor gives: the data offset, the
 * port, no offload flag, the packet type and the lengths. The rest is as the pool hands
 * it out: a buffer goes back one segment long, unchained, with refcount 1 (what
 * rte_pktmbuf_prefree_seg guarantees). tx gives single-segment buffers that nothing else
 * references back to the cache in bulk, and frees anything else with rte_pktmbuf_free.
 * rte_pktmbuf_alloc_bulk and rte_pktmbuf_free_bulk reset or check every field of every
 * buffer instead: about 85 instructions a packet that no PMD spends.
 */
static inline int
nic_rx_bulk(struct rte_mempool *mp, struct rte_mbuf **m, unsigned int n, uint16_t port,
	    uint32_t ptype)
{
	unsigned int i;

	if (unlikely(rte_mempool_get_bulk(mp, (void **)m, n) != 0))
		return -ENOBUFS;
	for (i = 0; i < n; i++) {
		m[i]->data_off = RTE_PKTMBUF_HEADROOM;
		m[i]->port = port;
		m[i]->ol_flags = 0;
		m[i]->packet_type = ptype;
	}
	return 0;
}

static inline void
nic_tx_free(struct rte_mempool *mp, struct rte_mbuf *const *m, unsigned int n)
{
	void *put[64];
	unsigned int i, k = 0;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *x = m[i];

		if (unlikely(x->nb_segs != 1)) {
			rte_pktmbuf_free(x);
			continue;
		}
		x = rte_pktmbuf_prefree_seg(x);
		if (x == NULL)
			continue;	/* still referenced elsewhere */
		if (unlikely(x->pool != mp)) {
			rte_mempool_put(x->pool, x);
			continue;
		}
		put[k++] = x;
		if (k == RTE_DIM(put)) {
			rte_mempool_put_bulk(mp, put, k);
			k = 0;
		}
	}
	if (k > 0)
		rte_mempool_put_bulk(mp, put, k);
}

/** Measure the established IPv6 (nat64 false) or NAT64 row at o.ip6_conns connections
 *  (bench_ip6.c). 0, or a negative errno with the reason on stderr. */
int bench_ip6_run(struct bench *b, bool nat64, struct ip6_result *r);

/** The human-readable table on stdout. */
void bench_print_table(const struct bench *b, const struct results *res);
/** bench-results.json (and the gnuplot data file when --dat was given). */
void bench_json_write(const struct bench *b, const struct results *res, int argc, char **argv);

#endif
