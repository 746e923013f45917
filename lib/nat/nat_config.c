/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat_config.c - the immutable NAT configuration: defaults, validation, the pool lookups
 * every lcore may make ([any]), the keyed choice of a host's owner worker and of its paired
 * outside address (RFC 4787 REQ-2), reason names, and the memory helpers of the library.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "nat_private.h"

static const char *const nat_reason_strs[NAT_R_MAX] = {
#define NAT_REASON_STR(n, s) [NAT_R_##n] = s,
	NAT_FOREACH_REASON(NAT_REASON_STR)
#undef NAT_REASON_STR
};

static const char *const nat_reason_ids[NAT_R_MAX] = {
#define NAT_REASON_ID(n, s) [NAT_R_##n] = #n,
	NAT_FOREACH_REASON(NAT_REASON_ID)
#undef NAT_REASON_ID
};

const char *
nat_reason_str(enum nat_reason r)
{
	return (unsigned int)r < NAT_R_MAX ? nat_reason_strs[r] : "unknown";
}

const char *
nat_reason_id(enum nat_reason r)
{
	return (unsigned int)r < NAT_R_MAX ? nat_reason_ids[r] : "UNKNOWN";
}

void
nat_config_default(struct nat_config *cfg)
{
	unsigned int i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < NAT_MAX_ADDRS; i++) {
		cfg->port_lo[i] = 1024;
		cfg->port_hi[i] = 65535;
	}
	cfg->n_workers = 1;
	cfg->mapping = NAT_MAP_EIM;
	cfg->filtering = NAT_FILTER_APDF;
	cfg->port_preserve = true;
	cfg->paired = true;
	cfg->hairpin = true;
	/* random per start, so that nobody outside can predict which worker (or address) a
	 * host lands on; the app may override it for reproducible runs */
	cfg->host_seed = (uint32_t)rte_rand();
}

#define NAT_MAX_WORKERS 254	/* worker + 1 fits nat_pt_space.owner[] */

int
nat_config_check(const struct nat_config *cfg, char *msg, size_t msglen)
{
	unsigned int i, j;

#define FAIL(...) do { if (msg != NULL && msglen > 0) snprintf(msg, msglen, __VA_ARGS__); \
		       return -EINVAL; } while (0)
	if (cfg == NULL)
		FAIL("no configuration");
	if (cfg->n_addrs == 0)
		FAIL("empty outside address pool");
	if (cfg->n_addrs > NAT_MAX_ADDRS)
		FAIL("%u outside addresses, at most %d", cfg->n_addrs, NAT_MAX_ADDRS);
	if (cfg->n_workers == 0 || cfg->n_workers > NAT_MAX_WORKERS)
		FAIL("n_workers %u not in 1..%d", cfg->n_workers, NAT_MAX_WORKERS);
	if (cfg->mapping != NAT_MAP_EIM && cfg->mapping != NAT_MAP_APDM)
		FAIL("unknown mapping behaviour %d", (int)cfg->mapping);
	if (cfg->filtering != NAT_FILTER_APDF && cfg->filtering != NAT_FILTER_ADF &&
	    cfg->filtering != NAT_FILTER_EIF)
		FAIL("unknown filtering behaviour %d", (int)cfg->filtering);
	for (i = 0; i < cfg->n_addrs; i++) {
		if (cfg->addrs[i] == 0)
			FAIL("outside address %u is 0.0.0.0", i);
		for (j = 0; j < i; j++)
			if (cfg->addrs[j] == cfg->addrs[i])
				FAIL("outside address %u repeats address %u", i, j);
		if (cfg->port_lo[i] > cfg->port_hi[i])
			FAIL("outside address %u: port range %u-%u is empty", i,
			     cfg->port_lo[i], cfg->port_hi[i]);
		/* (no minimum per worker: the workers share one port table, nat_ports.c) */
	}
	if (cfg->n_triggers > NAT_MAX_TRIGGERS)
		FAIL("%u port triggers, at most %d", cfg->n_triggers, NAT_MAX_TRIGGERS);
	for (i = 0; i < cfg->n_triggers; i++) {
		const struct nat_trigger *tr = &cfg->triggers[i];

		if ((tr->proto != IPPROTO_TCP && tr->proto != IPPROTO_UDP) ||
		    (tr->open_proto != 0 && tr->open_proto != IPPROTO_TCP &&
		     tr->open_proto != IPPROTO_UDP))
			FAIL("port trigger %u: protocols must be tcp or udp", i);
		if (tr->lo == 0 || tr->lo > tr->hi || tr->open_lo == 0 ||
		    tr->open_lo > tr->open_hi)
			FAIL("port trigger %u: empty or zero port range", i);
		if (tr->timeout_s == 0)
			FAIL("port trigger %u: timeout 0", i);
	}
	if (cfg->max_ports_per_host != NAT_LIMIT_NONE && cfg->max_ports_per_host > 65536)
		FAIL("max_ports_per_host %u above 65536", cfg->max_ports_per_host);
	if (nat_rss_check(cfg->rss, cfg->n_workers, msg, msglen) != 0)
		return -EINVAL;
#undef FAIL
	return 0;
}

