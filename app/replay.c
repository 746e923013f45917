/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * replay.c - natgw-replay: the natgw pipeline (app/gw.h) driven from pcap files instead of
 * ports, with the packets' timestamps as the clock. It owns the command line, the pcap
 * reading/merging/writing, the drop file and the deterministic scheduling of simulated
 * workers; the packet path itself is gw's, unchanged.
 *
 *   natgw-replay --config FILE --in-inside A.pcap --in-outside B.pcap
 *                --out-inside X.pcap --out-outside Y.pcap --out-drops Z.pcap
 *                [--workers N] [--timeout CLASS=SECONDS ...]
 *                [--restore SNAPSHOT] [--save SNAPSHOT] [--burst]
 *
 * Either input may be left out (nothing arrives on that side). --save writes the sessions
 * (app/gw_snapshot.c) at the end, at the last packet's time; --restore loads them at the
 * first packet's time (the gap between the runs' pcap clocks comes off the timeouts), so a
 * scenario split in two runs can be compared with one unbroken run (docs/replay.md).
 *
 * Determinism (same input -> byte-identical output):
 *  - The two inputs are merged by timestamp; ties go to the inside file, and each file keeps
 *    its own order. The clock (`now`, microseconds) is the merged packet's timestamp, never
 *    the wall clock; it never goes backwards (an earlier timestamp is replayed at the last
 *    `now`).
 *  - One packet per receive call, unless --burst: then consecutive records of one file with
 *    the same timestamp (up to RP_BURST) are received together, in one gw_worker_rx call,
 *    as a NIC's burst (the packets of a burst are looked up together, so one of them may
 *    find what an earlier one of the same burst created).
 *  - Conntrack and NAT get fixed hash seeds, rte_rand() (NAT's port search, RFC 6056) a
 *    fixed seed (rte_srand after EAL init); the port MACs are fixed: inside
 *    02:6e:67:00:00:00, outside 02:6e:67:00:00:01.
 *  - N workers are simulated on one thread. Input packet k is received by worker k % N
 *    (so with N > 1 packets also arrive on non-owners and cross the handoff rings, as
 *    they would without RSS steering); then every worker drains its rings, worker 0
 *    first, until a pass finds nothing. Before each packet every worker runs its
 *    housekeeping (expiry, ARP, reassembly timers) at the packet's time. At the end of
 *    the input, housekeeping runs once more and whatever is still held (ARP hold queue,
 *    incomplete reassembly) is flushed into the drop file.
 *  - EAL runs with --no-huge --no-shconf --no-pci on one lcore (and a per-process file
 *    prefix): no NIC, no hugepages, no shared files, so several replays can run at once.
 *
 * Outputs: what leaves the inside (outside) port goes to X.pcap (Y.pcap; with both sides on
 * one VLAN-tagged port, [ports] inside = outside, everything goes to X.pcap), stamped with the
 * time of the input packet being processed when it left (a packet released later, by an
 * ARP reply or by reassembly, carries the releasing packet's time). Dropped packets go to
 * Z.pcap, stamped the same way, and Z.pcap.txt has one line per record of Z.pcap:
 *     "<record index, from 0> <REASON_ID> <reason text>"
 * e.g. "3 CT_TCP_OUT_OF_WINDOW ct: tcp segment outside window" (gw.h GW_FOREACH_DROP,
 * gw_drop_id/gw_drop_str). A record too big for an mbuf (> 16384 bytes) is written there
 * as REPLAY_TOO_BIG.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_random.h>

#include "gw.h"
#include "rs.h"
#include "selftest.h"

#define RP_POOL_SIZE	8191
#define RP_SNAPLEN	65535

/* ---------------------------------------------------------------------------------------
 * Reading: one pcap per port, merged by timestamp
 */

struct rp_input {
	pcap_t *pcap;
	const char *path;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t ts;		/* microseconds of the current record */
	uint64_t index;		/* record number in the file, from 0 */
	bool eof;
};

static int
rp_input_next(struct rp_input *in)
{
	int rc = pcap_next_ex(in->pcap, &in->hdr, &in->data);

	if (rc == 1) {
		in->ts = (uint64_t)in->hdr->ts.tv_sec * 1000000u + (uint64_t)in->hdr->ts.tv_usec;
		if (in->index != UINT64_MAX)
			in->index++;
		return 0;
	}
	in->eof = true;
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	fprintf(stderr, "natgw-replay: %s: %s\n", in->path, pcap_geterr(in->pcap));
	return -1;
}

static int
rp_input_open(struct rp_input *in, const char *path)
{
	char err[PCAP_ERRBUF_SIZE];

	memset(in, 0, sizeof(*in));
	in->path = path;
	in->index = UINT64_MAX;	/* first rp_input_next makes it 0 */
	if (path == NULL) {
		/* --in-inside / --in-outside left out: nothing arrives on that side */
		in->path = "(none)";
		in->eof = true;
		return 0;
	}
	in->pcap = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO,
							   err);
	if (in->pcap == NULL) {
		fprintf(stderr, "natgw-replay: %s\n", err);	/* libpcap's text names the file */
		return -1;
	}
	if (pcap_datalink(in->pcap) != DLT_EN10MB) {
		fprintf(stderr, "natgw-replay: %s: link type %d, need Ethernet\n", path,
			pcap_datalink(in->pcap));
		return -1;
	}
	return rp_input_next(in);
}

/** Which input goes next: the earlier one; on a tie the inside one. NULL when both ended. */
static struct rp_input *
rp_input_pick(struct rp_input *inside, struct rp_input *outside)
{
	if (inside->eof)
		return outside->eof ? NULL : outside;
	if (outside->eof)
		return inside;
	return inside->ts <= outside->ts ? inside : outside;
}

/* ---------------------------------------------------------------------------------------
 * Writing: one pcap per port, the drop pcap and its reason file
 */

struct rp_output {
	pcap_t *dead;
	pcap_dumper_t *dump[GW_PORT_MAX];	/* per port */
	pcap_dumper_t *drops;
	FILE *reasons;
	uint64_t n_drops;
	uint64_t n_tx[GW_PORT_MAX];
	uint64_t now;				/* stamp for what is written */
	int error;
	bool trunk;				/* both sides on one port: one output */
};

static pcap_dumper_t *
rp_dump_open(pcap_t *dead, const char *path)
{
	pcap_dumper_t *d = pcap_dump_open(dead, path);

	if (d == NULL)
		fprintf(stderr, "natgw-replay: %s: %s\n", path, pcap_geterr(dead));
	return d;
}

static int
rp_output_open(struct rp_output *o, const char *path_in, const char *path_out,
	       const char *path_drops)
{
	char txt[PATH_MAX];

	memset(o, 0, sizeof(*o));
	o->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, RP_SNAPLEN,
						       PCAP_TSTAMP_PRECISION_MICRO);
	if (o->dead == NULL)
		return -1;
	o->dump[GW_PORT_INSIDE] = rp_dump_open(o->dead, path_in);
	o->dump[GW_PORT_OUTSIDE] = rp_dump_open(o->dead, path_out);
	o->drops = rp_dump_open(o->dead, path_drops);
	if (o->dump[GW_PORT_INSIDE] == NULL || o->dump[GW_PORT_OUTSIDE] == NULL ||
	    o->drops == NULL)
		return -1;
	if ((size_t)snprintf(txt, sizeof(txt), "%s.txt", path_drops) >= sizeof(txt)) {
		fprintf(stderr, "natgw-replay: %s: path too long\n", path_drops);
		return -1;
	}
	o->reasons = fopen(txt, "w");
	if (o->reasons == NULL) {
		fprintf(stderr, "natgw-replay: %s: %s\n", txt, strerror(errno));
		return -1;
	}
	return 0;
}

