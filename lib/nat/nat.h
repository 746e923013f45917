/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat.h - the whole API of lib/nat: the outside address pool with one port table shared
 * by all workers (claimed lock-free), endpoint-independent (or dependent) mappings,
 * filtering, per-host limits (RFC 6888 REQ-4/5), port forwards, hairpinning and the header
 * rewrite with incremental checksums (RFC 1624), including ICMP error translation
 * (RFC 5508).
 *
 * NAT is expressed the netfilter way: a translated connection is a conntrack entry whose
 * reply tuple is not the inverse of its original tuple. A packet of direction d leaves
 * with the tuple ct_tuple_invert(tuple[!d]); nat_rewrite() makes it so.
 *
 * Threading: struct nat_config is immutable once built and shared by all lcores
 * ([any]). struct nat_ctx is per worker lcore, owned with that lcore's ct_table ([owner]).
 * Port forwards are a read-mostly table (struct nat_fwd_table) swapped by the control plane.
 * struct nat_port_table is shared by all workers: which worker holds each outside port,
 * claimed and released with atomic operations, read by inbound steering ([any]).
 * struct nat_rss (nat_rss.c) is the RSS key and RETA natgw gives the NICs, immutable once
 * built: with it the inside owner is the host's RSS queue and new outside ports are chosen
 * so that the NIC delivers their replies to the allocating worker ([any]).
 */
#ifndef NATGW_NAT_H
#define NATGW_NAT_H

#include <stdbool.h>
#include <stdint.h>

#include "ct.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NAT_MAX_ADDRS 64
/* slots of the pool membership index (struct nat_config.addr_slot), a power of 2 */
#define NAT_ADDR_SLOTS 256

/** RFC 4787 section 4.1 mapping behaviour. */
enum nat_mapping {
	NAT_MAP_EIM = 0,	/**< endpoint-independent (default; RFC 4787/5382 REQ-1) */
	NAT_MAP_APDM,		/**< address-and-port-dependent (new port per destination) */
};

/** RFC 4787 section 5 filtering behaviour. */
enum nat_filtering {
	NAT_FILTER_APDF = 0,	/**< address-and-port-dependent (default: ESTABLISHED,RELATED) */
	NAT_FILTER_ADF,		/**< address-dependent */
	NAT_FILTER_EIF,		/**< endpoint-independent */
};

/** One static port forward (DNAT): outside proto/addr/port range -> inside addr:port. */
struct nat_fwd {
	uint8_t proto;		/**< IPPROTO_TCP or IPPROTO_UDP */
	uint32_t ext_addr;	/**< network order; must be a pool address */
	uint16_t ext_lo, ext_hi; /**< host order, inclusive range */
	uint32_t int_addr;	/**< network order */
	uint16_t int_port;	/**< host order; port of ext_lo (range maps 1:1) */
};

#define NAT_FOREACH_REASON(_)						\
	_(NONE,			"none")					\
	_(PORTS_EXHAUSTED,	"no free outside port")			\
	_(NO_MAPPING,		"unsolicited inbound (no mapping)")	\
	_(FILTERED,		"inbound refused by filtering behaviour") \
	_(CT_REFUSED,		"conntrack refused the connection")	\
	_(MAPPINGS_FULL,	"mapping table full")			\
	_(UNSUPPORTED,		"protocol cannot be translated")	\
	_(TRUNCATED,		"packet too short to rewrite")		\
	_(HOST_CONNS_LIMIT,	"inside host at its connection limit")	\
	_(HOST_PORTS_LIMIT,	"inside host at its outside port limit") \
	_(HOSTS_FULL,		"per-host record table full ([nat] max_hosts)")

enum nat_reason {
#define NAT_REASON_ENUM(n, s) NAT_R_##n,
	NAT_FOREACH_REASON(NAT_REASON_ENUM)
#undef NAT_REASON_ENUM
	NAT_R_MAX
};

const char *nat_reason_str(enum nat_reason r);
const char *nat_reason_id(enum nat_reason r);

struct nat_rss;

/** Pool and behaviour. Filled by the app from its config, then nat_config_init(). */
/**
 * Port triggering (what consumer routers call it; no RFC): a new outbound connection of
 * `proto` to a destination port in lo..hi opens open_lo..open_hi (`open_proto`, 0: TCP and
 * UDP) on the host's outside address, to that host, for timeout_s seconds from the last
 * triggering connection. Connections made through an open range are like a port forward's
 * (same port inside, any remote, DNAT status, the host's inbound budget) and live on after
 * the range closes. A port a mapping holds stays the mapping's.
 */
