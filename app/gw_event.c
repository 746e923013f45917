/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_event.c - connection events from the workers to the main lcore, and what the main
 * lcore does with them (app/gw_event.h): the per-worker SP/SC rings of 64-byte records
 * (rte_ring with element size), the producers the pipeline calls on connection new /
 * update / destroy (the last through conntrack's CT_CB_EVENT destroy slot), and the
 * consumer: drain, listeners, syslog and IPFIX sockets, the rate bucket, template timing.
 *
 * Workers: an enqueue is a few stores into the worker's own ring; a full ring counts the
 * record lost (never a wait, never a syscall). Produced only while w->ev_on, which the
 * main lcore sets when a sink or listener exists (a relaxed atomic; workers read it per
 * event-worthy point: one predictable branch when off).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "gw_ctl.h"
#include "gw_private.h"

#define GW_LOG_LISTENERS	16
#define GW_LOG_DRAIN_BURST	64

/* ---------------------------------------------------------------------------------------
 * Producer side [owner]
 */

static inline void
gw_event_put(struct gw_worker *w, struct gw_event *e)
{
	if (rte_ring_sp_enqueue_elem(w->ev_ring, e, sizeof(*e)) == 0)
		w->st.events++;
	else
		w->st.events_lost++;
}

/* IPv4 connections only: IPv6 and NAT64 entries of the table (ct_ip6.c) key folded
 * addresses that the record cannot carry (their events are not produced yet) */
static inline bool
gw_event_v4(const struct ct_conn *c)
{
	return ct_conn_tuple(c, CT_DIR_ORIG)->family == CT_FAMILY_IPV4 &&
	       ct_conn_tuple(c, CT_DIR_REPLY)->family == CT_FAMILY_IPV4;
}

static void
gw_event_fill(struct gw_worker *w, struct gw_event *e, const struct ct_conn *c, uint8_t type)
{
	memset(e, 0, sizeof(*e));
	e->time = w->ev_now;
	e->tuple[CT_DIR_ORIG] = *ct_conn_tuple(c, CT_DIR_ORIG);
	e->tuple[CT_DIR_REPLY] = *ct_conn_tuple(c, CT_DIR_REPLY);
	e->id = ct_conn_id(w->ct, c);
	e->status = ct_conn_status(c);
	e->tcp_state = (uint8_t)ct_conn_tcp_state(c);
	e->type = type;
	e->worker = (uint8_t)w->idx;
}

void
gw_event_conn_new(struct gw_worker *w, const struct ct_conn *c)
{
	struct gw_event e;

	if (!gw_event_v4(c))
		return;
	gw_event_fill(w, &e, c, GW_EV_NEW);
	e.expire = ct_conn_expire(c, w->ev_now);
	gw_event_put(w, &e);
}

void
gw_event_conn_check(struct gw_worker *w, const struct ct_conn *c, uint16_t old_status,
		    uint8_t old_tcp)
{
	const uint16_t seen = CT_ST_SEEN_REPLY | CT_ST_ASSURED;
	struct gw_event e;

	if ((((ct_conn_status(c) ^ old_status) & seen) == 0 &&
	     (uint8_t)ct_conn_tcp_state(c) == old_tcp) || !gw_event_v4(c))
		return;
	gw_event_fill(w, &e, c, GW_EV_UPDATE);
	e.expire = ct_conn_expire(c, w->ev_now);
	gw_event_put(w, &e);
}

/* conntrack's destroy slot CT_CB_EVENT: every connection leaving the table */
static void
gw_event_ct_destroyed(struct ct_table *t, struct ct_conn *c, void *arg)
{
	struct gw_worker *w = arg;
	struct gw_event e;

	RTE_SET_USED(t);
	/* a connection whose first packet was dropped was never confirmed (no NEW) */
	if (!__atomic_load_n(&w->ev_on, __ATOMIC_RELAXED) || c == w->ev_fresh ||
	    !gw_event_v4(c))
		return;
	gw_event_fill(w, &e, c, GW_EV_DESTROY);
	e.reason = ct_conn_expire(c, w->ev_now) <= w->ev_now ? GW_EV_R_TIMEOUT : w->ev_why;
	gw_event_put(w, &e);
}

int
gw_event_worker_init(struct gw_worker *w, unsigned int size, bool use_heap, int socket)
{
	ssize_t sz;
	char name[RTE_RING_NAMESIZE];

	if (size == 0)
		size = GW_EV_RING_DEFAULT;	/* a gw_config not from gw_config_default */
	sz = rte_ring_get_memsize_elem(sizeof(struct gw_event), size);	/* size - 1 usable */
	if (sz < 0)
		return -1;
	if (use_heap) {
		if (posix_memalign((void **)&w->ev_ring, RTE_CACHE_LINE_SIZE, (size_t)sz) != 0)
			w->ev_ring = NULL;
	} else {
		w->ev_ring = rte_zmalloc_socket("natgw_ev", (size_t)sz, RTE_CACHE_LINE_SIZE,
						socket);
	}
	if (w->ev_ring == NULL)
		return -1;
	snprintf(name, sizeof(name), "gwev%u_%p", w->idx, (void *)w);
	if (rte_ring_init(w->ev_ring, name, size, RING_F_SP_ENQ | RING_F_SC_DEQ) < 0)
		return -1;
	w->ev_why = GW_EV_R_DELETED;
	ct_set_destroy_cb_slot(w->ct, CT_CB_EVENT, gw_event_ct_destroyed, w);
	return 0;
}

void
gw_event_worker_free(struct gw_worker *w, bool use_heap)
{
	if (w->ct != NULL)
		ct_set_destroy_cb_slot(w->ct, CT_CB_EVENT, NULL, NULL);
	w->ev_on = 0;
	if (use_heap)
		free(w->ev_ring);
	else
		rte_free(w->ev_ring);
	w->ev_ring = NULL;
}

/* ---------------------------------------------------------------------------------------
 * Consumer side [main]
 */

struct gw_log_listener {
	gw_event_listener_fn fn;
	void *arg;
};

struct gw_log {
	struct gw *g;
	struct gw_log_config cfg;
	int64_t wall_offset;
	int syslog_fd, ipfix_fd;
	unsigned int pid;
	char hostname[64];
	struct gw_log_listener lis[GW_LOG_LISTENERS];
	unsigned int n_lis;
	/* rate bucket: tokens in millionths of a message */
	uint64_t tokens;
	ct_time_t tokens_at;
	/* IPFIX stream */
	struct gw_ipfix_msg msg;
	uint32_t seq;			/* data records sent in this stream (RFC 7011 3.1) */
	bool template_due;
	ct_time_t template_at;		/* last template sent */
	uint32_t since_template;	/* data records since */
	ct_time_t now;
	struct gw_log_stats st;
	/* a reload checked, not yet applied (gw_log_reload_check) */
	bool pending;
	int pend_syslog_fd, pend_ipfix_fd;
};

static void
gw_log_pending_close(struct gw_log *lg)
{
	if (lg->pend_syslog_fd >= 0)
		close(lg->pend_syslog_fd);
	if (lg->pend_ipfix_fd >= 0)
		close(lg->pend_ipfix_fd);
	lg->pend_syslog_fd = lg->pend_ipfix_fd = -1;
	lg->pending = false;
}

static int
gw_log_socket(const struct gw_log_dst *d, const char *what, char *err, size_t errlen)
{
	struct sockaddr_in sin;
	struct sockaddr_un sun;
	int fd;

	if (d->kind == GW_LOG_DST_NONE)
		return -1;
	fd = socket(d->kind == GW_LOG_DST_UNIX ? AF_UNIX : AF_INET,
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "[log] %s: socket: %s", what, strerror(errno));
		return -2;
	}
	if (d->kind == GW_LOG_DST_UNIX) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", d->path);
		/* connect now if it is there; else each message is sent to the path */
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 && errno != ENOENT &&
		    errno != ECONNREFUSED) {
			snprintf(err, errlen, "[log] %s: unix:%s: %s", what, d->path,
				 strerror(errno));
			close(fd);
			return -2;
		}
		return fd;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = d->addr;
	sin.sin_port = htons(d->port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		snprintf(err, errlen, "[log] %s: %s", what, strerror(errno));
		close(fd);
		return -2;
	}
	return fd;
}

