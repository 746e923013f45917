/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * natgw_port.c - the natgw executable's DPDK ports: what each is (PMD kind, queues, RX data
 * room), the mbuf pools, configuration and start (frame size and MTU, 802.1Q offloads, RSS
 * steering with our own key and RETA), and the PMD-level counters. Main lcore only, before
 * the workers start (the counters: also the telemetry thread); nothing here runs per packet.
 *
 * Mbufs: one pool for RX and what the pipeline generates, sized from what can hold mbufs
 * at once: each queue's PMD (RX and TX descriptors; net_af_xdp: its fill and TX rings;
 * net_af_packet copies in and out and keeps none), the pipeline's bounded holders
 * (gw_mbufs_held_max: ARP hold queues, handoff and TX rings, bursts), the per-lcore caches
 * and a reserve, so RX refill always finds mbufs. Reassembly holds copies in its own pools
 * (gw_frag.c). net_af_xdp (DPDK 22.11, zero copy) registers the pool's memory as its UMEM
 * assuming one chunk of objects back to back: the pool is then created with objects packed
 * (RTE_MEMPOOL_F_NO_IOVA_CONTIG), checked, and refused if it is not so, because a buffer
 * outside the UMEM given to the kernel's fill queue is discarded by it, and once the pool
 * hands out enough of those the fill queue runs dry and the port receives nothing ever
 * again (what a fragment flood did: it made the pool reach its far end). Idle workers
 * also reclaim TX completions (a zero-length tx burst), which that PMD only does on TX.
 *
 * Ports that offer RTE_ETH_TX_OFFLOAD_MULTI_SEGS get it (chained fragments go out as
 * they are); the others get single-segment fragments (gw_params.tx_multi_seg).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_random.h>

#include "natgw_port.h"

#define NATGW_RX_DESC	1024
#define NATGW_TX_DESC	1024
#define NATGW_RESERVE	2048	/* generated packets, fragment headers, slack */
#define NATGW_XDP_RING	2048	/* net_af_xdp: XSK_RING_*__DEFAULT_NUM_DESCS */
#define NATGW_TPACKET2_HDR 32	/* net_af_packet: frame bytes before the data (TPACKET2) */
#define NATGW_XDP_HEADROOM 256u	/* net_af_xdp: XDP_PACKET_HEADROOM in each UMEM chunk */
#define NATGW_XDP_ROOM_MAX 3840u	/* net_af_xdp: mbuf + data room within one 4 KiB chunk */

struct natgw_ports natgw_ports;

int
natgw_port_lookup(const char *s, uint16_t *id)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s != '\0' && *end == '\0') {
		if (v >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port((uint16_t)v))
			return -1;
		*id = (uint16_t)v;
		return 0;
	}
	return rte_eth_dev_get_port_by_name(s, id) == 0 ? 0 : -1;
}

/* net_af_packet's framesz devarg (the PMD's default 2048). */
static unsigned long
natgw_af_packet_framesz(const struct rte_eth_dev_info *info)
{
	const struct rte_devargs *da = info->device != NULL ? rte_dev_devargs(info->device) : NULL;
	const char *a = da != NULL ? da->args : NULL;
	unsigned long fs = 2048;	/* the PMD's default frame size */

	for (; a != NULL && *a != '\0'; a = strchr(a, ',') != NULL ? strchr(a, ',') + 1 : NULL)
		if (strncmp(a, "framesz=", 8) == 0)
			fs = strtoul(a + 8, NULL, 0);
	return fs;
}

/* net_af_packet: the kernel hands over frames up to its framesz devarg (datagrams it
 * reassembled included), each copied into one RX mbuf whose data room must fit it. */
static uint32_t
natgw_af_packet_room(const struct rte_eth_dev_info *info)
{
	unsigned long fs = natgw_af_packet_framesz(info);

	fs = RTE_MIN(RTE_MAX(fs, (unsigned long)RTE_MBUF_DEFAULT_DATAROOM),
		     (unsigned long)(UINT16_MAX - RTE_PKTMBUF_HEADROOM));	/* mbuf data room */
	return (uint32_t)fs + RTE_PKTMBUF_HEADROOM;
}

