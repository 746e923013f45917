/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * selftest.c - the gateway's behaviour in the RFCs' words (natgw-replay --selftest,
 * tools/natgw-selftest): runs the natgw pipeline of a given configuration over built-in packet
 * sequences and reports what it observed as RFC 4787 (UDP), RFC 5382 (TCP) and RFC 5508
 * (ICMP) name it: mapping, address pooling, port assignment and parity, mapping refresh,
 * filtering, hairpinning, fragments, simultaneous open, unsolicited SYNs, ICMP queries and
 * errors, and the idle timeouts.
 *
 * Every answer is observed on the bytes the pipeline emits; the configuration is read only for
 * the addresses the probes need (an inside network, an outside gateway). Each probe runs on a
 * fresh gateway (one worker, a small table) with a simulated clock, so a timeout is measured by
 * bisection: a mapping made at t=0, then a packet at t that passes or not. The next hops' ARP
 * requests are answered by the harness.
 *
 * Verdicts: "met" / "NOT MET" for a MUST (any NOT MET makes the exit status 1), "yes"/"no"
 * against a SHOULD or RECOMMENDED, and plain facts where the RFCs leave the choice open.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "gw.h"
#include "pkt_build.h"
#include "selftest.h"

#define ST_CAP		64		/* frames captured per probe step */
#define ST_FRAME_MAX	2048
#define ST_CAPACITY	1024		/* connections per probe gateway */
#define ST_US		1000000ull

struct st_frame {
	unsigned int port;
	unsigned int len;
	uint8_t b[ST_FRAME_MAX];
};

struct st_ctx {
	struct gw_config cfg;		/* the caller's, with a small table */
	struct rte_mempool *pool, *big_pool;
	unsigned int n_workers;
	struct gw *gw;
	ct_time_t now;
	struct st_frame cap[ST_CAP];
	unsigned int n_cap;
	enum gw_drop last_drop;
	uint32_t host[2];		/* inside hosts, network order */
	uint32_t remote[3];		/* remote hosts on the uplink's far side */
	unsigned int met, not_met;
	FILE *out;
};

/* ---------------------------------------------------------------------------------------
 * The harness: a gateway per probe, frames in, frames out, ARP answered
 */

static uint16_t
st_tx(void *arg, unsigned int port, struct rte_mbuf **m, uint16_t n)
{
	struct st_ctx *c = arg;
	uint16_t i;

	for (i = 0; i < n; i++) {
		if (c->n_cap < ST_CAP) {
			struct st_frame *f = &c->cap[c->n_cap++];
			const void *d;

			f->port = port;
			f->len = RTE_MIN(rte_pktmbuf_pkt_len(m[i]), (uint32_t)ST_FRAME_MAX);
			d = rte_pktmbuf_read(m[i], 0, f->len, f->b);

			if (d != NULL && d != f->b)
				memcpy(f->b, d, f->len);
		}
		rte_pktmbuf_free(m[i]);
	}
	return n;
}

static void
st_drop(void *arg, struct rte_mbuf *m, enum gw_drop reason)
{
	struct st_ctx *c = arg;

	c->last_drop = reason;
	rte_pktmbuf_free(m);
}

static void
st_gw_free(struct st_ctx *c)
{
	unsigned int i;

	if (c->gw == NULL)
		return;
	for (i = 0; i < c->n_workers; i++)
		gw_worker_flush(gw_get_worker(c->gw, i));
	gw_free(c->gw);
	c->gw = NULL;
}

static int
st_gw_new(struct st_ctx *c)
{
	struct gw_params prm;
	char err[256];
	unsigned int i;

	st_gw_free(c);
	memset(&prm, 0, sizeof(prm));
	prm.cfg = &c->cfg;
	prm.n_workers = c->n_workers;
	for (i = 0; i < GW_PORT_MAX; i++) {
		struct rte_ether_addr mac = {{ 0x02, 0x6e, 0x67, 0x00, 0x00, (uint8_t)i }};

		prm.mac[i] = mac;
	}
	prm.pool = c->pool;
	prm.big_pool = c->big_pool;
	prm.seed[0] = UINT64_C(0x73656c6674657374);
	prm.seed[1] = UINT64_C(0x6e6174677773656c);
	prm.host_seed = 0x5354;
	prm.socket_id = (int)rte_socket_id();
	prm.use_heap = true;
	c->gw = gw_create(&prm, err, sizeof(err));
	if (c->gw == NULL) {
		fprintf(stderr, "natgw self-test: %s\n", err);
		return -1;
	}
	for (i = 0; i < c->n_workers; i++) {
		struct gw_io io = { .tx = st_tx, .drop = st_drop, .arg = c };

		gw_worker_set_io(gw_get_worker(c->gw, i), &io);
	}
	c->now = 1 * ST_US;
	return 0;
}

static void
st_settle(struct st_ctx *c)
{
	unsigned int i, pass, done;

	for (pass = 0; pass < 64; pass++) {
		done = 0;
		for (i = 0; i < c->n_workers; i++)
			done += gw_worker_poll_rings(gw_get_worker(c->gw, i), c->now);
		if (done == 0)
			break;
	}
}

static void
st_housekeeping(struct st_ctx *c)
{
	unsigned int i, pass;

	for (i = 0; i < c->n_workers; i++)
		for (pass = 0; pass < 4096; pass++)
			if (gw_worker_housekeeping(gw_get_worker(c->gw, i), c->now) == 0)
				break;
}

