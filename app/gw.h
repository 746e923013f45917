/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw.h - the natgw data path as a library (natgw_gw, meson dependency gw_dep): the
 * configuration (INI, docs/config.md), the per-worker packet pipeline (parse, steer to the
 * owner worker, conntrack, policy, NAT, helpers, router duties: ARP, ICMP, TTL, MTU,
 * reassembly) and the counters. natgw (app/main.c) drives it from DPDK ports,
 * natgw-replay from pcap files, the benchmark from generated bursts: the pipeline only
 * sees mbufs in (gw_worker_rx) and emits them through struct gw_io.
 *
 * Threading (shared/DESIGN.md "Ownership"):
 *  - struct gw is built once (gw_create) and read-only afterwards, except for the port
 *    forward table, which the control plane may swap.
 *  - struct gw_worker is owned by one lcore: gw_worker_rx, gw_worker_poll_rings and
 *    gw_worker_housekeeping on a worker are called by that lcore only [owner]. Packets that
 *    belong to another worker are handed to it through single-producer/single-consumer
 *    rings (one per ordered pair of workers), so every worker may receive from any port.
 *  - Counters and connection snapshots are readable from any thread [any].
 *
 * Time: `now` is microseconds on the caller's monotonic clock (ct_time_t).
 * Nothing in gw_worker_rx's forwarding path allocates from the heap, locks, logs or
 * makes a syscall (mbufs for ICMP errors / ARP come from the mempool given to gw_create).
 */
#ifndef NATGW_GW_H
#define NATGW_GW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>	/* before DPDK headers: libbsd overlay vs rte_string_fns.h */

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "ct.h"
#include "nat.h"
#include "helper.h"
#include "gw_event.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GW_MAX_WORKERS		16
#define GW_RING_SIZE_DEFAULT	1024	/* handoff ring entries when gw_params says 0 */
#define GW_FRAG_OUT_MAX		64	/* fragments one datagram may be cut into on egress */
#define GW_MAX_FWDS		256
#define GW_MAX_UNTRACKED	32
#define GW_BURST_MAX		64

/** The two ports. Values are fixed: replay and the tests index arrays with them. */
enum gw_port {
	GW_PORT_INSIDE = 0,
	GW_PORT_OUTSIDE = 1,
	GW_PORT_MAX = 2,
};

const char *gw_port_name(unsigned int port);	/**< "inside" / "outside" */

/* ----------------------------------------------------------------------------------------
 * Drop reasons: every drop has one, and a per-worker counter. The gateway's own reasons,
 * then every conntrack reason (GW_DROP_CT_BASE + enum ct_reason) and every NAT reason
 * (GW_DROP_NAT_BASE + enum nat_reason).
 */
