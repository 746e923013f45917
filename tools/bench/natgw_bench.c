/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * natgw_bench.c - natgw's data-path benchmark: cycles per packet of the real pipeline
 * (gw_worker_rx from app/, with lib/conntrack and lib/nat behind it) against the I/O floor,
 * driven from memory on one pinned lcore. It owns the traffic model (flows, frames, random
 * order, both directions), the emulated NIC (rx = mbuf alloc + 64-byte frame write, tx =
 * the gw_io callback that counts, checks and recycles), the measurements and their output.
 *
 * What one run measures (see tools/bench/run.sh and docs/bench-findings.md):
 *  1. floor: the same burst loop with no NAT work (rx emulation handed straight to tx);
 *  2. established forwarding at 1k, 64k, 1M and 4M connections (TCP + UDP, both ways;
 *     TCP as data segments whose seq/ack advance as a transfer's, window tracking on);
 *  3. new connections per second: fresh UDP tuples, first packet + reply (the translated
 *     packet turned round in place by the tx callback), short timeouts on a virtual clock
 *     so expiry runs and the table recycles; a connection counts when its reply came back
 *     translated (checked on the bytes);
 *  4. a mix: 90% established packets, 10% new-connection packets;
 *  5. memory: bytes per connection, all-in (DPDK heap + libc heap held by the pipeline);
 *  6. established IPv6 (routed, conntrack) and NAT64 at --ip6-conns (bench_ip6.c).
 *
 * Why frames come from a sequential in-memory stream: a NIC writes received frames into
 * (last-level-cache resident) buffers; reading per-flow templates at random addresses would
 * add a cache miss per packet that no real gateway pays. The stream holds the frames in the
 * (random) order they are sent, so its reads are sequential and prefetchable, while the
 * connection-table accesses they cause are as random as real traffic makes them.
 *
 * Time: the pipeline takes `now` in microseconds; the benchmark drives a virtual clock that
 * advances a fixed step per burst pair, so runs are repeatable and timeouts can be short.
 *
 * Statistic: the machine this runs on is shared, so each measurement is timed in chunks of
 * 2,048 packets and the median chunk is reported (p10 and the plain mean are kept).
 * Correctness before speed: every measured configuration first goes through a pass where
 * every transmitted packet is checked (translated addresses and ports, checksums recomputed
 * from scratch); a configuration that loses, adds or mistranslates packets is not reported.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_mempool.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "bench_pipe.h"
#include "natgw_bench.h"
#include "pkt_build.h"

static uint64_t rng_state;

static uint64_t
rng(void)
{
	/* splitmix64: deterministic per --seed, good enough for shuffles and tuples */
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Large arrays come from mmap so that they stay out of the heap figures (malloc_heap()) by
 * which the pipeline's memory is measured, and are returned to the system when freed. */
static void *
big_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void
big_free(void *p, size_t len)
{
	if (p != NULL)
		munmap(p, len);
}

static size_t
malloc_heap(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static size_t
dpdk_heap(void)
{
	struct rte_malloc_socket_stats st;
	size_t sum = 0;
	unsigned int s;

	for (s = 0; s < rte_socket_count(); s++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(s), &st) == 0)
			sum += st.heap_allocsz_bytes;
	return sum;
}

/* ----------------------------------------------------------------------------------------
 * Addresses of the model: inside 10.0.0.0/8 (natgw 10.0.0.1), servers in 198.18.0.0/15
 * (RFC 2544 benchmarking range), pool 203.0.113.10-73 (RFC 5737), uplink gw 203.0.113.1.
 */
#define IP4(a, b, c, d) rte_cpu_to_be_32(RTE_IPV4(a, b, c, d))

static uint32_t
host_addr(uint32_t h)
{
	return rte_cpu_to_be_32(RTE_IPV4(10, 0, 1, 0) + h);
}


static uint32_t
server_addr(uint32_t s)
{
	return rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 0) + 1 + s);
}

uint32_t
bench_pool_addr(unsigned int i)
{
	return IP4(203, 0, 113, 10 + i);
}

static bool
is_pool_addr(const struct bench *b, uint32_t a)
{
	uint32_t h = rte_be_to_cpu_32(a);

	return h >= RTE_IPV4(203, 0, 113, 10) &&
	       h < RTE_IPV4(203, 0, 113, 10) + b->o.pool_addrs;
}

/* ----------------------------------------------------------------------------------------
 * Frames
 */

/** Write a 60-byte Ethernet/IPv4/TCP-or-UDP frame with correct checksums. */
static void
frame_write(uint8_t *f, const struct rte_ether_addr *dmac, const struct rte_ether_addr *smac,
	    uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto,
	    uint8_t tcp_flags, uint32_t seq, uint32_t ack, unsigned int tcp_pl)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	uint16_t l4len;

	memset(f, 0, FRAME_LEN);
	rte_ether_addr_copy(dmac, &eh->dst_addr);
	rte_ether_addr_copy(smac, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = src;
	ip->dst_addr = dst;
	ip->packet_id = rte_cpu_to_be_16((uint16_t)(sport ^ dport));
	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
		uint8_t *pl = (uint8_t *)(th + 1);
		unsigned int i;

		/* a data segment fills the 60 bytes (TCP_PL); a SYN is bare, padded to 60 */
		l4len = sizeof(*th) + tcp_pl;
		for (i = 0; i < tcp_pl; i++)
			pl[i] = (uint8_t)(0x61 + i);
		th->tcp_flags = tcp_flags | (tcp_pl > 0 ? RTE_TCP_PSH_FLAG : 0);
		th->src_port = rte_cpu_to_be_16(sport);
		th->dst_port = rte_cpu_to_be_16(dport);
		th->sent_seq = rte_cpu_to_be_32(seq);
		th->recv_ack = rte_cpu_to_be_32(ack);
		th->data_off = 5 << 4;
		th->rx_win = rte_cpu_to_be_16(65535);
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + l4len);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	} else {
		struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ip + 1);
		uint8_t *pl = (uint8_t *)(uh + 1);
		unsigned int i;

		l4len = FRAME_LEN - sizeof(*eh) - sizeof(*ip);	/* 8 + 18 bytes of payload */
		for (i = 0; i < l4len - sizeof(*uh); i++)
			pl[i] = (uint8_t)(0x40 + i);
		uh->src_port = rte_cpu_to_be_16(sport);
		uh->dst_port = rte_cpu_to_be_16(dport);
		uh->dgram_len = rte_cpu_to_be_16(l4len);
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + l4len);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		uh->dgram_cksum = rte_ipv4_udptcp_cksum(ip, uh);
	}
}

/* TCP sequence numbers of the model: client ISN and server ISN from the flow index */
static uint32_t
isn_c(uint32_t i)
{
	return i * 2654435761u;
}

static uint32_t
isn_s(uint32_t i)
{
	return ~i * 40503u;
}

enum pkt_kind {
	PK_FIRST,	/* outbound first packet: TCP SYN / UDP */
	PK_REPLY,	/* inbound first reply: TCP SYN-ACK / UDP */
	PK_ACK,		/* outbound TCP handshake ACK with the client's first data (UDP: none) */
	PK_DATA0,	/* inbound TCP: the server's first data (UDP: none) */
	PK_EST_OUT,	/* established, outbound */
	PK_EST_IN,	/* established, inbound (to the translated tuple) */
};

