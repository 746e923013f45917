/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c - the natgw executable: EAL, command line, configuration, port setup (one RX/TX
 * queue pair per worker where the port has enough, RSS on the inside hashing the source
 * address), the worker lcores' poll loops with idle back-off, the control plane on the main
 * lcore (telemetry, pdump, periodic stats) and a clean stop on SIGINT/SIGTERM with the
 * final counters.
 *
 * Queues: queue q of port p belongs to worker (q + p) % workers. A worker without an RX
 * queue on a port does not poll it: the queue's worker receives for it and hands packets
 * to their owner (gw.h). A worker without a TX queue on a port passes what it sends
 * through an SP/SC ring to the worker that has the queue, which transmits it, so no TX
 * queue is shared and nothing locks.
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
 * Ports that offer RTE_ETH_TX_OFFLOAD_MULTI_SEGS get it (chained fragments go out as
 * they are); the others get single-segment fragments (gw_params.tx_multi_seg).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_pdump.h>
#include <rte_ring.h>
#include <rte_version.h>

#include "gw.h"
#include "gw_ctl.h"

#define NATGW_RX_DESC	1024
#define NATGW_TX_DESC	1024
#define NATGW_TXRING	1024
#define NATGW_CACHE	256
#define NATGW_RESERVE	2048	/* generated packets, fragment headers, slack */
#define NATGW_XDP_RING	2048	/* net_af_xdp: XSK_RING_*__DEFAULT_NUM_DESCS */
#define NATGW_RECLAIM_US 1000	/* idle: TX completions reclaimed this often */
#define NATGW_TPACKET2_HDR 32	/* net_af_packet: frame bytes before the data (TPACKET2) */
#define NATGW_XDP_HEADROOM 256u	/* net_af_xdp: XDP_PACKET_HEADROOM in each UMEM chunk */
#define NATGW_XDP_ROOM_MAX 3840u	/* net_af_xdp: mbuf + data room within one 4 KiB chunk */

enum natgw_pmd {
	NATGW_PMD_OTHER = 0,
	NATGW_PMD_AF_PACKET,	/* copies frames in and out: holds no mbufs */
	NATGW_PMD_AF_XDP,	/* the pool is its UMEM: fill, RX and TX rings hold mbufs */
};

struct natgw_wk {
	unsigned int idx;
	unsigned int lcore;
	struct gw_worker *w;
	int rxq[GW_PORT_MAX];			/* -1: none */
	int txq[GW_PORT_MAX];			/* -1: through txring */
	struct rte_ring *txring[GW_PORT_MAX];	/* when txq < 0: to the queue's worker */
	struct rte_ring *drain[GW_PORT_MAX][GW_MAX_WORKERS];	/* rings this one transmits */
	unsigned int n_drain[GW_PORT_MAX];
};

static volatile int natgw_stop;
static volatile int natgw_hup;	/* SIGHUP: reload (app/gw_ctl_reload.c) */
static uint16_t natgw_port_id[GW_PORT_MAX];
static uint16_t natgw_nq[GW_PORT_MAX];
static enum natgw_pmd natgw_pmd[GW_PORT_MAX];
static uint32_t natgw_rx_room[GW_PORT_MAX];	/* data room the port's RX needs */
static bool natgw_multi_seg[GW_PORT_MAX];
static bool natgw_tx_vlan[GW_PORT_MAX];		/* the PMD inserts 802.1Q tags */
static bool natgw_stick;			/* both sides on one port (VLAN trunk) */
static struct natgw_wk natgw_wk[GW_MAX_WORKERS];
static unsigned int natgw_n_workers;
static struct gw_config natgw_cfg;
static struct gw_log *natgw_log;	/* events and NAT logging (app/gw_event.h) */
static uint64_t natgw_tsc_hz;
static char natgw_ifname[GW_PORT_MAX][32];	/* af_packet/af_xdp: the kernel interface */

static ct_time_t
natgw_clock(void)
{
	return (ct_time_t)((unsigned __int128)rte_rdtsc() * 1000000u / natgw_tsc_hz);
}

/* sessions across a restart (app/gw_snapshot.c, docs/operations.md "Snapshot") */
static const char *natgw_save_path;		/* --save: written on SIGTERM */
static const char *natgw_restore_path;		/* --restore */
static bool natgw_restore_empty;		/* --restore-fallback empty */
static volatile int natgw_stop_sig;

static void
natgw_signal(int sig)
{
	natgw_stop_sig = sig;
	natgw_stop = 1;
}

/* a clock that runs across a restart: the time natgw was down comes off the timeouts */
static uint64_t
natgw_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* SIGHUP: reload the configuration (the main loop does it: app/gw_ctl_reload.c) */
static void
natgw_sighup(int sig)
{
	RTE_SET_USED(sig);
	natgw_hup = 1;
}

/* reload: [workers] stats_interval is the main loop's own (the rest: app/gw_ctl_reload.c) */
static void
natgw_reload_apply(const struct gw_config *next, char *touched, size_t len, void *arg)
{
	RTE_SET_USED(arg);
	if (next->stats_interval != natgw_cfg.stats_interval)
		snprintf(touched, len, "%u -> %u s", natgw_cfg.stats_interval,
			 next->stats_interval);
	natgw_cfg.stats_interval = next->stats_interval;
}

static int natgw_cfg_read(struct gw_config *c, char *err, size_t errlen);

/* Connection events and NAT logging ([log], app/gw_event.h): the main lcore drains the
 * workers' event rings to `natgw-ctl events` streams, syslog and IPFIX; event times are the
 * workers' clock, made wall-clock times with the offset between the two taken now. */
static int
natgw_log_setup(struct gw *g)
{
	struct timespec ts;
	int64_t wall;
	char err[512];

	clock_gettime(CLOCK_REALTIME, &ts);
	wall = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	natgw_log = gw_log_create(g, &natgw_cfg.log, wall - (int64_t)natgw_clock(), err,
				  sizeof(err));
	if (natgw_log == NULL) {
		fprintf(stderr, "natgw: %s\n", err);
		return -1;
	}
	if (gw_log_ctl_register(natgw_log) < 0) {
		fprintf(stderr, "natgw: events/log commands not registered\n");
		return -1;
	}
	return 0;
}

/* `natgw-ctl save [file=PATH]`: the workers pause between bursts (natgw_worker_main) while
 * the state is copied into memory, and go on before the file is written (gw_snapshot_take,
 * gw_snapshot_write); the pause is the copy's time, bounded by the tables' size. */