#define GW_FOREACH_DROP(_)							\
	_(NONE,			"none")						\
	_(L2_TRUNCATED,		"frame shorter than ethernet header")		\
	_(L2_TOO_BIG,		"frame larger than mtu + 14 (gso/tso frame?)")	\
	_(L2_NOT_FOR_US,	"destination mac neither ours nor broadcast")	\
	_(L2_GROUP,		"unicast ip in a link-layer broadcast/multicast")	\
	_(VLAN_OTHER,		"802.1q tag for a vlan not ours")		\
	_(VLAN_UNTAGGED,	"untagged frame on a vlan side")		\
	_(VLAN_PUSH,		"no room to push the 802.1q tag (tx)")		\
	_(NOT_IPV4,		"ethertype not ipv4 or arp")			\
	_(ARP_BAD,		"arp malformed or not ethernet/ipv4")		\
	_(TO_ME_UNHANDLED,	"to our address, not echo request")		\
	_(NO_ROUTE,		"no route (martian or our own source)")		\
	_(WRONG_SIDE,		"source address on the wrong side")		\
	_(MARTIAN_SRC,		"martian source (0/8, 127/8, class d/e, bcast)")	\
	_(SRC_NOT_INSIDE,	"inside source not in inside net/routes (urpf)")	\
	_(TO_INSIDE_DIRECT,	"from outside straight to an inside address")	\
	_(NOT_OURS,		"from outside to an address not ours nor inside")	\
	_(TO_ME_WRONG_SIDE,	"to our inside address from the outside port")	\
	_(ICMP_ERROR_FORGED,	"icmp error forged (source, or hairpin quote)")	\
	_(IP_SRCROUTE,		"ip source route option (lsrr/ssrr)")		\
	_(IP_OPTS_BAD,		"ip options malformed")				\
	_(LOCAL_BAD,		"own packet: bad address/side/size, not sent")	\
	_(ARP_UNRESOLVED,	"next hop did not answer arp")			\
	_(ARP_HOLD_FULL,	"arp hold queue full")				\
	_(ARP_HOLD_TOTAL,	"arp hold queues full ([arp] hold_total)")	\
	_(ARP_EVICTED,		"arp cache full: unresolved next hop evicted")	\
	_(TTL_EXCEEDED,		"ttl expired in transit")			\
	_(FRAG_NEEDED,		"df set and larger than egress mtu")		\
	_(FRAG_FAILED,		"fragmentation failed (no mbufs)")		\
	_(REASM_FAILED,		"reassembly failed or timed out")		\
	_(REASM_LIMIT,		"reassembly full: [fragments] max_mbufs held")	\
	_(REASM_SRC_LIMIT,	"source holds [fragments] max_per_source")	\
	_(REWRITE_FAILED,	"nat rewrite failed (packet too short)")	\
	_(HELPER,		"helper dropped (split command / no room)")	\
	_(RULE_DROP,		"dropped by the ruleset")			\
	_(RULE_REJECT,		"rejected by the ruleset (rst/icmp sent)")	\
	_(RULE_NOTRACK_PRIVATE, "notrack: private source to the uplink")	\
	_(HANDOFF_FULL,		"handoff ring to owner worker full")		\
	_(TX_FULL,		"port tx queue full")				\
	_(NO_MBUF,		"no mbuf for a generated packet")			\
	_(BOUNCE,		"would leave by the outside port it came in on")	\
	/* IPv6 (gw_ip6.c, gw_nd.c) */						\
	_(IP6_MARTIAN,		"ipv6 multicast/link-local/loopback/unspecified, not routable") \
	_(IP6_INBOUND_NEW,	"ipv6 from the uplink, not established/related (rfc 6092)") \
	_(IP6_TOO_BIG,		"ipv6 larger than egress mtu (packet too big sent)")	\
	_(ND_BAD,		"neighbour discovery malformed (rfc 4861 checks)")	\
	_(ND_UNRESOLVED,	"next hop did not answer neighbour solicitation")	\
	/* NAT64 (gw_nat64.c) */						\
	_(NAT64_XLAT,		"nat64: cannot be translated (rfc 7915; see nat64 stats)") \
	_(NAT64_SHADOW_FULL,	"nat64: no shadow address free ([nat64] max_hosts)")	\
	_(NAT64_NO_SHADOW,	"nat64: no shadow for this host/address (only a new "	\
				"connection makes one)")			\
	_(NAT64_NON_GLOBAL,	"nat64: well-known prefix to a non-global ipv4 (rfc 6052 3.1)") \
	_(NAT64_SPOOFED,	"nat64 shadow address in a packet received as ipv4")

enum gw_drop {
#define GW_DROP_ENUM(n, s) GW_DROP_##n,
	GW_FOREACH_DROP(GW_DROP_ENUM)
#undef GW_DROP_ENUM
	GW_DROP_CT_BASE,
	GW_DROP_NAT_BASE = GW_DROP_CT_BASE + CT_R_MAX,
	GW_DROP_MAX = GW_DROP_NAT_BASE + NAT_R_MAX,
};

/** Text of a reason: "ttl expired in transit", "ct: tcp segment outside window",
 * "nat: no free outside port". Never NULL. */
const char *gw_drop_str(enum gw_drop d);
/** Identifier of a reason: "TTL_EXCEEDED", "CT_TCP_OUT_OF_WINDOW", "NAT_PORTS_EXHAUSTED". */
const char *gw_drop_id(enum gw_drop d);