#define NAT_MAX_TRIGGERS 16
struct nat_trigger {
	uint8_t proto;			/**< IPPROTO_TCP / IPPROTO_UDP */
	uint8_t open_proto;		/**< IPPROTO_TCP / IPPROTO_UDP, 0: both */
	uint16_t lo, hi;		/**< trigger destination ports, host order */
	uint16_t open_lo, open_hi;	/**< ports opened, host order */
	uint32_t timeout_s;		/**< 1.. */
};

struct nat_config {
	uint32_t addrs[NAT_MAX_ADDRS];	/**< outside addresses, network order */
	uint16_t port_lo[NAT_MAX_ADDRS];	/**< per address, host order; default 1024 */
	uint16_t port_hi[NAT_MAX_ADDRS];	/**< default 65535 */
	unsigned int n_addrs;
	unsigned int n_workers;		/**< workers sharing the pool (one port table) */
	enum nat_mapping mapping;
	enum nat_filtering filtering;
	bool port_preserve;		/**< keep the inside port when free (default true) */
	bool paired;			/**< one inside host -> one outside address (default) */
	bool hairpin;			/**< default true */
	uint32_t max_mappings;		/**< per worker; default = conntrack capacity */
	/** Inside hosts with live state one worker keeps records of (per-host limits);
	 * 0 (default): auto, a sixteenth of the conntrack capacity, at least 4096. A new
	 * host beyond it is refused (NAT_R_HOSTS_FULL). */
	uint32_t max_hosts;
	uint32_t host_seed;		/**< seed for nat_host_owner / paired address choice */
	/** RFC 6888 REQ-5: connections one inside host may open itself (outbound).
	 * NAT_LIMIT_AUTO (default): a quarter of its worker's conntrack capacity. At the
	 * limit a new one evicts the host's own oldest connection not yet ASSURED. */
	uint32_t max_conns_per_host;
	/** Connections made to one inside host from outside (port forwards, EIF/ADF, helpers'
	 * expected data connections): a budget of their own, so that a flood to a forward
	 * cannot take the server's outbound budget. NAT_LIMIT_AUTO (default): the value of
	 * max_conns_per_host in force. Eviction at the limit as for outbound. */
	uint32_t max_inbound_conns_per_host;
	/** RFC 6888 REQ-4: outside ports (ICMP identifiers) one inside host may hold, per
	 * protocol. NAT_LIMIT_AUTO (default): a quarter of the smallest address' port range. */
	uint32_t max_ports_per_host;
	/** RSS steering (nat_rss.c): the key and RETA the app gave the NICs. NULL (default):
	 * none; owners and ports as without RSS. Must outlive every user of the config. */
	const struct nat_rss *rss;
	/** With RSS steering on the outside: keep the inside port even when its replies would
	 * land on another worker's queue (handed off). Default false: steering wins, the inside
	 * port is kept only when it steers to the allocating worker (RFC 4787 section 4.2.1
	 * does not require port preservation). */
	bool rss_preserve;
	struct nat_trigger triggers[NAT_MAX_TRIGGERS];	/**< port triggering (above) */
	unsigned int n_triggers;
	/* Pool membership in O(1), filled by nat_config_index() (gw_create and nat_ctx_create
	 * index their own copies); a config never indexed, or whose n_addrs changed since, is
	 * scanned. Not configuration: leave them zero. */
	uint32_t addr_index_n;		/* n_addrs when indexed, 0: not indexed */
	uint8_t addr_slot[NAT_ADDR_SLOTS];	/* open addressing: address index + 1, 0 empty */
};

#define NAT_LIMIT_AUTO	0		/**< per-host limit: the default fraction */
#define NAT_LIMIT_NONE	UINT32_MAX	/**< per-host limit: none */

/** The per-host limits in force for cfg (NAT_LIMIT_AUTO resolved; ct_capacity is the
 * worker's conntrack capacity). [any] */
uint32_t nat_limit_conns(const struct nat_config *cfg, uint32_t ct_capacity);
uint32_t nat_limit_conns_in(const struct nat_config *cfg, uint32_t ct_capacity);
uint32_t nat_limit_ports(const struct nat_config *cfg);
/** Host records per worker for cfg (max_hosts, 0 resolved), for a worker of conntrack
 * capacity ct_capacity and map_capacity mapping records. [any] */
