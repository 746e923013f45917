/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c - the natgw executable: EAL, command line, configuration, the worker lcores' poll
 * loops with idle back-off, the control plane on the main lcore (telemetry, pdump, periodic
 * stats, save and reload) and a clean stop on SIGINT/SIGTERM with the final counters. The
 * ports and the mbuf pools are app/natgw_port.c's.
 *
 * Queues: queue q of port p belongs to worker (q + p) % workers. A worker without an RX
 * queue on a port does not poll it: the queue's worker receives for it and hands packets
 * to their owner (gw.h). A worker without a TX queue on a port passes what it sends
 * through an SP/SC ring to the worker that has the queue, which transmits it, so no TX
 * queue is shared and nothing locks.
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
#include <sys/prctl.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>
#include <rte_ring.h>
#include <rte_version.h>

#include "gw.h"
#include "gw_ctl.h"
#include "natgw_port.h"

#define NATGW_RECLAIM_US 1000	/* idle: TX completions reclaimed this often */

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
static struct natgw_wk natgw_wk[GW_MAX_WORKERS];
static unsigned int natgw_n_workers;
static struct gw_config natgw_cfg;
static struct gw_log *natgw_log;	/* events and NAT logging (app/gw_event.h) */
static uint64_t natgw_tsc_hz;

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

static uint16_t
natgw_tx(void *arg, unsigned int port, struct rte_mbuf **m, uint16_t n)
{
	struct natgw_wk *k = arg;

	if (natgw_ports.stick)
		port = GW_PORT_INSIDE;	/* one port: the tag (app/gw_vlan.c) says the side */
	if (k->txq[port] >= 0)
		return rte_eth_tx_burst(natgw_ports.id[port], (uint16_t)k->txq[port], m, n);
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
			s = rte_eth_tx_burst(natgw_ports.id[p], (uint16_t)k->txq[p], m, n);
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
			n = rte_eth_rx_burst(natgw_ports.id[p], (uint16_t)k->rxq[p], pkts, burst);
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
					rte_eth_tx_burst(natgw_ports.id[p], (uint16_t)k->txq[p],
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

			k->rxq[p] = q < natgw_ports.nq[p] ? (int)q : -1;
			k->txq[p] = k->rxq[p];
			if (natgw_ports.stick && p == GW_PORT_OUTSIDE)
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

			if (k->txq[p] >= 0 || (natgw_ports.stick && p == GW_PORT_OUTSIDE))
				continue;
			q = ((i + n - p) % n) % natgw_ports.nq[p];
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

		rte_eth_macaddr_get(natgw_ports.id[p], &mac);
		if (natgw_cfg.ifc[p].mac_set)
			mac = natgw_cfg.ifc[p].mac;
		rte_eth_dev_get_name_by_port(natgw_ports.id[p], name);
		rte_ether_format_addr(ms, sizeof(ms), &mac);
		printf("  port %-7s id %u (%s) mac %s queues %u, rx room %u, tx %s\n",
		       gw_port_name(p), natgw_ports.id[p], name, ms, natgw_ports.nq[p],
		       natgw_ports.rx_room[p],
		       natgw_ports.multi_seg[p] ? "multi-seg" : "single-seg");
		printf("  port %-7s rss steering %s\n", gw_port_name(p), natgw_ports.rss_why[p]);
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
	natgw_ports.cfg = &natgw_cfg;
	natgw_ports.n_workers = natgw_n_workers;
	for (p = 0; p < GW_PORT_MAX; p++)
		if (natgw_port_lookup(natgw_cfg.ifc[p].port, &natgw_ports.id[p]) < 0) {
			fprintf(stderr, "natgw: %s port '%s': no such DPDK port (%u available)\n",
				gw_port_name(p), natgw_cfg.ifc[p].port, rte_eth_dev_count_avail());
			goto out;
		}
	/* router on a stick: both sides name one port (gw_config_check: both tagged, with
	 * different ids); RSS steering is per side, so off on a trunk carrying both */
	natgw_ports.stick = strcmp(natgw_cfg.ifc[0].port, natgw_cfg.ifc[1].port) == 0;
	if (natgw_ports.id[0] == natgw_ports.id[1] && !natgw_ports.stick) {
		fprintf(stderr, "natgw: inside and outside are the same port: for a VLAN trunk "
			"name it the same way in both and set [inside] vlan and [outside] vlan\n");
		goto out;
	}
	if (natgw_ports.stick)
		natgw_cfg.rss_off = true;
	packed = !rte_eal_has_hugepages();	/* no DMA without hugepages: pack anyway */
	room = RTE_MBUF_DEFAULT_BUF_SIZE;
	for (p = 0; p < GW_PORT_MAX; p++) {
		if (natgw_ports.stick && p == GW_PORT_OUTSIDE) {	/* the inside's port */
			natgw_ports.pmd[p] = natgw_ports.pmd[GW_PORT_INSIDE];
			natgw_ports.nq[p] = natgw_ports.nq[GW_PORT_INSIDE];
			natgw_ports.rx_room[p] = natgw_ports.rx_room[GW_PORT_INSIDE];
			memcpy(natgw_ports.ifname[p], natgw_ports.ifname[GW_PORT_INSIDE],
			       sizeof(natgw_ports.ifname[p]));
			snprintf(natgw_ports.rss_why[p], sizeof(natgw_ports.rss_why[p]),
				 "off (vlan trunk)");
			continue;
		}
		rc = natgw_port_probe(p);
		if (rc < 0) {
			fprintf(stderr, "natgw: %s port %u: %s\n", gw_port_name(p),
				natgw_ports.id[p], rte_strerror(-rc));
			goto out;
		}
		packed |= natgw_ports.pmd[p] == NATGW_PMD_AF_XDP;
		room = RTE_MAX(room, natgw_ports.rx_room[p]);
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
		rc = natgw_ports.stick && p == GW_PORT_OUTSIDE ? 0 : natgw_port_init(p, pool);
		if (rc < 0) {
			fprintf(stderr, "natgw: %s port %u: setup failed: %s\n", gw_port_name(p),
				natgw_ports.id[p], rte_strerror(-rc));
			goto out;
		}
		rte_eth_macaddr_get(natgw_ports.id[p], &prm.mac[p]);
		if (natgw_ports.stick && p == GW_PORT_OUTSIDE) {
			natgw_ports.multi_seg[p] = natgw_ports.multi_seg[GW_PORT_INSIDE];
			natgw_ports.tx_vlan[p] = natgw_ports.tx_vlan[GW_PORT_INSIDE];
		}
		prm.tx_multi_seg[p] = natgw_ports.multi_seg[p];
		prm.tx_vlan_offload[p] = natgw_ports.tx_vlan[p];
	}
	/* RSS steering where a port took it (owners and port choice, lib/nat/nat_rss.c) */
	if (natgw_ports.rss.port[NAT_RSS_INSIDE].reta_size != 0 ||
	    natgw_ports.rss.port[NAT_RSS_OUTSIDE].reta_size != 0)
		natgw_cfg.nat.rss = &natgw_ports.rss;
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
			if (natgw_ports.stick && p == GW_PORT_OUTSIDE)
				break;
			rte_eth_dev_stop(natgw_ports.id[p]);
			rte_eth_dev_close(natgw_ports.id[p]);
		}
		gw_log_free(natgw_log);
		gw_free(g);
	}
	rte_pdump_uninit();
	rte_eal_cleanup();
	return status;
}