static void
gw_log_set_on(struct gw_log *lg)
{
	uint8_t on = lg->n_lis != 0 || lg->syslog_fd >= 0 || lg->ipfix_fd >= 0;
	unsigned int i;

	for (i = 0; i < gw_n_workers(lg->g); i++)
		__atomic_store_n(&lg->g->w[i]->ev_on, on, __ATOMIC_RELAXED);
}

static void
gw_log_send(int fd, const struct gw_log_dst *d, const void *buf, size_t len, uint64_t *ok,
	    uint64_t *errs)
{
	ssize_t n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && d->kind == GW_LOG_DST_UNIX && (errno == ENOTCONN || errno == EDESTADDRREQ)) {
		struct sockaddr_un sun;

		/* the receiver was not there at start: try its path each time */
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", d->path);
		n = sendto(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sun,
			   sizeof(sun));
	}
	if (n == (ssize_t)len)
		(*ok)++;
	else
		(*errs)++;
}

static void
gw_ipfix_flush(struct gw_log *lg)
{
	uint64_t wall = (uint64_t)((int64_t)lg->now + lg->wall_offset);
	size_t len;

	if (lg->msg.len <= 16)
		return;
	len = gw_ipfix_finish(&lg->msg, (uint32_t)(wall / CT_USEC_PER_SEC), lg->seq,
			      lg->cfg.domain_id);
	gw_log_send(lg->ipfix_fd, &lg->cfg.ipfix, lg->msg.buf, len, &lg->st.ipfix_messages,
		    &lg->st.ipfix_errors);
	lg->seq += lg->msg.records;	/* sent or not: a collector sees the gap (RFC 7011 3.1) */
	gw_ipfix_begin(&lg->msg);
}

