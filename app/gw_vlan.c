/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_vlan.c - 802.1Q on natgw's two sides: which side a received frame belongs to, taking
 * the tag off on the way in and putting the side's tag on on the way out. The rest of the
 * pipeline (parse, handoff between workers, ARP, ICMP, fragments) only ever sees untagged
 * frames whose m->port is the logical side, so everything natgw sends, generated or
 * forwarded, leaves through gw_tx_flush and gets its side's tag there.
 *
 * What is accepted (IEEE 802.1Q-2018 6.9, as a Linux VLAN subinterface over a trunk):
 *  - on a tagged side, frames tagged with its VLAN id; untagged and priority-tagged frames
 *    (VID 0: "no VLAN", 802.1Q 9.6) are GW_DROP_VLAN_UNTAGGED, other ids GW_DROP_VLAN_OTHER;
 *  - with both sides on one port (router on a stick, both tagged with different ids) the id
 *    alone says the side;
 *  - on an untagged side (the other one tagged, on its own port), untagged and
 *    priority-tagged frames; a tagged one is GW_DROP_VLAN_OTHER (gw_stage1 for configs
 *    without any VLAN, which never come here).
 * QinQ (802.1ad, 0x88a8 outer tags) is not taken: such a frame is not 802.1Q-tagged.
 *
 * The tag may already be off: a PMD with RTE_ETH_RX_OFFLOAD_VLAN_STRIP (or net_af_packet,
 * whose kernel hands the tag over beside the frame) sets RTE_MBUF_F_RX_VLAN_STRIPPED and
 * m->vlan_tci. On the way out the PMD inserts it where the port offers
 * RTE_ETH_TX_OFFLOAD_VLAN_INSERT (gw_params.tx_vlan_offload), else it is pushed here into
 * the headroom. Only a burst's worth of branches is added to untagged configurations.
 */
#include <string.h>

#include "gw_private.h"

#define GW_VLAN_VID_MASK	0x0fff
#define GW_VLAN_HLEN		4	/* TPID + TCI */

/* The frame's VLAN id as received (0: untagged or priority-tagged), and whether the tag is
 * still in the frame. */
static inline uint16_t
gw_vlan_peek(const struct rte_mbuf *m, bool *in_frame)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_vlan_hdr *vh = (const struct rte_vlan_hdr *)(eth + 1);

	*in_frame = false;
	if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)
		return m->vlan_tci & GW_VLAN_VID_MASK;
	if (m->data_len < RTE_ETHER_HDR_LEN + GW_VLAN_HLEN ||
	    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN))
		return 0;
	*in_frame = true;
	return rte_be_to_cpu_16(vh->vlan_tci) & GW_VLAN_VID_MASK;
}

/* Take the tag out of the frame: the MAC addresses move up over it. */
static inline void
gw_vlan_strip(struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	memmove(p + GW_VLAN_HLEN, p, 2 * RTE_ETHER_ADDR_LEN);
	rte_pktmbuf_adj(m, GW_VLAN_HLEN);
}

/* The side a frame with VLAN id vid (0: none) received on `port` belongs to, or the drop. */
static inline enum gw_drop
gw_vlan_side(const struct gw *g, unsigned int port, uint16_t vid, unsigned int *side)
{
	if (g->trunk) {
		if (vid == 0)
			return GW_DROP_VLAN_UNTAGGED;
		if (vid == g->cfg.ifc[GW_PORT_INSIDE].vlan)
			*side = GW_PORT_INSIDE;
		else if (vid == g->cfg.ifc[GW_PORT_OUTSIDE].vlan)
			*side = GW_PORT_OUTSIDE;
		else
			return GW_DROP_VLAN_OTHER;
		return GW_DROP_NONE;
	}
	*side = port;
	if (vid == g->cfg.ifc[port].vlan)
		return GW_DROP_NONE;
	return vid == 0 ? GW_DROP_VLAN_UNTAGGED : GW_DROP_VLAN_OTHER;
}

uint16_t
gw_vlan_rx(struct gw_worker *w, unsigned int port, struct rte_mbuf **pkts, uint16_t n)
{
	const struct gw *g = w->g;
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		unsigned int side = port;
		enum gw_drop why;
		bool in_frame;
		uint16_t vid;

		m->port = (uint16_t)port;
		if (unlikely(m->data_len < RTE_ETHER_HDR_LEN)) {
			w->st.rx[port]++;
			pkts[k++] = m;		/* gw_stage1 drops it (L2_TRUNCATED) */
			continue;
		}
		vid = gw_vlan_peek(m, &in_frame);
		why = gw_vlan_side(g, port, vid, &side);
		w->st.rx[side]++;
		if (why != GW_DROP_NONE) {
			gw_count_drop(w, m, why);
			continue;
		}
		/* the tag (priority tags too) is off before the pipeline sees the frame */
		if (in_frame)
			gw_vlan_strip(m);
		m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED);
		m->vlan_tci = 0;
		m->port = (uint16_t)side;
		pkts[k++] = m;
	}
	return k;
}

/* Push tag vid into the frame (in the headroom). Only into a direct mbuf nobody else
 * holds: the header of a fragment (gw_frag.c) is one, its data segments are not touched. */
static inline int
gw_vlan_push(struct rte_mbuf *m, uint16_t vid)
{
	struct rte_vlan_hdr *vh;
	struct rte_ether_hdr *eth;
	uint8_t *p;

	if (!RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) != 1 ||
	    rte_pktmbuf_headroom(m) < GW_VLAN_HLEN || m->data_len < RTE_ETHER_HDR_LEN)
		return -1;
	p = (uint8_t *)rte_pktmbuf_prepend(m, GW_VLAN_HLEN);
	/* the addresses move down; the original ethertype stays where the inner one goes */
	memmove(p, p + GW_VLAN_HLEN, 2 * RTE_ETHER_ADDR_LEN);
	eth = (struct rte_ether_hdr *)p;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
	vh = (struct rte_vlan_hdr *)(eth + 1);
	vh->vlan_tci = rte_cpu_to_be_16(vid);	/* PCP 0, DEI 0 */
	return 0;
}

void
gw_vlan_tx(struct gw_worker *w, unsigned int port, struct gw_txbuf *b)
{
	uint16_t vid = w->g->cfg.ifc[port].vlan, i, k = 0;

	if (w->g->tx_vlan_offload[port]) {
		for (i = 0; i < b->n; i++) {
			b->m[i]->vlan_tci = vid;
			b->m[i]->ol_flags |= RTE_MBUF_F_TX_VLAN;
		}
		return;
	}
	for (i = 0; i < b->n; i++) {
		struct rte_mbuf *m = b->m[i];

		if (unlikely(gw_vlan_push(m, vid) < 0)) {
			gw_count_drop(w, m, GW_DROP_VLAN_PUSH);
			continue;
		}
		b->m[k++] = m;
	}
	b->n = k;
}
