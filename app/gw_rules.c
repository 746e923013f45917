/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_rules.c - the ruleset in the gateway ([filter] rules, lib/ruleset/rs.h): which ruleset
 * each worker uses and when the old one may be freed (a serial number every worker
 * acknowledges between bursts, RCU-style), the verdict cache in the connection's
 * CT_ST_RS_* status bits (and the sweep that clears it after a reload), the match context
 * of a packet, the reject packets (TCP RST as nf_reject_ipv4 builds it, RFC 9293 3.10.7.1;
 * ICMP through gw_icmp_error), the log records queued per worker for the main lcore, and
 * the telemetry command /natgw/rules.
 *
 * Where the chains run (docs/config.md "Ruleset"):
 *  - forward: in gw_hit after conntrack (state and status known), after the TTL and DF
 *    checks and before NAT, as netfilter's FORWARD hook sits after ip_forward's checks;
 *    addresses are those of the FORWARD hook: the source as sent, the destination after
 *    DNAT (a packet of direction d goes from tuple[d].src to tuple[!d].src).
 *    INVALID packets (ct_update, or a first packet conntrack refuses) also run it, for
 *    log, counter and reject, and are dropped whatever it says: natgw cannot translate them.
 *  - input: packets to the gateway's own addresses (echo requests, anything else to them).
 *  - notrack rules: before conntrack, where [untracked] rules are matched.
 *  - IPv6 (gw_ip6.c): the forward chain on routed IPv6 flows after conntrack, with the same
 *    cache; the input chain on ICMPv6 echo to our addresses. The context carries the family
 *    and the 16-byte addresses (ip saddr matches IPv4 only, ip6 saddr IPv6 only, as in an
 *    nft inet table); rejects are ICMPv6 destination unreachable (RFC 4443 3.1) or a TCP
 *    RST over IPv6.
 *
 * Cost: a connection's direction is evaluated on its first packet and again when the rules
 * could see a change (SEEN_REPLY or ASSURED flips: NEW -> ESTABLISHED, assured), or after
 * a reload; in between a packet tests two status bits of the entry it already holds.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_tcp.h>
#include <rte_telemetry.h>

#include "gw_ip6.h"
#include "gw_private.h"
#include "rs.h"

#define GW_RS_LOG_SLOTS		256	/* per worker, power of two */
#define GW_RS_LOG_RATE		100	/* records per second per worker */
#define GW_RS_LOG_BURST		100
#define GW_RS_REJECT_RATE	200	/* rejects per second per worker (RST and ICMP) */
#define GW_RS_REJECT_BURST	50
#define GW_RS_SWEEP_BUDGET	4096	/* entries per housekeeping call after a reload */
#define GW_RS_RETIRED_MAX	16

struct gw_rs_log {
	ct_time_t t;
	uint32_t saddr, daddr;
	uint8_t family;			/* RS_FAMILY_*; IPv6: addresses in saddr6/daddr6 */
	uint8_t saddr6[16], daddr6[16];
	uint16_t sport, dport;
	uint16_t len;
	uint8_t proto, iif, oif, state, verdict, icmp_type;
	char prefix[65];
};

/* per worker: the log queue (single producer: the worker; single consumer: the main lcore)
 * and the token buckets of logs and rejects */
struct gw_rs_worker {
	uint32_t head;			/* written by the worker */
	uint32_t tail;			/* written by the main lcore */
	struct gw_rs_log rec[GW_RS_LOG_SLOTS];
	ct_time_t log_last, rej_last;
	uint64_t log_tokens, rej_tokens;
	uint32_t sweep_pos;
};

/* the control plane's side: current ruleset, the ones replaced and the serial they were
 * replaced at (freed once every worker acknowledged that serial) */
struct gw_rs_ctl {
	pthread_mutex_t lock;		/* install, reclaim, telemetry (control threads only) */
	struct rs_ruleset *cur;
	struct rs_ruleset *retired[GW_RS_RETIRED_MAX];
	uint32_t retired_serial[GW_RS_RETIRED_MAX];
	unsigned int n_retired;
};

static struct gw *gw_rs_tel;	/* the gateway /natgw/rules reports */

/* ---------------------------------------------------------------------------------------
 * Publishing and adoption
 */