static int
rp_output_close(struct rp_output *o)
{
	int rc = o->error;
	unsigned int i;

	for (i = 0; i < GW_PORT_MAX; i++) {
		if (o->dump[i] != NULL) {
			if (pcap_dump_flush(o->dump[i]) != 0)
				rc = -1;
			pcap_dump_close(o->dump[i]);
		}
	}
	if (o->drops != NULL) {
		if (pcap_dump_flush(o->drops) != 0)
			rc = -1;
		pcap_dump_close(o->drops);
	}
	if (o->reasons != NULL && fclose(o->reasons) != 0)
		rc = -1;
	if (o->dead != NULL)
		pcap_close(o->dead);
	return rc;
}

/** Write len bytes (wire length wire_len) as one pcap record stamped o->now. */
static void
rp_write_raw(struct rp_output *o, pcap_dumper_t *d, const void *data, uint32_t len,
	     uint32_t wire_len)
{
	struct pcap_pkthdr h;

	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(o->now / 1000000u);
	h.ts.tv_usec = (suseconds_t)(o->now % 1000000u);
	h.caplen = len;
	h.len = wire_len;
	pcap_dump((u_char *)d, &h, data);
}

/** Write an mbuf (possibly chained) as one pcap record stamped o->now. */
static void
rp_write_mbuf(struct rp_output *o, pcap_dumper_t *d, const struct rte_mbuf *m)
{
	static uint8_t buf[RP_SNAPLEN];
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const void *data;

	if (len > sizeof(buf))
		len = sizeof(buf);
	data = rte_pktmbuf_read(m, 0, len, buf);
	if (data == NULL) {
		o->error = -1;
		return;
	}
	rp_write_raw(o, d, data, len, rte_pktmbuf_pkt_len(m));
}

