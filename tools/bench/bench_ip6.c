/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_ip6.c - natgw-bench's two IPv6 rows, measured as the IPv4 established row is
 * (natgw_bench.c): "established IPv6 (routed, conntrack)" (app/gw_ip6.c: forwarded
 * untranslated, hop limit decremented, tracked by lib/conntrack) and "established NAT64"
 * (app/gw_nat64.c: IPv6 from inside to 64:ff9b::/96 translated, RFC 7915, to IPv4 from the
 * host's shadow address and NATed to the pool; replies translated back). It owns their
 * traffic model (flows, 80-byte IPv6 frames, 60-byte IPv4 replies for NAT64), their streams
 * and loop, the check of every packet of the verify passes, and the timing; the pipeline is
 * bench_pipe.c's with address6/gateway6 (and [nat64]) set. Neighbours introduce themselves
 * with neighbour solicitations (RFC 4861 7.2.3), as the IPv4 rows' hosts do with ARP.
 *
 * Flow: TCP (share --tcp-pct) or UDP; TCP with the IPv4 row's handshake and data rounds whose
 * seq/ack advance at each stream wrap (RFC 1624 checksum update), window tracking on.
 * Inside hosts 2001:db8:1::100+h, servers 2001:db8:5::/64 (routed, via gateway6) or
 * 64:ff9b::198.18.x.y (NAT64). Hosts: 256 at most, within [nat64] max_hosts (4096 shadows
 * per worker by default) and the ND cache (2 x arp_entries).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_tcp.h>

#include "natgw_bench.h"
#include "pkt_build.h"

#define B6_HOSTS	256u
#define B6_UDP_PL	18	/* IPv4 frame 60 bytes, IPv6 frame 80 */

struct slot6 {
	uint8_t frame[96];
	uint16_t len;
	uint8_t tcp_off;	/* TCP header offset, 0: not TCP */
	uint8_t v6;
	uint32_t tag;
} __attribute__((aligned(128)));

struct stream6 {
	struct slot6 *s;
	size_t n, pos;
	uint32_t tcp_adv, adv_step;
};

struct flow6 {
	uint8_t in6[16];	/* inside host */
	uint8_t srv6[16];	/* server as the host sees it */
	uint32_t srv4;		/* NAT64: the server's IPv4 (network order) */
	uint32_t ext_addr;	/* NAT64: learned from the translated first packet */
	uint16_t in_port, srv_port, ext_port;
	uint8_t proto, learned;
};

enum b6_kind { K_FIRST, K_REPLY, K_ACK, K_DATA0, K_EST_OUT, K_EST_IN };
enum b6_mode { M_FREE, M_LEARN, M_VERIFY };

struct b6 {
	bool nat64;
	enum b6_mode mode;
	struct flow6 *fl;
	uint32_t n;
	uint64_t out_ok, in_ok, bad;
	char first_bad[160];
	uint64_t rng;
};

static uint64_t
b6_rng(struct b6 *x)
{
	uint64_t z = (x->rng += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void *
b6_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void
b6_host(uint8_t a[16], uint32_t h)
{
	static const uint8_t p[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };

	memcpy(a, p, 16);
	a[14] = (uint8_t)((0x100 + h) >> 8);
	a[15] = (uint8_t)(0x100 + h);
}

static bool
b6_pool(const struct bench *b, uint32_t a)
{
	unsigned int i;

	for (i = 0; i < b->o.pool_addrs; i++)
		if (a == bench_pool_addr(i))
			return true;
	return false;
}

static int
b6_flows(struct bench *b, struct b6 *x, uint32_t n)
{
	static const uint8_t srv[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 5 };
	static const uint8_t wkp[16] = { 0x00, 0x64, 0xff, 0x9b };
	uint32_t hosts = RTE_MIN(B6_HOSTS, (n + 31) / 32), i;

	if ((n + hosts - 1) / hosts > 28232) {
		fprintf(stderr, "natgw-bench: --ip6-conns %u: more than 28232 per host (%u)\n", n,
			hosts);
		return -EINVAL;
	}
	x->fl = b6_alloc((size_t)n * sizeof(*x->fl));
	if (x->fl == NULL)
		return -ENOMEM;
	x->n = n;
	for (i = 0; i < n; i++) {
		struct flow6 *f = &x->fl[i];
		uint32_t h = i % hosts, j = i / hosts, s;
		uint64_t r = b6_rng(x);

		b6_host(f->in6, h);
		f->in_port = (uint16_t)(32768 + (j * 877 + h * 131) % 28232);
		s = (uint32_t)(r % N_SERVERS);
		f->srv4 = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 0) + 1 + s);
		memcpy(f->srv6, x->nat64 ? wkp : srv, 16);
		if (x->nat64) {
			memcpy(f->srv6 + 12, &f->srv4, 4);
		} else {
			f->srv6[14] = (uint8_t)((s + 1) >> 8);
			f->srv6[15] = (uint8_t)(s + 1);
		}
		f->proto = (r >> 32) % 100 < b->o.tcp_pct ? IPPROTO_TCP : IPPROTO_UDP;
		f->srv_port = f->proto == IPPROTO_TCP ? ((r >> 40) & 1 ? 443 : 80) :
			((r >> 40) & 1 ? 443 : 53);
	}
	return 0;
}

/* the IPv4 row's sequence model (natgw_bench.c slot_fill) */
static void
b6_fill(const struct bench *b, const struct b6 *x, struct slot6 *s, uint32_t idx,
	enum b6_kind k, uint32_t round)
{
	static const uint8_t pl[B6_UDP_PL] = "abcdefghijklmnopq";
	const struct flow6 *f = &x->fl[idx];
	uint32_t c = idx * 2654435761u + 1, sv = ~idx * 40503u + 1;
	uint32_t sq = (round + 1) * TCP_PL, ak = round * TCP_PL;
	bool out = k == K_FIRST || k == K_ACK || k == K_EST_OUT, tcp = f->proto == IPPROTO_TCP;
	uint8_t buf[PB_MAX], flags = RTE_TCP_ACK_FLAG;
	uint32_t seq = 0, ack = 0;
	uint16_t plen = tcp ? TCP_PL : B6_UDP_PL;
	unsigned int len;

	switch (k) {
	case K_FIRST: flags = RTE_TCP_SYN_FLAG; seq = c - 1; plen = tcp ? 0 : plen; break;
	case K_REPLY: flags |= RTE_TCP_SYN_FLAG; seq = sv - 1; ack = c; plen = tcp ? 0 : plen;
		break;
	case K_ACK: seq = c; ack = sv; break;
	case K_DATA0: seq = sv; ack = c; break;
	case K_EST_OUT: seq = c + sq; ack = sv + ak; break;
	case K_EST_IN: seq = sv + sq; ack = c + ak; break;
	}
	if (tcp && plen > 0)
		flags |= RTE_TCP_PSH_FLAG;
	if (out || !x->nat64) {
		struct pb6_spec sp = { .proto = f->proto, .tcp_flags = flags, .seq = seq,
			.ack = ack, .payload = pl, .payload_len = plen };

		memcpy(sp.src, out ? f->in6 : f->srv6, 16);
		memcpy(sp.dst, out ? f->srv6 : f->in6, 16);
		sp.sport = out ? f->in_port : f->srv_port;
		sp.dport = out ? f->srv_port : f->in_port;
		len = pb6_build(buf, &sp);
		s->v6 = 1;
		s->tcp_off = tcp ? 14 + 40 : 0;
	} else {	/* NAT64 reply: IPv4 from the server to the learned mapping */
		struct pb_spec sp = { .src = f->srv4, .dst = f->ext_addr, .sport = f->srv_port,
			.dport = f->ext_port, .proto = f->proto, .tcp_flags = flags, .seq = seq,
			.ack = ack, .payload = pl, .payload_len = plen };

		len = pb_build(buf, &sp);
		s->v6 = 0;
		s->tcp_off = tcp ? 14 + 20 : 0;
	}
	memcpy(buf, out ? &b->in_mac : &b->out_mac, 6);
	memcpy(buf + 6, out ? &b->host_mac : &b->gw_mac, 6);
	memset(s->frame, 0, sizeof(s->frame));
	memcpy(s->frame, buf, len);
	s->len = (uint16_t)RTE_MAX(len, 60u);
	s->tag = idx << TAG_SHIFT | (out ? 0 : TAG_IN);
}

static void
b6_stream_free(struct stream6 *st)
{
	if (st->s != NULL)
		munmap(st->s, st->n * sizeof(*st->s));
	memset(st, 0, sizeof(*st));
}

static int
b6_stream(struct bench *b, struct b6 *x, struct stream6 *st, size_t len, enum b6_kind k)
{
	uint32_t *perm = malloc((size_t)x->n * sizeof(*perm)), i, round = 0;
	size_t pos = 0;

	memset(st, 0, sizeof(*st));
	st->s = perm == NULL ? NULL : b6_alloc(len * sizeof(*st->s));
	if (st->s == NULL) {
		free(perm);
		return -ENOMEM;
	}
	while (pos < len) {
		size_t before = pos;

		for (i = 0; i < x->n; i++)
			perm[i] = i;
		for (i = x->n; i > 1; i--) {
			uint32_t j = (uint32_t)(b6_rng(x) % i), t = perm[i - 1];

			perm[i - 1] = perm[j];
			perm[j] = t;
		}
		for (i = 0; i < x->n && pos < len; i++) {
			if ((k == K_ACK || k == K_DATA0) && x->fl[perm[i]].proto != IPPROTO_TCP)
				continue;
			b6_fill(b, x, &st->s[pos++], perm[i], k, round);
		}
		if (pos == before)
			break;
		round++;
	}
	st->n = pos;
	if (k == K_EST_OUT || k == K_EST_IN)
		st->adv_step = round * TCP_PL;
	free(perm);
	return 0;
}

/* natgw_bench.c tcp_advance over a TCP header anywhere (RFC 1624 eqn. 3) */
static inline void
b6_tcp_advance(uint8_t *t, uint32_t d)
{
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)t;
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
b6_rx_fill(struct bench *b, struct rte_mbuf **m, unsigned int n, struct stream6 *st,
	   uint16_t port)
{
	unsigned int i;

	if (unlikely(nic_rx_bulk(b->mp, m, n, port, RTE_PTYPE_L2_ETHER) != 0)) {
		b->alloc_fail++;
		return -ENOBUFS;
	}
	for (i = 0; i < n; i++) {
		const struct slot6 *s = &st->s[st->pos];
		uint8_t *d = rte_pktmbuf_mtod(m[i], uint8_t *);

		rte_mov128(d, s->frame);
		if (st->tcp_adv != 0 && s->tcp_off != 0)
			b6_tcp_advance(d + s->tcp_off, st->tcp_adv);
		if (++st->pos == st->n) {
			st->pos = 0;
			st->tcp_adv += st->adv_step;
		}
		m[i]->data_len = s->len;
		m[i]->pkt_len = s->len;
		m[i]->packet_type |= s->v6 ? RTE_PTYPE_L3_IPV6 : RTE_PTYPE_L3_IPV4;
		*(uint32_t *)rte_mbuf_to_priv(m[i]) = s->tag;
	}
	return 0;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/** Check one packet natgw transmitted against the flow it belongs to. */
static void
b6_verify(struct bench *b, struct b6 *x, struct rte_mbuf *m, uint16_t port)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t tag = *(uint32_t *)rte_mbuf_to_priv(m), idx = tag >> TAG_SHIFT;
	struct flow6 *fl = &x->fl[idx < x->n ? idx : 0];
	bool in = tag & TAG_IN, v6 = get16(f + 12) == 0x86dd;
	const uint8_t *l4 = f + 14 + (v6 ? 40 : 20);
	const struct rte_ether_addr *dmac = in ? &b->host_mac : &b->gw_mac;
	const char *why = NULL;

	if (idx >= x->n)
		why = "unknown tag";
	else if (port != (in ? BENCH_PORT_INSIDE : BENCH_PORT_OUTSIDE))
		why = "sent on the wrong port";
	else if (memcmp(f, dmac, 6) != 0)
		why = "wrong next-hop MAC";
	else if (v6 != (in || !x->nat64))
		why = "wrong IP version";
	else if (v6 ? !pb6_csum_ok(f, m->data_len) : !pb_csum_ok(f, m->data_len))
		why = "checksum (full recomputation) wrong";
	else if (f[v6 ? 14 + 6 : 14 + 9] != fl->proto)
		why = "protocol changed";
	else if (!in && !x->nat64) {
		if (memcmp(f + 22, fl->in6, 16) != 0 || memcmp(f + 38, fl->srv6, 16) != 0 ||
		    get16(l4) != fl->in_port || get16(l4 + 2) != fl->srv_port)
			why = "routed ipv6 outbound: addresses or ports changed";
		else if (f[21] != 63)
			why = "hop limit not decremented";
	} else if (!in) {
		uint32_t src, dst;

		memcpy(&src, f + 26, 4);
		memcpy(&dst, f + 30, 4);
		if (!b6_pool(b, src))
			why = "nat64 outbound: source is not a pool address";
		else if (dst != fl->srv4 || get16(l4 + 2) != fl->srv_port)
			why = "nat64 outbound: destination is not the embedded ipv4 (rfc 6052)";
		else if (fl->learned && (src != fl->ext_addr || get16(l4) != fl->ext_port))
			why = "nat64 outbound: source differs from the learned mapping";
		else if (!fl->learned && x->mode == M_LEARN) {
			fl->ext_addr = src;
			fl->ext_port = get16(l4);
			fl->learned = 1;
		}
	} else {
		if (memcmp(f + 22, fl->srv6, 16) != 0 || memcmp(f + 38, fl->in6, 16) != 0 ||
		    get16(l4) != fl->srv_port || get16(l4 + 2) != fl->in_port)
			why = x->nat64 ? "nat64 reply: not 64:ff9b::server -> inside host" :
				"routed ipv6 reply: addresses or ports changed";
		else if (f[21] != 63)
			why = "reply hop limit not decremented";
	}
	if (why == NULL) {
		if (in)
			x->in_ok++;
		else
			x->out_ok++;
		return;
	}
	if (x->bad++ == 0)
		snprintf(x->first_bad, sizeof(x->first_bad), "flow %u%s: %s", idx,
			 in ? " reply" : " outbound", why);
}

static uint16_t
b6_tx(struct bench *b, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	struct b6 *x = b->hook_ctx;
	uint16_t i;

	for (i = 0; i < n; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(pkts[i], const uint8_t *);
		uint16_t et = get16(f + 12);

		if (unlikely(et != 0x0800 && et != 0x86dd) ||
		    unlikely(et == 0x86dd && f[20] == IPPROTO_ICMPV6)) {
			b->tx_other++;	/* ARP, neighbour discovery: not forwarded packets */
			continue;
		}
		b->tx++;
		if (unlikely(x->mode != M_FREE))
			b6_verify(b, x, pkts[i], port);
	}
	nic_tx_free(b->mp, pkts, n);
	return n;
}

/** iters iterations: one burst from each stream given (inside, then outside), then the
 *  clock step and housekeeping, as natgw_bench.c run_loop does. */
static int
b6_loop(struct bench *b, struct stream6 *out, struct stream6 *in, uint64_t iters)
{
	struct rte_mbuf *m[BURST];
	uint64_t it;

	for (it = 0; it < iters; it++) {
		if (out != NULL) {
			if (b6_rx_fill(b, m, BURST, out, BENCH_PORT_INSIDE) != 0)
				return -ENOBUFS;
			b->rx += BURST;
			bench_pipe_rx(b->pipe, BENCH_PORT_INSIDE, m, BURST, b->now);
		}
		if (in != NULL) {
			if (b6_rx_fill(b, m, BURST, in, BENCH_PORT_OUTSIDE) != 0)
				return -ENOBUFS;
			b->rx += BURST;
			bench_pipe_rx(b->pipe, BENCH_PORT_OUTSIDE, m, BURST, b->now);
		}
		b->now += DT_US;
		bench_pipe_idle(b->pipe, b->now);
	}
	return 0;
}

/** Every frame of st once through one port (setup). */
static int
b6_pass(struct bench *b, struct stream6 *st, bool outbound)
{
	uint16_t port = outbound ? BENCH_PORT_INSIDE : BENCH_PORT_OUTSIDE;
	struct rte_mbuf *m[BURST];
	size_t left = st->n;

	st->pos = 0;
	while (left > 0) {
		unsigned int k = (unsigned int)RTE_MIN(left, (size_t)BURST);

		if (b6_rx_fill(b, m, k, st, port) != 0)
			return -ENOBUFS;
		b->rx += k;
		bench_pipe_rx(b->pipe, port, m, (uint16_t)k, b->now);
		b->now += DT_US;
		bench_pipe_idle(b->pipe, b->now);
		left -= k;
	}
	return 0;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static __attribute__((noinline)) int
timed_loop6(struct bench *b, struct stream6 *out, struct stream6 *in, uint64_t n)
{
	return b6_loop(b, out, in, n);
}

/** natgw_bench.c measure(): median over chunks of CHUNK_ITERS iterations, p10, mean. */
static int
b6_measure(struct bench *b, struct stream6 *out, struct stream6 *in, uint64_t iters,
	   struct ip6_result *r)
{
	size_t nch = 0, cap = (size_t)b->o.reps * (iters / CHUNK_ITERS + 1);
	double *v = malloc(cap * sizeof(*v));
	uint64_t all_c = 0, all_u = 0;
	unsigned int k;

	if (v == NULL)
		return -ENOMEM;
	for (k = 0; k < b->o.reps; k++) {
		uint64_t done = 0;

		while (done < iters) {
			uint64_t n = RTE_MIN((uint64_t)CHUNK_ITERS, iters - done), rx0 = b->rx;
			uint64_t t0, t1;

			t0 = rte_rdtsc_precise();
			if (timed_loop6(b, out, in, n) != 0) {
				free(v);
				return -ENOBUFS;
			}
			t1 = rte_rdtsc_precise();
			if (b->rx > rx0 && nch < cap)
				v[nch++] = (double)(t1 - t0) / (double)(b->rx - rx0);
			all_c += t1 - t0;
			all_u += b->rx - rx0;
			done += n;
		}
	}
	if (nch == 0) {
		free(v);
		return -EIO;
	}
	qsort(v, nch, sizeof(v[0]), cmp_d);
	r->r.cycles = v[nch / 2];
	r->r.mpps = (double)b->tsc_hz / r->r.cycles / 1e6;
	r->r.mean = (double)all_c / (double)all_u;
	r->r.pkts = all_u;
	r->p10_cycles = v[nch / 10];
	free(v);
	return 0;
}

static void
b6_reset(struct bench *b)
{
	b->rx = b->tx = b->tx_other = b->dropped = b->alloc_fail = 0;
	b->first_bad[0] = '\0';
}

static int
b6_bad(struct bench *b, const struct b6 *x, const char *what)
{
	fprintf(stderr, "natgw-bench: %s %s: rx %" PRIu64 " tx %" PRIu64 " dropped %" PRIu64
		" other %" PRIu64 " bad %" PRIu64 "%s%s%s%s\n", x->nat64 ? "nat64" : "ipv6",
		what, b->rx, b->tx, b->dropped, b->tx_other, x->bad, x->first_bad[0] ? ": " : "",
		x->first_bad, b->first_bad[0] ? "; " : "", b->first_bad);
	bench_pipe_print_stats(b->pipe, stderr);
	return -EIO;
}

/** Handshake passes (each packet checked, NAT64 mappings learned), then two verified
 *  passes of the established streams, then the timed passes. */
static int
b6_run(struct bench *b, struct b6 *x, struct ip6_result *r)
{
	static const enum b6_kind kinds[] = { K_FIRST, K_REPLY, K_ACK, K_DATA0 };
	uint32_t n = b->o.ip6_conns, i, unlearned = 0;
	size_t len = (size_t)n * ((RTE_MAX(n, 65536u) + n - 1) / n);
	struct stream6 out = { 0 }, in = { 0 }, st;
	uint64_t iters;
	unsigned int k;
	int rc = b6_flows(b, x, n);

	for (k = 0; rc == 0 && k < RTE_DIM(kinds); k++) {
		rc = b6_stream(b, x, &st, n, kinds[k]);
		if (rc != 0)
			break;
		b6_reset(b);
		x->mode = k == 0 ? M_LEARN : M_VERIFY;
		rc = b6_pass(b, &st, kinds[k] == K_FIRST || kinds[k] == K_ACK);
		if (rc == 0 && (b->tx != b->rx || x->bad != 0))
			rc = b6_bad(b, x, "setup pass");
		b6_stream_free(&st);
	}
	for (i = 0; rc == 0 && x->nat64 && i < x->n; i++)
		unlearned += !x->fl[i].learned;
	if (rc == 0 && unlearned > 0) {
		fprintf(stderr, "natgw-bench: nat64: %u flows not translated\n", unlearned);
		rc = -EIO;
	}
	if (rc == 0)
		rc = b6_stream(b, x, &out, len, K_EST_OUT);
	if (rc == 0)
		rc = b6_stream(b, x, &in, len, K_EST_IN);
	if (rc == 0) {
		b6_reset(b);
		x->mode = M_VERIFY;
		rc = b6_loop(b, &out, &in, 2 * ((out.n + BURST - 1) / BURST));
		if (rc == 0 && (x->bad != 0 || b->tx != b->rx || b->dropped != 0))
			rc = b6_bad(b, x, "established: verify pass");
	}
	x->mode = M_FREE;
	if (rc == 0) {
		b6_reset(b);
		iters = (RTE_MAX((uint64_t)out.n * 2, b->o.min_pkts) + 2 * BURST - 1) / (2 * BURST);
		rc = b6_measure(b, &out, &in, iters, r);
		r->drops = b->dropped;
		if (rc == 0 && (b->tx != b->rx || b->dropped != 0))
			rc = b6_bad(b, x, "established: timed passes");
	}
	r->out_ok = x->out_ok;
	r->in_ok = x->in_ok;
	r->bad = x->bad;
	b6_stream_free(&out);
	b6_stream_free(&in);
	return rc;
}

int
bench_ip6_run(struct bench *b, bool nat64, struct ip6_result *r)
{
	uint32_t n = b->o.ip6_conns, h;
	struct bench_pipe_params pp = { .capacity = n + n / 8 + 64, .pool_addrs = b->o.pool_addrs,
		.ip6 = true, .nat64 = nat64 };
	struct b6 x = { .nat64 = nat64, .rng = b->o.seed ^ (nat64 ? 0x64 : 0x6) };
	uint8_t a[16];
	int rc = 0;

	memset(r, 0, sizeof(*r));
	r->sessions = n;
	b->pipe = bench_pipe_create(&pp, b, !b->o.huge, b->mp);
	if (b->pipe == NULL) {
		fprintf(stderr, "natgw-bench: ipv6 pipeline (capacity %u) failed\n", pp.capacity);
		return -ENOMEM;
	}
	b->hook_ctx = &x;
	b->tx_hook = b6_tx;
	/* neighbours: the uplink (IPv4 gateway for NAT64, gateway6) and every inside host */
	if (bench_pipe_neighbour(b->pipe, BENCH_PORT_OUTSIDE,
				 rte_cpu_to_be_32(RTE_IPV4(203, 0, 113, 1)), b->now) != 0 ||
	    bench_pipe_neighbour6(b->pipe, BENCH_PORT_OUTSIDE, bench_gw6_addr, b->now) != 0)
		rc = -ENOBUFS;
	for (h = 0; rc == 0 && h < B6_HOSTS; h++) {
		b6_host(a, h);
		rc = bench_pipe_neighbour6(b->pipe, BENCH_PORT_INSIDE, a, b->now);
	}
	if (rc == 0)
		rc = b6_run(b, &x, r);
	r->ok = rc == 0;
	b->tx_hook = NULL;
	b->hook_ctx = NULL;
	if (x.fl != NULL)
		munmap(x.fl, (size_t)x.n * sizeof(*x.fl));
	bench_pipe_free(b->pipe);
	b->pipe = NULL;
	return rc;
}