int
gw_rules_init(struct gw *g, char *err, size_t errlen)
{
	struct rs_ruleset *rs;
	unsigned int i;

	g->rsc = calloc(1, sizeof(*g->rsc));
	if (g->rsc == NULL) {
		snprintf(err, errlen, "rules: out of memory");
		return -1;
	}
	pthread_mutex_init(&g->rsc->lock, NULL);
	for (i = 0; i < g->n_workers; i++) {
		struct gw_worker *w = g->w[i];

		if (g->use_heap)
			w->rsw = calloc(1, sizeof(*w->rsw));
		else
			w->rsw = rte_zmalloc_socket("gw_rs_worker", sizeof(*w->rsw),
						    RTE_CACHE_LINE_SIZE, SOCKET_ID_ANY);
		if (w->rsw == NULL) {
			snprintf(err, errlen, "rules: out of memory");
			return -1;
		}
		w->rsw_heap = w->rsw != NULL && g->use_heap;
		w->rsw->log_tokens = GW_RS_LOG_BURST;
		w->rsw->rej_tokens = GW_RS_REJECT_BURST;
	}
	if (g->cfg.rules_path[0] == '\0')
		return 0;
	rs = rs_load_file(g->cfg.rules_path, g->n_workers, err, errlen);
	if (rs == NULL)
		return -1;
	return gw_rules_install(g, rs, err, errlen);
}

static void
gw_rs_worker_free(struct gw_worker *w)
{
	if (w->rsw == NULL)
		return;
	if (w->rsw_heap)
		free(w->rsw);
	else
		rte_free(w->rsw);
	w->rsw = NULL;
}

void
gw_rules_free(struct gw *g)
{
	unsigned int i;

	for (i = 0; i < g->n_workers; i++)
		if (g->w[i] != NULL)
			gw_rs_worker_free(g->w[i]);
	if (g->rsc == NULL)
		return;
	if (gw_rs_tel == g)
		gw_rs_tel = NULL;
	rs_free(g->rsc->cur);
	for (i = 0; i < g->rsc->n_retired; i++)
		rs_free(g->rsc->retired[i]);
	pthread_mutex_destroy(&g->rsc->lock);
	free(g->rsc);
	g->rsc = NULL;
}

int
gw_rules_install(struct gw *g, struct rs_ruleset *rs, char *err, size_t errlen)
{
	struct gw_rs_ctl *x = g->rsc;
	uint32_t serial;

	if (rs != NULL && rs_n_workers(rs) < g->n_workers) {
		snprintf(err, errlen, "rules: compiled for %u workers, the gateway has %u",
			 rs_n_workers(rs), g->n_workers);
		rs_free(rs);
		return -1;
	}
	pthread_mutex_lock(&x->lock);
	gw_rules_reclaim_locked(g);
	if (x->cur != NULL && x->n_retired == GW_RS_RETIRED_MAX) {
		pthread_mutex_unlock(&x->lock);
		snprintf(err, errlen, "rules: %u reloads still in use by a worker; try again",
			 GW_RS_RETIRED_MAX);
		rs_free(rs);
		return -1;
	}
	serial = __atomic_load_n(&g->rs_serial, __ATOMIC_RELAXED) + 1;
	if (x->cur != NULL) {
		x->retired[x->n_retired] = x->cur;
		x->retired_serial[x->n_retired] = serial;
		x->n_retired++;
	}
	x->cur = rs;
	if (rs != NULL && rs_has_notrack(rs))
		__atomic_store_n(&g->ut_inbound, true, __ATOMIC_RELAXED);
	__atomic_store_n(&g->rs_pub, rs, __ATOMIC_RELEASE);
	__atomic_store_n(&g->rs_serial, serial, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&x->lock);
	return 0;
}

/* Free the replaced rulesets every worker has moved past. Lock held. */
unsigned int
gw_rules_reclaim_locked(struct gw *g)
{
	struct gw_rs_ctl *x = g->rsc;
	uint32_t min = UINT32_MAX;
	unsigned int i, k = 0, freed = 0;

	for (i = 0; i < g->n_workers; i++) {
		uint32_t a = __atomic_load_n(&g->w[i]->rs_ack, __ATOMIC_ACQUIRE);

		if (a < min)
			min = a;
	}
	for (i = 0; i < x->n_retired; i++) {
		if ((int32_t)(min - x->retired_serial[i]) >= 0) {
			rs_free(x->retired[i]);
			freed++;
		} else {
			x->retired[k] = x->retired[i];
			x->retired_serial[k] = x->retired_serial[i];
			k++;
		}
	}
	x->n_retired = k;
	return freed;
}

unsigned int
gw_rules_reclaim(struct gw *g)
{
	unsigned int n;

	pthread_mutex_lock(&g->rsc->lock);
	n = gw_rules_reclaim_locked(g);
	pthread_mutex_unlock(&g->rsc->lock);
	return n;
}