/* ---------------------------------------------------------------------------------------
 * Command line
 */

#define RP_MAX_TIMEOUTS 64

struct rp_args {
	const char *config;
	const char *in[GW_PORT_MAX];
	const char *out[GW_PORT_MAX];
	const char *drops;
	unsigned int workers;
	bool selftest;			/* --selftest: app/selftest.c's probes, no pcaps */
	unsigned int n_timeouts;
	const char *timeout[RP_MAX_TIMEOUTS];	/* "CLASS=SECONDS", applied in order */
	const char *events;		/* --events FILE: conntrack -E lines (gw_event.h) */
	const char *save;		/* --save FILE: snapshot at the end (gw_snapshot.c) */
	const char *restore;		/* --restore FILE: snapshot loaded before the input */
	unsigned int drain_every;	/* --drain-every N: event rings drained each N inputs */
	bool burst;			/* --burst: same-timestamp records in one receive */
};

/* --rules-reload N:FILE: after N input packets the ruleset is replaced by FILE's, as
 * natgw-ctl reload does (gw_rules_reload, app/gw.h); replaced rulesets are reclaimed after
 * each input packet once every worker moved past them */
static uint64_t rp_reload_at;
static const char *rp_reload_file;
static unsigned int rp_reclaimed;

static void
rp_usage(FILE *f)
{
	fprintf(f,
		"usage: natgw-replay --config FILE --in-inside A.pcap --in-outside B.pcap\n"
		"                    --out-inside X.pcap --out-outside Y.pcap --out-drops Z.pcap\n"
		"                    [--workers N] [--timeout CLASS=SECONDS ...]\n"
		"                    [--restore SNAPSHOT] [--save SNAPSHOT]\n"
		"                    [--rules-reload N:FILE] [--burst]\n"
		"       (--in-inside and --in-outside are optional: a side left out gets nothing)\n"
		"       natgw-replay --selftest --config FILE [--workers N] [--timeout ...]\n"
		"       [--events FILE] [--drain-every N]: connection events and [log] sinks;\n"
		"       the main lcore's drain of the event rings runs after every N input packets\n"
		"Replays A (arriving on the inside port) and B (on the outside port), merged by\n"
		"timestamp, through the natgw pipeline with the timestamps as the clock; writes what\n"
		"leaves each port to X and Y, dropped packets to Z and their reasons to Z.txt\n"
		"(\"<record index> <REASON_ID> <reason text>\" per line). Same input, same output.\n"
		"--burst: consecutive records of one file with the same timestamp arrive in one\n"
		"receive burst (up to 32) instead of one by one.\n");
}

