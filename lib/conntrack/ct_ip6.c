/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_ip6.c - IPv6 in the connection tracker: the parser (fixed header, the extension header
 * chain walked with a bound, ICMPv6 errors and the datagram they quote), the IPv6 pseudo
 * header checksums, the ICMPv6 echo tracker, and the IPv6 key: folded addresses in the
 * 16-byte struct ct_tuple plus the exact 128-bit pair of each connection in a side array.
 *
 * Why folds and a side array, not 128-bit address slots in the key: struct ct_conn is 96
 * bytes (two cache lines) that hold both tuples; 40-byte keys would grow it and the hash of
 * every IPv4 packet (ct_hash_inline reads two words). Here an IPv6 key differs from every IPv4 one by
 * its family byte, so the IPv4 lookup (ct_lookup_burst) is the same code and never reads the
 * side array; an IPv6 lookup compares the folded key first and then the exact addresses
 * (the side array line), and a fold collision with different addresses is simply not a
 * match. The folds are keyed with the table's secret (derived from its hash seed), so no
 * outsider can make two flows fold alike; ct_create6 refuses (CT_R_HASH_FULL) the
 * improbable new flow whose folded key another live flow already holds.
 *
 * Parsing follows RFC 8200: hop-by-hop options only right after the fixed header (4.1),
 * routing, destination options and fragment headers walked to the upper layer, at most
 * CT_IP6_EXT_MAX of them (RFC 7112 lets a first fragment be refused when the chain does not
 * fit; Linux's ipv6_skip_exthdr walks the same headers). Routing headers with segments left
 * are source routes and are refused, as natgw refuses IPv4 LSRR/SSRR. ICMPv6 errors (RFC
 * 4443 3.1-3.4) are checked like the IPv4 ones in ct_parse.c: checksum over the pseudo header
 * and message (RFC 4443 2.3), the quoted datagram parsed, and the error must go to the quoted
 * datagram's source (RFC 4443 2.4: an error is sent to the source of the invoking packet).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "ct_private.h"

#define IP6_HLEN	40
#define NH_HOPOPTS	0
#define NH_ROUTING	43
#define NH_FRAGMENT	44
#define NH_DSTOPTS	60
#define NH_NONE		59

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* one's complement sum (RFC 1071) of 32-bit words, folded at the end, as ct_parse.c */
static uint64_t
sum_add(const uint8_t *d, unsigned int len, uint64_t sum)
{
	uint32_t w;
	uint16_t h = 0;

	for (; len >= 4; d += 4, len -= 4) {
		memcpy(&w, d, 4);
		sum += w;
	}
	if (len >= 2) {
		memcpy(&h, d, 2);
		sum += h;
		d += 2;
		len -= 2;
	}
	if (len != 0) {
		h = 0;
		memcpy(&h, d, 1);
		sum += h;
	}
	return sum;
}

static uint16_t
sum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* RFC 8200 8.1: source, destination, upper-layer length (32 bits), 3 zero bytes, next
 * header; then the upper-layer packet. true when it sums to 0xffff. */
static bool
csum6_ok(const uint8_t *ip, uint8_t nh, const uint8_t *l4, unsigned int len)
{
	uint8_t ph[8] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			  (uint8_t)len, 0, 0, 0, nh };
	uint64_t sum = sum_add(ip + 8, 32, 0);

	sum = sum_add(ph, 8, sum);
	return sum_fold(sum_add(l4, len, sum)) == 0xffff;
}

bool
ct_l4_csum_valid6(const struct ct_pkt *p, const uint8_t *buf)
{
	const uint8_t *ip = buf + p->l3_off, *l4 = buf + p->l4_off;
	unsigned int len = p->l4_len;

	switch (p->tuple.proto) {
	case IPPROTO_UDP:
		/* RFC 8200 8.1: a zero UDP checksum is not allowed over IPv6 */
		len = rd16(l4 + 4);
		if (len < 8 || len > p->l4_len)
			return false;
		break;
	case IPPROTO_TCP:
	case IPPROTO_ICMPV6:
		break;
	default:
		return true;
	}
	return csum6_ok(ip, p->tuple.proto, l4, len);
}

