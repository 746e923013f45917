/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_log_enc.c - the byte formats of connection events and NAT logs, as pure functions
 * (unit-tested without EAL, tests/unit/app/test_log_enc.c): the `conntrack -E` text line,
 * RFC 5424 syslog messages, RFC 7011 IPFIX messages with the RFC 8158 NAT44 session
 * template, and the [log] configuration keys. The rings, sockets and timing that use them
 * are app/gw_event.c's.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_event.h"

static const char *const gw_ev_reason_text[] = {
#define GW_EV_REASON_TEXT(n, s) s,
	GW_FOREACH_EV_REASON(GW_EV_REASON_TEXT)
#undef GW_EV_REASON_TEXT
};

const char *
gw_ev_reason_str(unsigned int r)
{
	return r < GW_EV_R_MAX ? gw_ev_reason_text[r] : "unknown";
}

static const char *
gw_proto_name(uint8_t p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : p == IPPROTO_ICMP ? "icmp" :
									 "unknown";
}

/* ---------------------------------------------------------------------------------------
 * Sessions
 */

bool
gw_nat_session_from_event(const struct gw_event *e, int64_t wall_offset_us,
			  struct gw_nat_session *s)
{
	const struct ct_tuple *o = &e->tuple[CT_DIR_ORIG], *r = &e->tuple[CT_DIR_REPLY];
	int64_t t = (int64_t)e->time + wall_offset_us;

	if (e->type == GW_EV_UPDATE || (e->status & (CT_ST_SNAT | CT_ST_DNAT)) == 0)
		return false;
	memset(s, 0, sizeof(*s));
	s->time_ms = t > 0 ? (uint64_t)t / 1000u : 0;
	s->nat_event = e->type == GW_EV_NEW ? GW_NAT_EVENT_CREATE : GW_NAT_EVENT_DELETE;
	s->proto = o->proto;
	s->reason = e->reason;
	/* the original direction as it arrived, and as it left: invert(reply) (nat.h) */
	s->src = o->src;
	s->dst = o->dst;
	s->sport = ntohs(o->sport);
	s->dport = ntohs(o->dport);
	s->post_src = r->dst;
	s->post_dst = r->src;
	s->post_sport = ntohs(r->dport);
	s->post_dport = ntohs(r->sport);
	return true;
}

/* ---------------------------------------------------------------------------------------
 * conntrack -E lines: the fields of the listing (tools/natgw-conntrack, /natgw/conns)
 */

static int
gw_fmt_tuple(char *buf, size_t len, const struct ct_tuple *t)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &t->src, a, sizeof(a));
	inet_ntop(AF_INET, &t->dst, b, sizeof(b));
	return snprintf(buf, len, "src=%s dst=%s sport=%u dport=%u", a, b, ntohs(t->sport),
			ntohs(t->dport));
}

int
gw_event_format(char *buf, size_t len, const struct gw_event *e)
{
	static const char *const type[] = { "?", "NEW", "UPDATE", "DESTROY" };
	char orig[96], reply[96], tmo[24] = "", state[24] = "", why[24] = "";
	uint8_t proto = e->tuple[CT_DIR_ORIG].proto;
	bool unreplied = (e->status & CT_ST_SEEN_REPLY) == 0;

	gw_fmt_tuple(orig, sizeof(orig), &e->tuple[CT_DIR_ORIG]);
	gw_fmt_tuple(reply, sizeof(reply), &e->tuple[CT_DIR_REPLY]);
	if (e->type != GW_EV_DESTROY)
		snprintf(tmo, sizeof(tmo), "%" PRIu64 " ",
			 e->expire > e->time ? (e->expire - e->time) / CT_USEC_PER_SEC : 0);
	else
		snprintf(why, sizeof(why), " reason=%s", gw_ev_reason_str(e->reason));
	if (proto == IPPROTO_TCP)
		snprintf(state, sizeof(state), "%s ", ct_tcp_state_str(e->tcp_state));
	return snprintf(buf, len, "[%s] %-8s %-3u %s%s%s %s%s%sid=%u worker=%u%s",
			type[e->type <= GW_EV_DESTROY ? e->type : 0], gw_proto_name(proto), proto,
			tmo, state, orig, unreplied ? "[UNREPLIED] " : "", reply,
			(e->status & CT_ST_ASSURED) ? " [ASSURED] " : " ", e->id, e->worker, why);
}

/* ---------------------------------------------------------------------------------------
 * RFC 5424 syslog
 */