static void
gw_ipfix_template(struct gw_log *lg)
{
	if (gw_ipfix_add_template(&lg->msg) < 0) {
		gw_ipfix_flush(lg);
		gw_ipfix_add_template(&lg->msg);
	}
	lg->st.ipfix_templates++;
	lg->template_at = lg->now;
	lg->since_template = 0;
	lg->template_due = false;
}

static void
gw_ipfix_record(struct gw_log *lg, const struct gw_nat_session *s)
{
	if (lg->template_due ||
	    (lg->cfg.template_records != 0 && lg->since_template >= lg->cfg.template_records))
		gw_ipfix_template(lg);
	if (gw_ipfix_add_record(&lg->msg, s) < 0) {
		gw_ipfix_flush(lg);
		gw_ipfix_add_record(&lg->msg, s);
	}
	lg->since_template++;
	lg->st.ipfix_records++;
}

/* One session log: a token of the [log] rate bucket (burst: one second's worth). */
static bool
gw_log_take_token(struct gw_log *lg)
{
	const uint64_t one = CT_USEC_PER_SEC;	/* a message, in millionths */

	if (lg->cfg.rate == 0)
		return true;
	if (lg->now - lg->tokens_at >= one)
		lg->tokens = lg->cfg.rate * one;	/* a second or more: full */
	else if (lg->now > lg->tokens_at)
		lg->tokens = RTE_MIN(lg->tokens + (lg->now - lg->tokens_at) * lg->cfg.rate,
				     lg->cfg.rate * one);
	lg->tokens_at = lg->now;
	if (lg->tokens < one)
		return false;
	lg->tokens -= one;
	return true;
}