uint32_t nat_hosts_capacity(const struct nat_config *cfg, uint32_t ct_capacity,
			    uint32_t map_capacity);

/** Defaults: no addresses, 1 worker, EIM, APDF, preserve, paired, hairpin. */
void nat_config_default(struct nat_config *cfg);
/** Validate (non-empty pool, lo <= hi, n_workers >= 1 ...). 0 or -EINVAL with msg set. */
int nat_config_check(const struct nat_config *cfg, char *msg, size_t msglen);

/** Build cfg's pool membership index (after the last change to addrs/n_addrs, once
 * nat_config_check() passed). Optional: lookups scan the pool without it. */
void nat_config_index(struct nat_config *cfg);
/** Index of addr (network order) in cfg->addrs, or -1. [any] */
int nat_addr_index(const struct nat_config *cfg, uint32_t addr);

static inline unsigned int
nat_addr_slot0(uint32_t addr)
{
	return (addr * UINT32_C(0x9e3779b1)) >> 24 & (NAT_ADDR_SLOTS - 1);
}

/** Is addr (network order) one of the pool's outside addresses? [any] Every packet asks
 * (address checks, to-me, hairpin), so an indexed config answers with a probe or two,
 * linear probing from nat_addr_slot0(addr) to an empty slot. */
static inline bool
nat_is_outside_addr(const struct nat_config *cfg, uint32_t addr)
{
	unsigned int s, v;

	if (__builtin_expect(cfg->addr_index_n != cfg->n_addrs || cfg->n_addrs == 0, 0))
		return nat_addr_index(cfg, addr) >= 0;
	for (s = nat_addr_slot0(addr); (v = cfg->addr_slot[s]) != 0;
	     s = (s + 1) & (NAT_ADDR_SLOTS - 1))
		if (cfg->addrs[v - 1] == addr)
			return true;
	return false;
}
/** Worker owning all connections of inside host `addr` (network order). [any] */
unsigned int nat_host_owner(const struct nat_config *cfg, uint32_t addr);

/** nat_inbound_owner()/nat_inside_owner(): no port says the owner (protocols other than
 * TCP/UDP/ICMP query); the caller must map it to the same fixed worker on both sides. */
#define NAT_OWNER_UNKNOWN UINT32_MAX

struct nat_fwd_table;

/* ---- the outside port table, shared by all workers ---- */

struct nat_port_table;

/**
 * Create the port table of cfg's pool: for every outside address and protocol (TCP, UDP,
 * ICMP identifiers), which worker holds each port. One table serves all the workers of a
 * gateway (nat_ctx_create_shared), so that any worker can take any free port (port
 * preservation whatever the worker count) and a reply finds the worker that holds it.
 * @return the table or NULL with rte_errno (EINVAL, ENOMEM). [control plane]
 */
struct nat_port_table *nat_port_table_create(const struct nat_config *cfg, bool use_heap);
/** Free a table (NULL: no-op) once no context uses it. */
void nat_port_table_free(struct nat_port_table *pt);
/** Worker holding outside port `port` (host order) of proto on addr (network order), or
 * NAT_OWNER_UNKNOWN when it is free, addr is no pool address or proto has no ports. [any] */
uint32_t nat_port_table_owner(const struct nat_port_table *pt, uint8_t proto, uint32_t addr,
			      uint16_t port);

/**
 * Worker owning a packet that arrived on the outside, parsed with ct_parse_ipv4()
 * (DESIGN.md "Ownership"): for a port forward, the owner of the forward's inside host;
 * otherwise the worker holding the outside port in pt (TCP/UDP destination port, ICMP query
 * identifier; for an ICMP error, the port of our own packet quoted in it). A port nobody
 * holds has no connection anywhere: it goes to worker port % n_workers (spread, refused
 * there). pt NULL: as if every port were free.
 * @return the worker, or NAT_OWNER_UNKNOWN when the packet carries no port. [any]
 */
uint32_t nat_inbound_owner(const struct nat_config *cfg, const struct nat_fwd_table *fwd,
			   const struct nat_port_table *pt, const struct ct_pkt *p);