/* ---- PMD-level counters ----------------------------------------------------------------
 * What was lost under natgw, where its own counters cannot see it: rte_eth_stats (imissed,
 * ierrors, rx_nombuf, oerrors; net_af_xdp reports XDP_STATISTICS' rx_dropped as imissed),
 * the PMD's own xstats whose name says "drop" (the generic ethdev xstats have none), and,
 * under net_af_packet / net_af_xdp, the kernel interface's rx_dropped / tx_dropped (sysfs;
 * af_packet's ring drops, PACKET_STATISTICS tp_drops, are not exported by DPDK 22.11's PMD:
 * a full ring shows as imissed nowhere, so natgw's rx falls short of the sender's tx).
 * Main lcore and telemetry thread only: nothing here runs per packet.
 */
static void
natgw_port_ifname(unsigned int p, const struct rte_eth_dev_info *info)
{
	const struct rte_devargs *da = info->device != NULL ? rte_dev_devargs(info->device) : NULL;
	const char *a = da != NULL ? da->args : NULL;

	natgw_ports.ifname[p][0] = '\0';
	if (a == NULL || (a = strstr(a, "iface=")) == NULL)
		return;
	a += 6;
	snprintf(natgw_ports.ifname[p], sizeof(natgw_ports.ifname[p]), "%.*s",
		 (int)strcspn(a, ","), a);
}

static int
natgw_sysfs_u64(const char *ifn, const char *ctr, uint64_t *v)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifn, ctr);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	ok = fscanf(f, "%" SCNu64, v) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

int
natgw_port_hw_stats(unsigned int p, struct gw_port_hw_stats *h)
{
	uint16_t id = natgw_ports.id[p];
	struct rte_eth_xstat_name *names = NULL;
	struct rte_eth_xstat *xs = NULL;
	struct rte_eth_stats st;
	int n, i;

	memset(h, 0, sizeof(*h));
	if (p >= GW_PORT_MAX || rte_eth_stats_get(id, &st) != 0)
		return -1;
	h->ipackets = st.ipackets;
	h->opackets = st.opackets;
	h->imissed = st.imissed;
	h->ierrors = st.ierrors;
	h->rx_nombuf = st.rx_nombuf;
	h->oerrors = st.oerrors;
	n = rte_eth_xstats_get_names(id, NULL, 0);
	if (n > 0) {
		names = calloc((size_t)n, sizeof(*names));
		xs = calloc((size_t)n, sizeof(*xs));
	}
	if (names != NULL && xs != NULL && rte_eth_xstats_get_names(id, names, n) == n &&
	    rte_eth_xstats_get(id, xs, n) == n)
		for (i = 0; i < n; i++)
			if (xs[i].id < (uint64_t)n && strstr(names[xs[i].id].name, "drop") != NULL)
				h->pmd_drops += xs[i].value;
	free(names);
	free(xs);
	if (natgw_ports.ifname[p][0] != '\0' &&
	    natgw_sysfs_u64(natgw_ports.ifname[p], "rx_dropped", &h->kernel_rx_dropped) == 0 &&
	    natgw_sysfs_u64(natgw_ports.ifname[p], "tx_dropped", &h->kernel_tx_dropped) == 0)
		h->kernel = true;
	return 0;
}

/* One line per port for the final report; a single "natgw: pmd ..." line periodically. */
void
natgw_port_stats_print(FILE *f, bool one_line)
{
	struct gw_port_hw_stats h;
	unsigned int p;

	if (one_line)
		fprintf(f, "natgw: pmd");
	for (p = 0; p < GW_PORT_MAX; p++) {
		if (natgw_port_hw_stats(p, &h) < 0)
			continue;
		fprintf(f, "%s%s rx %" PRIu64 " tx %" PRIu64 " imissed %" PRIu64 " ierrors %"
			PRIu64 " rx_nombuf %" PRIu64 " oerrors %" PRIu64 " xstats_drops %" PRIu64,
			one_line ? (p ? " | " : " ") : "  pmd ", gw_port_name(p), h.ipackets,
			h.opackets, h.imissed, h.ierrors, h.rx_nombuf, h.oerrors, h.pmd_drops);
		if (h.kernel)
			fprintf(f, " kernel %s rx_dropped %" PRIu64 " tx_dropped %" PRIu64,
				natgw_ports.ifname[p], h.kernel_rx_dropped, h.kernel_tx_dropped);
		if (!one_line)
			fputc('\n', f);
	}
	if (one_line)
		fputc('\n', f);
	fflush(f);
}