int
gw_rules_reload(struct gw *g, const char *path, char *err, size_t errlen)
{
	struct rs_ruleset *rs = NULL;

	if (path != NULL && path[0] != '\0') {
		rs = rs_load_file(path, g->n_workers, err, errlen);
		if (rs == NULL)
			return -1;
	}
	return gw_rules_install(g, rs, err, errlen);
}

/* Between bursts: take the published ruleset, start the cache sweep, acknowledge. */
void
gw_rules_adopt(struct gw_worker *w)
{
	struct gw *g = w->g;
	uint32_t serial = __atomic_load_n(&g->rs_serial, __ATOMIC_ACQUIRE);
	struct rs_ruleset *rs = __atomic_load_n(&g->rs_pub, __ATOMIC_ACQUIRE);

	if (rs != w->rs) {
		w->rs = rs;
		w->rs_notrack = rs != NULL && rs_has_notrack(rs);
		w->rs_assured = rs != NULL && rs_uses_assured(rs);
		w->rs_sweeping = true;
		w->rs_slow = true;
		w->rsw->sweep_pos = 0;
	}
	w->rs_serial = serial;
	__atomic_store_n(&w->rs_ack, serial, __ATOMIC_RELEASE);
}

/* Housekeeping: clear the cache bits of a slice of the table after a reload. */
unsigned int
gw_rules_sweep(struct gw_worker *w)
{
	uint32_t cap = ct_table_capacity(w->ct), end, id;
	unsigned int n = 0;

	if (!w->rs_sweeping)
		return 0;
	end = w->rsw->sweep_pos + GW_RS_SWEEP_BUDGET;
	if (end > cap)
		end = cap;
	for (id = w->rsw->sweep_pos; id < end; id++) {
		struct ct_conn *c = ct_conn_by_id(w->ct, id);

		if (c != NULL && (ct_conn_status(c) & CT_ST_RS_MASK) != 0) {
			ct_conn_clear_status(c, CT_ST_RS_MASK);
			n++;
		}
	}
	w->rsw->sweep_pos = end;
	if (end == cap) {
		w->rs_sweeping = false;
		w->rs_slow = false;
	}
	return n + 1;
}

/* ---------------------------------------------------------------------------------------
 * Match context, log records, rejects
 */
static void
gw_rs_ctx(struct gw_worker *w, const struct rte_mbuf *m, const struct ct_pkt *p,
	  unsigned int port, unsigned int oif, enum ct_state st, struct rs_ctx *x)
{
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, p->l3_off);
	const struct ct_conn *c = p->conn;
	uint8_t proto = ip->next_proto_id;
	bool v6 = unlikely((ip->version_ihl >> 4) == 6);

	memset(x, 0, sizeof(*x));
	if (v6) {
		/* IPv6 (gw_ip6.c): the addresses as they are in the header (routed, never
		 * translated), the upper layer after the extension headers */
		const uint8_t *h = (const uint8_t *)ip;

		x->family = RS_FAMILY_IPV6;
		x->saddr6 = h + 8;
		x->daddr6 = h + 24;
		proto = p->is_icmp_error ? IPPROTO_ICMPV6 : p->tuple.proto;
	} else {
		x->saddr = ip->src_addr;
		x->daddr = ip->dst_addr;
	}
	x->l4proto = proto;
	x->iif = (uint8_t)port;
	x->oif = (uint8_t)oif;
	x->ct_state = (uint8_t)st;
	x->bytes = p->ip_len;
	if (proto == IPPROTO_ICMP || (v6 && proto == IPPROTO_ICMPV6))
		x->icmp_type = p->icmp_type;
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) && !p->is_fragment &&
	    !p->is_icmp_error) {
		x->sport = rte_be_to_cpu_16(p->tuple.sport);
		x->dport = rte_be_to_cpu_16(p->tuple.dport);
	}
	if (c != NULL && st != CT_INVALID && st != CT_UNTRACKED) {
		/* the FORWARD hook sees the destination after DNAT and, for replies, the
		 * de-SNATed one: a packet of direction d goes to tuple[!d].src */
		const struct ct_tuple *o = ct_conn_tuple(c, (enum ct_dir)!p->dir);

		x->ct_status = ct_conn_status(c) & (CT_ST_SEEN_REPLY | CT_ST_ASSURED |
						    CT_ST_SNAT | CT_ST_DNAT);
		if (!v6) {	/* IPv6 tuples hold folded keys; no DNAT there */
			x->daddr = o->src;
			if (x->sport != 0 || x->dport != 0)
				x->dport = rte_be_to_cpu_16(o->sport);
		}
		if ((ct_conn_status(c) & CT_ST_HELPER) && w->hc != NULL) {
			enum helper_id h = helper_conn_helper(w->hc, c);

			if (h != HELPER_NONE)
				x->helper = helper_name(h);
		}
	}
}

