/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_ctl_cmds.c - the built-in control commands (docs/operations.md) and how a change
 * reaches the workers.
 *
 * Workers: each has a command ring (main -> worker, single producer, single consumer). A
 * change is a work function queued on every ring; a worker runs it between bursts
 * (gw_ctl_worker_poll, from its poll loop), at most GW_CTL_BUDGET entries per call, and
 * marks it done; the main lcore waits, bounded (GW_CTL_WAIT_MS), for every worker and
 * reports what each touched. Nothing on the data path locks: the worker is the only writer
 * of its table, as always (DESIGN.md "Control plane"). The port forward table is published
 * RCU-style: the new table is stored, every worker adopts it and acknowledges between
 * bursts (a quiescent state: no packet of a burst before still holds the old pointer),
 * and only then is the old one freed.
 *
 * Reading (list, mappings, counters) needs no worker: ct_snapshot and the counters are
 * lock-free readers ([any] in ct.h).
 *
 * Filters follow conntrack(8): -s/-d/-p/--sport/--dport/--state match the original
 * direction (what the first packet carried: the inside host for outbound connections).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "gw_ctl_private.h"

#define GW_CTL_RING	64
#define GW_CTL_SNAP	256	/* connections copied per ct_snapshot call */

struct gw_ctl_state gw_ctl_st;

/* ---- worker rings ---------------------------------------------------------------------- */

struct gw_ctl_job;

struct gw_ctl_msg {
	gw_ctl_work_fn fn;
	const void *arg;
	uint64_t pos, touched;
	uint32_t done;			/* worker: 1 (release) when finished */
};

struct gw_ctl_job {
	struct gw_ctl_job *next;	/* late list */
	unsigned int n;
	struct gw_ctl_msg msg[GW_MAX_WORKERS];
	uint64_t data[];		/* the copy of arg */
};

static struct {
	struct rte_ring *ring;
	struct gw_ctl_msg *cur;		/* worker's: the message in progress */
} gw_cw[GW_MAX_WORKERS];
static struct gw_ctl_job *gw_ctl_late;	/* jobs a worker had not finished in time */