/* The largest frame side p receives: its MTU, Ethernet header, one 802.1Q tag; with both
 * sides on one port, the larger side's. */
static uint32_t
natgw_frame_len(unsigned int p)
{
	uint32_t mtu = natgw_ports.cfg->ifc[p].mtu;

	if (natgw_ports.stick)
		mtu = RTE_MAX(natgw_ports.cfg->ifc[GW_PORT_INSIDE].mtu,
			      natgw_ports.cfg->ifc[GW_PORT_OUTSIDE].mtu);
	return mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN;
}

/* What a port is (before any pool exists): PMD kind, queue count, RX data room. */
int
natgw_port_probe(unsigned int p)
{
	struct rte_eth_dev_info info;
	unsigned int nq;
	int rc;

	rc = rte_eth_dev_info_get(natgw_ports.id[p], &info);
	if (rc < 0)
		return rc;
	/* a whole frame of the side's MTU (and an 802.1Q tag a PMD may leave in it) fits one
	 * RX mbuf: no chained frames to make contiguous on the hit path (gw_frag_contig) */
	natgw_ports.rx_room[p] = RTE_MAX((uint32_t)RTE_MBUF_DEFAULT_BUF_SIZE,
				   natgw_frame_len(p) + RTE_PKTMBUF_HEADROOM);
	if (strcmp(info.driver_name, "net_af_packet") == 0) {
		natgw_ports.pmd[p] = NATGW_PMD_AF_PACKET;
		natgw_ports.rx_room[p] = RTE_MAX(natgw_ports.rx_room[p],
						 natgw_af_packet_room(&info));
	} else if (strcmp(info.driver_name, "net_af_xdp") == 0) {
		natgw_ports.pmd[p] = NATGW_PMD_AF_XDP;
		/* the UMEM chunk is the mbuf: the kernel writes the frame after XDP's own
		 * headroom (XDP_PACKET_HEADROOM, 256), inside the data room */
		natgw_ports.rx_room[p] = RTE_MAX(natgw_ports.rx_room[p],
					   RTE_MIN(natgw_frame_len(p) + RTE_PKTMBUF_HEADROOM +
						   NATGW_XDP_HEADROOM, NATGW_XDP_ROOM_MAX));
	}
	if (natgw_ports.pmd[p] != NATGW_PMD_OTHER)
		natgw_port_ifname(p, &info);
	nq = RTE_MIN(natgw_ports.n_workers,
		     (unsigned int)RTE_MIN(info.max_rx_queues, info.max_tx_queues));
	if (nq == 0 || (nq > 1 && info.flow_type_rss_offloads == 0))
		nq = 1;
	natgw_ports.nq[p] = (uint16_t)nq;
	return 0;
}

/* The most mbufs of the pool that can be away from it at once (Mbufs, top of file). */
unsigned int
natgw_pool_size(void)
{
	unsigned int p, n = 0, per_q;

	for (p = 0; p < GW_PORT_MAX; p++) {
		switch (natgw_ports.pmd[p]) {
		case NATGW_PMD_AF_PACKET:
			per_q = 0;
			break;
		case NATGW_PMD_AF_XDP:	/* fill ring + RX ring, TX ring + completions */
			per_q = 2 * NATGW_XDP_RING + 2 * RTE_MAX(NATGW_TX_DESC, NATGW_XDP_RING);
			break;
		default:
			per_q = NATGW_RX_DESC + NATGW_TX_DESC;
			break;
		}
		n += natgw_ports.nq[p] * per_q;
		/* TX handed to a queue */
		n += (natgw_ports.n_workers - natgw_ports.nq[p]) * NATGW_TXRING;
	}
	n += gw_mbufs_held_max(natgw_ports.cfg, natgw_ports.n_workers, 0);
	n += (natgw_ports.n_workers + 1) * NATGW_CACHE * 3 / 2 + NATGW_RESERVE;
	return n;
}

struct natgw_span {
	uintptr_t lo, hi;
};

static void
natgw_obj_span(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	struct natgw_span *s = arg;

	RTE_SET_USED(mp);
	RTE_SET_USED(idx);
	s->lo = RTE_MIN(s->lo, (uintptr_t)obj);
	s->hi = RTE_MAX(s->hi, (uintptr_t)obj);
}

/* An mbuf pool; packed: objects back to back in one chunk (what net_af_xdp's UMEM needs),
 * else rte_pktmbuf_pool_create's layout (objects within pages, as DMA wants). */