/**
 * Worker owning a packet that arrived on the inside, parsed with ct_parse_ipv4(): the owner
 * of its source host (DESIGN.md "Ownership"), hairpinned packets included: the sender's
 * worker translates them with the sender's own mapping (EIM) like any outbound packet, and
 * the caller then hands the translated packet, as if it had come back in from the outside,
 * to nat_inbound_owner()'s worker, where the target's mapping translates and filters it.
 * For an ICMP error p->tuple is the quote inverted, so its source is the inside endpoint
 * the error is about. Protocols without ports (not TCP/UDP/ICMP) give NAT_OWNER_UNKNOWN, as
 * nat_inbound_owner() does for their replies: the caller sends both to one fixed worker.
 * (fwd is unused; kept for the callers.) [any]
 */
uint32_t nat_inside_owner(const struct nat_config *cfg, const struct nat_fwd_table *fwd,
			  const struct ct_pkt *p);

/* ---- RSS: the NIC's Toeplitz hash as natgw configures it (nat_rss.c) ---- */

#define NAT_RSS_KEY_MAX		52	/**< i40e/ice take 52 bytes, most NICs 40 */
#define NAT_RSS_RETA_MAX	2048
#define NAT_RSS_MAX_WORKERS	64

enum nat_rss_role {
	NAT_RSS_INSIDE = 0,	/**< RETA index a function of the source address only */
	NAT_RSS_OUTSIDE,	/**< RETA index a function of destination address and port */
};

/** One port's RSS: what the NIC is given, and tables derived from it. */
struct nat_rss_port {
	uint16_t reta_size;			/**< entries; 0: no RSS steering on this port */
	uint8_t key_len;			/**< bytes of key the NIC takes (40 or 52) */
	uint8_t key[NAT_RSS_KEY_MAX];		/**< the Toeplitz key, as the NIC takes it */
	uint16_t queue[NAT_RSS_RETA_MAX];	/**< RETA: entry -> queue */
	uint16_t worker[NAT_RSS_RETA_MAX];	/**< entry -> worker polling that queue */
	uint64_t workers;			/**< bit w: some entry delivers to worker w */
	uint32_t t_addr[4][256];	/**< hash of each byte of the hashed address */
	uint32_t t_port[2][256];	/**< outside: hash of each byte of the dst port */
};

/** Both ports ([NAT_RSS_INSIDE], [NAT_RSS_OUTSIDE]). */
struct nat_rss {
	struct nat_rss_port port[2];
};

/**
 * The Toeplitz hash a NIC computes with `key` over an IPv4 packet (RSS spec: src addr, dst
 * addr, and with l4 src port, dst port; all network order), with DPDK's rte_softrss. [any]
 */
uint32_t nat_rss_softrss(const uint8_t *key, uint32_t src, uint32_t dst, uint16_t sport,
			 uint16_t dport, bool l4);

/**
 * Fill rp for a port of `role`: the key (`key`, or random when NULL; key_len 40 or 52
 * bytes) with the bits the role needs forced (nat_rss.c: the RETA index then ignores the
 * remote endpoint), RETA entry i -> queue bitreverse(i) % n_queues (nat_rss.c: an even
 * spread of consecutive ports and hosts), and entry -> worker through
 * worker_of_queue[n_queues]. reta_size: a power of two, 2..NAT_RSS_RETA_MAX.
 * @return 0, or -EINVAL. [control plane]
 */
int nat_rss_port_init(struct nat_rss_port *rp, enum nat_rss_role role, const uint8_t *key,
		      unsigned int key_len, unsigned int reta_size, unsigned int n_queues,
		      const uint16_t *worker_of_queue, unsigned int n_workers);

/** Validate rss (NULL is valid) against a worker count. 0 or -EINVAL with msg set. */
int nat_rss_check(const struct nat_rss *rss, unsigned int n_workers, char *msg,
		  size_t msglen);

/** The worker whose queue gets a packet of hash h. [any] */
static inline unsigned int
nat_rss_reta_worker(const struct nat_rss_port *rp, uint32_t h)
{
	return rp->worker[h & (rp->reta_size - 1u)];
}

/** Inside port: the worker whose queue gets every packet from inside address src
 * (network order), whatever its destination, protocol or ports. [any] */
