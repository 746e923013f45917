/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat_snapshot.c - NAT state out of a worker's context and back in (nat.h "save and
 * restore"): mappings with their outside ports and ADF remotes, and each connection's
 * mapping reference and per-host count. The shared port table and the per-host records
 * are not copied: they are rebuilt by taking every restored mapping's port and counting
 * every restored connection again, so they agree with what was restored by construction
 * (and with the new worker count: a mapping is restored on the worker that owns its inside
 * host now). The file format is app/gw_snapshot.c's.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "nat_private.h"

uint32_t
nat_map_capacity(const struct nat_ctx *nc)
{
	return nc->map_cap;
}

int
nat_map_export(const struct nat_ctx *nc, uint32_t h, struct nat_map_rec *r)
{
	const struct nat_map *m;
	unsigned int i;

	if (h == 0 || h > nc->map_cap || nc->maps[h - 1].refcnt == 0)
		return -1;
	m = &nc->maps[h - 1];
	memset(r, 0, sizeof(*r));
	r->in_addr = m->in_addr;
	r->dst_addr = m->dst_addr;
	r->out_addr = m->out_addr;
	r->in_port = m->in_port;
	r->dst_port = m->dst_port;
	r->out_port = m->out_port;
	r->proto = m->proto;
	r->flags = (m->flags & NAT_MF_STATIC) ? NAT_MAP_REC_STATIC : 0;
	/* ADF's remotes exist only under ADF (nat_private.h struct nat_adf): elsewhere none
	 * are saved, and a restore under ADF learns them again from the restored outbound
	 * connections (nat_conn_import) */
	if (nc->adf != NULL) {
		const struct nat_adf *a = &nc->adf[h - 1];

		r->n_remote = RTE_MIN(a->n_remote, (uint8_t)NAT_ADF_SLOTS);
		for (i = 0; i < r->n_remote; i++)
			r->remote[i] = a->remote[i];
	}
	return 0;
}

void
nat_conn_export(const struct ct_conn *c, uint32_t *map, uint8_t *flags)
{
	uint32_t uw = ct_conn_user(c, CT_USER_NAT);

	*map = uw & NAT_UW_MAP_MASK;
	*flags = (uint8_t)(((uw & NAT_UW_COUNTED) ? NAT_CONN_COUNTED : 0) |
			   ((uw & NAT_UW_HOST_REPLY) ? NAT_CONN_HOST_REPLY : 0));
}

static uint32_t
import_fail(int err)
{
	rte_errno = err;
	return 0;
}

uint32_t
nat_map_import(struct nat_ctx *nc, const struct nat_map_rec *r)
{
	int pc = nat_pclass_of(r->proto), ai = nat_addr_index(&nc->cfg, r->out_addr);
	bool is_static = (r->flags & NAT_MAP_REC_STATIC) != 0;
	uint16_t port = ntohs(r->out_port);
	struct nat_host *h = NULL;
	struct nat_map *m;
	unsigned int i;

	if (pc < 0 || r->n_remote > NAT_ADF_SLOTS || (ai < 0 && !is_static))
		return import_fail(EINVAL);
	if (nc->map_free_top == 0)
		return import_fail(ENOSPC);
	if (nat_map_find_key(nc, r->proto, r->in_addr, r->in_port, r->dst_addr, r->dst_port) !=
	    NULL || nat_map_find_rev(nc, r->proto, r->out_addr, r->out_port) != NULL)
		return import_fail(EEXIST);
	if (is_static) {
		/* a forward's port (nat_mapping.c map_static): claimed, not the host's */
		if (ai >= 0 && nat_port_claim_static(nc, (unsigned int)ai, (unsigned int)pc,
						     port) < 0)
			return import_fail(EEXIST);
	} else {
		h = nat_host_get(nc, r->in_addr, true);
		if (h == NULL)
			return import_fail(ENOSPC);
		if (nat_port_take(nc, (unsigned int)ai, (unsigned int)pc, port) < 0) {
			nat_host_release(nc, h);
			return import_fail(EEXIST);
		}
		h->ports[pc]++;
	}
	m = nat_map_insert(nc, r->proto, r->in_addr, r->in_port, r->dst_addr, r->dst_port,
			   ai < 0 ? 0 : (unsigned int)ai, r->out_addr, r->out_port,
			   is_static ? NAT_MF_STATIC : 0);
	for (i = 0; i < r->n_remote; i++)
		nat_map_remote_add(nc, m, r->remote[i]);
	m->refcnt = 1;		/* the restore's own hold (nat.h) */
	return (uint32_t)(m - nc->maps) + 1;
}

int
nat_conn_import(struct nat_ctx *nc, struct ct_conn *c, uint32_t map, uint8_t flags)
{
	uint32_t uw = 0, id = ct_conn_id(nc->ct, c);
	struct nat_map *m = NULL;

	if (map != 0) {
		if (map > nc->map_cap || nc->maps[map - 1].refcnt == 0)
			return -EINVAL;
		m = &nc->maps[map - 1];
		m->refcnt++;
		uw = map;
	}
	if (flags & NAT_CONN_COUNTED) {
		bool in = (flags & NAT_CONN_HOST_REPLY) != 0;
		const struct ct_tuple *ht = ct_conn_tuple(c, in ? CT_DIR_REPLY : CT_DIR_ORIG);
		struct nat_host *h = nat_host_get(nc, ht->src, true);

		if (h != NULL) {
			unsigned int d = in ? NAT_HD_IN : NAT_HD_OUT;

			h->conns[d]++;
			/* eviction candidates are the host's connections not yet ASSURED */
			if (!(ct_conn_status(c) & CT_ST_ASSURED))
				nat_host_link(nc, h, d, id);
			uw |= NAT_UW_COUNTED | (in ? NAT_UW_HOST_REPLY : 0);
		}
	}
	/* ADF: the remote this outbound connection talks to (nat_out_new does the same) */
	if (m != NULL && !(flags & NAT_CONN_HOST_REPLY))
		nat_map_remote_add(nc, m, ct_conn_tuple(c, CT_DIR_ORIG)->dst);
	ct_conn_set_user(c, CT_USER_NAT, uw);
	return 0;
}