struct rte_mempool *
natgw_pool_create(const char *name, unsigned int n, unsigned int cache, uint32_t room,
		  bool packed)
{
	struct rte_pktmbuf_pool_private priv = { .mbuf_data_room_size = (uint16_t)room };
	struct natgw_span span = { UINTPTR_MAX, 0 };
	struct rte_mempool *mp;
	size_t stride;

	if (!packed)
		return rte_pktmbuf_pool_create(name, n, cache, 0, (uint16_t)room,
					       (int)rte_socket_id());
	mp = rte_mempool_create_empty(name, n, sizeof(struct rte_mbuf) + room, cache,
				      sizeof(priv), (int)rte_socket_id(),
				      RTE_MEMPOOL_F_NO_IOVA_CONTIG);
	if (mp == NULL)
		return NULL;
	if (rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL) != 0)
		goto fail;
	rte_pktmbuf_pool_init(mp, &priv);
	if (rte_mempool_populate_default(mp) != (int)n)
		goto fail;
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	rte_mempool_obj_iter(mp, natgw_obj_span, &span);
	stride = mp->header_size + mp->elt_size + mp->trailer_size;
	if (mp->nb_mem_chunks != 1 || span.hi - span.lo != (n - 1) * stride) {
		fprintf(stderr, "natgw: mbuf pool %s is not one packed chunk (%u chunks): "
			"net_af_xdp would lose buffers; give EAL more memory (-m)\n", name,
			mp->nb_mem_chunks);
		rte_errno = ENOMEM;
		goto fail;
	}
	return mp;
fail:
	rte_mempool_free(mp);
	return NULL;
}

/* ---- RSS steering (lib/nat/nat_rss.c) ------------------------------------------------
 * Where a port has one RX queue per worker, RSS with a settable 40/52-byte key and a RETA,
 * natgw sets both itself: the inside key makes the queue a function of the source address
 * (all of a host's flows on its owner), the outside key a function of our address and port
 * only (a reply reaches the worker that chose the port, whatever the remote: EIM), and the
 * port choice (nat_ports.c) picks ports whose replies land on the allocating worker. Both
 * are read back from the NIC; anything missing or different turns steering off on that
 * port, and the handoff rings carry what lands elsewhere, as on a port without RSS.
 */
#define NATGW_RSS_HF (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP | \
		      RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_FRAG_IPV4)

/* Decide and build port p's steering; fills conf's rss_conf when it applies. */
static bool
natgw_rss_prepare(unsigned int p, const struct rte_eth_dev_info *info, unsigned int nq,
		  struct rte_eth_conf *conf)
{
	struct nat_rss_port *rp = &natgw_ports.rss.port[p == GW_PORT_OUTSIDE ? NAT_RSS_OUTSIDE :
									   NAT_RSS_INSIDE];
	uint8_t key[NAT_RSS_KEY_MAX];
	uint16_t woq[NAT_RSS_MAX_WORKERS];
	unsigned int q, i;
	const char *why = NULL;

	memset(rp, 0, sizeof(*rp));
	if (natgw_ports.cfg->rss_off)
		why = "rss_steering off";
	else if (natgw_ports.n_workers == 1)
		why = "one worker";
	else if (nq != natgw_ports.n_workers || nq > NAT_RSS_MAX_WORKERS)
		why = "not one RX queue per worker";
	else if ((info->flow_type_rss_offloads & (RTE_ETH_RSS_NONFRAG_IPV4_TCP |
						  RTE_ETH_RSS_NONFRAG_IPV4_UDP)) !=
		 (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP))
		why = "no RSS over IPv4 TCP and UDP";
	else if (info->hash_key_size != 40 && info->hash_key_size != 52)
		why = "RSS key size not 40 or 52";
	else if (info->reta_size < 2 || info->reta_size > NAT_RSS_RETA_MAX ||
		 (info->reta_size & (info->reta_size - 1)) != 0)
		why = "RETA size not a power of two up to 2048";
	if (why != NULL) {
		snprintf(natgw_ports.rss_why[p], sizeof(natgw_ports.rss_why[p]), "off (%s)", why);
		return false;
	}
	for (i = 0; i < sizeof(key); i += 8) {
		uint64_t r = rte_rand();

		memcpy(key + i, &r, RTE_MIN(8u, (unsigned int)sizeof(key) - i));
	}
	memcpy(key, natgw_ports.cfg->rss_key,
	       RTE_MIN(natgw_ports.cfg->rss_key_len, info->hash_key_size));
	for (q = 0; q < nq; q++)
		woq[q] = (uint16_t)((q + p) % natgw_ports.n_workers);	/* main.c's workers */
	if (nat_rss_port_init(rp, p == GW_PORT_OUTSIDE ? NAT_RSS_OUTSIDE : NAT_RSS_INSIDE, key,
			      info->hash_key_size, info->reta_size, nq, woq,
			      natgw_ports.n_workers) != 0) {
		memset(rp, 0, sizeof(*rp));
		snprintf(natgw_ports.rss_why[p], sizeof(natgw_ports.rss_why[p]),
			 "off (bad RSS geometry)");
		return false;
	}
	conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	conf->rx_adv_conf.rss_conf.rss_key = rp->key;
	conf->rx_adv_conf.rss_conf.rss_key_len = rp->key_len;
	/* the plain 4-tuple of the RSS spec (no *_SRC_ONLY / *_DST_ONLY): the key does it */
	conf->rx_adv_conf.rss_conf.rss_hf = NATGW_RSS_HF & info->flow_type_rss_offloads;
	return true;
}