static inline unsigned int
nat_rss_inside_worker(const struct nat_rss_port *rp, uint32_t src)
{
	const uint8_t *b = (const uint8_t *)&src;

	return nat_rss_reta_worker(rp, rp->t_addr[0][b[0]] ^ rp->t_addr[1][b[1]] ^
				       rp->t_addr[2][b[2]] ^ rp->t_addr[3][b[3]]);
}

/** Outside port: the worker whose queue gets TCP/UDP to dst:dport (network order) from
 * any remote; dport 0: also what is hashed on addresses only (ICMP, fragments). [any] */
static inline unsigned int
nat_rss_outside_worker(const struct nat_rss_port *rp, uint32_t dst, uint16_t dport)
{
	const uint8_t *b = (const uint8_t *)&dst, *p = (const uint8_t *)&dport;

	return nat_rss_reta_worker(rp, rp->t_addr[0][b[0]] ^ rp->t_addr[1][b[1]] ^
				       rp->t_addr[2][b[2]] ^ rp->t_addr[3][b[3]] ^
				       rp->t_port[0][p[0]] ^ rp->t_port[1][p[1]]);
}

/* ---- port forwards (read-mostly; built by the control plane, then published) ---- */

/**
 * Build an immutable forward table. Overlapping external ranges are rejected.
 * @return table or NULL with rte_errno (EINVAL: overlap/bad range, ENOMEM); msg filled.
 */
struct nat_fwd_table *nat_fwd_table_create(const struct nat_fwd *fwds, unsigned int n,
					   char *msg, size_t msglen);
void nat_fwd_table_free(struct nat_fwd_table *ft);
/** Find the forward for an outside proto/addr/port (host order). NULL if none. [any] */
const struct nat_fwd *nat_fwd_lookup(const struct nat_fwd_table *ft, uint8_t proto,
				     uint32_t ext_addr, uint16_t ext_port);
/** Number of forwards in a table (0 for NULL), and the i-th in lookup order (sorted by
 * protocol, outside address, first port), for listing. NULL past the end. [any] */
unsigned int nat_fwd_count(const struct nat_fwd_table *ft);
const struct nat_fwd *nat_fwd_get(const struct nat_fwd_table *ft, unsigned int i);

/* ---- per-worker context ---- */

struct nat_ctx;

/**
 * Create worker `worker`'s NAT state over its conntrack table and the shared port table pt
 * (forwarded ports are never allocated), with its mapping and per-host tables. Registers a
 * ct destroy callback that releases mappings, ports and per-host counts.
 * @return ctx or NULL with rte_errno set.
 */
struct nat_ctx *nat_ctx_create_shared(const struct nat_config *cfg, unsigned int worker,
				      struct ct_table *ct, const struct nat_fwd_table *fwd,
				      struct nat_port_table *pt, bool use_heap);
/** nat_ctx_create_shared() with a port table of the context's own: for a context that is
 * the pool's only user (one worker, tests). */
struct nat_ctx *nat_ctx_create(const struct nat_config *cfg, unsigned int worker,
			       struct ct_table *ct, const struct nat_fwd_table *fwd,
			       bool use_heap);
/** Free a context (NULL: no-op). Call it before ct_table_free() of its table: it
 * unregisters its destroy callback there. Mappings still held by connections are dropped
 * with it (their ports go back to a shared port table); the table's connections keep
 * translating nothing afterwards. */
void nat_ctx_free(struct nat_ctx *nc);
/**
 * Publish a new forward table to this context (control plane swaps, worker reads). [any]
 * The worker adopts it at its next nat_out_new()/nat_in_new() (or nat_ctx_sync()). From
 * publication on, the ports of both tables are kept out of allocation; the old table may be
 * freed once nat_ctx_fwd_active() of every context no longer returns it.
 */
void nat_ctx_set_fwd(struct nat_ctx *nc, const struct nat_fwd_table *fwd);
/** The forward table this worker has adopted. [any] */
const struct nat_fwd_table *nat_ctx_fwd_active(const struct nat_ctx *nc);
/** Adopt a forward table published with nat_ctx_set_fwd() now (idle workers). [owner] */
void nat_ctx_sync(struct nat_ctx *nc);
/**
 * Change the per-host limits live (max_conns_per_host, max_inbound_conns_per_host,
 * max_ports_per_host of lim; NAT_LIMIT_AUTO/NONE as in struct nat_config). Hosts above a
 * lowered limit keep what they hold; they get nothing new until under it. [owner]
 */
