/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat_host.c - per inside host accounting of one worker, for the per-host limits of
 * RFC 6888 (REQ-4: outside ports per subscriber, REQ-5: state per subscriber): how many
 * connections each inside host holds and how many dynamic outside ports its mappings hold,
 * per protocol. All connections of one host live on its owner worker (nat_host_owner), so
 * the counts are exact without shared state.
 *
 * Records sit in a fixed array, indexed by a chained hash keyed with the context's secret. A
 * record lives only while its host holds a connection or a port (ports are held by
 * mappings, which connections or a helper's reference hold), so as many records as the
 * conntrack table has entries plus the mapping table has records always suffice, the one
 * being created included. Nothing is allocated after create.
 *
 * Defaults (NAT_LIMIT_AUTO): a quarter of the worker's conntrack capacity and a quarter of
 * the smallest outside address' port range per protocol. Why a quarter: one host can then
 * never take more than a quarter of either resource, so at least three quarters stay for
 * the others (a single host cannot starve them, issue 9 item 13), while one busy host (a
 * torrent client, a server behind a forward) still gets 16,128 ports per protocol with the
 * default range 1024-65535 and 16,384 connections with the default capacity of 65,536.
 * Either limit can be set, or switched off, in [nat] (docs/config.md).
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>

#include "nat_private.h"

uint32_t
nat_limit_conns(const struct nat_config *cfg, uint32_t ct_capacity)
{
	if (cfg->max_conns_per_host != NAT_LIMIT_AUTO)
		return cfg->max_conns_per_host;
	return RTE_MAX(ct_capacity / 4, 1u);
}

uint32_t
nat_limit_ports(const struct nat_config *cfg)
{
	uint32_t smallest = 65536;
	unsigned int i;

	if (cfg->max_ports_per_host != NAT_LIMIT_AUTO)
		return cfg->max_ports_per_host;
	for (i = 0; i < cfg->n_addrs; i++)
		smallest = RTE_MIN(smallest, (uint32_t)(cfg->port_hi[i] - cfg->port_lo[i]) + 1);
	return RTE_MAX(smallest / 4, 1u);
}

static inline uint32_t
host_bucket(const struct nat_ctx *nc, uint32_t addr)
{
	return (uint32_t)nat_hash2(nc->key, addr, UINT64_C(0x686f7374)) & nc->host_mask;
}

int
nat_hosts_init(struct nat_ctx *nc)
{
	uint32_t cap = ct_table_capacity(nc->ct) + nc->map_cap, nb, i;

	for (nb = 2; nb < cap; nb <<= 1)
		;
	nc->host_cap = cap;
	nc->host_mask = nb - 1;
	nc->hosts = nat_zalloc(nc->use_heap, (size_t)cap * sizeof(*nc->hosts));
	nc->host_free = nat_zalloc(nc->use_heap, (size_t)cap * sizeof(uint32_t));
	nc->host_head = nat_zalloc(nc->use_heap, (size_t)nb * sizeof(uint32_t));
	if (nc->hosts == NULL || nc->host_free == NULL || nc->host_head == NULL)
		return -ENOMEM;
	for (i = 0; i < cap; i++)
		nc->host_free[i] = cap - 1 - i;
	nc->host_free_top = cap;
	memset(nc->host_head, 0xff, (size_t)nb * sizeof(uint32_t));
	nc->lim_conns = nat_limit_conns(&nc->cfg, ct_table_capacity(nc->ct));
	nc->lim_ports = nat_limit_ports(&nc->cfg);
	return 0;
}

void
nat_hosts_fini(struct nat_ctx *nc)
{
	nat_free(nc->use_heap, nc->hosts);
	nat_free(nc->use_heap, nc->host_free);
	nat_free(nc->use_heap, nc->host_head);
	nc->hosts = NULL;
	nc->host_free = NULL;
	nc->host_head = NULL;
}

struct nat_host *
nat_host_get(struct nat_ctx *nc, uint32_t addr, bool create)
{
	uint32_t *head = &nc->host_head[host_bucket(nc, addr)];
	uint32_t i = *head;
	struct nat_host *h;

	while (i != NAT_NIL) {
		h = &nc->hosts[i];
		if (h->addr == addr)
			return h;
		i = h->next;
	}
	if (!create || nc->host_free_top == 0 || addr == 0)
		return NULL;
	i = nc->host_free[--nc->host_free_top];
	h = &nc->hosts[i];
	memset(h, 0, sizeof(*h));
	h->addr = addr;
	h->next = *head;
	*head = i;
	return h;
}

void
nat_host_release(struct nat_ctx *nc, struct nat_host *h)
{
	uint32_t idx = (uint32_t)(h - nc->hosts), *pp;
	unsigned int pc;

	if (h->conns != 0)
		return;
	for (pc = 0; pc < NAT_PC_MAX; pc++)
		if (h->ports[pc] != 0)
			return;
	pp = &nc->host_head[host_bucket(nc, h->addr)];
	while (*pp != NAT_NIL && *pp != idx)
		pp = &nc->hosts[*pp].next;
	if (*pp == idx)
		*pp = h->next;
	memset(h, 0, sizeof(*h));
	nc->host_free[nc->host_free_top++] = idx;
}