static bool
gw_ctl_job_done(const struct gw_ctl_job *j)
{
	unsigned int i;

	for (i = 0; i < j->n; i++)
		if (!__atomic_load_n(&j->msg[i].done, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

static void
gw_ctl_late_gc(bool all)
{
	struct gw_ctl_job **pp = &gw_ctl_late, *j;

	while ((j = *pp) != NULL) {
		if (all || gw_ctl_job_done(j)) {
			*pp = j->next;
			free(j);
		} else {
			pp = &j->next;
		}
	}
}

unsigned int
gw_ctl_worker_poll(struct gw_worker *w, ct_time_t now)
{
	unsigned int i = gw_worker_index(w);
	struct gw_ctl_msg *m;

	if (i >= GW_MAX_WORKERS || gw_cw[i].ring == NULL)
		return 0;
	m = gw_cw[i].cur;
	if (m == NULL) {
		if (rte_ring_sc_dequeue(gw_cw[i].ring, (void **)&m) != 0)
			return 0;
		gw_cw[i].cur = m;
	}
	if (m->fn(w, m->arg, &m->pos, &m->touched, now) == 0) {
		gw_cw[i].cur = NULL;
		__atomic_store_n(&m->done, 1, __ATOMIC_RELEASE);
	}
	return 1;
}

int
gw_ctl_workers_run(gw_ctl_work_fn fn, const void *arg, size_t arg_len, uint64_t *touched,
		   unsigned int timeout_ms, unsigned int *late)
{
	struct gw *g = gw_ctl_st.g;
	struct gw_ctl_job *j;
	struct timespec t0, t;
	unsigned int i, n, left;
	int rc = 0;

	if (late != NULL)
		*late = 0;
	if (g == NULL)
		return -EINVAL;
	gw_ctl_late_gc(false);
	n = gw_n_workers(g);
	if (touched != NULL)
		memset(touched, 0, n * sizeof(touched[0]));
	j = calloc(1, sizeof(*j) + arg_len + 8);
	if (j == NULL)
		return -ENOMEM;
	j->n = n;
	if (arg_len != 0)
		memcpy(j->data, arg, arg_len);
	for (i = 0; i < n; i++) {
		j->msg[i].fn = fn;
		j->msg[i].arg = j->data;
		if (rc == 0 && rte_ring_sp_enqueue(gw_cw[i].ring, &j->msg[i]) != 0)
			rc = -ENOBUFS;
		if (rc != 0)
			j->msg[i].done = 1;	/* never queued */
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct timespec ts = { 0, 20 * 1000 };

		if (gw_ctl_job_done(j))
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >=
		    (long)timeout_ms)
			break;
		nanosleep(&ts, NULL);
	}
	for (i = 0, left = 0; i < n; i++) {
		bool d = __atomic_load_n(&j->msg[i].done, __ATOMIC_ACQUIRE);

		if (touched != NULL)
			touched[i] = d ? j->msg[i].touched : 0;
		left += !d;
	}
	if (left != 0) {
		j->next = gw_ctl_late;
		gw_ctl_late = j;
		if (late != NULL)
			*late = left;
		return rc != 0 ? rc : -ETIMEDOUT;
	}
	free(j);
	return rc;
}

static int
gw_ctl_run_err(int rc, unsigned int late, const char *what, char *err, size_t errlen)
{
	if (rc == -ETIMEDOUT)
		snprintf(err, errlen, "%s: %u worker(s) did not acknowledge within %u ms (the "
			 "change is applied when they do)", what, late, GW_CTL_WAIT_MS);
	else if (rc == -ENOBUFS)
		snprintf(err, errlen, "%s: a worker's command ring is full", what);
	else if (rc < 0)
		snprintf(err, errlen, "%s: %s", what, strerror(-rc));
	return rc < 0 ? -1 : 0;
}

void
gw_ctl_json_touched(struct gw_ctl_reply *rp, const uint64_t *touched)
{
	unsigned int i;

	gw_ctl_json_arr_begin(rp, "workers");
	for (i = 0; i < gw_n_workers(gw_ctl_st.g); i++) {
		gw_ctl_json_obj_begin(rp, NULL);
		gw_ctl_json_u64(rp, "worker", i);
		gw_ctl_json_u64(rp, "touched", touched[i]);
		gw_ctl_json_obj_end(rp);
	}
	gw_ctl_json_arr_end(rp);
}

static uint64_t
gw_ctl_sum(const uint64_t *touched)
{
	uint64_t s = 0;
	unsigned int i;

	for (i = 0; i < gw_n_workers(gw_ctl_st.g); i++)
		s += touched[i];
	return s;
}

/* ---- filters --------------------------------------------------------------------------- */

struct gw_ctl_filter {
	uint32_t src, smask, dst, dmask;	/* network order; mask 0: any */
	uint16_t sport, dport;			/* network order */
	bool has_sport, has_dport;
	uint8_t proto;				/* 0: any */
	int16_t tcp_state;			/* -1: any */
	int32_t worker;				/* -1: any */
	int64_t id;				/* -1: any */
};

static const char *const gw_ctl_filter_keys[] = {
	"src", "dst", "proto", "sport", "dport", "state", "worker", "id", NULL,
};

static int
gw_ctl_parse_prefix(const char *s, uint32_t *addr, uint32_t *mask)
{
	char b[64], *sl;
	unsigned long len = 32;

	snprintf(b, sizeof(b), "%s", s);
	sl = strchr(b, '/');
	if (sl != NULL) {
		char *end;

		*sl = '\0';
		len = strtoul(sl + 1, &end, 10);
		if (sl[1] == '\0' || *end != '\0' || len > 32)
			return -1;
	}
	if (inet_pton(AF_INET, b, addr) != 1)
		return -1;
	*mask = gw_prefix_mask((unsigned int)len);
	*addr &= *mask;
	if (len == 0)
		*mask = 0, *addr = 0;
	return 0;
}

static int
gw_ctl_parse_proto(const char *s, uint8_t *p)
{
	char *end;
	unsigned long v;

	if (strcasecmp(s, "tcp") == 0)
		*p = IPPROTO_TCP;
	else if (strcasecmp(s, "udp") == 0)
		*p = IPPROTO_UDP;
	else if (strcasecmp(s, "icmp") == 0)
		*p = IPPROTO_ICMP;
	else {
		v = strtoul(s, &end, 10);
		if (*s == '\0' || *end != '\0' || v == 0 || v > 255)
			return -1;
		*p = (uint8_t)v;
	}
	return 0;
}

static int
gw_ctl_filter_parse(const struct gw_ctl_req *r, struct gw_ctl_filter *f, struct gw_ctl_reply *rp)
{
	const char *s;
	uint64_t v;
	unsigned int i;

	memset(f, 0, sizeof(*f));
	f->tcp_state = -1;
	f->worker = -1;
	f->id = -1;
	s = gw_ctl_req_str(r, "src");
	if (s != NULL && gw_ctl_parse_prefix(s, &f->src, &f->smask) < 0)
		goto bad_src;
	s = gw_ctl_req_str(r, "dst");
	if (s != NULL && gw_ctl_parse_prefix(s, &f->dst, &f->dmask) < 0) {
		gw_ctl_reply_error(rp, "dst: want ADDR or ADDR/LEN, got '%s'", s);
		return -1;
	}
	if ((s = gw_ctl_req_str(r, "proto")) != NULL && gw_ctl_parse_proto(s, &f->proto) < 0) {
		gw_ctl_reply_error(rp, "proto: want tcp, udp, icmp or 1..255, got '%s'", s);
		return -1;
	}
	for (i = 0; i < 2; i++) {
		const char *k = i == 0 ? "sport" : "dport";
		int rc = gw_ctl_req_u64(r, k, &v);

		if (rc < 0 || (rc > 0 && v > 65535)) {
			gw_ctl_reply_error(rp, "%s: want 0..65535, got '%s'", k,
					   gw_ctl_req_str(r, k));
			return -1;
		}
		if (rc > 0 && f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP) {
			gw_ctl_reply_error(rp, "%s needs proto tcp or udp (-p)", k);
			return -1;
		}
		if (rc > 0 && i == 0)
			f->has_sport = true, f->sport = rte_cpu_to_be_16((uint16_t)v);
		else if (rc > 0)
			f->has_dport = true, f->dport = rte_cpu_to_be_16((uint16_t)v);
	}
	if ((s = gw_ctl_req_str(r, "state")) != NULL) {
		for (i = 0; i < CT_TCP_MAX; i++)
			if (strcasecmp(s, ct_tcp_state_str(i)) == 0)
				break;
		if (i == CT_TCP_MAX || i == CT_TCP_NONE) {
			gw_ctl_reply_error(rp, "state: want a TCP state (SYN_SENT, "
					   "SYN_RECV, ESTABLISHED, FIN_WAIT, CLOSE_WAIT, "
					   "LAST_ACK, TIME_WAIT, CLOSE, SYN_SENT2), got '%s'", s);
			return -1;
		}
		if (f->proto != 0 && f->proto != IPPROTO_TCP) {
			gw_ctl_reply_error(rp, "state is a TCP state: proto must be tcp");
			return -1;
		}
		f->proto = IPPROTO_TCP;
		f->tcp_state = (int16_t)i;
	}
	if (gw_ctl_req_u64(r, "worker", &v) != 0) {
		if (gw_ctl_req_u64(r, "worker", &v) < 0 || v >= gw_n_workers(gw_ctl_st.g)) {
			gw_ctl_reply_error(rp, "worker: want 0..%u, got '%s'",
					   gw_n_workers(gw_ctl_st.g) - 1,
					   gw_ctl_req_str(r, "worker"));
			return -1;
		}
		f->worker = (int32_t)v;
	}
	if (gw_ctl_req_u64(r, "id", &v) != 0) {
		if (gw_ctl_req_u64(r, "id", &v) < 0 || v > UINT32_MAX) {
			gw_ctl_reply_error(rp, "id: want a connection id, got '%s'",
					   gw_ctl_req_str(r, "id"));
			return -1;
		}
		f->id = (int64_t)v;
	}
	return 0;
bad_src:
	gw_ctl_reply_error(rp, "src: want ADDR or ADDR/LEN, got '%s'", s);
	return -1;
}

static bool
gw_ctl_filter_empty(const struct gw_ctl_filter *f)
{
	return f->smask == 0 && f->dmask == 0 && f->proto == 0 && !f->has_sport &&
	       !f->has_dport && f->tcp_state < 0 && f->worker < 0 && f->id < 0;
}

static bool
gw_ctl_match(const struct gw_ctl_filter *f, const struct ct_tuple *o, int tcp_state,
	     unsigned int worker, uint32_t id)
{
	if (f->worker >= 0 && (unsigned int)f->worker != worker)
		return false;
	if (f->id >= 0 && (uint32_t)f->id != id)
		return false;
	if (((o->src & f->smask) != f->src) || ((o->dst & f->dmask) != f->dst))
		return false;
	if (f->proto != 0 && o->proto != f->proto)
		return false;
	if ((f->has_sport && o->sport != f->sport) || (f->has_dport && o->dport != f->dport))
		return false;
	if (f->tcp_state >= 0 && tcp_state != f->tcp_state)
		return false;
	return true;
}

/* ---- list ------------------------------------------------------------------------------ */

static const char *
gw_ctl_proto_name(uint8_t p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : p == IPPROTO_ICMP ? "icmp" :
									 "other";
}

static void
gw_ctl_tuple_str(char *buf, size_t len, const struct ct_tuple *t)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &t->src, a, sizeof(a));
	inet_ntop(AF_INET, &t->dst, b, sizeof(b));
	snprintf(buf, len, "src=%s dst=%s sport=%u dport=%u", a, b, rte_be_to_cpu_16(t->sport),
		 rte_be_to_cpu_16(t->dport));
}