static volatile int natgw_pause;
static volatile int natgw_paused[GW_MAX_WORKERS];

/* Pause every worker between bursts (natgw_worker_main) and wait up to 1 s for them: 0, or
 * -1 (resumed again) with the number that did not pause in *late. */
static int
natgw_workers_pause(unsigned int *late)
{
	unsigned int i, n = 0, tries;

	__atomic_store_n(&natgw_pause, 1, __ATOMIC_SEQ_CST);
	for (tries = 0; tries < 10000 && n < natgw_n_workers; tries++) {
		for (i = 0, n = 0; i < natgw_n_workers; i++)
			n += __atomic_load_n(&natgw_paused[i], __ATOMIC_ACQUIRE) != 0;
		if (n < natgw_n_workers)
			rte_delay_us_sleep(100);
	}
	*late = natgw_n_workers - n;
	if (n < natgw_n_workers) {
		__atomic_store_n(&natgw_pause, 0, __ATOMIC_SEQ_CST);
		return -1;
	}
	return 0;
}

static void
natgw_workers_resume(void)
{
	__atomic_store_n(&natgw_pause, 0, __ATOMIC_SEQ_CST);
}

/* reload: [untracked] rules are read by every worker on every packet, in place: they are
 * replaced while the workers are paused between bursts (a few microseconds) */
static void
natgw_reload_untracked(const struct gw_config *next, char *touched, size_t len, void *arg)
{
	unsigned int late;

	if (next->n_untracked == natgw_cfg.n_untracked &&
	    memcmp(next->untracked, natgw_cfg.untracked,
		   next->n_untracked * sizeof(next->untracked[0])) == 0)
		return;
	if (natgw_workers_pause(&late) < 0) {
		snprintf(touched, len, "NOT applied: %u worker(s) did not pause within 1 s", late);
		return;
	}
	gw_set_untracked(arg, next->untracked, next->n_untracked);
	natgw_workers_resume();
	snprintf(touched, len, "%u -> %u rules", natgw_cfg.n_untracked, next->n_untracked);
	memcpy(natgw_cfg.untracked, next->untracked,
	       next->n_untracked * sizeof(next->untracked[0]));
	natgw_cfg.n_untracked = next->n_untracked;
}

static void
natgw_ctl_save(const struct gw_ctl_req *req, struct gw_ctl_reply *rp, void *arg)
{
	static const char *const allowed[] = { "file", NULL };
	const char *path = gw_ctl_req_str(req, "file"), *bad = gw_ctl_req_unknown(req, allowed);
	struct gw_snapshot_stats st;
	struct gw_snapshot_buf *b;
	uint64_t t0 = natgw_wall_us(), paused_us;
	unsigned int late;
	char err[512];

	if (bad != NULL) {
		gw_ctl_reply_error(rp, "save: unknown option '%s' (file)", bad);
		return;
	}
	if (path == NULL)
		path = natgw_save_path;
	if (path == NULL) {
		gw_ctl_reply_error(rp, "save: no file: natgw was started without --save FILE "
				   "(give file=PATH)");
		return;
	}
	if (natgw_workers_pause(&late) < 0) {
		gw_ctl_reply_error(rp, "save: %u of %u workers did not pause within 1 s",
				   late, natgw_n_workers);
		return;
	}
	b = gw_snapshot_take(arg, natgw_clock(), natgw_wall_us(), &st, err, sizeof(err));
	natgw_workers_resume();
	paused_us = natgw_wall_us() - t0;
	if (b == NULL || gw_snapshot_write(b, path, err, sizeof(err)) < 0) {
		gw_ctl_reply_error(rp, "%s", err);
		return;
	}
	gw_ctl_json_str(rp, "file", path);
	gw_ctl_json_u64(rp, "connections", st.conns);
	gw_ctl_json_u64(rp, "mappings", st.maps);
	gw_ctl_json_u64(rp, "helper_records", st.helpers);
	gw_ctl_json_u64(rp, "expectations", st.expects);
	gw_ctl_json_u64(rp, "paused_us", paused_us);
}

/* The control channel (app/gw_ctl.h): commands, worker rings, the socket. Without the
 * socket (in use, no permission) natgw runs on, uncontrolled, and says so. */
static int
natgw_ctl_setup(struct gw *g)
{
	const char *path = natgw_cfg.ctl_socket[0] != '\0' ? natgw_cfg.ctl_socket :
			   GW_CTL_SOCKET_DEFAULT;
	char err[512];

	if (gw_ctl_cmds_init(g, &natgw_cfg, natgw_clock, natgw_cfg_read, err, sizeof(err)) < 0 ||
	    gw_ctl_reload_hook("stats_interval", NULL, natgw_reload_apply, NULL) < 0 ||
	    gw_ctl_reload_hook("untracked", NULL, natgw_reload_untracked, g) < 0) {
		fprintf(stderr, "natgw: control: %s\n", err);
		return -1;
	}
	if (gw_ctl_register("save", natgw_ctl_save, g) < 0)
		fprintf(stderr, "natgw: control: save command not registered\n");
	if (strcmp(path, "off") == 0) {
		printf("  control socket off\n");
		return 0;
	}
	if (gw_ctl_open(path, err, sizeof(err)) < 0)
		fprintf(stderr, "natgw: control channel off: %s\n", err);
	else
		printf("  control socket %s (tools/natgw-ctl)\n", path);
	return 0;
}

