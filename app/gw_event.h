/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_event.h - connection events and NAT logging (issue 13 "Events", "NAT logging").
 *
 * Workers produce compact records (struct gw_event) for connection new / update (a change
 * of TCP state, SEEN_REPLY or ASSURED) / destroy into one single-producer/single-consumer
 * ring each (app/gw_event.c). Enqueue never blocks: a full ring counts the record as lost
 * (gw_worker_stats.events_lost; /natgw/stats "events_lost"). While nobody consumes, workers
 * produce nothing (one predictable branch on a per-worker flag).
 *
 * The main lcore (natgw's control loop, natgw-replay after each packet) drains the rings
 * with gw_log_poll() and fans records out to:
 *  - listeners (the control channel's `events` stream, natgw-replay --events): one text
 *    line per record, as `conntrack -E` prints them (gw_event_format);
 *  - syslog: one RFC 5424 message per NAT session create/delete, over UDP or to a unix
 *    datagram socket (gw_syslog_format);
 *  - IPFIX: RFC 7011 messages over UDP with RFC 8158 NAT44 session create/delete records
 *    (natEvent 4/5), the template sent first, re-sent every template_interval seconds and
 *    every template_records data records (RFC 7011 section 10.3.6 for UDP transport).
 * syslog and IPFIX are bounded by [log] rate (session events per second, a token bucket
 * of one second's worth); what is over it is counted (gw_log_stats.rate_dropped).
 *
 * Threading: gw_log_* functions are for one control thread (the main lcore) [main];
 * the encoders (gw_event_format, gw_syslog_format, gw_ipfix_*) are pure functions [any].
 */
#ifndef NATGW_GW_EVENT_H
#define NATGW_GW_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ct.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GW_EV_RING_DEFAULT	16384	/* records per worker ring ([log] ring_size) */

enum gw_ev_type {
	GW_EV_NEW = 1,
	GW_EV_UPDATE = 2,
	GW_EV_DESTROY = 3,
};

/** Why a connection was destroyed (GW_EV_DESTROY). */
#define GW_FOREACH_EV_REASON(_)						\
	_(NONE,		"none")							\
	_(TIMEOUT,	"timeout")	/* expired (found dead by expiry or lookup) */	\
	_(EVICTED,	"evicted")	/* pushed out for a new connection (early drop) */ \
	_(DELETED,	"deleted")	/* flushed / deleted by the control plane, helper */

enum gw_ev_reason {
#define GW_EV_REASON_ENUM(n, s) GW_EV_R_##n,
	GW_FOREACH_EV_REASON(GW_EV_REASON_ENUM)
#undef GW_EV_REASON_ENUM
	GW_EV_R_MAX
};

const char *gw_ev_reason_str(unsigned int r);	/**< "timeout"...; never NULL */

/** One record, 64 bytes. Tuples as conntrack keeps them (network order). */
struct gw_event {
	uint64_t time;			/**< worker clock (µs) when it happened */
	uint64_t expire;		/**< absolute expiry (worker clock); 0 on destroy */
	struct ct_tuple tuple[2];	/**< [CT_DIR_ORIG], [CT_DIR_REPLY] */
	uint32_t id;			/**< connection id (ct_conn_id) */
	uint16_t status;		/**< CT_ST_* */
	uint8_t type;			/**< enum gw_ev_type */
	uint8_t tcp_state;		/**< enum ct_tcp_state (TCP) */
	uint8_t reason;			/**< enum gw_ev_reason (destroy) */
	uint8_t worker;			/**< the owner worker */
	uint8_t pad[6];
};

/* ----------------------------------------------------------------------------------------
 * [log] configuration (docs/config.md)
 */
enum gw_log_dst_kind {
	GW_LOG_DST_NONE = 0,
	GW_LOG_DST_UDP,			/**< addr:port */
	GW_LOG_DST_UNIX,		/**< unix datagram socket path */
};

struct gw_log_dst {
	uint8_t kind;			/**< enum gw_log_dst_kind */
	uint32_t addr;			/**< IPv4, network order */
	uint16_t port;			/**< host order */
	char path[108];			/**< sun_path */
};

struct gw_log_config {
	struct gw_log_dst syslog;	/**< syslog = udp:HOST:PORT | unix:PATH */
	struct gw_log_dst ipfix;	/**< ipfix = HOST:PORT (UDP) */
	uint32_t rate;			/**< session log messages per second, 0: no cap */
	uint32_t template_interval;	/**< s between IPFIX template re-sends (default 60) */
	uint32_t template_records;	/**< records between re-sends (default 1000, 0 off) */
	uint32_t domain_id;		/**< IPFIX observation domain id (default 1) */
	uint32_t ring_size;		/**< per worker ring slots, power of two (holds one
					 *   record fewer: rte_ring); 64 bytes each */
	uint8_t facility;		/**< syslog facility (default 16: local0) */
	char hostname[64];		/**< syslog HOSTNAME ("": gethostname()) */
};

/** Defaults: no sinks, rate 10000/s, template every 60 s / 1000 records, domain 1. */
void gw_log_config_default(struct gw_log_config *c);
/** One banner line: "  log: syslog udp:A:P, ipfix A:P domain 1, rate 10000/s, ...". */
void gw_log_config_print(FILE *f, const struct gw_log_config *c);
/** Set one [log] key from its text. 0, or -1 with msg filled ("syslog: want ..."). */
int gw_log_config_set(struct gw_log_config *c, const char *key, const char *val,
		      char *msg, size_t msglen);

/* ----------------------------------------------------------------------------------------
 * The main lcore side
 */
struct gw;
struct gw_log;

/**
 * Start consuming the gateway's event rings with the sinks of cfg. wall_offset_us is added
 * to event times (the workers' clock) to make wall-clock times (natgw: realtime - its
 * monotonic clock at start; natgw-replay: 0, the pcap timestamps are the times). Sockets
 * are opened here (a syslog/IPFIX collector that is not listening is not an error: UDP).
 * @return the log, or NULL with err filled. [main]
 */
struct gw_log *gw_log_create(struct gw *g, const struct gw_log_config *cfg,
			     int64_t wall_offset_us, char *err, size_t errlen);
/** Drain what is left, flush, close the sockets, stop the workers producing. [main] */
void gw_log_free(struct gw_log *lg);
/**
 * Reload hook for the control channel (SIGHUP / `natgw-ctl reload`): apply a new [log]
 * section live. syslog and ipfix destinations, rate, template interval/records, domain
 * (a new domain or collector restarts the IPFIX stream: sequence 0, template first),
 * facility and hostname change; ring_size cannot (the rings exist): refused with
 * "[log] ring_size cannot change live". On any error nothing changes.
 * @return 0, or -1 with err filled. [main]
 */
int gw_log_reload(struct gw_log *lg, const struct gw_log_config *cfg, char *err,
		  size_t errlen);
/** gw_log_reload in two steps, for a reload where other parts may still refuse: check
 * refuses (-1, err) or opens the new sockets and keeps them, changing nothing; apply then
 * switches to them and cannot fail (a later check or gw_log_free closes unused ones). */
int gw_log_reload_check(struct gw_log *lg, const struct gw_log_config *cfg, char *err,
			size_t errlen);
void gw_log_reload_apply(struct gw_log *lg, const struct gw_log_config *cfg);
/**
 * Register, on the control channel (app/gw_ctl.h), the streaming command `events`
 * (`natgw-ctl events [-p PROTO] [-s ADDR] [-d ADDR]`: a first line {"ok":true,...}, then one
 * `conntrack -E` line per record that passes the filters; lines a slow reader could not take
 * are counted: stream_dropped), the command `log` (gw_log_stats as JSON: events, losses,
 * sinks) and the reload hook "log" (gw_log_reload_check / gw_log_reload_apply with the new
 * [log]; docs/operations.md). [main]
 * @return 0, or -1 (the channel's tables are full).
 */
int gw_log_ctl_register(struct gw_log *lg);
/**
 * Drain every worker's ring (all that is there), hand each record to the listeners and
 * the sinks, send IPFIX messages and due templates. `now` is the workers' clock. Call it
 * often enough that rings (ring_size records each) do not fill. [main]
 * @return records drained.
 */
unsigned int gw_log_poll(struct gw_log *lg, ct_time_t now);

/** A listener gets every record and its `conntrack -E` line (no newline). */
typedef void (*gw_event_listener_fn)(void *arg, const struct gw_event *e, const char *line);
/** Add / remove a listener (at most 16). Workers produce while one is there or a sink is
 * configured. 0, or -1 (full / not found). [main] */
int gw_log_listener_add(struct gw_log *lg, gw_event_listener_fn fn, void *arg);
int gw_log_listener_del(struct gw_log *lg, gw_event_listener_fn fn, void *arg);

struct gw_log_stats {
	uint64_t events;		/**< records drained */
	uint64_t events_lost;		/**< ring full on a worker (sum of workers) */
	uint64_t sessions;		/**< NAT session create/delete seen */
	uint64_t rate_dropped;		/**< session logs over [log] rate (not sent) */
	uint64_t syslog_sent, syslog_errors;
	uint64_t ipfix_messages, ipfix_records, ipfix_templates, ipfix_errors;
	uint64_t stream_dropped;	/**< `events` lines a slow control client missed */
};
void gw_log_stats_get(const struct gw_log *lg, struct gw_log_stats *out);
void gw_log_stats_print(FILE *f, const struct gw_log *lg);

/* ----------------------------------------------------------------------------------------
 * Encoders (app/gw_log_enc.c), pure
 */

/** A NAT44 session as RFC 8158 describes it: the original-direction packet before and
 * after translation. Addresses network order, ports host order. */
struct gw_nat_session {
	uint64_t time_ms;		/**< wall clock, ms since 1970 */
	uint8_t nat_event;		/**< RFC 8158 natEvent: 4 create, 5 delete */
	uint8_t proto;
	uint8_t reason;			/**< enum gw_ev_reason (delete) */
	uint32_t src, post_src;		/**< sourceIPv4Address, postNATSourceIPv4Address */
	uint32_t dst, post_dst;		/**< destinationIPv4Address, postNATDestination... */
	uint16_t sport, post_sport;	/**< sourceTransportPort, postNAPTSourceTransportPort */
	uint16_t dport, post_dport;	/**< destinationTransportPort, postNAPTDestination... */
};

/* RFC 8158 section 4.1.1 table 1 / IANA "natEvent" (1 and 2 are the historic NAT
 * translation create/delete) */
#define GW_NAT_EVENT_CREATE	4	/* NAT44 session create */
#define GW_NAT_EVENT_DELETE	5	/* NAT44 session delete */

/** The session of a NEW / DESTROY record of a translated connection (SNAT or DNAT).
 * @return false when e is not one (an update, or no translation). */
bool gw_nat_session_from_event(const struct gw_event *e, int64_t wall_offset_us,
			       struct gw_nat_session *s);

/** `conntrack -E` line of a record, e.g. "[NEW] tcp      6 120 SYN_SENT src=... [UNREPLIED]
 * src=... id=3 worker=0" (DESTROY: no timeout, "reason=timeout"). Returns its length. */
int gw_event_format(char *buf, size_t len, const struct gw_event *e);

/**
 * RFC 5424 message for a session (no trailing newline):
 * <PRI>1 TIMESTAMP HOSTNAME natgw PROCID NAT44 [natgw@32473 event="create" proto="tcp"
 * inside="A:P" outside="A:P" remote="A:P"] NAT44 session create ...
 * PRI = facility * 8 + 6 (informational). @return length, or -1 if it does not fit.
 */
int gw_syslog_format(char *buf, size_t len, const struct gw_nat_session *s,
		     unsigned int facility, const char *hostname, unsigned int procid);

#define GW_IPFIX_TEMPLATE_ID	256
#define GW_IPFIX_RECORD_LEN	34	/* bytes of one data record */
#define GW_IPFIX_MSG_MAX	1400	/* one message per UDP datagram, under a 1500 MTU */

/** An IPFIX message being built (RFC 7011 section 3). */
struct gw_ipfix_msg {
	uint8_t buf[GW_IPFIX_MSG_MAX];
	size_t len;			/**< bytes used, header included */
	size_t set_off;			/**< offset of the open data set header, 0: none */
	uint32_t records;		/**< data records in the message */
};
/** Start a message (16-byte header to be filled by gw_ipfix_finish). */
void gw_ipfix_begin(struct gw_ipfix_msg *m);
/** Append the template set (template 256, RFC 8158 NAT44 session fields). 0 or -1 (full). */
int gw_ipfix_add_template(struct gw_ipfix_msg *m);
/** Append one data record (opening the data set of template 256 if needed). 0 or -1. */
int gw_ipfix_add_record(struct gw_ipfix_msg *m, const struct gw_nat_session *s);
/** Close the sets and write the header: version 10, length, export time (s), sequence
 * (data records sent before this message in the stream), observation domain. Returns the
 * message length. */
size_t gw_ipfix_finish(struct gw_ipfix_msg *m, uint32_t export_time, uint32_t seq,
		       uint32_t domain_id);

#ifdef __cplusplus
}
#endif
#endif /* NATGW_GW_EVENT_H */
