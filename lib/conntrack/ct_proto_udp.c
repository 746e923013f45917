/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_proto_udp.c - the UDP tracker: no state beyond "was it answered". UNREPLIED until the
 * first reply, REPLIED after it, ASSURED (not early-evictable, stream timeout) once traffic
 * continues after the reply, as netfilter's udp_packet() does. RFC 4787 REQ-6: the mapping
 * is refreshed by outbound traffic and (as we track both ways) by inbound traffic alike.
 */
#include "ct_private.h"

enum ct_reason
ct_udp_update(struct ct_table *t, struct ct_conn *c, const struct ct_pkt *p, ct_time_t now)
{
	enum ct_tclass cls;

	if (c->status & CT_ST_SEEN_REPLY) {
		/* a packet after the reply: a stream */
		c->status |= CT_ST_ASSURED;
		cls = CT_TC_UDP_ASSURED;
	} else if (p->dir == CT_DIR_REPLY) {
		c->status |= CT_ST_SEEN_REPLY;
		cls = CT_TC_UDP_REPLIED;
	} else {
		cls = CT_TC_UDP_UNREPLIED;
	}
	ct_set_class(t, c, cls, now, true);
	return CT_R_NONE;
}
