/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_proto_icmp.c - the ICMP query tracker (echo, timestamp, information, address mask;
 * RFC 792, RFC 950), keyed by the query identifier (RFC 5508 section 3.1). Requests go in
 * the original direction only, replies in the reply direction only. ICMP errors are handled
 * by ct_update (RELATED to the connection they quote, no state change, no refresh).
 */
#include "ct_private.h"

enum ct_reason
ct_icmp_new_ok(const struct ct_pkt *p)
{
	if (p->is_icmp_error)
		return CT_R_ICMP_ERROR_NO_CONN;
	return ct_icmp_is_query_request(p->icmp_type) ? CT_R_NONE : CT_R_ICMP_BAD_TYPE;
}

enum ct_reason
ct_icmp_update(struct ct_table *t, struct ct_conn *c, const struct ct_pkt *p, ct_time_t now)
{
	if (p->dir == CT_DIR_ORIG ? !ct_icmp_is_query_request(p->icmp_type) :
				    !ct_icmp_is_query_reply(p->icmp_type))
		return CT_R_ICMP_BAD_TYPE;
	if (p->dir == CT_DIR_REPLY)
		c->status |= CT_ST_SEEN_REPLY;
	/* RFC 5508 REQ-2: the query timer; refreshed by every valid query packet */
	ct_set_class(t, c, CT_TC_ICMP, now, true);
	return CT_R_NONE;
}