static void
natgw_usage(FILE *f)
{
	fprintf(f,
"usage: natgw [EAL options] -- --config FILE [options]\n"
"\n"
"A stateful NAT gateway between an inside and an outside DPDK port (docs/config.md).\n"
"Workers are the EAL worker lcores: -l 0-2 is main lcore 0 + workers 1 and 2.\n"
"\n"
"Options (override the configuration file):\n"
"  --config FILE           configuration file (required)\n"
"  --inside PORT           inside port: DPDK port id or device name (net_tap0, 0000:01:00.0)\n"
"  --outside PORT          outside port, as --inside\n"
"  --stats-interval S      print a one-line summary every S seconds (0: off)\n"
"  --idle-sleep-us N       sleep N us when idle polls accumulate (0: busy poll)\n"
"  --capacity N            connections per worker\n"
"  --timeout CLASS=TIME    conntrack timeout of a class (udp_unreplied=30, tcp_established=2h)\n"
"  --ctl-socket PATH       control socket ([control] socket; default /run/natgw/ctl.sock, off)\n"
"  --check-config          load and check the configuration, then exit (0: valid)\n"
"  --save FILE             on SIGTERM, write the sessions to FILE (snapshot; SIGINT: not)\n"
"  --restore FILE          start with the sessions of snapshot FILE\n"
"  --restore-fallback exit|empty  FILE missing, corrupt, foreign or of another pool:\n"
"                          exit 1 (default) or start with no sessions (says so)\n"
"  --help                  this text\n"
"\n"
"Stop with SIGINT or SIGTERM: prints the final counters and exits 0.\n"
"Control: tools/natgw-ctl over the control socket (list, flush, forward, timeout, reload ...;\n"
"docs/operations.md), SIGHUP reloads the configuration; dpdk-telemetry.py (/natgw/stats,\n"
"/natgw/drops, /natgw/conns, /natgw/config), tools/natgw-conntrack (conntrack -L style),\n"
"dpdk-dumpcap (pdump is enabled).\n"
"\n"
"Examples:\n"
"  natgw --no-huge -m 512 --no-shconf --file-prefix ngw -l 0-1 \\\n"
"        --vdev net_pcap0,rx_pcap=in.pcap,tx_pcap=o0.pcap \\\n"
"        --vdev net_pcap1,rx_pcap=out.pcap,tx_pcap=o1.pcap -- --config config/lab.ini \\\n"
"        --inside net_pcap0 --outside net_pcap1\n"
"  natgw -l 0-1 --vdev net_af_packet0,iface=nat-in --vdev net_af_packet1,iface=nat-out \\\n"
"        -- --config config/lab.ini\n");
}

/* The command line's overrides of the file, kept: a reload (SIGHUP, natgw-ctl reload) reads
 * the file again and applies them again (app/gw_ctl_reload.c). */
struct natgw_overrides {
	const char *cfgpath, *inside, *outside, *ctl_socket;
	const char *timeouts[32];
	unsigned int nt;
	long stats, idle, cap;
};
static struct natgw_overrides natgw_ov = { .stats = -1, .idle = -1, .cap = -1 };

/* The configuration file with the command line's overrides, checked (gw_ctl_load_fn). */
static int
natgw_cfg_read(struct gw_config *c, char *err, size_t errlen)
{
	const struct natgw_overrides *o = &natgw_ov;
	unsigned int i;
	size_t l;

	gw_config_default(c);
	if (gw_config_load(c, o->cfgpath, err, errlen) < 0)
		return -1;
	if (o->inside != NULL)
		snprintf(c->ifc[GW_PORT_INSIDE].port, sizeof(c->ifc[0].port), "%s", o->inside);
	if (o->outside != NULL)
		snprintf(c->ifc[GW_PORT_OUTSIDE].port, sizeof(c->ifc[0].port), "%s", o->outside);
	if (o->stats >= 0)
		c->stats_interval = (uint32_t)o->stats;
	if (o->idle >= 0)
		c->idle_sleep_us = (uint32_t)o->idle;
	if (o->cap > 0)
		c->capacity = (uint32_t)o->cap;
	if (o->ctl_socket != NULL) {
		if (strlen(o->ctl_socket) >= sizeof(c->ctl_socket)) {
			snprintf(err, errlen, "natgw: --ctl-socket: path longer than %zu bytes",
				 sizeof(c->ctl_socket) - 1);
			return -1;
		}
		snprintf(c->ctl_socket, sizeof(c->ctl_socket), "%s", o->ctl_socket);
	}
	for (i = 0; i < o->nt; i++)
		if (gw_config_timeout(c, o->timeouts[i], err, errlen) < 0) {
			l = strlen(err);
			memmove(err + 7, err, RTE_MIN(l + 1, errlen - 7));
			memcpy(err, "natgw: ", 7);
			err[errlen - 1] = '\0';
			return -1;
		}
	return gw_config_check(c, err, errlen);
}

static int
natgw_args(int argc, char **argv, bool *check_only)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "inside", required_argument, NULL, 'i' },
		{ "outside", required_argument, NULL, 'o' },
		{ "stats-interval", required_argument, NULL, 's' },
		{ "idle-sleep-us", required_argument, NULL, 'S' },
		{ "capacity", required_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 't' },
		{ "ctl-socket", required_argument, NULL, 'X' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "save", required_argument, NULL, 'W' },
		{ "restore", required_argument, NULL, 'R' },
		{ "restore-fallback", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct natgw_overrides *o = &natgw_ov;
	char err[512];
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o->cfgpath = optarg; break;
		case 'i': o->inside = optarg; break;
		case 'o': o->outside = optarg; break;
		case 's': o->stats = strtol(optarg, NULL, 10); break;
		case 'S': o->idle = strtol(optarg, NULL, 10); break;
		case 'C': o->cap = strtol(optarg, NULL, 10); break;
		case 'X': o->ctl_socket = optarg; break;
		case 't':
			if (o->nt == RTE_DIM(o->timeouts)) {
				fprintf(stderr, "natgw: too many --timeout\n");
				return -1;
			}
			o->timeouts[o->nt++] = optarg;
			break;
		case 'k': *check_only = true; break;
		case 'W': natgw_save_path = optarg; break;
		case 'R': natgw_restore_path = optarg; break;
		case 'F':
			if (strcmp(optarg, "exit") != 0 && strcmp(optarg, "empty") != 0) {
				fprintf(stderr, "natgw: --restore-fallback %s: want exit or empty\n",
					optarg);
				return -1;
			}
			natgw_restore_empty = strcmp(optarg, "empty") == 0;
			break;
		case 'h': natgw_usage(stdout); exit(0);
		default: natgw_usage(stderr); return -1;
		}
	}
	if (optind != argc || o->cfgpath == NULL) {
		fprintf(stderr, "natgw: --config FILE is required (see --help)\n");
		return -1;
	}
	if (natgw_cfg_read(&natgw_cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int
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

	natgw_ifname[p][0] = '\0';
	if (a == NULL || (a = strstr(a, "iface=")) == NULL)
		return;
	a += 6;
	snprintf(natgw_ifname[p], sizeof(natgw_ifname[p]), "%.*s", (int)strcspn(a, ","), a);
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

static int
natgw_port_hw_stats(unsigned int p, struct gw_port_hw_stats *h)
{
	uint16_t id = natgw_port_id[p];
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
	if (natgw_ifname[p][0] != '\0' &&
	    natgw_sysfs_u64(natgw_ifname[p], "rx_dropped", &h->kernel_rx_dropped) == 0 &&
	    natgw_sysfs_u64(natgw_ifname[p], "tx_dropped", &h->kernel_tx_dropped) == 0)
		h->kernel = true;
	return 0;
}

/* One line per port for the final report; a single "natgw: pmd ..." line periodically. */
static void
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
				natgw_ifname[p], h.kernel_rx_dropped, h.kernel_tx_dropped);
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
	uint32_t mtu = natgw_cfg.ifc[p].mtu;

	if (natgw_stick)
		mtu = RTE_MAX(natgw_cfg.ifc[GW_PORT_INSIDE].mtu,
			      natgw_cfg.ifc[GW_PORT_OUTSIDE].mtu);
	return mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN;
}