/* ----------------------------------------------------------------------------------------
 * Configuration (docs/config.md). Addresses network order, ports host order.
 */
struct gw_if_config {
	char port[64];		/**< DPDK port id ("0") or device name ("net_tap0") */
	uint32_t addr;		/**< our address on this side */
	uint8_t prefix;		/**< on-link prefix length */
	uint32_t gateway;	/**< outside: next hop for everything off-link (0: none) */
	uint16_t mtu;		/**< IPv4 MTU (default 1500) */
	uint16_t vlan;		/**< 802.1Q VLAN id 1..4094 of this side (0: untagged).
				 *   Both sides may name one port (router on a stick):
				 *   then both are tagged, with different ids */
	bool mac_set;		/**< use `mac` instead of the port's MAC */
	struct rte_ether_addr mac;
	/* IPv6 (gw_ip6.c): address6 / gateway6; prefix6 0 = no IPv6 on this side */
	uint8_t addr6[16];	/**< our global IPv6 address on this side */
	uint8_t prefix6;	/**< its on-link prefix length (1..128) */
	uint8_t gateway6[16];	/**< outside: IPv6 next hop off-link (all zero: none) */
	bool ra;		/**< inside: send router advertisements (ra = yes) */
};

/** [inside] routes6 entry: an IPv6 prefix on the inside, behind `via` (all zero: on-link). */
struct gw_route6 {
	uint8_t addr[16];
	uint8_t len;
	uint8_t via[16];
};

#define GW_MAX_ARP_STATIC 16

/** [untracked] rule direction (docs/config.md): out = packets from the inside port to the
 * uplink as written; in = packets from the uplink to an inside address as written; both =
 * out as written plus, from the uplink, its mirror image (the replies). */
enum gw_untracked_dir {
	GW_UT_OUT = 1,
	GW_UT_IN = 2,
	GW_UT_BOTH = 3,
};

/** [untracked] rule: forwarded without state or NAT, one way (dir). 0 / 0-range fields
 * match anything. Never matches ICMP errors. */
struct gw_untracked {
	uint8_t proto;			/**< 0: any */
	uint8_t dir;			/**< enum gw_untracked_dir (default GW_UT_OUT) */
	bool private_ok;		/**< `private yes`: private inside sources may leave the
					 *   uplink untranslated (RFC 1918, RFC 6598, 169.254/16) */
	uint32_t addr, mask;		/**< `host`: the outside end (dst out, src in) */
	uint32_t in_addr, in_mask;	/**< `inside`: the inside end */
	uint16_t port_lo, port_hi;	/**< `dport` of the packet as written, 0-0 any */
	uint16_t sport_lo, sport_hi;	/**< `sport` of the packet as written, 0-0 any */
};

#define GW_MAX_ROUTES 16

/** [inside] routes entry: a prefix behind a router on the inside network. */
struct gw_route {
	uint32_t addr, mask;		/**< network order */
	uint32_t via;			/**< next hop, on the inside network */
};