/*
 * TCP as a transfer (both directions): after the handshake, the client's segment of round
 * 0 rides on the handshake ACK (seq c+1) and the server's round 0 follows (seq s+1). In
 * round g >= 1 each side sends TCP_PL new bytes at seq isn+1 + g x TCP_PL and acknowledges
 * the peer's bytes of the rounds before g-1 (ack = peer isn+1 + (g-1) x TCP_PL): an ack
 * never covers bytes not yet sent even where the two directions' streams drift apart by a
 * few bursts (the mix), and it never goes back. Round g of a stream slot is r + 1 for the
 * stream's r-th permutation, plus rounds per wrap (stream.tcp_adv).
 */

static void
slot_fill(const struct bench *b, struct slot *s, const struct flow *f, uint32_t idx,
	  enum pkt_kind k, uint32_t fresh_bit, uint32_t round)
{
	uint32_t c = isn_c(idx) + 1, sv = isn_s(idx) + 1;
	uint32_t sq = (round + 1) * TCP_PL, ak = round * TCP_PL;

	switch (k) {
	case PK_FIRST:
		frame_write(s->frame, &b->in_mac, &b->host_mac, f->in_addr, f->srv_addr,
			    f->in_port, f->srv_port, f->proto, RTE_TCP_SYN_FLAG, c - 1, 0, 0);
		s->tag = idx << TAG_SHIFT | fresh_bit;
		break;
	case PK_ACK:
		frame_write(s->frame, &b->in_mac, &b->host_mac, f->in_addr, f->srv_addr,
			    f->in_port, f->srv_port, f->proto, RTE_TCP_ACK_FLAG, c, sv, TCP_PL);
		s->tag = idx << TAG_SHIFT | fresh_bit;
		break;
	case PK_EST_OUT:
		frame_write(s->frame, &b->in_mac, &b->host_mac, f->in_addr, f->srv_addr,
			    f->in_port, f->srv_port, f->proto, RTE_TCP_ACK_FLAG, c + sq, sv + ak,
			    TCP_PL);
		s->tag = idx << TAG_SHIFT | fresh_bit;
		break;
	case PK_REPLY:
		frame_write(s->frame, &b->out_mac, &b->gw_mac, f->srv_addr, f->ext_addr,
			    f->srv_port, f->ext_port, f->proto,
			    RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, sv - 1, c, 0);
		s->tag = idx << TAG_SHIFT | TAG_IN | fresh_bit;
		break;
	case PK_DATA0:
		frame_write(s->frame, &b->out_mac, &b->gw_mac, f->srv_addr, f->ext_addr,
			    f->srv_port, f->ext_port, f->proto, RTE_TCP_ACK_FLAG, sv, c, TCP_PL);
		s->tag = idx << TAG_SHIFT | TAG_IN | fresh_bit;
		break;
	case PK_EST_IN:
		frame_write(s->frame, &b->out_mac, &b->gw_mac, f->srv_addr, f->ext_addr,
			    f->srv_port, f->ext_port, f->proto, RTE_TCP_ACK_FLAG, sv + sq, c + ak,
			    TCP_PL);
		s->tag = idx << TAG_SHIFT | TAG_IN | fresh_bit;
		break;
	}
}

