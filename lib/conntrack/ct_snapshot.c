/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_snapshot.c - a connection's whole state out of the table and back in (ct.h "Save and
 * restore"): what natgw writes to its snapshot file on SIGTERM and loads with --restore, so
 * that sessions survive a restart (as conntrackd's external cache lets a Linux firewall
 * take its sessions over). The file format and the per-worker placement are the app's
 * (app/gw_snapshot.c); this file only knows struct ct_conn, whose layout it keeps private.
 *
 * Not saved: the RFC 5961 pending-segment slots (struct ct_tcp_pend: a restored connection
 * just loses that shortcut, as one whose slot was taken does) and IPv6 connections.
 */
#include <string.h>
#include <netinet/in.h>

#include "ct_private.h"

int
ct_conn_export(const struct ct_table *t, uint32_t id, ct_time_t now, struct ct_conn_rec *r)
{
	const struct ct_conn *c;

	if (id >= t->capacity)
		return -1;
	c = &t->conns[id];
	if ((c->status & CT_ST_DYING) || c->tclass >= CT_TC_MAX || ct_conn_dead(c, now) ||
	    c->tuple[CT_DIR_ORIG].family != CT_FAMILY_IPV4)
		return -1;
	memset(r, 0, sizeof(*r));
	r->tuple[0] = c->tuple[0];
	r->tuple[1] = c->tuple[1];
	r->expire_in = ct_ms_abs(c->expire, now) - now;
	r->status = c->status;
	r->tcp_state = c->tcp_state;
	r->tclass = c->tclass;
	for (unsigned int d = 0; d < 2; d++) {
		if (t->acct != NULL) {
			r->packets[d] = t->acct[id].packets[d];
			r->bytes[d] = t->acct[id].bytes[d];
		}
		r->td_end[d] = c->td_end[d];
		r->td_maxend[d] = c->td_maxend[d];
		r->td_maxwin[d] = c->td_maxwin[d];
		r->td_wscale[d] = c->td_wscale[d];
		r->td_flags[d] = c->td_flags[d];
		r->user[d] = c->user[d];
	}
	/* the pending slot is not saved (file comment) */
	r->td_flags[CT_DIR_ORIG] &= (uint8_t)~CT_TD_PEND;
	r->master = (c->status & CT_ST_RELATED) ? c->master : 0;
	return 0;
}

struct ct_conn *
ct_conn_import(struct ct_table *t, const struct ct_conn_rec *r, ct_time_t now,
	       enum ct_reason *why)
{
	const struct ct_tuple *o = &r->tuple[CT_DIR_ORIG], *rp = &r->tuple[CT_DIR_REPLY];
	struct ct_conn *c;

	*why = CT_R_NONE;
	if (o->family != CT_FAMILY_IPV4 || rp->family != CT_FAMILY_IPV4 || o->zero != 0 ||
	    rp->zero != 0 || o->proto != rp->proto || r->tcp_state >= CT_TCP_MAX ||
	    r->tclass >= CT_TC_MAX || r->expire_in == 0 ||
	    (o->proto == IPPROTO_TCP) != (r->tclass <= CT_TC_TCP_UNACK))
		return NULL;
	/* a control-plane call between bursts: no lookup pointer is held */
	ct_pins_reset(t);
	c = ct_create(t, o, rp, now, why);
	if (c == NULL)
		return NULL;
	ct_write_begin(c);
	c->status = r->status & (uint16_t)~(CT_ST_DYING | CT_ST_RELATED | CT_ST_FAST_MASK);
	c->tcp_state = r->tcp_state;
	for (unsigned int d = 0; d < 2; d++) {
		if (t->acct != NULL) {
			t->acct[ct_conn_idx(t, c)].packets[d] = r->packets[d];
			t->acct[ct_conn_idx(t, c)].bytes[d] = r->bytes[d];
		}
		c->td_end[d] = r->td_end[d];
		c->td_maxend[d] = r->td_maxend[d];
		c->td_maxwin[d] = r->td_maxwin[d];
		c->td_wscale[d] = r->td_wscale[d];
		/* a record with packets counted and no CT_TD_SEEN was saved by a table that
		 * told a direction's first packet by its count */
		c->td_flags[d] = (uint8_t)(r->td_flags[d] | (r->packets[d] != 0 ? CT_TD_SEEN : 0));
	}
	c->td_flags[CT_DIR_ORIG] &= (uint8_t)~CT_TD_PEND;
	ct_set_class_expire(t, c, (enum ct_tclass)r->tclass,
			    now + RTE_MIN(r->expire_in, (uint64_t)CT_TIMEOUT_MAX));
	ct_write_end(c);
	return c;
}