void
gw_ctl_json_conn(struct gw_ctl_reply *rp, const char *key, const struct ct_conn_info *ci,
		 unsigned int worker, ct_time_t now)
{
	char buf[128];

	gw_ctl_json_obj_begin(rp, key);
	gw_ctl_json_u64(rp, "id", ci->id);
	gw_ctl_json_u64(rp, "worker", worker);
	gw_ctl_json_u64(rp, "lcore", worker < GW_MAX_WORKERS ? gw_ctl_st.lcore[worker] : 0);
	gw_ctl_json_str(rp, "proto", gw_ctl_proto_name(ci->tuple[0].proto));
	gw_ctl_json_u64(rp, "protonum", ci->tuple[0].proto);
	gw_ctl_json_str(rp, "tcp_state", ci->tuple[0].proto == IPPROTO_TCP ?
			ct_tcp_state_str(ci->tcp_state) : "");
	gw_ctl_json_str(rp, "status", (ci->status & CT_ST_ASSURED) ? "ASSURED" :
			(ci->status & CT_ST_SEEN_REPLY) ? "REPLIED" : "UNREPLIED");
	gw_ctl_json_u64(rp, "timeout", ci->expire > now ? (ci->expire - now) / CT_USEC_PER_SEC : 0);
	gw_ctl_tuple_str(buf, sizeof(buf), &ci->tuple[0]);
	gw_ctl_json_str(rp, "orig", buf);
	gw_ctl_tuple_str(buf, sizeof(buf), &ci->tuple[1]);
	gw_ctl_json_str(rp, "reply", buf);
	if (ci->accounting) {	/* [conntrack] accounting (as conntrack -L without acct) */
		gw_ctl_json_u64(rp, "packets_orig", ci->packets[0]);
		gw_ctl_json_u64(rp, "packets_reply", ci->packets[1]);
		gw_ctl_json_u64(rp, "bytes_orig", ci->bytes[0]);
		gw_ctl_json_u64(rp, "bytes_reply", ci->bytes[1]);
	}
	gw_ctl_json_bool(rp, "snat", (ci->status & CT_ST_SNAT) != 0);
	gw_ctl_json_bool(rp, "dnat", (ci->status & CT_ST_DNAT) != 0);
	gw_ctl_json_bool(rp, "related", (ci->status & CT_ST_RELATED) != 0);
	gw_ctl_json_bool(rp, "helper", (ci->status & CT_ST_HELPER) != 0);
	gw_ctl_json_obj_end(rp);
}

/* Walk every live connection (lock-free snapshot) matching f; cb per connection. */
static void
gw_ctl_walk(const struct gw_ctl_filter *f, void (*cb)(const struct ct_conn_info *ci,
						       unsigned int worker, void *arg), void *arg)
{
	static struct ct_conn_info ci[GW_CTL_SNAP];
	ct_time_t now = gw_ctl_st.clock();
	unsigned int w, i, got;
	uint32_t cur;

	for (w = 0; w < gw_n_workers(gw_ctl_st.g); w++) {
		if (f->worker >= 0 && (unsigned int)f->worker != w)
			continue;
		cur = 0;
		while ((got = ct_snapshot(gw_ctl_st.g->w[w]->ct, &cur, ci, GW_CTL_SNAP, now)) != 0)
			for (i = 0; i < got; i++)
				if (gw_ctl_match(f, &ci[i].tuple[0], ci[i].tcp_state, w, ci[i].id))
					cb(&ci[i], w, arg);
	}
}

struct gw_ctl_list_arg {
	struct gw_ctl_reply *rp;
	uint64_t n, limit;
	ct_time_t now;
};

static void
gw_ctl_list_one(const struct ct_conn_info *ci, unsigned int worker, void *arg)
{
	struct gw_ctl_list_arg *a = arg;

	if (a->limit != 0 && a->n >= a->limit)
		return;
	gw_ctl_json_conn(a->rp, NULL, ci, worker, a->now);
	a->n++;
}

static void
gw_ctl_cmd_list(const struct gw_ctl_req *req, struct gw_ctl_reply *rp, void *arg)
{
	static const char *const keys[] = {
		"src", "dst", "proto", "sport", "dport", "state", "worker", "id", "limit", NULL,
	};
	struct gw_ctl_list_arg a = { .rp = rp, .now = gw_ctl_st.clock() };
	struct gw_ctl_filter f;
	const char *bad;

	RTE_SET_USED(arg);
	if ((bad = gw_ctl_req_unknown(req, keys)) != NULL) {
		gw_ctl_reply_error(rp, "list: unknown option '%s'", bad);
		return;
	}
	if (gw_ctl_filter_parse(req, &f, rp) < 0)
		return;
	if (gw_ctl_req_u64(req, "limit", &a.limit) < 0) {
		gw_ctl_reply_error(rp, "limit: want a number");
		return;
	}
	gw_ctl_json_arr_begin(rp, "conns");
	gw_ctl_walk(&f, gw_ctl_list_one, &a);
	gw_ctl_json_arr_end(rp);
	gw_ctl_json_u64(rp, "count", a.n);
}