/* ---- ICMPv6 types (RFC 4443) ---- */

static inline bool
icmp6_is_error(uint8_t type)
{
	/* destination unreachable, packet too big, time exceeded, parameter problem */
	return type >= 1 && type <= 4;
}

static inline bool
icmp6_is_echo(uint8_t type)
{
	return type == 128 || type == 129;
}

enum ct_reason
ct_icmp6_new_ok(const struct ct_pkt *p)
{
	if (p->is_icmp_error)
		return CT_R_ICMP_ERROR_NO_CONN;
	return p->icmp_type == 128 ? CT_R_NONE : CT_R_ICMP_BAD_TYPE;
}

/* The echo tracker, as ct_icmp_update for IPv4: requests one way, replies the other. */
enum ct_reason
ct_icmp6_update(struct ct_table *t, struct ct_conn *c, const struct ct_pkt *p, ct_time_t now)
{
	if (p->icmp_type != (p->dir == CT_DIR_ORIG ? 128 : 129))
		return CT_R_ICMP_BAD_TYPE;
	if (p->dir == CT_DIR_REPLY)
		c->status |= CT_ST_SEEN_REPLY;
	/* RFC 5508 REQ-2's query timer, as for ICMPv4 */
	ct_set_class(t, c, CT_TC_ICMP, now, true);
	return CT_R_NONE;
}

/* ---- the extension header chain ---- */

struct ip6_walk {
	uint8_t nh;		/* the upper-layer protocol */
	uint32_t off;		/* where it starts */
	uint32_t frag;		/* offset of the fragment header, 0: none */
	bool nonfirst;		/* a fragment with offset != 0 */
	bool more;		/* M flag */
};

/* Walk from the fixed header at ip (offset ip_off of buf) to the upper layer, within end. */
static enum ct_reason
ip6_walk(const uint8_t *buf, uint32_t ip_off, uint32_t end, struct ip6_walk *w)
{
	uint32_t off = ip_off + IP6_HLEN;
	uint8_t nh = buf[ip_off + 6];
	unsigned int n;
	uint16_t fo;

	memset(w, 0, sizeof(*w));
	for (n = 0;; n++) {
		if (nh != NH_HOPOPTS && nh != NH_ROUTING && nh != NH_DSTOPTS &&
		    nh != NH_FRAGMENT)
			break;
		if (n == CT_IP6_EXT_MAX)
			return CT_R_IP6_EXT_LIMIT;
		if (off + 8 > end)
			return CT_R_IP6_EXT_BAD;
		switch (nh) {
		case NH_HOPOPTS:
			if (n != 0)	/* RFC 8200 4.1: only right after the IPv6 header */
				return CT_R_IP6_EXT_BAD;
			break;
		case NH_ROUTING:
			if (buf[off + 3] != 0)	/* segments left: a source route */
				return CT_R_IP6_SRCROUTE;
			break;
		case NH_FRAGMENT:
			if (w->frag != 0)	/* RFC 8200 4.5: one fragment header */
				return CT_R_IP6_EXT_BAD;
			fo = rd16(buf + off + 2);
			w->frag = off;
			w->nonfirst = (fo & 0xfff8) != 0;
			w->more = fo & 1;
			nh = buf[off];
			off += 8;
			if (w->nonfirst)
				goto done;	/* what follows is not a header */
			continue;
		default:
			break;
		}
		{
			uint32_t hlen = (buf[off + 1] + 1u) * 8u;

			if (off + hlen > end)
				return CT_R_IP6_EXT_BAD;
			nh = buf[off];
			off += hlen;
		}
	}
done:
	w->nh = nh;
	w->off = off;
	return CT_R_NONE;
}

