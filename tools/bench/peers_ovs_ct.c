/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * peers_ovs_ct.c - Open vSwitch's userspace conntrack (lib/conntrack.c) driven the way
 * natgw-bench drives natgw's established phase, for tools/bench/peers.sh: N UDP connections,
 * both directions, bursts of 32, flows in a fixed random order. Built by peers.sh against
 * the static libopenvswitch of Debian's openvswitch-source (never by meson, never in CI).
 *
 * OVS's own `ovstest test-conntrack benchmark` (run beside this by peers.sh) sends one
 * batch of at most 32 packets again and again: at most 32 connections per thread. This
 * driver keeps the same call (conntrack_execute with commit, zone 0, no NAT, no helper) and
 * only changes what is in the batch:
 *  - setup: every connection's first packet and its reply, committed;
 *  - floor: the same loop writing each burst's headers (addresses, ports, IPv4 checksum)
 *    without calling conntrack; timed: the same loop with conntrack_execute, in chunks of
 *    2,048 packets interleaved with the floor's. Reported: median conntrack chunk less the
 *    median floor chunk, per packet, in TSC cycles (natgw-bench's statistic), and the floor.
 *
 *   peers-ovs-ct N_CONNS MIN_PKTS
 * prints "ovs_ct conns N cycles_per_pkt X floor F tsc_hz H".
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "conntrack.h"
#include "conntrack-tp.h"
#include "csum.h"
#include "ct-dpif.h"
#include "dp-packet.h"
#include "flow.h"
#include "packets.h"
#include "timeval.h"

#define BURST 32
#define MIN_U64(a, b) ((a) < (b) ? (a) : (b))

struct pflow {
	ovs_be32 in_addr, srv_addr;
	ovs_be16 in_port, srv_port;
};

static struct conntrack *ct;
static struct pflow *flows;
static uint32_t *order;		/* packet k: flow order[k / 2], direction k & 1 */
static uint32_t n_flows;
static struct dp_packet_batch batch;
static struct dp_packet *pk[BURST];

/* a 42-byte Ethernet + IPv4 + UDP frame, payload 18 bytes: 60 in all, as natgw-bench's */
static void
frame_init(struct dp_packet *p)
{
	struct eth_header *eth;
	struct ip_header *ip;
	struct udp_header *udp;
	struct flow fl;

	eth = dp_packet_put_zeros(p, sizeof *eth);
	eth->eth_type = htons(ETH_TYPE_IP);
	ip = dp_packet_put_zeros(p, sizeof *ip);
	ip->ip_ihl_ver = IP_IHL_VER(5, 4);
	ip->ip_tot_len = htons(46);
	ip->ip_ttl = 64;
	ip->ip_proto = IPPROTO_UDP;
	udp = dp_packet_put_zeros(p, sizeof *udp);
	udp->udp_len = htons(26);
	dp_packet_put_zeros(p, 18);
	flow_extract(p, &fl);	/* sets the l3/l4 offsets conntrack reads */
}

/* Write packet k's headers into p (direction 0: inside -> server, 1: the reply). */
static inline void
frame_set(struct dp_packet *p, uint32_t k)
{
	const struct pflow *f = &flows[order[k >> 1]];
	struct ip_header *ip = dp_packet_l3(p);
	struct udp_header *udp = dp_packet_l4(p);
	bool rep = k & 1;

	put_16aligned_be32(&ip->ip_src, rep ? f->srv_addr : f->in_addr);
	put_16aligned_be32(&ip->ip_dst, rep ? f->in_addr : f->srv_addr);
	udp->udp_src = rep ? f->srv_port : f->in_port;
	udp->udp_dst = rep ? f->in_port : f->srv_port;
	udp->udp_csum = 0;	/* RFC 768: none (conntrack then checks the IPv4 header only) */
	ip->ip_csum = 0;
	ip->ip_csum = csum(ip, sizeof *ip);
	pkt_metadata_init_conn(&p->md);
	p->md.ct_state = 0;
}

/* Packets [k, k + n_pkts) in bursts, with conntrack or not (the floor). `now` is read once
 * per call (calls are at most CHUNK packets): OVS's sweeper thread expires entries by the
 * wall clock, and a 4M-connection setup on a loaded machine outlasts the UDP timeout. */
static uint64_t
run(uint64_t n_pkts, uint32_t *kp, bool ct_on)
{
	long long now = time_msec();
	uint64_t t0 = __rdtsc(), done;
	uint32_t k = *kp, total = n_flows * 2, i;

	for (done = 0; done < n_pkts; done += BURST) {
		for (i = 0; i < BURST; i++) {
			frame_set(pk[i], k);
			k = k + 1 == total ? 0 : k + 1;
		}
		if (ct_on)
			conntrack_execute(ct, &batch, htons(ETH_TYPE_IP), false, true, 0,
					  NULL, NULL, 0, 0, NULL, NULL, now, 0);
	}
	*kp = k;
	return __rdtsc() - t0;
}

#define CHUNK 2048	/* packets per timed chunk, as natgw-bench's (32 x 64) */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median over chunks of the floor and of the conntrack passes, interleaved (a preempted
 * chunk is an outlier, not a bias: the statistic natgw-bench reports). */
