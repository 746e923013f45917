/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_proto_tcp.c - the TCP tracker: a const transition table [direction][flag class][state]
 * with a comment per transition, plus window tracking (sequence and acknowledgement bounds,
 * RFC 7323 window scaling, SACK) in the manner of netfilter's tcp_in_window() and of
 * Guido van Rooij's "Real Stateful TCP Packet Filtering in IP Filter" that both follow.
 *
 * Verdicts: impossible flag combinations and flags that make no sense in the state are
 * INVALID; so are segments outside the window, empty ones included. Retransmissions of data
 * already seen fall inside the lower bound and are valid. An INVALID segment changes
 * nothing: the tracker works on a copy of the window data. Segments that may create or
 * change state have their checksum verified first (unless the NIC did).
 *
 * RSTs follow RFC 5961 3.2: one closes the connection only at exactly the receiver's
 * rcv.nxt; one in window but not exact passes and changes nothing, so that the receiver
 * answers with a challenge ACK (which a peer that really reset answers with an exact RST);
 * one outside the window is dropped. In SYN_SENT a RST from the responder must acknowledge
 * the SYN (RFC 9293 3.10.7.3).
 *
 * A SYN from the originator in a live connection passes unchanged, as do ACKs from the
 * responder in SYN_SENT (netfilter's "ignored" packets): with endpoint-independent mapping
 * and port preservation a client that lost its connection reconnects on the same tuple, and
 * the server's answer shows which connection is real (see "pending" below). The entry, and
 * its NAT mapping, then carries the new connection; only the TCP state is reinitialised.
 */
#include <string.h>
#include <netinet/in.h>

#include "ct_private.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20

/* flag classes: the table's second index */
enum tcp_fclass { F_SYN, F_SYNACK, F_FIN, F_ACK, F_RST, F_NONE, F_MAX };

/* table values beyond the states */
#define sIV CT_TCP_MAX			/* invalid in this state */
#define sIG (CT_TCP_MAX + 1)		/* no state change: retransmission, window decides */
#define sXS (CT_TCP_MAX + 2)		/* SYN from the responder on a live connection */
#define sIS (CT_TCP_MAX + 3)		/* originator's SYN on a live connection: pass, note */
#define sIA (CT_TCP_MAX + 4)		/* responder's ACK to a SYN: pass, note (challenge ACK) */

#define sNO CT_TCP_NONE
#define sSS CT_TCP_SYN_SENT
#define sSR CT_TCP_SYN_RECV
#define sES CT_TCP_ESTABLISHED
#define sFW CT_TCP_FIN_WAIT
#define sCW CT_TCP_CLOSE_WAIT
#define sLA CT_TCP_LAST_ACK
#define sTW CT_TCP_TIME_WAIT
#define sCL CT_TCP_CLOSE
#define sS2 CT_TCP_SYN_SENT2

/*
 * Columns in enum order: NONE, SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT, CLOSE_WAIT,
 * LAST_ACK, TIME_WAIT, CLOSE, SYN_SENT2. FIN_WAIT means "one side sent FIN", CLOSE_WAIT
 * "that FIN was acknowledged", LAST_ACK "both sent FIN", as netfilter uses the names.
 */
static const uint8_t tcp_trans[2][F_MAX][CT_TCP_MAX] = {
	[CT_DIR_ORIG] = {
		/*         sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
		[F_SYN] = {
			sSS,	/* NO:  a new connection starts with SYN */
			sSS,	/* SS:  SYN retransmitted */
			sIG,	/* SR:  SYN retransmitted, the SYN/ACK was lost */
			sIS,	/* ES:  a new connection on the tuple, or stale: the answer
				 *      tells (RFC 5961 4: a live peer sends a challenge ACK) */
			sIS,	/* FW:  same */
			sIS,	/* CW:  same */
			sIS,	/* LA:  same */
			sSS,	/* TW:  port reused for a new connection (RFC 1122 4.2.2.13) */
			sSS,	/* CL:  after RST the port may be reused at once */
			sS2,	/* S2:  SYN retransmitted during simultaneous open */
		},
		[F_SYNACK] = {
			sIV,	/* NO:  a SYN/ACK opens nothing */
			sIV,	/* SS:  the originator does not answer its own SYN */
			sIG,	/* SR:  simultaneous open: our SYN/ACK retransmitted */
			sIG,	/* ES:  simultaneous open: SYN/ACK retransmitted late */
			sIV,	/* FW */
			sIV,	/* CW */
			sIV,	/* LA */
			sIV,	/* TW */
			sIV,	/* CL */
			sSR,	/* S2:  simultaneous open: originator answers the peer's SYN */
		},
		[F_FIN] = {
			sIV,	/* NO:  nothing to close */
			sIV,	/* SS:  FIN before the handshake completed */
			sFW,	/* SR:  FIN|ACK completes the handshake and closes our side */
			sFW,	/* ES:  originator closes first */
			sLA,	/* FW:  the reply side closed first, now we close too */
			sLA,	/* CW:  same, after its FIN was acknowledged */
			sLA,	/* LA:  FIN retransmitted */
			sTW,	/* TW:  FIN retransmitted */
			sCL,	/* CL */
			sIV,	/* S2:  FIN during simultaneous open */
		},
		[F_ACK] = {
			sES,	/* NO:  mid-stream pickup (tcp_loose only, see ct_tcp_new_ok) */
			sIV,	/* SS:  ACK without the peer's SYN/ACK */
			sES,	/* SR:  third packet of the handshake: established */
			sES,	/* ES:  data */
			sCW,	/* FW:  ACK of the peer's FIN (or data while half closed) */
			sCW,	/* CW */
			sTW,	/* LA:  ACK of the last FIN */
			sTW,	/* TW:  retransmitted ACK */
			sCL,	/* CL */
			sIV,	/* S2:  ACK before our SYN/ACK */
		},
		[F_RST] = {
			sIV,	/* NO:  a RST opens nothing */
			sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL,	/* any: abort */
		},
		[F_NONE] = {
			sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV,  /* no SYN/FIN/RST/ACK */
		},
	},
	[CT_DIR_REPLY] = {
		/*         sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
		[F_SYN] = {
			sIV,	/* NO:  never: connections are created from ORIG packets */
			sS2,	/* SS:  simultaneous open (RFC 9293 3.5, figure 8) */
			sIV,	/* SR:  SYN from the side that already sent SYN/ACK */
			sXS,	/* ES:  SYN in a live connection: never from the responder */
			sXS,	/* FW */
			sXS,	/* CW */
			sXS,	/* LA */
			sIV,	/* TW:  reuse from the reply side: would swap directions */
			sIV,	/* CL */
			sS2,	/* S2:  SYN retransmitted */
		},
		[F_SYNACK] = {
			sIV,	/* NO */
			sSR,	/* SS:  second packet of the handshake */
			sIG,	/* SR:  SYN/ACK retransmitted */
			sIG,	/* ES:  SYN/ACK retransmitted, the third ACK was lost */
			sIV,	/* FW */
			sIV,	/* CW */
			sIV,	/* LA */
			sIV,	/* TW */
			sIV,	/* CL */
			sSR,	/* S2:  simultaneous open: peer answers our SYN */
		},
		[F_FIN] = {
			sIV,	/* NO */
			sIV,	/* SS:  FIN instead of SYN/ACK */
			sFW,	/* SR:  responder closes at once (FIN|ACK) */
			sFW,	/* ES:  responder closes first */
			sLA,	/* FW:  originator closed first, now the responder */
			sLA,	/* CW */
			sLA,	/* LA:  retransmitted */
			sTW,	/* TW:  retransmitted */
			sCL,	/* CL */
			sIV,	/* S2 */
		},
		[F_ACK] = {
			sIV,	/* NO */
			sIA,	/* SS:  ACK without SYN: the challenge ACK of a peer still in an
				 *      older connection on the tuple (RFC 5961 4), or stale */
			sSR,	/* SR:  responder's ACK while the handshake completes */
			sES,	/* ES:  data */
			sCW,	/* FW:  ACK of the originator's FIN */
			sCW,	/* CW */
			sTW,	/* LA:  ACK of the last FIN */
			sTW,	/* TW */
			sCL,	/* CL */
			sIV,	/* S2:  ACK before SYN/ACK */
		},
		[F_RST] = {
			sIV,	/* NO */
			sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL,	/* any: abort / refused */
		},
		[F_NONE] = {
			sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV,
		},
	},
};

