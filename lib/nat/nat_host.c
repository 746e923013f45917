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
 * never take more than a quarter of the ports, so at least three quarters stay for the
 * others (a single host cannot starve them, RFC 6888 REQ-4), while one busy host (a
 * torrent client, a server behind a forward) still gets 16,128 ports per protocol with the
 * default range 1024-65535 and 16,384 connections with the default capacity of 65,536.
 * Connections are two budgets of that size: those the host opens (NAT_HD_OUT) and those
 * made to it from outside (NAT_HD_IN: forwards, EIF/ADF, helpers' data connections), so a
 * flood to a forward cannot take the server's own outbound budget; a host holds at most half
 * the table. At a limit the host's own oldest connection of that budget not yet ASSURED is
 * evicted (nat_host_room). Ports the helpers reserve for a host's announcements count as
 * its ports (nat_port_reserve_host), and other layers keep per-host counts here too
 * (nat_host_take: helper records, expectations). Every limit can be set, or switched off,
 * in [nat] / [helpers] (docs/config.md).
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
nat_limit_conns_in(const struct nat_config *cfg, uint32_t ct_capacity)
{
	if (cfg->max_inbound_conns_per_host != NAT_LIMIT_AUTO)
		return cfg->max_inbound_conns_per_host;
	return nat_limit_conns(cfg, ct_capacity);
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

/* how many host records a worker keeps (docs/config.md [nat] max_hosts) */
uint32_t
nat_hosts_capacity(const struct nat_config *cfg, uint32_t ct_cap, uint32_t map_cap)
{
	/* never more than could ever be live (below): more would never be used */
	uint32_t bound = (uint32_t)RTE_MIN((uint64_t)ct_cap + ct_cap / 16 + 64,
					   (uint64_t)ct_cap + map_cap);

	if (cfg->max_hosts != 0)
		return RTE_MIN(cfg->max_hosts, bound);
	return RTE_MIN(RTE_MAX(ct_cap / NAT_HOSTS_AUTO_DIV, (uint32_t)NAT_HOSTS_AUTO_MIN), bound);
}

int
nat_hosts_init(struct nat_ctx *nc)
{
	/*
	 * A record lives while its host has a connection counted, a mapping's ports or a
	 * helper's reservation. Every mapping belongs to a live connection of the same inside
	 * host (refcnt 0 frees it; inbound connections on a mapping count its inside host), and
	 * helper records and expectations belong to a live master connection of that host, so
	 * live records never outnumber live connections, except for the few moments in
	 * nat_out_new where a mapping's record exists before ct_create evicts to make room:
	 * the conntrack capacity plus a margin. (Was capacity + mappings: half of it never used,
	 * 63 bytes per connection.)
	 */
	/*
	 * That bound (the connections' count) is what the records were sized to until
	 * max_hosts: 52 bytes per connection, for a table that holds far fewer hosts than
	 * connections in any real use (a subscriber holds tens of connections). So the table
	 * is sized by hosts: max_hosts, auto = a sixteenth of the conntrack capacity (at least
	 * NAT_HOSTS_AUTO_MIN), never above the bound. A new host's first connection with every
	 * record taken is refused with NAT_R_HOSTS_FULL, after evicting unreplied connections
	 * as for a full mapping table (a spoofed-source flood takes records first).
	 */
	uint32_t ct_cap = ct_table_capacity(nc->ct);
	uint32_t cap = nat_hosts_capacity(&nc->cfg, ct_cap, nc->map_cap);
	uint32_t nb = RTE_MAX(cap / 2, 1u), i;

	/* chains of 2 on average when every record is in use, half the index a chain of 1
	 * takes (any size: nat_bucket) */
	nc->host_cap = cap;
	nc->host_nb = nb;
	nc->hosts = nat_zalloc(nc->use_heap, (size_t)cap * sizeof(*nc->hosts));
	nc->host_head = nat_zalloc(nc->use_heap, (size_t)nb * sizeof(uint32_t));
	nc->hlink = nat_zalloc(nc->use_heap, (size_t)ct_cap * sizeof(*nc->hlink));
	if (nc->hosts == NULL || nc->host_head == NULL || nc->hlink == NULL)
		return -ENOMEM;
	for (i = 0; i < ct_cap; i++)
		nc->hlink[i].prev = nc->hlink[i].next = NAT_HL_OFF;
	/* free records linked through next, record 0 first (as the stack it replaces) */
	for (i = 0; i < cap; i++)
		nc->hosts[i].next = i + 1 < cap ? i + 1 : NAT_NIL;
	nc->host_free = 0;
	nc->host_free_top = cap;
	memset(nc->host_head, 0xff, (size_t)nb * sizeof(uint32_t));
	nc->lim_conns = nat_limit_conns(&nc->cfg, ct_table_capacity(nc->ct));
	nc->lim_ports = nat_limit_ports(&nc->cfg);
	nc->lim_conns_in = nat_limit_conns_in(&nc->cfg, ct_table_capacity(nc->ct));
	return 0;
}

void
nat_ctx_set_limits(struct nat_ctx *nc, const struct nat_config *lim)
{
	nc->cfg.max_conns_per_host = lim->max_conns_per_host;
	nc->cfg.max_inbound_conns_per_host = lim->max_inbound_conns_per_host;
	nc->cfg.max_ports_per_host = lim->max_ports_per_host;
	nc->lim_conns = nat_limit_conns(&nc->cfg, ct_table_capacity(nc->ct));
	nc->lim_ports = nat_limit_ports(&nc->cfg);
	nc->lim_conns_in = nat_limit_conns_in(&nc->cfg, ct_table_capacity(nc->ct));
}

void
nat_hosts_fini(struct nat_ctx *nc)
{
	nat_free(nc->use_heap, nc->hosts);
	nat_free(nc->use_heap, nc->host_head);
	nat_free(nc->use_heap, nc->hlink);
	nc->hlink = NULL;
	nc->hosts = NULL;
	nc->host_head = NULL;
}

struct nat_host *
nat_host_get_b(struct nat_ctx *nc, uint32_t addr, uint32_t b, bool create)
{
	uint32_t *head = &nc->host_head[b];
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
	i = nc->host_free;
	h = &nc->hosts[i];
	nc->host_free = h->next;
	nc->host_free_top--;
	*h = (struct nat_host){
		.addr = addr,
		.lhead = { NAT_NIL, NAT_NIL },
		.ltail = { NAT_NIL, NAT_NIL },
		.next = *head,
	};
	*head = i;
	return h;
}

struct nat_host *
nat_host_get(struct nat_ctx *nc, uint32_t addr, bool create)
{
	return nat_host_get_b(nc, addr, nat_host_bucket(nc, addr), create);
}

/* does the record count nothing any more (free it)? */
static inline bool
host_unused(const struct nat_host *h)
{
	uint32_t any = h->conns[NAT_HD_OUT] | h->conns[NAT_HD_IN];
	unsigned int i;

	for (i = 0; i < NAT_PC_MAX; i++)
		any |= h->ports[i];
	for (i = 0; i < NAT_HR_MAX; i++)
		any |= h->res[i];
	return any == 0;
}

/* unlink and free a record that counts nothing (b: its bucket) */
static void
host_free(struct nat_ctx *nc, struct nat_host *h, uint32_t b)
{
	uint32_t idx = (uint32_t)(h - nc->hosts), *pp;

	pp = &nc->host_head[b];
	while (*pp != NAT_NIL && *pp != idx)
		pp = &nc->hosts[*pp].next;
	if (*pp == idx)
		*pp = h->next;
	/* a free record: address 0, next links the free ones (nat_host_get_b zeroes the rest) */
	h->addr = 0;
	h->next = nc->host_free;
	nc->host_free = idx;
	nc->host_free_top++;
}

void
nat_host_release_b(struct nat_ctx *nc, struct nat_host *h, uint32_t b)
{
	if (host_unused(h))
		host_free(nc, h, b);
}

void
nat_host_release(struct nat_ctx *nc, struct nat_host *h)
{
	/* the hash only when the record goes (a host's other state keeps it, usually) */
	if (host_unused(h))
		host_free(nc, h, nat_host_bucket(nc, h->addr));
}

/* ---- eviction candidates: a host's connections not yet seen ASSURED, oldest first ---- */

void
nat_host_link(struct nat_ctx *nc, struct nat_host *h, unsigned int d, uint32_t id)
{
	struct nat_hlink *l = &nc->hlink[id];

	l->next = NAT_NIL;
	l->prev = h->ltail[d];
	if (h->ltail[d] != NAT_NIL)
		nc->hlink[h->ltail[d]].next = id;
	else
		h->lhead[d] = id;
	h->ltail[d] = id;
}

void
nat_host_unlink(struct nat_ctx *nc, struct nat_host *h, unsigned int d, uint32_t id)
{
	struct nat_hlink *l = &nc->hlink[id];

	if (l->prev == NAT_HL_OFF)
		return;
	if (l->prev != NAT_NIL)
		nc->hlink[l->prev].next = l->next;
	else
		h->lhead[d] = l->next;
	if (l->next != NAT_NIL)
		nc->hlink[l->next].prev = l->prev;
	else
		h->ltail[d] = l->prev;
	l->prev = l->next = NAT_HL_OFF;
}

/* candidates looked at per new connection at the limit */
#define NAT_HOST_EVICT_SEARCH 8

/*
 * A host at its limit pushes out its own oldest connection of the same budget that is not
 * ASSURED, instead of being refused until its entries time out (a spoofed SYN flood to a
 * forward would otherwise lock the server's real clients out for the SYN timeout): the
 * per-host form of netfilter's early_drop. Connections seen ASSURED on the way leave the
 * candidate list for good (each is looked at once; one whose TCP state is reinitialised
 * later just stays out of it), so the search is amortised O(1) and bounded by
 * NAT_HOST_EVICT_SEARCH. Connections handed out in this burst are never chosen (conntrack
 * refuses them: ct_evict_conn). The destroy callback unlinks and uncounts the victim.
 */
bool
nat_host_room_b(struct nat_ctx *nc, uint32_t addr, uint32_t b, unsigned int d, ct_time_t now)
{
	uint32_t lim = d == NAT_HD_IN ? nc->lim_conns_in : nc->lim_conns, i;
	struct nat_host *h = nat_host_get_b(nc, addr, b, false);
	unsigned int left = NAT_HOST_EVICT_SEARCH;

	if (h == NULL)
		return lim > 0;
	if (h->conns[d] < lim)
		return true;
	i = h->lhead[d];
	while (i != NAT_NIL && left-- > 0) {
		struct ct_conn *c = ct_conn_by_id(nc->ct, i);
		uint32_t next = nc->hlink[i].next;

		if (c == NULL) {
			nat_host_unlink(nc, h, d, i);	/* cannot happen: unlinked when it goes */
		} else if (ct_conn_status(c) & CT_ST_ASSURED) {
			nat_host_unlink(nc, h, d, i);
		} else if (ct_evict_conn(nc->ct, c, now)) {
			/* h may be gone with its last count: ask again */
			h = nat_host_get_b(nc, addr, b, false);
			return h == NULL || h->conns[d] < lim;
		}
		i = next;
	}
	return false;
}

bool
nat_host_room(struct nat_ctx *nc, uint32_t addr, unsigned int d, ct_time_t now)
{
	return nat_host_room_b(nc, addr, nat_host_bucket(nc, addr), d, now);
}

/* ---- what other layers count per host ---- */

int
nat_host_take(struct nat_ctx *nc, uint32_t host, enum nat_host_res r, uint32_t limit)
{
	struct nat_host *h;

	if ((unsigned int)r >= NAT_HR_MAX)
		return -1;
	h = nat_host_get(nc, host, true);
	if (h == NULL)
		return -1;
	if (limit != NAT_LIMIT_NONE && h->res[r] >= limit) {
		nat_host_release(nc, h);
		return -1;
	}
	h->res[r]++;
	return 0;
}

void
nat_host_put(struct nat_ctx *nc, uint32_t host, enum nat_host_res r)
{
	struct nat_host *h = (unsigned int)r < NAT_HR_MAX ? nat_host_get(nc, host, false) : NULL;

	if (h == NULL || h->res[r] == 0)
		return;
	h->res[r]--;
	nat_host_release(nc, h);
}

uint32_t
nat_host_count(struct nat_ctx *nc, uint32_t host, enum nat_host_res r)
{
	const struct nat_host *h = nat_host_get(nc, host, false);

	return h != NULL && (unsigned int)r < NAT_HR_MAX ? h->res[r] : 0;
}

uint32_t
nat_host_conns(struct nat_ctx *nc, uint32_t host)
{
	const struct nat_host *h = nat_host_get(nc, host, false);

	return h != NULL ? h->conns[NAT_HD_OUT] + h->conns[NAT_HD_IN] : 0;
}

/* ---- helpers' reserved ports, charged to the announcing host (RFC 6888 REQ-4) ---- */

int
nat_port_reserve_host(struct nat_ctx *nc, uint32_t host, uint8_t proto, uint32_t addr,
		      uint16_t want)
{
	int pc = nat_pclass_of(proto), port;
	struct nat_host *h;

	if (pc != NAT_PC_TCP && pc != NAT_PC_UDP)
		return -1;
	h = nat_host_get(nc, host, true);
	if (h == NULL)
		return -1;
	if (h->ports[pc] >= nc->lim_ports) {
		nat_host_release(nc, h);
		nat_reason_inc(nc, NAT_R_HOST_PORTS_LIMIT);
		return -2;
	}
	port = nat_port_reserve(nc, proto, addr, want);
	if (port < 0) {
		nat_host_release(nc, h);
		return -1;
	}
	h->ports[pc]++;
	return port;
}

void
nat_port_reserved_put_host(struct nat_ctx *nc, uint32_t host, uint8_t proto, uint32_t addr,
			   uint16_t port)
{
	int pc = nat_pclass_of(proto);
	struct nat_host *h = nat_host_get(nc, host, false);

	nat_port_reserved_put(nc, proto, addr, port);
	if (h != NULL && pc >= 0 && h->ports[pc] > 0) {
		h->ports[pc]--;
		nat_host_release(nc, h);
	}
}
