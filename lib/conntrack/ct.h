/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct.h - the whole API of lib/conntrack: packet parsing into tuples, the per-lcore
 * connection table, protocol state machines (TCP with window tracking, UDP, ICMP),
 * timeouts, expiry and per-lcore counters.
 *
 * Threading model (see shared/DESIGN.md "Ownership"):
 *  - A struct ct_table is owned by exactly one lcore (its "owner"), the only one that
 *    may call the functions marked [owner]. They take no locks and never allocate.
 *  - Any other thread (the control plane) may call the functions marked [any]: they read
 *    entries with a per-entry sequence count and never block or slow the owner.
 *  - Time is always an argument: `now` is in microseconds on a monotonic clock chosen by
 *    the caller (TSC-derived in natgw, pcap timestamps in natgw-replay, a virtual clock in
 *    tests). The library never reads a clock.
 *
 * Tuples are stored in network byte order. The key layout has a family field so an IPv6
 * table type can be added beside the IPv4 one without touching callers' burst code; only
 * IPv4 is parsed today.
 */
#ifndef NATGW_CT_H
#define NATGW_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Microseconds on the caller's monotonic clock. */
typedef uint64_t ct_time_t;

#define CT_USEC_PER_SEC UINT64_C(1000000)

/* ----------------------------------------------------------------------------------------
 * Tuples
 */

enum ct_dir {
	CT_DIR_ORIG = 0,	/**< the direction of the packet that created the connection */
	CT_DIR_REPLY = 1,
};

#define CT_FAMILY_IPV4 4
#define CT_FAMILY_IPV6 6	/* ct_ip6.c: src/dst are keyed folds, see "IPv6" below */

/**
 * A connection key, 16 bytes, network byte order, padding zero (it is hashed and compared
 * as raw bytes). For TCP/UDP sport/dport are the ports. For ICMP queries (echo, timestamp,
 * info, address mask) both sport and dport hold the query identifier, so that a reply
 * (whose addresses are swapped) has the inverted tuple. For other protocols both are 0.
 */
struct ct_tuple {
	uint32_t src;		/**< IPv4 source address, network order */
	uint32_t dst;		/**< IPv4 destination address, network order */
	uint16_t sport;		/**< network order */
	uint16_t dport;		/**< network order */
	uint8_t proto;		/**< IPPROTO_* */
	uint8_t family;		/**< CT_FAMILY_IPV4 */
	uint16_t zero;		/**< must be 0 */
} __attribute__((aligned(8)));

/**
 * The one's complement checksum of a 20-byte IPv4 header (no options), in memory order: 0
 * when the header's checksum is right; over a header whose checksum field is 0, the value to
 * store there. (ct_parse_ipv4's check; the app's fast path computes a rewritten header's.)
 */