/* "2026-12-03T11:43:54.123Z": RFC 5424 section 6.2.3, UTC, milliseconds (TIME-SECFRAC) */
static void
gw_rfc3339(char *buf, size_t len, uint64_t ms)
{
	time_t sec = (time_t)(ms / 1000u);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned int)(ms % 1000u));
}

static void
gw_ep(char *buf, size_t len, uint32_t addr, uint16_t port)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	snprintf(buf, len, "%s:%u", a, port);
}

/*
 * HOSTNAME, APP-NAME natgw, PROCID, MSGID "NAT44"; one SD-ELEMENT whose SD-ID is natgw's
 * private one under the documentation enterprise number (RFC 5424 7.2.2, RFC 5612: 32473);
 * the inside / outside / remote endpoints say who had which outside address and port
 * (RFC 6888 REQ-12). Param values are addresses, numbers and fixed words: nothing to escape
 * (RFC 5424 6.3.3 escapes '"', '\' and ']'). A SNAT session (from the inside) has the inside
 * endpoint as its source; a DNAT one (a port forward) as its translated destination.
 */
int
gw_syslog_format(char *buf, size_t len, const struct gw_nat_session *s, unsigned int facility,
		 const char *hostname, unsigned int procid)
{
	char ts[96], in[24], out[24], rem[24], why[32] = "";
	bool create = s->nat_event == GW_NAT_EVENT_CREATE;
	bool dnat = s->dst != s->post_dst || s->dport != s->post_dport;
	bool snat = s->src != s->post_src || s->sport != s->post_sport;
	int n;

	gw_rfc3339(ts, sizeof(ts), s->time_ms);
	if (snat || !dnat) {		/* from the inside (hairpin too) */
		gw_ep(in, sizeof(in), s->src, s->sport);
		gw_ep(out, sizeof(out), s->post_src, s->post_sport);
		gw_ep(rem, sizeof(rem), s->dst, s->dport);
	} else {			/* to a forward: remote -> outside, reaching inside */
		gw_ep(in, sizeof(in), s->post_dst, s->post_dport);
		gw_ep(out, sizeof(out), s->dst, s->dport);
		gw_ep(rem, sizeof(rem), s->src, s->sport);
	}
	if (!create)
		snprintf(why, sizeof(why), " reason=\"%s\"", gw_ev_reason_str(s->reason));
	n = snprintf(buf, len, "<%u>1 %s %s natgw %u NAT44 [natgw@32473 event=\"%s\" "
		     "proto=\"%s\" inside=\"%s\" outside=\"%s\" remote=\"%s\"%s] NAT44 session "
		     "%s %s %s -> %s remote %s", facility * 8 + 6, ts,
		     hostname[0] != '\0' ? hostname : "-", procid, create ? "create" : "delete",
		     gw_proto_name(s->proto), in, out, rem, why, create ? "create" : "delete",
		     gw_proto_name(s->proto), in, out, rem);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* ---------------------------------------------------------------------------------------
 * IPFIX (RFC 7011) with RFC 8158 information elements
 */

/* Template 256, "NAT44 Session Create/Delete" (RFC 8158 section 4.1.1 table 5, without
 * the optional VRF ids): IANA IPFIX element id, length */
static const uint16_t gw_ipfix_fields[][2] = {
	{ 323, 8 },	/* observationTimeMilliseconds */
	{ 230, 1 },	/* natEvent */
	{ 4, 1 },	/* protocolIdentifier */
	{ 8, 4 },	/* sourceIPv4Address */
	{ 7, 2 },	/* sourceTransportPort */
	{ 225, 4 },	/* postNATSourceIPv4Address */
	{ 227, 2 },	/* postNAPTSourceTransportPort */
	{ 12, 4 },	/* destinationIPv4Address */
	{ 11, 2 },	/* destinationTransportPort */
	{ 226, 4 },	/* postNATDestinationIPv4Address */
	{ 228, 2 },	/* postNAPTDestinationTransportPort */
};
#define GW_IPFIX_N_FIELDS (sizeof(gw_ipfix_fields) / sizeof(gw_ipfix_fields[0]))

static uint8_t *
gw_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *
gw_put32(uint8_t *p, uint32_t v)
{
	p = gw_put16(p, (uint16_t)(v >> 16));
	return gw_put16(p, (uint16_t)v);
}

/* an address kept in network order, as it is on the wire */
static uint8_t *
gw_put_addr(uint8_t *p, uint32_t a)
{
	memcpy(p, &a, 4);
	return p + 4;
}

static void
gw_ipfix_close_set(struct gw_ipfix_msg *m)
{
	if (m->set_off != 0)
		gw_put16(m->buf + m->set_off + 2, (uint16_t)(m->len - m->set_off));
	m->set_off = 0;
}

void
gw_ipfix_begin(struct gw_ipfix_msg *m)
{
	m->len = 16;
	m->set_off = 0;
	m->records = 0;
}

int
gw_ipfix_add_template(struct gw_ipfix_msg *m)
{
	size_t need = 4 + 4 + 4 * GW_IPFIX_N_FIELDS;
	uint8_t *p;
	unsigned int i;

	gw_ipfix_close_set(m);
	if (m->len + need > sizeof(m->buf))
		return -1;
	p = m->buf + m->len;
	p = gw_put16(p, 2);			/* Set ID 2: Template Set (RFC 7011 3.3.2) */
	p = gw_put16(p, (uint16_t)need);
	p = gw_put16(p, GW_IPFIX_TEMPLATE_ID);
	p = gw_put16(p, GW_IPFIX_N_FIELDS);
	for (i = 0; i < GW_IPFIX_N_FIELDS; i++) {
		p = gw_put16(p, gw_ipfix_fields[i][0]);	/* enterprise bit 0: IANA */
		p = gw_put16(p, gw_ipfix_fields[i][1]);
	}
	m->len += need;
	return 0;
}

int
gw_ipfix_add_record(struct gw_ipfix_msg *m, const struct gw_nat_session *s)
{
	uint8_t *p;

	if (m->set_off == 0) {
		if (m->len + 4 + GW_IPFIX_RECORD_LEN > sizeof(m->buf))
			return -1;
		m->set_off = m->len;
		gw_put16(m->buf + m->len, GW_IPFIX_TEMPLATE_ID);	/* Data Set of 256 */
		m->len += 4;
	} else if (m->len + GW_IPFIX_RECORD_LEN > sizeof(m->buf)) {
		return -1;
	}
	p = m->buf + m->len;
	p = gw_put32(p, (uint32_t)(s->time_ms >> 32));		/* dateTimeMilliseconds */
	p = gw_put32(p, (uint32_t)s->time_ms);
	*p++ = s->nat_event;
	*p++ = s->proto;
	p = gw_put_addr(p, s->src);
	p = gw_put16(p, s->sport);
	p = gw_put_addr(p, s->post_src);
	p = gw_put16(p, s->post_sport);
	p = gw_put_addr(p, s->dst);
	p = gw_put16(p, s->dport);
	p = gw_put_addr(p, s->post_dst);
	gw_put16(p, s->post_dport);
	m->len += GW_IPFIX_RECORD_LEN;
	m->records++;
	return 0;
}

size_t
gw_ipfix_finish(struct gw_ipfix_msg *m, uint32_t export_time, uint32_t seq, uint32_t domain_id)
{
	uint8_t *p = m->buf;

	gw_ipfix_close_set(m);
	p = gw_put16(p, 10);			/* Version: IPFIX (RFC 7011 3.1) */
	p = gw_put16(p, (uint16_t)m->len);
	p = gw_put32(p, export_time);
	p = gw_put32(p, seq);
	gw_put32(p, domain_id);
	return m->len;
}

/* ---------------------------------------------------------------------------------------
 * [log] keys
 */

#define MSG(...) (snprintf(msg, msglen, __VA_ARGS__), -1)

void
gw_log_config_default(struct gw_log_config *c)
{
	memset(c, 0, sizeof(*c));
	c->rate = 10000;
	c->template_interval = 60;
	c->template_records = 1000;
	c->domain_id = 1;
	c->ring_size = GW_EV_RING_DEFAULT;
	c->facility = 16;
}

static void
gw_log_dst_text(char *buf, size_t len, const struct gw_log_dst *d, bool udp_prefix)
{
	char a[INET_ADDRSTRLEN];

	if (d->kind == GW_LOG_DST_UNIX) {
		snprintf(buf, len, "unix:%s", d->path);
	} else if (d->kind == GW_LOG_DST_UDP) {
		inet_ntop(AF_INET, &d->addr, a, sizeof(a));
		snprintf(buf, len, "%s%s:%u", udp_prefix ? "udp:" : "", a, d->port);
	} else {
		snprintf(buf, len, "off");
	}
}

void
gw_log_config_print(FILE *f, const struct gw_log_config *c)
{
	char s[128], x[128];

	gw_log_dst_text(s, sizeof(s), &c->syslog, true);
	gw_log_dst_text(x, sizeof(x), &c->ipfix, false);
	fprintf(f, "  log: syslog %s, ipfix %s (domain %u, template every %u s / %u records), "
		"rate %u/s, event ring %u per worker\n", s, x, c->domain_id, c->template_interval,
		c->template_records, c->rate, c->ring_size);
}

static int
gw_log_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "A.B.C.D:PORT" */
static int
gw_log_hostport(const char *s, struct gw_log_dst *d)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	uint32_t port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (inet_pton(AF_INET, host, &d->addr) != 1 || d->addr == 0 ||
	    gw_log_u32(colon + 1, 1, 65535, &port) < 0)
		return -1;
	d->port = (uint16_t)port;
	d->kind = GW_LOG_DST_UDP;
	return 0;
}