/* Program port p's key and RETA (after start) and read both back; off on any mismatch. */
static void
natgw_rss_program(unsigned int p)
{
	struct nat_rss_port *rp = &natgw_ports.rss.port[p == GW_PORT_OUTSIDE ? NAT_RSS_OUTSIDE :
									   NAT_RSS_INSIDE];
	struct rte_eth_rss_reta_entry64 reta[NAT_RSS_RETA_MAX / 64];
	struct rte_eth_dev_info info;
	uint8_t key[NAT_RSS_KEY_MAX];
	struct rte_eth_rss_conf rc = {
		.rss_key = rp->key, .rss_key_len = rp->key_len,
	};
	uint16_t id = natgw_ports.id[p];
	unsigned int i;
	const char *why = NULL;
	int rv;

	if (rp->reta_size == 0)
		return;
	memset(reta, 0, sizeof(reta));
	for (i = 0; i < rp->reta_size; i++) {
		reta[i / 64].mask |= UINT64_C(1) << (i % 64);
		reta[i / 64].reta[i % 64] = rp->queue[i];
	}
	rc.rss_hf = NATGW_RSS_HF;
	if (rte_eth_dev_info_get(id, &info) == 0)
		rc.rss_hf &= info.flow_type_rss_offloads;
	if (rte_eth_dev_rss_hash_update(id, &rc) != 0)
		why = "key not accepted";
	else if (rte_eth_dev_rss_reta_update(id, reta, rp->reta_size) != 0)
		why = "RETA not accepted";
	if (why == NULL) {
		struct rte_eth_rss_conf got = { .rss_key = key, .rss_key_len = rp->key_len };

		memset(key, 0, sizeof(key));
		rv = rte_eth_dev_rss_hash_conf_get(id, &got);
		if (rv == 0 && memcmp(key, rp->key, rp->key_len) != 0)
			why = "key read back differs";
		else if (rv != 0 && rv != -ENOTSUP)
			why = "key cannot be read back";
	}
	if (why == NULL) {
		memset(reta, 0, sizeof(reta));
		for (i = 0; i < rp->reta_size; i++)
			reta[i / 64].mask |= UINT64_C(1) << (i % 64);
		if (rte_eth_dev_rss_reta_query(id, reta, rp->reta_size) != 0) {
			why = "RETA cannot be read back";
		} else {
			for (i = 0; i < rp->reta_size && why == NULL; i++)
				if (reta[i / 64].reta[i % 64] != rp->queue[i])
					why = "RETA read back differs";
		}
	}
	if (why != NULL) {
		memset(rp, 0, sizeof(*rp));
		snprintf(natgw_ports.rss_why[p], sizeof(natgw_ports.rss_why[p]), "off (%s)", why);
		return;
	}
	snprintf(natgw_ports.rss_why[p], sizeof(natgw_ports.rss_why[p]),
		 "on (RETA %u, key %u bytes)",
		 rp->reta_size, rp->key_len);
}

