/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_pipe.c - natgw-bench's only contact with the app: builds a one-worker gateway with
 * gw_create() from a struct gw_config filled the way docs/config.md's keys would fill it,
 * and feeds bursts to gw_worker_rx() with a gw_io whose tx goes to the benchmark's
 * recycling callback. It also plays the neighbours: ARP requests natgw sends (for the
 * uplink gateway and for inside hosts) are answered by turning them round in place and
 * feeding the reply back on the port they left by, so held packets are released exactly as
 * on a real link.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "bench_pipe.h"
#include "gw.h"

#define ARP_PENDING_MAX 64

struct bench_pipe {
	struct gw *g;
	struct gw_worker *w;
	struct gw_config cfg;
	struct rte_mempool *pool;	/* the benchmark's, also for natgw's own (ARP, ICMP) */
	void *arg;			/* the benchmark */
	/* ARP replies waiting to be received, per port */
	struct rte_mbuf *arp[GW_PORT_MAX][ARP_PENDING_MAX];
	unsigned int n_arp[GW_PORT_MAX];
	uint64_t arp_answered;
	/* bench_pipe_split: TSC cycles inside natgw's receive calls per port and in
	 * housekeeping, while on */
	bool split;
	uint64_t split_rx[GW_PORT_MAX], split_idle;
};

static const struct rte_ether_addr mac_in = { { 0x02, 0x6e, 0x61, 0x74, 0x00, 0x00 } };
static const struct rte_ether_addr mac_out = { { 0x02, 0x6e, 0x61, 0x74, 0x00, 0x01 } };
static const struct rte_ether_addr mac_host = { { 0x02, 0x00, 0x0a, 0x00, 0x00, 0x01 } };
static const struct rte_ether_addr mac_gw = { { 0x02, 0x00, 0xcb, 0x00, 0x71, 0x01 } };

void
bench_pipe_macs(struct rte_ether_addr *in_port, struct rte_ether_addr *out_port,
		struct rte_ether_addr *host, struct rte_ether_addr *gw)
{
	*in_port = mac_in;
	*out_port = mac_out;
	*host = mac_host;
	*gw = mac_gw;
}

/** An ARP request from natgw: answer it in place (every inside host and the uplink gateway
 *  exist). Returns true when m was taken. */
static bool
arp_answer(struct bench_pipe *bp, unsigned int port, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);
	const struct rte_ether_addr *who = port == GW_PORT_INSIDE ? &mac_host : &mac_gw;
	uint32_t ip;

	if (eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP) ||
	    rte_pktmbuf_data_len(m) < sizeof(*eh) + sizeof(*ah) ||
	    ah->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
	    bp->n_arp[port] == ARP_PENDING_MAX)
		return false;
	ip = ah->arp_data.arp_tip;
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	ah->arp_data.arp_tha = ah->arp_data.arp_sha;
	ah->arp_data.arp_tip = ah->arp_data.arp_sip;
	rte_ether_addr_copy(who, &ah->arp_data.arp_sha);
	ah->arp_data.arp_sip = ip;
	eh->dst_addr = eh->src_addr;
	rte_ether_addr_copy(who, &eh->src_addr);
	m->ol_flags = 0;
	bp->arp[port][bp->n_arp[port]++] = m;
	bp->arp_answered++;
	return true;
}

static uint16_t
pipe_tx(void *arg, unsigned int port, struct rte_mbuf **m, uint16_t n)
{
	struct bench_pipe *bp = arg;
	struct rte_mbuf *fwd[GW_BURST_MAX];
	uint16_t i, k = 0, taken = 0;

	for (i = 0; i < n; i++) {
		const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m[i], struct rte_ether_hdr *);

		if (unlikely(eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) &&
		    arp_answer(bp, port, m[i])) {
			taken++;
			continue;
		}
		fwd[k++] = m[i];
		if (k == RTE_DIM(fwd)) {
			taken += bench_tx(bp->arg, (uint16_t)port, fwd, k);
			k = 0;
		}
	}
	if (k > 0)
		taken += bench_tx(bp->arg, (uint16_t)port, fwd, k);
	return taken;
}