static bool
gw_rs_bucket(uint64_t *tokens, ct_time_t *last, ct_time_t now, uint64_t rate, uint64_t burst)
{
	uint64_t add = now > *last ? (now - *last) * rate / CT_USEC_PER_SEC : 0;

	if (add != 0) {
		*tokens = RTE_MIN(*tokens + add, burst);
		*last = now;
	}
	if (*tokens == 0)
		return false;
	(*tokens)--;
	return true;
}

static void
gw_rs_log(struct gw_worker *w, const struct rs_result *res, const struct rs_ctx *x,
	  ct_time_t now)
{
	struct gw_rs_worker *q = w->rsw;
	unsigned int i;

	w->st.rs_log_lost += res->log_lost;
	for (i = 0; i < res->n_log; i++) {
		uint32_t tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
		struct gw_rs_log *r;

		if (!gw_rs_bucket(&q->log_tokens, &q->log_last, now, GW_RS_LOG_RATE,
				  GW_RS_LOG_BURST)) {
			w->st.rs_log_ratelimited++;
			continue;
		}
		if (q->head - tail >= GW_RS_LOG_SLOTS) {
			w->st.rs_log_lost++;
			continue;
		}
		r = &q->rec[q->head & (GW_RS_LOG_SLOTS - 1)];
		r->t = now;
		r->saddr = x->saddr;
		r->daddr = x->daddr;
		r->family = x->family;
		if (x->family == RS_FAMILY_IPV6) {
			memcpy(r->saddr6, x->saddr6, 16);
			memcpy(r->daddr6, x->daddr6, 16);
		}
		r->sport = x->sport;
		r->dport = x->dport;
		r->len = (uint16_t)x->bytes;
		r->proto = x->l4proto;
		r->icmp_type = x->icmp_type;
		r->iif = x->iif;
		r->oif = x->oif;
		r->state = x->ct_state;
		r->verdict = res->verdict;
		snprintf(r->prefix, sizeof(r->prefix), "%s",
			 rs_rule_log_prefix(w->rs, res->log_rule[i]));
		__atomic_store_n(&q->head, q->head + 1, __ATOMIC_RELEASE);
		w->st.rs_logged++;
	}
}

/* TCP RST answering m (RFC 9293 3.10.7.1, as nf_reject_ipv4: to a segment with ACK the RST
 * takes seq = SEG.ACK, else seq 0 and ACK of SEG.SEQ + SEG.LEN), from its destination, out
 * of the port it came in on, TTL 64, DF. Never in answer to a RST. */