int
gw_log_config_set(struct gw_log_config *c, const char *key, const char *val, char *msg,
		  size_t msglen)
{
	struct gw_log_dst d;
	uint32_t v;

	memset(&d, 0, sizeof(d));
	if (strcmp(key, "syslog") == 0) {
		if (strcmp(val, "off") == 0) {
			c->syslog = d;
			return 0;
		}
		if (strncmp(val, "unix:", 5) == 0 && val[5] == '/' &&
		    strlen(val + 5) < sizeof(d.path)) {
			d.kind = GW_LOG_DST_UNIX;
			snprintf(d.path, sizeof(d.path), "%s", val + 5);
		} else if (strncmp(val, "udp:", 4) != 0 || gw_log_hostport(val + 4, &d) < 0) {
			return MSG("syslog: want udp:ADDR:PORT, unix:/PATH (under %zu bytes) or "
				   "off, got '%s'", sizeof(d.path), val);
		}
		c->syslog = d;
	} else if (strcmp(key, "ipfix") == 0) {
		if (strcmp(val, "off") == 0) {
			c->ipfix = d;
			return 0;
		}
		if (gw_log_hostport(val, &d) < 0)
			return MSG("ipfix: want ADDR:PORT (IPv4 collector, UDP) or off, got '%s'",
				   val);
		c->ipfix = d;
	} else if (strcmp(key, "rate") == 0) {
		if (gw_log_u32(val, 0, 10000000, &c->rate) < 0)
			return MSG("rate: want 0 (no cap) ..10000000 messages/s, got '%s'", val);
	} else if (strcmp(key, "template_interval") == 0) {
		if (gw_log_u32(val, 1, 86400, &c->template_interval) < 0)
			return MSG("template_interval: want 1..86400 seconds, got '%s'", val);
	} else if (strcmp(key, "template_records") == 0) {
		if (gw_log_u32(val, 0, 100000000, &c->template_records) < 0)
			return MSG("template_records: want 0 (off)..100000000, got '%s'", val);
	} else if (strcmp(key, "domain_id") == 0) {
		if (gw_log_u32(val, 0, UINT32_MAX, &c->domain_id) < 0)
			return MSG("domain_id: want 0..4294967295, got '%s'", val);
	} else if (strcmp(key, "ring_size") == 0) {
		if (gw_log_u32(val, 16, 1u << 20, &v) < 0 || (v & (v - 1)) != 0)
			return MSG("ring_size: want a power of two 16..1048576, got '%s'", val);
		c->ring_size = v;
	} else if (strcmp(key, "facility") == 0) {
		if (strncmp(val, "local", 5) != 0 || val[5] < '0' || val[5] > '7' ||
		    val[6] != '\0')
			return MSG("facility: want local0..local7, got '%s'", val);
		c->facility = (uint8_t)(16 + val[5] - '0');
	} else if (strcmp(key, "hostname") == 0) {
		size_t i, n = strlen(val);

		/* RFC 5424 6.2.4: 1..255 PRINTUSASCII, no space */
		if (n == 0 || n >= sizeof(c->hostname))
			return MSG("hostname: want 1..%zu characters, got '%s'",
				   sizeof(c->hostname) - 1, val);
		for (i = 0; i < n; i++)
			if (val[i] <= 32 || val[i] >= 127)
				return MSG("hostname: printable ASCII without spaces, got '%s'",
					   val);
		snprintf(c->hostname, sizeof(c->hostname), "%s", val);
	} else {
		return MSG("unknown key '%s' in [log] (syslog, ipfix, rate, template_interval, "
			   "template_records, domain_id, ring_size, facility, hostname)", key);
	}
	return 0;
}
