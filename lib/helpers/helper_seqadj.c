/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * helper_seqadj.c - TCP sequence adjustment after a helper changed the length of a
 * payload. Each direction keeps (correction_pos, offset_before, offset_after) in the
 * sender's *original* sequence space, the scheme of netfilter's nf_ct_seqadj:
 *  - a segment of that direction whose seq is after correction_pos moves by offset_after;
 *    the rewritten segment itself (seq == correction_pos) and anything earlier by
 *    offset_before, so a retransmission of the rewritten segment lands where it did;
 *  - the peer's ACK and SACK edges come back by the same offsets (in reverse).
 * Conntrack must see the un-rewritten world (its window tracking counts the original
 * lengths), so the app translates ACK/SACK back before ct_update() and shifts SEQ after
 * (helper.h "Pipeline"). All checksum changes are incremental (RFC 1624).
 */
#include <string.h>

#include <rte_byteorder.h>

#include "helper_private.h"

#define TCP_OPT_EOL	0
#define TCP_OPT_NOP	1
#define TCP_OPT_SACK	5

static inline bool
seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

void
helper_seqadj_record(struct helper_conn *hr, uint8_t dir, uint32_t seq, int32_t delta)
{
	struct helper_seqadj *sa = &hr->sa[dir];
	uint8_t bit = dir == 0 ? HC_F_SEQADJ0 : HC_F_SEQADJ1;

	if (delta == 0)
		return;
	if (!(hr->flags & bit)) {
		hr->flags |= bit;
		sa->correction_pos = seq;
		sa->offset_before = 0;
		sa->offset_after = delta;
		return;
	}
	/* only a rewrite further on moves the correction point; a retransmission of the
	 * rewritten segment (same seq) must not count its change twice */
	if (sa->offset_before == sa->offset_after || seq_after(seq, sa->correction_pos)) {
		sa->correction_pos = seq;
		sa->offset_before = sa->offset_after;
		sa->offset_after += delta;
	}
}

static inline uint32_t
rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return rte_be_to_cpu_32(v);
}

/* write a 32-bit field at offset `off` of the TCP header, checksum updated */
static void
wr32_csum(uint8_t *th, unsigned int off, uint32_t v)
{
	uint16_t csum;
	uint8_t nb[4];
	uint32_t be = rte_cpu_to_be_32(v);

	memcpy(nb, &be, 4);
	memcpy(&csum, th + 16, 2);
	csum = helper_csum_replace(csum, helper_sum(th + off, 4, off & 1),
				   helper_sum(nb, 4, off & 1));
	memcpy(th + off, nb, 4);
	memcpy(th + 16, &csum, 2);
}

/* an edge of the peer's stream acknowledged by us, back into its original space */
static uint32_t
unadjust(const struct helper_seqadj *sa, uint32_t v)
{
	if (seq_after(v - (uint32_t)sa->offset_before, sa->correction_pos))
		return v - (uint32_t)sa->offset_after;
	return v - (uint32_t)sa->offset_before;
}

static void
sack_in(const struct helper_seqadj *sa, uint8_t *th, unsigned int optlen)
{
	unsigned int i = 20, end = 20 + optlen;

	while (i < end) {
		uint8_t kind = th[i], len;

		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= end)
			break;
		len = th[i + 1];
		if (len < 2 || i + len > end)
			break;	/* malformed options: leave them as they are */
		if (kind == TCP_OPT_SACK && len >= 10 && (len - 2) % 8 == 0) {
			unsigned int b;

			for (b = i + 2; b + 8 <= i + len; b += 8) {
				wr32_csum(th, b, unadjust(sa, rd32(th + b)));
				wr32_csum(th, b + 4, unadjust(sa, rd32(th + b + 4)));
			}
		}
		i += len;
	}
}

/*
 * Conntrack reinitialised the entry for a new connection on the same tuple (a client
 * reconnecting from its old port, a reopen from TIME_WAIT) and cleared CT_ST_SEQ_ADJUST:
 * the offsets and the remembered rewrites belong to the old stream, drop them. Not on a
 * RST: the one that ends the old connection is still in the old stream's space.
 */
void
helper_seqadj_resync(struct helper_conn *hr, const struct ct_pkt *p)
{
	if (!(hr->flags & (HC_F_SEQADJ0 | HC_F_SEQADJ1)) || (p->tcp_flags & 0x04) ||
	    (ct_conn_status(p->conn) & CT_ST_SEQ_ADJUST))
		return;
	hr->flags &= (uint8_t)~(HC_F_SEQADJ0 | HC_F_SEQADJ1 | HC_F_LAST0 | HC_F_LAST1);
	memset(hr->sa, 0, sizeof(hr->sa));
}

bool
helper_seqadj_ack_in(const struct helper_conn *hr, const struct ct_pkt *p, uint8_t *buf)
{
	uint8_t peer = p->dir ^ 1;
	uint8_t *th = buf + p->l4_off;
	unsigned int doff;

	/* a SYN/ACK acknowledges a SYN: the start of a stream, before any rewrite (and after
	 * a reopen on the same entry, of a new stream the offsets know nothing of) */
	if (!(hr->flags & (peer == 0 ? HC_F_SEQADJ0 : HC_F_SEQADJ1)) ||
	    (p->tcp_flags & 0x12) != 0x10)
		return false;
	wr32_csum(th, 8, unadjust(&hr->sa[peer], rd32(th + 8)));
	doff = (unsigned int)(th[12] >> 4) * 4;
	if (doff > 20 && doff <= p->l4_len)
		sack_in(&hr->sa[peer], th, doff - 20);
	return true;
}

bool
helper_seqadj_seq_out(const struct helper_conn *hr, const struct ct_pkt *p, uint8_t *buf)
{
	const struct helper_seqadj *sa = &hr->sa[p->dir];
	uint8_t *th = buf + p->l4_off;
	uint32_t seq;
	int32_t off;

	if (!(hr->flags & (p->dir == 0 ? HC_F_SEQADJ0 : HC_F_SEQADJ1)) || (p->tcp_flags & 0x02))
		return false;	/* a SYN starts a stream: nothing rewritten before it */
	seq = rd32(th + 4);
	off = seq_after(seq, sa->correction_pos) ? sa->offset_after : sa->offset_before;
	if (off == 0)
		return false;
	wr32_csum(th, 4, seq + (uint32_t)off);
	return true;
}