/* ---- mappings -------------------------------------------------------------------------- */

/*
 * The NAT mappings in use, from the connections that hold them (a dynamic mapping lives as
 * long as a connection references it, nat.h): per protocol, inside endpoint and outside
 * endpoint, how many connections and to how many remote hosts; plus the static ones, the
 * port forwards. As VPP's "show nat44 sessions" groups sessions under their user.
 */
struct gw_ctl_map {
	uint8_t proto, kind;		/* kind 0: dynamic (SNAT), 1: forward (DNAT) */
	uint16_t in_port, out_port;	/* network order */
	uint32_t in_addr, out_addr;
	uint32_t worker;
	uint32_t conns;
	uint32_t remote;		/* one remote address seen (for the count below) */
	uint32_t remotes;
};

struct gw_ctl_map_arg {
	struct gw_ctl_map *m;
	size_t n, cap;
	bool oom;
};

static void
gw_ctl_map_one(const struct ct_conn_info *ci, unsigned int worker, void *arg)
{
	struct gw_ctl_map_arg *a = arg;
	const struct ct_tuple *o = &ci->tuple[0], *r = &ci->tuple[1];
	struct gw_ctl_map *m;

	if (!(ci->status & (CT_ST_SNAT | CT_ST_DNAT)))
		return;
	if (a->n == a->cap) {
		size_t cap = a->cap != 0 ? a->cap * 2 : 1024;
		struct gw_ctl_map *b = realloc(a->m, cap * sizeof(*b));

		if (b == NULL) {
			a->oom = true;
			return;
		}
		a->m = b;
		a->cap = cap;
	}
	m = &a->m[a->n++];
	memset(m, 0, sizeof(*m));
	m->proto = o->proto;
	m->worker = worker;
	m->conns = 1;
	m->remotes = 1;
	if (ci->status & CT_ST_SNAT) {	/* inside o->src:sport leaves as r->dst:dport */
		m->kind = 0;
		m->in_addr = o->src;
		m->in_port = o->sport;
		m->out_addr = r->dst;
		m->out_port = r->dport;
		m->remote = o->dst;
	} else {			/* outside o->dst:dport reaches inside r->src:sport */
		m->kind = 1;
		m->in_addr = r->src;
		m->in_port = r->sport;
		m->out_addr = o->dst;
		m->out_port = o->dport;
		m->remote = o->src;
	}
}

static int
gw_ctl_map_cmp(const void *x, const void *y)
{
	const struct gw_ctl_map *a = x, *b = y;
	uint32_t ka[6] = { a->kind, a->proto, rte_be_to_cpu_32(a->in_addr),
			   rte_be_to_cpu_16(a->in_port), rte_be_to_cpu_32(a->out_addr),
			   rte_be_to_cpu_16(a->out_port) };
	uint32_t kb[6] = { b->kind, b->proto, rte_be_to_cpu_32(b->in_addr),
			   rte_be_to_cpu_16(b->in_port), rte_be_to_cpu_32(b->out_addr),
			   rte_be_to_cpu_16(b->out_port) };
	unsigned int i;

	for (i = 0; i < 6; i++)
		if (ka[i] != kb[i])
			return ka[i] < kb[i] ? -1 : 1;
	return a->remote < b->remote ? -1 : a->remote > b->remote;
}

static void
gw_ctl_endpoint(char *buf, size_t len, uint32_t addr, uint16_t port_be, uint8_t proto)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMP)
		snprintf(buf, len, "%s:%u", a, rte_be_to_cpu_16(port_be));
	else
		snprintf(buf, len, "%s", a);
}

static void
gw_ctl_json_fwd(struct gw_ctl_reply *rp, const struct nat_fwd *fw)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], buf[128];

	inet_ntop(AF_INET, &fw->ext_addr, a, sizeof(a));
	inet_ntop(AF_INET, &fw->int_addr, b, sizeof(b));
	gw_ctl_json_obj_begin(rp, NULL);
	gw_ctl_json_str(rp, "proto", gw_ctl_proto_name(fw->proto));
	if (fw->ext_lo == fw->ext_hi)
		snprintf(buf, sizeof(buf), "%s:%u", a, fw->ext_lo);
	else
		snprintf(buf, sizeof(buf), "%s:%u-%u", a, fw->ext_lo, fw->ext_hi);
	gw_ctl_json_str(rp, "outside", buf);
	snprintf(buf, sizeof(buf), "%s:%u", b, fw->int_port);
	gw_ctl_json_str(rp, "inside", buf);
	snprintf(buf, sizeof(buf), "%s %s:%u%s%.0u -> %s:%u", gw_ctl_proto_name(fw->proto), a,
		 fw->ext_lo, fw->ext_lo != fw->ext_hi ? "-" : "",
		 fw->ext_lo != fw->ext_hi ? fw->ext_hi : 0, b, fw->int_port);
	gw_ctl_json_str(rp, "spec", buf);
	gw_ctl_json_obj_end(rp);
}

