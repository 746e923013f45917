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
 *
 * Determinism (same input -> byte-identical output):
 *  - The two inputs are merged by timestamp; ties go to the inside file, and each file keeps
 *    its own order. The clock (`now`, microseconds) is the merged packet's timestamp, never
 *    the wall clock; it never goes backwards (an earlier timestamp is replayed at the last
 *    `now`).
 *  - Conntrack and NAT get fixed hash seeds.
 *  - N workers are simulated on one thread: a packet is received by the worker RSS would
 *    pick (the owner by the design's steering rules, see gw.h), and after each input packet
 *    every worker's handoff rings and housekeeping are run, worker 0 first.
 *  - EAL runs with --no-huge --in-memory --no-pci on one lcore: no NIC, no hugepages,
 *    no shared files, so several replays can run at once.
 *
 * Outputs: what leaves the inside (outside) port goes to X.pcap (Y.pcap) stamped with the
 * time of the input packet being processed when it left (for packets released later, e.g.
 * by an ARP reply or by reassembly, that is the releasing packet's time). Dropped packets
 * go to Z.pcap, same stamping; Z.pcap.txt has one line per record of Z.pcap:
 *     "<record index, from 0> <reason>"
 * where <reason> is the pipeline's reason text, e.g. "ct: tcp segment outside window".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "gw.h"

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
	in->pcap = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO,
							   err);
	if (in->pcap == NULL) {
		fprintf(stderr, "natgw-replay: %s: %s\n", path, err);
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

/** Write an mbuf (possibly chained) as one pcap record stamped o->now. */
static void
rp_write_mbuf(struct rp_output *o, pcap_dumper_t *d, const struct rte_mbuf *m)
{
	static uint8_t buf[RP_SNAPLEN];
	struct pcap_pkthdr h;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const void *data;

	if (len > sizeof(buf))
		len = sizeof(buf);
	data = rte_pktmbuf_read(m, 0, len, buf);
	if (data == NULL) {
		o->error = -1;
		return;
	}
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(o->now / 1000000u);
	h.ts.tv_usec = (suseconds_t)(o->now % 1000000u);
	h.caplen = len;
	h.len = rte_pktmbuf_pkt_len(m);
	pcap_dump((u_char *)d, &h, data);
}

/* ---------------------------------------------------------------------------------------
 * Command line
 */

#define RP_MAX_TIMEOUTS 32

struct rp_args {
	const char *config;
	const char *in[GW_PORT_MAX];
	const char *out[GW_PORT_MAX];
	const char *drops;
	unsigned int workers;
	unsigned int n_timeouts;
	int tclass[RP_MAX_TIMEOUTS];
	ct_time_t timeout[RP_MAX_TIMEOUTS];
};

static void
rp_usage(FILE *f)
{
	fprintf(f,
		"usage: natgw-replay --config FILE --in-inside A.pcap --in-outside B.pcap\n"
		"                    --out-inside X.pcap --out-outside Y.pcap --out-drops Z.pcap\n"
		"                    [--workers N] [--timeout CLASS=SECONDS ...]\n"
		"Replays A (arriving on the inside port) and B (on the outside port), merged by\n"
		"timestamp, through the natgw pipeline with the timestamps as the clock; writes what\n"
		"leaves each port to X and Y, dropped packets to Z and their reasons to Z.txt\n"
		"(\"<record index> <reason>\" per line). Same input, same output, byte for byte.\n");
}

/** Parse "CLASS=SECONDS" (seconds may have a fraction, to the microsecond). */
static int
rp_parse_timeout(struct rp_args *a, const char *s)
{
	char name[64], *end;
	const char *eq = strchr(s, '=');
	double sec;
	int c;

	if (eq == NULL || (size_t)(eq - s) >= sizeof(name) || a->n_timeouts == RP_MAX_TIMEOUTS)
		return -1;
	memcpy(name, s, eq - s);
	name[eq - s] = '\0';
	c = ct_tclass_by_name(name);
	errno = 0;
	sec = strtod(eq + 1, &end);
	if (c < 0 || errno != 0 || end == eq + 1 || *end != '\0' || !(sec >= 0) || sec > 1e9)
		return -1;
	a->tclass[a->n_timeouts] = c;
	a->timeout[a->n_timeouts] = (ct_time_t)(sec * 1e6 + 0.5);
	a->n_timeouts++;
	return 0;
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
			if (rp_parse_timeout(a, optarg) < 0) {
				fprintf(stderr, "natgw-replay: --timeout %s: want CLASS=SECONDS with "
					"a class of ct.h CT_FOREACH_TCLASS\n", optarg);
				return -1;
			}
			break;
		case 'h': rp_usage(stdout); exit(0);
		default: rp_usage(stderr); return -1;
		}
	}
	if (optind != argc || a->config == NULL || a->in[GW_PORT_INSIDE] == NULL ||
	    a->in[GW_PORT_OUTSIDE] == NULL || a->out[GW_PORT_INSIDE] == NULL ||
	    a->out[GW_PORT_OUTSIDE] == NULL || a->drops == NULL) {
		rp_usage(stderr);
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
	char *eal_argv[] = {
		"natgw-replay", "--no-huge", "-m", "512", "--in-memory", "--no-pci",
		"--no-telemetry", "-l", "0", "--log-level=lib.*:error",
		"--log-level=user*:error", NULL,
	};
	int eal_argc = (int)RTE_DIM(eal_argv) - 1;

	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "natgw-replay: EAL init failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}