static void
gw_log_event(struct gw_log *lg, const struct gw_event *e)
{
	struct gw_nat_session s;
	char line[512];
	unsigned int i;
	int n;

	lg->st.events++;
	if (lg->n_lis != 0) {
		gw_event_format(line, sizeof(line), e);
		for (i = 0; i < lg->n_lis; i++)
			lg->lis[i].fn(lg->lis[i].arg, e, line);
	}
	if ((lg->syslog_fd < 0 && lg->ipfix_fd < 0) ||
	    !gw_nat_session_from_event(e, lg->wall_offset, &s))
		return;
	lg->st.sessions++;
	if (!gw_log_take_token(lg)) {
		lg->st.rate_dropped++;
		return;
	}
	if (lg->syslog_fd >= 0) {
		n = gw_syslog_format(line, sizeof(line), &s, lg->cfg.facility, lg->hostname,
				     lg->pid);
		if (n > 0)
			gw_log_send(lg->syslog_fd, &lg->cfg.syslog, line, (size_t)n,
				    &lg->st.syslog_sent, &lg->st.syslog_errors);
	}
	if (lg->ipfix_fd >= 0)
		gw_ipfix_record(lg, &s);
}

unsigned int
gw_log_poll(struct gw_log *lg, ct_time_t now)
{
	struct gw_event ev[GW_LOG_DRAIN_BURST];
	unsigned int i, k, n, total = 0;

	lg->now = now;
	if (lg->ipfix_fd >= 0 && (lg->template_due ||
	    now - lg->template_at >= (ct_time_t)lg->cfg.template_interval * CT_USEC_PER_SEC))
		gw_ipfix_template(lg);	/* at start and periodically, with or without data */
	for (i = 0; i < gw_n_workers(lg->g); i++) {
		struct rte_ring *r = lg->g->w[i]->ev_ring;

		do {
			n = rte_ring_sc_dequeue_burst_elem(r, ev, sizeof(ev[0]), RTE_DIM(ev),
							   NULL);
			for (k = 0; k < n; k++)
				gw_log_event(lg, &ev[k]);
			total += n;
		} while (n == RTE_DIM(ev));
	}
	if (lg->ipfix_fd >= 0)
		gw_ipfix_flush(lg);
	return total;
}

static int
gw_log_open(struct gw_log *lg, const struct gw_log_config *cfg, char *err, size_t errlen)
{
	int s, x;

	s = gw_log_socket(&cfg->syslog, "syslog", err, errlen);
	if (s == -2)
		return -1;
	x = gw_log_socket(&cfg->ipfix, "ipfix", err, errlen);
	if (x == -2) {
		if (s >= 0)
			close(s);
		return -1;
	}
	lg->syslog_fd = s;
	lg->ipfix_fd = x;
	return 0;
}

struct gw_log *
gw_log_create(struct gw *g, const struct gw_log_config *cfg, int64_t wall_offset_us,
	      char *err, size_t errlen)
{
	struct gw_log *lg = calloc(1, sizeof(*lg));

	if (lg == NULL) {
		snprintf(err, errlen, "[log]: out of memory");
		return NULL;
	}
	lg->g = g;
	lg->cfg = *cfg;
	lg->wall_offset = wall_offset_us;
	lg->pid = (unsigned int)getpid();
	lg->pend_syslog_fd = lg->pend_ipfix_fd = -1;
	if (cfg->hostname[0] != '\0')
		snprintf(lg->hostname, sizeof(lg->hostname), "%s", cfg->hostname);
	else if (gethostname(lg->hostname, sizeof(lg->hostname) - 1) != 0)
		snprintf(lg->hostname, sizeof(lg->hostname), "-");
	if (gw_log_open(lg, cfg, err, errlen) < 0) {
		free(lg);
		return NULL;
	}
	lg->tokens = (uint64_t)cfg->rate * CT_USEC_PER_SEC;
	lg->template_due = true;
	gw_ipfix_begin(&lg->msg);
	gw_log_set_on(lg);
	return lg;
}