/* a deterministic MAC per host address */
static void
st_host_mac(uint32_t ip, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x73;
	memcpy(mac + 2, &ip, 4);
}

static void st_inject(struct st_ctx *c, unsigned int port, uint8_t *frame, unsigned int len,
		      unsigned int depth);

/* Answer the ARP requests captured since index `from` (the next hop is "there"). */
static void
st_answer_arp(struct st_ctx *c, unsigned int from, unsigned int depth)
{
	unsigned int i, n = c->n_cap;

	for (i = from; i < n; i++) {
		const struct st_frame *f = &c->cap[i];
		const struct rte_arp_hdr *rq = (const struct rte_arp_hdr *)(f->b + PB_ETH_LEN);
		uint8_t b[64], mac[6];
		struct rte_arp_hdr *rp = (struct rte_arp_hdr *)(b + PB_ETH_LEN);
		uint32_t target;

		if (f->len < PB_ETH_LEN + sizeof(*rq) || f->b[12] != 0x08 || f->b[13] != 0x06 ||
		    rq->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST))
			continue;
		target = rq->arp_data.arp_tip;
		st_host_mac(target, mac);
		memset(b, 0, sizeof(b));
		memcpy(b, f->b + 6, 6);		/* to the asker */
		memcpy(b + 6, mac, 6);
		b[12] = 0x08;
		b[13] = 0x06;
		rp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
		rp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		rp->arp_hlen = 6;
		rp->arp_plen = 4;
		rp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
		memcpy(&rp->arp_data.arp_sha, mac, 6);
		rp->arp_data.arp_sip = target;
		rp->arp_data.arp_tha = rq->arp_data.arp_sha;
		rp->arp_data.arp_tip = rq->arp_data.arp_sip;
		st_inject(c, f->port, b, 60, depth + 1);
	}
}

static void
st_inject(struct st_ctx *c, unsigned int port, uint8_t *frame, unsigned int len,
	  unsigned int depth)
{
	unsigned int from = c->n_cap;
	struct rte_mbuf *m;
	char *p;

	if (depth > 4)
		return;
	m = rte_pktmbuf_alloc(c->pool);
	if (m == NULL)
		return;
	p = rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(p, frame, len);
	gw_worker_rx(gw_get_worker(c->gw, 0), port, &m, 1, c->now);
	st_settle(c);
	st_answer_arp(c, from, depth);
}

static bool
st_is_ipv4(const struct st_frame *f)
{
	return f->len >= PB_ETH_LEN + 20 && f->b[12] == 0x08 && f->b[13] == 0x00;
}

/**
 * Send a frame built from s on port at the current time (timers run first). Returns the
 * first IPv4 frame the gateway emitted for it (on either port), or NULL: dropped.
 */
static const struct st_frame *
st_send_raw(struct st_ctx *c, unsigned int port, uint8_t *b, unsigned int len)
{
	unsigned int i, from;
	uint32_t src;

	st_housekeeping(c);
	memcpy(&src, b + PB_ETH_LEN + 12, 4);
	b[0] = 0x02;			/* to our MAC on that port (as gw_params.mac) */
	b[1] = 0x6e;
	b[2] = 0x67;
	b[3] = 0;
	b[4] = 0;
	b[5] = (uint8_t)port;
	st_host_mac(src, b + 6);
	c->n_cap = 0;
	c->last_drop = GW_DROP_NONE;
	from = c->n_cap;
	st_inject(c, port, b, len, 0);
	for (i = from; i < c->n_cap; i++)
		if (st_is_ipv4(&c->cap[i]))
			return &c->cap[i];
	return NULL;
}

static const struct st_frame *
st_send(struct st_ctx *c, unsigned int port, const struct pb_spec *s)
{
	static uint8_t b[PB_MAX];
	unsigned int len = pb_build(b, s);

	return st_send_raw(c, port, b, len);
}

static const struct st_frame *
st_udp(struct st_ctx *c, unsigned int port, uint32_t src, uint16_t sport, uint32_t dst,
       uint16_t dport)
{
	static const char data[] = "natgw self-test";
	struct pb_spec s = { .src = src, .dst = dst, .sport = sport, .dport = dport,
			     .proto = IPPROTO_UDP, .payload = data,
			     .payload_len = sizeof(data) };

	return st_send(c, port, &s);
}

static const struct st_frame *
st_tcp(struct st_ctx *c, unsigned int port, uint32_t src, uint16_t sport, uint32_t dst,
       uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct pb_spec s = { .src = src, .dst = dst, .sport = sport, .dport = dport,
			     .proto = IPPROTO_TCP, .tcp_flags = flags, .seq = seq, .ack = ack };

	return st_send(c, port, &s);
}

static const struct st_frame *
st_echo(struct st_ctx *c, unsigned int port, uint32_t src, uint32_t dst, uint8_t type,
	uint16_t id, uint16_t seq)
{
	struct pb_spec s = { .src = src, .dst = dst, .proto = IPPROTO_ICMP, .icmp_type = type,
			     .sport = id, .icmp_seq = seq };

	return st_send(c, port, &s);
}

/* An outside endpoint as the frame shows it (source side). */
struct st_ep {
	uint32_t addr;
	uint16_t port;
};

static bool
st_ep_of(const struct st_frame *f, unsigned int port, struct st_ep *e)
{
	if (f == NULL || f->port != port)
		return false;
	e->addr = pb_ip_src(f->b);
	e->port = pb_sport(f->b);
	return true;
}