struct gw_config {
	char path[256];				/**< file it was read from */
	struct gw_if_config ifc[GW_PORT_MAX];
	struct nat_config nat;			/**< n_workers set by gw_create */
	struct nat_fwd fwds[GW_MAX_FWDS];
	unsigned int n_fwds;
	struct gw_untracked untracked[GW_MAX_UNTRACKED];
	unsigned int n_untracked;
	struct gw_route routes[GW_MAX_ROUTES];	/**< [inside] routes: prefixes behind inside
						 *   routers (uRPF accepts them as sources) */
	unsigned int n_routes;
	struct gw_route6 routes6[GW_MAX_ROUTES];	/**< [inside] routes6 (gw_ip6.c) */
	unsigned int n_routes6;
	/* conntrack */
	uint32_t capacity;			/**< connections per worker */
	bool tcp_liberal, tcp_loose;
	bool ct_accounting;			/**< [conntrack] accounting: per-connection
						 *   packet and byte counters */
	struct ct_timeouts timeouts;
	/* workers */
	uint32_t idle_sleep_us;
	uint32_t idle_polls;			/**< empty polls before sleeping */
	uint16_t burst;
	uint32_t stats_interval;		/**< seconds, 0 off */
	bool fast_path;				/**< the established fast path (gw_fast.c) */
	/* arp */
	uint32_t arp_timeout_s;
	uint16_t arp_hold;			/**< packets held per unresolved next hop */
	uint32_t arp_retry_ms;			/**< rate limit of requests per next hop */
	uint32_t arp_entries;			/**< dynamic entries per port (per worker) */
	uint32_t arp_hold_total;		/**< packets held, all next hops (per worker) */
	struct {
		uint32_t ip;
		struct rte_ether_addr mac;
	} arp_static[GW_MAX_ARP_STATIC];	/**< permanent entries ([arp] static) */
	unsigned int n_arp_static;
	/* fragments */
	uint32_t frag_max_flows;
	uint32_t frag_timeout_ms;
	uint32_t frag_max_mbufs;		/**< fragments held per worker and ingress port */
	uint32_t frag_max_per_src;		/**< fragments held per worker per source */
	/* helpers */
	struct helper_config helpers;
	/* [log]: connection events, NAT logging (app/gw_event.h) */
	struct gw_log_config log;
	/* RSS steering ([nat] rss_*, lib/nat/nat_rss.c; applied by app/natgw_port.c) */
	bool rss_off;				/**< rss_steering = off */
	uint8_t rss_key_len;			/**< 0: random key per start */
	uint8_t rss_key[NAT_RSS_KEY_MAX];	/**< rss_key (then forced bits, nat_rss.c) */
	/* [filter] rules: the ruleset file (docs/config.md "Ruleset"); "" none */
	char rules_path[256];
	/* live control ([control], app/gw_ctl.h, docs/operations.md) */
	/* [nat64] (app/gw_nat64.c, docs/config.md): prefix_len 0 = off */
	uint8_t nat64_prefix[16];		/**< RFC 6052 prefix (64:ff9b::/96 ...) */
	uint8_t nat64_prefix_len;		/**< 32/40/48/56/64/96; 0: NAT64 off */
	uint32_t nat64_shadow;			/**< shadow range, network order */
	uint8_t nat64_shadow_len;		/**< its prefix length (default 100.64.0.0/10) */
	uint32_t nat64_max_hosts;		/**< shadow entries (inside IPv6 hosts) */
	uint32_t nat64_timeout_s;		/**< a shadow with no connection is kept so long */
	bool nat64_wkp_strict;			/**< RFC 6052 3.1 (default yes): no non-global
						 *   IPv4 behind the Well-Known Prefix */
	char ctl_socket[108];			/**< unix socket path ("": the default,
						 *   /run/natgw/ctl.sock; "off": none) */
};

/** Defaults (docs/config.md); no addresses. */
void gw_config_default(struct gw_config *cfg);
/**
 * Read an INI file over cfg (call gw_config_default first). Unknown sections/keys, bad
 * values and missing required sections are errors.
 * @return 0, or -1 with err filled as "FILE:LINE: message".
 */
int gw_config_load(struct gw_config *cfg, const char *path, char *err, size_t errlen);
/** Apply a "CLASS=SECONDS" override (--timeout). 0 or -1 with err filled. */
int gw_config_timeout(struct gw_config *cfg, const char *spec, char *err, size_t errlen);
/** Parse a [forward] value ("tcp 203.0.113.2:8080 -> 192.168.1.10:80"), as natgw-ctl
 * forward add takes it. 0 or -1 with err filled. */
int gw_config_parse_fwd(const char *spec, struct nat_fwd *f, char *err, size_t errlen);
/** Final checks after overrides (pool, ports, forwards are pool addresses...). 0 or -1. */
int gw_config_check(const struct gw_config *cfg, char *err, size_t errlen);
/** Print the configuration summary (start-up banner). */
void gw_config_print(FILE *f, const struct gw_config *cfg);