static inline uint16_t
ct_ipv4_hdr_csum(const uint8_t *ip)
{
	uint32_t w[5];
	uint64_t s;

	memcpy(w, ip, sizeof(w));
	s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/** Return the tuple of a packet going the other way (addresses and ports swapped). */
static inline struct ct_tuple
ct_tuple_invert(const struct ct_tuple *t)
{
	struct ct_tuple r = {
		.src = t->dst, .dst = t->src, .sport = t->dport, .dport = t->sport,
		.proto = t->proto, .family = t->family, .zero = 0,
	};
	return r;
}

static inline bool
ct_tuple_equal(const struct ct_tuple *a, const struct ct_tuple *b)
{
	const uint64_t *x = (const uint64_t *)a, *y = (const uint64_t *)b;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

/* ----------------------------------------------------------------------------------------
 * Reasons: every INVALID verdict, every parse error and every refusal has a named reason
 * and a per-lcore counter. One list makes the enum and the names.
 */
#define CT_FOREACH_REASON(_)							\
	_(NONE,			"none")						\
	/* parse */								\
	_(L3_TRUNCATED,		"ipv4 header truncated")			\
	_(L3_BAD_VERSION,	"ip version not 4")				\
	_(L3_BAD_IHL,		"ipv4 ihl < 5 or past packet")			\
	_(L3_BAD_TOTLEN,	"ipv4 total length inconsistent")		\
	_(L3_BAD_CSUM,		"ipv4 header checksum")				\
	_(L4_TRUNCATED,		"l4 header truncated")				\
	_(L4_BAD_CSUM,		"tcp/udp/icmp checksum (state-changing packet)") \
	_(TCP_BAD_DOFF,		"tcp data offset < 5 or past packet")		\
	_(ICMP_INNER_BAD,	"icmp error: embedded header malformed")	\
	_(ICMP_BAD_CSUM,	"icmp error checksum")				\
	_(ICMP_ERROR_BAD_DST,	"icmp error not sent to the quoted source")	\
	_(FRAGMENT,		"non-first fragment (no l4 header)")		\
	/* IPv6 (ct_ip6.c) */							\
	_(IP6_TRUNCATED,	"ipv6 header truncated or payload length past frame") \
	_(IP6_EXT_BAD,		"ipv6 extension header malformed")		\
	_(IP6_EXT_LIMIT,	"ipv6 extension headers past the bound")	\
	_(IP6_SRCROUTE,		"ipv6 routing header with segments left")	\
	/* state */								\
	_(TCP_BAD_FLAGS,	"tcp impossible flag combination")		\
	_(TCP_NEW_NOT_SYN,	"tcp new connection without syn")		\
	_(TCP_BAD_TRANSITION,	"tcp flags invalid in this state")		\
	_(TCP_OUT_OF_WINDOW,	"tcp segment outside window")			\
	_(TCP_RST_OUT_OF_WINDOW, "tcp rst outside window")			\
	_(TCP_RST_BAD_ACK,	"tcp rst in syn_sent not acknowledging the syn") \
	_(TCP_SYN_IN_ESTABLISHED, "tcp syn from the responder, connection live") \
	_(ICMP_BAD_TYPE,	"icmp type invalid for direction")		\
	_(ICMP_ERROR_NO_CONN,	"icmp error about unknown connection")		\
	_(ICMP_ERROR_UNSUPPORTED, "icmp error type not trackable")		\
	/* table */								\
	_(TABLE_FULL,		"table full, nothing evictable")		\
	_(HASH_FULL,		"hash buckets full")

enum ct_reason {
#define CT_REASON_ENUM(n, s) CT_R_##n,
	CT_FOREACH_REASON(CT_REASON_ENUM)
#undef CT_REASON_ENUM
	CT_R_MAX
};

/** Human-readable name of a reason ("tcp segment outside window"). Never NULL. */
const char *ct_reason_str(enum ct_reason r);
/** Short identifier of a reason ("TCP_OUT_OF_WINDOW"), for telemetry keys. Never NULL. */
const char *ct_reason_id(enum ct_reason r);

/* ----------------------------------------------------------------------------------------
 * Parsing
 */

/** Parsed packet: everything later stages need, filled by ct_parse_ipv4(). */
struct ct_pkt {
	struct ct_tuple tuple;	/**< key as seen on the wire; for ICMP errors, see below */
	uint16_t l3_off;	/**< offset of the IPv4 header from the start of the buffer */
	uint16_t l4_off;	/**< offset of the L4 header from the start of the buffer */
	uint16_t l4_len;	/**< L4 header + payload bytes (from IPv4 total length) */
	uint16_t payload_off;	/**< offset of the L4 payload (TCP/UDP) */
	uint16_t payload_len;
	uint16_t ip_len;	/**< IPv4 total length */
	uint8_t tcp_flags;	/**< TCP flags byte (FIN 0x01 ... CWR 0x80) */
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint8_t ttl;
	uint8_t is_icmp_error;	/**< ICMP error: tuple is the embedded header's, inverted */
	uint8_t is_fragment;	/**< MF set or fragment offset != 0 */
	uint16_t inner_l3_off;	/**< ICMP error: offset of the embedded IPv4 header */
	uint16_t inner_l4_off;	/**< ICMP error: offset of the embedded L4 header */
	uint16_t inner_len;	/**< ICMP error: bytes of the embedded datagram present */
	/* filled by lookup */
	uint64_t hash;		/**< ct_hash() of tuple, set by ct_lookup_burst */
	struct ct_conn *conn;	/**< connection found, or NULL */
	uint8_t dir;		/**< enum ct_dir of this packet within conn */
	/** Set by the caller after parsing: the NIC verified the TCP/UDP checksum and found it
	 * good (RTE_MBUF_F_RX_L4_CKSUM_GOOD). false (what ct_parse_ipv4 leaves): ct_update
	 * verifies it in software where it must (see ct_l4_csum_valid). */
	bool l4_csum_ok;
	uint16_t frag6_off;	/**< IPv6 fragment: offset of its fragment header (else 0) */
};

/**
 * Parse an IPv4 packet. `buf`/`len` are the bytes from the start of the frame (so offsets
 * in `p` are usable on the mbuf), `l3_off` where the IPv4 header starts.
 *
 * TCP, UDP, ICMP echo (and other queries) get full tuples; ICMP errors (dest unreachable,
 * time exceeded, parameter problem, source quench, redirect) get the tuple of the embedded
 * datagram *inverted*, i.e. the tuple of a packet travelling the way the error travels, so
 * a plain lookup finds the connection the error is about; is_icmp_error is set. Other
 * protocols get addresses and protocol only. Non-first fragments parse with ports 0 and
 * is_fragment set and return CT_R_FRAGMENT (the caller reassembles or steers them).
 *
 * Nothing is read past `len`. The IPv4 header checksum is verified when verify_csum.
 *
 * @return CT_R_NONE (0) on success, else the reason the packet is malformed.
 */
enum ct_reason ct_parse_ipv4(const uint8_t *buf, uint32_t len, uint16_t l3_off,
			     bool verify_csum, struct ct_pkt *p);

/*
 * ICMP errors are checked further by ct_parse_ipv4, whatever verify_csum says (they are
 * rare, and each one may reach an inside host): the ICMP checksum over the whole message
 * (RFC 792; CT_R_ICMP_BAD_CSUM), and the outer destination must be the quoted datagram's
 * source, as an error goes back to whoever sent what it quotes (RFC 792, RFC 1812 4.3.2.3;
 * CT_R_ICMP_ERROR_BAD_DST).
 */

/**
 * Is the L4 checksum of a parsed packet right? Computed over the real bytes of `buf` (the
 * frame p was parsed from, one contiguous buffer): TCP and UDP with the IPv4 pseudo header
 * (RFC 9293 3.1, RFC 768; a UDP checksum 0 means "none" and is accepted; a UDP length field
 * outside [8, l4_len] is not), ICMP over the whole message (RFC 792). Other protocols and
 * fragments (whose checksum spans bytes not here): true. p->l4_csum_ok is not looked at.
 *
 * ct_update() calls it, unless p->l4_csum_ok, for every packet that may create or change
 * state: the first packet of a connection in each direction, and TCP SYN, FIN, RST and any
 * segment that moves the TCP state (CT_R_L4_BAD_CSUM). Established traffic is not checked.
 * A caller that verifies earlier (before ct_create) may set p->l4_csum_ok. [any]
 */
bool ct_l4_csum_valid(const struct ct_pkt *p, const uint8_t *buf);

/* ----------------------------------------------------------------------------------------
 * IPv6 (ct_ip6.c). The key stays 16 bytes: family CT_FAMILY_IPV6, src/dst hold 32-bit keyed
 * folds of the 128-bit addresses (the table's secret, so nobody can aim two flows at one
 * fold), proto/ports as for IPv4 (ICMPv6 echo: the identifier in both). The exact address
 * pair of each connection's original direction lives in a side array of the table
 * (ct_table_enable_ipv6), compared on every IPv6 hit; IPv4 lookups never look at it (a key of
 * family 4 never equals one of family 6), so the IPv4 hit path is unchanged. IPv6 packets are
 * looked up one at a time with ct_lookup6 (not ct_lookup_burst). A family-6 connection's
 * reply tuple is the inverse of its original one (routed, not translated). Per-packet
 * functions are [owner], like their IPv4 counterparts.
 */

struct ct_table;
struct ct_conn;

/** The exact addresses of an IPv6 packet, in its tuple's order (ICMPv6 errors: the quoted
 * datagram's, inverted, as the tuple). */
struct ct_addr6 {
	uint8_t src[16];
	uint8_t dst[16];
};

/** Max extension headers walked before the upper layer (more: CT_R_IP6_EXT_LIMIT). */
#define CT_IP6_EXT_MAX 8

/**
 * Parse an IPv6 packet at l3_off: the fixed header, then hop-by-hop, routing, destination
 * options and fragment headers (at most CT_IP6_EXT_MAX; RFC 8200 4), to TCP, UDP or ICMPv6.
 * Fills p as ct_parse_ipv4 does (ip_len: 40 + payload length; ttl: the hop limit; tuple
 * src/dst 0 until ct_lookup6/ct_ip6_fold) and a with the exact addresses. ICMPv6 errors
 * (destination unreachable, packet too big, time exceeded, parameter problem; RFC 4443)
 * get the quoted datagram's tuple inverted and is_icmp_error, after the checks IPv4's get:
 * the ICMPv6 checksum (pseudo header, RFC 4443 2.3) and outer destination == quoted source.
 * A routing header with segments left is refused (CT_R_IP6_SRCROUTE: a source route, as
 * natgw drops IPv4 LSRR/SSRR). Fragments: is_fragment set; a non-first one returns
 * CT_R_FRAGMENT; frag_off (below) is where the fragment header is.
 * @return CT_R_NONE or the reason.
 */
enum ct_reason ct_parse_ipv6(const uint8_t *buf, uint32_t len, uint16_t l3_off,
			     struct ct_pkt *p, struct ct_addr6 *a);

/** Allocate the exact-address side array (32 bytes per connection). Call once, before IPv6
 * traffic. @return 0, or -1 with rte_errno ENOMEM. [owner] */
int ct_table_enable_ipv6(struct ct_table *t);

/** Fill p->tuple.src/dst with the table's keyed folds of a's addresses. [any] */
void ct_ip6_fold(const struct ct_table *t, struct ct_pkt *p, const struct ct_addr6 *a);

/** Look p (parsed by ct_parse_ipv6) up: folds, probe, exact address compare. Sets p->conn
 * (NULL on a miss) and p->dir. Expired entries are misses, reclaimed. [owner] */
struct ct_conn *ct_lookup6(struct ct_table *t, struct ct_pkt *p, const struct ct_addr6 *a,
			   ct_time_t now);

/** Create the connection of p (which missed): reply tuple the inverse, exact addresses
 * recorded, p->conn and p->dir (ORIG) set for ct_update. @return it, or NULL with *why
 * (as ct_create; also CT_R_HASH_FULL when IPv6 is not
 * enabled on t). [owner] */
struct ct_conn *ct_create6(struct ct_table *t, struct ct_pkt *p, const struct ct_addr6 *a,
			   ct_time_t now, enum ct_reason *why);

/** The exact addresses of a family-6 connection in direction d (false: not IPv6). [any] */
bool ct_conn_addr6(const struct ct_table *t, const struct ct_conn *c, enum ct_dir d,
		   struct ct_addr6 *out);

/* ----------------------------------------------------------------------------------------
 * Verdicts and status
 */

/** What iptables' -m conntrack --ctstate calls the packet. */
enum ct_state {
	CT_NEW = 0,
	CT_ESTABLISHED,
	CT_RELATED,
	CT_INVALID,
	CT_UNTRACKED,
};

const char *ct_state_str(enum ct_state s);

/** Connection status bits (struct ct_conn_info.status). */
#define CT_ST_SEEN_REPLY	0x0001	/**< a packet went in the reply direction */
#define CT_ST_ASSURED		0x0002	/**< not early-evictable (TCP established, UDP both ways) */
#define CT_ST_RELATED		0x0004	/**< created from an expectation / related to a master */
#define CT_ST_SNAT		0x0008	/**< reply dst differs from orig src */
#define CT_ST_DNAT		0x0010	/**< reply src differs from orig dst */
#define CT_ST_DYING		0x0020	/**< removed; entry awaiting reuse */
#define CT_ST_HELPER		0x0040	/**< a helper watches this connection */
#define CT_ST_SEQ_ADJUST	0x0080	/**< helper changed payload length: seq/ack adjusted;
					     cleared when the TCP state is reinitialised for a
					     new connection on the same entry (the helper's
					     offsets belonged to the old stream) */
/* The app's ruleset verdict cache (app/gw_rules.c), one pair per direction: the verdict of
 * that direction was evaluated under the worker's current ruleset (VALID) and it is accept
 * (ACCEPT). Cleared by the app when a bit the rules can see changes, swept on a reload. */
#define CT_ST_RS_VALID0		0x0100
#define CT_ST_RS_ACCEPT0	0x0200
#define CT_ST_RS_VALID1		0x0400
#define CT_ST_RS_ACCEPT1	0x0800
#define CT_ST_RS_MASK		0x0f00
/* The app's fast-path bits (app/gw_fast.c), one pair per direction: a packet of that
 * direction passed every check that depends on its tuple and ingress port alone, under the
 * worker's current configuration (FAST), on the outside port (FAST_OUT) or the inside one.
 * ct_update_fast() takes only a direction whose FAST bit is set. Set and cleared by the
 * app; never saved in a snapshot. */
#define CT_ST_FAST0		0x1000
#define CT_ST_FAST1		0x2000
#define CT_ST_FAST_OUT0		0x4000
#define CT_ST_FAST_OUT1		0x8000
#define CT_ST_FAST_MASK		0xf000

/** Direction d's FAST bit, and with outside its FAST_OUT bit too: what the status of a
 * direction learnt on that port carries in CT_ST_FAST0/1 | CT_ST_FAST_OUT0/1 of it. */
static inline uint16_t
ct_st_fast_bits(unsigned int d, bool outside)
{
	return (uint16_t)((CT_ST_FAST0 << (d & 1)) | (outside ? CT_ST_FAST_OUT0 << (d & 1) : 0));
}

/** Both of direction d's fast-path bits (the mask ct_st_fast_bits() values are read under). */
static inline uint16_t
ct_st_fast_mask(unsigned int d)
{
	return ct_st_fast_bits(d, true);
}

/** TCP states, as netfilter names them. */
#define CT_FOREACH_TCP_STATE(_)	\
	_(NONE) _(SYN_SENT) _(SYN_RECV) _(ESTABLISHED) _(FIN_WAIT) _(CLOSE_WAIT)	\
	_(LAST_ACK) _(TIME_WAIT) _(CLOSE) _(SYN_SENT2)

enum ct_tcp_state {
#define CT_TCP_STATE_ENUM(n) CT_TCP_##n,
	CT_FOREACH_TCP_STATE(CT_TCP_STATE_ENUM)
#undef CT_TCP_STATE_ENUM
	CT_TCP_MAX
};

const char *ct_tcp_state_str(enum ct_tcp_state s);

/* ----------------------------------------------------------------------------------------
 * Timeouts. A connection is in exactly one timeout class at a time; each class has one
 * timeout. Defaults are at or above the RFC minimum (cited in ct_timeout.c).
 */
#define CT_FOREACH_TCLASS(_)						\
	_(TCP_SYN_SENT,		"tcp_syn_sent")				\
	_(TCP_SYN_RECV,		"tcp_syn_recv")				\
	_(TCP_ESTABLISHED,	"tcp_established")			\
	_(TCP_FIN_WAIT,		"tcp_fin_wait")				\
	_(TCP_CLOSE_WAIT,	"tcp_close_wait")			\
	_(TCP_LAST_ACK,		"tcp_last_ack")				\
	_(TCP_TIME_WAIT,	"tcp_time_wait")			\
	_(TCP_CLOSE,		"tcp_close")				\
	_(TCP_UNACK,		"tcp_unacknowledged")			\
	_(UDP_UNREPLIED,	"udp_unreplied")			\
	_(UDP_REPLIED,		"udp_replied")				\
	_(UDP_ASSURED,		"udp_assured")				\
	_(ICMP,			"icmp")					\
	_(OTHER,		"other")

enum ct_tclass {
#define CT_TCLASS_ENUM(n, s) CT_TC_##n,
	CT_FOREACH_TCLASS(CT_TCLASS_ENUM)
#undef CT_TCLASS_ENUM
	CT_TC_MAX
};

/** Timeouts in microseconds, one per class: 1 us .. CT_TIMEOUT_MAX, kept to the millisecond
 * (a connection lives its timeout rounded up to the next ms). */
struct ct_timeouts {
	ct_time_t t[CT_TC_MAX];
};

/** The longest timeout: 2^30 ms, 12.4 days (entry times are 32-bit milliseconds). */
#define CT_TIMEOUT_MAX	((UINT64_C(1) << 30) * 1000)

/* TCP_UNACK: ESTABLISHED with data not yet acknowledged (shorter, netfilter's "unacknowledged"
 * timeout). A connection enters that class on unacknowledged data and then stays in it while
 * established (no list move per segment); its expire follows the current timeout, the
 * established one when all is acknowledged. */

/** Fill `to` with the defaults. */
void ct_timeouts_default(struct ct_timeouts *to);
/** Config name of a class ("udp_assured"); NULL if out of range. */
const char *ct_tclass_name(enum ct_tclass c);
/** Class by config name; -1 if unknown. */
int ct_tclass_by_name(const char *name);
/** The RFC floor for a class's timeout (0: no RFC floor), see ct_timeout.c. Config code may
 * warn when a configured timeout is below it. */
ct_time_t ct_timeout_rfc_min(enum ct_tclass c);

/* ----------------------------------------------------------------------------------------
 * The table
 */

struct ct_table;
struct ct_conn;		/* opaque; lives in the table */

struct ct_params {
	uint32_t capacity;	/**< max connections (each has 2 keys) */
	uint64_t seed[2];	/**< hash key; 0,0 means "pick random" (rte_rand) */
	int socket_id;		/**< NUMA socket for memory, SOCKET_ID_ANY ok */
	const struct ct_timeouts *timeouts; /**< NULL: defaults */
	bool tcp_liberal;	/**< no window checks (like nf_conntrack_tcp_be_liberal) */
	bool tcp_loose;		/**< pick up mid-stream TCP (nf_conntrack_tcp_loose) */
	uint32_t evict_search;	/**< entries examined to find an evictable one (default 8) */
	const char *name;	/**< memzone name prefix, unique per process */
	bool use_heap;		/**< allocate with calloc instead of rte_malloc (no EAL) */
	bool accounting;	/**< count packets and bytes per connection and direction
				 *   (nf_conntrack_acct; 32 more bytes per entry) */
};

/**
 * Create a table. Works without EAL when use_heap is set (unit tests, replay).
 * @return the table, or NULL with rte_errno set (EINVAL: capacity 0 or above 2^30, a zero
 *         timeout; ENOMEM).
 */
struct ct_table *ct_table_create(const struct ct_params *prm);
/** Free a table and all its entries (destroy callbacks are run). NULL is a no-op. */
void ct_table_free(struct ct_table *t);

/**
 * Called for every connection leaving the table (expired, evicted, flushed, deleted), on
 * the owner lcore, before the entry is reused. NAT uses it to release mappings, helpers
 * to drop expectations. [owner] to set, before traffic.
 */
typedef void (*ct_destroy_cb)(struct ct_table *t, struct ct_conn *c, void *arg);
void ct_set_destroy_cb(struct ct_table *t, ct_destroy_cb cb, void *arg);

/* Destroy callback slots, one per layered library (as CT_USER_*), run in slot order.
 * ct_set_destroy_cb() sets slot CT_CB_NAT. (Added for lib/helpers: a dying master drops
 * its expectations.) */
#define CT_CB_NAT	0
#define CT_CB_HELPER	1
#define CT_CB_EVENT	2	/**< the app's connection events (app/gw_event.c) */
#define CT_CB_MAX	3
/** Set (cb NULL: clear) the destroy callback of one slot. [owner], before traffic. */
void ct_set_destroy_cb_slot(struct ct_table *t, unsigned int slot, ct_destroy_cb cb, void *arg);

/** Keyed hash of a tuple (the table's random seed). [any] */
uint64_t ct_hash(const struct ct_table *t, const struct ct_tuple *k);

/**
 * Look up a burst: hashes every pkts[i]->tuple, prefetches, then sets pkts[i]->conn and
 * ->dir (conn NULL on a miss). Expired entries still in the table are treated as misses and
 * reclaimed. Packets with pkts[i]->tuple.family == 0 are skipped (conn NULL). [owner]
 * Two packets of one new flow in the same burst both miss: after ct_create() for the first,
 * look the later ones up again (ct_lookup), as ct_create() refuses a tuple that is already a
 * key (CT_R_HASH_FULL).
 */
void ct_lookup_burst(struct ct_table *t, struct ct_pkt *pkts[], unsigned int n, ct_time_t now);

/** Single lookup of a tuple. Returns the connection or NULL; *dir set on a hit. [owner] */
struct ct_conn *ct_lookup(struct ct_table *t, const struct ct_tuple *k, uint8_t *dir,
			  ct_time_t now);

/**
 * Would this packet be allowed to create a connection? (TCP: SYN without ACK/RST/FIN, or
 * any valid non-RST segment with tcp_loose; ICMP: a query request type; UDP/other: yes.)
 * @return CT_R_NONE or the reason it may not.
 */
enum ct_reason ct_new_ok(const struct ct_table *t, const struct ct_pkt *p);

/**
 * Create a connection for p (which must have missed), with the given reply tuple (the
 * inverted orig tuple, altered by NAT). Both tuples become keys. When the table is full an
 * entry that is not ASSURED (or a TCP one already closing) may be evicted (bounded search,
 * see ct_evict_unreplied); otherwise the connection is refused.
 * The packet itself is not processed: call ct_update() next; if that says CT_INVALID the
 * new connection is left in its initial state: ct_delete() it. [owner]
 * Eviction never takes a connection handed out (by a lookup or ct_create) since the last
 * ct_lookup_burst() or ct_expire() call, as its caller may still hold the pointer; past 64
 * of them it does not evict at all until the next such call.
 * @return the connection, or NULL with *why set (CT_R_TABLE_FULL, CT_R_HASH_FULL, or a
 *         reply-tuple clash reported as CT_R_HASH_FULL).
 */
struct ct_conn *ct_create(struct ct_table *t, const struct ct_tuple *orig,
			  const struct ct_tuple *reply, ct_time_t now, enum ct_reason *why);

/**
 * Run the protocol state machine for a packet of this connection (p->conn, p->dir set) and
 * refresh its timer (ICMP errors and TCP RSTs never refresh). Updates status bits.
 * `buf` is the frame p was parsed from (TCP reads sequence numbers, window and options;
 * packets that may create or change state have their L4 checksum verified over it unless
 * p->l4_csum_ok, see ct_l4_csum_valid: CT_R_L4_BAD_CSUM).
 * @return CT_NEW (first packet of a connection, orig direction, not yet replied),
 *         CT_ESTABLISHED, CT_RELATED (connection created as related and not yet replied,
 *         or p is an ICMP error about it), or CT_INVALID with *why set.
 *         An INVALID packet leaves the connection unchanged.
 */
/**
 * The established fast path's ct_update (app/gw_fast.c): for a packet whose direction's
 * CT_ST_FAST bit is set, of a connection that saw both directions (SEEN_REPLY, ASSURED),
 * has no helper, no sequence adjustment: a UDP datagram, or a TCP segment that
 * ct_update's own established shortcut takes (flags ACK, PSH, ECE, CWR only, ESTABLISHED,
 * in window, nothing pending). Then it does exactly what ct_update() would do for it
 * (window edges, counters, timer) and returns true: the state is ESTABLISHED and no status
 * bit changed. Otherwise it changes nothing and returns false (the caller takes the full
 * path). p needs tuple.proto, dir, conn, ip_len, l4_off, payload_off, payload_len and
 * tcp_flags. RELATED connections never take it (their entry holds the master's id where
 * the others hold the checksum deltas). [owner]
 * @return the connection's tuple of the other direction (the packet leaves with its
 *         inverse) with *ck_delta the direction's L4 checksum delta (ct_conn_set_fast_ck),
 *         or NULL.
 */
const struct ct_tuple *ct_update_fast(struct ct_table *t, struct ct_pkt *p, const uint8_t *buf,
				      ct_time_t now, uint16_t *ck_delta);

/** The app learnt direction d for the fast path, on the outside port or the inside one:
 * set its CT_ST_FAST bits, and with the first direction learnt store each direction's L4
 * checksum delta (RFC 1624: the one's complement sum of the address and port words the
 * NAT rewrite changes, folded), which ct_update_fast hands back. Nothing for RELATED
 * connections. [owner] */
void ct_conn_learn_fast(struct ct_conn *c, enum ct_dir d, bool outside);

enum ct_state ct_update(struct ct_table *t, struct ct_pkt *p, const uint8_t *buf,
			ct_time_t now, enum ct_reason *why);

/** Remove a connection now (destroy callback runs). [owner] */
void ct_delete(struct ct_table *t, struct ct_conn *c);

/**
 * Make room for a new connection (netfilter's early_drop): remove one connection that
 * is dead, or else one that is not ASSURED (SYN_RECV and replied UDP included) or is a TCP
 * connection already closing (as netfilter's tcp_can_early_drop), least valuable first:
 * never answered, closed (TIME_WAIT, CLOSE), answered but not assured, closing; each
 * class from its oldest entry, at most evict_search entries per class. Connections handed
 * out since the last ct_lookup_burst()/ct_expire() are never chosen. For a layer whose own
 * resource (NAT mappings, outside ports) ran out while the table still has free entries;
 * ct_create() does the same by itself when the table is full. [owner]
 * @return true if one was removed (counted as evicted, or expired if it was dead).
 */
bool ct_evict_unreplied(struct ct_table *t, ct_time_t now);

/**
 * Remove connection c to make room (a layer's per-host budget, helper records), if
 * ct_evict_unreplied() could choose it: dead, not ASSURED, or TCP already closing, and
 * not handed out since the last ct_lookup_burst()/ct_expire(). [owner]
 * @return true if removed (counted as evicted, or expired if it was dead).
 */
bool ct_evict_conn(struct ct_table *t, struct ct_conn *c, ct_time_t now);

/** Mark c as RELATED to master (helpers, expectations). [owner] */
void ct_set_related(struct ct_table *t, struct ct_conn *c, struct ct_conn *master);

/**
 * Expire connections whose timeout passed, at most `budget` list entries examined. The
 * amortised cost per packet is O(1); call once per poll loop. [owner]
 * @return connections removed.
 */
unsigned int ct_expire(struct ct_table *t, ct_time_t now, unsigned int budget);

/** Remove every connection (destroy callbacks run). [owner] */
void ct_flush(struct ct_table *t);

/* Accessors for the owner (and the libraries layered on top). [owner] */
const struct ct_tuple *ct_conn_tuple(const struct ct_conn *c, enum ct_dir d);
uint16_t ct_conn_status(const struct ct_conn *c);
void ct_conn_set_status(struct ct_conn *c, uint16_t bits);
/** Clear status bits (the app's CT_ST_RS_* cache bits). [owner] */
void ct_conn_clear_status(struct ct_conn *c, uint16_t bits);
enum ct_tcp_state ct_conn_tcp_state(const struct ct_conn *c);
/** Absolute time the connection expires at (<= now: dead, awaiting reclaim), to the
 * millisecond, read near now (the caller's clock of the packet path). */
ct_time_t ct_conn_expire(const struct ct_conn *c, ct_time_t now);
/** Index of the connection in its table, stable while it lives (0..capacity-1). */
uint32_t ct_conn_id(const struct ct_table *t, const struct ct_conn *c);
struct ct_conn *ct_conn_by_id(struct ct_table *t, uint32_t id);
/** Two 32-bit words a layered library (NAT: mapping id; helpers: ext id) may keep. */
uint32_t ct_conn_user(const struct ct_conn *c, unsigned int slot);
void ct_conn_set_user(struct ct_conn *c, unsigned int slot, uint32_t v);
#define CT_USER_NAT	0
#define CT_USER_HELPER	1
/** Master connection id + 1 (0: none). */
uint32_t ct_conn_master(const struct ct_conn *c);

/* ----------------------------------------------------------------------------------------
 * Control plane: snapshots and counters. [any]
 */

/** A consistent copy of one connection. */
struct ct_conn_info {
	struct ct_tuple tuple[2];
	uint32_t id;
	uint32_t master;	/**< master id + 1, 0 if none */
	uint16_t status;	/**< CT_ST_* */
	uint8_t tcp_state;	/**< enum ct_tcp_state (TCP only) */
	uint8_t tclass;		/**< enum ct_tclass */
	ct_time_t expire;	/**< absolute time of expiry */
	bool accounting;	/**< the table counts packets and bytes (ct_params) */
	uint64_t packets[2];	/**< per direction; 0 without accounting */
	uint64_t bytes[2];
};

/**
 * Walk live connections from id `*cursor` on, copying up to n into out[]. Lock-free: the
 * owner keeps forwarding; each copy is consistent (retried while an entry changes).
 * Connections whose expire <= now are skipped. Start with *cursor = 0; returns the number
 * copied, 0 when done.
 */
unsigned int ct_snapshot(const struct ct_table *t, uint32_t *cursor, struct ct_conn_info *out,
			 unsigned int n, ct_time_t now);

/* ----------------------------------------------------------------------------------------
 * Save and restore (ct_snapshot.c; the file format is app/gw_snapshot.c's): one connection's
 * whole state as a flat record, so that sessions survive a restart of the gateway.
 */

/** A connection as saved: tuples, state, TCP window data, status, counters, and its expiry
 * as time left (so a restored connection expires on the new clock). Fixed layout, padding
 * zero. */
struct ct_conn_rec {
	struct ct_tuple tuple[2];
	uint64_t expire_in;		/**< microseconds left when exported (> 0) */
	uint64_t packets[2];
	uint64_t bytes[2];
	uint32_t td_end[2];		/**< TCP window tracking, per direction */
	uint32_t td_maxend[2];
	uint32_t td_maxwin[2];
	uint8_t td_wscale[2];
	uint8_t td_flags[2];
	uint16_t status;		/**< CT_ST_* */
	uint8_t tcp_state;		/**< enum ct_tcp_state */
	uint8_t tclass;			/**< enum ct_tclass */
	uint32_t master;		/**< export: master id + 1 (0: none); import ignores it
					 *   (the caller links with ct_set_related) */
	uint32_t user[2];		/**< export: the layers' words; import ignores them */
	uint32_t zero;
};

/**
 * Export connection `id` (0..capacity-1) of t into r. IPv4 connections only (IPv6 ones are
 * not saved). [owner, or any thread while the owner is stopped]
 * @return 0, or -1 when the id is free, dying, expired at `now` or not IPv4.
 */
int ct_conn_export(const struct ct_table *t, uint32_t id, ct_time_t now, struct ct_conn_rec *r);

/**
 * Re-create a saved connection in t: the tuples are inserted as by ct_create() (a full table
 * evicts as for a new connection), then the state, window data, status bits (but for
 * CT_ST_DYING and CT_ST_RELATED: see ct_set_related), counters and class are set, expiring
 * at now + expire_in. Import connections in increasing expire_in for exact expiry lists (any
 * order is correct; out of order ones are reaped late). The layers' words start at 0 and no
 * callback runs. [owner, before traffic or between bursts]
 * @return the connection, or NULL with *why set (CT_R_NONE: the record is malformed:
 *         bad family, state or class, expire_in 0; else ct_create's reason).
 */
struct ct_conn *ct_conn_import(struct ct_table *t, const struct ct_conn_rec *r, ct_time_t now,
			       enum ct_reason *why);

/** Per-lcore counters, written by the owner only. */
struct ct_stats {
	uint64_t created;
	uint64_t expired;
	uint64_t deleted;	/**< ct_delete / flush */
	uint64_t evicted;	/**< pushed out by a new connection when full */
	uint64_t refused;	/**< new connection refused (full or hash full) */
	uint64_t active;	/**< current connections */
	uint64_t lookups;
	uint64_t hits;
	/* TCP segments passed without closing or moving the connection (RFC 5961; netfilter's
	 * "ignored" packets), and entries given to a new connection on the same tuple */
	uint64_t tcp_ignored;	/**< SYN in a live connection / ACK to SYN_SENT: passed as is */
	uint64_t tcp_rst_challenged; /**< RST in window, not at rcv.nxt: passed, not closing */
	uint64_t tcp_reinit;	/**< TCP state reinitialised for a new connection (same entry) */
	uint64_t hash_moves;	/**< inserts that moved keys (both candidate buckets full) */
	uint64_t reason[CT_R_MAX];
};

/** Copy the counters (each word read atomically). [any] */
void ct_stats_get(const struct ct_table *t, struct ct_stats *out);
/** Count a reason from a layer above (parse errors seen by the app). [owner] */
void ct_count_reason(struct ct_table *t, enum ct_reason r);

/** Capacity and memory held (bytes) by the table, for the benchmark and the banner. */
uint32_t ct_table_capacity(const struct ct_table *t);
size_t ct_table_memory(const struct ct_table *t);

/**
 * Change the timeouts live (natgw-ctl timeout / reload). As netfilter's timeout sysctls: a
 * connection takes its class's new timeout at its next packet; until then it keeps the
 * expiry it has, except that a shortened class re-checks its entries no later than now +
 * the new timeout, so they go then if no packet refreshed them. [owner]
 * @return entries of the shortened classes re-scheduled, or -1 (a zero timeout: nothing
 *         changed).
 */
int64_t ct_set_timeouts(struct ct_table *t, const struct ct_timeouts *to, ct_time_t now);

#ifdef __cplusplus
}
#endif
#endif /* NATGW_CT_H */