static void
shuffle_u32(uint32_t *a, size_t n)
{
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = rng() % i;
		uint32_t t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

static void
stream_free(struct stream *st)
{
	big_free(st->s, st->n * sizeof(*st->s));
	memset(st, 0, sizeof(*st));
}

/**
 * Build a stream of `len` frames of kind k over the flows, in random order; when len exceeds
 * the flow count, several independent permutations follow each other. Flows that have no
 * such packet (UDP has no handshake ACK) are skipped. Returns 0 or -ENOMEM.
 */
static int
stream_build(struct bench *b, struct stream *st, struct flow *flows, uint32_t n_flows,
	     size_t len, enum pkt_kind k, uint32_t fresh_bit)
{
	uint32_t *perm = big_alloc((size_t)n_flows * sizeof(*perm));
	size_t pos = 0;
	uint32_t i, round = 0;

	memset(st, 0, sizeof(*st));
	if (perm == NULL)
		return -ENOMEM;
	st->s = big_alloc(len * sizeof(*st->s));
	if (st->s == NULL) {
		big_free(perm, (size_t)n_flows * sizeof(*perm));
		return -ENOMEM;
	}
	while (pos < len) {
		size_t before = pos;

		for (i = 0; i < n_flows; i++)
			perm[i] = i;
		shuffle_u32(perm, n_flows);
		for (i = 0; i < n_flows && pos < len; i++) {
			struct flow *f = &flows[perm[i]];

			if ((k == PK_ACK || k == PK_DATA0) && f->proto != IPPROTO_TCP)
				continue;
			slot_fill(b, &st->s[pos++], f, perm[i], k, fresh_bit, round);
		}
		if (pos == before)
			break;
		round++;
	}
	st->n = pos;
	st->fresh = fresh_bit != 0;
	/* established streams go on advancing (callers ask for whole rounds: a flow left out
	 * of a partial last round would leave a hole in its byte stream) */
	if (k == PK_EST_OUT || k == PK_EST_IN)
		st->adv_step = round * TCP_PL;
	big_free(perm, (size_t)n_flows * sizeof(*perm));
	return 0;
}

/* ----------------------------------------------------------------------------------------
 * Flows
 */

static int
flows_make(struct bench *b, uint32_t n)
{
	uint32_t hosts = RTE_MIN((n + FLOWS_PER_HOST - 1) / FLOWS_PER_HOST, b->o.max_hosts);
	uint32_t i;

	if ((n + hosts - 1) / hosts > 28232) {
		fprintf(stderr, "natgw-bench: %u flows need more than %u hosts (--hosts)\n", n,
			hosts);
		return -EINVAL;
	}
	b->flows = big_alloc((size_t)n * sizeof(*b->flows));
	if (b->flows == NULL)
		return -ENOMEM;
	b->n_flows = n;
	for (i = 0; i < n; i++) {
		struct flow *f = &b->flows[i];
		uint32_t h = i % hosts, j = i / hosts;
		uint64_t r = rng();

		f->in_addr = host_addr(h);
		/* ephemeral ports (Linux range 32768-60999), distinct within a host */
		f->in_port = (uint16_t)(32768 + (j * 877 + h * 131) % 28232);
		f->srv_addr = server_addr((uint32_t)(r % N_SERVERS));
		f->proto = (r >> 32) % 100 < b->o.tcp_pct ? IPPROTO_TCP : IPPROTO_UDP;
		f->srv_port = f->proto == IPPROTO_TCP ? ((r >> 40) & 1 ? 443 : 80) :
			((r >> 40) & 1 ? 443 : 53);
		f->learned = 0;
	}
	return 0;
}

static void
flows_free(struct bench *b)
{
	big_free(b->flows, (size_t)b->n_flows * sizeof(*b->flows));
	b->flows = NULL;
	b->n_flows = 0;
}

/** Fresh UDP connections for CPS and mix: random host, ephemeral port and server. */
static int
fresh_make(struct bench *b, uint32_t n)
{
	const uint32_t hosts = b->o.max_hosts;
	uint32_t i;

	b->fresh = big_alloc((size_t)n * sizeof(*b->fresh));
	if (b->fresh == NULL)
		return -ENOMEM;
	b->n_fresh = n;
	for (i = 0; i < n; i++) {
		struct flow *f = &b->fresh[i];
		uint64_t r = rng();

		f->in_addr = host_addr(i % hosts);
		/* a random ephemeral port, as clients pick them (Linux 32768-60999); the same
		 * host:port may come back to another server, as it does in real traffic */
		f->in_port = (uint16_t)(32768 + (r >> 40) % 28232);
		f->srv_addr = server_addr((uint32_t)(r % N_SERVERS));
		f->srv_port = 443;
		f->proto = IPPROTO_UDP;
	}
	return 0;
}

static void
fresh_free(struct bench *b)
{
	big_free(b->fresh, (size_t)b->n_fresh * sizeof(*b->fresh));
	b->fresh = NULL;
	b->n_fresh = 0;
}

/** The neighbours introduce themselves (ARP) before traffic: the uplink gateway and every
 *  inside host the model uses (fresh connections come from the same hosts). */
static int
pipe_start(struct bench *b, const struct bench_pipe_params *pp)
{
	struct bench_pipe_params prm = *pp;
	uint32_t h;

	prm.pool_addrs = b->o.pool_addrs;
	b->pipe = bench_pipe_create(&prm, b, !b->o.huge, b->mp);
	if (b->pipe == NULL) {
		fprintf(stderr, "natgw-bench: pipeline (capacity %u): %s\n", pp->capacity,
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	if (bench_pipe_neighbour(b->pipe, BENCH_PORT_OUTSIDE, IP4(203, 0, 113, 1), b->now) != 0)
		return -ENOBUFS;
	for (h = 0; h < b->o.max_hosts; h++)
		if (bench_pipe_neighbour(b->pipe, BENCH_PORT_INSIDE, host_addr(h), b->now) != 0)
			return -ENOBUFS;
	return 0;
}

static void
pipe_stop(struct bench *b)
{
	bench_pipe_free(b->pipe);
	b->pipe = NULL;
}

/* ----------------------------------------------------------------------------------------
 * The emulated NIC. rx: allocate a burst of mbufs and write the next frames into them (what
 * a NIC's DMA does); tx: the gw_io callback (bench_tx) counts, checks and frees or recycles.
 */

static inline uint32_t *
mbuf_tag(struct rte_mbuf *m)
{
	return rte_mbuf_to_priv(m);
}

static inline struct mbuf_priv *
mbuf_priv(struct rte_mbuf *m)
{
	return rte_mbuf_to_priv(m);
}

/** Move a TCP frame's seq and ack on by d bytes, updating its checksum as RFC 1624 eqn. 3
 *  does (HC' = ~(~HC + ~m + m') over the four 16-bit words changed). */
static inline void
tcp_advance(uint8_t *f, uint32_t d)
{
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(f + sizeof(struct rte_ether_hdr) +
							 sizeof(struct rte_ipv4_hdr));
	uint32_t s0 = rte_be_to_cpu_32(th->sent_seq), a0 = rte_be_to_cpu_32(th->recv_ack);
	uint32_t s1 = s0 + d, a1 = a0 + d;
	uint32_t sum = (uint16_t)~rte_be_to_cpu_16(th->cksum);

	sum += (uint16_t)~(s0 >> 16) + (uint16_t)~s0 + (s1 >> 16) + (s1 & 0xffff);
	sum += (uint16_t)~(a0 >> 16) + (uint16_t)~a0 + (a1 >> 16) + (a1 & 0xffff);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	th->sent_seq = rte_cpu_to_be_32(s1);
	th->recv_ack = rte_cpu_to_be_32(a1);
	th->cksum = rte_cpu_to_be_16((uint16_t)~sum);
}

static inline int
rx_fill(struct bench *b, struct rte_mbuf **m, unsigned int n, struct stream *st, uint16_t port)
{
	unsigned int i;

	if (n == 0)
		return 0;
	if (unlikely(nic_rx_bulk(b->mp, m, n, port, RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4) != 0)) {
		b->alloc_fail++;
		return -ENOBUFS;
	}
	for (i = 0; i < n; i++) {
		const struct slot *s = &st->s[st->pos];
		uint8_t *d = rte_pktmbuf_mtod(m[i], uint8_t *);

		rte_mov64(d, s->frame);	/* frame and tag: the tag lands past the frame */
		if (st->tcp_adv != 0 && d[23] == IPPROTO_TCP)
			tcp_advance(d, st->tcp_adv);
		if (++st->pos == st->n) {
			st->pos = 0;
			st->tcp_adv += st->adv_step;
		}
		m[i]->data_len = FRAME_LEN;
		m[i]->pkt_len = FRAME_LEN;
		*mbuf_tag(m[i]) = s->tag;
		if (st->fresh) {
			struct mbuf_priv *pv = mbuf_priv(m[i]);

			memcpy(&pv->in_addr, d + 26, 4);
			memcpy(&pv->srv_addr, d + 30, 4);
			memcpy(&pv->ports, d + 34, 4);
		}
	}
	return 0;
}

/** Check one transmitted packet against the model. Returns true when right. */
static bool
verify_pkt(struct bench *b, struct rte_mbuf *m, uint16_t port)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t tag = *mbuf_tag(m);
	const struct flow *fl = tag & TAG_FRESH ? &b->fresh[tag >> TAG_SHIFT] :
		&b->flows[tag >> TAG_SHIFT];
	const char *why = NULL;

	if (rte_pktmbuf_data_len(m) < FRAME_LEN - 6 || !pb_csum_ok(f, m->data_len))
		why = "checksum (full recomputation) wrong";
	else if (!(tag & TAG_IN)) {
		if (port != BENCH_PORT_OUTSIDE)
			why = "outbound packet not sent on the outside port";
		else if (!is_pool_addr(b, pb_ip_src(f)))
			why = "outbound source is not a pool address";
		else if (fl->learned && (pb_ip_src(f) != fl->ext_addr ||
					  pb_sport(f) != fl->ext_port))
			why = "outbound source differs from the learned mapping";
		else if (pb_ip_dst(f) != fl->srv_addr || pb_dport(f) != fl->srv_port)
			why = "outbound destination changed";
	} else {
		if (port != BENCH_PORT_INSIDE)
			why = "reply not sent on the inside port";
		else if (pb_ip_dst(f) != fl->in_addr || pb_dport(f) != fl->in_port)
			why = "reply not translated back to the inside host";
		else if (pb_ip_src(f) != fl->srv_addr || pb_sport(f) != fl->srv_port)
			why = "reply source changed";
	}
	if (why == NULL) {
		b->verified++;
		if (tag & TAG_IN)
			b->total_in_ok++;
		else
			b->total_out_ok++;
		return true;
	}
	b->total_bad++;
	if (b->bad++ == 0)
		snprintf(b->first_bad, sizeof(b->first_bad), "flow %u%s%s: %s",
			 tag >> TAG_SHIFT, tag & TAG_FRESH ? " (fresh)" : "",
			 tag & TAG_IN ? " reply" : " outbound", why);
	return false;
}

/** A fresh connection's reply as natgw sent it to the inside: back to the first packet's
 *  source, from its destination (checked on the bytes, every packet, timed runs too). */
static inline bool
fresh_reply_ok(struct rte_mbuf *m, uint16_t port)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct mbuf_priv *pv = mbuf_priv(m);
	uint32_t src, dst, ports;

	memcpy(&src, f + 26, 4);
	memcpy(&dst, f + 30, 4);
	memcpy(&ports, f + 34, 4);
	return port == BENCH_PORT_INSIDE && dst == pv->in_addr && src == pv->srv_addr &&
	       ports == (pv->ports >> 16 | pv->ports << 16);
}

/** Turn a translated fresh first packet round into the server's reply, in place. The IPv4
 *  and UDP checksums are sums over the same words after the swap, so they stay valid.
 *  False (and nothing done) when the first packet was not translated to a pool address or
 *  its destination changed. */
static inline bool
make_reply(const struct bench *b, struct rte_mbuf *m, uint16_t port)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ip + 1);
	struct rte_ether_addr e = eh->dst_addr;
	uint32_t a = ip->src_addr;
	uint16_t p = uh->src_port;

	if (port != BENCH_PORT_OUTSIDE || !is_pool_addr(b, a) ||
	    ip->dst_addr != mbuf_priv(m)->srv_addr)
		return false;
	eh->dst_addr = eh->src_addr;
	eh->src_addr = e;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	uh->src_port = uh->dst_port;
	uh->dst_port = p;
	m->ol_flags = 0;
	*mbuf_tag(m) |= TAG_IN;
	return true;
}