/* ----------------------------------------------------------------------------------------
 * The gateway and its workers
 */

/** How a worker emits packets: natgw sends on ports, replay writes pcaps. */
struct gw_io {
	/** Send n packets on port (GW_PORT_*); returns how many were taken; the caller (the
	 * pipeline) drops the rest with GW_DROP_TX_FULL. */
	uint16_t (*tx)(void *arg, unsigned int port, struct rte_mbuf **m, uint16_t n);
	/** Take a dropped packet (free it, count it, write it...). */
	void (*drop)(void *arg, struct rte_mbuf *m, enum gw_drop reason);
	void *arg;
};

struct gw_params {
	const struct gw_config *cfg;
	unsigned int n_workers;			/**< 1..GW_MAX_WORKERS */
	struct rte_ether_addr mac[GW_PORT_MAX];	/**< our MAC per port */
	struct rte_mempool *pool;		/**< for generated packets (ARP, ICMP) */
	struct rte_mempool *big_pool;		/**< reassembly target (data room >= 9000);
						 *   NULL: reassembly limited to pool's size */
	struct rte_mempool *indirect_pool;	/**< for fragmentation (NULL: uses pool) */
	struct rte_mempool *frag_pool;		/**< reassembly copies each fragment it holds
						 *   into these (never the RX pool); NULL: each
						 *   worker makes one, 2 x [fragments] max_mbufs */
	bool tx_multi_seg[GW_PORT_MAX];		/**< the port sends chained mbufs
						 *   (RTE_ETH_TX_OFFLOAD_MULTI_SEGS); false:
						 *   fragments leave as single-segment mbufs */
	bool tx_vlan_offload[GW_PORT_MAX];	/**< the port inserts the 802.1Q tag
						 *   (RTE_ETH_TX_OFFLOAD_VLAN_INSERT): the pipeline
						 *   sets m->vlan_tci instead of pushing it */
	uint64_t seed[2];			/**< conntrack seeds, 0,0 random */
	uint32_t host_seed;			/**< NAT host seed, 0 random */
	int socket_id;
	bool use_heap;				/**< tables from the heap (no hugepages) */
	unsigned int ring_size;			/**< handoff ring entries (0: GW_RING_SIZE_DEFAULT) */
};

struct gw;
struct gw_worker;

/** Build the gateway: per worker a conntrack table, NAT and helper contexts, ARP cache,
 * reassembly table and handoff rings. @return NULL with err filled. */
struct gw *gw_create(const struct gw_params *prm, char *err, size_t errlen);
/** Replace the [untracked] rules (reload). Every worker reads them on every packet: call
 * only while no worker runs its packet path (all paused between bursts). [main]
 * @return 0, -EINVAL (more than GW_MAX_UNTRACKED). */
int gw_set_untracked(struct gw *g, const struct gw_untracked *u, unsigned int n);

/**
 * Make every worker forget what its fast path learnt (app/gw_fast.c) and learn again: each
 * stops using the learnt bits at its next burst and clears them in slices in
 * gw_worker_housekeeping. natgw does it itself when [forward] or [untracked] change. [any]
 */
void gw_fast_relearn(struct gw *g);
/** Whether w's fast path is relearning (its bits being cleared). [owner] */
bool gw_fast_relearning(const struct gw_worker *w);
/** Free everything (packets still in rings or ARP hold are freed). */
void gw_free(struct gw *g);
/** The most mbufs of gw_params.pool the pipeline of n_workers workers may hold at once
 * (ARP hold queues, handoff rings of ring_size (0: 1024), TX and handoff buffers, a burst
 * being built): what a caller sizing the pool adds to what its ports hold. Reassembly is
 * not in it: it holds copies in its own pools. [any] */
unsigned int gw_mbufs_held_max(const struct gw_config *cfg, unsigned int n_workers,
			       unsigned int ring_size);