/* Ports of the upper layer at l4 (8 bytes there), as l4_ports() in ct_parse.c. */
static void
l4_ports6(struct ct_tuple *t, const uint8_t *l4)
{
	switch (t->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		memcpy(&t->sport, l4, 2);
		memcpy(&t->dport, l4 + 2, 2);
		break;
	case IPPROTO_ICMPV6:
		if (icmp6_is_echo(l4[0])) {
			memcpy(&t->sport, l4 + 4, 2);
			t->dport = t->sport;
		}
		break;
	default:
		break;
	}
}

/* The datagram quoted by an ICMPv6 error at inner (avail bytes; RFC 4443: as much of the
 * invoking packet as fits the minimum MTU). Fills p->tuple and a, inverted. */
static enum ct_reason
parse_icmp6_inner(const uint8_t *buf, uint32_t inner, uint32_t avail, struct ct_pkt *p,
		  struct ct_addr6 *a)
{
	struct ip6_walk w;
	struct ct_tuple t;
	enum ct_reason r;

	if (avail < IP6_HLEN + 8 || (buf[inner] >> 4) != 6)
		return CT_R_ICMP_INNER_BAD;
	r = ip6_walk(buf, inner, inner + avail, &w);
	if (r != CT_R_NONE)
		return r == CT_R_IP6_SRCROUTE ? CT_R_ICMP_ERROR_UNSUPPORTED : CT_R_ICMP_INNER_BAD;
	if (w.nonfirst)
		return CT_R_ICMP_ERROR_UNSUPPORTED;	/* quotes no upper-layer header */
	if (w.off + 8 > inner + avail)
		return CT_R_ICMP_INNER_BAD;
	/* an error about an error is never answered (RFC 4443 2.4 e.1) */
	if (w.nh == IPPROTO_ICMPV6 && !icmp6_is_echo(buf[w.off]))
		return CT_R_ICMP_ERROR_UNSUPPORTED;
	memset(&t, 0, sizeof(t));
	t.proto = w.nh;
	t.family = CT_FAMILY_IPV6;
	l4_ports6(&t, buf + w.off);
	p->tuple = ct_tuple_invert(&t);
	memcpy(a->src, buf + inner + 24, 16);	/* inverted: the quoted destination */
	memcpy(a->dst, buf + inner + 8, 16);
	p->inner_l4_off = (uint16_t)w.off;
	return CT_R_NONE;
}

static __rte_noinline enum ct_reason
parse_icmp6_error(const uint8_t *buf, const uint8_t *ip, struct ct_pkt *p, struct ct_addr6 *a)
{
	enum ct_reason r;

	p->is_icmp_error = 1;
	p->inner_l3_off = (uint16_t)(p->l4_off + 8);
	p->inner_len = (uint16_t)(p->l4_len - 8);
	/* it may reach an inside host: always checked (a first fragment: once reassembled) */
	if (!p->is_fragment && !csum6_ok(ip, IPPROTO_ICMPV6, buf + p->l4_off, p->l4_len))
		return CT_R_ICMP_BAD_CSUM;
	r = parse_icmp6_inner(buf, p->inner_l3_off, p->inner_len, p, a);
	/* sent to the source of the invoking packet (RFC 4443 2.4), else forged */
	if (r == CT_R_NONE && memcmp(a->dst, ip + 24, 16) != 0)
		return CT_R_ICMP_ERROR_BAD_DST;
	return r;
}

enum ct_reason
ct_parse_ipv6(const uint8_t *buf, uint32_t len, uint16_t l3_off, struct ct_pkt *p,
	      struct ct_addr6 *a)
{
	const uint8_t *ip, *l4;
	uint32_t end, l4len, hdr;
	struct ip6_walk w;
	enum ct_reason r;