void nat_ctx_set_limits(struct nat_ctx *nc, const struct nat_config *lim);

/**
 * New connection from the inside (p missed in conntrack, ct_new_ok() passed). Chooses the
 * mapping: an existing EIM mapping of (proto, src, sport), else a new outside address
 * (paired) and port (preserved if free, same class <1024/>=1024, else searched, bounded,
 * from a keyed hash of the inside endpoint). Under EIM, a source that is a port forward's
 * inside endpoint maps to that forward's outside address:port (a forward is a static
 * mapping). A destination that is one of our outside addresses (hairpin) is translated the
 * same way: the reply tuple's source stays that outside address:port, and the caller loops
 * the translated packet back in (nat_inbound_owner()). Protocols without ports (not
 * TCP/UDP/ICMP query) get the paired address only. The source host's limits are checked
 * first (HOST_CONNS_LIMIT once its own oldest unassured connection could not be evicted,
 * HOST_PORTS_LIMIT); with no mapping record or outside port left, connections that are not
 * ASSURED are evicted to make room (bounded, netfilter early_drop). Creates the conntrack
 * entry with the translated reply tuple. [owner]
 * @return the connection, or NULL with *why set (PORTS_EXHAUSTED, MAPPINGS_FULL,
 *         HOST_CONNS_LIMIT, HOST_PORTS_LIMIT, CT_REFUSED with *ct_why set).
 */
struct ct_conn *nat_out_new(struct nat_ctx *nc, const struct ct_pkt *p, ct_time_t now,
			    enum nat_reason *why, enum ct_reason *ct_why);

/**
 * New connection from the outside (p missed): allowed by a port forward, or by the
 * filtering behaviour (EIF/ADF) to an existing mapping (ADF: from an address the mapping
 * has sent to; the first 4 are exact, more are kept in a small Bloom filter that can only
 * err towards accepting). Under APDF with no forward this always returns NULL with
 * NAT_R_NO_MAPPING; protocols other than TCP/UDP likewise. FILTERED when ADF refuses;
 * HOST_CONNS_LIMIT when the inside host holds its maximum of inbound connections
 * (max_inbound_conns_per_host) and none of them could be evicted. [owner]
 */
struct ct_conn *nat_in_new(struct nat_ctx *nc, const struct ct_pkt *p, ct_time_t now,
			   enum nat_reason *why, enum ct_reason *ct_why);

/**
 * Rewrite the packet in buf (parsed into p, p->conn and p->dir set) to the connection's
 * translated tuple for its direction: addresses, TCP/UDP ports or ICMP identifier, IPv4
 * header checksum and L4 checksum updated incrementally (a zero UDP checksum stays zero).
 * For an ICMP error (p->is_icmp_error), translates the outer destination (or source) and
 * the embedded header, fixing the embedded IP and L4 checksums and the ICMP checksum.
 * Non-first fragments: only addresses are rewritten. [any: pure function]
 * @return 0, or -1 if the packet is too short for what must be rewritten.
 */
int nat_rewrite(const struct ct_conn *c, const struct ct_pkt *p, uint8_t *buf);

/** Same on explicit tuples: make the packet's tuple `want` (p->tuple is what it has). */
int nat_rewrite_tuple(const struct ct_pkt *p, const struct ct_tuple *want, uint8_t *buf);

/* ---- ports reserved for helpers' expectations (added for lib/helpers) ---- */

/**
 * Reserve an outside port on pool address `addr` (network order) for `proto` (TCP/UDP):
 * `want` (host order) when it is free (port preservation, as nf_nat_ftp tries the client's
 * port first), else a searched free port of the same range (RFC 4787 REQ-3). The port stays
 * out of allocation until nat_port_reserved_put(); the port table names this worker as its
 * holder, so a connection to it is steered here (nat_inbound_owner). [owner]
 * @return the port (host order), or -1: addr not in the pool, proto without ports, none free.
 */
int nat_port_reserve(struct nat_ctx *nc, uint8_t proto, uint32_t addr, uint16_t want);
/** Give back a port from nat_port_reserve(). [owner] */
void nat_port_reserved_put(struct nat_ctx *nc, uint8_t proto, uint32_t addr, uint16_t port);