/* What a port is (before any pool exists): PMD kind, queue count, RX data room. */
static int
natgw_port_probe(unsigned int p)
{
	struct rte_eth_dev_info info;
	unsigned int nq;
	int rc;

	rc = rte_eth_dev_info_get(natgw_port_id[p], &info);
	if (rc < 0)
		return rc;
	/* a whole frame of the side's MTU (and an 802.1Q tag a PMD may leave in it) fits one
	 * RX mbuf: no chained frames to make contiguous on the hit path (gw_frag_contig) */
	natgw_rx_room[p] = RTE_MAX((uint32_t)RTE_MBUF_DEFAULT_BUF_SIZE,
				   natgw_frame_len(p) + RTE_PKTMBUF_HEADROOM);
	if (strcmp(info.driver_name, "net_af_packet") == 0) {
		natgw_pmd[p] = NATGW_PMD_AF_PACKET;
		natgw_rx_room[p] = RTE_MAX(natgw_rx_room[p], natgw_af_packet_room(&info));
	} else if (strcmp(info.driver_name, "net_af_xdp") == 0) {
		natgw_pmd[p] = NATGW_PMD_AF_XDP;
		/* the UMEM chunk is the mbuf: the kernel writes the frame after XDP's own
		 * headroom (XDP_PACKET_HEADROOM, 256), inside the data room */
		natgw_rx_room[p] = RTE_MAX(natgw_rx_room[p],
					   RTE_MIN(natgw_frame_len(p) + RTE_PKTMBUF_HEADROOM +
						   NATGW_XDP_HEADROOM, NATGW_XDP_ROOM_MAX));
	}
	if (natgw_pmd[p] != NATGW_PMD_OTHER)
		natgw_port_ifname(p, &info);
	nq = RTE_MIN(natgw_n_workers,
		     (unsigned int)RTE_MIN(info.max_rx_queues, info.max_tx_queues));
	if (nq == 0 || (nq > 1 && info.flow_type_rss_offloads == 0))
		nq = 1;
	natgw_nq[p] = (uint16_t)nq;
	return 0;
}