static void
pipe_drop(void *arg, struct rte_mbuf *m, enum gw_drop reason)
{
	struct bench_pipe *bp = arg;

	bench_drop(bp->arg, m, gw_drop_str(reason));
}

const char *bench_pipe_rules;

static void
config_fill(struct gw_config *c, const struct bench_pipe_params *prm)
{
	unsigned int i;

	gw_config_default(c);
	snprintf(c->path, sizeof(c->path), "natgw-bench");
	snprintf(c->ifc[GW_PORT_INSIDE].port, sizeof(c->ifc[0].port), "bench-inside");
	c->ifc[GW_PORT_INSIDE].addr = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 1));
	c->ifc[GW_PORT_INSIDE].prefix = 8;
	snprintf(c->ifc[GW_PORT_OUTSIDE].port, sizeof(c->ifc[0].port), "bench-outside");
	c->ifc[GW_PORT_OUTSIDE].addr = rte_cpu_to_be_32(RTE_IPV4(203, 0, 113, 2));
	c->ifc[GW_PORT_OUTSIDE].prefix = 24;
	c->ifc[GW_PORT_OUTSIDE].gateway = rte_cpu_to_be_32(RTE_IPV4(203, 0, 113, 1));
	/* [nat] pool = 203.0.113.10 ... (up to .73), ports = 1024-65535 */
	for (i = 0; i < prm->pool_addrs && i < NAT_MAX_ADDRS; i++) {
		c->nat.addrs[i] = bench_pool_addr(i);
		c->nat.port_lo[i] = 1024;
		c->nat.port_hi[i] = 65535;
	}
	c->nat.n_addrs = i;
	c->capacity = prm->capacity;
	c->nat.max_mappings = prm->capacity;
	c->tcp_loose = true;
	if (prm->udp_timeout_us != 0) {
		c->timeouts.t[CT_TC_UDP_UNREPLIED] = prm->udp_timeout_us;
		c->timeouts.t[CT_TC_UDP_REPLIED] = prm->udp_timeout_us;
		c->timeouts.t[CT_TC_UDP_ASSURED] = prm->udp_timeout_us;
	}
	if (prm->tcp_timeout_us != 0)
		for (i = CT_TC_TCP_SYN_SENT; i <= CT_TC_TCP_UNACK; i++)
			c->timeouts.t[i] = prm->tcp_timeout_us;
	/* neighbours answer at once and never leave; a burst may hold many packets to one
	 * next hop until its first reply is received */
	c->arp_timeout_s = 86400;
	c->arp_hold = GW_BURST_MAX;
	c->burst = 32;
	if (prm->ip6) {	/* [inside] address6, [outside] address6 + gateway6 (gw_ip6.c) */
		memcpy(c->ifc[GW_PORT_INSIDE].addr6, bench_in6_addr, 16);
		c->ifc[GW_PORT_INSIDE].prefix6 = 64;
		memcpy(c->ifc[GW_PORT_OUTSIDE].addr6, bench_out6_addr, 16);
		c->ifc[GW_PORT_OUTSIDE].prefix6 = 64;
		memcpy(c->ifc[GW_PORT_OUTSIDE].gateway6, bench_gw6_addr, 16);
	}
	if (prm->ip6 && prm->nat64) {
		/* [nat64] prefix = 64:ff9b::/96, wkp_strict = no: the servers are in 198.18/15
		 * (RFC 2544), which RFC 6052 3.1 counts as non-global */
		static const uint8_t wkp[16] = { 0x00, 0x64, 0xff, 0x9b };

		memcpy(c->nat64_prefix, wkp, 16);
		c->nat64_prefix_len = 96;
		c->nat64_wkp_strict = false;
	}
	if (bench_pipe_rules != NULL)	/* --rules: the ruleset (lib/ruleset) */
		snprintf(c->rules_path, sizeof(c->rules_path), "%s", bench_pipe_rules);
}

struct bench_pipe *
bench_pipe_create(const struct bench_pipe_params *prm, void *arg, bool use_heap,
		  struct rte_mempool *mp)
{
	struct bench_pipe *bp = calloc(1, sizeof(*bp));
	struct gw_params gp = { 0 };
	char err[256];
	struct gw_io io = { .tx = pipe_tx, .drop = pipe_drop };

