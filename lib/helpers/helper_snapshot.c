/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * helper_snapshot.c - helper state out of a worker's context and back in (helper.h "Save and
 * restore"): the per-connection helper records (line tracking, sequence adjustment, the
 * last rewrite, a data connection's reserved outside port) and the pending expectations,
 * so that an FTP control connection keeps its sequence adjustment and an announced data
 * connection still finds its expectation after natgw restarts. Reserved outside ports are
 * taken again, exactly the saved port, or the record is refused (another owner of that port
 * would break the translation). The file format is app/gw_snapshot.c's.
 */
#include <errno.h>
#include <string.h>

#include "helper_private.h"

int
helper_conn_export(const struct helper_ctx *hc, const struct ct_conn *c,
		   struct helper_conn_rec *r)
{
	const struct helper_conn *h = helper_conn_rec(hc, c);
	unsigned int d;

	if (h == NULL)
		return -1;
	memset(r, 0, sizeof(*r));
	r->helper = h->helper;
	r->flags = h->flags;
	r->resv_proto = h->resv_proto;
	r->resv_port = h->resv_port;
	r->resv_addr = h->resv_addr;
	r->resv_host = h->resv_host;
	r->rec_host = h->rec_host;
	for (d = 0; d < 2; d++) {
		r->nl_seq[d] = h->nl_seq[d];
		r->nl_seq_prev[d] = h->nl_seq_prev[d];
		r->sa[d].correction_pos = h->sa[d].correction_pos;
		r->sa[d].offset_before = h->sa[d].offset_before;
		r->sa[d].offset_after = h->sa[d].offset_after;
		r->last[d].seq = h->last[d].seq;
		r->last[d].addr = h->last[d].addr;
		r->last[d].port = h->last[d].port;
		r->last[d].off = h->last[d].off;
		r->last[d].old_len = h->last[d].old_len;
		r->last[d].kind = h->last[d].kind;
		r->last[d].new_len = h->last[d].new_len;
		memcpy(r->last[d].text, h->last[d].text, sizeof(r->last[d].text));
	}
	return 0;
}

/* take exactly `port` again for host (nat_port_reserve_host may choose another one) */
static int
reserve_exact(struct helper_ctx *hc, uint32_t host, uint8_t proto, uint32_t addr,
	      uint16_t port)
{
	int got = nat_port_reserve_host(hc->nc, host, proto, addr, port);

	if (got == port)
		return 0;
	if (got >= 0)
		nat_port_reserved_put_host(hc->nc, host, proto, addr, (uint16_t)got);
	return -EEXIST;
}

int
helper_conn_import(struct helper_ctx *hc, struct ct_conn *c, const struct helper_conn_rec *r)
{
	bool resv = (r->flags & HC_F_RESV) != 0;
	struct helper_conn *h;
	unsigned int d;

	if (r->helper >= HELPER_MAX || helper_conn_rec(hc, c) != NULL ||
	    r->last[0].new_len > HELPER_TEXT_MAX || r->last[1].new_len > HELPER_TEXT_MAX)
		return -EINVAL;
	if (resv && reserve_exact(hc, r->resv_host, r->resv_proto, r->resv_addr,
				  r->resv_port) != 0)
		return -EEXIST;
	/* what was admitted before the restart stays: no per-host limit here */
	if (r->rec_host != 0 &&
	    nat_host_take(hc->nc, r->rec_host, NAT_HR_HELPER, HELPER_LIMIT_NONE) != 0)
		goto fail_port;
	h = helper_conn_new_rec(hc, c, r->helper);
	if (h == NULL) {
		if (r->rec_host != 0)
			nat_host_put(hc->nc, r->rec_host, NAT_HR_HELPER);
		goto fail_port;
	}
	h->flags = r->flags;
	h->resv_proto = r->resv_proto;
	h->resv_port = r->resv_port;
	h->resv_addr = r->resv_addr;
	h->resv_host = r->resv_host;
	h->rec_host = r->rec_host;
	for (d = 0; d < 2; d++) {
		h->nl_seq[d] = r->nl_seq[d];
		h->nl_seq_prev[d] = r->nl_seq_prev[d];
		h->sa[d].correction_pos = r->sa[d].correction_pos;
		h->sa[d].offset_before = r->sa[d].offset_before;
		h->sa[d].offset_after = r->sa[d].offset_after;
		h->last[d].seq = r->last[d].seq;
		h->last[d].addr = r->last[d].addr;
		h->last[d].port = r->last[d].port;
		h->last[d].off = r->last[d].off;
		h->last[d].old_len = r->last[d].old_len;
		h->last[d].kind = r->last[d].kind;
		h->last[d].new_len = r->last[d].new_len;
		memcpy(h->last[d].text, r->last[d].text, sizeof(h->last[d].text));
	}
	return 0;

fail_port:
	if (resv)
		nat_port_reserved_put_host(hc->nc, r->resv_host, r->resv_proto, r->resv_addr,
					   r->resv_port);
	return -ENOSPC;
}

unsigned int
helper_expect_export(const struct helper_ctx *hc, struct helper_expect_rec *out,
		     unsigned int n, ct_time_t now)
{
	unsigned int got = 0;
	uint32_t i;

	for (i = hc->fifo_head; i != HELPER_NIL && got < n; i = hc->exps[i].fnext) {
		const struct helper_exp *e = &hc->exps[i];

		if (e->used || e->expire <= now)
			continue;
		memset(&out[got], 0, sizeof(out[got]));
		out[got].spec = e->s;
		out[got].expire_in = e->expire - now;
		out[got].master = e->master;
		got++;
	}
	return got;
}

int
helper_expect_import(struct helper_ctx *hc, struct ct_conn *master,
		     const struct helper_expect_rec *r, ct_time_t now)
{
	const struct helper_expect_spec *s = &r->spec;
	int rc;

	if (helper_conn_rec(hc, master) == NULL || r->expire_in == 0 ||
	    s->tuple.family != CT_FAMILY_IPV4 || s->nat > HELPER_EXP_NAT_OUT ||
	    s->helper >= HELPER_MAX ||
	    (s->wild & ~(HELPER_EXP_ANY_SPORT | HELPER_EXP_ANY_SADDR)) != 0)
		return -EINVAL;
	if (s->resv_port != 0 &&
	    reserve_exact(hc, s->to_addr, s->tuple.proto, s->tuple.dst, s->resv_port) != 0)
		return -EEXIST;
	rc = helper_expect_add(hc, master, s, now);	/* gives the port back on failure */
	if (rc != 0)
		return rc;
	/* the one just added is the newest: the FIFO's tail */
	hc->exps[hc->fifo_tail].expire = now + r->expire_in;
	return 0;
}
