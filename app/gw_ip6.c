/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_ip6.c - routed IPv6 with conntrack (issue 12, "IPv6 forwarding with conntrack"): the
 * configuration keys, the per-frame checks, steering to the owner worker, the stateful
 * policy of RFC 6092 ("simple security": outbound allowed and tracked, inbound only
 * ESTABLISHED or RELATED, ICMPv6 errors only about tracked flows), hop limit (RFC 8200 3),
 * the ICMPv6 errors natgw sends (time exceeded, packet too big: IPv6 routers never fragment,
 * RFC 8200 5, so a packet over the egress MTU gets a Packet Too Big, RFC 8201) and echo
 * replies for its own addresses (RFC 4443 4.2). No translation: addresses and ports leave as
 * they came; neighbour discovery is gw_nd.c.
 *
 * Ownership (shared/DESIGN.md): both directions of an IPv6 flow belong to the worker chosen
 * by a keyed hash of the inside host's address - the source from the inside, the destination
 * from the uplink (an ICMPv6 error from the uplink is addressed to the inside host that sent
 * what it quotes, so it lands on the flow's worker too). Frames received elsewhere are handed
 * over through the same rings as IPv4. ND and traffic to natgw itself is handled where it
 * arrives (ND teaches the other workers through copies, gw_nd.c).
 *
 * What natgw makes itself passes the same checks as what it forwards: never to a multicast,
 * unspecified or loopback address, from our address on the port it leaves by, at most the
 * IPv6 minimum MTU (RFC 4443 2.4 c), rate-limited (RFC 4443 2.4 f).
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <rte_jhash.h>
#include <rte_random.h>

#include "gw_ip6.h"

#define IP6_HLEN		40
#define GW_ICMP6_MIN_MTU	1280	/* RFC 8200 5: what every link carries */
#define GW_ICMP6_RATE		1000	/* errors per second per worker */
#define GW_ICMP6_BURST		50
#define GW_IP6_HOPS		64	/* hop limit of what we originate */

/* ---------------------------------------------------------------------------------------
 * Configuration
 */

static int
gw_ip6_parse_prefix(const char *s, uint8_t a[16], uint8_t *len, bool need_len)
{
	char buf[64], *slash;
	char *end;
	long l = 128;

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		l = strtol(slash + 1, &end, 10);
		if (*end != '\0' || slash[1] == '\0' || l < 1 || l > 128)
			return -1;
	} else if (need_len) {
		return -1;
	}
	if (inet_pton(AF_INET6, buf, a) != 1)
		return -1;
	*len = (uint8_t)l;
	return 0;
}

static bool
gw_ip6_unicast(const uint8_t a[16])
{
	static const uint8_t lo[16] = { [15] = 1 };

	return a[0] != 0xff && !gw_ip6_is_zero(a) && memcmp(a, lo, 16) != 0;
}

bool
gw_ip6_config_key(const char *key)
{
	return strcmp(key, "address6") == 0 || strcmp(key, "gateway6") == 0 ||
	       strcmp(key, "routes6") == 0 || strcmp(key, "ra") == 0;
}