static void
measure(uint64_t n_pkts, double *ct_med, double *floor_med)
{
	uint64_t nch = n_pkts / CHUNK, c;
	uint64_t *f = calloc(nch, sizeof(*f)), *t = calloc(nch, sizeof(*t));
	uint32_t kf = 0, kc = 0;

	if (f == NULL || t == NULL || nch == 0) {
		*ct_med = *floor_med = 0;
		return;
	}
	for (c = 0; c < nch; c++) {
		f[c] = run(CHUNK, &kf, false);
		t[c] = run(CHUNK, &kc, true);
	}
	qsort(f, nch, sizeof(*f), cmp_u64);
	qsort(t, nch, sizeof(*t), cmp_u64);
	*floor_med = (double)f[nch / 2] / CHUNK;
	*ct_med = (double)t[nch / 2] / CHUNK - *floor_med;
	free(f);
	free(t);
}

int
main(int argc, char *argv[])
{
	uint64_t min_pkts, n, tsc_hz;
	struct timeout_policy tp = { 0 };
	double ct_med, floor_med;
	uint32_t k;
	struct timespec a, b;
	uint64_t r = 88172645463325252ull, c0;
	uint32_t i, in_table = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: peers-ovs-ct N_CONNS MIN_PKTS\n");
		return 2;
	}
	n_flows = (uint32_t)strtoul(argv[1], NULL, 0);
	min_pkts = strtoull(argv[2], NULL, 0);
	if (n_flows == 0)
		return 2;
	flows = calloc(n_flows, sizeof *flows);
	order = calloc(n_flows, sizeof *order);
	if (flows == NULL || order == NULL)
		return 1;
	/* inside hosts 10.0.0.0/8 (up to 768 of them, 32 flows each, then more per host),
	 * servers 198.18.0.0/15, as natgw-bench's flows */
	for (i = 0; i < n_flows; i++) {
		uint32_t h = (i / 32) % 768, j = i / (32 * 768) * 32 + i % 32;

		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		flows[i].in_addr = htonl(0x0a000000u | (h + 2));
		flows[i].srv_addr = htonl(0xc6120000u | (uint32_t)(r % 4096 + 1));
		flows[i].in_port = htons((uint16_t)(1024 + j % 64000));
		flows[i].srv_port = htons((uint16_t)(j / 64000 * 2 + 53));
		order[i] = i;
	}
	for (i = n_flows - 1; i > 0; i--) {	/* Fisher-Yates */
		uint32_t j, t;

		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		j = (uint32_t)(r % (i + 1));
		t = order[i], order[i] = order[j], order[j] = t;
	}
	ct = conntrack_init();
	conntrack_set_maxconns(ct, n_flows + n_flows / 8 + 64);	/* natgw-bench's capacity */
	/* UDP timeouts of an hour (the default policy's 30 s is shorter than a 4M setup on a
	 * loaded machine; natgw-bench's virtual clock never expires its flows either) */
	tp.policy.id = DEFAULT_TP_ID;
	tp.policy.present = 1u << CT_DPIF_TP_ATTR_UDP_FIRST | 1u << CT_DPIF_TP_ATTR_UDP_SINGLE |
			    1u << CT_DPIF_TP_ATTR_UDP_MULTIPLE;
	tp.policy.attrs[CT_DPIF_TP_ATTR_UDP_FIRST] = 3600;
	tp.policy.attrs[CT_DPIF_TP_ATTR_UDP_SINGLE] = 3600;
	tp.policy.attrs[CT_DPIF_TP_ATTR_UDP_MULTIPLE] = 3600;
	if (timeout_policy_update(ct, &tp) != 0) {
		fprintf(stderr, "peers-ovs-ct: timeout policy refused\n");
		return 1;
	}
	dp_packet_batch_init(&batch);
	for (i = 0; i < BURST; i++) {
		pk[i] = dp_packet_new(128);
		frame_init(pk[i]);
		dp_packet_batch_add(&batch, pk[i]);
	}
	/* setup: every connection's first packet and reply (one whole pass, committed) */
	n = ((uint64_t)n_flows * 2 + BURST - 1) / BURST * BURST;
	for (c0 = 0, k = 0; c0 < n; c0 += CHUNK)
		run(MIN_U64(CHUNK, n - c0), &k, true);
	conntrack_get_nconns(ct, &in_table);
	if (in_table < n_flows) {
		fprintf(stderr, "peers-ovs-ct: %u connections of %u in the table\n", in_table,
			n_flows);
		return 1;
	}
	n = MAX(min_pkts, (uint64_t)n_flows * 2);
	clock_gettime(CLOCK_MONOTONIC, &a);
	c0 = __rdtsc();
	measure(n, &ct_med, &floor_med);
	clock_gettime(CLOCK_MONOTONIC, &b);
	tsc_hz = (uint64_t)((double)(__rdtsc() - c0) /
			    ((double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9));
	conntrack_get_nconns(ct, &in_table);
	printf("ovs_ct conns %u packets %llu cycles_per_pkt %.1f floor %.1f tsc_hz %llu "
	       "in_table %u\n", n_flows, (unsigned long long)n, ct_med, floor_med,
	       (unsigned long long)tsc_hz, in_table);
	return 0;
}
