/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_timeout.c - the timeout table: one timeout per class, each default next to the RFC
 * minimum it honours, and the class names used by the configuration.
 */
#include <string.h>

#include "ct_private.h"

#define SEC(x) ((ct_time_t)(x) * CT_USEC_PER_SEC)
#define MIN(x) SEC((x) * 60)

static const struct {
	const char *name;
	ct_time_t def;		/* default */
	ct_time_t rfc_min;	/* the RFC floor (0: none), checked by the unit tests */
} ct_tclass_tab[CT_TC_MAX] = {
	/* RFC 5382 REQ-5: transitory (partially open or closing) idle-timeout >= 4 min */
	[CT_TC_TCP_SYN_SENT]	= { "tcp_syn_sent",	MIN(4),		MIN(4) },
	[CT_TC_TCP_SYN_RECV]	= { "tcp_syn_recv",	MIN(4),		MIN(4) },
	/* RFC 5382 REQ-5: established idle-timeout >= 2 h 4 min (2 h keepalive + 4 x 75 s
	 * probes, RFC 1122 4.2.3.6). We use the minimum rather than netfilter's 5 days: a
	 * NAT's table and port space are finite and a quiet flow that keeps alive survives. */
	[CT_TC_TCP_ESTABLISHED]	= { "tcp_established",	MIN(124),	MIN(124) },
	[CT_TC_TCP_FIN_WAIT]	= { "tcp_fin_wait",	MIN(4),		MIN(4) },
	[CT_TC_TCP_CLOSE_WAIT]	= { "tcp_close_wait",	MIN(4),		MIN(4) },
	[CT_TC_TCP_LAST_ACK]	= { "tcp_last_ack",	MIN(4),		MIN(4) },
	/* TIME_WAIT lasts 2 MSL (RFC 9293 3.4.2, MSL = 2 min) */
	[CT_TC_TCP_TIME_WAIT]	= { "tcp_time_wait",	MIN(4),		MIN(4) },
	/* after an in-window RST nothing more is expected; netfilter's 10 s (no RFC floor:
	 * RFC 5382 REQ-5 covers live connections, a reset one is gone) */
	[CT_TC_TCP_CLOSE]	= { "tcp_close",	SEC(10),	0 },
	/* established with data unacknowledged: the peer is gone if it stays so for 5 min
	 * (netfilter's nf_conntrack_tcp_timeout_unacknowledged); transitory floor applies */
	[CT_TC_TCP_UNACK]	= { "tcp_unacknowledged", MIN(5),	MIN(4) },
	/* RFC 4787 REQ-5: UDP mapping timer >= 2 min, 5 min recommended. It applies to every
	 * mapping, so unreplied flows get the 2 min floor too (not netfilter's 30 s). */
	[CT_TC_UDP_UNREPLIED]	= { "udp_unreplied",	MIN(2),		MIN(2) },
	[CT_TC_UDP_REPLIED]	= { "udp_replied",	MIN(5),		MIN(2) },
	[CT_TC_UDP_ASSURED]	= { "udp_assured",	MIN(5),		MIN(2) },
	/* RFC 5508 REQ-2: ICMP query mapping timeout >= 60 s */
	[CT_TC_ICMP]		= { "icmp",		SEC(60),	SEC(60) },
	/* other protocols: netfilter's generic 10 min (RFC 4787-like behaviour assumed) */
	[CT_TC_OTHER]		= { "other",		MIN(10),	0 },
};

void
ct_timeouts_default(struct ct_timeouts *to)
{
	unsigned int i;

	for (i = 0; i < CT_TC_MAX; i++)
		to->t[i] = ct_tclass_tab[i].def;
}

const char *
ct_tclass_name(enum ct_tclass c)
{
	if ((unsigned int)c >= CT_TC_MAX)
		return NULL;
	return ct_tclass_tab[c].name;
}

int
ct_tclass_by_name(const char *name)
{
	unsigned int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < CT_TC_MAX; i++)
		if (strcmp(name, ct_tclass_tab[i].name) == 0)
			return (int)i;
	return -1;
}

ct_time_t
ct_timeout_rfc_min(enum ct_tclass c)
{
	if ((unsigned int)c >= CT_TC_MAX)
		return 0;
	return ct_tclass_tab[c].rfc_min;
}

enum ct_tclass
ct_tcp_state_class(enum ct_tcp_state s)
{
	static const uint8_t cls[CT_TCP_MAX] = {
		[CT_TCP_NONE] = CT_TC_TCP_SYN_SENT,
		[CT_TCP_SYN_SENT] = CT_TC_TCP_SYN_SENT,
		[CT_TCP_SYN_SENT2] = CT_TC_TCP_SYN_SENT,
		[CT_TCP_SYN_RECV] = CT_TC_TCP_SYN_RECV,
		[CT_TCP_ESTABLISHED] = CT_TC_TCP_ESTABLISHED,
		[CT_TCP_FIN_WAIT] = CT_TC_TCP_FIN_WAIT,
		[CT_TCP_CLOSE_WAIT] = CT_TC_TCP_CLOSE_WAIT,
		[CT_TCP_LAST_ACK] = CT_TC_TCP_LAST_ACK,
		[CT_TCP_TIME_WAIT] = CT_TC_TCP_TIME_WAIT,
		[CT_TCP_CLOSE] = CT_TC_TCP_CLOSE,
	};

	return (unsigned int)s < CT_TCP_MAX ? (enum ct_tclass)cls[s] : CT_TC_TCP_CLOSE;
}