unsigned int gw_n_workers(const struct gw *g);
const struct gw_config *gw_get_config(const struct gw *g);
struct gw_worker *gw_get_worker(struct gw *g, unsigned int idx);
/** Set the worker's output; must be done before its first packet. */
void gw_worker_set_io(struct gw_worker *w, const struct gw_io *io);
struct ct_table *gw_worker_ct(const struct gw_worker *w);
struct nat_ctx *gw_worker_nat(const struct gw_worker *w);
unsigned int gw_worker_index(const struct gw_worker *w);

/**
 * The worker that owns a frame received on `port` (GW_PORT_*), by the design's steering
 * rules (inside: source host, hairpinned packets included; outside: the worker holding the
 * port in the shared port table / the forward's host owner; ARP and unparsable frames:
 * worker 0). What RSS + flow rules would do. [any]
 */
unsigned int gw_owner(const struct gw *g, unsigned int port, const struct rte_mbuf *m);

/**
 * Process one burst received on `port` (GW_PORT_*). Every mbuf is consumed: sent through
 * io->tx, handed to its owner worker, held (ARP, reassembly), or given to io->drop.
 * m->port is overwritten with `port`. With [inside]/[outside] vlan set, tags are taken off
 * first (or read from m->vlan_tci when the PMD stripped them, RTE_MBUF_F_RX_VLAN_STRIPPED);
 * with both sides on one port (a trunk) `port` may be either side: the VLAN id decides. A
 * side's tag is pushed again on the way out (gw_params.tx_vlan_offload). [owner]
 * @return packets handed to other workers.
 */
unsigned int gw_worker_rx(struct gw_worker *w, unsigned int port, struct rte_mbuf **pkts,
			  uint16_t n, ct_time_t now);
/** Process packets other workers handed to this one. [owner] @return packets processed. */
unsigned int gw_worker_poll_rings(struct gw_worker *w, ct_time_t now);
/** Timers: conntrack expiry (bounded), expectations, ARP retries/expiry, reassembly
 * timeouts. Call once per poll loop. [owner] @return work done (0: idle). */
unsigned int gw_worker_housekeeping(struct gw_worker *w, ct_time_t now);
/** Drop everything held (ARP hold, rings, reassembly) — at shutdown. [owner] */
void gw_worker_flush(struct gw_worker *w);

/* ----------------------------------------------------------------------------------------
 * Counters. [any]
 */
struct gw_worker_stats {
	uint64_t rx[GW_PORT_MAX];
	uint64_t tx[GW_PORT_MAX];
	uint64_t drop[GW_PORT_MAX];		/**< by ingress port */
	uint64_t reason[GW_DROP_MAX];
	uint64_t handoff_out, handoff_in;
	uint64_t arp_requests, arp_replies;	/**< sent */
	uint64_t arp_learned;			/**< entries added (solicited, or request to us) */
	uint64_t arp_ignored;			/**< unsolicited ARP: sender not added */
	uint64_t arp_evicted;			/**< least recently used entry reclaimed (full) */
	uint64_t arp_aged;			/**< entry reclaimed after [arp] timeout unused */
	uint64_t icmp_sent;
	uint64_t icmp_ratelimited;		/**< errors not sent (RFC 1812 4.3.2.8) */
	uint64_t reassembled, fragmented;	/**< reassembled: by us, or by the kernel
						 *   (net_af_packet) and accepted whole */
	uint64_t conns_created;
	uint64_t fast_path;			/**< packets forwarded by the fast path */
	uint64_t idle_polls;
	uint64_t frag_held;			/**< gauge: fragments reassembly holds now */
	/* ruleset (app/gw_rules.c) */
	uint64_t rs_evals;			/**< chain evaluations (cache misses) */
	uint64_t rs_untracked;			/**< packets a notrack rule matched */
	uint64_t rs_reject_sent;		/**< RST / ICMP unreachable made for reject */
	uint64_t rs_reject_ratelimited;		/**< reject not answered: over the rate */
	uint64_t rs_reject_refused;		/**< reject not answered: a RST, a fragment,
						 *   an ICMP error, no mbuf, gw_local_ok */
	uint64_t rs_logged;			/**< log records queued to the main lcore */
	uint64_t rs_log_ratelimited;		/**< log records over the rate */
	uint64_t rs_log_lost;			/**< log records lost: queue full */
	uint64_t events;			/**< event records queued (gw_event.h) */
	uint64_t events_lost;			/**< event ring full: record not queued */
};