static int
rp_parse_args(int argc, char **argv, struct rp_args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "in-inside", required_argument, NULL, 'i' },
		{ "in-outside", required_argument, NULL, 'o' },
		{ "out-inside", required_argument, NULL, 'I' },
		{ "out-outside", required_argument, NULL, 'O' },
		{ "out-drops", required_argument, NULL, 'd' },
		{ "workers", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "selftest", no_argument, NULL, 's' },
		{ "events", required_argument, NULL, 'E' },
		{ "drain-every", required_argument, NULL, 'D' },
		{ "save", required_argument, NULL, 'S' },
		{ "restore", required_argument, NULL, 'R' },
		{ "rules-reload", required_argument, NULL, 'L' },
		{ "burst", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	unsigned long n;
	int c;

	memset(a, 0, sizeof(*a));
	a->workers = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case 'i': a->in[GW_PORT_INSIDE] = optarg; break;
		case 'o': a->in[GW_PORT_OUTSIDE] = optarg; break;
		case 'I': a->out[GW_PORT_INSIDE] = optarg; break;
		case 'O': a->out[GW_PORT_OUTSIDE] = optarg; break;
		case 'd': a->drops = optarg; break;
		case 'w':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || n < 1 || n > GW_MAX_WORKERS) {
				fprintf(stderr, "natgw-replay: --workers %s: want 1..%u\n", optarg,
					(unsigned int)GW_MAX_WORKERS);
				return -1;
			}
			a->workers = (unsigned int)n;
			break;
		case 't':
			if (a->n_timeouts == RP_MAX_TIMEOUTS) {
				fprintf(stderr, "natgw-replay: too many --timeout\n");
				return -1;
			}
			a->timeout[a->n_timeouts++] = optarg;
			break;
		case 's': a->selftest = true; break;
		case 'B': a->burst = true; break;
		case 'E': a->events = optarg; break;
		case 'S': a->save = optarg; break;
		case 'R': a->restore = optarg; break;
		case 'L':	/* --rules-reload N:FILE */
			n = strtoul(optarg, &end, 10);
			if (*end != ':' || end[1] == '\0') {
				fprintf(stderr, "natgw-replay: --rules-reload %s: want N:FILE\n",
					optarg);
				return -1;
			}
			rp_reload_at = n;
			rp_reload_file = end + 1;
			break;
		case 'D':
			n = strtoul(optarg, &end, 10);
			if (*end != '\0' || n < 1 || n > UINT32_MAX) {
				fprintf(stderr, "natgw-replay: --drain-every %s: want >= 1\n", optarg);
				return -1;
			}
			a->drain_every = (unsigned int)n;
			break;
		case 'h': rp_usage(stdout); exit(0);
		default: rp_usage(stderr); return -1;
		}
	}
	if (a->selftest && optind == argc && a->config != NULL)
		return 0;
	if (optind != argc || a->config == NULL || a->out[GW_PORT_INSIDE] == NULL ||
	    a->out[GW_PORT_OUTSIDE] == NULL || a->drops == NULL) {
		rp_usage(stderr);
		return -1;
	}
	return 0;
}