/*
 * Flag combinations a real stack sends (PSH, ECE, CWR do not matter): SYN, SYN|URG, SYN|ACK,
 * RST, RST|ACK, FIN|ACK, FIN|ACK|URG, ACK, ACK|URG. Everything else (SYN+FIN, SYN+RST, FIN
 * without ACK, no flag at all, ...) is impossible. One bit per combination of FIN, SYN, RST,
 * ACK, URG (with PSH masked out) in a 64-bit constant.
 */
#define TCP_VALID_BIT(f) (UINT64_C(1) << (f))
static const uint64_t tcp_valid_flags =
	TCP_VALID_BIT(TH_SYN) | TCP_VALID_BIT(TH_SYN | TH_URG) | TCP_VALID_BIT(TH_SYN | TH_ACK) |
	TCP_VALID_BIT(TH_RST) | TCP_VALID_BIT(TH_RST | TH_ACK) | TCP_VALID_BIT(TH_FIN | TH_ACK) |
	TCP_VALID_BIT(TH_FIN | TH_ACK | TH_URG) | TCP_VALID_BIT(TH_ACK) |
	TCP_VALID_BIT(TH_ACK | TH_URG);

bool
ct_tcp_flags_valid(uint8_t flags)
{
	return (tcp_valid_flags >> (flags & (TH_FIN | TH_SYN | TH_RST | TH_ACK | TH_URG))) & 1;
}

static enum tcp_fclass
flag_class(uint8_t f)
{
	if (f & TH_RST)
		return F_RST;
	if (f & TH_SYN)
		return (f & TH_ACK) ? F_SYNACK : F_SYN;
	if (f & TH_FIN)
		return F_FIN;
	if (f & TH_ACK)
		return F_ACK;
	return F_NONE;
}

enum ct_reason
ct_tcp_new_ok(const struct ct_table *t, const struct ct_pkt *p)
{
	enum tcp_fclass fc;

	if (!ct_tcp_flags_valid(p->tcp_flags))
		return CT_R_TCP_BAD_FLAGS;
	fc = flag_class(p->tcp_flags);
	if (fc == F_SYN || (t->tcp_loose && fc == F_ACK))
		return CT_R_NONE;
	return CT_R_TCP_NEW_NOT_SYN;
}

/* ---- window tracking ---- */