static void
gw_ctl_cmd_mappings(const struct gw_ctl_req *req, struct gw_ctl_reply *rp, void *arg)
{
	struct gw_ctl_map_arg a = { 0 };
	struct gw_ctl_filter f;
	char buf[64];
	size_t i, j, n = 0;
	const char *bad;

	RTE_SET_USED(arg);
	if ((bad = gw_ctl_req_unknown(req, gw_ctl_filter_keys)) != NULL) {
		gw_ctl_reply_error(rp, "mappings: unknown option '%s'", bad);
		return;
	}
	if (gw_ctl_filter_parse(req, &f, rp) < 0)
		return;
	gw_ctl_walk(&f, gw_ctl_map_one, &a);
	if (a.oom) {
		free(a.m);
		gw_ctl_reply_error(rp, "mappings: out of memory");
		return;
	}
	if (a.n != 0)
		qsort(a.m, a.n, sizeof(a.m[0]), gw_ctl_map_cmp);
	gw_ctl_json_arr_begin(rp, "mappings");
	for (i = 0; i < a.n; i = j) {
		struct gw_ctl_map *m = &a.m[i];
		uint32_t conns = 0, remotes = 0;

		for (j = i; j < a.n && a.m[j].kind == m->kind && a.m[j].proto == m->proto &&
		     a.m[j].in_addr == m->in_addr && a.m[j].in_port == m->in_port &&
		     a.m[j].out_addr == m->out_addr && a.m[j].out_port == m->out_port; j++) {
			conns++;
			remotes += j == i || a.m[j].remote != a.m[j - 1].remote;
		}
		gw_ctl_json_obj_begin(rp, NULL);
		gw_ctl_json_str(rp, "type", m->kind == 0 ? "dynamic" : "forward");
		gw_ctl_json_str(rp, "proto", gw_ctl_proto_name(m->proto));
		gw_ctl_endpoint(buf, sizeof(buf), m->in_addr, m->in_port, m->proto);
		gw_ctl_json_str(rp, "inside", buf);
		gw_ctl_endpoint(buf, sizeof(buf), m->out_addr, m->out_port, m->proto);
		gw_ctl_json_str(rp, "outside", buf);
		gw_ctl_json_u64(rp, "conns", conns);
		gw_ctl_json_u64(rp, "remotes", remotes);
		gw_ctl_json_u64(rp, "worker", m->worker);
		gw_ctl_json_obj_end(rp);
		n++;
	}
	gw_ctl_json_arr_end(rp);
	gw_ctl_json_u64(rp, "count", n);
	gw_ctl_json_arr_begin(rp, "static");
	for (i = 0; i < gw_ctl_st.cur.n_fwds; i++)
		gw_ctl_json_fwd(rp, &gw_ctl_st.cur.fwds[i]);
	gw_ctl_json_arr_end(rp);
	free(a.m);
}

/* ---- flush / delete -------------------------------------------------------------------- */

static int
gw_ctl_w_flush(struct gw_worker *w, const void *arg, uint64_t *pos, uint64_t *touched,
	       ct_time_t now)
{
	const struct gw_ctl_filter *f = arg;
	struct ct_table *ct = w->ct;
	uint32_t cap = ct_table_capacity(ct), id, end;
	struct ct_conn *c;

	if (f->worker >= 0 && (unsigned int)f->worker != w->idx)
		return 0;
	/* a dead entry the reaper has not reached yet is no connection any more (the listing
	 * does not show it): left to the reaper, which counts it as expired */
	if (f->id >= 0) {
		c = ct_conn_by_id(ct, (uint32_t)f->id);
		if (c != NULL && ct_conn_expire(c, now) > now &&
		    gw_ctl_match(f, ct_conn_tuple(c, CT_DIR_ORIG),
					      ct_conn_tcp_state(c), w->idx, (uint32_t)f->id)) {
			ct_delete(ct, c);
			(*touched)++;
		}
		return 0;
	}
	end = (uint32_t)RTE_MIN((uint64_t)cap, *pos + GW_CTL_BUDGET);
	for (id = (uint32_t)*pos; id < end; id++) {
		c = ct_conn_by_id(ct, id);
		if (c == NULL || ct_conn_expire(c, now) <= now ||
		    !gw_ctl_match(f, ct_conn_tuple(c, CT_DIR_ORIG), ct_conn_tcp_state(c), w->idx,
				  id))
			continue;
		ct_delete(ct, c);
		(*touched)++;
	}
	*pos = end;
	return end < cap;
}

static int
gw_ctl_flush_run(const struct gw_ctl_filter *f, uint64_t *touched, const char *what,
		 struct gw_ctl_reply *rp)
{
	unsigned int late;
	char err[256];
	int rc;

	rc = gw_ctl_workers_run(gw_ctl_w_flush, f, sizeof(*f), touched, GW_CTL_WAIT_MS, &late);
	if (gw_ctl_run_err(rc, late, what, err, sizeof(err)) < 0) {
		gw_ctl_reply_error(rp, "%s", err);
		return -1;
	}
	return 0;
}

static void
gw_ctl_cmd_flush(const struct gw_ctl_req *req, struct gw_ctl_reply *rp, void *arg)
{
	uint64_t touched[GW_MAX_WORKERS];
	struct gw_ctl_filter f;
	const char *bad;

	RTE_SET_USED(arg);
	if ((bad = gw_ctl_req_unknown(req, gw_ctl_filter_keys)) != NULL) {
		gw_ctl_reply_error(rp, "flush: unknown option '%s'", bad);
		return;
	}
	if (gw_ctl_filter_parse(req, &f, rp) < 0 || gw_ctl_flush_run(&f, touched, "flush", rp) < 0)
		return;
	gw_ctl_json_bool(rp, "all", gw_ctl_filter_empty(&f));
	gw_ctl_json_u64(rp, "deleted", gw_ctl_sum(touched));
	gw_ctl_json_touched(rp, touched);
}

/* One connection: by worker and id (as the listing shows them), or by its whole original
 * tuple (conntrack -D -s -d -p --sport --dport). */
static void
gw_ctl_cmd_delete(const struct gw_ctl_req *req, struct gw_ctl_reply *rp, void *arg)
{
	uint64_t touched[GW_MAX_WORKERS];
	struct gw_ctl_filter f;
	const char *bad;
	bool by_id, by_tuple;

	RTE_SET_USED(arg);
	if ((bad = gw_ctl_req_unknown(req, gw_ctl_filter_keys)) != NULL) {
		gw_ctl_reply_error(rp, "delete: unknown option '%s'", bad);
		return;
	}
	if (gw_ctl_filter_parse(req, &f, rp) < 0)
		return;
	by_id = f.id >= 0 && f.worker >= 0;
	by_tuple = f.smask == UINT32_MAX && f.dmask == UINT32_MAX && f.proto != 0 &&
		   ((f.has_sport && f.has_dport) ||
		    (f.proto != IPPROTO_TCP && f.proto != IPPROTO_UDP));
	if (!by_id && !by_tuple) {
		gw_ctl_reply_error(rp, "delete: name one connection: worker and id (as listed), "
				   "or its original src, dst, proto, sport and dport");
		return;
	}
	if (gw_ctl_flush_run(&f, touched, "delete", rp) < 0)
		return;
	if (gw_ctl_sum(touched) == 0) {
		gw_ctl_reply_error(rp, "delete: no such connection");
		return;
	}
	gw_ctl_json_u64(rp, "deleted", gw_ctl_sum(touched));
	gw_ctl_json_touched(rp, touched);
}