static bool
st_ep_eq(const struct st_ep *a, const struct st_ep *b)
{
	return a->addr == b->addr && a->port == b->port;
}

/* Delivered to the inside host `to` (and port, 0: any)? */
static bool
st_to_host(const struct st_frame *f, uint32_t to, uint16_t dport)
{
	return f != NULL && f->port == GW_PORT_INSIDE && pb_ip_dst(f->b) == to &&
	       (dport == 0 || pb_dport(f->b) == dport);
}

static const char *
st_ip(uint32_t a, char *buf)
{
	const uint8_t *b = (const uint8_t *)&a;

	sprintf(buf, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	return buf;
}

/* One line of the report; `must` >= 0 makes it a MUST verdict (1 met, 0 not met). */
static void
st_line(struct st_ctx *c, const char *req, const char *what, const char *seen, int must,
	const char *note)
{
	const char *verdict = "";

	if (must == 1) {
		verdict = "met";
		c->met++;
	} else if (must == 0) {
		verdict = "NOT MET";
		c->not_met++;
	}
	fprintf(c->out, "  %-7s %-26s %-46s %s%s%s\n", req, what, seen, verdict,
		note != NULL && *verdict != '\0' ? " " : "", note != NULL ? note : "");
}

/* ---------------------------------------------------------------------------------------
 * Probes
 */

/* RFC 4787 REQ-1 / RFC 5382 REQ-1: mapping behaviour, from three destinations. */
static int
st_mapping(struct st_ctx *c, uint8_t proto)
{
	const uint32_t h = c->host[0], r1 = c->remote[0], r2 = c->remote[1];
	struct st_ep e[3] = { { 0, 0 }, { 0, 0 }, { 0, 0 } };
	const struct st_frame *f[3];
	char seen[64];
	bool ok;

	if (st_gw_new(c) < 0)
		return -1;
	if (proto == IPPROTO_UDP) {
		f[0] = st_udp(c, GW_PORT_INSIDE, h, 40000, r1, 3478);
		ok = st_ep_of(f[0], GW_PORT_OUTSIDE, &e[0]);
		f[1] = st_udp(c, GW_PORT_INSIDE, h, 40000, r1, 3479);
		ok = st_ep_of(f[1], GW_PORT_OUTSIDE, &e[1]) && ok;
		f[2] = st_udp(c, GW_PORT_INSIDE, h, 40000, r2, 3478);
		ok = st_ep_of(f[2], GW_PORT_OUTSIDE, &e[2]) && ok;
	} else {
		f[0] = st_tcp(c, GW_PORT_INSIDE, h, 40000, r1, 80, PB_SYN, 1000, 0);
		ok = st_ep_of(f[0], GW_PORT_OUTSIDE, &e[0]);
		f[1] = st_tcp(c, GW_PORT_INSIDE, h, 40000, r1, 81, PB_SYN, 5000, 0);
		ok = st_ep_of(f[1], GW_PORT_OUTSIDE, &e[1]) && ok;
		f[2] = st_tcp(c, GW_PORT_INSIDE, h, 40000, r2, 80, PB_SYN, 9000, 0);
		ok = st_ep_of(f[2], GW_PORT_OUTSIDE, &e[2]) && ok;
	}
	if (!ok) {
		snprintf(seen, sizeof(seen), "outbound dropped (%s)", gw_drop_id(c->last_drop));
		st_line(c, "REQ-1", "mapping", seen, 0, NULL);
		return 0;
	}
	if (st_ep_eq(&e[0], &e[1]) && st_ep_eq(&e[0], &e[2]))
		st_line(c, "REQ-1", "mapping", "endpoint-independent", 1, NULL);
	else if (st_ep_eq(&e[0], &e[1]))
		st_line(c, "REQ-1", "mapping", "address-dependent", 0, "(MUST be EIM)");
	else
		st_line(c, "REQ-1", "mapping", "address-and-port-dependent", 0, "(MUST be EIM)");
	return 0;
}

/* RFC 4787 REQ-2 (pooling), REQ-3 (port assignment), REQ-4 (parity). */
static int
st_ports(struct st_ctx *c)
{
	const uint32_t h1 = c->host[0], h2 = c->host[1], r1 = c->remote[0], r2 = c->remote[1];
	struct st_ep a = { 0, 0 }, b = a, d = a, e = a, o = a;
	bool pa, pb, pd, pe, po;
	char seen[96], ip[16];

	if (st_gw_new(c) < 0)
		return -1;
	pa = st_ep_of(st_udp(c, GW_PORT_INSIDE, h1, 40000, r1, 3478), GW_PORT_OUTSIDE, &a);
	pb = st_ep_of(st_udp(c, GW_PORT_INSIDE, h2, 40000, r1, 3478), GW_PORT_OUTSIDE, &b);
	pd = st_ep_of(st_udp(c, GW_PORT_INSIDE, h1, 40011, r2, 3478), GW_PORT_OUTSIDE, &d);
	pe = st_ep_of(st_udp(c, GW_PORT_INSIDE, h1, 40021, r1, 3478), GW_PORT_OUTSIDE, &e);
	po = st_ep_of(st_udp(c, GW_PORT_INSIDE, h1, 53, r1, 53), GW_PORT_OUTSIDE, &o);
	if (!pa || !pb || !pd || !pe) {
		st_line(c, "REQ-2", "address pooling", "outbound dropped", -1, NULL);
		return 0;
	}
	if (c->cfg.nat.n_addrs > 1)
		st_line(c, "REQ-2", "address pooling",
			a.addr == d.addr && a.addr == e.addr ? "paired" : "arbitrary", -1,
			a.addr == d.addr && a.addr == e.addr ? "(recommended)" : NULL);
	else {
		snprintf(seen, sizeof(seen), "one address (%s)", st_ip(a.addr, ip));
		st_line(c, "REQ-2", "address pooling", seen, -1, NULL);
	}
	/* two inside endpoints to the same remote endpoint on one outside endpoint would be
	 * port overloading */
	st_line(c, "REQ-3", "port assignment",
		st_ep_eq(&a, &b) ? "port overloading" : "no port overloading",
		st_ep_eq(&a, &b) ? 0 : 1, NULL);
	snprintf(seen, sizeof(seen), "%s (40000 -> %u; 2nd host 40000 -> %u)",
		 a.port == 40000 ? "yes" : "no", a.port, b.port);
	st_line(c, "4.2.1", "port preservation", seen, -1, NULL);
	if (po) {
		snprintf(seen, sizeof(seen), "53 -> %u (%s)", o.port,
			 o.port < 1024 ? "kept in 0-1023" : "mapped to 1024-65535");
		st_line(c, "REQ-3a", "well-known source port", seen, -1,
			o.port < 1024 ? "(recommended)" : NULL);
	}
	snprintf(seen, sizeof(seen), "%s (40000 -> %u, 40021 -> %u, 40011 -> %u)",
		 (b.port & 1) == 0 && (e.port & 1) == 1 && (d.port & 1) == 1 ? "preserved" :
		 "not preserved", b.port, e.port, d.port);
	st_line(c, "REQ-4", "port parity", seen, -1,
		(b.port & 1) == 0 && (e.port & 1) == 1 && (d.port & 1) == 1 ? "(recommended)" :
		NULL);
	return 0;
}

/* RFC 4787 REQ-8 (UDP), RFC 5382 REQ-3 (TCP): filtering. */
static int
st_filtering(struct st_ctx *c)
{
	const uint32_t h = c->host[0], r1 = c->remote[0], r2 = c->remote[1];
	struct st_ep e = { 0, 0 };
	bool same, other_port, other_addr;

	if (st_gw_new(c) < 0)
		return -1;
	if (!st_ep_of(st_udp(c, GW_PORT_INSIDE, h, 40000, r1, 3478), GW_PORT_OUTSIDE, &e)) {
		st_line(c, "REQ-8", "filtering", "outbound dropped", -1, NULL);
		return 0;
	}
	same = st_to_host(st_udp(c, GW_PORT_OUTSIDE, r1, 3478, e.addr, e.port), h, 40000);
	other_port = st_to_host(st_udp(c, GW_PORT_OUTSIDE, r1, 3479, e.addr, e.port), h, 40000);
	other_addr = st_to_host(st_udp(c, GW_PORT_OUTSIDE, r2, 3478, e.addr, e.port), h, 40000);
	if (!same)
		st_line(c, "REQ-8", "filtering", "replies dropped", 0, NULL);
	else if (other_addr && other_port)
		st_line(c, "REQ-8", "filtering", "endpoint-independent", -1, "(transparency)");
	else if (other_port)
		st_line(c, "REQ-8", "filtering", "address-dependent", -1, NULL);
	else if (!other_addr)
		st_line(c, "REQ-8", "filtering", "address-and-port-dependent", -1, "(strict)");
	else
		st_line(c, "REQ-8", "filtering", "inconsistent (other address passes, other port "
			"of the same address not)", -1, NULL);
	return 0;
}

/* RFC 4787 REQ-9 (and RFC 5382 REQ-8): hairpinning, with the external source (9a). */
static int
st_hairpin(struct st_ctx *c)
{
	const uint32_t h1 = c->host[0], h2 = c->host[1], r1 = c->remote[0];
	const struct st_frame *f;
	struct st_ep e1 = { 0, 0 }, e2 = e1;
	char seen[96], ip[16];

	if (st_gw_new(c) < 0)
		return -1;
	if (!st_ep_of(st_udp(c, GW_PORT_INSIDE, h1, 40000, r1, 3478), GW_PORT_OUTSIDE, &e1) ||
	    !st_ep_of(st_udp(c, GW_PORT_INSIDE, h2, 41000, r1, 3478), GW_PORT_OUTSIDE, &e2)) {
		st_line(c, "REQ-9", "hairpinning", "outbound dropped", 0, NULL);
		return 0;
	}
	/* h1 -> h2's outside endpoint (opens h1's filter for it under any filtering), then
	 * h2 -> h1's outside endpoint: must reach h1 from h2's outside endpoint */
	(void)st_udp(c, GW_PORT_INSIDE, h1, 40000, e2.addr, e2.port);
	f = st_udp(c, GW_PORT_INSIDE, h2, 41000, e1.addr, e1.port);
	if (!st_to_host(f, h1, 40000)) {
		st_line(c, "REQ-9", "hairpinning", "not supported", 0, NULL);
		return 0;
	}
	snprintf(seen, sizeof(seen), "yes, source %s:%u", st_ip(pb_ip_src(f->b), ip),
		 pb_sport(f->b));
	if (pb_ip_src(f->b) == e2.addr && pb_sport(f->b) == e2.port)
		st_line(c, "REQ-9", "hairpinning", seen, 1, "(external source, 9a)");
	else
		st_line(c, "REQ-9", "hairpinning", seen, 0, "(9a: MUST be the external source)");
	return 0;
}

/*
 * Lifetime of a mapping: `make` sets it up at time 0 and returns false if it could not;
 * `probe` sends the packet at the current time and says whether it passed. Bisection over
 * [1 s, hi] with 1 s resolution; returns the first whole second at which the probe fails
 * (the mapping lived that long: the pipeline expires an entry when its time is reached), or
 * hi + 1 if it still passes at hi.
 */
typedef bool (*st_make_fn)(struct st_ctx *c);
typedef bool (*st_probe_fn)(struct st_ctx *c);

static uint64_t
st_lifetime(struct st_ctx *c, st_make_fn make, st_probe_fn probe, uint64_t hi, bool *failed)
{
	uint64_t lo_ok = 0, hi_bad = hi + 1, t;
	ct_time_t t0;

	*failed = false;
	while (hi_bad - lo_ok > 1) {
		t = lo_ok + (hi_bad - lo_ok) / 2;
		if (st_gw_new(c) < 0 || !make(c)) {
			*failed = true;
			return 0;
		}
		t0 = c->now;
		c->now = t0 + t * ST_US;
		if (probe(c))
			lo_ok = t;
		else
			hi_bad = t;
	}
	return hi_bad;
}

static struct st_ep st_probe_ep;	/* the mapping the make function made */

static bool
st_make_udp(struct st_ctx *c)
{
	return st_ep_of(st_udp(c, GW_PORT_INSIDE, c->host[0], 40000, c->remote[0], 3478),
			GW_PORT_OUTSIDE, &st_probe_ep);
}

static bool
st_make_udp_replied(struct st_ctx *c)
{
	return st_make_udp(c) &&
	       st_to_host(st_udp(c, GW_PORT_OUTSIDE, c->remote[0], 3478, st_probe_ep.addr,
				 st_probe_ep.port), c->host[0], 40000);
}

static bool
st_probe_udp_in(struct st_ctx *c)
{
	return st_to_host(st_udp(c, GW_PORT_OUTSIDE, c->remote[0], 3478, st_probe_ep.addr,
				 st_probe_ep.port), c->host[0], 40000);
}

/* the TCP probes: a handshake with remote 0, port 80 */
#define ST_ISN_IN	1000u
#define ST_ISN_OUT	700000u

static bool
st_make_tcp_syn(struct st_ctx *c)
{
	return st_ep_of(st_tcp(c, GW_PORT_INSIDE, c->host[0], 40000, c->remote[0], 80, PB_SYN,
			       ST_ISN_IN, 0), GW_PORT_OUTSIDE, &st_probe_ep);
}

static bool
st_probe_tcp_synack(struct st_ctx *c)
{
	return st_to_host(st_tcp(c, GW_PORT_OUTSIDE, c->remote[0], 80, st_probe_ep.addr,
				 st_probe_ep.port, PB_SYN | PB_ACK, ST_ISN_OUT, ST_ISN_IN + 1),
			  c->host[0], 40000);
}

static bool
st_make_tcp_est(struct st_ctx *c)
{
	return st_make_tcp_syn(c) && st_probe_tcp_synack(c) &&
	       st_tcp(c, GW_PORT_INSIDE, c->host[0], 40000, c->remote[0], 80, PB_ACK,
		      ST_ISN_IN + 1, ST_ISN_OUT + 1) != NULL;
}

static bool
st_probe_tcp_est(struct st_ctx *c)
{
	return st_to_host(st_tcp(c, GW_PORT_OUTSIDE, c->remote[0], 80, st_probe_ep.addr,
				 st_probe_ep.port, PB_ACK, ST_ISN_OUT + 1, ST_ISN_IN + 1),
			  c->host[0], 40000);
}

#define ST_ECHO_ID 0x5354

static bool
st_make_echo(struct st_ctx *c)
{
	return st_ep_of(st_echo(c, GW_PORT_INSIDE, c->host[0], c->remote[0], 8, ST_ECHO_ID, 1),
			GW_PORT_OUTSIDE, &st_probe_ep);
}

static bool
st_probe_echo_reply(struct st_ctx *c)
{
	const struct st_frame *f = st_echo(c, GW_PORT_OUTSIDE, c->remote[0], st_probe_ep.addr,
					   0, st_probe_ep.port, 1);

	return st_to_host(f, c->host[0], 0) && pb_sport(f->b) == ST_ECHO_ID;
}

static void
st_timer_line(struct st_ctx *c, const char *req, const char *what, uint64_t s, bool failed,
	      uint64_t hi, uint64_t must_min, uint64_t rec_min)
{
	char seen[64];

	if (failed) {
		st_line(c, req, what, "could not set up", 0, NULL);
		return;
	}
	if (s > hi)
		s = hi;
	snprintf(seen, sizeof(seen), "%s%" PRIu64 " s", s >= hi ? "> " : "", s);
	if (s < must_min) {
		char note[64];

		snprintf(note, sizeof(note), "(MUST be >= %" PRIu64 " s)", must_min);
		st_line(c, req, what, seen, 0, note);
	} else {
		st_line(c, req, what, seen, 1, rec_min != 0 && s < rec_min ?
			"(below the recommended value)" : NULL);
	}
}

/* RFC 4787 REQ-5 (mapping timer) and REQ-6 (refresh direction). */
static int
st_udp_timers(struct st_ctx *c)
{
	uint64_t t_out, t_rep;
	bool f1, f2, out_refresh, in_refresh;
	ct_time_t t0;
	char seen[64];

	t_out = st_lifetime(c, st_make_udp, st_probe_udp_in, 4 * 3600, &f1);
	st_timer_line(c, "REQ-5", "mapping timer (outbound)", t_out, f1, 4 * 3600, 120, 300);
	t_rep = st_lifetime(c, st_make_udp_replied, st_probe_udp_in, 4 * 3600, &f2);
	st_timer_line(c, "REQ-5", "mapping timer (replied)", t_rep, f2, 4 * 3600, 120, 300);
	if (f1 || f2 || t_rep < 2)
		return 0;
	/* outbound refresh: an outbound packet at 3/4 of the lifetime keeps it past 1 x */
	if (st_gw_new(c) < 0 || !st_make_udp_replied(c))
		return -1;
	t0 = c->now;
	c->now = t0 + t_rep * 3 / 4 * ST_US;
	(void)st_udp(c, GW_PORT_INSIDE, c->host[0], 40000, c->remote[0], 3478);
	c->now = t0 + (t_rep + t_rep / 2) * ST_US;
	out_refresh = st_probe_udp_in(c);
	/* inbound refresh: the same with an inbound packet */
	if (st_gw_new(c) < 0 || !st_make_udp_replied(c))
		return -1;
	t0 = c->now;
	c->now = t0 + t_rep * 3 / 4 * ST_US;
	(void)st_probe_udp_in(c);
	c->now = t0 + (t_rep + t_rep / 2) * ST_US;
	in_refresh = st_probe_udp_in(c);
	snprintf(seen, sizeof(seen), "outbound %s, inbound %s", out_refresh ? "yes" : "no",
		 in_refresh ? "yes" : "no");
	st_line(c, "REQ-6", "mapping refresh", seen, out_refresh ? 1 : 0, NULL);
	return 0;
}

/* RFC 4787 REQ-14: fragments in order and out of order (a 1,200-byte datagram in two). */
static int
st_fragments(struct st_ctx *c)
{
	static uint8_t whole[PB_MAX], fr[2][PB_MAX];
	static uint8_t data[1200];
	const unsigned int split = 600;	/* bytes of the UDP datagram in fragment 0 */
	unsigned int order, len, i, flen[2];
	bool pass[2] = { false, false };
	char seen[64];

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	for (order = 0; order < 2; order++) {
		struct pb_spec s = { .src = c->host[0], .dst = c->remote[0], .sport = 40000,
				     .dport = 3478, .proto = IPPROTO_UDP, .payload = data,
				     .payload_len = sizeof(data), .ip_id = 0x5354 };
		uint8_t *ip;
		unsigned int udp_len;

		if (st_gw_new(c) < 0)
			return -1;
		len = pb_build(whole, &s);
		udp_len = len - PB_ETH_LEN - 20;
		for (i = 0; i < 2; i++) {
			unsigned int off = i == 0 ? 0 : split, n = i == 0 ? split : udp_len - split;
			uint16_t tot = (uint16_t)(20 + n), fo = (uint16_t)((off / 8) |
								    (i == 0 ? 0x2000 : 0));

			memcpy(fr[i], whole, PB_ETH_LEN + 20);
			memcpy(fr[i] + PB_ETH_LEN + 20, whole + PB_ETH_LEN + 20 + off, n);
			ip = fr[i] + PB_ETH_LEN;
			ip[2] = (uint8_t)(tot >> 8);
			ip[3] = (uint8_t)tot;
			ip[6] = (uint8_t)(fo >> 8);
			ip[7] = (uint8_t)fo;
			ip[10] = ip[11] = 0;
			{
				uint16_t k = pb_csum(ip, 20, 0);

				ip[10] = (uint8_t)(k >> 8);
				ip[11] = (uint8_t)k;
			}
			flen[i] = PB_ETH_LEN + tot;
		}
		/* in order, then out of order; what leaves must carry the translated port */
		{
			const struct st_frame *f;
			unsigned int a = order == 0 ? 0 : 1, b = 1 - a, k;
			bool translated = false;

			(void)st_send_raw(c, GW_PORT_INSIDE, fr[a], flen[a]);
			f = st_send_raw(c, GW_PORT_INSIDE, fr[b], flen[b]);
			(void)f;
			for (k = 0; k < c->n_cap; k++) {
				const struct st_frame *g = &c->cap[k];

				if (st_is_ipv4(g) && g->port == GW_PORT_OUTSIDE &&
				    pb_ip_src(g->b) != c->host[0] &&
				    (((g->b[PB_ETH_LEN + 6] & 0x1f) | g->b[PB_ETH_LEN + 7]) == 0))
					translated = true;	/* the first fragment (or whole) */
			}
			pass[order] = translated;
		}
	}
	snprintf(seen, sizeof(seen), "in order %s, out of order %s",
		 pass[0] ? "translated" : "dropped", pass[1] ? "translated" : "dropped");
	st_line(c, "REQ-14", "fragments", seen, pass[0] && pass[1] ? 1 : 0, NULL);
	return 0;
}

/* RFC 5382 REQ-2 (simultaneous open), REQ-4 (unsolicited SYN), REQ-5 (timeouts). */
static int
st_tcp_probes(struct st_ctx *c)
{
	const struct st_frame *f;
	uint64_t t;
	bool failed, silent;
	unsigned int k;
	char seen[64];

	/* simultaneous open: both sides' SYNs cross, then each acknowledges the other */
	if (st_gw_new(c) < 0)
		return -1;
	if (!st_make_tcp_syn(c)) {
		st_line(c, "REQ-2", "simultaneous open", "outbound SYN dropped", 0, NULL);
	} else {
		bool ok = st_to_host(st_tcp(c, GW_PORT_OUTSIDE, c->remote[0], 80,
					    st_probe_ep.addr, st_probe_ep.port, PB_SYN,
					    ST_ISN_OUT, 0), c->host[0], 40000);

		ok = ok && st_tcp(c, GW_PORT_INSIDE, c->host[0], 40000, c->remote[0], 80,
				  PB_SYN | PB_ACK, ST_ISN_IN, ST_ISN_OUT + 1) != NULL;
		ok = ok && st_to_host(st_tcp(c, GW_PORT_OUTSIDE, c->remote[0], 80,
					     st_probe_ep.addr, st_probe_ep.port,
					     PB_SYN | PB_ACK, ST_ISN_OUT, ST_ISN_IN + 1),
				      c->host[0], 40000);
		st_line(c, "REQ-2", "simultaneous open", ok ? "passes" : "refused", ok ? 1 : 0,
			NULL);
	}
	/* an unsolicited SYN to an unused outside port: no answer (at least for 6 s) */
	if (st_gw_new(c) < 0)
		return -1;
	f = st_tcp(c, GW_PORT_OUTSIDE, c->remote[0], 80, c->cfg.nat.addrs[0], 45678, PB_SYN,
		   ST_ISN_OUT, 0);
	silent = f == NULL;
	for (k = 0; k < c->n_cap; k++)
		if (c->cap[k].port == GW_PORT_OUTSIDE && st_is_ipv4(&c->cap[k]))
			silent = false;
	snprintf(seen, sizeof(seen), "%s", silent ? "silently dropped" :
		 f != NULL && f->port == GW_PORT_INSIDE ? "passed inside" : "answered");
	st_line(c, "REQ-4", "unsolicited SYN", seen, silent ? 1 : 0, NULL);

	t = st_lifetime(c, st_make_tcp_est, st_probe_tcp_est, 10 * 24 * 3600, &failed);
	st_timer_line(c, "REQ-5", "established idle timeout", t, failed, 10 * 24 * 3600, 7440,
		      0);
	t = st_lifetime(c, st_make_tcp_syn, st_probe_tcp_synack, 24 * 3600, &failed);
	st_timer_line(c, "REQ-5", "transitory idle timeout", t, failed, 24 * 3600, 240, 0);
	return 0;
}

/* RFC 5508: echo mapping (REQ-1), query timer (REQ-2), errors both ways (REQ-3..5). */
static int
st_icmp(struct st_ctx *c)
{
	static uint8_t orig[PB_MAX], err[PB_MAX];
	const struct st_frame *f;
	struct pb_spec s;
	struct st_ep e = { 0, 0 };
	unsigned int olen, elen;
	uint64_t t;
	bool failed, ok;
	char seen[96];

	if (st_gw_new(c) < 0)
		return -1;
	ok = st_make_echo(c) && st_probe_echo_reply(c);
	snprintf(seen, sizeof(seen), ok ? "echo translated (identifier %u -> %u)" :
		 "echo dropped", ST_ECHO_ID, st_probe_ep.port);
	st_line(c, "REQ-1", "ICMP query", seen, ok ? 1 : 0, NULL);
	t = st_lifetime(c, st_make_echo, st_probe_echo_reply, 3600, &failed);
	st_timer_line(c, "REQ-2", "ICMP query timer", t, failed, 3600, 60, 0);

	/* an error from a router on the path about h's UDP flow, quoting it as sent out */
	if (st_gw_new(c) < 0 || !st_make_udp(c)) {
		st_line(c, "REQ-5", "inbound ICMP error", "could not set up", 0, NULL);
		return 0;
	}
	e = st_probe_ep;
	memset(&s, 0, sizeof(s));
	s.src = e.addr;
	s.dst = c->remote[0];
	s.sport = e.port;
	s.dport = 3478;
	s.proto = IPPROTO_UDP;
	olen = pb_build(orig, &s);
	elen = pb_build_icmp_error(err, c->remote[2], e.addr, 11, 0, orig, olen, 0);
	f = st_send_raw(c, GW_PORT_OUTSIDE, err, elen);
	ok = st_to_host(f, c->host[0], 0) && pb_csum_ok(f->b, f->len) &&
	     f->len >= PB_ETH_LEN + 56 &&
	     memcmp(f->b + PB_ETH_LEN + 28 + 12, &c->host[0], 4) == 0 &&
	     ((f->b[PB_ETH_LEN + 48] << 8) | f->b[PB_ETH_LEN + 49]) == 40000;
	st_line(c, "REQ-5", "inbound ICMP error", ok ? "translated, quote rewritten, sums valid" :
		"dropped or not rewritten", ok ? 1 : 0, NULL);
	/* a forged one: bad ICMP checksum (REQ-3: SHOULD drop) */
	err[PB_ETH_LEN + 22] ^= 0x55;
	f = st_send_raw(c, GW_PORT_OUTSIDE, err, elen);
	st_line(c, "REQ-3", "error with bad checksum", f == NULL ? "dropped" : "passed", -1,
		f == NULL ? "(should)" : NULL);
	/* an error about no session: SHOULD be dropped */
	s.sport = (uint16_t)(e.port ^ 0x0101);
	olen = pb_build(orig, &s);
	elen = pb_build_icmp_error(err, c->remote[2], e.addr, 3, 3, orig, olen, 0);
	f = st_send_raw(c, GW_PORT_OUTSIDE, err, elen);
	st_line(c, "REQ-5", "error about no session", f == NULL ? "dropped" : "passed", -1,
		f == NULL ? "(should)" : NULL);

	/* an error from h about a reply it received (port unreachable), sent out */
	if (!st_make_udp_replied(c)) {
		st_line(c, "REQ-4", "outbound ICMP error", "could not set up", 0, NULL);
		return 0;
	}
	memset(&s, 0, sizeof(s));
	s.src = c->remote[0];
	s.dst = c->host[0];
	s.sport = 3478;
	s.dport = 40000;
	s.proto = IPPROTO_UDP;
	olen = pb_build(orig, &s);
	elen = pb_build_icmp_error(err, c->host[0], c->remote[0], 3, 3, orig, olen, 0);
	f = st_send_raw(c, GW_PORT_INSIDE, err, elen);
	ok = f != NULL && f->port == GW_PORT_OUTSIDE && pb_ip_src(f->b) == st_probe_ep.addr &&
	     pb_csum_ok(f->b, f->len) && f->len >= PB_ETH_LEN + 56 &&
	     memcmp(f->b + PB_ETH_LEN + 28 + 16, &st_probe_ep.addr, 4) == 0 &&
	     ((f->b[PB_ETH_LEN + 50] << 8) | f->b[PB_ETH_LEN + 51]) == st_probe_ep.port;
	st_line(c, "REQ-4", "outbound ICMP error", ok ? "translated, quote rewritten, sums valid" :
		"dropped or not rewritten", ok ? 1 : 0, NULL);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Addresses for the probes, from the configuration
 */

static uint32_t
st_host_in(uint32_t net, uint8_t prefix, uint32_t avoid, uint32_t k)
{
	uint32_t h = rte_be_to_cpu_32(net), mask = prefix == 0 ? 0 : ~0u << (32 - prefix);
	uint32_t a = (h & mask) | ((k + 9) & ~mask);

	if (rte_cpu_to_be_32(a) == avoid)
		a = (h & mask) | ((k + 100) & ~mask);
	return rte_cpu_to_be_32(a);
}

static int
st_addresses(struct st_ctx *c)
{
	const struct gw_if_config *in = &c->cfg.ifc[GW_PORT_INSIDE];
	/* remotes in TEST-NET-2 (RFC 5737), unless the uplink itself lives there */
	uint32_t base = rte_cpu_to_be_32(0xc6336400u);	/* 198.51.100.0 */
	unsigned int i;

	if (in->prefix > 29) {
		fprintf(stderr, "natgw self-test: the inside network /%u has no room for two "
			"hosts\n", in->prefix);
		return -1;
	}
	c->host[0] = st_host_in(in->addr, in->prefix, in->addr, 1);
	c->host[1] = st_host_in(in->addr, in->prefix, in->addr, 2);
	for (i = 0; i < 3; i++) {
		c->remote[i] = rte_cpu_to_be_32(rte_be_to_cpu_32(base) + 10 + i);
		if ((rte_be_to_cpu_32(c->remote[i]) >> 8) ==
		    (rte_be_to_cpu_32(c->cfg.ifc[GW_PORT_OUTSIDE].addr) >> 8))
			c->remote[i] = rte_cpu_to_be_32(0xcb007100u + 10 + i); /* 203.0.113 */
	}
	return 0;
}

int
gw_selftest(const struct gw_config *cfg, unsigned int n_workers, struct rte_mempool *pool,
	    struct rte_mempool *big_pool, FILE *out)
{
	static struct st_ctx c;		/* large */
	char ip[2][16];
	int rc = 0;

	memset(&c, 0, sizeof(c));
	c.cfg = *cfg;
	if (c.cfg.capacity > ST_CAPACITY)
		c.cfg.capacity = ST_CAPACITY;
	c.cfg.nat.max_mappings = 0;
	c.cfg.nat.rss = NULL;
	c.pool = pool;
	c.big_pool = big_pool;
	c.n_workers = n_workers;
	c.out = out;
	if (st_addresses(&c) < 0)
		return -1;
	fprintf(out, "natgw self-test: %s, %u worker(s); inside hosts %s and %s (simulated)\n",
		cfg->path[0] != '\0' ? cfg->path : "(built-in config)", n_workers,
		st_ip(c.host[0], ip[0]), st_ip(c.host[1], ip[1]));
	fprintf(out, "RFC 4787 (UDP)\n");
	if (st_mapping(&c, IPPROTO_UDP) < 0 || st_ports(&c) < 0 || st_udp_timers(&c) < 0 ||
	    st_filtering(&c) < 0 || st_hairpin(&c) < 0 || st_fragments(&c) < 0)
		rc = -1;
	fprintf(out, "RFC 5382 (TCP)\n");
	if (rc == 0 && (st_mapping(&c, IPPROTO_TCP) < 0 || st_tcp_probes(&c) < 0))
		rc = -1;
	fprintf(out, "RFC 5508 (ICMP)\n");
	if (rc == 0 && st_icmp(&c) < 0)
		rc = -1;
	st_gw_free(&c);
	if (rc < 0)
		return -1;
	fprintf(out, "%u MUST requirements met, %u not met\n", c.met, c.not_met);
	return c.not_met == 0 ? 0 : 1;
}