/*
 * Frame size and 802.1Q offloads of port p in its rte_eth_conf: rxmode.mtu is the side's
 * MTU (ethdev checks it against the port's min/max MTU; the PMD derives its largest RX
 * frame from it); RX scatter where a frame does not fit one mbuf of the pool (natgw sizes
 * the data room from the MTU, natgw_port_probe, so only a PMD with smaller RX buffers needs
 * it); VLAN strip / insert where a side is tagged and the port offers them (else
 * app/gw_vlan.c does it in software). 0 or a negative errno (message printed).
 */
static int
natgw_port_l2_conf(unsigned int p, const struct rte_eth_dev_info *info,
		   struct rte_eth_conf *conf)
{
	uint32_t frame = natgw_frame_len(p);
	uint32_t mtu = frame - RTE_ETHER_HDR_LEN - RTE_VLAN_HLEN;
	bool tagged = natgw_ports.cfg->ifc[p].vlan != 0 ||
		      (natgw_ports.stick && natgw_ports.cfg->ifc[GW_PORT_OUTSIDE].vlan != 0);

	if (natgw_ports.pmd[p] == NATGW_PMD_AF_PACKET) {
		/* DPDK 22.11's net_af_packet reports a 1518-byte max_rx_pktlen whatever its
		 * framesz (ethdev then refuses any MTU over 1500): its frames are sized by the
		 * devarg and the kernel interface's MTU (natgw_af_packet_mtu) instead */
		unsigned long fs = natgw_af_packet_framesz(info);

		if (mtu + RTE_ETHER_HDR_LEN > fs - NATGW_TPACKET2_HDR) {
			fprintf(stderr, "natgw: %s port %u (net_af_packet): framesz=%lu holds "
				"frames of %lu bytes, mtu %u needs framesz >= %u (--vdev "
				"...,framesz=N)\n", gw_port_name(p), natgw_ports.id[p], fs,
				fs - NATGW_TPACKET2_HDR, mtu,
				mtu + RTE_ETHER_HDR_LEN + NATGW_TPACKET2_HDR);
			return -EINVAL;
		}
	} else if (mtu > info->max_mtu || mtu < info->min_mtu) {
		fprintf(stderr, "natgw: %s port %u (%s): mtu %u not supported (port: %u..%u)\n",
			gw_port_name(p), natgw_ports.id[p], info->driver_name, mtu, info->min_mtu,
			info->max_mtu);
		return -EINVAL;
	} else if (natgw_ports.pmd[p] == NATGW_PMD_AF_XDP &&
		   frame + RTE_PKTMBUF_HEADROOM + NATGW_XDP_HEADROOM > natgw_ports.rx_room[p]) {
		fprintf(stderr, "natgw: %s port %u (net_af_xdp): a frame of mtu %u does not fit "
			"a UMEM chunk (one page with the mbuf): largest mtu %u\n", gw_port_name(p),
			natgw_ports.id[p], mtu, natgw_ports.rx_room[p] - RTE_PKTMBUF_HEADROOM -
			NATGW_XDP_HEADROOM - RTE_ETHER_HDR_LEN - RTE_VLAN_HLEN);
		return -EINVAL;
	} else if (frame > info->max_rx_pktlen) {
		fprintf(stderr, "natgw: %s port %u (%s): frames of mtu %u (%u bytes) are over the "
			"port's largest RX frame (%u)\n", gw_port_name(p), natgw_ports.id[p],
			info->driver_name, mtu, frame, info->max_rx_pktlen);
		return -EINVAL;
	} else {
		conf->rxmode.mtu = mtu;
	}
	if (frame + RTE_PKTMBUF_HEADROOM > natgw_ports.rx_room[p]) {
		if ((info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) == 0) {
			fprintf(stderr, "natgw: %s port %u (%s): a frame of mtu %u does not fit "
				"an RX mbuf (%u) and the port has no RX scatter\n",
				gw_port_name(p), natgw_ports.id[p], info->driver_name, mtu,
				natgw_ports.rx_room[p] - RTE_PKTMBUF_HEADROOM);
			return -EINVAL;
		}
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	}
	if (tagged && (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_VLAN_STRIP))
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
	natgw_ports.tx_vlan[p] = tagged && (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_VLAN_INSERT);
	if (natgw_ports.tx_vlan[p])
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_VLAN_INSERT;
	return 0;
}