uint16_t
bench_tx(void *arg, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	struct bench *b = arg;
	struct rte_mbuf *done[BURST * 2];
	unsigned int i, nd = 0;

	if (unlikely(b->tx_hook != NULL))	/* the IPv6 rows (bench_ip6.c) */
		return b->tx_hook(b, port, pkts, n);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t tag = *mbuf_tag(m);
		const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

		if (unlikely(eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))) {
			b->tx_other++;	/* ARP and the like: not a forwarded packet */
			rte_pktmbuf_free(m);
			continue;
		}
		b->tx++;
		if (b->mode == TX_LEARN && !(tag & (TAG_IN | TAG_FRESH))) {
			const uint8_t *f = (const uint8_t *)eh;
			struct flow *fl = &b->flows[tag >> TAG_SHIFT];

			if (!fl->learned) {
				fl->ext_addr = pb_ip_src(f);
				fl->ext_port = pb_sport(f);
				fl->learned = 1;
			}
		}
		if (unlikely(b->mode != TX_FREE))
			verify_pkt(b, m, port);
		if ((tag & (TAG_FRESH | TAG_IN)) == (TAG_FRESH | TAG_IN)) {
			/* a new connection counts once its reply came back translated */
			if (fresh_reply_ok(m, port))
				b->conns_ok++;
			else
				b->conns_bad++;
		} else if ((tag & TAG_FRESH) && b->recycle_fresh &&
			   b->n_replies < RTE_DIM(b->replies)) {
			if (make_reply(b, m, port)) {
				b->replies[b->n_replies++] = m;
				continue;
			}
			b->conns_bad++;
		}
		done[nd++] = m;
		if (nd == RTE_DIM(done)) {
			nic_tx_free(b->mp, done, nd);
			nd = 0;
		}
	}
	if (nd > 0)
		nic_tx_free(b->mp, done, nd);
	return n;
}

void
bench_drop(void *arg, struct rte_mbuf *m, const char *reason)
{
	struct bench *b = arg;

	b->dropped++;
	if (b->dropped == 1 && b->first_bad[0] == '\0')
		snprintf(b->first_bad, sizeof(b->first_bad), "first drop: %s (tag %#x)",
			 reason != NULL ? reason : "?", *mbuf_tag(m));
	rte_pktmbuf_free(m);
}

/* ----------------------------------------------------------------------------------------
 * The loop: per iteration one burst from the inside port, then one from the outside port,
 * as a worker polling both would see them. `fresh_per_burst` (x/16) of the inside burst are
 * fresh first packets; the outside burst starts with the replies the tx callback recycled.
 */
struct plan {
	struct stream *out;	/* outbound frames (may be NULL) */
	struct stream *in;	/* inbound frames (may be NULL) */
	struct stream *fresh;	/* fresh first packets (may be NULL) */
	unsigned int fresh_x16;	/* fresh packets per inside burst, in 1/16 */
	bool nat;		/* false: the floor, bursts go straight to tx */
};

static inline void
deliver(struct bench *b, const struct plan *p, uint16_t port, struct rte_mbuf **m,
	unsigned int n)
{
	b->rx += n;
	if (p->nat)
		bench_pipe_rx(b->pipe, port, m, n, b->now);
	else
		bench_tx(b, port == BENCH_PORT_INSIDE ? BENCH_PORT_OUTSIDE : BENCH_PORT_INSIDE,
			 m, n);
}

/** Run `iters` loop iterations. Returns 0, or -ENOBUFS if the mbuf pool ran dry. */
static int
run_loop(struct bench *b, const struct plan *p, uint64_t iters)
{
	struct rte_mbuf *m[BURST];
	unsigned int acc = 0;
	uint64_t it;

	for (it = 0; it < iters; it++) {
		unsigned int nf = 0, n;

		if (p->fresh != NULL) {
			acc += p->fresh_x16;
			nf = RTE_MIN(acc / 16, (unsigned int)BURST);
			acc -= nf * 16;
			if (rx_fill(b, m, nf, p->fresh, BENCH_PORT_INSIDE) != 0)
				return -ENOBUFS;
		}
		n = p->out != NULL ? BURST - nf : 0;
		if (rx_fill(b, m + nf, n, p->out, BENCH_PORT_INSIDE) != 0) {
			rte_pktmbuf_free_bulk(m, nf);	/* the fresh ones filled above */
			return -ENOBUFS;
		}
		if (nf + n > 0)
			deliver(b, p, BENCH_PORT_INSIDE, m, nf + n);

		nf = RTE_MIN(b->n_replies, (unsigned int)BURST);
		if (nf > 0) {
			memcpy(m, b->replies, nf * sizeof(m[0]));
			b->n_replies -= nf;
			memmove(b->replies, b->replies + nf, b->n_replies * sizeof(m[0]));
		}
		n = p->in != NULL ? BURST - nf : 0;
		if (rx_fill(b, m + nf, n, p->in, BENCH_PORT_OUTSIDE) != 0) {
			rte_pktmbuf_free_bulk(m, nf);	/* the replies taken above */
			return -ENOBUFS;
		}
		if (nf + n > 0)
			deliver(b, p, BENCH_PORT_OUTSIDE, m, nf + n);
		b->now += DT_US;
		if (p->nat)
			bench_pipe_idle(b->pipe, b->now);
	}
	return 0;
}

static void
counters_reset(struct bench *b)
{
	b->rx = b->tx = b->tx_other = b->dropped = b->alloc_fail = 0;
	b->conns_ok = b->conns_bad = 0;
	b->verified = b->bad = 0;
	b->first_bad[0] = '\0';
}

/** Flush replies still held (end of a CPS/mix run) back through the pipeline. */
static void
drain_replies(struct bench *b, const struct plan *p)
{
	while (b->n_replies > 0) {
		struct plan q = { .nat = p->nat };

		run_loop(b, &q, 1);
	}
}

/** The timed part, and only it: profile with valgrind --tool=callgrind
 *  --toggle-collect=timed_loop to count instructions of the measurements alone. */
