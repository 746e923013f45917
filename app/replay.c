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