int
gw_log_reload_check(struct gw_log *lg, const struct gw_log_config *cfg, char *err,
		    size_t errlen)
{
	struct gw_log nl;

	if (cfg->ring_size != lg->cfg.ring_size) {
		snprintf(err, errlen, "[log] ring_size cannot change live (%u, running with %u)",
			 cfg->ring_size, lg->cfg.ring_size);
		return -1;
	}
	gw_log_pending_close(lg);
	if (gw_log_open(&nl, cfg, err, errlen) < 0)
		return -1;
	lg->pend_syslog_fd = nl.syslog_fd;
	lg->pend_ipfix_fd = nl.ipfix_fd;
	lg->pending = true;
	return 0;
}

void
gw_log_reload_apply(struct gw_log *lg, const struct gw_log_config *cfg)
{
	char err[256];
	bool restart;

	if (!lg->pending && gw_log_reload_check(lg, cfg, err, sizeof(err)) < 0)
		return;		/* not checked first: keep what runs */
	if (lg->ipfix_fd >= 0)
		gw_ipfix_flush(lg);	/* what the old stream holds goes out first */
	if (lg->syslog_fd >= 0)
		close(lg->syslog_fd);
	if (lg->ipfix_fd >= 0)
		close(lg->ipfix_fd);
	restart = memcmp(&cfg->ipfix, &lg->cfg.ipfix, sizeof(cfg->ipfix)) != 0 ||
		  cfg->domain_id != lg->cfg.domain_id;
	lg->syslog_fd = lg->pend_syslog_fd;
	lg->ipfix_fd = lg->pend_ipfix_fd;
	lg->pend_syslog_fd = lg->pend_ipfix_fd = -1;
	lg->pending = false;
	lg->cfg = *cfg;
	if (cfg->hostname[0] != '\0')
		snprintf(lg->hostname, sizeof(lg->hostname), "%s", cfg->hostname);
	if (restart) {	/* a new stream (RFC 7011 3.1): sequence 0, template first */
		lg->seq = 0;
		lg->template_due = true;
	}
	if (lg->tokens > (uint64_t)cfg->rate * CT_USEC_PER_SEC)
		lg->tokens = (uint64_t)cfg->rate * CT_USEC_PER_SEC;
	gw_log_set_on(lg);
}

int
gw_log_reload(struct gw_log *lg, const struct gw_log_config *cfg, char *err, size_t errlen)
{
	if (gw_log_reload_check(lg, cfg, err, errlen) < 0)
		return -1;
	gw_log_reload_apply(lg, cfg);
	return 0;
}

void
gw_log_free(struct gw_log *lg)
{
	if (lg == NULL)
		return;
	gw_log_poll(lg, lg->now);
	lg->n_lis = 0;
	gw_log_pending_close(lg);
	if (lg->syslog_fd >= 0)
		close(lg->syslog_fd);
	if (lg->ipfix_fd >= 0)
		close(lg->ipfix_fd);
	lg->syslog_fd = lg->ipfix_fd = -1;
	gw_log_set_on(lg);
	free(lg);
}

int
gw_log_listener_add(struct gw_log *lg, gw_event_listener_fn fn, void *arg)
{
	if (lg->n_lis == GW_LOG_LISTENERS)
		return -1;
	lg->lis[lg->n_lis].fn = fn;
	lg->lis[lg->n_lis].arg = arg;
	lg->n_lis++;
	gw_log_set_on(lg);
	return 0;
}

int
gw_log_listener_del(struct gw_log *lg, gw_event_listener_fn fn, void *arg)
{
	unsigned int i;

	for (i = 0; i < lg->n_lis; i++) {
		if (lg->lis[i].fn != fn || lg->lis[i].arg != arg)
			continue;
		lg->lis[i] = lg->lis[--lg->n_lis];
		gw_log_set_on(lg);
		return 0;
	}
	return -1;
}