static __attribute__((noinline)) int
timed_loop(struct bench *b, const struct plan *p, uint64_t iters)
{
	return run_loop(b, p, iters);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/**
 * Time `reps` repetitions of `iters` loop iterations, in chunks of CHUNK_ITERS iterations.
 * The machine is shared and noisy (other jobs preempt us for milliseconds at a time), so
 * the figure reported is the median over chunks (a few ms each): a preempted chunk is an
 * outlier instead of a bias on a whole repetition (the load average at start and end goes
 * into the JSON so a reader can judge). p10 and the plain mean are kept too.
 * Units are packets, or connections when per_conn.
 */
static int
measure(struct bench *b, const struct plan *p, uint64_t iters, bool per_conn,
	struct result *r, double *p10_out)
{
	unsigned int k, reps = b->o.reps;
	size_t nch = 0, cap = (size_t)reps * (iters / CHUNK_ITERS + 1);
	double *v = malloc(cap * sizeof(*v));
	uint64_t pkts = 0, all_cycles = 0, all_units = 0;

	if (v == NULL)
		return -ENOMEM;
	for (k = 0; k < reps; k++) {
		uint64_t done = 0;

		while (done < iters) {
			uint64_t n = RTE_MIN((uint64_t)CHUNK_ITERS, iters - done);
			uint64_t rx0 = b->rx, ok0 = b->conns_ok, t0, t1, units;

			t0 = rte_rdtsc_precise();
			if (timed_loop(b, p, n) != 0) {
				free(v);
				return -ENOBUFS;
			}
			t1 = rte_rdtsc_precise();
			units = b->rx - rx0;
			if (per_conn)
				units = b->conns_ok - ok0;	/* replies back translated */
			if (units > 0 && nch < cap)
				v[nch++] = (double)(t1 - t0) / (double)units;
			all_cycles += t1 - t0;
			all_units += units;
			pkts += b->rx - rx0;
			done += n;
		}
	}
	if (nch == 0) {
		free(v);
		return -EIO;
	}
	qsort(v, nch, sizeof(v[0]), cmp_double);
	r->cycles = v[nch / 2];
	r->mpps = (double)b->tsc_hz / r->cycles / 1e6;
	r->mean = (double)all_cycles / (double)all_units;
	r->pkts = pkts;
	if (p10_out != NULL)
		*p10_out = v[nch / 10];
	free(v);
	return 0;
}

/* ----------------------------------------------------------------------------------------
 * The measurements
 */

static uint64_t
iters_for(const struct bench *b, size_t stream_len)
{
	uint64_t pkts = RTE_MAX((uint64_t)stream_len * 2, b->o.min_pkts);

	return (pkts + 2 * BURST - 1) / (2 * BURST);
}

static void
report_bad(const struct bench *b, const char *what)
{
	fprintf(stderr, "natgw-bench: %s: rx %" PRIu64 " tx %" PRIu64 " dropped %" PRIu64
		" other %" PRIu64 " bad %" PRIu64 "%s%s\n", what, b->rx, b->tx, b->dropped,
		b->tx_other, b->bad, b->first_bad[0] ? ": " : "", b->first_bad);
	if (b->pipe != NULL)
		bench_pipe_print_stats(b->pipe, stderr);
}

static int
measure_floor(struct bench *b, struct result *r)
{
	struct stream out, in;
	struct plan p = { .out = &out, .in = &in, .nat = false };
	int rc;

	if (flows_make(b, 65536) != 0)
		return -ENOMEM;
	rc = stream_build(b, &out, b->flows, b->n_flows, b->n_flows, PK_EST_OUT, 0);
	if (rc == 0)
		rc = stream_build(b, &in, b->flows, b->n_flows, b->n_flows, PK_EST_IN, 0);
	if (rc == 0) {
		run_loop(b, &p, 1024);	/* warm caches and the mbuf pool */
		counters_reset(b);
		rc = measure(b, &p, iters_for(b, 0), false, r, NULL);
		if (rc == 0 && b->tx != b->rx) {
			report_bad(b, "floor");
			rc = -EIO;
		}
	}
	stream_free(&out);
	stream_free(&in);
	flows_free(b);
	return rc;
}

/** Push every frame of a stream through the pipeline once (setup passes). */
static int
pass(struct bench *b, struct stream *st, bool outbound)
{
	struct plan p = { .out = outbound ? st : NULL, .in = outbound ? NULL : st, .nat = true };
	uint64_t iters = st->n / BURST;
	unsigned int rest = st->n % BURST;
	int rc;

	st->pos = 0;
	rc = run_loop(b, &p, iters);
	if (rc == 0 && rest > 0) {
		/* the tail as a short burst */
		struct rte_mbuf *m[BURST];
		uint16_t port = outbound ? BENCH_PORT_INSIDE : BENCH_PORT_OUTSIDE;

		if (rx_fill(b, m, rest, st, port) != 0)
			return -ENOBUFS;
		deliver(b, &p, port, m, rest);
		b->now += DT_US;
		bench_pipe_idle(b->pipe, b->now);
	}
	return rc;
}

/**
 * Establish every flow: first packets (learning the translation), replies, TCP ACKs with
 * the client's first data, the server's first data. Every packet is verified. Returns 0
 * when all flows forwarded both ways.
 */
static int
establish(struct bench *b)
{
	static const enum pkt_kind kinds[] = { PK_FIRST, PK_REPLY, PK_ACK, PK_DATA0 };
	static const char *const what[] = { "setup: first packets", "setup: replies",
		"setup: tcp acks with data", "setup: server's first data" };
	struct stream st;
	unsigned int k;
	uint32_t i, unlearned = 0;
	int rc = 0;

	for (k = 0; k < RTE_DIM(kinds) && rc == 0; k++) {
		rc = stream_build(b, &st, b->flows, b->n_flows, b->n_flows, kinds[k], 0);
		if (rc != 0)
			return rc;
		counters_reset(b);
		b->mode = k == 0 ? TX_LEARN : TX_VERIFY;
		rc = pass(b, &st, kinds[k] == PK_FIRST || kinds[k] == PK_ACK);
		b->mode = TX_FREE;
		if (rc == 0 && (b->tx != b->rx || b->bad != 0)) {
			report_bad(b, what[k]);
			rc = -EIO;
		}
		stream_free(&st);
	}
	for (i = 0; i < b->n_flows; i++)
		unlearned += !b->flows[i].learned;
	if (rc == 0 && unlearned > 0) {
		fprintf(stderr, "natgw-bench: %u flows not translated\n", unlearned);
		rc = -EIO;
	}
	return rc;
}

static void
fill_memory(struct bench *b, struct size_result *sr, size_t heap0, size_t dpdk0)
{
	size_t all = (malloc_heap() - heap0) + (dpdk_heap() - dpdk0);

	sr->mem_bytes = all;
	sr->bytes_per_conn = (double)all / sr->sessions;
	sr->ct_bytes_per_conn = (double)bench_pipe_ct_memory(b->pipe) / sr->sessions;
	sr->capacity = bench_pipe_capacity(b->pipe);
}

static int
measure_established(struct bench *b, uint32_t sessions, struct size_result *sr)
{
	struct bench_pipe_params pp = {
		.capacity = sessions + sessions / 8 + 64,
		.udp_timeout_us = 0, .tcp_timeout_us = 0, /* defaults */
	};
	struct stream out = { 0 }, in = { 0 };
	struct plan p = { .out = &out, .in = &in, .nat = true };
	size_t heap0 = malloc_heap(), dpdk0 = dpdk_heap();
	size_t len = (size_t)sessions * ((RTE_MAX(sessions, 65536u) + sessions - 1) / sessions);
	int rc;

	memset(sr, 0, sizeof(*sr));
	sr->sessions = sessions;
	rc = pipe_start(b, &pp);
	if (rc == 0)
		rc = flows_make(b, sessions);
	if (rc == 0)
		rc = establish(b);
	if (rc == 0)
		fill_memory(b, sr, heap0, dpdk0);
	/* whole rounds (every flow once per round), at least 65,536 frames per direction */
	if (rc == 0)
		rc = stream_build(b, &out, b->flows, b->n_flows, len, PK_EST_OUT, 0);
	if (rc == 0)
		rc = stream_build(b, &in, b->flows, b->n_flows, len, PK_EST_IN, 0);
	if (rc == 0) {
		/* verify two full passes of each direction (the second with every TCP segment
		 * moved on by the emulated NIC, as the timed passes have them), then time */
		counters_reset(b);
		b->mode = TX_VERIFY;
		rc = run_loop(b, &p, 2 * ((out.n + BURST - 1) / BURST));
		b->mode = TX_FREE;
		sr->verified = rc == 0 && b->bad == 0 && b->tx == b->rx && b->dropped == 0;
		if (!sr->verified) {
			report_bad(b, "established: verify pass");
			rc = -EIO;
		}
	}
	if (rc == 0) {
		/* the fast path relearns (as after a [forward] change): every learnt bit is
		 * cleared, the next pass is verified again, and its first packet of each
		 * direction of each flow goes the full path (learning) before the rest is fast */
		uint64_t f0 = bench_pipe_fast_count(b->pipe), f, all;
		int hk = bench_pipe_relearn(b->pipe, b->now);

		counters_reset(b);
		b->mode = TX_VERIFY;
		rc = run_loop(b, &p, 2 * ((out.n + BURST - 1) / BURST));
		b->mode = TX_FREE;
		f = bench_pipe_fast_count(b->pipe) - f0;
		all = b->rx;
		if (rc != 0 || hk < 0 || b->bad != 0 || b->tx != b->rx || b->dropped != 0 ||
		    f < all / 4 || f + b->n_flows > all) {
			fprintf(stderr, "natgw-bench: relearn: %d housekeeping calls, %" PRIu64
				" of %" PRIu64 " packets on the fast path, %u flows\n", hk, f, all,
				b->n_flows);
			report_bad(b, "established: verify pass after relearning");
			sr->verified = false;
			rc = -EIO;
		}
	}
	if (rc == 0) {
		counters_reset(b);
		rc = measure(b, &p, iters_for(b, out.n), false, &sr->r, &sr->p10_cycles);
		sr->drops = b->dropped;
		if (rc == 0 && (b->tx != b->rx || b->dropped != 0)) {
			report_bad(b, "established");
			rc = -EIO;
		}
	}
	stream_free(&out);
	stream_free(&in);
	flows_free(b);
	pipe_stop(b);
	return rc;
}

/**
 * New connections per second. Capacity C, every UDP timeout set so that ~C/2 connections
 * are alive at a time on the virtual clock: fresh first packets 32 per inside burst, their
 * replies 32 per outside burst, expiry reclaiming as many per iteration.
 */
static int
measure_cps(struct bench *b, struct result *r, struct results *res)
{
	uint32_t cap = b->o.cps_capacity;
	uint64_t live = cap / 2;
	struct bench_pipe_params pp = {
		.capacity = cap,
		.udp_timeout_us = live / BURST * DT_US,
		.tcp_timeout_us = live / BURST * DT_US,
	};
	struct stream fr;
	struct plan p = { .fresh = &fr, .fresh_x16 = BURST * 16, .nat = true };
	uint64_t warm;
	int rc;

	rc = pipe_start(b, &pp);
	if (rc == 0)
		rc = fresh_make(b, b->o.cps_conns);
	if (rc == 0)
		rc = stream_build(b, &fr, b->fresh, b->n_fresh, b->n_fresh, PK_FIRST, TAG_FRESH);
	if (rc == 0) {
		/* verified warm-up: fill the table to its steady state (~2 lifetimes) */
		b->recycle_fresh = true;
		counters_reset(b);
		b->mode = TX_VERIFY;
		warm = RTE_MIN(live * 2 / BURST, fr.n / 4 / BURST);
		rc = run_loop(b, &p, warm);
		drain_replies(b, &p);
		b->mode = TX_FREE;
		if (rc == 0 && (b->bad != 0 || b->tx != b->rx || b->conns_bad != 0 ||
				b->conns_ok == 0)) {
			report_bad(b, "new connections: verify pass");
			rc = -EIO;
		}
	}
	if (rc == 0) {
		uint64_t iters = RTE_MIN((uint64_t)(fr.n - fr.pos) / BURST / b->o.reps,
					 RTE_MAX(b->o.min_pkts / 2 / BURST, live * 2 / BURST));
		uint64_t rx[2], idle;

		counters_reset(b);
		bench_pipe_split(b->pipe, true);
		rc = measure(b, &p, iters, true, r, NULL);
		bench_pipe_split(b->pipe, false);
		bench_pipe_split_get(b->pipe, rx, &idle);
		drain_replies(b, &p);
		res->cps_offered = iters * b->o.reps * BURST;
		res->cps_first = (double)rx[BENCH_PORT_INSIDE] / (double)res->cps_offered;
		res->cps_reply = (double)rx[BENCH_PORT_OUTSIDE] / (double)res->cps_offered;
		res->cps_expiry = (double)idle / (double)res->cps_offered;
		res->cps_conns = b->conns_ok;
		res->cps_bad = b->conns_bad;
		res->cps_drops = b->dropped;
		if (rc == 0 && b->conns_bad != 0) {
			report_bad(b, "new connections: wrongly translated");
			rc = -EIO;
		}
		if (rc == 0 && b->tx + b->dropped != b->rx)
			rc = -EIO;
		if (b->dropped > 0)
			report_bad(b, "new connections (drops counted, not fatal)");
	}
	b->recycle_fresh = false;
	stream_free(&fr);
	fresh_free(b);
	pipe_stop(b);
	return rc;
}

/** 90% established (64k connections), 10% new-connection packets (first + reply). */
static int
measure_mix(struct bench *b, struct result *r, uint64_t *drops_out)
{
	const uint32_t est = b->o.quick ? 4096 : 65536;
	/* fresh connections live ~ 10% x 32 / 2 per iteration; keep them < est/2 alive */
	uint64_t fresh_live = est / 2;
	struct bench_pipe_params pp = {
		.capacity = est + (uint32_t)fresh_live * 2,
		/* 3.2 fresh per iteration: their lifetime in iterations is live / 1.6 */
		.udp_timeout_us = fresh_live * 10 / 16 * DT_US,
		.tcp_timeout_us = 0,
	};
	struct stream out = { 0 }, in = { 0 }, fr = { 0 };
	/* 10% of 64 packets per iteration = 6.4 = 3.2 fresh firsts + 3.2 replies */
	struct plan p = { .out = &out, .in = &in, .fresh = &fr, .fresh_x16 = 51, .nat = true };
	int rc;

	/* established UDP flows are hit every 2*est/(0.9*64) iterations: must be < timeout */
	rc = pipe_start(b, &pp);
	if (rc == 0)
		rc = flows_make(b, est);
	if (rc == 0)
		rc = establish(b);
	if (rc == 0)
		rc = fresh_make(b, b->o.quick ? 65536 : 4u << 20);
	if (rc == 0)
		rc = stream_build(b, &out, b->flows, b->n_flows, est, PK_EST_OUT, 0);
	if (rc == 0)
		rc = stream_build(b, &in, b->flows, b->n_flows, est, PK_EST_IN, 0);
	if (rc == 0)
		rc = stream_build(b, &fr, b->fresh, b->n_fresh, b->n_fresh, PK_FIRST, TAG_FRESH);
	if (rc == 0) {
		b->recycle_fresh = true;
		counters_reset(b);
		b->mode = TX_VERIFY;
		rc = run_loop(b, &p, fresh_live * 10 / 16 * 2);
		drain_replies(b, &p);
		b->mode = TX_FREE;
		if (rc == 0 && (b->bad != 0 || b->tx != b->rx)) {
			report_bad(b, "mix: verify pass");
			rc = -EIO;
		}
	}
	if (rc == 0) {
		uint64_t iters = RTE_MIN((uint64_t)(fr.n - fr.pos) * 16 / 51 / b->o.reps,
					 iters_for(b, 0));

		counters_reset(b);
		rc = measure(b, &p, iters, false, r, NULL);
		drain_replies(b, &p);
		*drops_out = b->dropped;
		if (b->dropped > 0)
			report_bad(b, "mix (drops counted, not fatal)");
	}
	b->recycle_fresh = false;
	stream_free(&out);
	stream_free(&in);
	stream_free(&fr);
	fresh_free(b);
	flows_free(b);
	pipe_stop(b);
	return rc;
}

/* ----------------------------------------------------------------------------------------
 * Setup
 */

static void
usage(const char *prog)
{
	printf("usage: %s [options]\n"
	       "  --quick            small run (CI: proves the tool works, no timing claims)\n"
	       "  --sizes LIST       established sizes, comma separated (default "
	       "1000,65536,1048576,4194304)\n"
	       "  --cps-capacity N   table capacity for the new-connection run (262144)\n"
	       "  --cps-conns N      fresh connections generated (4194304)\n"
	       "  --reps N           timed repetitions, median reported (5)\n"
	       "  --min-pkts N       packets per repetition at least (4000000)\n"
	       "  --tcp-pct N        share of TCP among established flows (50)\n"
	       "  --seed N           traffic seed (1)\n"
	       "  --hosts N          inside hosts at most (768: natgw's ARP cache is 1024 per\n"
	       "                     worker; flows per host grow past 32 beyond that)\n"
	       "  --pool N           outside pool addresses, 1..64 (64: 4M connections need\n"
	       "                     more ports than a few addresses have)\n"
	       "  --json FILE        results (bench-results.json)\n"
	       "  --dat FILE         gnuplot data: sessions, cycles/pkt, floor\n"
	       "  --huge             use hugepages (default --no-huge)\n"
	       "  --eal 'ARGS'       extra EAL arguments (e.g. '-l 1')\n"
	       "  --no-cps, --no-mix skip those measurements (profiling one phase)\n"
	       "  --ip6-conns N      connections of the IPv6 and NAT64 rows (65536)\n"
	       "  --no-ip6           skip the IPv6 and NAT64 rows\n"
	       "  --rules FILE       the pipeline runs [filter] rules = FILE (lib/ruleset)\n", prog);
}

static int
parse_sizes(struct opts *o, const char *s)
{
	char *dup = strdup(s), *tok, *save = NULL;

	o->n_sizes = 0;
	for (tok = strtok_r(dup, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		unsigned long v = strtoul(tok, NULL, 0);

		if (v < 32 || v > (1ul << 26) || o->n_sizes == MAX_SIZES) {
			free(dup);
			return -1;
		}
		o->sizes[o->n_sizes++] = (uint32_t)v;
	}
	free(dup);
	return o->n_sizes > 0 ? 0 : -1;
}

static int
parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' }, { "sizes", required_argument, NULL, 's' },
		{ "cps-capacity", required_argument, NULL, 'c' },
		{ "cps-conns", required_argument, NULL, 'C' },
		{ "reps", required_argument, NULL, 'r' }, { "min-pkts", required_argument, NULL, 'm' },
		{ "tcp-pct", required_argument, NULL, 't' }, { "seed", required_argument, NULL, 'S' },
		{ "json", required_argument, NULL, 'j' }, { "dat", required_argument, NULL, 'd' },
		{ "huge", no_argument, NULL, 'H' }, { "eal", required_argument, NULL, 'e' },
		{ "hosts", required_argument, NULL, 'o' }, { "pool", required_argument, NULL, 'P' },
		{ "no-cps", no_argument, NULL, 'N' }, { "no-mix", no_argument, NULL, 'M' },
		{ "rules", required_argument, NULL, 'R' },
		{ "ip6-conns", required_argument, NULL, '6' }, { "no-ip6", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	bool sizes_given = false;
	int c;

	*o = (struct opts){ .json = "bench-results.json", .cps_capacity = 262144,
		.cps_conns = 4u << 20, .reps = 5, .min_pkts = 4000000, .tcp_pct = 50, .seed = 1,
		.max_hosts = 768, .pool_addrs = N_POOL, .ip6_conns = 65536 };
	bool ip6_given = false;
	parse_sizes(o, "1000,65536,1048576,4194304");
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'q': o->quick = true; break;
		case 's':
			if (parse_sizes(o, optarg) != 0)
				return -1;
			sizes_given = true;
			break;
		case 'c': o->cps_capacity = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'C': o->cps_conns = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'r': o->reps = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'm': o->min_pkts = strtoull(optarg, NULL, 0); break;
		case 't': o->tcp_pct = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'S': o->seed = strtoull(optarg, NULL, 0); break;
		case 'j': o->json = optarg; break;
		case 'd': o->dat = optarg; break;
		case 'H': o->huge = true; break;
		case 'e': o->eal_extra = optarg; break;
		case 'N': o->no_cps = true; break;
		case 'o': o->max_hosts = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'P': o->pool_addrs = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'M': o->no_mix = true; break;
		case 'R': bench_pipe_rules = optarg; break;
		case '6':
			o->ip6_conns = (uint32_t)strtoul(optarg, NULL, 0);
			ip6_given = true;
			break;
		case 'x': o->no_ip6 = true; break;
		case 'h': usage(argv[0]); exit(0);
		default: return -1;
		}
	}
	if (o->quick) {
		if (!sizes_given)
			parse_sizes(o, "1000,4096");
		o->cps_capacity = 8192;
		o->cps_conns = 131072;
		o->reps = 3;
		o->min_pkts = 65536;
		if (!ip6_given)
			o->ip6_conns = 4096;
	}
	if (o->reps < 1 || o->reps > 16 || o->tcp_pct > 100 || o->cps_capacity < 256 ||
	    o->max_hosts < 1 || o->max_hosts > (1u << 20) ||
	    o->pool_addrs < 1 || o->pool_addrs > N_POOL ||
	    o->cps_conns < 4 * o->cps_capacity ||
	    o->ip6_conns < 32 || o->ip6_conns > (1u << 24))
		return -1;
	return 0;
}