/**
 * nat_port_reserve() charged to inside host `host` (network order), the one whose
 * announcement (FTP PORT/EPRT, a forwarded server's 227/229, DCC) needs the port: it
 * counts against that host's max_ports_per_host of proto like a port its mappings hold
 * (RFC 6888 REQ-4), until nat_port_reserved_put_host(). [owner]
 * @return the port (host order), -1 as nat_port_reserve(), or -2: the host is at its
 *         port limit (NAT_R_HOST_PORTS_LIMIT counted; nothing reserved).
 */
int nat_port_reserve_host(struct nat_ctx *nc, uint32_t host, uint8_t proto, uint32_t addr,
			  uint16_t want);
/** Give back a port from nat_port_reserve_host() (the same host). [owner] */
void nat_port_reserved_put_host(struct nat_ctx *nc, uint32_t host, uint8_t proto,
				uint32_t addr, uint16_t port);

/* ---- what other layers count per inside host (added for lib/helpers) ---- */

/** Resources a layer above keeps a per-host count of, in NAT's host records. */
enum nat_host_res {
	NAT_HR_HELPER = 0,	/**< helper connection records (lib/helpers) */
	NAT_HR_EXPECT,		/**< pending expectations (lib/helpers) */
	NAT_HR_MAX
};

/**
 * Count one more of resource r for inside host `host` (network order) if it holds fewer
 * than `limit` (NAT_LIMIT_NONE: no limit). The host must hold a connection counted by NAT
 * while the count is non-zero (the record's lifetime; nat_out_new/nat_in_new count theirs).
 * [owner] @return 0, or -1 (at the limit, or no host record could be made).
 */
int nat_host_take(struct nat_ctx *nc, uint32_t host, enum nat_host_res r, uint32_t limit);
/** Count one fewer (from nat_host_take). [owner] */
void nat_host_put(struct nat_ctx *nc, uint32_t host, enum nat_host_res r);
/** How many of r host holds now. [owner] */
uint32_t nat_host_count(struct nat_ctx *nc, uint32_t host, enum nat_host_res r);
/** Connections counted for inside host `host` (network order), outbound and inbound: 0 when
 * none uses it (added for NAT64: a shadow address is reclaimed then, app/gw_nat64.c). [owner] */
uint32_t nat_host_conns(struct nat_ctx *nc, uint32_t host);

/**
 * New connection from the outside that a helper expected (p missed): DNAT to the inside
 * endpoint to_addr:to_port (network order), counted in that host's inbound budget (with
 * eviction of its own unassured ones at the limit, as nat_in_new). [owner]
 * @return the connection, or NULL with *why set (HOST_CONNS_LIMIT, CT_REFUSED).
 */
struct ct_conn *nat_in_expected(struct nat_ctx *nc, const struct ct_pkt *p, uint32_t to_addr,
				uint16_t to_port, ct_time_t now, enum nat_reason *why,
				enum ct_reason *ct_why);

/* ---- mapping references of related connections (added for lib/helpers) ---- */

/**
 * Take a reference on the mapping connection c uses, so that the mapping and its outside
 * port outlive c (as a netfilter expectation's connection keeps its master's NAT binding):
 * a helper's expected connection that reuses its master's outside endpoint (the TFTP
 * transfer, RFC 1350) holds one. Take it before ct_create() of the new connection (which
 * may evict c), then give it with nat_conn_adopt_mapping() or drop it with
 * nat_mapping_release(). [owner]
 * @return a handle (non-zero), or 0 when c uses no mapping (nothing taken).
 */
uint32_t nat_mapping_hold(struct nat_ctx *nc, const struct ct_conn *c);
/** Drop a reference from nat_mapping_hold() (0: no-op); the last one frees the mapping
 * and its port. [owner] */
void nat_mapping_release(struct nat_ctx *nc, uint32_t h);
/**
 * Hand a reference from nat_mapping_hold() to connection c, which must use no mapping:
 * it is dropped when c leaves the table, as a connection's own mapping is. [owner]
 * @return 0, or -EINVAL (h not a held mapping, or c already uses one; nothing changed).
 */
int nat_conn_adopt_mapping(struct nat_ctx *nc, struct ct_conn *c, uint32_t h);

/* ---- save and restore (nat_snapshot.c; the file format is app/gw_snapshot.c's) ---- */

/** A mapping as saved. Its outside port and its count in the inside host's port budget are
 * taken again on import, so the shared port table (which worker holds which port) is
 * rebuilt from the mappings, not copied. Fixed layout, padding zero. */