struct gw_stats {
	struct gw_worker_stats w;		/**< summed over workers */
	struct ct_stats ct;			/**< summed over workers */
	struct nat_stats nat;			/**< summed */
	struct helper_stats hlp;		/**< summed (zero without helpers) */
};

void gw_worker_stats_get(const struct gw_worker *w, struct gw_worker_stats *out);
/** Count idle polls (natgw's main loop). [owner] */
void gw_worker_count_idle(struct gw_worker *w, uint64_t n);
void gw_stats_get(const struct gw *g, struct gw_stats *out);
/** Multi-line final counters: per port, per drop reason (non-zero), connections. */
void gw_stats_print(FILE *f, const struct gw *g);
/** One-line periodic summary. */
void gw_stats_line(FILE *f, const struct gw *g);

/* ----------------------------------------------------------------------------------------
 * Snapshot: sessions across a restart (app/gw_snapshot.c, docs/operations.md "Snapshot").
 * Connections (tuples, TCP state and window data, status, counters, time left), NAT
 * mappings (whose outside ports rebuild the shared port table) and helper records and
 * expectations, in one versioned, checksummed file tied to the pool it was made with.
 * Control plane only; the workers must not run meanwhile (stopped, or paused between
 * bursts). `now` is the workers' clock, `wall_us` a clock that runs across the restart
 * (CLOCK_REALTIME in natgw, the pcap clock in natgw-replay): time that passed between save
 * and restore is taken off every timeout, so what would have expired meanwhile is gone.
 */

/** What a save wrote / a restore did. Restore: `conns` restored, `conns_failed` refused
 * (table full, mapping or port lost, wrong owner), `conns_expired` timed out meanwhile. */
struct gw_snapshot_stats {
	uint64_t conns, conns_failed, conns_expired;
	uint64_t maps, maps_failed;
	uint64_t helpers, helpers_failed;
	uint64_t expects, expects_failed;
	unsigned int saved_workers;
};

struct gw_snapshot;	/* a snapshot file read and verified, in memory */

/**
 * Write g's state to `path` (through path.tmp, fsync, rename: a crash leaves the old file).
 * @return 0, or -1 with err filled.
 */
int gw_snapshot_save(struct gw *g, const char *path, ct_time_t now, uint64_t wall_us,
		     struct gw_snapshot_stats *st, char *err, size_t errlen);
/** gw_snapshot_save() in two steps, so that paused workers resume before the file is
 * written: take the state into memory (NULL with err filled), then write it (frees b). */
struct gw_snapshot_buf;
struct gw_snapshot_buf *gw_snapshot_take(struct gw *g, ct_time_t now, uint64_t wall_us,
					 struct gw_snapshot_stats *st, char *err, size_t errlen);
int gw_snapshot_write(struct gw_snapshot_buf *b, const char *path, char *err, size_t errlen);
/**
 * Read and verify a snapshot file: magic, format version, byte order, length (truncated),
 * checksum (corrupt), record sizes and the configuration fingerprint (NAT pool addresses and
 * port ranges must be cfg's: a snapshot from another pool is refused).
 * @return it, or NULL with err filled ("snapshot FILE: ..."); errno ENOENT when the file
 *         does not exist.
 */
struct gw_snapshot *gw_snapshot_read(const char *path, const struct gw_config *cfg,
				     char *err, size_t errlen);
/** The NAT host seed it was saved with (gw_params.host_seed: the same paired address and
 * owner spread for each inside host as before the restart). */
uint32_t gw_snapshot_host_seed(const struct gw_snapshot *s);
/** Load s into g (fresh, before traffic): every record on the worker that owns it now
 * (nat_host_owner of its inside host, the pipeline's owner function; the worker count may
 * differ from the saved one). @return 0, or -1 with err filled (nothing half-done matters:
 * what was restored is consistent). */