/** EAL memory: what the pipeline's tables need at the largest size, with room to spare. */
static unsigned int
eal_mem_mb(const struct opts *o)
{
	uint64_t max = RTE_MAX(o->cps_capacity, o->ip6_conns * 9 / 8);
	unsigned int i;

	for (i = 0; i < o->n_sizes; i++)
		max = RTE_MAX(max, (uint64_t)o->sizes[i] * 9 / 8);
	/* up to 512 bytes per connection of table, plus 256 MiB for pools and the rest */
	return (unsigned int)(max * 512 / (1 << 20) + 256);
}

static int
eal_start(const struct opts *o, const char *prog)
{
	char mem[32], prefix[48], *args[32], *extra = NULL, *tok, *save = NULL;
	int n = 0, rc;

	args[n++] = (char *)(uintptr_t)prog;
	/* DPDK 22.11 refuses --in-memory with --no-huge (which implies legacy memory);
	 * --no-shconf gives the same "no files, no secondary processes" there. */
	if (!o->huge) {
		args[n++] = "--no-huge";
		args[n++] = "--no-shconf";
	} else {
		args[n++] = "--in-memory";
	}
	args[n++] = "--no-pci";
	/* a private runtime directory: several DPDK processes may run at once (meson test) */
	snprintf(prefix, sizeof(prefix), "--file-prefix=natgw-bench-%d", (int)getpid());
	args[n++] = prefix;
	args[n++] = "--no-telemetry";
	args[n++] = "--log-level=lib.eal:warning";
	args[n++] = "--log-level=user1:warning";	/* rte_ip_frag's table banner per table */
	snprintf(mem, sizeof(mem), "-m%u", eal_mem_mb(o));
	args[n++] = mem;
	if (o->eal_extra == NULL || strstr(o->eal_extra, "-l") == NULL)
		args[n++] = "-l0";
	if (o->eal_extra != NULL) {
		extra = strdup(o->eal_extra);
		for (tok = strtok_r(extra, " ", &save); tok != NULL && n < 31;
		     tok = strtok_r(NULL, " ", &save))
			args[n++] = tok;
	}
	args[n] = NULL;
	rc = rte_eal_init(n, args);
	/* extra's tokens are kept by EAL; freed at exit */
	return rc < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	static struct bench b;
	static struct results res;
	unsigned int i;
	int rc = 0;

	if (parse_opts(&b.o, argc, argv) != 0) {
		usage(argv[0]);
		return 2;
	}
	if (eal_start(&b.o, argv[0]) != 0) {
		fprintf(stderr, "natgw-bench: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	rng_state = b.o.seed;
	if (getloadavg(&b.load_start, 1) != 1)
		b.load_start = -1;
	b.tsc_hz = rte_get_tsc_hz();
	b.mp = rte_pktmbuf_pool_create("bench_mbufs", 8191, 256, RTE_CACHE_LINE_SIZE,
				       RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (b.mp == NULL) {
		fprintf(stderr, "natgw-bench: mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	bench_pipe_macs(&b.in_mac, &b.out_mac, &b.host_mac, &b.gw_mac);
	printf("natgw-bench: lcore %u, TSC %" PRIu64 " Hz, %s\n", rte_lcore_id(), b.tsc_hz,
	       b.o.quick ? "quick run (no timing claims)" : "full run");

	if (measure_floor(&b, &res.floor) != 0) {
		fprintf(stderr, "natgw-bench: floor measurement failed\n");
		return 1;
	}
	printf("floor: %.1f cycles/pkt, %.2f Mpps\n", res.floor.cycles, res.floor.mpps);
	fflush(stdout);

	for (i = 0; i < b.o.n_sizes; i++) {
		struct size_result *sr = &res.est[res.n_est];

		if (measure_established(&b, b.o.sizes[i], sr) != 0) {
			fprintf(stderr, "natgw-bench: established at %u failed\n", b.o.sizes[i]);
			rc = 1;
			continue;
		}
		res.n_est++;
		printf("established %u: %.1f cycles/pkt (p10 %.1f, mean %.1f), %.2f Mpps, "
		       "%.1f bytes/conn, %" PRIu64 " drops\n", sr->sessions, sr->r.cycles,
		       sr->p10_cycles, sr->r.mean, sr->r.mpps, sr->bytes_per_conn, sr->drops);
		fflush(stdout);
	}
	if (b.o.no_cps) {
		/* skipped */
	} else if (measure_cps(&b, &res.cps, &res) == 0) {
		res.cps_ok = true;
		printf("new connections: %.1f cycles/conn, %.2f M conn/s (%" PRIu64 " of %" PRIu64
		       " completed, %" PRIu64 " drops); inside natgw, mean per connection: first "
		       "packet %.0f, reply %.0f, expiry %.0f\n", res.cps.cycles, res.cps.mpps,
		       res.cps_conns, res.cps_offered, res.cps_drops, res.cps_first,
		       res.cps_reply, res.cps_expiry);
	} else {
		fprintf(stderr, "natgw-bench: new-connection measurement failed\n");
		rc = 1;
	}
	fflush(stdout);
	if (b.o.no_mix) {
		/* skipped */
	} else if (measure_mix(&b, &res.mix, &res.mix_drops) == 0) {
		res.mix_ok = true;
		printf("mix: %.1f cycles/pkt, %.2f Mpps, %" PRIu64 " drops\n", res.mix.cycles,
		       res.mix.mpps, res.mix_drops);
	} else {
		fprintf(stderr, "natgw-bench: mix measurement failed\n");
		rc = 1;
	}
	/* established IPv6 (routed, conntrack) and NAT64 (bench_ip6.c) */
	if (!b.o.no_ip6) {
		struct ip6_result *r6[2] = { &res.ip6, &res.nat64 };
		unsigned int k;

		for (k = 0; k < 2; k++) {
			if (bench_ip6_run(&b, k == 1, r6[k]) != 0) {
				fprintf(stderr, "natgw-bench: established %s failed\n",
					k ? "NAT64" : "IPv6");
				rc = 1;
				continue;
			}
			printf("established %s %u: %.1f cycles/pkt (p10 %.1f, mean %.1f), "
			       "%.2f Mpps, %" PRIu64 " drops, %" PRIu64 "/%" PRIu64 " packets "
			       "checked out/in\n", k ? "NAT64" : "IPv6", r6[k]->sessions,
			       r6[k]->r.cycles, r6[k]->p10_cycles, r6[k]->r.mean, r6[k]->r.mpps,
			       r6[k]->drops, r6[k]->out_ok, r6[k]->in_ok);
			fflush(stdout);
		}
	}
	/* RSS steering with an emulated 2..16-queue NIC: handoff fraction (bench_rss.c) */
	if (bench_rss_run(&res.rss, b.o.quick, b.o.seed) != 0)
		rc = 1;
	/* measure_established() fails a size whose passes lost or added packets */
	res.all_tx_eq_rx = res.n_est == b.o.n_sizes;
	for (i = 0; i < res.n_est; i++)
		res.all_tx_eq_rx &= res.est[i].verified;
	bench_print_table(&b, &res);
	bench_json_write(&b, &res, argc, argv);
	printf("results: %s\n", b.o.json);
	rte_mempool_free(b.mp);
	rte_eal_cleanup();
	return rc;
}