struct nat_map_rec {
	uint32_t in_addr;	/**< inside endpoint, network order */
	uint32_t dst_addr;	/**< APDM: destination endpoint (0 under EIM) */
	uint32_t out_addr;	/**< outside endpoint */
	uint16_t in_port;	/**< network order (ICMP: query identifier) */
	uint16_t dst_port;
	uint16_t out_port;
	uint8_t proto;
	uint8_t flags;		/**< NAT_MAP_REC_* */
	uint32_t remote[4];	/**< ADF: remote addresses it sent to (n_remote of them) */
	uint8_t n_remote;
	uint8_t zero[3];
};
#define NAT_MAP_REC_STATIC	0x01	/**< a port forward's static mapping */

/** Connection NAT flags (nat_conn_export): counted in an inside host's budget, and that
 * host is the reply source (an inbound connection). */
#define NAT_CONN_COUNTED	0x01
#define NAT_CONN_HOST_REPLY	0x02

/** Mapping handles are 1..nat_map_capacity(). [any] */
uint32_t nat_map_capacity(const struct nat_ctx *nc);
/** Export mapping handle h. [owner, or any thread while the owner is stopped]
 * @return 0, or -1 when h is no live mapping. */
int nat_map_export(const struct nat_ctx *nc, uint32_t h, struct nat_map_rec *r);
/** The mapping handle (0: none) and NAT_CONN_* flags of connection c. [owner] */
void nat_conn_export(const struct ct_conn *c, uint32_t *map, uint8_t *flags);

/**
 * Re-create a saved mapping in this worker: its outside port is claimed in the shared port
 * table for this worker (allowed, in the pool's range and not forwarded, unless STATIC) and
 * counted for the inside host. The mapping is returned held once (as nat_mapping_hold):
 * give the connections their references with nat_conn_import(), then drop that one with
 * nat_mapping_release() (a mapping no connection took is freed then). ADF remotes beyond
 * the exact four (the Bloom filter, keyed per start) are not saved; nat_conn_import() adds
 * each restored outbound connection's remote again. [owner, before traffic]
 * @return the handle, or 0 with rte_errno: EINVAL (malformed, address not in the pool),
 *         EEXIST (the port or the inside key is already mapped), ENOSPC (no record free).
 */
uint32_t nat_map_import(struct nat_ctx *nc, const struct nat_map_rec *r);

/**
 * Give restored connection c (ct_conn_import) its NAT state: a reference on mapping `map`
 * (0: none) and, with NAT_CONN_COUNTED, its count in its inside host's connection budget
 * (outbound, or inbound with NAT_CONN_HOST_REPLY). Limits are not applied: what was
 * admitted before the restart stays. [owner]
 * @return 0, or -EINVAL (map is no live mapping).
 */
int nat_conn_import(struct nat_ctx *nc, struct ct_conn *c, uint32_t map, uint8_t flags);

/** Per-worker NAT counters (owner writes, anyone reads). */
struct nat_stats {
	uint64_t mappings_active;
	uint64_t mappings_created;
	uint64_t ports_in_use;
	uint64_t hairpinned;
	uint64_t forwarded_in;		/**< connections created by port forwards */
	uint64_t triggers_fired;	/**< ranges opened or refreshed (port triggering) */
	uint64_t triggered_in;		/**< connections made through an open range */
	uint64_t triggers_evicted;	/**< open ranges closed early: no free slot */
	uint64_t reason[NAT_R_MAX];
};
void nat_stats_get(const struct nat_ctx *nc, struct nat_stats *out);

/** RFC 1624 incremental checksum update helpers (exported for helpers' payload rewrite). */
static inline uint16_t
nat_csum_update16(uint16_t csum, uint16_t old, uint16_t new_)
{
	/* HC' = ~(~HC + ~m + m') (RFC 1624 eqn. 3), in 32 bits with end-around carry */
	uint32_t s = (uint16_t)~csum + (uint32_t)(uint16_t)~old + new_;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static inline uint16_t
nat_csum_update32(uint16_t csum, uint32_t old, uint32_t new_)
{
	csum = nat_csum_update16(csum, (uint16_t)(old >> 16), (uint16_t)(new_ >> 16));
	return nat_csum_update16(csum, (uint16_t)old, (uint16_t)new_);
}

#ifdef __cplusplus
}
#endif
#endif /* NATGW_NAT_H */