static int
rp_load_config(const struct rp_args *a, struct gw_config *cfg)
{
	char err[512];
	unsigned int i;

	gw_config_default(cfg);
	if (gw_config_load(cfg, a->config, err, sizeof(err)) < 0) {
		fprintf(stderr, "natgw-replay: %s\n", err);
		return -1;
	}
	for (i = 0; i < a->n_timeouts; i++) {
		if (gw_config_timeout(cfg, a->timeout[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "natgw-replay: %s\n", err);
			return -1;
		}
	}
	if (gw_config_check(cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "natgw-replay: %s\n", err);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * EAL without hardware: heap memory, no PCI, no shared runtime files, one lcore
 */
static int
rp_eal_init(void)
{
	/* --no-huge implies legacy memory, which DPDK 22.11 refuses with --in-memory:
	 * --no-shconf (no runtime config, no multi-process socket) plus a per-process file
	 * prefix keeps parallel replays apart just the same. */
	char prefix[64];
	char *eal_argv[] = {
		"natgw-replay", "--no-huge", "-m", "256", "--no-shconf", prefix, "--no-pci",
		"--no-telemetry", "-l", "0", "--log-level=lib.*:error",
		"--log-level=user*:error", NULL,
	};
	int eal_argc = (int)RTE_DIM(eal_argv) - 1;

	snprintf(prefix, sizeof(prefix), "--file-prefix=natgw-replay-%ld", (long)getpid());
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "natgw-replay: EAL init failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * The pipeline's output: pcap records
 */

static uint16_t
rp_tx(void *arg, unsigned int port, struct rte_mbuf **m, uint16_t n)
{
	struct rp_output *o = arg;
	uint16_t i;

	for (i = 0; i < n; i++) {
		if (port < GW_PORT_MAX) {
			rp_write_mbuf(o, o->dump[o->trunk ? GW_PORT_INSIDE : port], m[i]);
			o->n_tx[port]++;
		} else {
			o->error = -1;
		}
		rte_pktmbuf_free(m[i]);
	}
	return n;
}

static void
rp_drop_record(struct rp_output *o, const struct rte_mbuf *m, const char *id, const char *text)
{
	rp_write_mbuf(o, o->drops, m);
	if (fprintf(o->reasons, "%" PRIu64 " %s %s\n", o->n_drops, id, text) < 0)
		o->error = -1;
	o->n_drops++;
}

static void
rp_drop(void *arg, struct rte_mbuf *m, enum gw_drop reason)
{
	struct rp_output *o = arg;

	rp_drop_record(o, m, gw_drop_id(reason), gw_drop_str(reason));
	rte_pktmbuf_free(m);
}

/* ---------------------------------------------------------------------------------------
 * Replay loop
 */

struct rp_ctx {
	struct gw *gw;
	unsigned int n_workers;
	struct rte_mempool *pool;	/* frames up to RP_SMALL_ROOM, generated packets */
	struct rte_mempool *big_pool;	/* larger frames, reassembly */
	struct rp_output out;
	uint64_t now;
	uint64_t n_in;			/* input packets so far (both files) */
	struct gw_log *log;		/* [log] sinks / --events: the main lcore's part */
	unsigned int drain_every;
	bool burst;			/* --burst */
	FILE *events;
};

#define RP_BURST	32	/* --burst: records received together, at most */

#define RP_SMALL_ROOM	2048
#define RP_BIG_ROOM	16384

/* After each input packet: every worker drains its handoff rings, worker 0 first, until a
 * whole pass finds nothing (a handed packet may be handed on again, e.g. hairpin). */
static void
rp_drain_rings(struct rp_ctx *c)
{
	unsigned int pass, i, done;

	for (pass = 0; pass < 64; pass++) {
		done = 0;
		for (i = 0; i < c->n_workers; i++)
			done += gw_worker_poll_rings(gw_get_worker(c->gw, i), c->now);
		if (done == 0)
			return;
	}
}

static void
rp_housekeeping(struct rp_ctx *c)
{
	unsigned int i, pass;

	/* bounded per call in the pipeline: repeat while there is work (a long quiet gap in
	 * the capture may have expired many connections at once) */
	for (i = 0; i < c->n_workers; i++)
		for (pass = 0; pass < 1024; pass++)
			if (gw_worker_housekeeping(gw_get_worker(c->gw, i), c->now) == 0)
				break;
}

/**
 * Copy one pcap record into an mbuf. A record too big for any mbuf is written to the drop
 * file as REPLAY_TOO_BIG and *skip set. NULL without *skip: out of mbufs (fatal).
 */
static struct rte_mbuf *
rp_mbuf_from(struct rp_ctx *c, const struct rp_input *in, bool *skip)
{
	uint32_t len = in->hdr->caplen;
	struct rte_mempool *mp = len <= RP_SMALL_ROOM ? c->pool : c->big_pool;
	struct rte_mbuf *m;
	char *p;

	*skip = false;
	if (len > RP_BIG_ROOM) {
		rp_write_raw(&c->out, c->out.drops, in->data, len, in->hdr->len);
		if (fprintf(c->out.reasons, "%" PRIu64 " REPLAY_TOO_BIG frame larger than %u "
			    "bytes (natgw-replay)\n", c->out.n_drops, RP_BIG_ROOM) < 0)
			c->out.error = -1;
		c->out.n_drops++;
		*skip = true;
		return NULL;
	}
	if (in->hdr->caplen < in->hdr->len)
		fprintf(stderr, "natgw-replay: %s record %" PRIu64 ": captured %u of %u bytes\n",
			in->path, in->index, in->hdr->caplen, in->hdr->len);
	m = rte_pktmbuf_alloc(mp);
	if (m == NULL) {
		fprintf(stderr, "natgw-replay: mbuf pool empty (packets leaked or held?)\n");
		return NULL;
	}
	p = rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(p, in->data, len);
	return m;
}

/* --events: one `conntrack -E` line per record */
static void
rp_event_line(void *arg, const struct gw_event *e, const char *line)
{
	RTE_SET_USED(e);
	fprintf(arg, "%s\n", line);
}

/* The main lcore's part of [log] (syslog, IPFIX) and --events. Event times are the pcap
 * timestamps (wall offset 0), so what the sinks get is deterministic too. */
static int
rp_log_open(struct rp_ctx *c, const struct rp_args *a, const struct gw_config *cfg)
{
	char err[512];

	c->drain_every = a->drain_every != 0 ? a->drain_every : 1;
	if (a->events == NULL && cfg->log.syslog.kind == GW_LOG_DST_NONE &&
	    cfg->log.ipfix.kind == GW_LOG_DST_NONE)
		return 0;
	c->log = gw_log_create(c->gw, &cfg->log, 0, err, sizeof(err));
	if (c->log == NULL) {
		fprintf(stderr, "natgw-replay: %s\n", err);
		return -1;
	}
	if (a->events != NULL) {
		c->events = fopen(a->events, "w");
		if (c->events == NULL) {
			fprintf(stderr, "natgw-replay: %s: %s\n", a->events, strerror(errno));
			return -1;
		}
		gw_log_listener_add(c->log, rp_event_line, c->events);
	}
	return 0;
}

static int
rp_run(struct rp_ctx *c, struct rp_input in[GW_PORT_MAX])
{
	struct rp_input *cur;
	unsigned int port, w, k, i;
	struct rte_mbuf *m[RP_BURST];
	uint64_t ts, first;
	bool skip;

	while ((cur = rp_input_pick(&in[GW_PORT_INSIDE], &in[GW_PORT_OUTSIDE])) != NULL) {
		port = cur == &in[GW_PORT_INSIDE] ? GW_PORT_INSIDE : GW_PORT_OUTSIDE;
		if (cur->ts > c->now)
			c->now = cur->ts;	/* the clock never goes back */
		c->out.now = c->now;
		rp_housekeeping(c);
		/* the receiving worker: round robin over the inputs, so that with several
		 * workers packets arrive on non-owners too and take the handoff rings */
		w = (unsigned int)(c->n_in % c->n_workers);
		first = c->n_in;
		ts = cur->ts;
		k = 0;
		do {
			m[k] = rp_mbuf_from(c, cur, &skip);
			if (m[k] == NULL && !skip)
				goto fail;
			if (m[k] != NULL)
				k++;
			c->n_in++;
			if (rp_input_next(cur) < 0)
				goto fail;
		} while (c->burst && k < RP_BURST && c->n_in - first < RP_BURST &&
			 rp_input_pick(&in[GW_PORT_INSIDE], &in[GW_PORT_OUTSIDE]) == cur &&
			 cur->ts == ts);
		if (k > 0) {
			gw_worker_rx(gw_get_worker(c->gw, w), port, m, (uint16_t)k, c->now);
			rp_drain_rings(c);
			gw_rules_log_drain(c->gw, stdout);	/* ruleset log records */
			rp_reclaimed += gw_rules_reclaim(c->gw);
		}
		if (rp_reload_file != NULL && first < rp_reload_at && c->n_in >= rp_reload_at) {
			char err[512];

			if (gw_rules_reload(c->gw, rp_reload_file, err, sizeof(err)) < 0)
				printf("natgw-replay: rules reload refused: %s\n", err);
			else
				printf("natgw-replay: rules reloaded from %s after %" PRIu64
				       " packets\n", rp_reload_file, c->n_in);
		}
		/* the main lcore's turn: event rings to listeners and [log] sinks */
		if (c->log != NULL && c->n_in / c->drain_every != first / c->drain_every)
			gw_log_poll(c->log, c->now);
	}
	/* end of input: last timers at the last time, then drop what is still held */
	rp_housekeeping(c);
	rp_drain_rings(c);
	gw_rules_log_drain(c->gw, stdout);
	if (c->log != NULL)
		gw_log_poll(c->log, c->now);
	for (i = 0; i < c->n_workers; i++)
		gw_worker_flush(gw_get_worker(c->gw, i));
	return 0;
fail:
	for (i = 0; i < k; i++)
		rte_pktmbuf_free(m[i]);
	return -1;
}

/* --restore: the snapshot's state at the time of the first input packet (the clock of the
 * run it was saved from, pcap timestamps: the gap between the two runs is taken off every
 * timeout, as natgw takes off the time it was down) */
static int
rp_restore(struct rp_ctx *c, const struct gw_snapshot *snap, struct rp_input in[GW_PORT_MAX],
	   const char *path)
{
	struct rp_input *first = rp_input_pick(&in[GW_PORT_INSIDE], &in[GW_PORT_OUTSIDE]);
	struct gw_snapshot_stats st;
	char err[512];

	c->now = first != NULL ? first->ts : 0;
	c->out.now = c->now;
	if (gw_snapshot_restore(c->gw, snap, c->now, c->now, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "natgw-replay: %s\n", err);
		return -1;
	}
	printf("natgw-replay: restored %s: %" PRIu64 " connections (%" PRIu64 " refused, %"
	       PRIu64 " expired), %" PRIu64 " mappings (%" PRIu64 " refused), %" PRIu64
	       " helper records, %" PRIu64 " expectations (%" PRIu64 " refused); saved with %u "
	       "worker(s)\n", path, st.conns, st.conns_failed, st.conns_expired, st.maps,
	       st.maps_failed, st.helpers, st.expects, st.expects_failed, st.saved_workers);
	return 0;
}

/* --save: the state at the end of the input, at the last packet's time */
static int
rp_save(struct rp_ctx *c, const char *path)
{
	struct gw_snapshot_stats st;
	char err[512];

	if (gw_snapshot_save(c->gw, path, c->now, c->now, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "natgw-replay: %s\n", err);
		return -1;
	}
	printf("natgw-replay: saved %s: %" PRIu64 " connections, %" PRIu64 " mappings, %" PRIu64
	       " helper records, %" PRIu64 " expectations\n", path, st.conns, st.maps,
	       st.helpers, st.expects);
	return 0;
}

static struct rte_mempool *
rp_pool(const char *name, unsigned int n, unsigned int room)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create(name, n, 0, 0,
							  (uint16_t)(room + RTE_PKTMBUF_HEADROOM),
							  (int)rte_socket_id());

	if (mp == NULL)
		fprintf(stderr, "natgw-replay: mbuf pool %s: %s\n", name, rte_strerror(rte_errno));
	return mp;
}

int
main(int argc, char **argv)
{
	static struct gw_config cfg;	/* large: not on the stack */
	struct gw_snapshot *snap = NULL;
	struct rp_input in[GW_PORT_MAX];
	struct gw_params prm;
	struct rp_args a;
	struct rp_ctx c;
	char err[512];
	unsigned int i;
	int rc = 1;

	memset(&c, 0, sizeof(c));
	memset(in, 0, sizeof(in));
	if (rp_parse_args(argc, argv, &a) < 0 || rp_load_config(&a, &cfg) < 0)
		return 2;
	if (rp_eal_init() < 0)
		return 1;
	/* lib/nat draws port search starts and its mapping key from rte_rand() (RFC 6056);
	 * EAL seeded it from the clock: a fixed seed makes the replay deterministic */
	rte_srand(UINT64_C(0x6e617467772d7270));
	c.pool = rp_pool("rp_pool", RP_POOL_SIZE, RP_SMALL_ROOM);
	c.big_pool = rp_pool("rp_big", 511, RP_BIG_ROOM);
	if (c.pool == NULL || c.big_pool == NULL)
		goto fail;

	if (a.selftest) {
		/* 0: every MUST met, 1: one is not, 3: a probe could not run */
		rc = gw_selftest(&cfg, a.workers, c.pool, c.big_pool, stdout);
		rc = rc < 0 ? 3 : rc;
		goto fail;
	}
	memset(&prm, 0, sizeof(prm));
	prm.cfg = &cfg;
	prm.n_workers = a.workers;
	/* fixed, locally administered MACs ("ng"): the scenarios address frames to them */
	for (i = 0; i < GW_PORT_MAX; i++) {
		struct rte_ether_addr mac = {{ 0x02, 0x6e, 0x67, 0x00, 0x00, (uint8_t)i }};

		prm.mac[i] = mac;
	}
	prm.pool = c.pool;
	prm.big_pool = c.big_pool;
	prm.seed[0] = UINT64_C(0x6e617467772d7270);	/* fixed seeds: determinism */
	prm.seed[1] = UINT64_C(0x7265706c61792121);
	prm.host_seed = 0x6e67;
	prm.socket_id = (int)rte_socket_id();
	prm.use_heap = true;
	if (a.restore != NULL) {
		/* a bad snapshot is an error here: the test asked for this state */
		snap = gw_snapshot_read(a.restore, &cfg, err, sizeof(err));
		if (snap == NULL) {
			fprintf(stderr, "natgw-replay: %s\n", err);
			rc = 2;
			goto fail;
		}
		prm.host_seed = gw_snapshot_host_seed(snap);
	}
	c.gw = gw_create(&prm, err, sizeof(err));
	if (c.gw == NULL) {
		fprintf(stderr, "natgw-replay: %s\n", err);
		goto fail;
	}
	c.n_workers = gw_n_workers(c.gw);
	c.burst = a.burst;
	if (rp_log_open(&c, &a, &cfg) < 0)
		goto fail;

	if (rp_output_open(&c.out, a.out[GW_PORT_INSIDE], a.out[GW_PORT_OUTSIDE], a.drops) < 0)
		goto fail;
	/* router on a stick ([ports] inside = outside, both sides VLAN-tagged): what leaves
	 * either side goes to X.pcap, tagged (app/gw_vlan.c); Y.pcap stays empty */
	c.out.trunk = strcmp(cfg.ifc[GW_PORT_INSIDE].port, cfg.ifc[GW_PORT_OUTSIDE].port) == 0;
	for (i = 0; i < c.n_workers; i++) {
		struct gw_io io = { .tx = rp_tx, .drop = rp_drop, .arg = &c.out };

		gw_worker_set_io(gw_get_worker(c.gw, i), &io);
	}
	if (rp_input_open(&in[GW_PORT_INSIDE], a.in[GW_PORT_INSIDE]) < 0 ||
	    rp_input_open(&in[GW_PORT_OUTSIDE], a.in[GW_PORT_OUTSIDE]) < 0)
		goto fail;

	if (snap != NULL && rp_restore(&c, snap, in, a.restore) < 0)
		goto fail;
	if (rp_run(&c, in) == 0 && c.out.error == 0)
		rc = 0;
	if (rc == 0 && a.save != NULL && rp_save(&c, a.save) < 0)
		rc = 1;
	printf("natgw-replay: %" PRIu64 " packets in, %" PRIu64 " out inside, %" PRIu64
	       " out outside, %" PRIu64 " dropped, %u worker(s)\n", c.n_in,
	       c.out.n_tx[GW_PORT_INSIDE], c.out.n_tx[GW_PORT_OUTSIDE], c.out.n_drops,
	       c.n_workers);
	gw_stats_print(stdout, c.gw);
	if (rp_reload_file != NULL)
		printf("natgw-replay: %u replaced ruleset(s) freed\n", rp_reclaimed);
	if (gw_rules_current(c.gw) != NULL)	/* the ruleset with its counters */
		rs_print(gw_rules_current(c.gw), stdout);
	if (c.log != NULL)
		gw_log_stats_print(stdout, c.log);
fail:
	for (i = 0; i < GW_PORT_MAX; i++)
		if (in[i].pcap != NULL)
			pcap_close(in[i].pcap);
	if (rp_output_close(&c.out) != 0) {
		fprintf(stderr, "natgw-replay: writing the outputs failed\n");
		rc = 1;
	}
	gw_snapshot_free(snap);
	gw_log_free(c.log);
	if (c.events != NULL && fclose(c.events) != 0)
		rc = 1;
	gw_free(c.gw);
	rte_mempool_free(c.big_pool);
	rte_mempool_free(c.pool);
	{
		/* --no-shconf leaves the per-process runtime directory empty; without this a
		 * test suite leaves one /var/run/dpdk/natgw-replay-PID per run behind */
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
		rte_eal_cleanup();
		rmdir(dir);
	}
	return rc;
}