static void
gw_rs_send_rst(struct gw_worker *w, unsigned int port, const struct rte_mbuf *m,
	       const struct ct_pkt *p, ct_time_t now)
{
	struct gw *g = w->g;
	const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(b + p->l3_off);
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(b + p->l4_off);
	struct rte_ipv4_hdr *oip;
	struct rte_tcp_hdr *ot;
	struct rte_ether_hdr *eth;
	struct rte_mbuf *n;
	uint32_t len;

	if ((th->tcp_flags & RTE_TCP_RST_FLAG) || p->is_fragment ||
	    p->l4_len < sizeof(*th) ||
	    !gw_local_ok(g, port, ip->dst_addr, ip->src_addr, 40)) {
		w->st.rs_reject_refused++;
		return;
	}
	n = rte_pktmbuf_alloc(g->pool);
	if (n == NULL) {
		w->st.rs_reject_refused++;
		return;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(n, RTE_ETHER_HDR_LEN + 40);
	memset(eth, 0, RTE_ETHER_HDR_LEN + 40);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	oip = (struct rte_ipv4_hdr *)(eth + 1);
	ot = (struct rte_tcp_hdr *)(oip + 1);
	oip->version_ihl = RTE_IPV4_VHL_DEF;
	oip->total_length = rte_cpu_to_be_16(40);
	oip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	oip->time_to_live = 64;
	oip->next_proto_id = IPPROTO_TCP;
	oip->src_addr = ip->dst_addr;
	oip->dst_addr = ip->src_addr;
	ot->src_port = th->dst_port;
	ot->dst_port = th->src_port;
	ot->data_off = 5 << 4;
	if (th->tcp_flags & RTE_TCP_ACK_FLAG) {
		ot->sent_seq = th->recv_ack;
		ot->tcp_flags = RTE_TCP_RST_FLAG;
	} else {
		len = p->l4_len - (uint32_t)((th->data_off >> 4) * 4);
		if (th->tcp_flags & RTE_TCP_SYN_FLAG)
			len++;
		if (th->tcp_flags & RTE_TCP_FIN_FLAG)
			len++;
		ot->recv_ack = rte_cpu_to_be_32(rte_be_to_cpu_32(th->sent_seq) + len);
		ot->tcp_flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
	}
	oip->hdr_checksum = rte_ipv4_cksum(oip);
	ot->cksum = rte_ipv4_udptcp_cksum(oip, ot);
	n->port = (uint16_t)port;
	w->st.rs_reject_sent++;
	gw_l2_send(w, port, gw_nexthop(g, port, oip->dst_addr), n, now);
}

/* The same RST over IPv6 (as nf_reject_ipv6): from the segment's destination back to its
 * source through the neighbour that sent it, hop limit 64. The addresses passed stage 1's
 * checks (unicast, not martian). */
static void
gw_rs_send_rst6(struct gw_worker *w, unsigned int port, const struct rte_mbuf *m,
		const struct ct_pkt *p)
{
	const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *ip = b + p->l3_off;
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(b + p->l4_off);
	struct rte_ether_hdr *eth;
	struct rte_tcp_hdr *ot;
	struct rte_mbuf *n;
	uint8_t *oip;
	uint32_t len;

	if ((th->tcp_flags & RTE_TCP_RST_FLAG) || p->is_fragment ||
	    p->l4_len < sizeof(*th)) {
		w->st.rs_reject_refused++;
		return;
	}
	n = rte_pktmbuf_alloc(w->g->pool);
	if (n == NULL) {
		w->st.rs_reject_refused++;
		return;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(n, RTE_ETHER_HDR_LEN + 60);
	if (eth == NULL) {
		rte_pktmbuf_free(n);
		w->st.rs_reject_refused++;
		return;
	}
	memset(eth, 0, RTE_ETHER_HDR_LEN + 60);
	eth->dst_addr = ((const struct rte_ether_hdr *)b)->src_addr;
	eth->src_addr = w->g->mac[port];
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	oip = (uint8_t *)(eth + 1);
	ot = (struct rte_tcp_hdr *)(oip + 40);
	gw_ip6_fill_hdr(oip, 20, IPPROTO_TCP, 64, ip + 24, ip + 8);
	ot->src_port = th->dst_port;
	ot->dst_port = th->src_port;
	ot->data_off = 5 << 4;
	if (th->tcp_flags & RTE_TCP_ACK_FLAG) {
		ot->sent_seq = th->recv_ack;
		ot->tcp_flags = RTE_TCP_RST_FLAG;
	} else {
		len = p->l4_len - (uint32_t)((th->data_off >> 4) * 4);
		if (th->tcp_flags & RTE_TCP_SYN_FLAG)
			len++;
		if (th->tcp_flags & RTE_TCP_FIN_FLAG)
			len++;
		ot->recv_ack = rte_cpu_to_be_32(rte_be_to_cpu_32(th->sent_seq) + len);
		ot->tcp_flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
	}
	ot->cksum = rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)oip, ot);
	n->port = (uint16_t)port;
	w->st.rs_reject_sent++;
	gw_tx_enqueue(w, port, n);
}

static void
gw_rs_reject(struct gw_worker *w, unsigned int port, const struct rte_mbuf *m,
	     const struct ct_pkt *p, const struct rs_result *res, ct_time_t now)
{
	struct gw_rs_worker *q = w->rsw;

	if (!gw_rs_bucket(&q->rej_tokens, &q->rej_last, now, GW_RS_REJECT_RATE,
			  GW_RS_REJECT_BURST)) {
		w->st.rs_reject_ratelimited++;
		return;
	}
	if (unlikely((rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l3_off)[0] >> 4) == 6)) {
		if (p->is_icmp_error) {
			w->st.rs_reject_refused++;	/* RFC 4443 2.4 e.1 */
			return;
		}
		if (res->reject_rst && p->tuple.proto == IPPROTO_TCP) {
			gw_rs_send_rst6(w, port, m, p);
			return;
		}
		/* ICMPv6 destination unreachable (RFC 4443 3.1), rate-limited there too */
		w->st.rs_reject_sent++;
		gw_ip6_unreach(w, port, m, p, res->reject_code6, now);
		return;
	}
	if (res->reject_rst && p->tuple.proto == IPPROTO_TCP && !p->is_icmp_error) {
		gw_rs_send_rst(w, port, m, p, now);
		return;
	}
	/* ICMP destination unreachable (RFC 792), rate-limited again per destination there;
	 * nothing about an ICMP error (RFC 1812 4.3.2.7) */
	if (p->is_icmp_error) {
		w->st.rs_reject_refused++;
		return;
	}
	w->st.rs_reject_sent++;
	gw_icmp_error(w, port, m, p, 3, res->reject_code, 0, now);
}