static inline bool
seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool
seq_after(uint32_t a, uint32_t b)
{
	return seq_before(b, a);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The per-direction window state, copied out of the entry while a segment is checked. */
struct tcp_side {
	uint32_t end, maxend, maxwin;
	uint8_t wscale, flags;
};

struct tcp_seg {
	uint32_t seq, ack, sack, end, win;
	uint8_t flags;
	const uint8_t *opt;	/* TCP options */
	unsigned int optlen;
};

/* Walk the options (RFC 9293 3.1): kind 0 ends, 1 pads, others are kind, length, data.
 * A malformed option stops the walk; nothing is read past optlen. */
#define OPT_WSCALE 3
#define OPT_SACK_PERM 4
#define OPT_SACK 5

/*
 * Walk the TCP options: the next option with a length field at or after *pos (NOPs skipped),
 * as a pointer to its kind byte (o[1] is its length); *pos moves past it. NULL at the end of
 * the list or at a malformed option, which ends the walk without reading past s->optlen.
 */
static const uint8_t *
opt_next(const struct tcp_seg *s, unsigned int *pos)
{
	unsigned int i = *pos;

	while (i < s->optlen && s->opt[i] == 1)
		i++;
	if (i + 1 >= s->optlen || s->opt[i] == 0)
		return NULL;
	if (s->opt[i + 1] < 2 || i + s->opt[i + 1] > s->optlen)
		return NULL;
	*pos = i + s->opt[i + 1];
	return s->opt + i;
}

static void
syn_options(const struct tcp_seg *s, struct tcp_side *sd)
{
	unsigned int i = 0;
	const uint8_t *o;

	sd->wscale = 0;
	sd->flags &= (uint8_t)~(CT_TD_WSCALE | CT_TD_SACK_PERM);
	while ((o = opt_next(s, &i)) != NULL) {
		if (o[0] == OPT_SACK_PERM && o[1] == 2) {
			sd->flags |= CT_TD_SACK_PERM;
		} else if (o[0] == OPT_WSCALE && o[1] == 3) {
			/* RFC 7323 2.3: shifts above 14 are used as 14 */
			sd->wscale = RTE_MIN(o[2], (uint8_t)14);
			sd->flags |= CT_TD_WSCALE;
		}
	}
}

/* Highest right edge of the SACK blocks (RFC 2018), if above the cumulative ack. */
static uint32_t
sack_edge(const struct tcp_seg *s)
{
	uint32_t best = s->ack;
	unsigned int i = 0, j;
	const uint8_t *o;

	while ((o = opt_next(s, &i)) != NULL) {
		if (o[0] == OPT_SACK && o[1] >= 10 && (o[1] - 2) % 8 == 0) {
			for (j = 2; j + 8 <= o[1]; j += 8) {
				uint32_t right = rd32(o + j + 4);

				if (seq_after(right, best))
					best = right;
			}
		}
	}
	return best;
}

/* an ACK may lag far behind on big windows; at least 66000 as netfilter's MAXACKWINCONST */
static inline uint32_t
max_ack_window(const struct tcp_side *snd)
{
	return RTE_MAX(snd->maxwin, (uint32_t)66000);
}

/*
 * Is the segment inside the window? Updates snd/rcv (copies) when it is. The four bounds:
 *  I   seq <= snd.maxend                     (not beyond what the receiver can accept)
 *  II  end >= snd.end - rcv.maxwin          (not older than one window: retransmissions ok)
 *  III sack <= rcv.end                       (does not ack data never sent)
 *  IV  sack >= rcv.end - max_ack_window      (not an ancient ack)
 */
static bool
in_window(struct tcp_side *snd, struct tcp_side *rcv, struct tcp_seg *s,
	  enum ct_tcp_state state, uint8_t dir)
{
	uint32_t seq = s->seq, end = s->end, ack = s->ack, sack = s->sack, win = s->win;
	bool syn = (s->flags & TH_SYN) != 0, has_ack = (s->flags & TH_ACK) != 0;

	if (snd->maxwin == 0) {
		/* first segment from this side */
		if (syn) {
			snd->end = snd->maxend = end;
			snd->maxwin = win != 0 ? win : 1;
			syn_options(s, snd);
			/* initial SYN: nothing to check against yet, and the peer's options are
			 * unknown, so the scale it offered stays until the SYN/ACK says */
			if (!has_ack)
				return true;
			/* SYN/ACK: RFC 7323 2.2, scaling only if both sides offered it */
			if (!((snd->flags & CT_TD_WSCALE) && (rcv->flags & CT_TD_WSCALE)))
				snd->wscale = rcv->wscale = 0;
		} else {
			/* mid-stream pickup: trust this segment */
			uint32_t w = win << snd->wscale;

			snd->end = end;
			snd->maxwin = w != 0 ? w : 1;
			snd->maxend = end + snd->maxwin;
			if (rcv->maxwin == 0)
				rcv->end = rcv->maxend = sack;
		}
	} else if (((state == CT_TCP_SYN_SENT && dir == CT_DIR_ORIG) ||
		    (state == CT_TCP_SYN_RECV && dir == CT_DIR_REPLY)) && syn &&
		   seq_after(end, snd->end)) {
		/* SYN (or SYN/ACK) sent again with a new initial sequence number */
		snd->end = snd->maxend = end;
		snd->maxwin = win != 0 ? win : 1;
		syn_options(s, snd);
	}

	if (!has_ack) {
		ack = sack = rcv->end;
	} else if ((s->flags & TH_RST) && ack == 0) {
		/* RST|ACK with ack 0: some stacks do it (netfilter: "broken TCP stacks") */
		ack = sack = rcv->end;
	}
	/* Empty segments are checked at their own seq like any other (as netfilter does):
	 * taking them at the current edge let any empty segment with a plausible ack through
	 * and widen maxwin and maxend. RSTs are judged by rst_action() before this. */
	if (!(!seq_after(seq, snd->maxend) &&
	      !seq_before(end, snd->end - rcv->maxwin) &&
	      !seq_after(sack, rcv->end) &&
	      !seq_before(sack, rcv->end - max_ack_window(snd))))
		return false;

	if (!syn)
		win <<= snd->wscale;
	/* the sender's window, extended by what it selectively acknowledged */
	{
		uint32_t swin = win + (sack - ack);

		if (snd->maxwin < swin)
			snd->maxwin = swin;
	}
	if (seq_after(end, snd->end)) {
		snd->end = end;
		snd->flags |= CT_TD_UNACKED;
	}
	if (rcv->maxwin != 0 && seq_after(end, snd->maxend))
		rcv->maxwin += end - snd->maxend;
	if (seq_after(sack + win, rcv->maxend - 1)) {
		rcv->maxend = sack + win;
		if (win == 0)
			rcv->maxend++;	/* room for a zero-window probe */
	}
	if (ack == rcv->end)
		rcv->flags &= (uint8_t)~CT_TD_UNACKED;
	return true;
}

static void
side_load(const struct ct_conn *c, unsigned int d, struct tcp_side *sd)
{
	sd->end = c->td_end[d];
	sd->maxend = c->td_maxend[d];
	sd->maxwin = c->td_maxwin[d];
	sd->wscale = c->td_wscale[d];
	sd->flags = c->td_flags[d];
}

/* CT_TD_PEND is left as it is (only the pend_* functions below set or clear it), and so is
 * CT_TD_SEEN (ct_update's) */
static void
side_store(struct ct_conn *c, unsigned int d, const struct tcp_side *sd)
{
	const uint8_t keep = CT_TD_PEND | CT_TD_SEEN;

	c->td_end[d] = sd->end;
	c->td_maxend[d] = sd->maxend;
	c->td_maxwin[d] = sd->maxwin;
	c->td_wscale[d] = sd->wscale;
	c->td_flags[d] = (uint8_t)((sd->flags & ~keep) | (c->td_flags[d] & keep));
}

static void
seg_read(struct tcp_seg *s, const struct ct_pkt *p, const uint8_t *buf)
{
	const uint8_t *th = buf + p->l4_off;
	unsigned int doff = (unsigned int)(p->payload_off - p->l4_off);

	s->flags = p->tcp_flags;
	s->seq = rd32(th + 4);
	s->ack = rd32(th + 8);
	s->win = (uint32_t)(th[14] << 8 | th[15]);
	s->end = s->seq + p->payload_len + ((s->flags & TH_SYN) ? 1 : 0) +
		 ((s->flags & TH_FIN) ? 1 : 0);
	s->opt = th + 20;
	s->optlen = doff > 20 ? doff - 20 : 0;
	s->sack = s->ack;
}

/*
 * ESTABLISHED with data outstanding gets the shorter TCP_UNACK timeout, so that a dead peer
 * is noticed sooner (netfilter's nf_conntrack_tcp_timeout_unacknowledged). Bulk transfers
 * flip between "data outstanding" and "all acknowledged" on nearly every segment; moving the
 * entry between two lists each time would touch two neighbouring entries per packet. So an
 * entry moves to the UNACK list once and then stays there, its `expire` following the
 * current timeout (the established one once everything is acknowledged). The reaper re-checks
 * such an entry every UNACK period and re-queues it; expire never drops below check_at, so
 * the reaper is never late.
 */
static void
established_timer(struct ct_table *t, struct ct_conn *c, ct_time_t now)
{
	bool unacked = ((c->td_flags[0] | c->td_flags[1]) & CT_TD_UNACKED) != 0;

	if (t->timeout[CT_TC_TCP_UNACK] >= t->timeout[CT_TC_TCP_ESTABLISHED] ||
	    (!unacked && c->tclass != CT_TC_TCP_UNACK)) {
		ct_set_class_refresh(t, c, CT_TC_TCP_ESTABLISHED, now);
		return;
	}
	ct_set_class_refresh(t, c, CT_TC_TCP_UNACK, now);
	if (!unacked)
		c->expire = ct_expiry(t, CT_TC_TCP_ESTABLISHED, now);
}

/*
 * ---- pending: segments passed without a state change, and their answers ----
 *
 * A segment from one side (the "prober") that we let through unchanged waits for the other
 * side's answer: a SYN of the originator in a live connection, a RST in window but not at
 * rcv.nxt, an ACK of the responder to a SYN (then the prober is the originator, whose RST
 * answers it). What is remembered lives in a slot beside the table (struct ct_tcp_pend):
 * the SYN (seq, end, window, options) and, for each side, the last ack it sent since, i.e.
 * its rcv.nxt, the seq an answering RST carries (RFC 9293 3.10.7.3: <SEQ=SEG.ACK><CTL=RST>).
 * The record goes when the prober carries on in the old connection (an ordinary in-window
 * segment from it), when the answer came, or when another connection takes the slot; the
 * last only costs the shortcut (a client whose SYN was passed retransmits it, a reset
 * connection then closes at its timeout, as before).
 */
#define PEND_SYN	0x01	/* an originator SYN was passed in a live connection */
#define PEND_LA		0x02	/* ... in LAST_ACK: the next responder ACK is its challenge ACK */
#define PEND_ACK0	0x04	/* ack[CT_DIR_ORIG] valid */
#define PEND_ACK1	0x08	/* ack[CT_DIR_REPLY] valid */
#define PEND_PROBER1	0x10	/* the prober is the responder (else the originator) */

#define PEND_ACK(d) ((d) == CT_DIR_ORIG ? PEND_ACK0 : PEND_ACK1)

static inline struct ct_tcp_pend *
pend_slot(struct ct_table *t, const struct ct_conn *c)
{
	return &t->tcp_pend[ct_conn_idx(t, c) & (CT_TCP_PEND_SLOTS - 1)];
}

/* The connection's record, or NULL: none, or another connection took the slot since. */
static inline struct ct_tcp_pend *
pend_find(struct ct_table *t, struct ct_conn *c)
{
	struct ct_tcp_pend *pd;

	if (likely(!(c->td_flags[CT_DIR_ORIG] & CT_TD_PEND)))
		return NULL;
	pd = pend_slot(t, c);
	if (pd->conn == ct_conn_idx(t, c) + 1)
		return pd;
	c->td_flags[CT_DIR_ORIG] &= (uint8_t)~CT_TD_PEND;
	return NULL;
}

/* The record of c (pd, if it has one already), taking the slot if needed. */
static struct ct_tcp_pend *
pend_arm(struct ct_table *t, struct ct_conn *c, struct ct_tcp_pend *pd, uint8_t prober)
{
	if (pd != NULL)
		return pd;
	pd = pend_slot(t, c);
	memset(pd, 0, sizeof(*pd));
	pd->conn = ct_conn_idx(t, c) + 1;
	pd->flags = prober == CT_DIR_REPLY ? PEND_PROBER1 : 0;
	c->td_flags[CT_DIR_ORIG] |= CT_TD_PEND;
	return pd;
}

static void
pend_drop(struct ct_conn *c, struct ct_tcp_pend *pd)
{
	if (pd != NULL)
		pd->conn = 0;
	c->td_flags[CT_DIR_ORIG] &= (uint8_t)~CT_TD_PEND;
}

static inline uint8_t
pend_prober(const struct ct_tcp_pend *pd)
{
	return (pd->flags & PEND_PROBER1) ? CT_DIR_REPLY : CT_DIR_ORIG;
}

static inline void
pend_note_ack(struct ct_tcp_pend *pd, const struct tcp_seg *s, uint8_t dir)
{
	if (s->flags & TH_ACK) {
		pd->ack[dir] = s->ack;
		pd->flags |= PEND_ACK(dir);
	}
}

/* Does ack acknowledge the SYN passed (its seq + 1, up to its data: TFO, RFC 7413)? */
static inline bool
pend_acks_syn(const struct ct_tcp_pend *pd, uint32_t ack)
{
	return (pd->flags & PEND_SYN) && !seq_before(ack, pd->syn_seq + 1) &&
	       !seq_after(ack, pd->syn_end);
}

/* a) The originator's SYN in a live connection: passed, remembered (netfilter: ignored
 * packet a). A live peer answers it with a challenge ACK (RFC 5961 4.2), a peer that lost
 * the old connection with a SYN/ACK or a RST; nothing is refreshed. */
static void
syn_passed(struct ct_table *t, struct ct_conn *c, struct ct_tcp_pend *pd,
	   const struct tcp_seg *s, uint8_t old)
{
	struct tcp_side sd;

	memset(&sd, 0, sizeof(sd));
	syn_options(s, &sd);
	pd = pend_arm(t, c, pd, CT_DIR_ORIG);
	pd->syn_seq = s->seq;
	pd->syn_end = s->end;
	pd->syn_win = (uint16_t)s->win;
	pd->syn_opt = (uint8_t)((sd.flags & (CT_TD_WSCALE | CT_TD_SACK_PERM)) | sd.wscale << 4);
	pd->flags = (uint8_t)((pd->flags & ~(PEND_PROBER1 | PEND_LA)) | PEND_SYN |
			      (old == CT_TCP_LAST_ACK ? PEND_LA : 0));
	CT_STAT_INC(t, tcp_ignored);
}

/* The originator's side as the remembered SYN made it (what in_window does for a SYN). */
static void
side_from_syn(const struct ct_tcp_pend *pd, struct tcp_side *o)
{
	memset(o, 0, sizeof(*o));
	o->end = o->maxend = pd->syn_end;
	o->maxwin = pd->syn_win != 0 ? pd->syn_win : 1;
	o->wscale = pd->syn_opt >> 4;
	o->flags = pd->syn_opt & (CT_TD_WSCALE | CT_TD_SACK_PERM);
}

/*
 * The originator's RST shows its old connection gone, and the SYN passed is the live one:
 * the entry becomes that new connection, in SYN_SENT. Same entry, same NAT mapping; TCP
 * state and the assured/replied bits reinitialised. (A SYN/ACK for the SYN does the same
 * into SYN_RECV, on the ordinary path: ct_tcp_update, "resync".)
 */
static void
reinit_syn_sent(struct ct_table *t, struct ct_conn *c, struct ct_tcp_pend *pd, ct_time_t now)
{
	struct tcp_side o, r;

	side_from_syn(pd, &o);
	memset(&r, 0, sizeof(r));
	pend_drop(c, pd);
	c->status &= (uint16_t)~(CT_ST_SEEN_REPLY | CT_ST_ASSURED | CT_ST_SEQ_ADJUST);
	c->tcp_state = CT_TCP_SYN_SENT;
	side_store(c, CT_DIR_ORIG, &o);
	side_store(c, CT_DIR_REPLY, &r);
	/* a new connection's timer, from now */
	ct_set_class(t, c, CT_TC_TCP_SYN_SENT, now, true);
	CT_STAT_INC(t, tcp_reinit);
}

/* RFC 5961 3.2 checks a RST's seq against the receive window, nothing else: bounds I and II
 * of in_window (a side never seen, as after a mid-stream pickup, has no bound yet). */
static bool
rst_in_window(const struct ct_conn *c, uint8_t dir, uint32_t seq)
{
	if (c->td_maxwin[dir] == 0)
		return true;
	return !seq_after(seq, c->td_maxend[dir]) &&
	       !seq_before(seq, c->td_end[dir] - c->td_maxwin[!dir]);
}

enum rst_act { RST_CLOSE, RST_PASS, RST_KEEP, RST_REINIT };

/*
 * What a RST does (RFC 5961 3.2; RFC 9293 3.10.7). The receiver's rcv.nxt, as far as we can
 * know it: the sender's next seq (all it sent, as we forwarded it), or the last ack the
 * receiver sent while something of ours waited for an answer (which is how a challenge ACK
 * tells it). Only those close; another seq in window passes and closes nothing (counted),
 * outside the window it is dropped.
 */
static enum ct_reason
rst_action(const struct ct_conn *c, const struct ct_tcp_pend *pd, const struct tcp_seg *s,
	   uint8_t dir, uint8_t old, bool liberal, enum rst_act *act)
{
	bool answer;

	*act = RST_CLOSE;
	if (old == CT_TCP_SYN_SENT && dir == CT_DIR_REPLY) {
		/* acceptable only if it acknowledges the SYN (RFC 9293 3.10.7.3, RFC 5961 3.2):
		 * "connection refused" carries ack = SYN seq + its length = what it sent */
		if (!(s->flags & TH_ACK) || s->ack != c->td_end[CT_DIR_ORIG])
			return CT_R_TCP_RST_BAD_ACK;
		return CT_R_NONE;
	}
	if (pd != NULL && dir == CT_DIR_REPLY && (s->flags & TH_ACK) && pend_acks_syn(pd, s->ack))
		/* the responder refused the SYN we passed: no old connection left there either
		 * (netfilter: RST to a SYN let through); its seq may be 0, not checked */
		return CT_R_NONE;
	answer = pd != NULL && (pd->flags & PEND_ACK(!dir)) && s->seq == pd->ack[!dir];
	if (answer || s->seq == c->td_end[dir]) {
		if (pd != NULL && (pd->flags & PEND_SYN) && dir == CT_DIR_ORIG)
			*act = RST_REINIT;	/* the old connection is gone, the SYN is live */
		else if (answer && old == CT_TCP_SYN_SENT)
			/* RFC 9293 3.10.7.3: a SYN_SENT end answers an unacceptable ACK with
			 * <SEQ=SEG.ACK><CTL=RST> and stays in SYN_SENT; so does the entry
			 * (netfilter closes it and lets the next SYN reopen it) */
			*act = RST_KEEP;
		return CT_R_NONE;
	}
	if (!rst_in_window(c, dir, s->seq) && !liberal)
		return CT_R_TCP_RST_OUT_OF_WINDOW;
	*act = RST_PASS;
	return CT_R_NONE;
}

static enum ct_reason
tcp_rst(struct ct_table *t, struct ct_conn *c, struct ct_tcp_pend *pd, const struct tcp_seg *s,
	uint8_t dir, uint8_t old, ct_time_t now)
{
	enum rst_act act;
	enum ct_reason r = rst_action(c, pd, s, dir, old, t->tcp_liberal, &act);

	if (r != CT_R_NONE)
		return r;
	switch (act) {
	case RST_PASS:
		/* nothing changes, not even the timer: the receiver's challenge ACK follows */
		(void)pend_arm(t, c, pd, dir);
		CT_STAT_INC(t, tcp_rst_challenged);
		break;
	case RST_KEEP:
		pd->flags &= (uint8_t)~PEND_ACK(!dir);
		CT_STAT_INC(t, tcp_ignored);
		break;
	case RST_REINIT:
		reinit_syn_sent(t, c, pd, now);
		break;
	case RST_CLOSE:
		pend_drop(c, pd);
		c->tcp_state = CT_TCP_CLOSE;
		if (dir == CT_DIR_REPLY)
			c->status |= CT_ST_SEEN_REPLY;
		/* a RST never extends the life of a connection */
		ct_set_class(t, c, CT_TC_TCP_CLOSE, now, false);
		break;
	}
	return CT_R_NONE;
}

/*
 * Segments that a marker in the table or a pending record make special. Returns true when
 * the segment was dealt with (*why: CT_R_NONE to pass it), false for the ordinary path
 * (*resync set for a SYN/ACK acknowledging the SYN passed). Passed segments change no
 * state and refresh nothing (and the responder's do not count as a reply: no SEEN_REPLY,
 * unlike netfilter, so that they cannot make an entry unevictable).
 */
static bool
tcp_special(struct ct_table *t, struct ct_conn *c, struct ct_tcp_pend *pd,
	    const struct tcp_seg *s, uint8_t dir, uint8_t old, uint8_t next, bool *resync,
	    enum ct_reason *why)
{
	*why = CT_R_NONE;
	if (next == sIS) {
		syn_passed(t, c, pd, s, old);
		return true;
	}
	if (next == sIA) {
		/* c) an ACK from the responder to our SYN: a peer still in an older connection
		 * on the tuple sends its challenge ACK, whose ack the originator's RST carries */
		pd = pend_arm(t, c, pd, CT_DIR_ORIG);
		pend_note_ack(pd, s, dir);
		CT_STAT_INC(t, tcp_ignored);
		return true;
	}
	if (pd != NULL && dir == CT_DIR_REPLY &&
	    (s->flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK) && pend_acks_syn(pd, s->ack)) {
		/* b) the responder accepts the SYN we passed: its old connection is gone */
		*resync = true;
		return false;
	}
	if (next == sIV) {
		*why = CT_R_TCP_BAD_TRANSITION;
		return true;
	}
	if (pd == NULL)
		return false;
	if (old == CT_TCP_LAST_ACK && dir == CT_DIR_REPLY && (pd->flags & PEND_LA) &&
	    !(s->flags & (TH_SYN | TH_FIN | TH_RST))) {
		/* the challenge ACK to a SYN passed in LAST_ACK is not the ACK of the last FIN
		 * (netfilter: "challenge-ack ignored") */
		pd->flags &= (uint8_t)~PEND_LA;
		pend_note_ack(pd, s, dir);
		return true;
	}
	return false;
}

/*
 * The established fast path: a plain ACK segment (PSH, ECE, CWR allowed) in ESTABLISHED,
 * no pending record, both sides seen. It is in_window() for exactly that case, on the entry
 * itself (no copies), with the same four bounds and the same updates; so the verdict and
 * the state it leaves are the full path's. A segment it cannot judge that way (out of the
 * window: the full path gives the verdict, tcp_liberal included; SACK blocks to read) goes
 * to the full path with nothing changed. Returns true when it dealt with the segment.
 */
static inline bool
tcp_established_fast(struct ct_table *t, struct ct_conn *c, const struct ct_pkt *p,
		     const uint8_t *buf, ct_time_t now)
{
	const uint8_t *th = buf + p->l4_off;
	unsigned int d = p->dir, r = !p->dir;
	unsigned int optlen = (unsigned int)(p->payload_off - p->l4_off) - 20;
	uint32_t seq, ack, win, end;

	if (unlikely(c->td_maxwin[d] == 0 || c->td_maxwin[r] == 0))
		return false;	/* a side never seen (mid-stream pickup): full path */
	/* the sack edge matters only when the receiver allowed SACK (as in ct_tcp_update);
	 * NOP, NOP, timestamps is what a SACK-less Linux segment carries */
	if (optlen != 0 && (c->td_flags[r] & CT_TD_SACK_PERM) &&
	    !(optlen == 12 && rd32(th + 20) == 0x0101080a))
		return false;
	seq = rd32(th + 4);
	ack = rd32(th + 8);
	win = (uint32_t)(th[14] << 8 | th[15]) << c->td_wscale[d];
	end = seq + p->payload_len;
	/* in_window's bounds I-IV with sack = ack */
	if (seq_after(seq, c->td_maxend[d]) || seq_before(end, c->td_end[d] - c->td_maxwin[r]) ||
	    seq_after(ack, c->td_end[r]) ||
	    seq_before(ack, c->td_end[r] - RTE_MAX(c->td_maxwin[d], (uint32_t)66000)))
		return false;
	if (c->td_maxwin[d] < win)
		c->td_maxwin[d] = win;
	if (seq_after(end, c->td_end[d])) {
		c->td_end[d] = end;
		c->td_flags[d] |= CT_TD_UNACKED;
	}
	if (seq_after(end, c->td_maxend[d]))
		c->td_maxwin[r] += end - c->td_maxend[d];
	if (seq_after(ack + win, c->td_maxend[r] - 1)) {
		c->td_maxend[r] = ack + win;
		if (win == 0)
			c->td_maxend[r]++;	/* room for a zero-window probe */
	}
	if (ack == c->td_end[r])
		c->td_flags[r] &= (uint8_t)~CT_TD_UNACKED;
	if (d == CT_DIR_REPLY)
		c->status |= CT_ST_SEEN_REPLY;
	if (c->status & CT_ST_SEEN_REPLY)
		c->status |= CT_ST_ASSURED;
	established_timer(t, c, now);
	return true;
}

/*
 * ct_update for the established fast path (app/gw_fast.c), here for the TCP shortcut to
 * inline into it: the packets of a connection that saw both directions, which change no
 * state. For them ct_update() would run the UDP tracker's "stream" case or the TCP
 * tracker's established shortcut, count the packet and refresh the timer; this does the
 * same, with the general case's checks (ICMP error, first packet of a direction, helper,
 * sequence adjustment) folded into one status test, and leaves everything else to
 * ct_update(). It also hands back what the rewrite needs from the entry, in cache now:
 * the other direction's tuple and the checksum delta the app stored.
 */
const struct ct_tuple *
ct_update_fast(struct ct_table *t, struct ct_pkt *p, const uint8_t *buf, ct_time_t now,
	       uint16_t *ck_delta)
{
	struct ct_conn *c = p->conn;
	unsigned int d = p->dir;
	const uint16_t need = CT_ST_SEEN_REPLY | CT_ST_ASSURED | ct_st_fast_bits(d, false);
	const uint16_t deny = CT_ST_HELPER | CT_ST_SEQ_ADJUST | CT_ST_DYING | CT_ST_RELATED;

	/* (a direction is learnt after its first packet passed ct_update, which checked that
	 * one's checksum) */
	if (unlikely((c->status & (need | deny)) != need))
		return NULL;
	ct_write_begin(c);
	if (p->tuple.proto == IPPROTO_TCP) {
		/* ct_tcp_update's first test and its shortcut, which changes nothing when it
		 * declines */
		if (unlikely((p->tcp_flags & (TH_FIN | TH_SYN | TH_RST | TH_ACK | TH_URG)) != TH_ACK ||
			     c->tcp_state != CT_TCP_ESTABLISHED ||
			     (c->td_flags[CT_DIR_ORIG] & CT_TD_PEND) ||
			     !tcp_established_fast(t, c, p, buf, now))) {
			ct_write_end(c);
			return NULL;
		}
	} else if (likely(p->tuple.proto == IPPROTO_UDP)) {
		/* ct_udp_update after the reply: ASSURED (already), class UDP_ASSURED */
		ct_set_class_refresh(t, c, CT_TC_UDP_ASSURED, now);
	} else {
		ct_write_end(c);
		return NULL;
	}
	ct_acct_count(t, c, d, p->ip_len);
	ct_write_end(c);
	*ck_delta = c->fast_ck[d];
	return &c->tuple[!d];
}

/* The L4 checksum delta of a direction: from the tuple its packets arrive with (`in`) to
 * the inverse of the other direction's, the RFC 1624 (eqn. 3) sum of the changed raw words
 * (addresses, ports) that nat_rewrite folds per packet, folded. */
static uint16_t
fast_ck_delta(const struct ct_tuple *in, const struct ct_tuple *other)
{
	uint64_t s = (uint64_t)(uint32_t)~in->src + other->dst +
		     (uint64_t)(uint32_t)~in->dst + other->src +
		     (uint16_t)~in->sport + (uint32_t)other->dport +
		     (uint16_t)~in->dport + (uint32_t)other->sport;

	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

void
ct_conn_learn_fast(struct ct_conn *c, enum ct_dir d, bool outside)
{
	uint16_t mask = ct_st_fast_mask(d), want = ct_st_fast_bits(d, outside);

	if ((c->status & mask) == want || (c->status & CT_ST_RELATED))
		return;		/* learnt; or the word is the master's id */
	ct_write_begin(c);
	if (!(c->status & (CT_ST_FAST0 | CT_ST_FAST1))) {
		/* the first direction learnt (again): both deltas, from the tuples */
		c->fast_ck[CT_DIR_ORIG] = fast_ck_delta(&c->tuple[0], &c->tuple[1]);
		c->fast_ck[CT_DIR_REPLY] = fast_ck_delta(&c->tuple[1], &c->tuple[0]);
	}
	c->status = (uint16_t)((c->status & ~mask) | want);
	ct_write_end(c);
}

enum ct_reason
ct_tcp_update(struct ct_table *t, struct ct_conn *c, const struct ct_pkt *p,
	      const uint8_t *buf, ct_time_t now)
{
	uint8_t dir = p->dir, old = c->tcp_state, next;
	bool slow, reopen = false, resync = false;
	struct ct_tcp_pend *pd = NULL;
	struct tcp_side snd, rcv;
	struct tcp_seg s;
	enum tcp_fclass fc;
	enum ct_reason r;

	/* one test keeps established data short: a plain ACK in ESTABLISHED, nothing pending */
	if (likely((p->tcp_flags & (TH_FIN | TH_SYN | TH_RST | TH_ACK | TH_URG)) == TH_ACK &&
		   old == CT_TCP_ESTABLISHED && !(c->td_flags[CT_DIR_ORIG] & CT_TD_PEND)) &&
	    tcp_established_fast(t, c, p, buf, now))
		return CT_R_NONE;
	if (!ct_tcp_flags_valid(p->tcp_flags))
		return CT_R_TCP_BAD_FLAGS;
	fc = flag_class(p->tcp_flags);
	next = tcp_trans[dir][fc][old];
	/* (a SYN/ACK in a state that takes none may answer a SYN we passed) */
	if (next == sIV && (fc != F_SYNACK || dir != CT_DIR_REPLY ||
			    !(c->td_flags[CT_DIR_ORIG] & CT_TD_PEND)))
		return old == CT_TCP_NONE && fc != F_RST ? CT_R_TCP_NEW_NOT_SYN :
							   CT_R_TCP_BAD_TRANSITION;
	if (next == sXS)
		return CT_R_TCP_SYN_IN_ESTABLISHED;
	if (old == CT_TCP_NONE && fc == F_ACK && !t->tcp_loose)
		return CT_R_TCP_NEW_NOT_SYN;
	seg_read(&s, p, buf);

	/* One test keeps the established case short: no SYN, FIN or RST, no state change, no
	 * pending record. Everything else is rare (a few segments per connection). */
	slow = (p->tcp_flags & (TH_SYN | TH_FIN | TH_RST)) || next != old ||
	       (c->td_flags[CT_DIR_ORIG] & CT_TD_PEND);
	if (unlikely(slow)) {
		/* The checksum of a segment that may create or change state, over its bytes
		 * unless the NIC did it. Established data is not checked: the endpoint drops
		 * it if bad, and we change nothing for it. */
		if (!p->l4_csum_ok && !ct_l4_csum_valid(p, buf))
			return CT_R_L4_BAD_CSUM;
		pd = pend_find(t, c);
		if ((next >= sIV || pd != NULL) &&
		    tcp_special(t, c, pd, &s, dir, old, next, &resync, &r))
			return r;
		if (fc == F_RST)
			return tcp_rst(t, c, pd, &s, dir, old, now);
		reopen = fc == F_SYN && dir == CT_DIR_ORIG &&
			 (old == CT_TCP_TIME_WAIT || old == CT_TCP_CLOSE);
	}
	if (unlikely(reopen || resync)) {
		/* a new connection on the same ports (RFC 1122 4.2.2.13; RFC 9293 3.10.7.4):
		 * forget the old one's windows, keep the entry. resync: the originator's side
		 * is the SYN passed, this SYN/ACK the responder's first segment (netfilter "b)"
		 * resyncs in place the same way) */
		memset(&snd, 0, sizeof(snd));
		memset(&rcv, 0, sizeof(rcv));
		if (resync) {
			side_from_syn(pd, &rcv);
			old = CT_TCP_SYN_SENT;
			next = CT_TCP_SYN_RECV;
		}
	} else {
		side_load(c, dir, &snd);
		side_load(c, !dir, &rcv);
	}
	if (rcv.flags & CT_TD_SACK_PERM)
		s.sack = sack_edge(&s);
	if (!in_window(&snd, &rcv, &s, (enum ct_tcp_state)old, dir) && !t->tcp_liberal)
		return CT_R_TCP_OUT_OF_WINDOW;
	side_store(c, dir, &snd);
	side_store(c, !dir, &rcv);
	if (unlikely(slow)) {
		if (pd != NULL) {
			/* the prober carrying on in the old connection: what it sent was stale
			 * or forged; the other side's acks are what an answering RST carries */
			if (reopen || resync || (dir == pend_prober(pd) && fc != F_SYN))
				pend_drop(c, pd);
			else
				pend_note_ack(pd, &s, dir);
		}
		if (reopen || resync) {
			c->status &= (uint16_t)~(CT_ST_SEEN_REPLY | CT_ST_ASSURED |
						 CT_ST_SEQ_ADJUST);
			CT_STAT_INC(t, tcp_reinit);
		}
	}

	if (next == sIG)
		next = old;
	c->tcp_state = next;
	if (dir == CT_DIR_REPLY)
		c->status |= CT_ST_SEEN_REPLY;
	/* assured once the three-way handshake completed (or a picked-up flow was answered) */
	if (next == CT_TCP_ESTABLISHED && (c->status & CT_ST_SEEN_REPLY))
		c->status |= CT_ST_ASSURED;

	if (next == CT_TCP_ESTABLISHED)
		established_timer(t, c, now);
	else
		ct_set_class(t, c, ct_tcp_state_class((enum ct_tcp_state)next), now, true);
	return CT_R_NONE;
}