int gw_snapshot_restore(struct gw *g, const struct gw_snapshot *s, ct_time_t now,
			uint64_t wall_us, struct gw_snapshot_stats *st, char *err,
			size_t errlen);
void gw_snapshot_free(struct gw_snapshot *s);

/* ----------------------------------------------------------------------------------------
 * Control plane (main lcore): telemetry /natgw/stats, /natgw/conns, /natgw/drops,
 * /natgw/config. Registers commands for this gateway (one per process).
 * `clock` returns the workers' `now`.
 */
int gw_telemetry_register(struct gw *g, ct_time_t (*clock)(void));
/* ----------------------------------------------------------------------------------------
 * Ruleset ([filter] rules; lib/ruleset/rs.h). Without one the gateway behaves as it always
 * did (config/rules-default.nft writes that policy out). Reload (control plane):
 *   rs = rs_load_file(path, gw_n_workers(g), err, n);   compile; NULL: err says why
 *   gw_rules_install(g, rs, err, n);                     publish (takes rs; NULL: none)
 * and call gw_rules_reclaim(g) now and then (the main loop does): each worker takes the
 * new ruleset between two bursts and acknowledges its serial; a replaced ruleset is freed
 * once every worker acknowledged, never while one may still read it. Connections' cached
 * verdicts are re-evaluated lazily (swept, then each on its next packet). Counters start
 * from zero with each ruleset. Control-plane threads only; they serialise on a mutex.
 */
struct rs_ruleset;
/** Publish rs (NULL: no ruleset). Takes ownership (freed on error too). 0, or -1 with
 * err: compiled for fewer workers than the gateway has, or 16 replaced rulesets still
 * awaiting a worker's acknowledgement (retry). */
int gw_rules_install(struct gw *g, struct rs_ruleset *rs, char *err, size_t errlen);
/** rs_load_file(path) + gw_rules_install (path NULL or "": remove the ruleset). */
int gw_rules_reload(struct gw *g, const char *path, char *err, size_t errlen);
/** Free replaced rulesets every worker has moved past. @return how many were freed. */
unsigned int gw_rules_reclaim(struct gw *g);
/** The ruleset installed last (NULL: none). Valid until the next install on this thread. */
const struct rs_ruleset *gw_rules_current(const struct gw *g);
/** Print the workers' queued log records (main lcore). @return records printed. */
unsigned int gw_rules_log_drain(struct gw *g, FILE *f);
/** Register /natgw/rules (gw_telemetry_register calls it). */
int gw_rules_telemetry_register(struct gw *g);

/** Record which lcore runs worker idx (shown by /natgw/conns). */
void gw_set_worker_lcore(struct gw *g, unsigned int idx, unsigned int lcore);

/** PMD-level counters of one port: what the NIC, the PMD or the kernel under it lost or
 *  refused before natgw's own counters see a packet (rte_eth_stats, the PMD's drop xstats,
 *  for net_af_packet / net_af_xdp the kernel interface's drop counters). */
struct gw_port_hw_stats {
	uint64_t ipackets, opackets;
	uint64_t imissed;	/**< rx lost: ring full (af_xdp: XDP_STATISTICS rx_dropped) */
	uint64_t ierrors;	/**< rx errors */
	uint64_t rx_nombuf;	/**< rx: no mbuf to receive into */
	uint64_t oerrors;	/**< tx failed */
	uint64_t pmd_drops;	/**< sum of the PMD's own xstats named *drop* */
	uint64_t kernel_rx_dropped, kernel_tx_dropped;	/**< interface under af_packet/af_xdp */
	bool kernel;		/**< the kernel_* counters were read */
};
/** Where /natgw/stats reads the ports' PMD counters (app/natgw_port.c provides it); 0 or < 0. */
typedef int (*gw_port_hw_stats_fn)(unsigned int port, struct gw_port_hw_stats *s);
void gw_telemetry_set_port_stats(gw_port_hw_stats_fn fn);

#ifdef __cplusplus
}
#endif
#endif /* NATGW_GW_H */