void
gw_log_stats_get(const struct gw_log *lg, struct gw_log_stats *out)
{
	struct gw_worker_stats ws;
	unsigned int i;

	*out = lg->st;
	out->events_lost = 0;
	for (i = 0; i < gw_n_workers(lg->g); i++) {
		gw_worker_stats_get(lg->g->w[i], &ws);
		out->events_lost += ws.events_lost;
	}
}

void
gw_log_stats_print(FILE *f, const struct gw_log *lg)
{
	struct gw_log_stats s;

	gw_log_stats_get(lg, &s);
	fprintf(f, "log: events %" PRIu64 " lost %" PRIu64 " sessions %" PRIu64
		" rate_dropped %" PRIu64 " syslog sent %" PRIu64 " errors %" PRIu64
		" ipfix messages %" PRIu64 " records %" PRIu64 " templates %" PRIu64
		" errors %" PRIu64 "\n", s.events, s.events_lost, s.sessions, s.rate_dropped,
		s.syslog_sent, s.syslog_errors, s.ipfix_messages, s.ipfix_records,
		s.ipfix_templates, s.ipfix_errors);
}

/* ---------------------------------------------------------------------------------------
 * The control channel (app/gw_ctl.h): `events` (a stream, like conntrack -E), `log` (the
 * counters) and the reload hook of [log]
 */

struct gw_log_sub {
	struct gw_log *lg;
	struct gw_ctl_client *c;
	uint8_t proto;			/* 0: any */
	uint32_t src, dst;		/* orig direction, network order; 0: any */
};

static void
gw_log_sub_line(void *arg, const struct gw_event *e, const char *line)
{
	struct gw_log_sub *sub = arg;
	const struct ct_tuple *o = &e->tuple[CT_DIR_ORIG];

	static const char *const type[] = { "?", "NEW", "UPDATE", "DESTROY" };
	char buf[640];
	int n;

	if ((sub->proto != 0 && o->proto != sub->proto) ||
	    (sub->src != 0 && o->src != sub->src) || (sub->dst != 0 && o->dst != sub->dst))
		return;
	/* one JSON object per line (the channel's protocol); the text has nothing to escape:
	 * addresses, numbers and fixed words (gw_event_format) */
	n = snprintf(buf, sizeof(buf), "{\"type\":\"%s\",\"id\":%u,\"worker\":%u,\"line\":\"%s\"}",
		     type[e->type <= GW_EV_DESTROY ? e->type : 0], e->id, e->worker, line);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return;
	if (gw_ctl_client_send(sub->c, buf, (size_t)n) == -ENOBUFS)
		sub->lg->st.stream_dropped++;
}

static void
gw_log_sub_closed(struct gw_ctl_client *c, void *arg)
{
	struct gw_log_sub *sub = arg;

	RTE_SET_USED(c);
	gw_log_listener_del(sub->lg, gw_log_sub_line, sub);
	free(sub);
}

static int
gw_log_filter_addr(const struct gw_ctl_req *req, const char *key, uint32_t *a,
		   struct gw_ctl_reply *rp)
{
	const char *v = gw_ctl_req_str(req, key);

	if (v == NULL)
		return 0;
	if (inet_pton(AF_INET, v, a) != 1) {
		gw_ctl_reply_error(rp, "events: %s '%s': want an IPv4 address", key, v);
		return -1;
	}
	return 0;
}