/*
 * The port's MTU, after configure: a port that cannot take it (a NIC over its limit; for
 * net_af_packet the kernel interface's MTU, set as the PMD would) is an error, never
 * ignored. A PMD without an MTU
 * operation (net_pcap, net_null, net_ring) has no link to size: said once, not fatal.
 */
static int
natgw_af_packet_mtu(unsigned int p, uint32_t mtu)
{
	struct ifreq ifr;
	int fd, rc = 0;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%.*s", (int)sizeof(ifr.ifr_name) - 1,
		 natgw_ports.ifname[p]);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFMTU, &ifr) < 0) {
		rc = -errno;
	} else if ((uint32_t)ifr.ifr_mtu != mtu) {
		ifr.ifr_mtu = (int)mtu;
		if (ioctl(fd, SIOCSIFMTU, &ifr) < 0)
			rc = -errno;
	}
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		fprintf(stderr, "natgw: %s port %u (net_af_packet): cannot set mtu %u on interface "
			"%s: %s\n", gw_port_name(p), natgw_ports.id[p], mtu, natgw_ports.ifname[p],
			strerror(-rc));
	return rc;
}

static int
natgw_port_set_mtu(unsigned int p)
{
	uint32_t mtu = natgw_frame_len(p) - RTE_ETHER_HDR_LEN - RTE_VLAN_HLEN;
	int rc;

	/* what the PMD's own mtu_set does (SIOCSIFMTU), past ethdev's 1518-byte check */
	if (natgw_ports.pmd[p] == NATGW_PMD_AF_PACKET)
		return natgw_af_packet_mtu(p, mtu);
	rc = rte_eth_dev_set_mtu(natgw_ports.id[p], (uint16_t)mtu);

	if (rc == -ENOTSUP) {
		if (mtu != RTE_ETHER_MTU)
			fprintf(stderr, "natgw: %s port %u: the PMD cannot set an MTU; mtu %u is "
				"natgw's limit only\n", gw_port_name(p), natgw_ports.id[p], mtu);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "natgw: %s port %u: cannot set mtu %u: %s%s\n", gw_port_name(p),
			natgw_ports.id[p], mtu, rte_strerror(-rc),
			natgw_ports.pmd[p] == NATGW_PMD_AF_PACKET ?
			" (net_af_packet: its framesz devarg must hold the frame; and the "
			"interface's MTU must be settable)" : "");
		return rc;
	}
	return 0;
}

int
natgw_port_init(unsigned int p, struct rte_mempool *pool)
{
	uint16_t id = natgw_ports.id[p];
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nrx = NATGW_RX_DESC, ntx = NATGW_TX_DESC, q, nq = natgw_ports.nq[p];
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(id, &info);
	if (rc < 0)
		return rc;
	/* chained fragments as they are where the port can send them; this also keeps a
	 * PMD off vector TX paths that would not */
	natgw_ports.multi_seg[p] = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
	if (natgw_ports.multi_seg[p])
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	rc = natgw_port_l2_conf(p, &info, &conf);
	if (rc < 0)
		return rc;
	if (natgw_rss_prepare(p, &info, nq, &conf)) {
		/* RSS steering: key and hash fields set (natgw_rss_prepare) */
	} else if (nq > 1 && info.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = NATGW_RSS_HF & info.flow_type_rss_offloads;
		/* inside: all flows of a host to one queue (DESIGN.md "Ownership") */
		if (p == GW_PORT_INSIDE && (info.flow_type_rss_offloads & RTE_ETH_RSS_L3_SRC_ONLY))
			conf.rx_adv_conf.rss_conf.rss_hf |= RTE_ETH_RSS_L3_SRC_ONLY;
	}
	rc = rte_eth_dev_configure(id, nq, nq, &conf);
	if (rc < 0)
		return rc;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &nrx, &ntx);
	if (rc < 0)
		return rc;
	for (q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(id, q, nrx, rte_eth_dev_socket_id(id), NULL, pool);
		if (rc < 0)
			return rc;
		rc = rte_eth_tx_queue_setup(id, q, ntx, rte_eth_dev_socket_id(id), NULL);
		if (rc < 0)
			return rc;
	}
	rc = natgw_port_set_mtu(p);
	if (rc < 0)
		return rc;
	rc = rte_eth_dev_start(id);
	if (rc < 0)
		return rc;
	natgw_rss_program(p);
	rte_eth_promiscuous_enable(id);	/* best effort; the pipeline checks the MAC */
	return 0;
}