/* What the chain said, applied: GW_DROP_NONE to pass, else the reason (reject sent). */
static enum gw_drop
gw_rs_apply(struct gw_worker *w, unsigned int port, const struct rte_mbuf *m,
	    const struct ct_pkt *p, const struct rs_result *res, const struct rs_ctx *x,
	    ct_time_t now)
{
	w->st.rs_evals++;
	if (res->n_log != 0 || res->log_lost != 0)
		gw_rs_log(w, res, x, now);
	if (res->verdict == RS_ACCEPT)
		return GW_DROP_NONE;
	if (res->verdict == RS_REJECT) {
		gw_rs_reject(w, port, m, p, res, now);
		return GW_DROP_RULE_REJECT;
	}
	return GW_DROP_RULE_DROP;
}

/* ---------------------------------------------------------------------------------------
 * The chains
 */
enum gw_drop
gw_rules_forward_slow(struct gw_worker *w, const struct rte_mbuf *m, const struct ct_pkt *p,
		      unsigned int port, unsigned int egress, enum ct_state st, uint16_t before,
		      ct_time_t now)
{
	struct ct_conn *c = p->conn;
	uint16_t s = ct_conn_status(c);
	uint16_t v = p->dir == CT_DIR_ORIG ? CT_ST_RS_VALID0 : CT_ST_RS_VALID1;
	uint16_t a = p->dir == CT_DIR_ORIG ? CT_ST_RS_ACCEPT0 : CT_ST_RS_ACCEPT1;
	struct rs_result res;
	struct rs_ctx x;
	enum gw_drop d;

	gw_rs_ctx(w, m, p, port, egress, st, &x);
	rs_eval(w->rs, w->idx, RS_CHAIN_FORWARD, &x, now, &res);
	d = gw_rs_apply(w, port, m, p, &res, &x, now);
	if (p->is_icmp_error)
		return d;
	/* what the rules see changed: both directions' cached verdicts are stale */
	if (((s ^ before) & (CT_ST_SEEN_REPLY | CT_ST_ASSURED)) != 0 && (s & CT_ST_RS_MASK))
		ct_conn_clear_status(c, CT_ST_RS_MASK);
	else if (s & (v | a))
		ct_conn_clear_status(c, v | a);
	if (res.cacheable && res.verdict != RS_REJECT)
		ct_conn_set_status(c, res.verdict == RS_ACCEPT ? (v | a) : v);
	return d;
}

enum gw_drop
gw_rules_inbound_new6(struct gw_worker *w, const struct rte_mbuf *m, const struct ct_pkt *p,
		      unsigned int port, ct_time_t now)
{
	struct rs_result res;
	struct rs_ctx x;
	struct ct_pkt q = *p;

	q.conn = NULL;
	gw_rs_ctx(w, m, &q, port, port ^ 1, CT_NEW, &x);
	rs_eval(w->rs, w->idx, RS_CHAIN_FORWARD, &x, now, &res);
	if (res.rule < 0) {
		/* the policy (accept or drop) is no explicit permission: dropped as without
		 * rules (RFC 6092 3.2) */
		w->st.rs_evals++;
		if (res.n_log != 0 || res.log_lost != 0)
			gw_rs_log(w, &res, &x, now);
		return GW_DROP_IP6_INBOUND_NEW;
	}
	return gw_rs_apply(w, port, m, p, &res, &x, now);
}

void
gw_rules_invalid(struct gw_worker *w, const struct rte_mbuf *m, const struct ct_pkt *p,
		 unsigned int port, ct_time_t now)
{
	struct rs_result res;
	struct rs_ctx x;
	struct ct_pkt q = *p;

	q.conn = NULL;
	gw_rs_ctx(w, m, &q, port, port ^ 1, CT_INVALID, &x);
	rs_eval(w->rs, w->idx, RS_CHAIN_FORWARD, &x, now, &res);
	gw_rs_apply(w, port, m, p, &res, &x, now);
}

enum gw_drop
gw_rules_input(struct gw_worker *w, const struct rte_mbuf *m, const struct ct_pkt *p,
	       unsigned int port, ct_time_t now)
{
	struct rs_result res;
	struct rs_ctx x;
	struct ct_pkt q = *p;

	/* natgw keeps no connection for its own endpoints: its input sees NEW (RELATED for an
	 * ICMP error) */
	q.conn = NULL;
	gw_rs_ctx(w, m, &q, port, RS_IF_NONE, p->is_icmp_error ? CT_RELATED : CT_NEW, &x);
	rs_eval(w->rs, w->idx, RS_CHAIN_INPUT, &x, now, &res);
	return gw_rs_apply(w, port, m, p, &res, &x, now);
}