void
nat_config_index(struct nat_config *cfg)
{
	unsigned int i, s;

	memset(cfg->addr_slot, 0, sizeof(cfg->addr_slot));
	cfg->addr_index_n = 0;
	if (cfg->n_addrs == 0 || cfg->n_addrs > NAT_MAX_ADDRS)
		return;
	for (i = 0; i < cfg->n_addrs; i++) {
		for (s = nat_addr_slot0(cfg->addrs[i]); cfg->addr_slot[s] != 0;
		     s = (s + 1) & (NAT_ADDR_SLOTS - 1))
			;
		cfg->addr_slot[s] = (uint8_t)(i + 1);
	}
	cfg->addr_index_n = cfg->n_addrs;
}

int
nat_addr_index(const struct nat_config *cfg, uint32_t addr)
{
	unsigned int i, s, v;

	if (likely(cfg->addr_index_n == cfg->n_addrs && cfg->n_addrs != 0)) {
		for (s = nat_addr_slot0(addr); (v = cfg->addr_slot[s]) != 0;
		     s = (s + 1) & (NAT_ADDR_SLOTS - 1))
			if (cfg->addrs[v - 1] == addr)
				return (int)v - 1;
		return -1;
	}
	for (i = 0; i < cfg->n_addrs; i++)
		if (cfg->addrs[i] == addr)
			return (int)i;
	return -1;
}

/* Keyed hash of an inside address. The seed is secret, so the spread of hosts over
 * workers and addresses cannot be aimed from inside to overload one worker. */
static uint64_t
host_hash(const struct nat_config *cfg, uint32_t addr, uint64_t salt)
{
	const uint64_t key[2] = {
		(uint64_t)cfg->host_seed * UINT64_C(0x9e3779b97f4a7c15) ^ salt,
		(uint64_t)cfg->host_seed << 32 | UINT64_C(0x85ebca6b),
	};

	return nat_hash2(key, addr, salt);
}

unsigned int
nat_host_owner(const struct nat_config *cfg, uint32_t addr)
{
	if (cfg->n_workers <= 1)
		return 0;
	/* RSS steering: the worker whose inside queue the NIC gives this host (nat_rss.c) */
	if (cfg->rss != NULL && cfg->rss->port[NAT_RSS_INSIDE].reta_size != 0)
		return nat_rss_inside_worker(&cfg->rss->port[NAT_RSS_INSIDE], addr);
	return (unsigned int)(host_hash(cfg, addr, 0x6f776e6572) % cfg->n_workers);
}

/* RFC 4787 REQ-2 ("paired" pooling): all mappings of one inside host use one address. */
unsigned int
nat_paired_addr(const struct nat_config *cfg, uint32_t in_addr)
{
	if (cfg->n_addrs <= 1)
		return 0;
	return (unsigned int)(host_hash(cfg, in_addr, 0x706169726564) % cfg->n_addrs);
}

uint32_t
nat_inbound_owner(const struct nat_config *cfg, const struct nat_fwd_table *fwd,
		  const struct nat_port_table *pt, const struct ct_pkt *p)
{
	const struct ct_tuple *t = &p->tuple;	/* for an ICMP error: the quote, inverted */
	const struct nat_fwd *f;
	uint16_t port = ntohs(t->dport);
	uint32_t o;

	if (nat_pclass_of(t->proto) < 0 || (t->sport == 0 && t->dport == 0))
		return NAT_OWNER_UNKNOWN;
	f = nat_fwd_lookup(fwd, t->proto, t->dst, port);
	if (f != NULL)
		return nat_host_owner(cfg, f->int_addr);
	/* the worker holding the port (nat_ports.c); a free port has no connection anywhere:
	 * spread such packets over the workers rather than piling them on one */
	o = nat_port_table_owner(pt, t->proto, t->dst, port);
	if (o < cfg->n_workers)
		return o;
	/* a range a port trigger opened: the worker of the host it is open to */
	if (cfg->n_triggers != 0 && !p->is_icmp_error) {
		o = nat_trigger_owner(cfg, pt, t);
		if (o < cfg->n_workers)
			return o;
	}
	/* RSS steering: where the NIC delivered it (refused there, no handoff); ICMP and
	 * errors are hashed on the addresses only */
	o = nat_port_table_rss_worker(pt, t->dst, t->proto == IPPROTO_ICMP ||
				      p->is_icmp_error ? 0 : port);
	return o < cfg->n_workers ? o : port % cfg->n_workers;
}

uint32_t
nat_inside_owner(const struct nat_config *cfg, const struct nat_fwd_table *fwd,
		 const struct ct_pkt *p)
{
	const struct ct_tuple *t = &p->tuple;

	RTE_SET_USED(fwd);
	/* no port (GRE, ESP, ...): the replies, and errors about the flow, carry nothing that
	 * names a worker (nat_inbound_owner says NAT_OWNER_UNKNOWN), so the outbound side must
	 * not pick one either, or the connection and its replies meet on different workers */
	if (nat_pclass_of(t->proto) < 0)
		return NAT_OWNER_UNKNOWN;
	/* hairpinned packets too: the sender's worker holds the sender's mapping (EIM); the
	 * target's half is done where the target's mapping is (nat_mapping.c) */
	return nat_host_owner(cfg, t->src);
}

void *
nat_zalloc(bool heap, size_t size)
{
	void *p;

	if (!heap)
		return rte_zmalloc("nat", size, RTE_CACHE_LINE_SIZE);
	p = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(size, RTE_CACHE_LINE_SIZE));
	if (p != NULL)
		memset(p, 0, size);
	return p;
}

void
nat_free(bool heap, void *p)
{
	if (heap)
		free(p);
	else
		rte_free(p);
}