/* ---- changes through the workers: forwards, timeouts, limits, helpers ------------------ */

static int
gw_ctl_w_fwd(struct gw_worker *w, const void *arg, uint64_t *pos, uint64_t *touched,
	     ct_time_t now)
{
	RTE_SET_USED(arg);
	RTE_SET_USED(pos);
	RTE_SET_USED(now);
	nat_ctx_sync(w->nat);
	*touched = nat_fwd_count(nat_ctx_fwd_active(w->nat));
	return 0;
}

int
gw_ctl_apply_fwds(const struct nat_fwd *fwds, unsigned int n, uint64_t *touched, char *err,
		  size_t errlen)
{
	struct gw *g = gw_ctl_st.g;
	struct nat_fwd_table *ft, *old;
	unsigned int i, late;
	char msg[256];
	int rc;

	memset(touched, 0, g->n_workers * sizeof(touched[0]));
	for (i = 0; i < n; i++)
		if (!nat_is_outside_addr(&g->cfg.nat, fwds[i].ext_addr)) {
			snprintf(err, errlen, "forward %u: outside address is not a pool address",
				 i + 1);
			return -1;
		}
	ft = nat_fwd_table_create(fwds, n, msg, sizeof(msg));
	if (ft == NULL) {
		snprintf(err, errlen, "forwards: %s", msg);
		return -1;
	}
	/* publish: steering (gw_owner) reads g->fwd, each worker's NAT its adopted table */
	old = g->fwd;
	__atomic_store_n(&g->fwd, ft, __ATOMIC_RELEASE);
	gw_fast_relearn(g);	/* steering changed: what the fast path learnt (gw_fast.c) */
	for (i = 0; i < g->n_workers; i++)
		nat_ctx_set_fwd(g->w[i]->nat, ft);
	memcpy(gw_ctl_st.cur.fwds, fwds, n * sizeof(fwds[0]));
	gw_ctl_st.cur.n_fwds = n;
	memcpy(g->cfg.fwds, fwds, n * sizeof(fwds[0]));
	__atomic_store_n(&g->cfg.n_fwds, n, __ATOMIC_RELEASE);	/* /natgw/config reads it */
	rc = gw_ctl_workers_run(gw_ctl_w_fwd, NULL, 0, touched, GW_CTL_WAIT_MS, &late);
	if (rc < 0)	/* a worker may still use the old table: it is kept (leaked) */
		return gw_ctl_run_err(rc, late, "forwards", err, errlen);
	for (i = 0; i < g->n_workers; i++)
		if (nat_ctx_fwd_active(g->w[i]->nat) == old)
			return 0;	/* cannot happen after the sync; keep it then */
	nat_fwd_table_free(old);
	return 0;
}

static int
gw_ctl_w_timeouts(struct gw_worker *w, const void *arg, uint64_t *pos, uint64_t *touched,
		  ct_time_t now)
{
	int64_t n = ct_set_timeouts(w->ct, arg, now);

	RTE_SET_USED(pos);
	*touched = n < 0 ? 0 : (uint64_t)n;
	return 0;
}

int
gw_ctl_apply_timeouts(const struct ct_timeouts *to, uint64_t *touched, char *err,
		      size_t errlen)
{
	unsigned int late, i;
	int rc;

	for (i = 0; i < CT_TC_MAX; i++)
		if (to->t[i] == 0) {
			snprintf(err, errlen, "timeout %s: must be > 0", ct_tclass_name(i));
			return -1;
		}
	rc = gw_ctl_workers_run(gw_ctl_w_timeouts, to, sizeof(*to), touched, GW_CTL_WAIT_MS,
				&late);
	gw_ctl_st.cur.timeouts = *to;
	return gw_ctl_run_err(rc, late, "timeouts", err, errlen);
}

static int
gw_ctl_w_limits(struct gw_worker *w, const void *arg, uint64_t *pos, uint64_t *touched,
		ct_time_t now)
{
	RTE_SET_USED(pos);
	RTE_SET_USED(now);
	nat_ctx_set_limits(w->nat, arg);
	*touched = 1;
	return 0;
}

int
gw_ctl_apply_limits(const struct nat_config *lim, uint64_t *touched, char *err, size_t errlen)
{
	unsigned int late;
	int rc;

	rc = gw_ctl_workers_run(gw_ctl_w_limits, lim, sizeof(*lim), touched, GW_CTL_WAIT_MS,
				&late);
	gw_ctl_st.cur.nat.max_conns_per_host = lim->max_conns_per_host;
	gw_ctl_st.cur.nat.max_inbound_conns_per_host = lim->max_inbound_conns_per_host;
	gw_ctl_st.cur.nat.max_ports_per_host = lim->max_ports_per_host;
	return gw_ctl_run_err(rc, late, "limits", err, errlen);
}

static int
gw_ctl_w_helpers(struct gw_worker *w, const void *arg, uint64_t *pos, uint64_t *touched,
		 ct_time_t now)
{
	RTE_SET_USED(pos);
	RTE_SET_USED(now);
	if (w->hc != NULL)
		helper_ctx_set_config(w->hc, arg);
	*touched = w->hc != NULL;
	return 0;
}

int
gw_ctl_apply_helpers(const struct helper_config *hc, uint64_t *touched, char *err,
		     size_t errlen)
{
	unsigned int late;
	int rc;

	rc = gw_ctl_workers_run(gw_ctl_w_helpers, hc, sizeof(*hc), touched, GW_CTL_WAIT_MS,
				&late);
	gw_ctl_st.cur.helpers = *hc;
	return gw_ctl_run_err(rc, late, "helpers", err, errlen);
}

/* ---- forward --------------------------------------------------------------------------- */

static bool
gw_ctl_fwd_same(const struct nat_fwd *a, const struct nat_fwd *b)
{
	return a->proto == b->proto && a->ext_addr == b->ext_addr && a->ext_lo == b->ext_lo &&
	       a->ext_hi == b->ext_hi && a->int_addr == b->int_addr && a->int_port == b->int_port;
}