	if (bp == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	bp->arg = arg;
	config_fill(&bp->cfg, prm);
	if (gw_config_check(&bp->cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "natgw-bench: config: %s\n", err);
		free(bp);
		rte_errno = EINVAL;
		return NULL;
	}
	bp->pool = mp;
	gp.cfg = &bp->cfg;
	gp.n_workers = 1;
	gp.mac[GW_PORT_INSIDE] = mac_in;
	gp.mac[GW_PORT_OUTSIDE] = mac_out;
	gp.pool = bp->pool;
	gp.seed[0] = 0x6e617467;	/* fixed seeds: runs are repeatable */
	gp.seed[1] = 0x62656e63;
	gp.host_seed = 0x77;
	gp.socket_id = (int)rte_socket_id();
	gp.use_heap = use_heap;
	bp->g = gw_create(&gp, err, sizeof(err));
	if (bp->g == NULL) {
		fprintf(stderr, "natgw-bench: gw_create: %s\n", err);
		free(bp);
		rte_errno = ENOMEM;
		return NULL;
	}
	bp->w = gw_get_worker(bp->g, 0);
	io.arg = bp;
	gw_worker_set_io(bp->w, &io);
	return bp;
}

int
bench_pipe_neighbour(struct bench_pipe *bp, uint16_t port, uint32_t ip, uint64_t now_us)
{
	const struct rte_ether_addr *mac = port == GW_PORT_INSIDE ? &mac_host : &mac_gw;
	struct rte_mbuf *m = rte_pktmbuf_alloc(bp->pool);
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *ah;

	if (m == NULL)
		return -ENOBUFS;
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, 60);
	if (eh == NULL) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	ah = (struct rte_arp_hdr *)(eh + 1);
	memset(ah, 0, 60 - sizeof(*eh));
	memset(&eh->dst_addr, 0xff, sizeof(eh->dst_addr));
	rte_ether_addr_copy(mac, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(mac, &ah->arp_data.arp_sha);
	ah->arp_data.arp_sip = ip;
	ah->arp_data.arp_tip = bp->cfg.ifc[port].addr;
	bench_pipe_rx(bp, port, &m, 1, now_us);
	return 0;
}

const uint8_t bench_in6_addr[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 };
const uint8_t bench_out6_addr[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 2 };
const uint8_t bench_gw6_addr[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 1 };

int
bench_pipe_neighbour6(struct bench_pipe *bp, uint16_t port, const uint8_t ip[16],
		      uint64_t now_us)
{
	const struct rte_ether_addr *mac = port == GW_PORT_INSIDE ? &mac_host : &mac_gw;
	const struct rte_ether_addr *dmac = port == GW_PORT_INSIDE ? &mac_in : &mac_out;
	const uint8_t *tgt = port == GW_PORT_INSIDE ? bench_in6_addr : bench_out6_addr;
	struct rte_mbuf *m = rte_pktmbuf_alloc(bp->pool);
	uint8_t *f, *ip6, *icmp;
	uint32_t sum = 0;
	unsigned int i;

	if (m == NULL)
		return -ENOBUFS;
	/* Ethernet, IPv6 (hop limit 255), NS: type 135, target, source link-layer option */
	f = (uint8_t *)rte_pktmbuf_append(m, 14 + 40 + 32);
	if (f == NULL) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	memset(f, 0, 14 + 40 + 32);
	memcpy(f, dmac, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	ip6 = f + 14;
	ip6[0] = 0x60;
	ip6[5] = 32;
	ip6[6] = IPPROTO_ICMPV6;
	ip6[7] = 255;
	memcpy(ip6 + 8, ip, 16);
	memcpy(ip6 + 24, tgt, 16);
	icmp = ip6 + 40;
	icmp[0] = 135;
	memcpy(icmp + 8, tgt, 16);
	icmp[24] = 1;	/* source link-layer address, 8 bytes */
	icmp[25] = 1;
	memcpy(icmp + 26, mac, 6);
	/* RFC 4443 2.3 checksum: pseudo header (addresses, length, next header) + message */
	for (i = 0; i < 32; i += 2)
		sum += (uint32_t)(ip6[8 + i] << 8 | ip6[9 + i]);
	sum += 32 + IPPROTO_ICMPV6;
	for (i = 0; i < 32; i += 2)
		sum += (uint32_t)(icmp[i] << 8 | icmp[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	icmp[2] = (uint8_t)(sum >> 8);
	icmp[3] = (uint8_t)sum;
	m->packet_type = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV6;
	bench_pipe_rx(bp, port, &m, 1, now_us);
	return 0;
}

void
bench_pipe_free(struct bench_pipe *bp)
{
	unsigned int p, i;

	if (bp == NULL)
		return;
	for (p = 0; p < GW_PORT_MAX; p++)
		for (i = 0; i < bp->n_arp[p]; i++)
			rte_pktmbuf_free(bp->arp[p][i]);
	gw_worker_flush(bp->w);
	gw_free(bp->g);
	free(bp);
}

void
bench_pipe_rx(struct bench_pipe *bp, uint16_t port, struct rte_mbuf **pkts, uint16_t n,
	      uint64_t now_us)
{
	uint64_t t0 = unlikely(bp->split) ? rte_rdtsc() : 0;
	unsigned int p;

	gw_worker_rx(bp->w, port, pkts, n, now_us);
	if (unlikely(bp->split))
		bp->split_rx[port & 1] += rte_rdtsc() - t0;
	/* neighbours' answers arrive right after (rare: first packet to each next hop) */
	for (p = 0; p < GW_PORT_MAX; p++) {
		while (unlikely(bp->n_arp[p] > 0)) {
			struct rte_mbuf *m[ARP_PENDING_MAX];
			unsigned int k = bp->n_arp[p];

			memcpy(m, bp->arp[p], k * sizeof(m[0]));
			bp->n_arp[p] = 0;
			gw_worker_rx(bp->w, p, m, (uint16_t)k, now_us);
		}
	}
}

void
bench_pipe_idle(struct bench_pipe *bp, uint64_t now_us)
{
	uint64_t t0 = unlikely(bp->split) ? rte_rdtsc() : 0;

	gw_worker_housekeeping(bp->w, now_us);
	if (unlikely(bp->split))
		bp->split_idle += rte_rdtsc() - t0;
}

void
bench_pipe_split(struct bench_pipe *bp, bool on)
{
	bp->split = on;
	if (on) {
		memset(bp->split_rx, 0, sizeof(bp->split_rx));
		bp->split_idle = 0;
	}
}

void
bench_pipe_split_get(const struct bench_pipe *bp, uint64_t rx[GW_PORT_MAX], uint64_t *idle)
{
	memcpy(rx, bp->split_rx, sizeof(bp->split_rx));
	*idle = bp->split_idle;
}

int
bench_pipe_relearn(struct bench_pipe *bp, uint64_t now_us)
{
	uint32_t bound = gw_get_config(bp->g)->capacity / 1024 + 4;
	int n = 0;

	gw_fast_relearn(bp->g);
	do {
		gw_worker_housekeeping(bp->w, now_us);
		n++;
	} while (gw_fast_relearning(bp->w) && (uint32_t)n < bound);
	return gw_fast_relearning(bp->w) ? -1 : n;
}

uint64_t
bench_pipe_fast_count(const struct bench_pipe *bp)
{
	struct gw_worker_stats s;

	gw_worker_stats_get(bp->w, &s);
	return s.fast_path;
}

size_t
bench_pipe_ct_memory(const struct bench_pipe *bp)
{
	return ct_table_memory(gw_worker_ct(bp->w));
}

uint32_t
bench_pipe_capacity(const struct bench_pipe *bp)
{
	return ct_table_capacity(gw_worker_ct(bp->w));
}

void
bench_pipe_print_stats(const struct bench_pipe *bp, FILE *f)
{
	fprintf(f, "natgw-bench: ARP requests answered %" PRIu64 "\n", bp->arp_answered);
	gw_stats_print(f, bp->g);
}