	memset(p, 0, sizeof(*p));
	p->l3_off = l3_off;
	if (len < (uint32_t)l3_off + IP6_HLEN)
		return CT_R_IP6_TRUNCATED;
	ip = buf + l3_off;
	if ((ip[0] >> 4) != 6)
		return CT_R_L3_BAD_VERSION;
	end = (uint32_t)l3_off + IP6_HLEN + rd16(ip + 4);
	/* len may exceed it: Ethernet padding. A jumbogram (payload length 0, RFC 2675) has no
	 * place on natgw's links and parses as an empty payload. */
	if (end > len || end - l3_off > UINT16_MAX)
		return CT_R_IP6_TRUNCATED;
	p->ip_len = (uint16_t)(end - l3_off);
	p->ttl = ip[7];
	p->tuple.family = CT_FAMILY_IPV6;
	memcpy(a->src, ip + 8, 16);
	memcpy(a->dst, ip + 24, 16);
	r = ip6_walk(buf, l3_off, end, &w);
	if (r != CT_R_NONE)
		return r;
	p->tuple.proto = w.nh;
	p->l4_off = (uint16_t)w.off;
	l4len = end - w.off;
	p->l4_len = (uint16_t)l4len;
	p->payload_off = p->l4_off;
	p->payload_len = (uint16_t)l4len;
	if (w.frag != 0 && (w.nonfirst || w.more)) {
		p->is_fragment = 1;
		p->frag6_off = (uint16_t)w.frag;
		if (w.nonfirst)
			return CT_R_FRAGMENT;	/* ports 0 */
	}
	l4 = buf + w.off;
	r = ct_l4_header(l4, l4len, w.nh, IPPROTO_ICMPV6, p, &hdr);
	if (r != CT_R_NONE || hdr == 0)
		return r;	/* bad, or addresses and protocol only */
	l4_ports6(&p->tuple, l4);
	p->payload_off = (uint16_t)(w.off + hdr);
	p->payload_len = (uint16_t)(l4len - hdr);
	if (unlikely(w.nh == IPPROTO_ICMPV6) && icmp6_is_error(p->icmp_type))
		return parse_icmp6_error(buf, ip, p, a);
	return CT_R_NONE;
}

/* ---- the key ---- */

static inline uint32_t
fold6(const struct ct_table *t, const uint8_t addr[16])
{
	uint64_t w[2];

	memcpy(w, addr, sizeof(w));
	return (uint32_t)ct_mum(w[0] ^ t->fold6_key[0], w[1] ^ t->fold6_key[1]);
}

void
ct_ip6_fold(const struct ct_table *t, struct ct_pkt *p, const struct ct_addr6 *a)
{
	p->tuple.src = fold6(t, a->src);
	p->tuple.dst = fold6(t, a->dst);
}

int
ct_table_enable_ipv6(struct ct_table *t)
{
	size_t sz = (size_t)t->capacity * sizeof(struct ct_addr6);

	if (t->addr6 != NULL)
		return 0;
	if (t->use_heap) {
		t->addr6 = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sz,
									 RTE_CACHE_LINE_SIZE));
		if (t->addr6 != NULL)
			memset(t->addr6, 0, sz);
	} else {
		t->addr6 = rte_zmalloc("ct_addr6", sz, RTE_CACHE_LINE_SIZE);
	}
	if (t->addr6 == NULL) {
		rte_errno = ENOMEM;
		return -1;
	}
	t->memory += sz;
	/* independent of the bucket hash's use of the keys; odd multipliers for ct_mum */
	t->fold6_key[0] = ct_mum(t->key[0] ^ UINT64_C(0x9e3779b97f4a7c15), t->key[3]) | 1;
	t->fold6_key[1] = ct_mum(t->key[1] ^ UINT64_C(0xc2b2ae3d27d4eb4f), t->key[2] | 1) | 1;
	return 0;
}

/* Do the exact addresses of entry value v (index << 1 | dir) match a? */
static inline bool
exact_match(const struct ct_table *t, uint32_t v, const struct ct_addr6 *a)
{
	const struct ct_addr6 *e = &t->addr6[v >> 1];

	if ((v & 1) == CT_DIR_ORIG)
		return memcmp(e->src, a->src, 16) == 0 && memcmp(e->dst, a->dst, 16) == 0;
	return memcmp(e->src, a->dst, 16) == 0 && memcmp(e->dst, a->src, 16) == 0;
}

