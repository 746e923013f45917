/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * helper.c - the helper registry and what every helper shares: configuration (which
 * helper watches which server port, RFC 4787 REQ-10/10a, RFC 5382 REQ-6), the per-worker
 * context, per-connection helper records, the conntrack destroy hook, and the generic
 * handling of what a parser found:
 *
 *  - the sender of the payload is NATed (its address differs from what the peer sees):
 *    the text must name the sender's own address (else no expectation: a client must not
 *    open holes towards other hosts, as netfilter refuses); an outside port is reserved in
 *    this worker's NAT slice, the text is rewritten to outside-address:reserved-port, and
 *    the peer's connection to that port is expected, DNATed to the announced endpoint;
 *  - the sender is not NATed (an outside FTP server's PASV reply): nothing is rewritten;
 *    the inside peer's outbound connection to the announced endpoint is expected, to be
 *    NATed as usual and marked RELATED;
 *  - a hole towards an inside host's port below 1024 is refused unless configured (NAT
 *    slipstreaming), and so is any announcement not at a line start (FTP; stricter on
 *    ports other than the helper's well-known one).
 *
 * Rewrites splice the payload in place (growing into the buffer's tailroom, never past
 * it or the MTU), update the IPv4 total length and all checksums incrementally, and keep
 * the last rewrite per direction so a retransmission is rewritten identically.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "helper_private.h"

/* ---- registry ---- */

static const struct helper_ops *const registry[HELPER_MAX] = {
	[HELPER_FTP] = &helper_ftp_ops,
	[HELPER_TFTP] = &helper_tftp_ops,
	[HELPER_IRC] = &helper_irc_ops,
};

static const struct {
	const char *name;
	uint8_t proto;
	uint16_t port;
} helper_defs[HELPER_MAX] = {
	[HELPER_NONE] = { "none", 0, 0 },
#define HELPER_DEF(n, s, pr, po) [HELPER_##n] = { s, pr, po },
	HELPER_FOREACH(HELPER_DEF)
#undef HELPER_DEF
};

const struct helper_ops *
helper_ops_of(enum helper_id h)
{
	return (unsigned int)h < HELPER_MAX ? registry[h] : NULL;
}

const char *
helper_name(enum helper_id h)
{
	return (unsigned int)h < HELPER_MAX ? helper_defs[h].name : NULL;
}

static const char *const counter_str[HELPER_C_MAX] = {
#define HELPER_C_STR(n, s) [HELPER_C_##n] = s,
	HELPER_FOREACH_COUNTER(HELPER_C_STR)
#undef HELPER_C_STR
};

static const char *const counter_id[HELPER_C_MAX] = {
#define HELPER_C_ID(n, s) [HELPER_C_##n] = #n,
	HELPER_FOREACH_COUNTER(HELPER_C_ID)
#undef HELPER_C_ID
};

const char *
helper_counter_str(enum helper_counter c)
{
	return (unsigned int)c < HELPER_C_MAX ? counter_str[c] : "?";
}

const char *
helper_counter_id(enum helper_counter c)
{
	return (unsigned int)c < HELPER_C_MAX ? counter_id[c] : "?";
}

/* ---- configuration ---- */

void
helper_config_default(struct helper_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	/* RFC 5382 REQ-6: TCP ALGs other than FTP disabled by default; RFC 4787 REQ-10: UDP
	 * ALGs (TFTP) off by default */
	cfg->ports[0].helper = HELPER_FTP;
	cfg->ports[0].port = 21;
	cfg->n_ports = 1;
	cfg->max_expect = 1024;
	cfg->max_expect_per_master = 4;
	cfg->max_conns = 4096;
	cfg->expect_timeout = 300 * CT_USEC_PER_SEC;
	cfg->mtu = 1500;
}

static void
cfg_drop(struct helper_config *cfg, uint8_t h)
{
	unsigned int i, n = 0;

	for (i = 0; i < cfg->n_ports; i++)
		if (cfg->ports[i].helper != h)
			cfg->ports[n++] = cfg->ports[i];
	cfg->n_ports = n;
}

int
helper_config_set(struct helper_config *cfg, const char *name, const char *value, char *msg,
		  size_t msglen)
{
	unsigned int h;
	const char *s = value;

	for (h = 1; h < HELPER_MAX; h++)
		if (strcasecmp(name, helper_defs[h].name) == 0)
			break;
	if (h == HELPER_MAX) {
		snprintf(msg, msglen, "unknown helper '%s' (ftp, tftp, irc)", name);
		return -EINVAL;
	}
	cfg_drop(cfg, (uint8_t)h);
	if (strcasecmp(value, "off") == 0 || strcasecmp(value, "no") == 0 ||
	    strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
		return 0;
	if (strcasecmp(value, "on") == 0 || strcasecmp(value, "yes") == 0 ||
	    strcasecmp(value, "true") == 0)
		s = NULL;
	for (;;) {
		unsigned long port = helper_defs[h].port;
		char *end;

		if (s != NULL) {
			while (*s == ' ' || *s == '\t')
				s++;
			port = strtoul(s, &end, 10);
			if (end == s || port == 0 || port > 65535) {
				snprintf(msg, msglen, "%s: bad port in '%s'", name, value);
				return -EINVAL;
			}
			s = end;
			while (*s == ' ' || *s == '\t')
				s++;
		}
		if (cfg->n_ports >= HELPER_MAX_PORTS) {
			snprintf(msg, msglen, "%s: more than %d helper ports", name,
				 HELPER_MAX_PORTS);
			return -EINVAL;
		}
		cfg->ports[cfg->n_ports].helper = (uint8_t)h;
		cfg->ports[cfg->n_ports].port = (uint16_t)port;
		cfg->n_ports++;
		if (s == NULL || *s == '\0')
			return 0;
		if (*s != ',') {
			snprintf(msg, msglen, "%s: bad port list '%s'", name, value);
			return -EINVAL;
		}
		s++;
	}
}

enum helper_id
helper_config_lookup(const struct helper_config *cfg, uint8_t proto, uint16_t port)
{
	unsigned int i;

	for (i = 0; i < cfg->n_ports; i++)
		if (cfg->ports[i].port == port && helper_defs[cfg->ports[i].helper].proto == proto)
			return (enum helper_id)cfg->ports[i].helper;
	return HELPER_NONE;
}

/* ---- connection records ---- */

static bool dir_is_inside(const struct ct_conn *c, uint8_t dir);

struct helper_conn *
helper_conn_rec(const struct helper_ctx *hc, const struct ct_conn *c)
{
	uint32_t v = ct_conn_user(c, CT_USER_HELPER);

	return v == 0 || v > hc->conn_cap ? NULL : &hc->conns[v - 1];
}

static void
rl_unlink(struct helper_ctx *hc, struct helper_conn *r)
{
	if (r->rprev == HELPER_RL_OFF)
		return;
	if (r->rprev != HELPER_NIL)
		hc->conns[r->rprev].rnext = r->rnext;
	else
		hc->rl_head = r->rnext;
	if (r->rnext != HELPER_NIL)
		hc->conns[r->rnext].rprev = r->rprev;
	else
		hc->rl_tail = r->rprev;
	r->rprev = r->rnext = HELPER_RL_OFF;
}

/* records looked at per record wanted when none is free */
#define HELPER_EVICT_SEARCH 8

/*
 * No record free: as netfilter's early_drop makes room in a full table, push out the
 * oldest connection holding a record that is not ASSURED (a bare SYN to port 21 that was
 * never answered must not keep the helper from everybody else for the SYN timeout).
 * Records of connections seen ASSURED leave the candidate list for good, so the search is
 * amortised O(1) and bounded. Connections handed out in this burst are never chosen
 * (ct_evict_conn). The destroy callback frees the victim's record.
 */
static bool
rec_make_room(struct helper_ctx *hc)
{
	unsigned int left = HELPER_EVICT_SEARCH;
	uint32_t i = hc->rl_head;

	while (i != HELPER_NIL && left-- > 0) {
		struct helper_conn *r = &hc->conns[i];
		struct ct_conn *c = ct_conn_by_id(hc->ct, r->conn_id);
		uint32_t next = r->rnext;

		if (c == NULL || (ct_conn_status(c) & CT_ST_ASSURED)) {
			rl_unlink(hc, r);
		} else if (ct_evict_conn(hc->ct, c, hc->now)) {
			HELPER_COUNT(hc, RECORD_EVICTED);
			return hc->conn_free != HELPER_NIL;
		}
		i = next;
	}
	return false;
}

struct helper_conn *
helper_conn_new_rec(struct helper_ctx *hc, struct ct_conn *c, uint8_t h)
{
	uint32_t i = hc->conn_free;
	struct helper_conn *r;

	if (i == HELPER_NIL && rec_make_room(hc))
		i = hc->conn_free;
	if (i == HELPER_NIL)
		return NULL;
	r = &hc->conns[i];
	hc->conn_free = r->next_free;
	memset(r, 0, sizeof(*r));
	r->helper = h;
	r->exp_head = r->exp_tail = HELPER_NIL;
	r->next_free = HELPER_NIL;
	r->conn_id = ct_conn_id(hc->ct, c);
	r->rnext = HELPER_NIL;
	r->rprev = hc->rl_tail;
	if (hc->rl_tail != HELPER_NIL)
		hc->conns[hc->rl_tail].rnext = i;
	else
		hc->rl_head = i;
	hc->rl_tail = i;
	ct_conn_set_user(c, CT_USER_HELPER, i + 1);
	return r;
}

static void
conn_rec_free(struct helper_ctx *hc, struct helper_conn *r)
{
	uint32_t i = (uint32_t)(r - hc->conns);

	rl_unlink(hc, r);
	if (r->rec_host != 0)
		nat_host_put(hc->nc, r->rec_host, NAT_HR_HELPER);
	memset(r, 0, sizeof(*r));
	r->rprev = r->rnext = HELPER_RL_OFF;
	r->next_free = hc->conn_free;
	hc->conn_free = i;
}

/* conntrack destroy callback (slot CT_CB_HELPER): a master's expectations go with it, a
 * data connection gives its reserved outside port back */
static void
helper_conn_destroyed(struct ct_table *t, struct ct_conn *c, void *arg)
{
	struct helper_ctx *hc = arg;
	struct helper_conn *r = helper_conn_rec(hc, c);

	RTE_SET_USED(t);
	if (r == NULL)
		return;
	helper_expect_master_gone(hc, r);
	if (r->flags & HC_F_RESV)
		nat_port_reserved_put_host(hc->nc, r->resv_host, r->resv_proto, r->resv_addr,
					   r->resv_port);
	ct_conn_set_user(c, CT_USER_HELPER, 0);
	conn_rec_free(hc, r);
}

enum helper_id
helper_conn_attach(struct helper_ctx *hc, struct ct_conn *c)
{
	/* the server's own port: the reply tuple's source (netfilter finds the helper by the
	 * reply tuple too), which a port forward has translated to its inside port; for an
	 * outbound connection it is the original destination port */
	const struct ct_tuple *r = ct_conn_tuple(c, CT_DIR_REPLY);
	uint16_t port = rte_be_to_cpu_16(r->sport);
	enum helper_id h = helper_config_lookup(&hc->cfg, r->proto, port);
	struct helper_conn *rec;

	uint32_t host;

	if (h == HELPER_NONE || helper_conn_rec(hc, c) != NULL)
		return HELPER_NONE;
	/* one host must not take every record (a quarter by default): counted for the
	 * connection's inside end */
	host = dir_is_inside(c, CT_DIR_REPLY) ? r->src : ct_conn_tuple(c, CT_DIR_ORIG)->src;
	if (nat_host_take(hc->nc, host, NAT_HR_HELPER, hc->lim_conns_host) != 0) {
		HELPER_COUNT(hc, HOST_RECORD_LIMIT);
		return HELPER_NONE;
	}
	rec = helper_conn_new_rec(hc, c, (uint8_t)h);
	if (rec == NULL) {
		nat_host_put(hc->nc, host, NAT_HR_HELPER);
		HELPER_COUNT(hc, NO_RECORD);
		return HELPER_NONE;
	}
	rec->rec_host = host;
	if (port != helper_defs[h].port)
		rec->flags |= HC_F_STRICT;
	ct_conn_set_status(c, CT_ST_HELPER);
	HELPER_COUNT(hc, ATTACHED);
	return h;
}

enum helper_id
helper_conn_helper(const struct helper_ctx *hc, const struct ct_conn *c)
{
	const struct helper_conn *r = helper_conn_rec(hc, c);

	return r != NULL ? (enum helper_id)r->helper : HELPER_NONE;
}

/* ---- context ---- */

static void *
zalloc(bool heap, size_t sz)
{
	return heap ? calloc(1, sz) : rte_zmalloc("helper", sz, 0);
}

static void
zfree(bool heap, void *p)
{
	if (heap)
		free(p);
	else
		rte_free(p);
}

struct helper_ctx *
helper_ctx_create(const struct helper_config *cfg, struct ct_table *ct, struct nat_ctx *nc,
		  bool use_heap)
{
	struct helper_ctx *hc;
	uint32_t i;

	if (cfg == NULL || ct == NULL || nc == NULL || cfg->max_expect == 0 ||
	    cfg->max_conns == 0 || cfg->expect_timeout == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	hc = zalloc(use_heap, sizeof(*hc));
	if (hc == NULL)
		goto nomem;
	hc->cfg = *cfg;
	if (hc->cfg.mtu == 0)
		hc->cfg.mtu = 1500;
	if (hc->cfg.max_expect_per_master == 0)
		hc->cfg.max_expect_per_master = 1;
	/* per-host shares, a quarter by default as NAT's per-host limits (nat_host.c) */
	hc->lim_expect_host = cfg->max_expect_per_host != HELPER_LIMIT_AUTO ?
			      cfg->max_expect_per_host : RTE_MAX(cfg->max_expect / 4, 1u);
	hc->lim_conns_host = cfg->max_conns_per_host != HELPER_LIMIT_AUTO ?
			     cfg->max_conns_per_host : RTE_MAX(cfg->max_conns / 4, 1u);
	hc->rl_head = hc->rl_tail = HELPER_NIL;
	hc->ct = ct;
	hc->nc = nc;
	hc->use_heap = use_heap;
	hc->conn_cap = cfg->max_conns;
	hc->conns = zalloc(use_heap, (size_t)hc->conn_cap * sizeof(*hc->conns));
	if (hc->conns == NULL || helper_expect_init(hc) != 0)
		goto fail;
	for (i = 0; i < hc->conn_cap; i++) {
		hc->conns[i].next_free = i + 1 < hc->conn_cap ? i + 1 : HELPER_NIL;
		hc->conns[i].rprev = hc->conns[i].rnext = HELPER_RL_OFF;
	}
	hc->conn_free = 0;
	ct_set_destroy_cb_slot(ct, CT_CB_HELPER, helper_conn_destroyed, hc);
	hc->cb_set = true;
	return hc;

fail:
	helper_ctx_free(hc);
nomem:
	rte_errno = ENOMEM;
	return NULL;
}

void
helper_ctx_set_config(struct helper_ctx *hc, const struct helper_config *cfg)
{
	memcpy(hc->cfg.ports, cfg->ports, sizeof(hc->cfg.ports));
	hc->cfg.n_ports = cfg->n_ports;
	hc->cfg.allow_priv_ports = cfg->allow_priv_ports;
	if (cfg->expect_timeout != 0)
		hc->cfg.expect_timeout = cfg->expect_timeout;
	hc->cfg.max_expect_per_master = cfg->max_expect_per_master != 0 ?
					cfg->max_expect_per_master : 1;
	hc->cfg.max_expect_per_host = cfg->max_expect_per_host;
	hc->cfg.max_conns_per_host = cfg->max_conns_per_host;
	hc->lim_expect_host = cfg->max_expect_per_host != HELPER_LIMIT_AUTO ?
			      cfg->max_expect_per_host : RTE_MAX(hc->cfg.max_expect / 4, 1u);
	hc->lim_conns_host = cfg->max_conns_per_host != HELPER_LIMIT_AUTO ?
			     cfg->max_conns_per_host : RTE_MAX(hc->cfg.max_conns / 4, 1u);
}

void
helper_ctx_free(struct helper_ctx *hc)
{
	uint32_t i;

	if (hc == NULL)
		return;
	if (hc->cb_set) {
		ct_set_destroy_cb_slot(hc->ct, CT_CB_HELPER, NULL, NULL);
		/* reserved ports back to NAT: pending expectations, then data connections */
		while (hc->fifo_head != HELPER_NIL)
			helper_expect_expire(hc, UINT64_MAX, 1);
		for (i = 0; i < hc->conn_cap; i++)
			if (hc->conns[i].flags & HC_F_RESV)
				nat_port_reserved_put_host(hc->nc, hc->conns[i].resv_host,
							   hc->conns[i].resv_proto,
							   hc->conns[i].resv_addr,
							   hc->conns[i].resv_port);
	}
	if (hc->exps != NULL)
		helper_expect_fini(hc);
	zfree(hc->use_heap, hc->conns);
	zfree(hc->use_heap, hc);
}

void
helper_stats_get(const struct helper_ctx *hc, struct helper_stats *out)
{
	const uint64_t *src = (const uint64_t *)&hc->stats;
	uint64_t *dst = (uint64_t *)out;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* ---- checksums ---- */

uint16_t
helper_sum(const uint8_t *p, uint32_t n, bool odd)
{
	uint64_t s = 0;
	uint32_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	/* data starting at an odd offset sits in the other byte of every 16-bit word: the
	 * one's complement sum of byte-swapped words is the byte-swapped sum */
	if (odd)
		s = ((s & 0xff) << 8) | (s >> 8);
	return (uint16_t)s;
}

uint16_t
helper_csum_replace(uint16_t csum, uint16_t old_sum, uint16_t new_sum)
{
	/* the checksum field is stored in network order; sums are host-order words */
	uint16_t h = rte_be_to_cpu_16(csum);

	return rte_cpu_to_be_16(nat_csum_update16(h, old_sum, new_sum));
}

static inline void
rd16_be(const uint8_t *p, uint16_t *v)
{
	*v = (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
wr16_be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * Replace `old_len` payload bytes at payload offset `off` by `text`/`new_len`: the bytes
 * after move, the IPv4 total length (and UDP length) follow, and the IPv4 and L4
 * checksums are updated incrementally over the changed tail and the pseudo-header length.
 * Frame padding past the IPv4 datagram is dropped. Returns the length change, or
 * INT32_MIN when the result would not fit buf_cap or the MTU (nothing written).
 */
static int32_t
splice_payload(struct helper_ctx *hc, struct ct_pkt *p, uint8_t *buf, uint32_t *frame_len,
	       uint32_t buf_cap, uint16_t off, uint16_t old_len, const char *text,
	       uint16_t new_len)
{
	int32_t delta = (int32_t)new_len - (int32_t)old_len;
	uint32_t ip_end = p->l3_off + p->ip_len, start = p->payload_off + off;
	uint32_t new_ip_len = (uint32_t)((int32_t)p->ip_len + delta);
	uint32_t new_end = p->l3_off + new_ip_len;
	bool tcp = p->tuple.proto == IPPROTO_TCP, odd = ((start - p->l4_off) & 1) != 0;
	uint8_t *l4 = buf + p->l4_off, *ip = buf + p->l3_off;
	uint8_t *csum_p = l4 + (tcp ? 16 : 6);
	uint16_t csum, old_sum, new_sum, v;
	bool have_csum;

	if (new_ip_len > hc->cfg.mtu || new_end > buf_cap || start + old_len > ip_end)
		return INT32_MIN;
	memcpy(&csum, csum_p, 2);
	have_csum = tcp || csum != 0;	/* UDP checksum 0: none, stays none */
	old_sum = helper_sum(buf + start, ip_end - start, odd);
	memmove(buf + start + new_len, buf + start + old_len, ip_end - start - old_len);
	memcpy(buf + start, text, new_len);
	new_sum = helper_sum(buf + start, new_end - start, odd);
	if (have_csum) {
		uint16_t ol = (uint16_t)p->l4_len, nl = (uint16_t)(p->l4_len + delta);

		csum = helper_csum_replace(csum, old_sum, new_sum);
		csum = helper_csum_replace(csum, ol, nl);	/* pseudo-header length */
		if (!tcp)
			csum = helper_csum_replace(csum, ol, nl);	/* the UDP length field */
		memcpy(csum_p, &csum, 2);
	}
	if (!tcp)
		wr16_be(l4 + 4, (uint16_t)(p->l4_len + delta));
	/* IPv4 total length and header checksum */
	rd16_be(ip + 2, &v);
	memcpy(&csum, ip + 10, 2);
	csum = helper_csum_replace(csum, v, (uint16_t)new_ip_len);
	memcpy(ip + 10, &csum, 2);
	wr16_be(ip + 2, (uint16_t)new_ip_len);
	p->ip_len = (uint16_t)new_ip_len;
	p->l4_len = (uint16_t)(p->l4_len + delta);
	p->payload_len = (uint16_t)(p->payload_len + delta);
	*frame_len = new_end;
	return delta;
}

/* ---- what a parser found ---- */

int
helper_format(const struct helper_match *m, uint32_t addr, uint16_t port, char *out, size_t cap)
{
	unsigned int h;

	/* the helper whose parser produces this kind formats it */
	switch (m->kind) {
	case HELPER_K_PORT:
	case HELPER_K_EPRT:
	case HELPER_K_PASV:
	case HELPER_K_EPSV:
		h = HELPER_FTP;
		break;
	case HELPER_K_DCC_SEND:
	case HELPER_K_DCC_CHAT:
		h = HELPER_IRC;
		break;
	default:
		return -1;
	}
	return registry[h]->format(m, addr, port, out, cap);
}

static inline uint32_t
rd32_be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* is the endpoint of direction `dir` the inside one? (SNAT: the original side; a port
 * forward's DNAT only: the reply side) */
static bool
dir_is_inside(const struct ct_conn *c, uint8_t dir)
{
	uint16_t st = ct_conn_status(c);

	if (st & CT_ST_SNAT)
		return dir == CT_DIR_ORIG;
	if (st & CT_ST_DNAT)
		return dir == CT_DIR_REPLY;
	return false;
}

struct pkt_env {
	struct ct_pkt *p;
	uint8_t *buf;
	uint32_t *frame_len;
	uint32_t buf_cap;
	uint32_t seq;		/* original seq (TCP) */
	ct_time_t now;
};

/* what this direction's segment at pe->seq became (text, or the original text when the
 * rewrite was refused): a retransmission of it must become the same, or the peer's and
 * our idea of the stream part ways (TCP keeps the first copy it received) */
static void
remember(struct helper_conn *hr, const struct pkt_env *pe, const struct helper_match *m,
	 const char *text, int n)
{
	uint8_t d = pe->p->dir;
	struct helper_last *l = &hr->last[d];

	if (pe->p->tuple.proto != IPPROTO_TCP || n < 0 || n > HELPER_TEXT_MAX)
		return;
	l->seq = pe->seq;
	l->kind = m->kind;
	l->addr = m->addr;
	l->port = m->port;
	l->off = m->off;
	l->old_len = m->len;
	l->new_len = (uint8_t)n;
	memcpy(l->text, text, (size_t)n);
	hr->flags |= d == 0 ? HC_F_LAST0 : HC_F_LAST1;
}

/* refused after parsing (no port, no room): the segment goes out as it came, and so will
 * its retransmissions */
static void
remember_unchanged(struct helper_conn *hr, const struct pkt_env *pe,
		   const struct helper_match *m)
{
	remember(hr, pe, m, (const char *)pe->buf + pe->p->payload_off + m->off, m->len);
}

static void
handle_match(struct helper_ctx *hc, struct helper_conn *hr, const struct helper_ops *ops,
	     struct pkt_env *pe, const struct helper_match *m)
{
	struct ct_conn *c = pe->p->conn;
	uint8_t d = pe->p->dir;
	const struct ct_tuple *td = ct_conn_tuple(c, (enum ct_dir)d);
	const struct ct_tuple *tr = ct_conn_tuple(c, (enum ct_dir)(d ^ 1));
	uint32_t sender = td->src, xaddr = tr->dst, peer = tr->src;
	bool natted = sender != xaddr;
	struct helper_expect_spec s;
	char text[HELPER_TEXT_MAX];
	int n, rport;
	int32_t delta;

	/* EPSV and TFTP name no address; every other form must name the sender's own */
	if (m->kind != HELPER_K_EPSV && m->kind != HELPER_K_TFTP && m->addr != sender) {
		HELPER_COUNT(hc, ADDR_MISMATCH);
		return;
	}
	/* A hole towards an inside host's privileged port (PORT/EPRT, a forwarded server's
	 * 227/229, DCC): refused unless allowed. NAT slipstreaming (Kamkar 2020) makes a
	 * browser send such text to any server, which would open e.g. the host's port 22 to
	 * the world. (netfilter refuses only port 0, in DCC: a deliberate difference.) The
	 * text goes unchanged (and so do its retransmissions). TFTP announces no port. */
	if (natted && m->kind != HELPER_K_TFTP && m->port < 1024 && !hc->cfg.allow_priv_ports) {
		HELPER_COUNT(hc, PRIV_PORT);
		remember_unchanged(hr, pe, m);
		return;
	}
	/* the host at its expectation limit, with none of this master's to replace: refused
	 * before anything is reserved or rewritten (helper_expect_add counts the same) */
	if (nat_host_count(hc->nc, natted ? sender : peer, NAT_HR_EXPECT) >=
	    hc->lim_expect_host && hr->n_expect < hc->cfg.max_expect_per_master) {
		HELPER_COUNT(hc, EXPECT_HOST_LIMIT);
		remember_unchanged(hr, pe, m);
		return;
	}
	memset(&s, 0, sizeof(s));
	s.tuple.proto = td->proto;
	s.tuple.family = CT_FAMILY_IPV4;
	s.tuple.src = peer;
	s.wild = ops->exp_wild | HELPER_EXP_ANY_SPORT;
	s.helper = hr->helper;
	if (!natted) {
		/* the inside peer will connect out to the announced endpoint */
		if (!dir_is_inside(c, d ^ 1)) {
			HELPER_COUNT(hc, PEER_NOT_INSIDE);
			return;
		}
		s.nat = HELPER_EXP_NAT_OUT;
		s.tuple.dst = sender;
		s.tuple.dport = m->kind == HELPER_K_TFTP ? td->sport : rte_cpu_to_be_16(m->port);
		helper_expect_add(hc, c, &s, pe->now);
		return;
	}
	s.nat = HELPER_EXP_DNAT;
	s.tuple.dst = xaddr;
	s.to_addr = sender;
	if (m->kind == HELPER_K_TFTP) {
		/* the server answers from a new port to the client's translated endpoint,
		 * which the master's mapping holds: nothing to reserve or rewrite */
		s.tuple.dport = tr->dport;
		s.to_port = td->sport;
		helper_expect_add(hc, c, &s, pe->now);
		return;
	}
	/* charged to the announcing host (RFC 6888 REQ-4): a control connection must not
	 * take more outside ports than the host's own mappings may */
	rport = nat_port_reserve_host(hc->nc, sender, td->proto, xaddr, m->port);
	if (rport < 0) {
		if (rport == -2)
			HELPER_COUNT(hc, HOST_PORTS_LIMIT);
		else
			HELPER_COUNT(hc, NO_PORT);
		remember_unchanged(hr, pe, m);
		return;
	}
	n = ops->format != NULL ? ops->format(m, xaddr, (uint16_t)rport, text, sizeof(text)) : -1;
	delta = n < 0 ? INT32_MIN : splice_payload(hc, pe->p, pe->buf, pe->frame_len,
						    pe->buf_cap, m->off, m->len, text,
						    (uint16_t)n);
	if (delta == INT32_MIN) {
		nat_port_reserved_put_host(hc->nc, sender, td->proto, xaddr, (uint16_t)rport);
		HELPER_COUNT(hc, NO_ROOM);
		remember_unchanged(hr, pe, m);
		return;
	}
	HELPER_COUNT(hc, REWRITTEN);
	remember(hr, pe, m, text, n);
	if (td->proto == IPPROTO_TCP) {
		if (delta != 0) {
			helper_seqadj_record(hr, d, pe->seq, delta);
			ct_conn_set_status(c, CT_ST_SEQ_ADJUST);
			HELPER_COUNT(hc, LEN_CHANGED);
		}
	}
	s.tuple.dport = rte_cpu_to_be_16((uint16_t)rport);
	s.to_port = rte_cpu_to_be_16(m->port);
	s.resv_port = (uint16_t)rport;
	helper_expect_add(hc, c, &s, pe->now);
}

/* the retransmission of a segment handled before: the same text again, no new
 * expectation, no second sequence change. 0: not one; 1: done; -1: it no longer fits
 * (less tailroom this time): it must be dropped, as sending it unchanged would break the
 * sequence adjustment already made. */
static int
redo_last(struct helper_ctx *hc, struct helper_conn *hr, struct pkt_env *pe,
	  const struct helper_match *m)
{
	uint8_t d = pe->p->dir;
	const struct helper_last *l = &hr->last[d];

	if (!(hr->flags & (d == 0 ? HC_F_LAST0 : HC_F_LAST1)) || l->seq != pe->seq ||
	    l->kind != m->kind || l->addr != m->addr || l->port != m->port ||
	    l->off != m->off || l->old_len != m->len)
		return 0;
	if (splice_payload(hc, pe->p, pe->buf, pe->frame_len, pe->buf_cap, m->off, m->len,
			   l->text, l->new_len) == INT32_MIN) {
		HELPER_COUNT(hc, NO_ROOM);
		return -1;
	}
	HELPER_COUNT(hc, RETRANSMIT);
	return 1;
}

/* remember where the next line starts (original seq space), keeping the one before for
 * retransmissions (netfilter's FTP helper remembers two as well). On a strict (non
 * well-known) port only a CRLF ends a line (RFC 959 section 4.1: <CRLF>); the CR must be in
 * the same segment. */
static void
note_line_end(struct helper_conn *hr, uint8_t d, uint32_t seq, uint32_t len,
	      const uint8_t last2[2])
{
	uint32_t nl;

	if (len == 0 || last2[1] != '\n')
		return;
	if ((hr->flags & HC_F_STRICT) && (len < 2 || last2[0] != '\r'))
		return;
	nl = seq + len;
	if ((hr->flags & (d == 0 ? HC_F_NL_VALID0 : HC_F_NL_VALID1)) && nl == hr->nl_seq[d])
		return;
	hr->nl_seq_prev[d] = hr->nl_seq[d];
	hr->nl_seq[d] = nl;
	hr->flags |= d == 0 ? HC_F_NL_VALID0 : HC_F_NL_VALID1;
}

static enum helper_verdict
handle_payload(struct helper_ctx *hc, struct helper_conn *hr, const struct helper_ops *ops,
	       struct pkt_env *pe)
{
	struct ct_pkt *p = pe->p;
	uint8_t d = p->dir;
	uint32_t len = p->payload_len;
	const uint8_t *data = pe->buf + p->payload_off;
	struct helper_match m;
	bool tcp = p->tuple.proto == IPPROTO_TCP, strict = (hr->flags & HC_F_STRICT) != 0;
	bool at_line = true;
	uint8_t last2[2] = { len >= 2 ? data[len - 2] : 0, data[len - 1] };
	int r;

	if (ops->line_based && tcp) {
		bool valid = (hr->flags & (d == 0 ? HC_F_NL_VALID0 : HC_F_NL_VALID1)) != 0;
		bool redo = (hr->flags & (d == 0 ? HC_F_LAST0 : HC_F_LAST1)) &&
			    pe->seq == hr->last[d].seq;

		/* a line start: the stream start or right after a line end; the one before
		 * too (retransmissions), except on a strict port */
		at_line = valid && (pe->seq == hr->nl_seq[d] ||
				    (!strict && pe->seq == hr->nl_seq_prev[d]));
		if (!redo && !at_line) {
			HELPER_COUNT(hc, NOT_LINE_START);
			note_line_end(hr, d, pe->seq, len, last2);
			return HELPER_ACCEPT;
		}
	}
	memset(&m, 0, sizeof(m));
	r = ops->parse(data, len, d, &m);
	if (r == HELPER_P_PARTIAL && tcp) {
		if (ops->drop_partial) {
			/* never half-rewrite: drop it so the sender retransmits, hopefully whole */
			HELPER_COUNT(hc, PARTIAL_DROP);
			return HELPER_DROP;
		}
		/* not line based (IRC): the same bytes may come again, cut the same way; a
		 * drop would stall the connection for good */
		HELPER_COUNT(hc, PARTIAL_PASSED);
	}
	if (r == HELPER_P_MALFORMED)
		HELPER_COUNT(hc, MALFORMED);
	if (r == HELPER_P_FOUND) {
		int redo = tcp ? redo_last(hc, hr, pe, &m) : 0;

		HELPER_COUNT(hc, PARSED);
		if (redo < 0)
			return HELPER_DROP;
		/* the position of an earlier rewrite with other text is a line start only
		 * if it is the latest one (strict ports) */
		if (redo == 0 && !at_line && strict)
			HELPER_COUNT(hc, NOT_LINE_START);
		else if (redo == 0)
			handle_match(hc, hr, ops, pe, &m);
	}
	/* line bookkeeping in the original space: the bytes before any rewrite */
	if (tcp)
		note_line_end(hr, d, pe->seq, len, last2);
	return HELPER_ACCEPT;
}

void
helper_pre_ct(struct helper_ctx *hc, const struct ct_pkt *p, uint8_t *buf)
{
	struct helper_conn *hr;

	if (p->tuple.proto != IPPROTO_TCP || p->is_icmp_error || p->conn == NULL)
		return;
	hr = helper_conn_rec(hc, p->conn);
	if (hr != NULL && helper_seqadj_ack_in(hr, p, buf))
		HELPER_COUNT(hc, SEQ_ADJUSTED);
}

enum helper_verdict
helper_post_ct(struct helper_ctx *hc, struct ct_pkt *p, uint8_t *buf, uint32_t *frame_len,
	       uint32_t buf_cap, ct_time_t now)
{
	struct helper_conn *hr;
	const struct helper_ops *ops;
	enum helper_verdict v = HELPER_ACCEPT;
	struct pkt_env pe = {
		.p = p, .buf = buf, .frame_len = frame_len, .buf_cap = buf_cap, .now = now,
	};
	bool tcp = p->tuple.proto == IPPROTO_TCP;

	if (p->conn == NULL || p->is_icmp_error || p->is_fragment)
		return HELPER_ACCEPT;
	hr = helper_conn_rec(hc, p->conn);
	if (hr == NULL)
		return HELPER_ACCEPT;
	ops = helper_ops_of((enum helper_id)hr->helper);
	if (tcp) {
		helper_seqadj_resync(hr, p);
		pe.seq = rd32_be(buf + p->l4_off + 4);
		if (p->tcp_flags & 0x02) {	/* SYN: the first line starts after it */
			hr->nl_seq[p->dir] = pe.seq + 1;
			hr->nl_seq_prev[p->dir] = pe.seq + 1;
			hr->flags |= p->dir == 0 ? HC_F_NL_VALID0 : HC_F_NL_VALID1;
		}
	}
	hc->now = now;
	if (ops != NULL && p->payload_len > 0 && ops->proto == p->tuple.proto)
		v = handle_payload(hc, hr, ops, &pe);
	if (v == HELPER_ACCEPT && tcp && helper_seqadj_seq_out(hr, p, buf))
		HELPER_COUNT(hc, SEQ_ADJUSTED);
	return v;
}