int
gw_rules_notrack(struct gw_worker *w, struct rte_mbuf *m, const struct ct_pkt *p,
		 unsigned int port, uint32_t src, uint32_t dst, ct_time_t now)
{
	const struct gw *g = w->g;
	struct rs_result res;
	struct rs_ctx x;
	struct ct_pkt q = *p;
	enum gw_drop d;

	if (p->is_icmp_error)
		return -1;
	/* as [untracked]: never to one of our addresses, from the uplink only to the inside */
	if (port == GW_PORT_INSIDE ? gw_is_outside_addr(g, dst) : !gw_is_inside(g, dst))
		return -1;
	q.conn = NULL;
	gw_rs_ctx(w, m, &q, port, port ^ 1, CT_UNTRACKED, &x);
	if (!rs_eval_notrack(w->rs, w->idx, &x, now, &res)) {
		if (res.n_log != 0)
			gw_rs_log(w, &res, &x, now);
		return -1;
	}
	if (res.n_log != 0)
		gw_rs_log(w, &res, &x, now);
	w->st.rs_untracked++;
	rs_eval(w->rs, w->idx, RS_CHAIN_FORWARD, &x, now, &res);
	d = gw_rs_apply(w, port, m, p, &res, &x, now);
	if (d == GW_DROP_NONE && port == GW_PORT_INSIDE && gw_is_private_addr(src))
		d = GW_DROP_RULE_NOTRACK_PRIVATE;	/* never untranslated out of the uplink */
	if (d != GW_DROP_NONE) {
		gw_count_drop(w, m, d);
		return -2;
	}
	return (int)(port ^ 1);
}

/* ---------------------------------------------------------------------------------------
 * Main lcore: log records and telemetry
 */
static const char *
gw_rs_proto(uint8_t p, char *b, size_t n)
{
	if (p == IPPROTO_TCP)
		return "TCP";
	if (p == IPPROTO_UDP)
		return "UDP";
	if (p == IPPROTO_ICMP)
		return "ICMP";
	if (p == IPPROTO_ICMPV6)
		return "ICMPv6";	/* as nf_log_ipv6 */
	snprintf(b, n, "%u", p);
	return b;
}

/* ct state names as rules write them */
static const char *
gw_rs_state_name(uint8_t s)
{
	static const char *const n[] = { "new", "established", "related", "invalid",
					 "untracked" };

	return s < RTE_DIM(n) ? n[s] : "?";
}

unsigned int
gw_rules_log_drain(struct gw *g, FILE *f)
{
	unsigned int i, n = 0;

	for (i = 0; i < g->n_workers; i++) {
		struct gw_rs_worker *q = g->w[i]->rsw;
		uint32_t head = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);

		while (q->tail != head) {
			const struct gw_rs_log *r = &q->rec[q->tail & (GW_RS_LOG_SLOTS - 1)];
			char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], pb[8];
			struct in_addr a;

			if (r->family == RS_FAMILY_IPV6) {
				inet_ntop(AF_INET6, r->saddr6, s, sizeof(s));
				inet_ntop(AF_INET6, r->daddr6, d, sizeof(d));
			} else {
				a.s_addr = r->saddr;
				inet_ntop(AF_INET, &a, s, sizeof(s));
				a.s_addr = r->daddr;
				inet_ntop(AF_INET, &a, d, sizeof(d));
			}
			/* the fields of the kernel's nf_log_ipv4 lines, so one grep serves both */
			fprintf(f, "natgw: rules: %sIN=%s OUT=%s SRC=%s DST=%s LEN=%u PROTO=%s",
				r->prefix, r->iif < GW_PORT_MAX ? gw_port_name(r->iif) : "",
				r->oif < GW_PORT_MAX ? gw_port_name(r->oif) : "", s, d, r->len,
				gw_rs_proto(r->proto, pb, sizeof(pb)));
			if (r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP)
				fprintf(f, " SPT=%u DPT=%u", r->sport, r->dport);
			else if (r->proto == IPPROTO_ICMP || r->proto == IPPROTO_ICMPV6)
				fprintf(f, " TYPE=%u", r->icmp_type);
			fprintf(f, " STATE=%s VERDICT=%s\n", gw_rs_state_name(r->state),
				rs_verdict_str((enum rs_verdict)r->verdict));
			__atomic_store_n(&q->tail, q->tail + 1, __ATOMIC_RELEASE);
			n++;
		}
	}
	if (n != 0)
		fflush(f);
	return n;
}