/* Scan one bucket for the folded key and the exact addresses; CT_SLOT_EMPTY if absent. */
static uint32_t
bucket_find6(const struct ct_table *t, const struct ct_bucket *b, uint32_t sig,
	     const struct ct_tuple *k, const struct ct_addr6 *a)
{
	uint32_t hits = ct_bucket_match(b, sig);	/* one vector compare, as IPv4's */

	while (hits != 0) {
		unsigned int i = (unsigned int)__builtin_ctz(hits);
		uint32_t v = b->val[i];

		hits &= hits - 1;
		if (v == CT_SLOT_EMPTY)
			continue;
		if (!ct_tuple_equal(&t->conns[v >> 1].tuple[v & 1], k))
			continue;
		/* same fold, other addresses: not this flow, keep probing */
		if (!exact_match(t, v, a))
			continue;
		return v;
	}
	return CT_SLOT_EMPTY;
}

struct ct_conn *
ct_lookup6(struct ct_table *t, struct ct_pkt *p, const struct ct_addr6 *a, ct_time_t now)
{
	struct ct_conn *c;
	uint64_t h;
	uint32_t sig, v;

	p->conn = NULL;
	CT_STAT_INC(t, lookups);
	if (unlikely(t->addr6 == NULL))
		return NULL;
	ct_clock(t, now);
	ct_ip6_fold(t, p, a);
	h = ct_hash_inline(t->key, &p->tuple);
	p->hash = h;
	sig = ct_hash_sig(h);
	v = bucket_find6(t, &t->buckets[ct_hash_b1(t, h)], sig, &p->tuple, a);
	if (v == CT_SLOT_EMPTY)
		v = bucket_find6(t, &t->buckets[ct_hash_b2(t, h)], sig, &p->tuple, a);
	if (v == CT_SLOT_EMPTY)
		return NULL;
	c = &t->conns[v >> 1];
	if (unlikely(c->status & CT_ST_DYING))
		return NULL;
	if (ct_conn_dead(c, now)) {
		ct_reclaim_expired(t, c);
		return NULL;
	}
	ct_pin(t, v >> 1);
	CT_STAT_INC(t, hits);
	p->conn = c;
	p->dir = v & 1;
	return c;
}

struct ct_conn *
ct_create6(struct ct_table *t, struct ct_pkt *p, const struct ct_addr6 *a, ct_time_t now,
	   enum ct_reason *why)
{
	struct ct_tuple reply;
	struct ct_conn *c;

	if (t->addr6 == NULL) {
		CT_STAT_INC(t, refused);
		ct_reason_inc(t, CT_R_HASH_FULL);
		if (why != NULL)
			*why = CT_R_HASH_FULL;
		return NULL;
	}
	ct_ip6_fold(t, p, a);
	reply = ct_tuple_invert(&p->tuple);
	c = ct_create(t, &p->tuple, &reply, now, why);
	if (c == NULL)
		return NULL;
	ct_write_begin(c);
	t->addr6[ct_conn_idx(t, c)] = *a;
	ct_write_end(c);
	p->conn = c;
	p->dir = CT_DIR_ORIG;
	return c;
}

bool
ct_conn_addr6(const struct ct_table *t, const struct ct_conn *c, enum ct_dir d,
	      struct ct_addr6 *out)
{
	const struct ct_addr6 *e;

	if (t->addr6 == NULL || c->tuple[CT_DIR_ORIG].family != CT_FAMILY_IPV6)
		return false;
	e = &t->addr6[ct_conn_idx(t, c)];
	if (d == CT_DIR_ORIG) {
		*out = *e;
	} else {
		memcpy(out->src, e->dst, 16);
		memcpy(out->dst, e->src, 16);
	}
	return true;
}
