/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * helper.h - the whole API of lib/helpers: application-level gateways (FTP, TFTP, IRC DCC)
 * that read a control connection's payload, rewrite the addresses it carries to the
 * outside world's view, and register *expectations* ("a connection from A to B:port will
 * come; it is RELATED to this one; NAT it so"). When the payload text changes length the
 * TCP sequence space of the rest of the connection is adjusted in both directions.
 *
 * Threading: struct helper_ctx is per worker lcore, owned with that lcore's ct_table and
 * nat_ctx ([owner]); its expectation table is per lcore too. The outside port an
 * expectation waits on is reserved from that worker's NAT slice (nat_port_reserve()), so
 * the expected connection is steered to the lcore that owns the master. Counters are read
 * by anyone ([any]).
 *
 * Pipeline (per packet, the app's order):
 *   conntrack hit on a connection with CT_ST_HELPER:
 *       helper_pre_ct()  - ACK/SACK back into the peer's original sequence space
 *       ct_update()      - conntrack sees the un-rewritten world
 *       nat_rewrite()
 *       helper_post_ct() - payload parse/rewrite, expectations, own SEQ shift; then
 *                          resize the mbuf to *frame_len
 *   conntrack miss, ct_new_ok() passed:
 *       helper_expect_new() before nat_out_new()/nat_in_new(); on a hit the connection
 *       exists (RELATED, its master set), go on with ct_update() as usual
 *   new connection created by NAT: helper_conn_attach() (a helper by destination port)
 *   once per poll loop: helper_expect_expire()
 */
#ifndef NATGW_HELPER_H
#define NATGW_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ct.h"
#include "nat.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The helpers. */
#define HELPER_FOREACH(_)				\
	_(FTP,	"ftp",	6,	21)			\
	_(TFTP,	"tftp",	17,	69)			\
	_(IRC,	"irc",	6,	6667)

enum helper_id {
	HELPER_NONE = 0,
#define HELPER_ID_ENUM(n, s, proto, port) HELPER_##n,
	HELPER_FOREACH(HELPER_ID_ENUM)
#undef HELPER_ID_ENUM
	HELPER_MAX
};

/** Config name of a helper ("ftp"); "none" for HELPER_NONE, NULL if out of range. */
const char *helper_name(enum helper_id h);

/* ----------------------------------------------------------------------------------------
 * Configuration ([helpers] in the config file, docs/config.md)
 */
#define HELPER_MAX_PORTS 16

struct helper_config {
	struct {
		uint8_t helper;		/**< enum helper_id */
		uint16_t port;		/**< server port, host order */
	} ports[HELPER_MAX_PORTS];
	unsigned int n_ports;
	uint32_t max_expect;		/**< expectations per worker (global limit) */
	uint32_t max_expect_per_master;	/**< more replaces the master's oldest */
	/** expectations one inside host may have pending (the announcing host of a DNAT
	 * expectation, the inside client of an outbound one): one host must not starve the
	 * others. HELPER_LIMIT_AUTO (0, default): a quarter of max_expect; HELPER_LIMIT_NONE:
	 * none. More are refused (EXPECT_HOST_LIMIT), the payload left unchanged. */
	uint32_t max_expect_per_host;
	uint32_t max_conns;		/**< connections with helper state per worker */
	/** helper records one inside host may hold (its connections to helper ports):
	 * HELPER_LIMIT_AUTO (0, default): a quarter of max_conns; HELPER_LIMIT_NONE: none */
	uint32_t max_conns_per_host;
	ct_time_t expect_timeout;	/**< microseconds */
	uint16_t mtu;			/**< IPv4 total length a rewrite may grow to (0: 1500) */
	/** Allow expectations towards an inside host's port below 1024 (FTP PORT/EPRT, a
	 * forwarded server's 227/229, IRC DCC). Off by default: a web page can make a browser
	 * send such a command (NAT slipstreaming) and so open any service of the host to the
	 * world; refused ones are counted (PRIV_PORT) and the payload passes unchanged. */
	bool allow_priv_ports;
};

#define HELPER_LIMIT_AUTO	0
#define HELPER_LIMIT_NONE	UINT32_MAX

/**
 * Defaults: FTP on port 21 (RFC 5382 REQ-6: TCP ALGs other than FTP off by default), TFTP
 * and IRC off (RFC 4787 REQ-10: UDP ALGs off by default), 1024 expectations, 4 per
 * master, 4096 helper connections, 300 s expectation timeout (netfilter's FTP default),
 * privileged data ports refused.
 */
void helper_config_default(struct helper_config *cfg);

/**
 * Set one helper's ports from its config line (RFC 4787 REQ-10a: each ALG is enabled or
 * disabled on its own): `value` is "off"/"no", "on"/"yes" (the default port), or a comma
 * separated list of ports ("21, 2121").
 * @return 0, or -EINVAL with msg filled (unknown helper, bad port, too many ports).
 */
int helper_config_set(struct helper_config *cfg, const char *name, const char *value,
		      char *msg, size_t msglen);

/** The helper attached to new connections of proto to server port `port` (host order). */
enum helper_id helper_config_lookup(const struct helper_config *cfg, uint8_t proto,
				    uint16_t port);

/* ----------------------------------------------------------------------------------------
 * Per-worker context
 */
struct helper_ctx;

/**
 * Create worker state over its conntrack table and NAT context: expectation table and
 * helper connection records. Registers a conntrack destroy callback (slot CT_CB_HELPER)
 * that drops a dying master's expectations and frees reserved ports.
 * @return the context, or NULL with rte_errno set (EINVAL, ENOMEM).
 */
struct helper_ctx *helper_ctx_create(const struct helper_config *cfg, struct ct_table *ct,
				     struct nat_ctx *nc, bool use_heap);
/** Free (NULL: no-op); call before nat_ctx_free()/ct_table_free(). Reserved ports are
 * returned to NAT. */
void helper_ctx_free(struct helper_ctx *hc);
/**
 * Change live what does not size a table (natgw reload): the helpers' server ports,
 * privileged_data_ports, expect_timeout, max_expect_per_master and the per-host shares
 * (max_expect_per_host, max_conns_per_host). Connections keep the helper they have; new
 * ones are chosen by the new ports. max_expect, max_conns and mtu are not changed. [owner]
 */
void helper_ctx_set_config(struct helper_ctx *hc, const struct helper_config *cfg);

/**
 * Attach the configured helper to a connection just created: the helper is chosen by the
 * server's own port, the source port of the reply tuple (as netfilter looks helpers up by
 * the reply tuple), so a port forward (outside 2121 -> inside 21) gets the helper of its
 * inside port, and an outbound connection that of its destination port. Sets CT_ST_HELPER.
 * On a port other than the helper's well-known one (FTP: 21) FTP commands are read only at
 * a line start after CRLF (or the stream start), never at the line start before it. [owner]
 * @return the helper attached, HELPER_NONE if none is configured or no record was free.
 */
enum helper_id helper_conn_attach(struct helper_ctx *hc, struct ct_conn *c);

/** The helper watching c (HELPER_NONE if none). [owner] */
enum helper_id helper_conn_helper(const struct helper_ctx *hc, const struct ct_conn *c);

/* ----------------------------------------------------------------------------------------
 * Per packet
 */
enum helper_verdict {
	HELPER_ACCEPT = 0,	/**< forward (possibly rewritten) */
	/** drop: a known command split across segments (netfilter drops these too, so that
	 * the retransmission carries it whole), or the retransmission of a rewritten
	 * segment that no longer fits (sent unchanged it would break the seq adjustment) */
	HELPER_DROP,
};

/**
 * Before ct_update(), for a packet of a connection with CT_ST_HELPER: when the peer's
 * payload was rewritten to another length, translate this packet's ACK and SACK blocks
 * back into the peer's original sequence space (incremental checksum). [owner]
 */
void helper_pre_ct(struct helper_ctx *hc, const struct ct_pkt *p, uint8_t *buf);

/**
 * After ct_update() accepted the packet (and nat_rewrite(), in either order): parse the
 * payload with the connection's helper, rewrite it, create expectations, then shift this
 * packet's SEQ by this direction's adjustment. `*frame_len` is the frame length in, the
 * new one out (the caller resizes its buffer: rte_pktmbuf_append/trim); `buf_cap` the
 * bytes writable from buf (data length + tailroom). p's lengths are updated. A rewrite
 * that does not fit buf_cap or the MTU is refused (counted), never truncated. [owner]
 */
enum helper_verdict helper_post_ct(struct helper_ctx *hc, struct ct_pkt *p, uint8_t *buf,
				   uint32_t *frame_len, uint32_t buf_cap, ct_time_t now);

/**
 * A conntrack miss (ct_new_ok() passed): is it an expected connection? On a hit the
 * expectation is removed (used), the connection is created with the expectation's NAT
 * (explicit DNAT, or nat_out_new() for an outbound one), marked RELATED to its master
 * (ct_set_related), and returned; call ct_update() next as for any new connection.
 * `from_inside`: the packet arrived on the inside port.
 * @return the connection, or NULL (no expectation, or the creation failed: counted).
 */
struct ct_conn *helper_expect_new(struct helper_ctx *hc, const struct ct_pkt *p,
				  bool from_inside, ct_time_t now);

/** Expire expectations whose time passed, at most `budget` examined. @return removed. */
unsigned int helper_expect_expire(struct helper_ctx *hc, ct_time_t now, unsigned int budget);

/* ----------------------------------------------------------------------------------------
 * Expectations (also used directly by tests and by future helpers)
 */

/** The source of the expected connection may be any port / any address. */
#define HELPER_EXP_ANY_SPORT	0x01
#define HELPER_EXP_ANY_SADDR	0x02

/** How the expected connection is translated. */
enum helper_exp_nat {
	HELPER_EXP_DNAT = 0,	/**< inbound: to_addr:to_port is the inside endpoint */
	HELPER_EXP_NAT_OUT,	/**< outbound: translated by nat_out_new() as usual */
};

struct helper_expect_spec {
	struct ct_tuple tuple;	/**< expected original tuple (wildcard fields ignored) */
	uint8_t wild;		/**< HELPER_EXP_ANY_* */
	uint8_t nat;		/**< enum helper_exp_nat */
	uint8_t helper;		/**< enum helper_id that created it */
	uint32_t to_addr;	/**< DNAT: inside address, network order */
	uint16_t to_port;	/**< DNAT: inside port, network order */
	uint16_t resv_port;	/**< outside port reserved for it (host order, 0: none) with
				 *   nat_port_reserve_host() for to_addr: it goes back to NAT when
				 *   the expectation or its connection ends */
};

/**
 * Add an expectation of master (which must carry helper state: helper_conn_attach()).
 * An identical expectation of the same master is replaced; past the per-master limit the
 * master's oldest is removed (counted); a full table refuses (counted).
 * @return 0, -ENOSPC (table full), -EINVAL (master without helper state). On failure a
 *         reserved port in spec is released.
 */
int helper_expect_add(struct helper_ctx *hc, struct ct_conn *master,
		      const struct helper_expect_spec *spec, ct_time_t now);

/** Find (without removing) the expectation a tuple matches; true and *out filled. */
bool helper_expect_find(const struct helper_ctx *hc, const struct ct_tuple *t, ct_time_t now,
			struct helper_expect_spec *out, uint32_t *master_id);

/** Expectations pending (all / of one master). [owner] */
unsigned int helper_expect_count(const struct helper_ctx *hc);
unsigned int helper_expect_count_master(const struct helper_ctx *hc, const struct ct_conn *c);

/* ----------------------------------------------------------------------------------------
 * Save and restore (helper_snapshot.c; the file format is app/gw_snapshot.c's)
 */

/** A connection's helper state as saved: which helper, line tracking, TCP sequence
 * adjustment per direction, the last rewrite per direction (redone on a retransmission) and
 * the outside port a data connection holds. Fixed layout, padding zero. */
struct helper_conn_rec {
	uint8_t helper;			/**< enum helper_id (NONE: a data connection) */
	uint8_t flags;			/**< the record's flags (helper_private.h HC_F_*) */
	uint8_t resv_proto;
	uint8_t zero0;
	uint16_t resv_port;		/**< host order */
	uint16_t zero1;
	uint32_t resv_addr;
	uint32_t resv_host;
	uint32_t rec_host;		/**< inside host the record is counted for (0: none) */
	uint32_t nl_seq[2];
	uint32_t nl_seq_prev[2];
	struct {
		uint32_t correction_pos;
		int32_t offset_before;
		int32_t offset_after;
	} sa[2];
	struct {
		uint32_t seq;
		uint32_t addr;
		uint16_t port;
		uint16_t off;
		uint16_t old_len;
		uint8_t kind;
		uint8_t new_len;
		char text[64];
	} last[2];
};

/** An expectation as saved: its spec, its master (conntrack id when exported) and the time
 * it has left. */
struct helper_expect_rec {
	struct helper_expect_spec spec;
	uint64_t expire_in;		/**< microseconds left (> 0) */
	uint32_t master;		/**< conntrack id of the master at export */
	uint32_t zero;
};

/** Export the helper record of c. [owner, or any thread while the owner is stopped]
 * @return 0, or -1 when c has none. */
int helper_conn_export(const struct helper_ctx *hc, const struct ct_conn *c,
		       struct helper_conn_rec *r);

/**
 * Give restored connection c its helper record: counted for its inside host again, its
 * reserved outside port (a data connection's) taken again, exactly that port. [owner]
 * @return 0, or -EINVAL (malformed), -ENOSPC (no record free), -EEXIST (the port is taken).
 */
int helper_conn_import(struct helper_ctx *hc, struct ct_conn *c,
		       const struct helper_conn_rec *r);

/** Export up to n pending expectations, oldest first (expiry order), live at `now`.
 * [owner, or any thread while the owner is stopped] @return how many. */
unsigned int helper_expect_export(const struct helper_ctx *hc, struct helper_expect_rec *out,
				  unsigned int n, ct_time_t now);

/**
 * Re-create a saved expectation of master (restored, with its helper record), expiring at
 * now + expire_in; its reserved outside port is taken again (exactly that port). Import a
 * worker's expectations oldest first. [owner]
 * @return 0, -EINVAL (malformed, master without helper record), -EEXIST (the port is
 *         taken), -ENOSPC (table full or the host at its limit).
 */
int helper_expect_import(struct helper_ctx *hc, struct ct_conn *master,
			 const struct helper_expect_rec *r, ct_time_t now);

/* ----------------------------------------------------------------------------------------
 * Parsers and formatters (pure functions, exported for the unit tests)
 */

/** What a parser found in one payload. */
struct helper_match {
	uint8_t kind;		/**< HELPER_K_* */
	uint16_t off;		/**< the region to replace: offset from the payload start */
	uint16_t len;		/**<   and its length (0: nothing to rewrite) */
	uint32_t addr;		/**< address in the text, network order (EPSV, TFTP: none, 0) */
	uint16_t port;		/**< port in the text, host order */
	char delim;		/**< EPRT/EPSV: the delimiter used */
};

enum helper_kind {
	HELPER_K_NONE = 0,
	HELPER_K_PORT,		/**< FTP "PORT h1,h2,h3,h4,p1,p2" (RFC 959) */
	HELPER_K_EPRT,		/**< FTP "EPRT |1|a.b.c.d|port|" (RFC 2428) */
	HELPER_K_PASV,		/**< FTP "227 ... (h1,h2,h3,h4,p1,p2)" (RFC 959) */
	HELPER_K_EPSV,		/**< FTP "229 ... (|||port|)" (RFC 2428) */
	HELPER_K_TFTP,		/**< TFTP RRQ/WRQ (RFC 1350) */
	HELPER_K_DCC_SEND,	/**< IRC "\1DCC SEND name ip port" (decimal ip) */
	HELPER_K_DCC_CHAT,	/**< IRC "\1DCC CHAT chat ip port" */
};

/** Parser result. */
#define HELPER_P_NONE		0	/**< nothing of interest */
#define HELPER_P_FOUND		1	/**< m filled */
#define HELPER_P_PARTIAL	(-1)	/**< a known command not ended in this payload */
#define HELPER_P_MALFORMED	(-2)	/**< a known command with bad arguments */

/** FTP: parse the line at the start of `data` (dir: CT_DIR_ORIG = client commands). */
int helper_ftp_parse(const uint8_t *data, uint32_t len, uint8_t dir, struct helper_match *m);
/** IRC: find a DCC SEND/CHAT in a client's message. */
int helper_irc_parse(const uint8_t *data, uint32_t len, uint8_t dir, struct helper_match *m);
/** TFTP: a read or write request. */
int helper_tftp_parse(const uint8_t *data, uint32_t len, uint8_t dir, struct helper_match *m);

/**
 * Format the replacement of m's region for address addr (network order) and port (host
 * order), in the same syntax. @return its length, or -1 if it does not fit cap.
 */
int helper_format(const struct helper_match *m, uint32_t addr, uint16_t port, char *out,
		  size_t cap);

/* ----------------------------------------------------------------------------------------
 * Counters
 */
#define HELPER_FOREACH_COUNTER(_)							\
	_(ATTACHED,		"connections with a helper")				\
	_(NO_RECORD,		"helper not attached: records full")			\
	_(PARSED,		"commands recognised")					\
	_(REWRITTEN,		"payloads rewritten")					\
	_(LEN_CHANGED,		"payloads rewritten to another length")			\
	_(RETRANSMIT,		"retransmitted rewritten segment redone")		\
	_(NOT_LINE_START,	"payload not at a line start: not parsed")		\
	_(PARTIAL_DROP,		"known command split across segments: dropped")		\
	_(PARTIAL_PASSED,	"IRC CTCP DCC not ended in the segment: passed unchanged") \
	_(PRIV_PORT,		"data port below 1024 refused (NAT slipstreaming)")	\
	_(MALFORMED,		"malformed command: ignored")				\
	_(ADDR_MISMATCH,	"address in payload not the sender's: no expectation")	\
	_(NO_ROOM,		"rewrite beyond tailroom/MTU: refused")			\
	_(NO_PORT,		"no outside port to reserve: refused")			\
	_(HOST_PORTS_LIMIT,	"announcing host at its port limit: refused")		\
	_(PEER_NOT_INSIDE,	"expected connection would be unsolicited: refused")	\
	_(EXPECT_CREATED,	"expectations created")					\
	_(EXPECT_REPLACED,	"expectations replaced (same tuple or per-master limit)") \
	_(EXPECT_FULL,		"expectations refused: table full")			\
	_(EXPECT_HOST_LIMIT,	"expectations refused: host at its expectation limit")	\
	_(HOST_RECORD_LIMIT,	"helper not attached: host at its record limit")	\
	_(RECORD_EVICTED,	"unassured connection evicted for a helper record")	\
	_(EXPECT_HIT,		"expected connections created (RELATED)")		\
	_(EXPECT_HIT_FAILED,	"expected connection refused by conntrack/NAT")		\
	_(EXPECT_EXPIRED,	"expectations expired")					\
	_(EXPECT_MASTER_GONE,	"expectations removed with their master")		\
	_(SEQ_ADJUSTED,		"packets with seq/ack adjusted")

enum helper_counter {
#define HELPER_COUNTER_ENUM(n, s) HELPER_C_##n,
	HELPER_FOREACH_COUNTER(HELPER_COUNTER_ENUM)
#undef HELPER_COUNTER_ENUM
	HELPER_C_MAX
};

struct helper_stats {
	uint64_t expect_active;
	uint64_t c[HELPER_C_MAX];
};

const char *helper_counter_str(enum helper_counter c);
const char *helper_counter_id(enum helper_counter c);
/** Copy the counters (each word read atomically). [any] */
void helper_stats_get(const struct helper_ctx *hc, struct helper_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* NATGW_HELPER_H */