static void
gw_log_cmd_events(const struct gw_ctl_req *req, struct gw_ctl_reply *rp, void *arg)
{
	static const char *const allowed[] = { "proto", "src", "dst", NULL };
	struct gw_log_sub f = { .lg = arg };
	struct gw_log_sub *sub;
	const char *v, *bad = gw_ctl_req_unknown(req, allowed);

	if (bad != NULL) {
		gw_ctl_reply_error(rp, "events: unknown option '%s' (proto, src, dst)", bad);
		return;
	}
	v = gw_ctl_req_str(req, "proto");
	if (v != NULL) {
		if (strcmp(v, "tcp") == 0 || strcmp(v, "6") == 0)
			f.proto = IPPROTO_TCP;
		else if (strcmp(v, "udp") == 0 || strcmp(v, "17") == 0)
			f.proto = IPPROTO_UDP;
		else if (strcmp(v, "icmp") == 0 || strcmp(v, "1") == 0)
			f.proto = IPPROTO_ICMP;
		else {
			gw_ctl_reply_error(rp, "events: proto '%s': want tcp, udp or icmp", v);
			return;
		}
	}
	if (gw_log_filter_addr(req, "src", &f.src, rp) < 0 ||
	    gw_log_filter_addr(req, "dst", &f.dst, rp) < 0)
		return;
	sub = malloc(sizeof(*sub));
	if (sub == NULL) {
		gw_ctl_reply_error(rp, "events: out of memory");
		return;
	}
	*sub = f;
	if (gw_log_listener_add(f.lg, gw_log_sub_line, sub) < 0) {
		free(sub);
		gw_ctl_reply_error(rp, "events: %u listeners already", GW_LOG_LISTENERS);
		return;
	}
	sub->c = gw_ctl_stream(rp, gw_log_sub_closed, sub);
	if (sub->c == NULL) {
		gw_log_listener_del(f.lg, gw_log_sub_line, sub);
		free(sub);
		gw_ctl_reply_error(rp, "events: not a control client");
		return;
	}
	gw_ctl_json_str(rp, "events", "streaming");
}

static void
gw_log_cmd_log(const struct gw_ctl_req *req, struct gw_ctl_reply *rp, void *arg)
{
	struct gw_log_stats s;

	RTE_SET_USED(req);
	gw_log_stats_get(arg, &s);
	gw_ctl_json_u64(rp, "events", s.events);
	gw_ctl_json_u64(rp, "events_lost", s.events_lost);
	gw_ctl_json_u64(rp, "sessions", s.sessions);
	gw_ctl_json_u64(rp, "rate_dropped", s.rate_dropped);
	gw_ctl_json_u64(rp, "syslog_sent", s.syslog_sent);
	gw_ctl_json_u64(rp, "syslog_errors", s.syslog_errors);
	gw_ctl_json_u64(rp, "ipfix_messages", s.ipfix_messages);
	gw_ctl_json_u64(rp, "ipfix_records", s.ipfix_records);
	gw_ctl_json_u64(rp, "ipfix_templates", s.ipfix_templates);
	gw_ctl_json_u64(rp, "ipfix_errors", s.ipfix_errors);
	gw_ctl_json_u64(rp, "stream_dropped", s.stream_dropped);
}

static int
gw_log_hook_check(const struct gw_config *next, const struct gw_config *cur, char *err,
		  size_t errlen, void *arg)
{
	RTE_SET_USED(cur);
	return gw_log_reload_check(arg, &next->log, err, errlen);
}

static void
gw_log_hook_apply(const struct gw_config *next, char *touched, size_t len, void *arg)
{
	struct gw_log *lg = arg;

	if (memcmp(&next->log, &lg->cfg, sizeof(next->log)) != 0)
		snprintf(touched, len, "[log] applied");
	gw_log_reload_apply(lg, &next->log);
}

int
gw_log_ctl_register(struct gw_log *lg)
{
	if (gw_ctl_register("events", gw_log_cmd_events, lg) < 0 ||
	    gw_ctl_register("log", gw_log_cmd_log, lg) < 0 ||
	    gw_ctl_reload_hook("log", gw_log_hook_check, gw_log_hook_apply, lg) < 0)
		return -1;
	return 0;
}