/* The most mbufs of the pool that can be away from it at once (Mbufs, top of file). */
static unsigned int
natgw_pool_size(void)
{
	unsigned int p, n = 0, per_q;

	for (p = 0; p < GW_PORT_MAX; p++) {
		switch (natgw_pmd[p]) {
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
		n += natgw_nq[p] * per_q;
		n += (natgw_n_workers - natgw_nq[p]) * NATGW_TXRING;	/* TX handed to a queue */
	}
	n += gw_mbufs_held_max(&natgw_cfg, natgw_n_workers, 0);
	n += (natgw_n_workers + 1) * NATGW_CACHE * 3 / 2 + NATGW_RESERVE;
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
static struct rte_mempool *
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
static struct nat_rss natgw_rss;
static char natgw_rss_why[GW_PORT_MAX][96];

#define NATGW_RSS_HF (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP | \
		      RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_FRAG_IPV4)

/* Decide and build port p's steering; fills conf's rss_conf when it applies. */
static bool
natgw_rss_prepare(unsigned int p, const struct rte_eth_dev_info *info, unsigned int nq,
		  struct rte_eth_conf *conf)
{
	struct nat_rss_port *rp = &natgw_rss.port[p == GW_PORT_OUTSIDE ? NAT_RSS_OUTSIDE :
									   NAT_RSS_INSIDE];
	uint8_t key[NAT_RSS_KEY_MAX];
	uint16_t woq[NAT_RSS_MAX_WORKERS];
	unsigned int q, i;
	const char *why = NULL;

	memset(rp, 0, sizeof(*rp));
	if (natgw_cfg.rss_off)
		why = "rss_steering off";
	else if (natgw_n_workers == 1)
		why = "one worker";
	else if (nq != natgw_n_workers || nq > NAT_RSS_MAX_WORKERS)
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
		snprintf(natgw_rss_why[p], sizeof(natgw_rss_why[p]), "off (%s)", why);
		return false;
	}
	for (i = 0; i < sizeof(key); i += 8) {
		uint64_t r = rte_rand();

		memcpy(key + i, &r, RTE_MIN(8u, (unsigned int)sizeof(key) - i));
	}
	memcpy(key, natgw_cfg.rss_key, RTE_MIN(natgw_cfg.rss_key_len, info->hash_key_size));
	for (q = 0; q < nq; q++)
		woq[q] = (uint16_t)((q + p) % natgw_n_workers);	/* natgw_workers_setup */
	if (nat_rss_port_init(rp, p == GW_PORT_OUTSIDE ? NAT_RSS_OUTSIDE : NAT_RSS_INSIDE, key,
			      info->hash_key_size, info->reta_size, nq, woq,
			      natgw_n_workers) != 0) {
		memset(rp, 0, sizeof(*rp));
		snprintf(natgw_rss_why[p], sizeof(natgw_rss_why[p]), "off (bad RSS geometry)");
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
	struct nat_rss_port *rp = &natgw_rss.port[p == GW_PORT_OUTSIDE ? NAT_RSS_OUTSIDE :
									   NAT_RSS_INSIDE];
	struct rte_eth_rss_reta_entry64 reta[NAT_RSS_RETA_MAX / 64];
	struct rte_eth_dev_info info;
	uint8_t key[NAT_RSS_KEY_MAX];
	struct rte_eth_rss_conf rc = {
		.rss_key = rp->key, .rss_key_len = rp->key_len,
	};
	uint16_t id = natgw_port_id[p];
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
		snprintf(natgw_rss_why[p], sizeof(natgw_rss_why[p]), "off (%s)", why);
		return;
	}
	snprintf(natgw_rss_why[p], sizeof(natgw_rss_why[p]), "on (RETA %u, key %u bytes)",
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
	bool tagged = natgw_cfg.ifc[p].vlan != 0 ||
		      (natgw_stick && natgw_cfg.ifc[GW_PORT_OUTSIDE].vlan != 0);

	if (natgw_pmd[p] == NATGW_PMD_AF_PACKET) {
		/* DPDK 22.11's net_af_packet reports a 1518-byte max_rx_pktlen whatever its
		 * framesz (ethdev then refuses any MTU over 1500): its frames are sized by the
		 * devarg and the kernel interface's MTU (natgw_af_packet_mtu) instead */
		unsigned long fs = natgw_af_packet_framesz(info);

		if (mtu + RTE_ETHER_HDR_LEN > fs - NATGW_TPACKET2_HDR) {
			fprintf(stderr, "natgw: %s port %u (net_af_packet): framesz=%lu holds "
				"frames of %lu bytes, mtu %u needs framesz >= %u (--vdev "
				"...,framesz=N)\n",
				gw_port_name(p), natgw_port_id[p], fs, fs - NATGW_TPACKET2_HDR, mtu,
				mtu + RTE_ETHER_HDR_LEN + NATGW_TPACKET2_HDR);
			return -EINVAL;
		}
	} else if (mtu > info->max_mtu || mtu < info->min_mtu) {
		fprintf(stderr, "natgw: %s port %u (%s): mtu %u not supported (port: %u..%u)\n",
			gw_port_name(p), natgw_port_id[p], info->driver_name, mtu, info->min_mtu,
			info->max_mtu);
		return -EINVAL;
	} else if (natgw_pmd[p] == NATGW_PMD_AF_XDP &&
		   frame + RTE_PKTMBUF_HEADROOM + NATGW_XDP_HEADROOM > natgw_rx_room[p]) {
		fprintf(stderr, "natgw: %s port %u (net_af_xdp): a frame of mtu %u does not fit "
			"a UMEM chunk (one page with the mbuf): largest mtu %u\n", gw_port_name(p),
			natgw_port_id[p], mtu, natgw_rx_room[p] - RTE_PKTMBUF_HEADROOM -
			NATGW_XDP_HEADROOM - RTE_ETHER_HDR_LEN - RTE_VLAN_HLEN);
		return -EINVAL;
	} else if (frame > info->max_rx_pktlen) {
		fprintf(stderr, "natgw: %s port %u (%s): frames of mtu %u (%u bytes) are over the "
			"port's largest RX frame (%u)\n", gw_port_name(p), natgw_port_id[p],
			info->driver_name, mtu, frame, info->max_rx_pktlen);
		return -EINVAL;
	} else {
		conf->rxmode.mtu = mtu;
	}
	if (frame + RTE_PKTMBUF_HEADROOM > natgw_rx_room[p]) {
		if ((info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) == 0) {
			fprintf(stderr, "natgw: %s port %u (%s): a frame of mtu %u does not fit "
				"an RX mbuf (%u) and the port has no RX scatter\n",
				gw_port_name(p), natgw_port_id[p], info->driver_name, mtu,
				natgw_rx_room[p] - RTE_PKTMBUF_HEADROOM);
			return -EINVAL;
		}
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	}
	if (tagged && (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_VLAN_STRIP))
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
	natgw_tx_vlan[p] = tagged && (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_VLAN_INSERT);
	if (natgw_tx_vlan[p])
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
		 natgw_ifname[p]);
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
			"%s: %s\n", gw_port_name(p), natgw_port_id[p], mtu, natgw_ifname[p],
			strerror(-rc));
	return rc;
}

static int
natgw_port_set_mtu(unsigned int p)
{
	uint32_t mtu = natgw_frame_len(p) - RTE_ETHER_HDR_LEN - RTE_VLAN_HLEN;
	int rc;

	/* what the PMD's own mtu_set does (SIOCSIFMTU), past ethdev's 1518-byte check */
	if (natgw_pmd[p] == NATGW_PMD_AF_PACKET)
		return natgw_af_packet_mtu(p, mtu);
	rc = rte_eth_dev_set_mtu(natgw_port_id[p], (uint16_t)mtu);

	if (rc == -ENOTSUP) {
		if (mtu != RTE_ETHER_MTU)
			fprintf(stderr, "natgw: %s port %u: the PMD cannot set an MTU; mtu %u is "
				"natgw's limit only\n", gw_port_name(p), natgw_port_id[p], mtu);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "natgw: %s port %u: cannot set mtu %u: %s%s\n", gw_port_name(p),
			natgw_port_id[p], mtu, rte_strerror(-rc),
			natgw_pmd[p] == NATGW_PMD_AF_PACKET ?
			" (net_af_packet: its framesz devarg must hold the frame; and the "
			"interface's MTU must be settable)" : "");
		return rc;
	}
	return 0;
}