static int
gw_rs_tel_rules(const char *cmd __rte_unused, const char *params __rte_unused,
		struct rte_tel_data *d)
{
	struct gw *g = gw_rs_tel;
	struct rte_tel_data *text, *chain, *pk, *by, *ctr;
	const struct rs_ruleset *rs;
	unsigned int i, ch;

	rte_tel_data_start_dict(d);
	if (g == NULL)
		return 0;
	pthread_mutex_lock(&g->rsc->lock);
	rs = g->rsc->cur;
	rte_tel_data_add_dict_u64(d, "serial", __atomic_load_n(&g->rs_serial, __ATOMIC_RELAXED));
	if (rs == NULL) {
		rte_tel_data_add_dict_string(d, "ruleset", "none");
		pthread_mutex_unlock(&g->rsc->lock);
		return 0;
	}
	rte_tel_data_add_dict_string(d, "ruleset", rs_source(rs));
	rte_tel_data_add_dict_string(d, "table", rs_table_name(rs));
	rte_tel_data_add_dict_u64(d, "generation", rs_generation(rs));
	for (ch = 0; ch < RS_CHAIN_MAX; ch++) {
		const char *hk = ch == RS_CHAIN_INPUT ? "input" : "forward";
		char key[64];
		uint64_t p, b;

		rs_policy_counters(rs, ch, &p, &b);
		snprintf(key, sizeof(key), "%s_name", hk);
		rte_tel_data_add_dict_string(d, key, rs_chain_name(rs, ch));
		snprintf(key, sizeof(key), "%s_declared", hk);
		rte_tel_data_add_dict_u64(d, key, rs_chain_declared(rs, ch));
		snprintf(key, sizeof(key), "%s_policy", hk);
		rte_tel_data_add_dict_string(d, key, rs_verdict_str(rs_chain_policy(rs, ch)));
		snprintf(key, sizeof(key), "%s_policy_packets", hk);
		rte_tel_data_add_dict_u64(d, key, p);
		snprintf(key, sizeof(key), "%s_policy_bytes", hk);
		rte_tel_data_add_dict_u64(d, key, b);
	}
	text = rte_tel_data_alloc();
	chain = rte_tel_data_alloc();
	pk = rte_tel_data_alloc();
	by = rte_tel_data_alloc();
	ctr = rte_tel_data_alloc();
	if (text == NULL || chain == NULL || pk == NULL || by == NULL || ctr == NULL) {
		rte_tel_data_free(text);
		rte_tel_data_free(chain);
		rte_tel_data_free(pk);
		rte_tel_data_free(by);
		rte_tel_data_free(ctr);
		pthread_mutex_unlock(&g->rsc->lock);
		return -ENOMEM;
	}
	rte_tel_data_start_array(text, RTE_TEL_STRING_VAL);
	rte_tel_data_start_array(chain, RTE_TEL_STRING_VAL);
	rte_tel_data_start_array(pk, RTE_TEL_U64_VAL);
	rte_tel_data_start_array(by, RTE_TEL_U64_VAL);
	rte_tel_data_start_array(ctr, RTE_TEL_U64_VAL);
	for (i = 0; i < rs_n_rules(rs); i++) {
		uint64_t p, b;

		rs_rule_counters(rs, i, &p, &b);
		rte_tel_data_add_array_string(text, rs_rule_text(rs, i));
		rte_tel_data_add_array_string(chain, rs_rule_chain(rs, i) == RS_CHAIN_INPUT ?
					      "input" : "forward");
		rte_tel_data_add_array_u64(pk, p);
		rte_tel_data_add_array_u64(by, b);
		rte_tel_data_add_array_u64(ctr, rs_rule_has_counter(rs, i));
	}
	pthread_mutex_unlock(&g->rsc->lock);
	rte_tel_data_add_dict_container(d, "rule_text", text, 0);
	rte_tel_data_add_dict_container(d, "rule_chain", chain, 0);
	rte_tel_data_add_dict_container(d, "rule_packets", pk, 0);
	rte_tel_data_add_dict_container(d, "rule_bytes", by, 0);
	rte_tel_data_add_dict_container(d, "rule_counter", ctr, 0);
	return 0;
}

int
gw_rules_telemetry_register(struct gw *g)
{
	gw_rs_tel = g;
	return rte_telemetry_register_cmd("/natgw/rules", gw_rs_tel_rules,
					  "natgw ruleset: rule texts, per-rule counters, chain "
					  "policies. No parameters");
}

const struct rs_ruleset *
gw_rules_current(const struct gw *g)
{
	return g->rsc != NULL ? g->rsc->cur : NULL;
}