/* "PREFIX/LEN [via ADDR][, ...]" */
static int
gw_ip6_parse_routes(struct gw_config *c, const char *val, char *why, size_t whylen)
{
	char buf[1024], *item, *save = NULL;

	if (strlen(val) >= sizeof(buf)) {
		snprintf(why, whylen, "routes6: too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", val);
	c->n_routes6 = 0;
	for (item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		char pfx[64], kw[8], via[64], extra[2];
		struct gw_route6 *r;
		uint8_t l, vl;
		int n;

		if (c->n_routes6 == GW_MAX_ROUTES) {
			snprintf(why, whylen, "routes6: too many routes (max %d)", GW_MAX_ROUTES);
			return -1;
		}
		r = &c->routes6[c->n_routes6];
		memset(r, 0, sizeof(*r));
		n = sscanf(item, "%63s %7s %63s %1s", pfx, kw, via, extra);
		if ((n != 1 && n != 3) || (n == 3 && strcmp(kw, "via") != 0) ||
		    gw_ip6_parse_prefix(pfx, r->addr, &l, true) < 0 ||
		    (n == 3 && (gw_ip6_parse_prefix(via, r->via, &vl, false) < 0 || vl != 128 ||
				!gw_ip6_unicast(r->via)))) {
			snprintf(why, whylen, "routes6: want PREFIX/LEN [via ADDR], got '%s'",
				 item);
			return -1;
		}
		r->len = l;
		c->n_routes6++;
	}
	if (c->n_routes6 == 0) {
		snprintf(why, whylen, "routes6: empty");
		return -1;
	}
	return 0;
}

int
gw_ip6_config_set(struct gw_config *c, unsigned int port, const char *key, const char *val,
		  char *why, size_t whylen)
{
	struct gw_if_config *i = &c->ifc[port];
	uint8_t l;

	if (strcmp(key, "address6") == 0) {
		if (gw_ip6_parse_prefix(val, i->addr6, &i->prefix6, true) < 0 ||
		    !gw_ip6_unicast(i->addr6) || (i->addr6[0] == 0xfe && (i->addr6[1] & 0xc0) ==
						  0x80) || i->prefix6 > 127) {
			snprintf(why, whylen, "address6: want a global unicast ADDR/LEN (LEN "
				 "1..127), got '%s'", val);
			i->prefix6 = 0;
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "gateway6") == 0 && port == GW_PORT_OUTSIDE) {
		if (gw_ip6_parse_prefix(val, i->gateway6, &l, false) < 0 || l != 128 ||
		    !gw_ip6_unicast(i->gateway6)) {
			snprintf(why, whylen, "gateway6: bad address '%s'", val);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "routes6") == 0 && port == GW_PORT_INSIDE)
		return gw_ip6_parse_routes(c, val, why, whylen);
	if (strcmp(key, "ra") == 0 && port == GW_PORT_INSIDE) {
		if (strcmp(val, "yes") == 0 || strcmp(val, "on") == 0) {
			i->ra = true;
		} else if (strcmp(val, "no") == 0 || strcmp(val, "off") == 0) {
			i->ra = false;
		} else {
			snprintf(why, whylen, "ra: want yes or no, got '%s'", val);
			return -1;
		}
		return 0;
	}
	snprintf(why, whylen, "unknown key '%s' in [%s]", key, gw_port_name(port));
	return -1;
}

int
gw_ip6_config_check(const struct gw_config *c, const char **sec, const char **key, char *why,
		    size_t whylen)
{
	const struct gw_if_config *in = &c->ifc[GW_PORT_INSIDE], *out = &c->ifc[GW_PORT_OUTSIDE];
	unsigned int i;

	*sec = "inside";
	*key = "address6";
	if ((in->prefix6 == 0) != (out->prefix6 == 0)) {
		/* reported at the address6 that is there */
		*sec = in->prefix6 != 0 ? "inside" : "outside";
		snprintf(why, whylen, "IPv6 needs address6 on both sides ([%s] has none)",
			 in->prefix6 != 0 ? "outside" : "inside");
		return -1;
	}
	if (in->prefix6 == 0) {
		if (c->n_routes6 != 0 || in->ra || !gw_ip6_is_zero(out->gateway6)) {
			*key = c->n_routes6 != 0 ? "routes6" : in->ra ? "ra" : "gateway6";
			*sec = c->n_routes6 != 0 || in->ra ? "inside" : "outside";
			snprintf(why, whylen, "%s without address6", *key);
			return -1;
		}
		return 0;
	}
	if (gw_ip6_prefix_eq(in->addr6, out->addr6, RTE_MIN(in->prefix6, out->prefix6))) {
		snprintf(why, whylen, "the inside and outside IPv6 networks overlap");
		return -1;
	}
	if (!gw_ip6_is_zero(out->gateway6) &&
	    !gw_ip6_prefix_eq(out->gateway6, out->addr6, out->prefix6) &&
	    !(out->gateway6[0] == 0xfe && (out->gateway6[1] & 0xc0) == 0x80)) {
		*sec = "outside";
		*key = "gateway6";
		snprintf(why, whylen, "gateway6 is neither on the outside network nor link-local");
		return -1;
	}
	*key = "routes6";
	for (i = 0; i < c->n_routes6; i++) {
		const struct gw_route6 *r = &c->routes6[i];

		if (!gw_ip6_is_zero(r->via) && !gw_ip6_prefix_eq(r->via, in->addr6, in->prefix6)) {
			snprintf(why, whylen, "route %u: next hop is not on the inside network", i);
			return -1;
		}
		if (gw_ip6_prefix_eq(r->addr, out->addr6, RTE_MIN(r->len, out->prefix6))) {
			snprintf(why, whylen, "route %u overlaps the outside network", i);
			return -1;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Addresses
 */

static inline bool
gw_ip6_is_ll(const uint8_t a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

bool
gw_ip6_is_ours(const struct gw *g, unsigned int port, const uint8_t a[16])
{
	return memcmp(a, g->cfg.ifc[port].addr6, 16) == 0 || memcmp(a, g->ip6->ll[port], 16) == 0;
}

static bool
gw_ip6_is_any_ours(const struct gw *g, const uint8_t a[16])
{
	return gw_ip6_is_ours(g, GW_PORT_INSIDE, a) || gw_ip6_is_ours(g, GW_PORT_OUTSIDE, a);
}

static const struct gw_route6 *
gw_ip6_route_find(const struct gw *g, const uint8_t a[16])
{
	unsigned int i;

	for (i = 0; i < g->cfg.n_routes6; i++)
		if (gw_ip6_prefix_eq(a, g->cfg.routes6[i].addr, g->cfg.routes6[i].len))
			return &g->cfg.routes6[i];
	return NULL;
}

bool
gw_ip6_is_inside(const struct gw *g, const uint8_t a[16])
{
	const struct gw_if_config *in = &g->cfg.ifc[GW_PORT_INSIDE];

	return gw_ip6_prefix_eq(a, in->addr6, in->prefix6) || gw_ip6_route_find(g, a) != NULL;
}

/* Never a source nor a forwarded destination: unspecified, loopback, multicast, IPv4-mapped
 * (RFC 4291 2.5.2, 2.5.3, 2.7, 2.5.5.2); link-local is never forwarded (2.5.6). */
static bool
gw_ip6_is_martian(const uint8_t a[16])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	return !gw_ip6_unicast(a) || gw_ip6_is_ll(a) || memcmp(a, mapped, 12) == 0;
}

/* The solicited-node multicast group of a (RFC 4291 2.7.1): ff02::1:ffXX:XXXX */
static bool
gw_ip6_is_snm_of(const uint8_t g6[16], const uint8_t a[16])
{
	static const uint8_t pfx[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };

	return memcmp(g6, pfx, 13) == 0 && memcmp(g6 + 13, a + 13, 3) == 0;
}

/* A multicast group natgw listens to on port: all-nodes, all-routers, the solicited-node
 * groups of its addresses there. */
static bool
gw_ip6_is_our_group(const struct gw *g, unsigned int port, const uint8_t a[16])
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const uint8_t all_routers[16] = { 0xff, 0x02, [15] = 2 };

	return memcmp(a, all_nodes, 16) == 0 || memcmp(a, all_routers, 16) == 0 ||
	       gw_ip6_is_snm_of(a, g->cfg.ifc[port].addr6) || gw_ip6_is_snm_of(a, g->ip6->ll[port]);
}

/* ---------------------------------------------------------------------------------------
 * Setup
 */

int
gw_ip6_init(struct gw *g)
{
	unsigned int p;

	if (g->cfg.ifc[GW_PORT_INSIDE].prefix6 == 0)
		return 0;	/* IPv6 off */
	g->ip6 = calloc(1, sizeof(*g->ip6));
	if (g->ip6 == NULL)
		return -1;
	for (p = 0; p < GW_PORT_MAX; p++) {
		/* RFC 4291 appendix A: fe80::/64 + modified EUI-64 of the MAC */
		const uint8_t *mac = g->mac[p].addr_bytes;
		uint8_t *ll = g->ip6->ll[p];

		memset(ll, 0, 16);
		ll[0] = 0xfe;
		ll[1] = 0x80;
		ll[8] = mac[0] ^ 0x02;
		ll[9] = mac[1];
		ll[10] = mac[2];
		ll[11] = 0xff;
		ll[12] = 0xfe;
		ll[13] = mac[3];
		ll[14] = mac[4];
		ll[15] = mac[5];
	}
	g->ip6->owner_seed = g->cfg.nat.host_seed != 0 ? g->cfg.nat.host_seed :
							 (uint32_t)rte_rand();
	return 0;
}

void
gw_ip6_free(struct gw *g)
{
	free(g->ip6);
	g->ip6 = NULL;
}

int
gw_ip6_worker_init(struct gw_worker *w)
{
	if (!gw_ip6_on(w->g))
		return 0;
	w->ip6 = calloc(1, sizeof(*w->ip6));
	if (w->ip6 == NULL)
		return -1;
	w->ip6->icmp_tokens = GW_ICMP6_BURST;
	if (ct_table_enable_ipv6(w->ct) < 0 || gw_nd_init(w) < 0)
		return -1;
	return 0;
}

void
gw_ip6_worker_free(struct gw_worker *w)
{
	if (w->ip6 == NULL)
		return;
	gw_nd_free(w);
	free(w->ip6);
	w->ip6 = NULL;
}

unsigned int
gw_ip6_timer(struct gw_worker *w, ct_time_t now)
{
	if (w->ip6 == NULL)
		return 0;
	return gw_nd_timer(w, now);
}

/* ---------------------------------------------------------------------------------------
 * What natgw sends itself
 */

static bool
gw_icmp6_allowed(struct gw_worker *w, ct_time_t now)
{
	struct gw_ip6_worker *x = w->ip6;

	if (now > x->icmp_last) {
		/* whole tokens only; the time of a fraction of one stays for the next call */
		uint64_t add = (now - x->icmp_last) * GW_ICMP6_RATE / CT_USEC_PER_SEC;

		if (add != 0) {
			x->icmp_tokens = RTE_MIN((uint64_t)GW_ICMP6_BURST, x->icmp_tokens + add);
			x->icmp_last += add * CT_USEC_PER_SEC / GW_ICMP6_RATE;
			if (x->icmp_tokens == GW_ICMP6_BURST)
				x->icmp_last = now;
		}
	} else {
		x->icmp_last = now;	/* a clock that went back */
	}
	if (x->icmp_tokens == 0) {
		w->st.icmp_ratelimited++;
		return false;
	}
	x->icmp_tokens--;
	return true;
}

/* ICMPv6 checksum from scratch over the pseudo header (RFC 4443 2.3) */
void
gw_icmp6_csum(uint8_t *ip6, uint8_t *icmp, unsigned int len)
{
	uint8_t ph[8] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			  (uint8_t)len, 0, 0, 0, IPPROTO_ICMPV6 };
	uint32_t sum;

	icmp[2] = icmp[3] = 0;
	sum = rte_raw_cksum(ip6 + 8, 32);
	sum += rte_raw_cksum(ph, 8);
	sum += rte_raw_cksum(icmp, len);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (uint16_t)~sum;
	memcpy(icmp + 2, &sum, 2);	/* rte_raw_cksum sums in memory order */
}

void
gw_ip6_fill_hdr(uint8_t *ip6, uint16_t plen, uint8_t nh, uint8_t hops, const uint8_t src[16],
		const uint8_t dst[16])
{
	ip6[0] = 0x60;
	ip6[1] = ip6[2] = ip6[3] = 0;
	ip6[4] = (uint8_t)(plen >> 8);
	ip6[5] = (uint8_t)plen;
	ip6[6] = nh;
	ip6[7] = hops;
	memcpy(ip6 + 8, src, 16);
	memcpy(ip6 + 24, dst, 16);
}

/*
 * An ICMPv6 error (type, code, 32-bit parameter: MTU or pointer) about frame m received on
 * port, back to its source through the neighbour that sent it, from our address on that port,
 * quoting as much of it as fits the minimum MTU (RFC 4443 2.4 c). Never about an ICMPv6
 * error (2.4 e.1) nor to a martian source (the caller checked it is a unicast host). Does not
 * consume m.
 */
static void
gw_icmp6_error(struct gw_worker *w, unsigned int port, const struct rte_mbuf *m,
	       const struct ct_pkt *p, uint8_t type, uint8_t code, uint32_t param, ct_time_t now)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *oip = f + p->l3_off;
	unsigned int quote = RTE_MIN((unsigned int)p->ip_len,
				     (unsigned int)(GW_ICMP6_MIN_MTU - IP6_HLEN - 8));
	struct rte_ether_hdr *eth;
	struct rte_mbuf *r;
	uint8_t *ip6, *icmp;

	if (p->is_icmp_error || !gw_icmp6_allowed(w, now))
		return;
	r = rte_pktmbuf_alloc(w->g->pool);
	if (r == NULL) {
		w->st.reason[GW_DROP_NO_MBUF]++;
		return;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(r, (uint16_t)(RTE_ETHER_HDR_LEN +
							 IP6_HLEN + 8 + quote));
	if (eth == NULL) {
		rte_pktmbuf_free(r);
		w->st.reason[GW_DROP_NO_MBUF]++;
		return;
	}
	eth->dst_addr = ((const struct rte_ether_hdr *)f)->src_addr;
	eth->src_addr = w->g->mac[port];
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	ip6 = (uint8_t *)(eth + 1);
	icmp = ip6 + IP6_HLEN;
	gw_ip6_fill_hdr(ip6, (uint16_t)(8 + quote), IPPROTO_ICMPV6, GW_IP6_HOPS,
			w->g->cfg.ifc[port].addr6, oip + 8);
	icmp[0] = type;
	icmp[1] = code;
	icmp[4] = (uint8_t)(param >> 24);
	icmp[5] = (uint8_t)(param >> 16);
	icmp[6] = (uint8_t)(param >> 8);
	icmp[7] = (uint8_t)param;
	memcpy(icmp + 8, oip, quote);
	gw_icmp6_csum(ip6, icmp, 8 + quote);
	r->port = (uint16_t)port;
	w->st.icmp_sent++;
	gw_tx_enqueue(w, port, r);
}

void
gw_ip6_unreach(struct gw_worker *w, unsigned int port, const struct rte_mbuf *m,
	       const struct ct_pkt *p, uint8_t code, ct_time_t now)
{
	gw_icmp6_error(w, port, m, p, 1, code, 0, now);
}

/* Echo request to one of our addresses: answered in place (RFC 4443 4.2), from the address
 * it was sent to, back through the neighbour that sent it. */
static void
gw_icmp6_echo_reply(struct gw_worker *w, unsigned int port, struct rte_mbuf *m,
		    const struct ct_pkt *p)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	uint8_t *ip6 = f + p->l3_off, *icmp = f + p->l4_off;
	uint8_t tmp[16];

	if (p->l4_off != p->l3_off + IP6_HLEN) {	/* extension headers: not answered */
		gw_count_drop(w, m, GW_DROP_TO_ME_UNHANDLED);
		return;
	}
	memcpy(tmp, ip6 + 8, 16);
	memcpy(ip6 + 8, ip6 + 24, 16);
	memcpy(ip6 + 24, tmp, 16);
	ip6[7] = GW_IP6_HOPS;
	icmp[0] = 129;
	gw_icmp6_csum(ip6, icmp, p->l4_len);
	eth->dst_addr = eth->src_addr;
	eth->src_addr = w->g->mac[port];
	w->st.icmp_sent++;
	gw_tx_enqueue(w, port, m);
}

/* ---------------------------------------------------------------------------------------
 * The path
 */

static inline unsigned int
gw_ip6_owner_addr(const struct gw *g, const uint8_t a[16])
{
	if (g->n_workers == 1)
		return 0;
	return gw_ip6_hash(a, g->ip6->owner_seed) % g->n_workers;
}

unsigned int
gw_ip6_owner(const struct gw *g, unsigned int port, const struct rte_mbuf *m)
{
	const uint8_t *ip6 = rte_pktmbuf_mtod_offset(m, const uint8_t *, RTE_ETHER_HDR_LEN);

	if (!gw_ip6_on(g) || m->data_len < RTE_ETHER_HDR_LEN + IP6_HLEN)
		return 0;
	/* the inside host: source from the inside, destination from the uplink */
	return gw_ip6_owner_addr(g, port == GW_PORT_INSIDE ? ip6 + 8 : ip6 + 24);
}

/* The next hop of dst out of egress (all zero: none). */
static const uint8_t *
gw_ip6_nexthop(const struct gw *g, unsigned int egress, const uint8_t dst[16])
{
	const struct gw_if_config *i = &g->cfg.ifc[egress];
	const struct gw_route6 *r;

	if (gw_ip6_prefix_eq(dst, i->addr6, i->prefix6))
		return dst;
	if (egress == GW_PORT_OUTSIDE)
		return i->gateway6;
	r = gw_ip6_route_find(g, dst);
	return r != NULL && !gw_ip6_is_zero(r->via) ? r->via : dst;
}

/* Out of egress: MTU (Packet Too Big, never fragmented), hop limit, L2. Returns false when
 * dropped. */
static bool
gw_ip6_send(struct gw_worker *w, unsigned int port, unsigned int egress, struct rte_mbuf *m,
	    const struct ct_pkt *p, bool reassembled, ct_time_t now)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip6 = f + p->l3_off;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	uint16_t mtu = w->g->cfg.ifc[egress].mtu;
	const uint8_t *nh;

	nh = gw_ip6_nexthop(w->g, egress, ip6 + 24);
	if (unlikely(p->ip_len > mtu) && !reassembled) {
		/* RFC 8200 5, RFC 4443 3.2: the MTU of the next-hop link */
		gw_icmp6_error(w, port, m, p, 2, 0, mtu, now);
		gw_count_drop(w, m, GW_DROP_IP6_TOO_BIG);
		return false;
	}
	if (gw_ip6_is_zero(nh)) {
		gw_count_drop(w, m, GW_DROP_NO_ROUTE);
		return false;
	}
	ip6[7]--;	/* no header checksum in IPv6 */
	rte_ether_addr_copy(&w->g->mac[egress], &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	if (unlikely(p->ip_len > mtu)) {
		/* what we reassembled leaves in pieces again (gw_frag6.c) */
		gw_frag6_send(w, egress, nh, m, mtu, now);
		return true;
	}
	m->port = (uint16_t)egress;
	gw_nd_resolve_send(w, egress, nh, m, now);
	return true;
}

/*
 * The owner's part: conntrack and policy. From the inside a miss creates (TCP: a SYN, ICMPv6:
 * an echo request, checksum verified first); from the uplink a miss is dropped (RFC 6092
 * section 3: simple security; an ICMPv6 error must quote a tracked flow). Hits run the
 * state machine (TCP window tracking as for IPv4).
 */
static void
gw_ip6_track(struct gw_worker *w, struct rte_mbuf *m, struct ct_pkt *p,
	     const struct ct_addr6 *a, bool reassembled, ct_time_t now)
{
	unsigned int port = m->port & 1;
	const uint8_t *buf = rte_pktmbuf_mtod(m, const uint8_t *);
	enum ct_reason why = CT_R_NONE;
	enum ct_state st;
	struct ct_conn *c;
	bool fresh = false, ruled = false;
	uint16_t before;

	c = ct_lookup6(w->ct, p, a, now);
	if (c == NULL) {
		if (p->is_icmp_error) {
			why = CT_R_ICMP_ERROR_NO_CONN;
		} else if (port == GW_PORT_OUTSIDE) {
			/* simple security (RFC 6092 3.2): inbound only what a rule explicitly
			 * accepts (the forward chain, ct state new; never its policy) */
			enum gw_drop d = GW_DROP_IP6_INBOUND_NEW;

			if (unlikely(w->rs != NULL) && ct_new_ok(w->ct, p) == CT_R_NONE)
				d = gw_rules_inbound_new6(w, m, p, port, now);
			if (d != GW_DROP_NONE) {
				gw_count_drop(w, m, d);
				return;
			}
			ruled = true;
		} else {
			why = ct_new_ok(w->ct, p);
		}
		if (why == CT_R_NONE && !p->l4_csum_ok) {
			if (!ct_l4_csum_valid(p, buf))
				why = CT_R_L4_BAD_CSUM;
			p->l4_csum_ok = true;
		}
		if (why == CT_R_NONE)
			c = ct_create6(w->ct, p, a, now, &why);
		if (c == NULL) {
			if (why != CT_R_HASH_FULL && why != CT_R_TABLE_FULL) {
				ct_count_reason(w->ct, why);
				/* INVALID through the forward chain: log, count, reject */
				if (unlikely(w->rs != NULL))
					gw_rules_invalid(w, m, p, port, now);
			}
			gw_count_drop(w, m, GW_DROP_CT_BASE + why);
			return;
		}
		fresh = true;
		p->conn = c;
		p->dir = CT_DIR_ORIG;
	}
	before = ct_conn_status(c);
	st = ct_update(w->ct, p, buf, now, &why);
	if (st == CT_INVALID) {
		if (unlikely(w->rs != NULL))
			gw_rules_invalid(w, m, p, port, now);
		if (fresh)
			ct_delete(w->ct, c);
		gw_count_drop(w, m, GW_DROP_CT_BASE + why);
		return;
	}
	/* the forward chain (gw_rules.c) as for IPv4: after conntrack, the verdict cached in
	 * the connection's CT_ST_RS_* bits; before the MTU and hop-limit work of the send */
	if (unlikely(w->rs != NULL) && !ruled) {
		enum gw_drop rd = gw_rules_forward(w, m, p, port, port ^ 1, st, before, now);

		if (rd != GW_DROP_NONE) {
			if (fresh)
				ct_delete(w->ct, c);
			gw_count_drop(w, m, rd);
			return;
		}
	}
	if (!gw_ip6_send(w, port, port ^ 1, m, p, reassembled, now)) {
		if (fresh)
			ct_delete(w->ct, c);
		return;
	}
	if (fresh)
		w->st.conns_created++;
}

/* Source and destination checks (header only, before anything may hold state). */
static enum gw_drop
gw_ip6_check_addrs(const struct gw *g, unsigned int port, const uint8_t *src,
		   const uint8_t *dst, bool to_us)
{
	if (to_us && gw_ip6_is_zero(src) && dst[0] == 0xff)
		return GW_DROP_NONE;	/* a DAD probe (RFC 4862 5.4.2): gw_nd.c */
	if (!gw_ip6_unicast(src) || gw_ip6_is_any_ours(g, src))
		return GW_DROP_IP6_MARTIAN;
	if (to_us)
		return GW_DROP_NONE;	/* link-local sources welcome (ND, echo) */
	if (gw_ip6_is_martian(src) || gw_ip6_is_martian(dst))
		return GW_DROP_IP6_MARTIAN;
	if (port == GW_PORT_INSIDE) {
		/* strict uRPF (RFC 3704 2.2; RFC 6092 3.1: no spoofed sources out) */
		if (!gw_ip6_is_inside(g, src))
			return GW_DROP_SRC_NOT_INSIDE;
		if (gw_ip6_is_inside(g, dst))
			return GW_DROP_NO_ROUTE;
		return GW_DROP_NONE;
	}
	if (gw_ip6_is_inside(g, src))
		return GW_DROP_WRONG_SIDE;
	if (!gw_ip6_is_inside(g, dst))
		return GW_DROP_NOT_OURS;
	return GW_DROP_NONE;
}

/* Traffic for natgw itself: ND, echo. */
static void
gw_ip6_local(struct gw_worker *w, unsigned int port, struct rte_mbuf *m, const struct ct_pkt *p,
	     const uint8_t *src, const uint8_t *dst, ct_time_t now)
{
	if (p->tuple.proto == IPPROTO_ICMPV6 && !p->is_fragment) {
		uint8_t t = p->icmp_type;

		if (t >= 133 && t <= 136 && (dst[0] != 0xff ||
					     gw_ip6_is_our_group(w->g, port, dst))) {
			gw_nd_input(w, port, m, p, now, false);
			return;
		}
		/* echo to our addresses on this port or the other side's global one */
		if (t == 128 && dst[0] != 0xff && !gw_ip6_is_zero(src) &&
		    (gw_ip6_is_ours(w->g, port, dst) ||
		     memcmp(dst, w->g->cfg.ifc[port ^ 1].addr6, 16) == 0) &&
		    ct_l4_csum_valid(p, rte_pktmbuf_mtod(m, const uint8_t *))) {
			/* the input chain (gw_rules.c) decides what natgw answers; ND is never
			 * filtered (without it IPv6 stops) */
			if (unlikely(w->rs != NULL)) {
				enum gw_drop why = gw_rules_input(w, m, p, port, now);

				if (why != GW_DROP_NONE) {
					gw_count_drop(w, m, why);
					return;
				}
			}
			gw_icmp6_echo_reply(w, port, m, p);
			return;
		}
	}
	if (dst[0] == 0xff) {
		/* MLD, other hosts' solicited-node groups...: not ours */
		gw_count_drop(w, m, GW_DROP_IP6_MARTIAN);
		return;
	}
	gw_count_drop(w, m, GW_DROP_TO_ME_UNHANDLED);
}

int
gw_ip6_input(struct gw_worker *w, struct rte_mbuf *m, ct_time_t now, bool handed)
{
	struct gw *g = w->g;
	unsigned int port = m->port & 1;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	struct ct_addr6 a;
	struct ct_pkt p;
	const uint8_t *ip6, *src, *dst;
	enum ct_reason r;
	enum gw_drop why;
	unsigned int owner;
	bool to_us, reassembled = false;

	r = ct_parse_ipv6(f, m->data_len, RTE_ETHER_HDR_LEN, &p, &a);
	p.l4_csum_ok = (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	if (r != CT_R_NONE && r != CT_R_FRAGMENT) {
		ct_count_reason(w->ct, r);
		gw_count_drop(w, m, GW_DROP_CT_BASE + r);
		return -1;
	}
	/* Ethernet padding is not part of the datagram */
	if (m->data_len > p.l3_off + p.ip_len)
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - (p.l3_off + p.ip_len)));
	ip6 = f + p.l3_off;
	src = ip6 + 8;
	dst = ip6 + 24;
	/* a unicast destination in a link-layer group frame: not to be routed (as IPv4's
	 * L2_GROUP; RFC 1812 4.2.2.11's rule carried over) */
	if (unlikely(rte_is_multicast_ether_addr(&((const struct rte_ether_hdr *)f)->dst_addr)) &&
	    dst[0] != 0xff) {
		gw_count_drop(w, m, GW_DROP_L2_GROUP);
		return -1;
	}
	/* multicast is never forwarded (no multicast routing): ours (ND) or dropped */
	to_us = dst[0] == 0xff || gw_ip6_is_any_ours(g, dst);
	why = gw_ip6_check_addrs(g, port, src, dst, to_us);
	if (why == GW_DROP_NONE && to_us && (!gw_ip6_is_ours(g, port, dst) && dst[0] != 0xff) &&
	    port == GW_PORT_OUTSIDE)
		why = GW_DROP_TO_ME_WRONG_SIDE;	/* our inside address from the uplink */
	if (why != GW_DROP_NONE) {
		gw_count_drop(w, m, why);
		return -1;
	}
	owner = to_us ? w->idx : gw_ip6_owner_addr(g, port == GW_PORT_INSIDE ? src : dst);
	if (p.is_fragment) {
		/* reassembled by the flow's worker (all fragments share the addresses) */
		if (owner != w->idx && !handed)
			return (int)owner;
		m = gw_frag6_reassemble(w, m, &p, now);
		if (m == NULL)
			return -1;
		reassembled = true;
		f = rte_pktmbuf_mtod(m, const uint8_t *);
		r = ct_parse_ipv6(f, m->data_len, RTE_ETHER_HDR_LEN, &p, &a);
		if (r != CT_R_NONE || p.is_fragment) {
			r = r != CT_R_NONE ? r : CT_R_FRAGMENT;
			ct_count_reason(w->ct, r);
			gw_count_drop(w, m, GW_DROP_CT_BASE + r);
			return -1;
		}
		ip6 = f + p.l3_off;
		src = ip6 + 8;
		dst = ip6 + 24;
	}
	if (to_us) {
		gw_ip6_local(w, port, m, &p, src, dst, now);
		return -1;
	}
	if (p.is_icmp_error && port == GW_PORT_INSIDE && memcmp(src, a.src, 16) != 0) {
		/* from the inside an error comes from the host the quoted datagram went to */
		gw_count_drop(w, m, GW_DROP_ICMP_ERROR_FORGED);
		return -1;
	}
	if (p.ttl <= 1) {
		/* RFC 8200 3, RFC 4443 3.3: hop limit exceeded in transit, from the ingress side;
		 * from the uplink only about a tracked flow (else it would map the inside) */
		if (port == GW_PORT_INSIDE)
			gw_icmp6_error(w, port, m, &p, 3, 0, 0, now);
		gw_count_drop(w, m, GW_DROP_TTL_EXCEEDED);
		return -1;
	}
	if (owner != w->idx && !handed)
		return (int)owner;
	gw_ip6_track(w, m, &p, &a, reassembled, now);
	return -1;
}

/* An ND frame another worker copied here so that this worker's cache learns from it. */
void
gw_ip6_learn(struct gw_worker *w, struct rte_mbuf *m, ct_time_t now)
{
	struct ct_addr6 a;
	struct ct_pkt p;

	if (w->ip6 == NULL ||
	    ct_parse_ipv6(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, RTE_ETHER_HDR_LEN,
			  &p, &a) != CT_R_NONE || p.tuple.proto != IPPROTO_ICMPV6 ||
	    (p.icmp_type != 135 && p.icmp_type != 136)) {
		rte_pktmbuf_free(m);
		return;
	}
	gw_nd_input(w, m->port & 1, m, &p, now, true);
}