static int
natgw_port_init(unsigned int p, struct rte_mempool *pool)
{
	uint16_t id = natgw_port_id[p];
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nrx = NATGW_RX_DESC, ntx = NATGW_TX_DESC, q, nq = natgw_nq[p];
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(id, &info);
	if (rc < 0)
		return rc;
	/* chained fragments as they are where the port can send them; this also keeps a
	 * PMD off vector TX paths that would not */
	natgw_multi_seg[p] = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
	if (natgw_multi_seg[p])
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	rc = natgw_port_l2_conf(p, &info, &conf);
	if (rc < 0)
		return rc;
	if (natgw_rss_prepare(p, &info, nq, &conf)) {
		/* RSS steering: key and hash fields set (natgw_rss_prepare) */
	} else if (nq > 1 && info.flow_type_rss_offloads != 0) {
		uint64_t hf = RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP |
			      RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_FRAG_IPV4;

		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = hf & info.flow_type_rss_offloads;
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

static uint16_t
natgw_tx(void *arg, unsigned int port, struct rte_mbuf **m, uint16_t n)
{
	struct natgw_wk *k = arg;

	if (natgw_stick)
		port = GW_PORT_INSIDE;	/* one port: the tag (app/gw_vlan.c) says the side */
	if (k->txq[port] >= 0)
		return rte_eth_tx_burst(natgw_port_id[port], (uint16_t)k->txq[port], m, n);
	return (uint16_t)rte_ring_sp_enqueue_burst(k->txring[port], (void **)m, n, NULL);
}

static void
natgw_drop(void *arg, struct rte_mbuf *m, enum gw_drop reason)
{
	RTE_SET_USED(arg);
	RTE_SET_USED(reason);
	rte_pktmbuf_free(m);	/* counted by the pipeline */
}

/* Transmit what workers without a queue on a port passed to this one. */
static unsigned int
natgw_drain(struct natgw_wk *k)
{
	struct rte_mbuf *m[GW_BURST_MAX];
	unsigned int p, j, n, s, total = 0;

	for (p = 0; p < GW_PORT_MAX; p++) {
		for (j = 0; j < k->n_drain[p]; j++) {
			n = rte_ring_sc_dequeue_burst(k->drain[p][j], (void **)m, GW_BURST_MAX,
						      NULL);
			if (n == 0)
				continue;
			s = rte_eth_tx_burst(natgw_port_id[p], (uint16_t)k->txq[p], m, n);
			if (s < n)
				rte_pktmbuf_free_bulk(m + s, n - s);
			total += n;
		}
	}
	return total;
}

static int
natgw_worker_main(void *arg)
{
	struct natgw_wk *k = arg;
	struct rte_mbuf *pkts[GW_BURST_MAX];
	uint16_t burst = natgw_cfg.burst;
	uint32_t idle = 0;
	unsigned int p;
	ct_time_t reclaim = 0;

	/* The idle back-off's sleep ends when the kernel's timer slack lets it: 50 us more
	 * by default, on every packet that finds the worker asleep (a 50 us sleep took 138 us
	 * here, 90 us with 1 us of slack). The latency of a quiet connection's every round trip
	 * is that wake-up, so the worker asks for 1 us. */
	if (natgw_cfg.idle_sleep_us != 0 && prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0) != 0)
		fprintf(stderr, "natgw: worker %u: timer slack left as it is: %s\n", k->idx,
			strerror(errno));

	while (!natgw_stop) {
		ct_time_t now = natgw_clock();
		unsigned int busy = 0;

		if (unlikely(natgw_pause)) {
			/* natgw-ctl save copies the tables: wait here, between bursts */
			__atomic_store_n(&natgw_paused[k->idx], 1, __ATOMIC_RELEASE);
			while (__atomic_load_n(&natgw_pause, __ATOMIC_ACQUIRE) && !natgw_stop)
				rte_pause();
			__atomic_store_n(&natgw_paused[k->idx], 0, __ATOMIC_RELEASE);
			continue;
		}
		for (p = 0; p < GW_PORT_MAX; p++) {
			uint16_t n;

			if (k->rxq[p] < 0)
				continue;
			n = rte_eth_rx_burst(natgw_port_id[p], (uint16_t)k->rxq[p], pkts, burst);
			if (n != 0) {
				gw_worker_rx(k->w, p, pkts, n, now);
				busy += n;
			}
		}
		busy += gw_worker_poll_rings(k->w, now);
		busy += gw_ctl_worker_poll(k->w, now);	/* control changes, between bursts */
		busy += natgw_drain(k);
		busy += gw_worker_housekeeping(k->w, now);
		if (busy != 0) {
			idle = 0;
			continue;
		}
		gw_worker_count_idle(k->w, 1);
		if (now - reclaim >= NATGW_RECLAIM_US) {
			/* nothing to send: let the PMD reclaim what it sent (net_af_xdp frees TX
			 * completions only in tx_burst), so no mbufs stay away when idle */
			reclaim = now;
			for (p = 0; p < GW_PORT_MAX; p++)
				if (k->txq[p] >= 0)
					rte_eth_tx_burst(natgw_port_id[p], (uint16_t)k->txq[p],
							 pkts, 0);
		}
		if (natgw_cfg.idle_sleep_us != 0 && ++idle >= natgw_cfg.idle_polls)
			rte_delay_us_sleep(natgw_cfg.idle_sleep_us);
	}
	return 0;
}

/* Queue q of port p belongs to worker (q + p) % n. */
static int
natgw_workers_setup(struct gw *g)
{
	unsigned int i, p, lcore, n = natgw_n_workers;
	struct gw_io io = { .tx = natgw_tx, .drop = natgw_drop };
	char name[RTE_RING_NAMESIZE];

	i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct natgw_wk *k = &natgw_wk[i];

		k->idx = i;
		k->lcore = lcore;
		k->w = gw_get_worker(g, i);
		for (p = 0; p < GW_PORT_MAX; p++) {
			unsigned int q = (i + n - p) % n;

			k->rxq[p] = q < natgw_nq[p] ? (int)q : -1;
			k->txq[p] = k->rxq[p];
			if (natgw_stick && p == GW_PORT_OUTSIDE)
				k->rxq[p] = k->txq[p] = -1;	/* the inside's queues do both */
		}
		io.arg = k;
		gw_worker_set_io(k->w, &io);
		gw_set_worker_lcore(g, i, lcore);
		i++;
	}
	for (i = 0; i < n; i++) {
		struct natgw_wk *k = &natgw_wk[i];

		for (p = 0; p < GW_PORT_MAX; p++) {
			unsigned int q, owner;

			if (k->txq[p] >= 0 || (natgw_stick && p == GW_PORT_OUTSIDE))
				continue;
			q = ((i + n - p) % n) % natgw_nq[p];
			owner = (q + p) % n;
			snprintf(name, sizeof(name), "natgw_tx%u_%u", i, p);
			k->txring[p] = rte_ring_create(name, NATGW_TXRING, rte_socket_id(),
						       RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (k->txring[p] == NULL)
				return -1;
			natgw_wk[owner].drain[p][natgw_wk[owner].n_drain[p]++] = k->txring[p];
		}
	}
	return 0;
}

/* --restore: read and verify the file before the gateway exists (its host seed is the
 * gateway's, so every inside host keeps its paired address); refused: exit, or with
 * --restore-fallback empty start without sessions, saying so */
static struct gw_snapshot *natgw_snap;

static int
natgw_snapshot_open(struct gw_params *prm)
{
	char err[512];

	if (natgw_restore_path == NULL)
		return 0;
	natgw_snap = gw_snapshot_read(natgw_restore_path, &natgw_cfg, err, sizeof(err));
	if (natgw_snap == NULL) {
		fprintf(stderr, "natgw: %s\n", err);
		if (!natgw_restore_empty) {
			fprintf(stderr, "natgw: not started (--restore-fallback empty starts "
				"without sessions instead)\n");
			return -1;
		}
		fprintf(stderr, "natgw: --restore-fallback empty: starting with no sessions\n");
		return 0;
	}
	prm->host_seed = gw_snapshot_host_seed(natgw_snap);
	return 0;
}

static int
natgw_snapshot_load(struct gw *g)
{
	struct gw_snapshot_stats st;
	char err[512];
	int rc;

	if (natgw_snap == NULL)
		return 0;
	rc = gw_snapshot_restore(g, natgw_snap, natgw_clock(), natgw_wall_us(), &st, err,
				 sizeof(err));
	gw_snapshot_free(natgw_snap);
	natgw_snap = NULL;
	if (rc < 0) {
		fprintf(stderr, "natgw: %s\n", err);
		return -1;
	}
	printf("natgw: restored %s: %" PRIu64 " connections (%" PRIu64 " refused, %" PRIu64
	       " expired meanwhile), %" PRIu64 " mappings (%" PRIu64 " refused), %" PRIu64
	       " helper records, %" PRIu64 " expectations; saved by %u worker(s), now %u\n",
	       natgw_restore_path, st.conns, st.conns_failed, st.conns_expired, st.maps,
	       st.maps_failed, st.helpers, st.expects, st.saved_workers, natgw_n_workers);
	return 0;
}

/* the workers must be stopped (SIGTERM) or paused (natgw-ctl save) */
static int
natgw_snapshot_write(struct gw *g)
{
	struct gw_snapshot_stats st;
	char err[512];

	if (gw_snapshot_save(g, natgw_save_path, natgw_clock(), natgw_wall_us(), &st, err,
			     sizeof(err)) < 0) {
		fprintf(stderr, "natgw: %s\n", err);
		return -1;
	}
	printf("natgw: saved %s: %" PRIu64 " connections, %" PRIu64 " mappings, %" PRIu64
	       " helper records, %" PRIu64 " expectations\n", natgw_save_path, st.conns,
	       st.maps, st.helpers, st.expects);
	fflush(stdout);
	return 0;
}

static void
natgw_banner(struct rte_mempool *pool, struct rte_mempool *big)
{
	unsigned int p, i;
	size_t ctmem = 0;

	printf("natgw %s: %u worker(s), config %s\n", rte_version(), natgw_n_workers,
	       natgw_cfg.path);
	for (p = 0; p < GW_PORT_MAX; p++) {
		struct rte_ether_addr mac;
		char name[RTE_ETH_NAME_MAX_LEN], ms[RTE_ETHER_ADDR_FMT_SIZE];

		rte_eth_macaddr_get(natgw_port_id[p], &mac);
		if (natgw_cfg.ifc[p].mac_set)
			mac = natgw_cfg.ifc[p].mac;
		rte_eth_dev_get_name_by_port(natgw_port_id[p], name);
		rte_ether_format_addr(ms, sizeof(ms), &mac);
		printf("  port %-7s id %u (%s) mac %s queues %u, rx room %u, tx %s\n",
		       gw_port_name(p), natgw_port_id[p], name, ms, natgw_nq[p],
		       natgw_rx_room[p], natgw_multi_seg[p] ? "multi-seg" : "single-seg");
		printf("  port %-7s rss steering %s\n", gw_port_name(p), natgw_rss_why[p]);
	}
	gw_config_print(stdout, &natgw_cfg);
	for (i = 0; i < natgw_n_workers; i++) {
		ctmem += ct_table_memory(gw_worker_ct(natgw_wk[i].w));
		printf("  worker %u lcore %u: inside rxq %d txq %d, outside rxq %d txq %d\n", i,
		       natgw_wk[i].lcore, natgw_wk[i].rxq[0], natgw_wk[i].txq[0],
		       natgw_wk[i].rxq[1], natgw_wk[i].txq[1]);
	}
	printf("  tables: %u connections per worker, conntrack memory %zu KiB in all; "
	       "mbufs %u + %u big (%zu KiB)\n", natgw_cfg.capacity, ctmem / 1024, pool->size,
	       big->size, (size_t)(pool->size * (pool->elt_size + pool->header_size) +
				   big->size * (big->elt_size + big->header_size)) / 1024);
	printf("  idle_sleep_us %u, stats_interval %u s\n", natgw_cfg.idle_sleep_us,
	       natgw_cfg.stats_interval);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct rte_mempool *pool, *big;
	struct gw_params prm;
	bool packed;
	uint32_t room;
	struct gw *g = NULL;
	char err[512];
	bool check_only = false;
	int i, rc, status = 1;
	unsigned int p;
	uint64_t last_stats;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			natgw_usage(stdout);
			return 0;
		}
	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "natgw: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= rc;
	argv += rc;
	argv[0] = (char *)"natgw";
	optind = 1;
	natgw_tsc_hz = rte_get_tsc_hz();
	natgw_n_workers = rte_lcore_count() - 1;
	if (natgw_args(argc, argv, &check_only) < 0)
		goto out;
	if (check_only) {
		printf("natgw: %s: configuration valid\n", natgw_cfg.path);
		status = 0;
		goto out;
	}
	if (natgw_n_workers < 1 || natgw_n_workers > GW_MAX_WORKERS) {
		fprintf(stderr, "natgw: need 1..%u worker lcores besides the main one (-l 0-1)\n",
			GW_MAX_WORKERS);
		goto out;
	}
	for (p = 0; p < GW_PORT_MAX; p++)
		if (natgw_port_lookup(natgw_cfg.ifc[p].port, &natgw_port_id[p]) < 0) {
			fprintf(stderr, "natgw: %s port '%s': no such DPDK port (%u available)\n",
				gw_port_name(p), natgw_cfg.ifc[p].port, rte_eth_dev_count_avail());
			goto out;
		}
	/* router on a stick: both sides name one port (gw_config_check: both tagged, with
	 * different ids); RSS steering is per side, so off on a trunk carrying both */
	natgw_stick = strcmp(natgw_cfg.ifc[0].port, natgw_cfg.ifc[1].port) == 0;
	if (natgw_port_id[0] == natgw_port_id[1] && !natgw_stick) {
		fprintf(stderr, "natgw: inside and outside are the same port: for a VLAN trunk "
			"name it the same way in both and set [inside] vlan and [outside] vlan\n");
		goto out;
	}
	if (natgw_stick)
		natgw_cfg.rss_off = true;
	packed = !rte_eal_has_hugepages();	/* no DMA without hugepages: pack anyway */
	room = RTE_MBUF_DEFAULT_BUF_SIZE;
	for (p = 0; p < GW_PORT_MAX; p++) {
		if (natgw_stick && p == GW_PORT_OUTSIDE) {	/* the inside's port */
			natgw_pmd[p] = natgw_pmd[GW_PORT_INSIDE];
			natgw_nq[p] = natgw_nq[GW_PORT_INSIDE];
			natgw_rx_room[p] = natgw_rx_room[GW_PORT_INSIDE];
			memcpy(natgw_ifname[p], natgw_ifname[GW_PORT_INSIDE],
			       sizeof(natgw_ifname[p]));
			snprintf(natgw_rss_why[p], sizeof(natgw_rss_why[p]), "off (vlan trunk)");
			continue;
		}
		rc = natgw_port_probe(p);
		if (rc < 0) {
			fprintf(stderr, "natgw: %s port %u: %s\n", gw_port_name(p),
				natgw_port_id[p], rte_strerror(-rc));
			goto out;
		}
		packed |= natgw_pmd[p] == NATGW_PMD_AF_XDP;
		room = RTE_MAX(room, natgw_rx_room[p]);
	}
	pool = natgw_pool_create("natgw_mbuf", natgw_pool_size(), NATGW_CACHE, room, packed);
	big = natgw_pool_create("natgw_big", 127, 16, 9216 + RTE_PKTMBUF_HEADROOM, packed);
	if (pool == NULL || big == NULL) {
		fprintf(stderr, "natgw: mbuf pool: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	memset(&prm, 0, sizeof(prm));
	prm.cfg = &natgw_cfg;
	prm.n_workers = natgw_n_workers;
	prm.pool = pool;
	prm.big_pool = big;
	prm.socket_id = (int)rte_socket_id();
	for (p = 0; p < GW_PORT_MAX; p++) {
		rc = natgw_stick && p == GW_PORT_OUTSIDE ? 0 : natgw_port_init(p, pool);
		if (rc < 0) {
			fprintf(stderr, "natgw: %s port %u: setup failed: %s\n", gw_port_name(p),
				natgw_port_id[p], rte_strerror(-rc));
			goto out;
		}
		rte_eth_macaddr_get(natgw_port_id[p], &prm.mac[p]);
		if (natgw_stick && p == GW_PORT_OUTSIDE) {
			natgw_multi_seg[p] = natgw_multi_seg[GW_PORT_INSIDE];
			natgw_tx_vlan[p] = natgw_tx_vlan[GW_PORT_INSIDE];
		}
		prm.tx_multi_seg[p] = natgw_multi_seg[p];
		prm.tx_vlan_offload[p] = natgw_tx_vlan[p];
	}
	/* RSS steering where a port took it (owners and port choice, lib/nat/nat_rss.c) */
	if (natgw_rss.port[NAT_RSS_INSIDE].reta_size != 0 ||
	    natgw_rss.port[NAT_RSS_OUTSIDE].reta_size != 0)
		natgw_cfg.nat.rss = &natgw_rss;
	if (natgw_snapshot_open(&prm) < 0)
		goto out;
	g = gw_create(&prm, err, sizeof(err));
	if (g == NULL) {
		fprintf(stderr, "natgw: %s\n", err);
		goto out;
	}
	if (natgw_workers_setup(g) < 0) {
		fprintf(stderr, "natgw: tx rings: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	if (natgw_snapshot_load(g) < 0)
		goto out;
	if (gw_telemetry_register(g, natgw_clock) < 0)
		fprintf(stderr, "natgw: telemetry commands not registered\n");
	gw_telemetry_set_port_stats(natgw_port_hw_stats);
	if (rte_pdump_init() < 0)
		fprintf(stderr, "natgw: pdump not available: %s\n", rte_strerror(rte_errno));
	natgw_banner(pool, big);
	if (natgw_log_setup(g) < 0 || natgw_ctl_setup(g) < 0)
		goto out;
	fflush(stdout);
	signal(SIGINT, natgw_signal);
	signal(SIGTERM, natgw_signal);
	signal(SIGHUP, natgw_sighup);
	for (i = 0; i < (int)natgw_n_workers; i++)
		rte_eal_remote_launch(natgw_worker_main, &natgw_wk[i], natgw_wk[i].lcore);
	last_stats = natgw_clock();
	while (!natgw_stop) {
		gw_ctl_poll(100);	/* control requests; waits at most 100 ms */
		gw_log_poll(natgw_log, natgw_clock());	/* events: ctl streams, syslog, IPFIX */
		gw_rules_log_drain(g, stdout);	/* the ruleset's log records (gw_rules.c) */
		gw_rules_reclaim(g);		/* rulesets every worker moved past */
		if (natgw_hup) {
			natgw_hup = 0;
			gw_ctl_reload(stdout);
		}
		if (natgw_cfg.stats_interval != 0 &&
		    natgw_clock() - last_stats >= natgw_cfg.stats_interval * CT_USEC_PER_SEC) {
			last_stats = natgw_clock();
			gw_stats_line(stdout, g);
			natgw_port_stats_print(stdout, true);
		}
	}
	rte_eal_mp_wait_lcore();
	gw_ctl_close();		/* workers stopped: no change can reach them any more */
	gw_ctl_cmds_free();
	gw_log_free(natgw_log);	/* after the control channel: its streams listen here */
	natgw_log = NULL;
	/* workers stopped: the sessions, for the next start's --restore */
	if (natgw_save_path != NULL && natgw_stop_sig == SIGTERM)
		natgw_snapshot_write(g);
	/* workers stopped: flush what they hold, from here */
	for (i = 0; i < (int)natgw_n_workers; i++)
		gw_worker_flush(natgw_wk[i].w);
	for (i = 0; i < (int)natgw_n_workers; i++)
		natgw_drain(&natgw_wk[i]);
	printf("natgw: stopping; final counters:\n");
	gw_stats_print(stdout, g);
	natgw_port_stats_print(stdout, false);
	fflush(stdout);
	status = 0;
out:
	if (g != NULL) {
		for (p = 0; p < GW_PORT_MAX; p++) {
			if (natgw_stick && p == GW_PORT_OUTSIDE)
				break;
			rte_eth_dev_stop(natgw_port_id[p]);
			rte_eth_dev_close(natgw_port_id[p]);
		}
		gw_log_free(natgw_log);
		gw_free(g);
	}
	rte_pdump_uninit();
	rte_eal_cleanup();
	return status;
}