static void
gw_ctl_cmd_forward(const struct gw_ctl_req *req, struct gw_ctl_reply *rp, void *arg)
{
	static const char *const keys[] = { "op", "spec", NULL };
	static struct nat_fwd fw[GW_MAX_FWDS];
	const struct gw_config *c = &gw_ctl_st.cur;
	uint64_t touched[GW_MAX_WORKERS];
	const char *op = gw_ctl_req_str(req, "op"), *spec = gw_ctl_req_str(req, "spec"), *bad;
	struct nat_fwd f;
	unsigned int i, n = c->n_fwds;
	char err[256];
	bool add;

	RTE_SET_USED(arg);
	if ((bad = gw_ctl_req_unknown(req, keys)) != NULL) {
		gw_ctl_reply_error(rp, "forward: unknown option '%s'", bad);
		return;
	}
	if (op == NULL || strcmp(op, "list") == 0) {
		gw_ctl_json_arr_begin(rp, "forwards");
		for (i = 0; i < c->n_fwds; i++)
			gw_ctl_json_fwd(rp, &c->fwds[i]);
		gw_ctl_json_arr_end(rp);
		gw_ctl_json_u64(rp, "count", c->n_fwds);
		return;
	}
	if (strcmp(op, "add") != 0 && strcmp(op, "del") != 0) {
		gw_ctl_reply_error(rp, "forward: op must be list, add or del, got '%s'", op);
		return;
	}
	add = op[0] == 'a';
	if (spec == NULL) {
		gw_ctl_reply_error(rp, "forward %s: want \"PROTO OUTADDR:PORT[-PORT] -> "
				   "INADDR:PORT\"", op);
		return;
	}
	if (gw_config_parse_fwd(spec, &f, err, sizeof(err)) < 0) {
		gw_ctl_reply_error(rp, "%s", err);
		return;
	}
	memcpy(fw, c->fwds, n * sizeof(fw[0]));
	for (i = 0; i < n && !gw_ctl_fwd_same(&fw[i], &f); i++)
		;
	if (add && i < n) {
		gw_ctl_reply_error(rp, "forward add: '%s' exists already", spec);
		return;
	}
	if (!add && i == n) {
		gw_ctl_reply_error(rp, "forward del: no forward '%s' (see natgw-ctl forward list)",
				   spec);
		return;
	}
	if (add) {
		if (n == GW_MAX_FWDS) {
			gw_ctl_reply_error(rp, "forward add: %u forwards already (the most)",
					   GW_MAX_FWDS);
			return;
		}
		fw[n++] = f;
	} else {
		memmove(&fw[i], &fw[i + 1], (n - i - 1) * sizeof(fw[0]));
		n--;
	}
	if (gw_ctl_apply_fwds(fw, n, touched, err, sizeof(err)) < 0) {
		gw_ctl_reply_error(rp, "forward %s: %s", op, err);
		return;
	}
	gw_ctl_json_u64(rp, "forwards", n);
	gw_ctl_json_touched(rp, touched);
}

/* ---- timeout --------------------------------------------------------------------------- */

static void
gw_ctl_json_timeouts(struct gw_ctl_reply *rp, const struct ct_timeouts *to)
{
	unsigned int i;

	gw_ctl_json_obj_begin(rp, "timeouts");
	for (i = 0; i < CT_TC_MAX; i++)
		gw_ctl_json_u64(rp, ct_tclass_name(i), to->t[i] / CT_USEC_PER_SEC);
	gw_ctl_json_obj_end(rp);
}

static void
gw_ctl_cmd_timeout(const struct gw_ctl_req *req, struct gw_ctl_reply *rp, void *arg)
{
	static struct gw_config tmp;
	uint64_t touched[GW_MAX_WORKERS];
	char spec[600], err[256];
	unsigned int k;

	RTE_SET_USED(arg);
	tmp = gw_ctl_st.cur;
	for (k = 0; k < req->n; k++) {
		if (strcmp(req->f[k].key, "cmd") == 0)
			continue;
		snprintf(spec, sizeof(spec), "%s=%s", req->f[k].key, req->f[k].val);
		if (gw_config_timeout(&tmp, spec, err, sizeof(err)) < 0) {
			gw_ctl_reply_error(rp, "timeout %s: want CLASS=TIME (seconds, or 500ms, "
					   "5m, 2h) with CLASS one of tcp_established, "
					   "udp_unreplied, ... (natgw-ctl timeout lists them)",
					   spec);
			return;
		}
	}
	if (req->n > 1) {
		if (gw_ctl_apply_timeouts(&tmp.timeouts, touched, err, sizeof(err)) < 0) {
			gw_ctl_reply_error(rp, "%s", err);
			return;
		}
		gw_ctl_json_touched(rp, touched);
	}
	gw_ctl_json_timeouts(rp, &gw_ctl_st.cur.timeouts);
}

/* ---- counters -------------------------------------------------------------------------- */

/*
 * Workers own their counters (written without atomics by one writer), so "reset" does not
 * clear them: it takes a baseline, and "counters" shows what accumulated since (as
 * `conntrack -S` after `-z`; /natgw/stats keeps showing the totals since start). Gauges
 * (active connections, mappings, ports in use, fragments held, expectations) are shown as
 * they are.
 */
_Static_assert(sizeof(struct gw_stats) % sizeof(uint64_t) == 0, "gw_stats is u64 words");
static struct gw_stats gw_ctl_base;
static time_t gw_ctl_base_time;

static void
gw_ctl_cmd_counters(const struct gw_ctl_req *req, struct gw_ctl_reply *rp, void *arg)
{
	static const char *const keys[] = { "reset", NULL };
	static struct gw_stats s;
	uint64_t *v = (uint64_t *)&s;
	const uint64_t *b = (const uint64_t *)&gw_ctl_base;
	struct gw_stats g;
	unsigned int i, p;
	const char *bad;
	char k[64];

	RTE_SET_USED(arg);
	if ((bad = gw_ctl_req_unknown(req, keys)) != NULL) {
		gw_ctl_reply_error(rp, "counters: unknown option '%s'", bad);
		return;
	}
	gw_stats_get(gw_ctl_st.g, &g);
	if (gw_ctl_req_bool(req, "reset", false)) {
		gw_ctl_base = g;
		gw_ctl_base_time = time(NULL);
		gw_ctl_json_bool(rp, "reset", true);
	}
	s = g;
	for (i = 0; i < sizeof(s) / sizeof(uint64_t); i++)
		v[i] = v[i] >= b[i] ? v[i] - b[i] : 0;
	/* gauges */
	s.ct.active = g.ct.active;
	s.nat.mappings_active = g.nat.mappings_active;
	s.nat.ports_in_use = g.nat.ports_in_use;
	s.w.frag_held = g.w.frag_held;
	s.hlp.expect_active = g.hlp.expect_active;
	gw_ctl_json_u64(rp, "since", (uint64_t)gw_ctl_base_time);
	gw_ctl_json_obj_begin(rp, "ports");
	for (p = 0; p < GW_PORT_MAX; p++) {
		gw_ctl_json_obj_begin(rp, gw_port_name(p));
		gw_ctl_json_u64(rp, "rx", s.w.rx[p]);
		gw_ctl_json_u64(rp, "tx", s.w.tx[p]);
		gw_ctl_json_u64(rp, "drop", s.w.drop[p]);
		gw_ctl_json_obj_end(rp);
	}
	gw_ctl_json_obj_end(rp);
	gw_ctl_json_obj_begin(rp, "conntrack");
	gw_ctl_json_u64(rp, "active", s.ct.active);
	gw_ctl_json_u64(rp, "created", s.ct.created);
	gw_ctl_json_u64(rp, "expired", s.ct.expired);
	gw_ctl_json_u64(rp, "deleted", s.ct.deleted);
	gw_ctl_json_u64(rp, "evicted", s.ct.evicted);
	gw_ctl_json_u64(rp, "refused", s.ct.refused);
	gw_ctl_json_obj_end(rp);
	gw_ctl_json_obj_begin(rp, "nat");
	gw_ctl_json_u64(rp, "mappings_active", s.nat.mappings_active);
	gw_ctl_json_u64(rp, "mappings_created", s.nat.mappings_created);
	gw_ctl_json_u64(rp, "ports_in_use", s.nat.ports_in_use);
	gw_ctl_json_u64(rp, "hairpinned", s.nat.hairpinned);
	gw_ctl_json_u64(rp, "forwarded_in", s.nat.forwarded_in);
	gw_ctl_json_obj_end(rp);
	gw_ctl_json_obj_begin(rp, "gateway");
	gw_ctl_json_u64(rp, "handoff", s.w.handoff_out);
	gw_ctl_json_u64(rp, "fast_path", s.w.fast_path);
	gw_ctl_json_u64(rp, "arp_requests", s.w.arp_requests);
	gw_ctl_json_u64(rp, "arp_replies", s.w.arp_replies);
	gw_ctl_json_u64(rp, "icmp_sent", s.w.icmp_sent);
	gw_ctl_json_u64(rp, "reassembled", s.w.reassembled);
	gw_ctl_json_u64(rp, "fragmented", s.w.fragmented);
	gw_ctl_json_obj_end(rp);
	gw_ctl_json_obj_begin(rp, "drops");
	for (i = 1; i < GW_DROP_MAX; i++)
		if (s.w.reason[i] != 0) {
			snprintf(k, sizeof(k), "%s", gw_drop_id(i));
			gw_ctl_json_u64(rp, k, s.w.reason[i]);
		}
	gw_ctl_json_obj_end(rp);
}

/* ---- set-up ---------------------------------------------------------------------------- */

int
gw_ctl_cmds_init(struct gw *g, const struct gw_config *cur, ct_time_t (*clock)(void),
		 gw_ctl_load_fn load, char *err, size_t errlen)
{
	char name[RTE_RING_NAMESIZE];
	unsigned int i = 0, lcore;

	gw_ctl_st.g = g;
	/* the baseline reload compares with: the file as read (with the command line), not
	 * what main.c derived from it afterwards (RSS set-up, a VLAN trunk's rss_off) */
	if (load == NULL || load(&gw_ctl_st.cur, err, errlen) < 0)
		gw_ctl_st.cur = *cur;
	gw_ctl_st.cur.nat.rss = cur->nat.rss;
	gw_ctl_rules_baseline(&gw_ctl_st.cur);
	gw_ctl_st.clock = clock;
	gw_ctl_st.load = load;
	RTE_LCORE_FOREACH_WORKER(lcore) {	/* worker i runs on the i-th worker lcore */
		if (i < GW_MAX_WORKERS)
			gw_ctl_st.lcore[i++] = lcore;
	}
	for (i = 0; i < gw_n_workers(g); i++) {
		snprintf(name, sizeof(name), "natgw_ctl%u", i);
		gw_cw[i].ring = rte_ring_create(name, GW_CTL_RING, rte_socket_id(),
						RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (gw_cw[i].ring == NULL) {
			snprintf(err, errlen, "control ring %u: %s", i, rte_strerror(rte_errno));
			return -1;
		}
	}
	memset(&gw_ctl_base, 0, sizeof(gw_ctl_base));	/* since start, until a reset */
	gw_ctl_base_time = time(NULL);
	if (gw_ctl_register("list", gw_ctl_cmd_list, NULL) < 0 ||
	    gw_ctl_register("mappings", gw_ctl_cmd_mappings, NULL) < 0 ||
	    gw_ctl_register("flush", gw_ctl_cmd_flush, NULL) < 0 ||
	    gw_ctl_register("delete", gw_ctl_cmd_delete, NULL) < 0 ||
	    gw_ctl_register("forward", gw_ctl_cmd_forward, NULL) < 0 ||
	    gw_ctl_register("timeout", gw_ctl_cmd_timeout, NULL) < 0 ||
	    gw_ctl_register("counters", gw_ctl_cmd_counters, NULL) < 0 ||
	    gw_ctl_register("reload", gw_ctl_cmd_reload, NULL) < 0) {
		snprintf(err, errlen, "control commands: registration failed");
		return -1;
	}
	return 0;
}

void
gw_ctl_cmds_free(void)
{
	unsigned int i;

	gw_ctl_late_gc(true);	/* the workers have stopped */
	for (i = 0; i < GW_MAX_WORKERS; i++) {
		rte_ring_free(gw_cw[i].ring);
		gw_cw[i].ring = NULL;
		gw_cw[i].cur = NULL;
	}
}

const struct gw_config *
gw_ctl_config(void)
{
	return &gw_ctl_st.cur;
}
